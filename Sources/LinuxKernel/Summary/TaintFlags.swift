/// The kernel's taint flags (`tainted_mask`), decoded as `print_tainted()`
/// and Documentation/admin-guide/tainted-kernels.rst show them.
public struct TaintFlags: Sendable, Equatable {
  public var mask: UInt64

  /// Bit, letter, meaning (include/linux/panic.h `TAINT_*`).
  public static let table: [(bit: Int, letter: Character, meaning: String)] = [
    (0, "P", "proprietary module loaded"),
    (1, "F", "module force loaded"),
    (2, "S", "SMP with CPUs not designed for SMP / out of specification"),
    (3, "R", "module force unloaded"),
    (4, "M", "machine check exception"),
    (5, "B", "bad page referenced or unexpected page flags"),
    (6, "U", "taint requested by userspace"),
    (7, "D", "kernel died recently (OOPS or BUG)"),
    (8, "A", "ACPI table overridden"),
    (9, "W", "kernel issued a warning"),
    (10, "C", "staging driver loaded"),
    (11, "I", "workaround for a platform firmware bug"),
    (12, "O", "out-of-tree module loaded"),
    (13, "E", "unsigned module loaded"),
    (14, "L", "soft lockup occurred"),
    (15, "K", "kernel live patched"),
    (16, "X", "auxiliary taint (distribution-defined)"),
    (17, "T", "built with struct randomization plugin"),
    (18, "N", "in-kernel test loaded"),
    (19, "J", "userspace used a mutating debug operation in fwctl"),
  ]

  public init(mask: UInt64) { self.mask = mask }

  /// The letters of the set flags ("OE"), empty when untainted.
  public var letters: String {
    String(Self.table.filter { mask & (1 << UInt64($0.bit)) != 0 }.map(\.letter))
  }

  /// Each set flag's letter and meaning.
  public var descriptions: [String] {
    Self.table.filter { mask & (1 << UInt64($0.bit)) != 0 }.map { "\($0.letter): \($0.meaning)" }
  }
}
