/// Where a kernel's compressed symbol tables (written by the kernel's
/// scripts/kallsyms.c into the image's read-only data) lie in its virtual
/// memory.
///
/// The tables:
/// - `kallsyms_num_syms`: the symbol count, a 32-bit integer;
/// - `kallsyms_names`: one entry per symbol, a length (one byte; from Linux
///   6.1, two when the first has its high bit set: low 7 bits, then 8 more)
///   followed by that many token numbers; the first character a symbol's
///   tokens expand to is its type letter;
/// - `kallsyms_markers`: 32-bit offsets in the names of every 256th entry,
///   right after the names;
/// - `kallsyms_token_table`: 256 NUL-terminated tokens, and
///   `kallsyms_token_index`: 256 16-bit offsets of them;
/// - the addresses: `kallsyms_offsets` (32-bit) from
///   `kallsyms_relative_base` (CONFIG_KALLSYMS_BASE_RELATIVE), or
///   `kallsyms_addresses` (pointers) on older kernels, or offsets from their
///   own place (Linux 7.0+).
///
/// The order of the tables changed over time (Linux 6.4 moved the offsets
/// after the token index); each is located on its own.
public struct KallsymsTables: Sendable, Equatable {
  /// How symbol addresses are stored.
  public enum Addresses: Sendable, Equatable {
    /// `kallsyms_offsets` (32-bit) and `kallsyms_relative_base`. With
    /// CONFIG_KALLSYMS_ABSOLUTE_PERCPU (x86-64 SMP) negative offsets count
    /// down from `relative_base - 1` and others are absolute values (per-CPU
    /// offsets); otherwise every offset is unsigned, from the base.
    case relative(offsets: UInt64, base: UInt64)
    /// `kallsyms_addresses`: one pointer per symbol.
    case absolute(UInt64)
    /// `kallsyms_offsets` without a base (Linux 7.0+): each signed 32-bit
    /// offset counts from its own place in the table.
    case placeRelative(offsets: UInt64)
  }

  /// `kallsyms_num_syms`.
  public var numSyms: UInt64
  /// `kallsyms_names`.
  public var names: UInt64
  /// `kallsyms_markers`, when known (it is not in VMCOREINFO; the decoder
  /// then looks for it right after the names).
  public var markers: UInt64?
  /// `kallsyms_token_table`.
  public var tokenTable: UInt64
  /// `kallsyms_token_index`.
  public var tokenIndex: UInt64
  /// The addresses.
  public var addresses: Addresses

  public init(
    numSyms: UInt64, names: UInt64, markers: UInt64? = nil, tokenTable: UInt64,
    tokenIndex: UInt64, addresses: Addresses
  ) {
    self.numSyms = numSyms
    self.names = names
    self.markers = markers
    self.tokenTable = tokenTable
    self.tokenIndex = tokenIndex
    self.addresses = addresses
  }

  /// The tables from VMCOREINFO's `SYMBOL(kallsyms_*)` lines (Linux 6.0+),
  /// or nil when they are not all there.
  public init?(vmcoreinfo: VMCoreInfo) {
    let symbols = vmcoreinfo.symbols
    guard let numSyms = symbols["kallsyms_num_syms"], let names = symbols["kallsyms_names"],
      let tokenTable = symbols["kallsyms_token_table"],
      let tokenIndex = symbols["kallsyms_token_index"]
    else { return nil }
    let addresses: Addresses
    if let offsets = symbols["kallsyms_offsets"], let base = symbols["kallsyms_relative_base"] {
      addresses = .relative(offsets: offsets, base: base)
    } else if let table = symbols["kallsyms_addresses"] {
      addresses = .absolute(table)
    } else if let offsets = symbols["kallsyms_offsets"] {
      addresses = .placeRelative(offsets: offsets)
    } else {
      return nil
    }
    self.init(
      numSyms: numSyms, names: names, markers: symbols["kallsyms_markers"],
      tokenTable: tokenTable, tokenIndex: tokenIndex, addresses: addresses)
  }

  /// A one-line description, addresses in hex.
  public var summary: String {
    func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
    var text = "num_syms \(hex(numSyms)), names \(hex(names))"
    if let markers { text += ", markers \(hex(markers))" }
    text += ", token_table \(hex(tokenTable)), token_index \(hex(tokenIndex))"
    switch addresses {
    case .relative(let offsets, let base):
      text += ", offsets \(hex(offsets)), relative_base \(hex(base))"
    case .absolute(let table):
      text += ", addresses \(hex(table))"
    case .placeRelative(let offsets):
      text += ", place-relative offsets \(hex(offsets))"
    }
    return text
  }
}
