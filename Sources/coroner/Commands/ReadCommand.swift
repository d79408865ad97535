import AddressTranslation
import ArgumentParser
import DumpFormats
import LinuxKernel
import Reports

struct Read: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Hex-dump memory at a kernel virtual (default) or physical address.")

  @OptionGroup var options: DumpOptions
  @Argument(help: "The address (hex).")
  var address: String
  @Argument(help: "How many bytes (default 64, at most 1 MiB).")
  var length: Int = 64
  @Flag(help: "The address is physical.")
  var physical = false

  func validate() throws {
    guard parseAddress(address) != nil else { throw ValidationError("not an address: \(address)") }
    guard length > 0, length <= 1 << 20 else { throw ValidationError("length must be 1…1048576") }
  }

  func run() throws {
    let start = parseAddress(address) ?? 0
    let bytes: [UInt8]
    do throws(DumpError) {
      if physical {
        let dump = try DumpFile.open(path: options.dump)
        bytes = try dump.memory.read(at: start, count: length)
      } else {
        let file = try DumpFile.open(path: options.dump)
        let session = try KernelSession(dump: file)
        bytes = try session.memory.read(virtual: start, count: length)
      }
    } catch {
      throw fail(error.inFile(options.dump))
    }
    print(HexDump.text(bytes, startingAt: start), terminator: "")
  }
}
