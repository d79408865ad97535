import CElf
import DumpFormats

/// The symbol table (`.symtab`) of a vmlinux, read with libelf, as a symbol
/// source: functions, objects and the linker's and assembler's untyped
/// labels, with their sizes and `nm`-style type letters.
///
/// Addresses are moved by a KASLR delta fixed at creation (the run-time
/// address of `_stext` minus the file's). Symbols outside the kernel image's
/// mapping are not moved: the per-CPU variables, whose values are offsets in
/// the per-CPU area (section address 0), and absolute symbols — as
/// `/proc/kallsyms` shows them.
public final class ELFSymbolTable: SymbolSource {
  /// The vmlinux's path.
  public let path: String
  /// What was added to each relocated file address (wrapping: the kernel may
  /// run below its link address).
  public let kaslrDelta: UInt64
  /// The file's own (link-time) address of `_stext`, when it has one.
  public let linkStext: UInt64?

  /// A symbol with the end of its section (the limit for a symbol whose size
  /// is unknown).
  struct Entry {
    var symbol: Symbol
    var sectionEnd: UInt64
    /// Higher wins among symbols at one address: sized functions and objects
    /// over labels, global over local.
    var rank: Int
  }

  /// Sorted by address, then by rank (best last).
  private let entries: [Entry]
  private let byName: [String: Int]

  /// The most symbols read from one table.
  static let maximumSymbols = 1 << 24

  /// Reads the symbol table of `path`, moving addresses by `kaslrDelta`.
  public convenience init(path: String, kaslrDelta: UInt64) throws(DumpError) {
    try self.init(file: ELFFileHandle(path: path), kaslrDelta: { _ in kaslrDelta })
  }

  /// Reads the symbol table of `path` and computes the KASLR delta from the
  /// dump: `runtimeStext` (VMCOREINFO's `SYMBOL(_stext)`) minus the file's
  /// `_stext`, else `kernelOffset` (VMCOREINFO's `KERNELOFFSET`, or the
  /// offset found by searching the image), else none.
  public convenience init(path: String, runtimeStext: UInt64?, kernelOffset: UInt64?) throws(DumpError) {
    try self.init(file: ELFFileHandle(path: path)) { linkStext in
      if let runtimeStext, let linkStext { return runtimeStext &- linkStext }
      return kernelOffset ?? 0
    }
  }

  init(file: ELFFileHandle, kaslrDelta: (UInt64?) -> UInt64) throws(DumpError) {
    path = file.path
    let raw = try Self.readSymbols(file)
    let linkStext = raw.first { $0.symbol.name == "_stext" && $0.relocatable }?.symbol.address
    self.linkStext = linkStext
    let delta = kaslrDelta(linkStext)
    self.kaslrDelta = delta
    var entries = raw.map { item in
      guard item.relocatable else { return item.entry }
      var moved = item.entry
      moved.symbol.address = item.symbol.address &+ delta
      moved.sectionEnd = item.entry.sectionEnd &+ delta
      return moved
    }
    entries.sort {
      $0.symbol.address != $1.symbol.address ? $0.symbol.address < $1.symbol.address : $0.rank < $1.rank
    }
    var byName: [String: Int] = [:]
    byName.reserveCapacity(entries.count)
    for (index, entry) in entries.enumerated() {
      // The global one wins over a local of the same name; else the first.
      if let existing = byName[entry.symbol.name],
        entries[existing].symbol.type.isUppercase
          || !entry.symbol.type.isUppercase
      {
        continue
      }
      byName[entry.symbol.name] = index
    }
    self.entries = entries
    self.byName = byName
  }

  /// "vmlinux symbols".
  public var sourceName: String { "vmlinux symbols" }

  /// The number of symbols read.
  public var count: Int { entries.count }

  /// A symbol by name (the global one when locals share its name).
  public func symbol(named name: String) -> Symbol? {
    byName[name].map { entries[$0].symbol }
  }

  /// The run-time address of a symbol by name.
  public func address(of name: String) -> UInt64? {
    symbol(named: name)?.address
  }

  /// The best symbol at the highest address at or below `address`, if
  /// `address` lies within its size (or, for a symbol without a size,
  /// within its section).
  public func symbol(containing address: UInt64) -> Symbol? {
    // The first entry above `address`.
    var low = 0
    var high = entries.count
    while low < high {
      let middle = low + (high - low) / 2
      if entries[middle].symbol.address <= address { low = middle + 1 } else { high = middle }
    }
    guard low > 0 else { return nil }
    let candidate = entries[low - 1]
    let offset = address - candidate.symbol.address
    if let size = candidate.symbol.size {
      return offset < size ? candidate.symbol : nil
    }
    return address < candidate.sectionEnd ? candidate.symbol : nil
  }

  // MARK: - Reading

  struct RawSymbol {
    var entry: Entry
    var relocatable: Bool
    var symbol: Symbol { entry.symbol }
  }

  /// Every function, object and untyped symbol of `.symtab` at its file
  /// address.
  static func readSymbols(_ file: ELFFileHandle) throws(DumpError) -> [RawSymbol] {
    let sections = try file.sections()
    guard let table = sections.first(where: { $0.header.sh_type == UInt32(SHT_SYMTAB) }) else {
      throw DumpError(.missingInformation, "the file has no symbol table (.symtab)", file: file.path)
    }
    guard let data = elf_getdata(table.scn, nil) else {
      throw DumpError(.corrupt, ".symtab: \(ELFFileHandle.libelfMessage())", file: file.path)
    }
    let entrySize = table.header.sh_entsize
    guard entrySize > 0 else {
      throw DumpError(.corrupt, ".symtab has entries of size 0", file: file.path)
    }
    let total = table.header.sh_size / entrySize
    guard total <= UInt64(maximumSymbols) else {
      throw DumpError(.corrupt, ".symtab claims \(total) symbols", file: file.path)
    }
    let byIndex = Dictionary(sections.map { ($0.index, $0) }, uniquingKeysWith: { first, _ in first })
    let strings = Int(table.header.sh_link)
    var result: [RawSymbol] = []
    result.reserveCapacity(Int(total))
    for index in 0..<Int32(total) {
      var raw = GElf_Sym()
      guard gelf_getsym(data, index, &raw) != nil else { break }
      let kind = Int32(raw.st_info & 0xf)
      let binding = Int32(raw.st_info >> 4)
      guard kind == STT_FUNC || kind == STT_OBJECT || kind == STT_NOTYPE,
        raw.st_name != 0, Int32(raw.st_shndx) != SHN_UNDEF,
        let text = elf_strptr(file.elf, strings, Int(raw.st_name))
      else { continue }
      let name = String(cString: text)
      // Assembler-local labels.
      if name.hasPrefix(".L") || name.hasPrefix("__UNIQUE_ID_") { continue }
      let section = byIndex[Int(raw.st_shndx)]
      let letter = typeLetter(kind: kind, binding: binding, index: raw.st_shndx, section: section)
      let isAbsolute = Int32(raw.st_shndx) == SHN_ABS
      let relocatable = !isAbsolute && (section.map { $0.header.sh_addr != 0 } ?? false)
      var sectionEnd = raw.st_value
      if let header = section?.header, header.sh_flags & UInt64(SHF_ALLOC) != 0,
        let end = header.sh_addr +? header.sh_size
      {
        sectionEnd = end
      }
      var rank = 0
      if raw.st_size > 0 { rank += 4 }
      if kind == STT_FUNC || kind == STT_OBJECT { rank += 2 }
      if binding == STB_GLOBAL { rank += 1 }
      let symbol = Symbol(
        name: name, address: raw.st_value, type: letter, size: raw.st_size > 0 ? raw.st_size : nil)
      result.append(
        RawSymbol(
          entry: Entry(symbol: symbol, sectionEnd: sectionEnd, rank: rank), relocatable: relocatable))
    }
    return result
  }

  /// The letter `nm` prints: from the section's flags (text, read-only,
  /// data, bss), `A` for absolute, `W`/`V` for weak; lowercase when local.
  static func typeLetter(
    kind: Int32, binding: Int32, index: UInt16, section: ELFFileHandle.Section?
  ) -> Character {
    if Int32(index) == SHN_ABS { return binding == STB_LOCAL ? "a" : "A" }
    if binding == STB_WEAK { return kind == STT_OBJECT ? "V" : "W" }
    var letter: Character = "?"
    if let header = section?.header {
      let flags = header.sh_flags
      if flags & UInt64(SHF_EXECINSTR) != 0 {
        letter = "T"
      } else if header.sh_type == UInt32(SHT_NOBITS) && flags & UInt64(SHF_ALLOC) != 0 {
        letter = "B"
      } else if flags & UInt64(SHF_WRITE) != 0 {
        letter = "D"
      } else if flags & UInt64(SHF_ALLOC) != 0 {
        letter = "R"
      } else {
        letter = "N"
      }
    }
    return binding == STB_LOCAL ? Character(letter.lowercased()) : letter
  }
}
