import ArgumentParser
import LinuxKernel
import Reports

struct Modules: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List the loaded kernel modules, as crash's mod does.")

  @OptionGroup var options: DumpOptions
  @OptionGroup var debugInfo: DebugInfoArguments
  @Flag(help: "Print a JSON array of modules.")
  var json = false

  func run() throws {
    let session = try openSession(options, debugInfo.options)
    let list: ModuleList
    do {
      list = try ModuleList(session: session)
    } catch {
      throw fail(error.inFile(options.dump))
    }
    print(json ? ModuleReport.json(list).rendered() : ModuleReport.text(list), terminator: json ? "\n" : "")
    for problem in list.problems { printError("coroner: \(options.dump): partial: \(problem)") }
    if !list.problems.isEmpty { throw ExitStatus.partial }
  }
}
