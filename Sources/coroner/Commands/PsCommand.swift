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
    let session = try openSession(options, debugInfo.options)
    let list: TaskList
    do {
      list = try TaskList(session: session)
    } catch {
      throw fail(error.inFile(options.dump))
    }
    print(json ? TaskReport.json(list).rendered() : TaskReport.text(list), terminator: json ? "\n" : "")
    for problem in list.problems { printError("coroner: \(options.dump): partial: \(problem)") }
    if !list.problems.isEmpty { throw ExitStatus.partial }
  }
}
