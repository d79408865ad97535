import ArgumentParser
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
    let session = try openSession(options, debugInfo.options)
    let summary = CrashSummary(session: session)
    print(SummaryReport.render(summary, format: json ? .json : format), terminator: "")
    if !summary.problems.isEmpty { throw ExitStatus.partial }
  }
}
