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
    let dump: DumpFile
    do {
      dump = try DumpFile.open(path: options.dump)
    } catch {
      throw fail(error)
    }
    let info = DumpInfo(dump: dump)
    print(json ? info.json.rendered() : info.text, terminator: json ? "\n" : "")
  }
}
