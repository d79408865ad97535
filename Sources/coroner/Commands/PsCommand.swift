import ArgumentParser
import DumpFormats
import LinuxKernel
import Reports

struct Ps: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List every task (threads included) as crash's ps does.")

  @OptionGroup var options: DumpOptions
  @OptionGroup var debugInfo: DebugInfoArguments
  @Flag(help: "Print a JSON array of tasks (keys in Docs/ps.md).")
  var json = false

  func run() throws {
    let status = Self.execute(path: options.dump, json: json, debugInfo: debugInfo.options)
    if status != 0 { throw ExitCode(status) }
  }

  /// The command's work, shared with the fast path (FastPath.swift).
  static func execute(path: String, json: Bool, debugInfo: DebugInfoOptions) -> Int32 {
    let list: TaskList
    do throws(DumpError) {
      let session = try KernelSession(dump: try DumpFile.open(path: path), options: debugInfo)
      FastPath.keptUntilExit.append(session)
      list = try TaskList(session: session)
    } catch {
      printError("coroner: \(error.inFile(path))")
      return ExitStatus.unreadable.rawValue
    }
    print(json ? TaskReport.json(list).rendered() : TaskReport.text(list), terminator: json ? "\n" : "")
    for problem in list.problems { printError("coroner: \(path): partial: \(problem)") }
    return list.problems.isEmpty ? 0 : ExitStatus.partial.rawValue
  }
}
