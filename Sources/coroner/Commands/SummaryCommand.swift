import ArgumentParser
import DumpFormats
import LinuxKernel
import Reports

extension SummaryReport.Format: ExpressibleByArgument {}

struct Summary: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "One report of the crash: kernel, cause, crashed task and backtrace, log, signature.")

  @OptionGroup var options: DumpOptions
  @OptionGroup var debugInfo: DebugInfoArguments
  @Option(help: "text, markdown or json (keys in Docs/summary.md).")
  var format: SummaryReport.Format = .text
  @Flag(help: "The same as --format json.")
  var json = false

  func run() throws {
    let status = Self.execute(
      path: options.dump, format: json ? .json : format, debugInfo: debugInfo.options)
    if status != 0 { throw ExitCode(status) }
  }

  /// The command's work, shared with the fast path (FastPath.swift).
  static func execute(path: String, format: SummaryReport.Format, debugInfo: DebugInfoOptions)
    -> Int32
  {
    let session: KernelSession
    do throws(DumpError) {
      session = try KernelSession(dump: try DumpFile.open(path: path), options: debugInfo)
    } catch {
      printError("coroner: \(error.inFile(path))")
      return ExitStatus.unreadable.rawValue
    }
    FastPath.keptUntilExit.append(session)
    let summary = CrashSummary(session: session)
    print(SummaryReport.render(summary, format: format), terminator: "")
    return summary.problems.isEmpty ? 0 : ExitStatus.partial.rawValue
  }
}
