import ArgumentParser
import DumpFormats
import Reports

struct Info: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Describe a dump: format, kernel, CPUs, pages and notes.")

  @OptionGroup var options: DumpOptions
  @Flag(help: "Print one JSON object (keys in Docs/info.md).")
  var json = false

  func run() throws {
    let status = Self.execute(path: options.dump, json: json)
    if status != 0 { throw ExitCode(status) }
  }

  /// The command's work, shared with the fast path (FastPath.swift).
  static func execute(path: String, json: Bool) -> Int32 {
    let dump: DumpFile
    do {
      dump = try DumpFile.open(path: path)
    } catch {
      printError("coroner: \(error)")
      return ExitStatus.unreadable.rawValue
    }
    let info = DumpInfo(dump: dump)
    print(json ? info.json.rendered() : info.text, terminator: json ? "\n" : "")
    return 0
  }
}
