import DebugInfo
import DumpFormats

/// Names text addresses the way crash does, over the session's symbols.
///
/// Where several symbols share an address (`__do_sys_vfork`,
/// `__ia32_sys_vfork` and `__x64_sys_vfork`), the kernel prints the first
/// in kallsyms order, but crash sorts its symbols by address and then by
/// name, and names an address inside a function after the last of them
/// (`__x64_sys_vfork`), an address at the start of a function after the
/// first. This source gives crash's choice when the aliases are known
/// (kallsyms), and falls back to the underlying chain otherwise; addresses
/// in modules are named from the modules' own symbol tables when given.
public final class CrashSymbolNames: SymbolSource {
  public let base: SymbolSource
  private let kallsyms: KallsymsSymbols?
  private let modules: ModuleSymbols?
  private var cache: [UInt64: Symbol?] = [:]

  public var sourceName: String { "crash-style " + base.sourceName }

  /// - Parameters:
  ///   - base: the session's symbol chain.
  ///   - modules: the loaded modules' symbols, if read.
  public init(base: SymbolSource, modules: ModuleSymbols? = nil) {
    self.base = base
    self.modules = modules
    if let chain = base as? SymbolSourceChain {
      kallsyms = chain.sources.lazy.compactMap { $0 as? KallsymsSymbols }.first
    } else {
      kallsyms = base as? KallsymsSymbols
    }
  }

  public func address(of name: String) -> UInt64? { base.address(of: name) }

  public func symbol(containing address: UInt64) -> Symbol? {
    if let cached = cache[address] { return cached }
    var found = base.symbol(containing: address)
    if found == nil, let modules { found = modules.symbol(containing: address) }
    if let symbol = found, symbol.module == nil, let kallsyms {
      let aliases = Self.aliases(at: symbol.address, in: kallsyms)
      if aliases.count > 1 {
        let names = aliases.map(\.name).sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        let chosen = address == symbol.address ? names.first : names.last
        if let chosen, chosen != symbol.name {
          found?.name = chosen
          found?.type = aliases.first { $0.name == chosen }?.type ?? symbol.type
        }
      }
    }
    if cache.count < 1 << 16 { cache[address] = found }
    return found
  }

  /// The symbols at exactly `address`, by a binary search over kallsyms'
  /// address-sorted table.
  static func aliases(at address: UInt64, in kallsyms: KallsymsSymbols) -> [Symbol] {
    var low = 0
    var high = kallsyms.count
    while low < high {
      let middle = low + (high - low) / 2
      guard let symbol = kallsyms.symbol(at: middle) else { return [] }
      if symbol.address < address { low = middle + 1 } else { high = middle }
    }
    var aliases: [Symbol] = []
    var index = low
    while aliases.count < 64, let symbol = kallsyms.symbol(at: index), symbol.address == address {
      aliases.append(symbol)
      index += 1
    }
    return aliases
  }
}
