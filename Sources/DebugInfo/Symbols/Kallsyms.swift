import AddressTranslation
import DumpFormats

/// The kernel's own symbol table, decoded from a dump's memory (what
/// /proc/kallsyms shows): every symbol with its run-time address and type
/// letter, sorted by address, with sizes from the next distinct address as
/// the kernel computes them for `func+off/size`.
///
/// The tables are found through VMCOREINFO's `SYMBOL(kallsyms_*)` lines
/// (Linux 6.0+) or, without them, by a search of the kernel image
/// (`KallsymsSearch`). Per-CPU symbols keep their absolute offsets (type `A`).
public final class KallsymsSymbols: SymbolSource {
  /// Where the tables were read.
  public let tables: KallsymsTables
  /// How the tables were found ("VMCOREINFO", or a search).
  public let origin: String
  /// How names entries give their lengths ("one-byte lengths", "two-byte
  /// lengths for big symbols").
  public let nameEncoding: String
  /// Whether `kallsyms_markers` agreed with the decoded names.
  public let markersVerified: Bool
  /// Whether the offsets were read with absolute-percpu semantics
  /// (non-negative offsets are absolute values).
  public let absolutePercpu: Bool
  let table: KallsymsSymbolTable

  public var sourceName: String { "kallsyms" }

  /// Decodes the tables at `tables`.
  ///
  /// - Throws: `DumpError` when a table cannot be read or is inconsistent.
  public init(memory: VirtualMemory, tables: KallsymsTables, origin: String = "given tables")
    throws(DumpError)
  {
    let decoded = try KallsymsDecoder.decode(memory, tables: tables)
    guard
      let table = KallsymsSymbolTable(
        addresses: decoded.addresses, types: decoded.types, nameBytes: decoded.nameBytes,
        nameStarts: decoded.nameStarts)
    else {
      throw DumpError(.corrupt, "the decoded kallsyms tables are inconsistent")
    }
    self.tables = tables
    self.origin = origin
    self.table = table
    nameEncoding = decoded.encoding.rawValue
    markersVerified = decoded.markersVerified
    absolutePercpu = decoded.absolutePercpu
  }

  /// The x86-64 kernel image window, where well-known symbols must lie.
  public static let x86ImageWindow =
    KernelTextMapping.startKernelMap..<KernelTextMapping.endKernelMap

  /// Decodes the kernel's kallsyms: from VMCOREINFO's keys when it has them,
  /// else by searching the kernel image from `SYMBOL(_stext)`, the text start
  /// moved by `kernelOffset` (KASLR), or the window's start. The result is
  /// checked: `_stext`, `init_task`, `linux_banner` and `start_kernel` must
  /// lie in `imageWindow`, `linux_banner` must read "Linux version", and
  /// `_stext` and `init_uts_ns` must agree with VMCOREINFO.
  ///
  /// - Throws: `DumpError` saying why no usable table was found.
  public static func load(
    memory: VirtualMemory, vmcoreinfo: VMCoreInfo, kernelOffset: UInt64? = nil,
    imageWindow: Range<UInt64> = x86ImageWindow
  ) throws(DumpError) -> KallsymsSymbols {
    if let tables = KallsymsTables(vmcoreinfo: vmcoreinfo) {
      do {
        let symbols = try KallsymsSymbols(memory: memory, tables: tables, origin: "VMCOREINFO")
        try symbols.check(memory: memory, vmcoreinfo: vmcoreinfo, imageWindow: imageWindow)
        return symbols
      } catch {
        throw error.context("decoding kallsyms from VMCOREINFO's tables (\(tables.summary))")
      }
    }
    return try search(
      memory: memory, vmcoreinfo: vmcoreinfo, kernelOffset: kernelOffset,
      imageWindow: imageWindow)
  }

  /// Finds and decodes the tables by scanning the kernel image.
  public static func search(
    memory: VirtualMemory, vmcoreinfo: VMCoreInfo, kernelOffset: UInt64? = nil,
    imageWindow: Range<UInt64> = x86ImageWindow
  ) throws(DumpError) -> KallsymsSymbols {
    var start = imageWindow.lowerBound
    if let text = vmcoreinfo.symbols["_stext"], imageWindow.contains(text) {
      start = text
    } else if let kernelOffset,
      let text = KernelTextMapping.defaultTextStart +? kernelOffset, imageWindow.contains(text)
    {
      start = text
    }
    let end = min(imageWindow.upperBound, (start +? KallsymsSearch.scanLimit) ?? UInt64.max)
    var found: KallsymsSymbols?
    var problems: [String] = []
    let report = KallsymsSearch.scan(memory, from: start, to: end) { tokenTable, tokenIndex in
      let candidates = KallsymsSearch.tables(
        memory, tokenTable: tokenTable, tokenIndex: tokenIndex)
      if candidates.isEmpty {
        problems.append(
          "no names and markers before the token table at 0x\(String(tokenTable, radix: 16))")
      }
      for tables in candidates {
        do throws(DumpError) {
          let symbols = try KallsymsSymbols(
            memory: memory, tables: tables,
            origin: "a search of the kernel image from 0x\(String(start, radix: 16))")
          try symbols.check(memory: memory, vmcoreinfo: vmcoreinfo, imageWindow: imageWindow)
          found = symbols
          return true
        } catch {
          problems.append("\(tables.summary): \(error)")
        }
      }
      return false
    }
    if let found { return found }
    var message =
      "no kallsyms tables found in 0x\(String(start, radix: 16))-0x\(String(end, radix: 16)) "
      + "(\(report.pagesRead) pages read, \(report.candidates) token index candidates)"
    if !problems.isEmpty { message += ": " + problems.prefix(3).joined(separator: "; ") }
    throw DumpError(.missingInformation, message)
  }

  /// Checks well-known symbols against the kernel image and VMCOREINFO.
  func check(memory: VirtualMemory, vmcoreinfo: VMCoreInfo, imageWindow: Range<UInt64>)
    throws(DumpError)
  {
    func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
    // One scan of the names for all of them (no hash is built for this).
    let wanted = ["_stext", "_text", "init_task", "linux_banner", "start_kernel", "init_uts_ns"]
    let known = table.indices(of: wanted).mapValues { table.addresses[$0] }
    guard let text = known["_stext"] ?? known["_text"] else {
      throw DumpError(.corrupt, "the kallsyms names have neither _stext nor _text")
    }
    guard imageWindow.contains(text) else {
      throw DumpError(.corrupt, "kallsyms puts _stext at \(hex(text)), outside the kernel image")
    }
    for name in ["init_task", "linux_banner", "start_kernel"] {
      guard let address = known[name] else {
        throw DumpError(.corrupt, "the kallsyms names have no \(name)")
      }
      guard imageWindow.contains(address) else {
        throw DumpError(
          .corrupt, "kallsyms puts \(name) at \(hex(address)), outside the kernel image")
      }
    }
    for name in ["_stext", "init_uts_ns"] {
      guard let expected = vmcoreinfo.symbols[name] else { continue }
      let decoded = known[name]
      guard decoded == expected else {
        throw DumpError(
          .corrupt,
          "kallsyms puts \(name) at \(decoded.map(hex) ?? "nowhere"), "
            + "VMCOREINFO at \(hex(expected))")
      }
    }
    if let banner = known["linux_banner"],
      let bytes = try? memory.read(virtual: banner, count: 14),
      bytes != Array("Linux version ".utf8)
    {
      throw DumpError(
        .corrupt, "kallsyms's linux_banner at \(hex(banner)) does not read \"Linux version\"")
    }
  }

  // MARK: Lookups

  /// How many symbols the kernel has.
  public var count: Int { table.count }

  /// Every symbol, sorted by address (aliases in table order).
  public var all: [Symbol] { (0..<table.count).map { table.symbol(at: $0) } }

  /// Symbol number `index` in address order, or nil.
  public func symbol(at index: Int) -> Symbol? {
    guard index >= 0, index < table.count else { return nil }
    return table.symbol(at: index)
  }

  /// The address of a symbol by name; with duplicate names, the first
  /// global one, else the lowest.
  public func address(of name: String) -> UInt64? {
    table.index(of: name).map { table.addresses[$0] }
  }

  /// The symbol named `name`, or nil.
  public func symbol(named name: String) -> Symbol? {
    table.index(of: name).map { table.symbol(at: $0) }
  }

  /// The symbol containing `address`: the nearest at or below it, preferring
  /// a text symbol among aliases; one without a known size (the last, or the
  /// last per-CPU symbol) only at its own address.
  public func symbol(containing address: UInt64) -> Symbol? {
    table.index(containing: address).map { table.symbol(at: $0) }
  }
}
