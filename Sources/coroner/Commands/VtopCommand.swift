import AddressTranslation
import ArgumentParser
import DumpFormats
import LinuxKernel

/// Parses "0xffff…", "ffff…" or a decimal number.
func parseAddress(_ text: String) -> UInt64? {
  let lowered = text.lowercased()
  if lowered.hasPrefix("0x") { return UInt64(lowered.dropFirst(2), radix: 16) }
  return UInt64(lowered, radix: 16) ?? UInt64(lowered)
}

struct Vtop: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Translate a kernel virtual address, showing each page-table level.")

  @OptionGroup var options: DumpOptions
  @Argument(help: "The virtual address (hex).")
  var address: String

  func validate() throws {
    guard parseAddress(address) != nil else { throw ValidationError("not an address: \(address)") }
  }

  func run() throws {
    let session = try openSession(options)
    let virtual = parseAddress(address) ?? 0
    let walk = session.memory.walk
    print("VIRTUAL           PHYSICAL")
    do {
      let result = try walk.translate(virtual, in: session.dump.memory)
      print(hex(virtual) + "  " + hex(result.physicalAddress))
      print("")
      printSteps(result.steps)
      let size = result.pageSize == 1 << 30 ? "1 GiB" : result.pageSize == 2 << 20 ? "2 MiB" : "4 KiB"
      print("PAGE: \(hex(result.physicalAddress & ~(result.pageSize - 1))) (\(size) page)")
      let pfn = result.physicalAddress / UInt64(session.dump.memory.pageSize)
      print("IN DUMP: \(describe(session.dump.memory.pageState(pfn)))")
    } catch {
      print(hex(virtual) + "  (not mapped)")
      printError("coroner: \(options.dump): \(error)")
      throw ExitStatus.unreadable
    }
  }

  func printSteps(_ steps: [WalkStep]) {
    for step in steps {
      print(
        step.level + String(repeating: " ", count: max(1, 6 - step.level.count)) + hex(step.entryAddress)
          + " [index \(step.index)] => " + hex(step.entry)
          + (step.entry & 1 == 0 ? " (not present)" : ""))
    }
  }
}

func hex(_ value: UInt64) -> String {
  let digits = String(value, radix: 16)
  return String(repeating: "0", count: max(0, 16 - digits.count)) + digits
}

func describe(_ state: PageState) -> String {
  switch state {
  case .present: return "present"
  case .excluded: return "excluded by the dumper (filtered)"
  case .missing: return "missing (the dump is cut short or incomplete)"
  case .notCovered: return "not covered by the dump"
  }
}
