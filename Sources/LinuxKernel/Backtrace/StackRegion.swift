import DumpFormats

/// A kernel stack a backtrace may run on: a task's own stack, a CPU's IRQ
/// stack, or one of its exception (IST) stacks.
public struct StackRegion: Sendable, Equatable, Hashable {
  /// Which stack this is.
  public enum Kind: Sendable, Equatable, Hashable {
    case task
    case irq
    /// An exception stack, named as crash names it (`NMI`, `DEBUG`,
    /// `DOUBLEFAULT`, `MCE`, `VC`, `VC2`).
    case exception(String)
  }

  public var kind: Kind
  /// The addresses it spans (lowest to one past its top).
  public var range: Range<UInt64>

  public init(kind: Kind, range: Range<UInt64>) {
    self.kind = kind
    self.range = range
  }

  /// How crash marks leaving this stack (`IRQ stack`, `NMI exception
  /// stack`), nil for a task stack.
  public var label: String? {
    switch kind {
    case .task: return nil
    case .irq: return "IRQ stack"
    case .exception(let name): return "\(name) exception stack"
    }
  }

  /// Whether `count` bytes at `address` lie inside the stack.
  public func contains(_ address: UInt64, count: UInt64 = 8) -> Bool {
    guard let end = address +? count else { return false }
    return address >= range.lowerBound && end <= range.upperBound
  }
}
