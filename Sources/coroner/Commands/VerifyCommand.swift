import ArgumentParser
import DumpFormats

struct Verify: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Read every present page of a dump, decompressing and checking each.")

  @OptionGroup var options: DumpOptions

  func run() throws {
    let dump: DumpFile
    do {
      dump = try DumpFile.open(path: options.dump)
    } catch {
      throw fail(error)
    }
    let result = dump.memory.verifyAllPages()
    print("\(result.pagesRead) pages read (\(result.bytesRead) bytes), \(result.failures) failed")
    for error in result.firstErrors { printError("coroner: \(error)") }
    if result.failures > 0 { throw ExitStatus.partial }
  }
}
