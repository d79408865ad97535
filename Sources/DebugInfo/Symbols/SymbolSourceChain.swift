import DumpFormats

/// Symbol sources tried in order (DWARF vmlinux or System.map, kallsyms,
/// VMCOREINFO).
public final class SymbolSourceChain: SymbolSource {
  public private(set) var sources: [SymbolSource]
  public init(_ sources: [SymbolSource]) { self.sources = sources }
  public var sourceName: String { sources.map(\.sourceName).joined(separator: "+") }

  public func address(of name: String) -> UInt64? {
    for source in sources { if let address = source.address(of: name) { return address } }
    return nil
  }

  public func symbol(containing address: UInt64) -> Symbol? {
    for source in sources { if let symbol = source.symbol(containing: address) { return symbol } }
    return nil
  }

  /// The address of a symbol, or a `.missingInformation` error naming it.
  public func require(_ name: String) throws(DumpError) -> UInt64 {
    guard let address = address(of: name) else {
      throw DumpError(.missingInformation, "no symbol \(name) (\(sourceName))")
    }
    return address
  }
}

/// VMCOREINFO's `SYMBOL()` lines as a symbol source (no sizes, no reverse
/// lookup beyond exact addresses).
public final class VMCoreInfoSymbols: SymbolSource {
  public let vmcoreinfo: VMCoreInfo
  public init(_ vmcoreinfo: VMCoreInfo) { self.vmcoreinfo = vmcoreinfo }
  public var sourceName: String { "VMCOREINFO" }
  public func address(of name: String) -> UInt64? { vmcoreinfo.symbols[name] }
  public func symbol(containing address: UInt64) -> Symbol? {
    vmcoreinfo.symbols.first { $0.value == address }.map {
      Symbol(name: $0.key, address: $0.value, type: "?")
    }
  }
}

/// VMCOREINFO's `SIZE()` and `OFFSET()` lines as a type source.
public final class VMCoreInfoTypes: TypeSource {
  public let vmcoreinfo: VMCoreInfo
  public init(_ vmcoreinfo: VMCoreInfo) { self.vmcoreinfo = vmcoreinfo }
  public var sourceName: String { "VMCOREINFO" }
  public func size(of typeName: String) -> Int? { vmcoreinfo.sizes[typeName].map { Int($0) } }
  public func member(_ path: String, in typeName: String) -> MemberLayout? {
    guard let offset = vmcoreinfo.offsets["\(typeName).\(path)"] else { return nil }
    return MemberLayout(byteOffset: Int(offset), size: 0, typeName: "?")
  }
  public func enumerator(_ name: String) -> Int64? { vmcoreinfo.numbers[name] }
}
