import AddressTranslation
import DebugInfo
import DumpFormats

/// The ORC unwind tables of a kernel in a dump: vmlinux's own
/// (`__start_orc_unwind_ip`…`__stop_orc_unwind_ip`, `__start_orc_unwind`)
/// and each module's (`struct module`'s `arch.orc_unwind_ip`,
/// `arch.orc_unwind`, `arch.num_orcs`), read on first use.
///
/// The kernel's `orc_lookup` fast-lookup table is not needed: a binary
/// search over the whole sorted table gives the same entry.
public final class KernelOrcInfo: OrcLookup {
  /// How entries are encoded.
  public let format: OrcFormat
  /// vmlinux's table.
  public let kernel: OrcTable
  /// The kernel text the table may answer for (`_stext`…`_etext` and the
  /// init text); addresses outside are looked up in the modules.
  public let kernelText: [Range<UInt64>]
  /// What could not be read (a module's table…).
  public private(set) var problems: [String] = []

  private struct ModuleTable {
    var name: String
    var range: Range<UInt64>
    var structure: UInt64
    var table: OrcTable?
    var loaded = false
  }
  private var modules: [ModuleTable]
  private let memory: VirtualMemory
  private let moduleLayout: (count: Int, ips: Int, entries: Int)?

  /// Reads vmlinux's table and lists the modules whose tables may be read.
  ///
  /// - Throws: `.missingInformation` without the ORC symbols or the
  ///   `orc_entry` layout, `.corrupt` for tables of impossible sizes.
  public init(session: KernelSession, modules moduleList: [KernelModule] = []) throws(DumpError) {
    let symbols = session.symbols
    let format = try OrcFormat(types: session.types, release: session.vmcoreinfo.osRelease)
    guard let ipStart = symbols.address(of: "__start_orc_unwind_ip"),
      let ipStop = symbols.address(of: "__stop_orc_unwind_ip"),
      let entryStart = symbols.address(of: "__start_orc_unwind")
    else {
      throw DumpError(
        .missingInformation,
        "no __start_orc_unwind_ip/__stop_orc_unwind_ip/__start_orc_unwind symbols"
          + " (\(symbols.sourceName)): the kernel has no ORC tables")
    }
    guard ipStop > ipStart, (ipStop - ipStart) % 4 == 0 else {
      throw DumpError(
        .corrupt,
        "ORC ip table 0x\(String(ipStart, radix: 16))…0x\(String(ipStop, radix: 16))"
          + " has an impossible size")
    }
    let count = Int(clamping: (ipStop - ipStart) / 4)
    if let entryStop = symbols.address(of: "__stop_orc_unwind"), entryStop > entryStart {
      let entries = (entryStop - entryStart) / UInt64(format.entrySize)
      guard entries == UInt64(count) else {
        throw DumpError(.corrupt, "the ORC tables disagree: \(count) addresses, \(entries) entries")
      }
    }
    let table = try OrcTable(
      memory: session.memory, ipTable: ipStart, entryTable: entryStart, count: count, format: format)
    var text: [Range<UInt64>] = []
    for (start, end) in [("_stext", "_etext"), ("_sinittext", "_einittext")] {
      if let low = symbols.address(of: start), let high = symbols.address(of: end), high > low {
        text.append(low..<high)
      }
    }
    if text.isEmpty, let first = table.first, let last = table.last, last > first {
      text.append(first..<last)
    }
    self.format = format
    self.kernel = table
    self.kernelText = text
    self.memory = session.memory
    let types = session.types
    if let countOffset = types.member("arch.num_orcs", in: "module")?.byteOffset,
      let ipsOffset = types.member("arch.orc_unwind_ip", in: "module")?.byteOffset,
      let entriesOffset = types.member("arch.orc_unwind", in: "module")?.byteOffset
    {
      moduleLayout = (countOffset, ipsOffset, entriesOffset)
    } else {
      moduleLayout = nil
    }
    modules = moduleList.compactMap { module in
      guard module.size > 0, let end = module.base +? module.size else { return nil }
      return ModuleTable(name: module.name, range: module.base..<end, structure: module.address)
    }
  }

  public func orcEntry(for address: UInt64) -> OrcEntry? {
    if address == 0 { return .nullAddress }
    if kernelText.contains(where: { $0.contains(address) }) {
      return kernel.entry(for: address)
    }
    guard let index = modules.firstIndex(where: { $0.range.contains(address) }) else { return nil }
    if !modules[index].loaded {
      modules[index].loaded = true
      modules[index].table = loadModuleTable(modules[index])
    }
    guard let table = modules[index].table, let first = table.first, address >= first else {
      return nil
    }
    return table.entry(for: address)
  }

  private func loadModuleTable(_ module: ModuleTable) -> OrcTable? {
    guard let layout = moduleLayout else {
      problems.append("module \(module.name): struct module has no arch.orc_unwind")
      return nil
    }
    do throws(DumpError) {
      let count = Int(
        try memory.readInteger(UInt32.self, at: module.structure &+ UInt64(layout.count)))
      let ips = try memory.readPointer(at: module.structure &+ UInt64(layout.ips))
      let entries = try memory.readPointer(at: module.structure &+ UInt64(layout.entries))
      guard count > 0, ips != 0, entries != 0 else { return nil }
      return try OrcTable(
        memory: memory, ipTable: ips, entryTable: entries, count: count, format: format)
    } catch {
      problems.append("module \(module.name)'s ORC table: \(error)")
      return nil
    }
  }
}
