import DumpFormats

/// A kernel symbol: its address, type letter (as `nm` prints it) and, when
/// known, its size.
public struct Symbol: Sendable, Equatable {
  public var name: String
  public var address: UInt64
  /// `T` text, `D` data, `B` bss, `R` read-only… lowercase when local.
  public var type: Character
  public var size: UInt64?
  /// The module that holds it, nil for the kernel image.
  public var module: String?

  public init(name: String, address: UInt64, type: Character, size: UInt64? = nil, module: String? = nil) {
    self.name = name
    self.address = address
    self.type = type
    self.size = size
    self.module = module
  }
}

/// A source of kernel symbols: kallsyms decoded from the dump, a System.map,
/// a vmlinux's symbol table, VMCOREINFO's few `SYMBOL()` lines.
/// Addresses are run-time (KASLR-relocated) addresses.
public protocol SymbolSource: AnyObject {
  var sourceName: String { get }
  /// The address of a symbol by name, or nil.
  func address(of name: String) -> UInt64?
  /// The symbol containing `address` (the nearest one at or below it, within
  /// its size when known), or nil.
  func symbol(containing address: UInt64) -> Symbol?
}

extension SymbolSource {
  /// "function+0xoff/0xsize" as crash and the kernel print it.
  public func describe(_ address: UInt64) -> String? {
    guard let symbol = symbol(containing: address) else { return nil }
    var text = symbol.name + "+0x" + String(address - symbol.address, radix: 16)
    if let size = symbol.size { text += "/0x" + String(size, radix: 16) }
    if let module = symbol.module { text += " [\(module)]" }
    return text
  }
}
