import AddressTranslation
import DebugInfo
import DumpFormats

/// The symbols of loaded modules, from each module's own ELF symbol table
/// as the kernel keeps it (`struct module`'s `kallsyms`: `symtab`,
/// `num_symtab`, `strtab`), read on the first lookup inside a module.
public final class ModuleSymbols: SymbolSource {
  public var sourceName: String { "module kallsyms" }
  /// What could not be read.
  public private(set) var problems: [String] = []

  private struct Loaded {
    var module: KernelModule
    var range: Range<UInt64>
    /// Function symbols sorted by address.
    var symbols: [Symbol]?
  }
  private var modules: [Loaded]
  private let memory: VirtualMemory
  private let layout: (kallsyms: Int, symtab: Int, count: Int, strtab: Int)?

  /// The most symbols read from one module.
  static let maximumCount = 1 << 18

  public init(session: KernelSession, modules: [KernelModule]) {
    memory = session.memory
    let types = session.types
    if let kallsyms = types.member("kallsyms", in: "module")?.byteOffset,
      let symtab = types.member("symtab", in: "mod_kallsyms")?.byteOffset,
      let count = types.member("num_symtab", in: "mod_kallsyms")?.byteOffset,
      let strtab = types.member("strtab", in: "mod_kallsyms")?.byteOffset
    {
      layout = (kallsyms, symtab, count, strtab)
    } else {
      layout = nil
    }
    self.modules = modules.compactMap { module in
      guard module.size > 0, let end = module.base +? module.size else { return nil }
      return Loaded(module: module, range: module.base..<end)
    }
  }

  /// Module symbols are found by address only.
  public func address(of name: String) -> UInt64? { nil }

  public func symbol(containing address: UInt64) -> Symbol? {
    guard let index = modules.firstIndex(where: { $0.range.contains(address) }) else { return nil }
    if modules[index].symbols == nil { modules[index].symbols = load(modules[index].module) }
    guard let symbols = modules[index].symbols, !symbols.isEmpty else { return nil }
    var low = 0
    var high = symbols.count
    while low < high {
      let middle = low + (high - low) / 2
      if symbols[middle].address <= address { low = middle + 1 } else { high = middle }
    }
    guard low > 0 else { return nil }
    let symbol = symbols[low - 1]
    if let size = symbol.size, size > 0, address - symbol.address >= size { return nil }
    return symbol
  }

  /// Reads a module's function symbols (ELF64 `Elf_Sym`, 24 bytes each).
  private func load(_ module: KernelModule) -> [Symbol] {
    guard let layout else {
      problems.append("module \(module.name): no layout of struct mod_kallsyms")
      return []
    }
    do throws(DumpError) {
      let table = try memory.readPointer(at: module.address &+ UInt64(layout.kallsyms))
      guard table != 0 else { return [] }
      let symtab = try memory.readPointer(at: table &+ UInt64(layout.symtab))
      let count = Int(try memory.readInteger(UInt32.self, at: table &+ UInt64(layout.count)))
      let strtab = try memory.readPointer(at: table &+ UInt64(layout.strtab))
      guard count > 0, count <= Self.maximumCount, symtab != 0, strtab != 0 else { return [] }
      let bytes = try memory.read(virtual: symtab, count: count * 24)
      let order = memory.byteOrder
      var symbols: [Symbol] = []
      for index in 0..<count {
        let base = index * 24
        guard let nameOffset = bytes.load(UInt32.self, at: base, order),
          let value = bytes.load(UInt64.self, at: base + 8, order),
          let size = bytes.load(UInt64.self, at: base + 16, order)
        else { continue }
        let kind = bytes[base + 4] & 0xf
        // Functions (STT_FUNC) and untyped text labels inside the module.
        guard kind == 2 || kind == 0, value != 0, module.base <= value,
          value - module.base < module.size, nameOffset != 0
        else { continue }
        guard let name = try? memory.readCString(at: strtab &+ UInt64(nameOffset), limit: 512),
          !name.isEmpty
        else { continue }
        symbols.append(
          Symbol(
            name: name, address: value, type: kind == 2 ? "t" : "?",
            size: size > 0 ? size : nil, module: module.name))
      }
      return symbols.sorted { $0.address < $1.address }
    } catch {
      problems.append("module \(module.name)'s symbols: \(error.message)")
      return []
    }
  }
}
