/// Why a backtrace ended.
public enum BacktraceStop: Sendable, Equatable, CustomStringConvertible {
  /// ORC marks the outermost frame (`ret_from_fork`, the idle entry…).
  case endOfStack
  /// The registers of user mode were reached (the syscall or exception
  /// entry at the top of a task's stack).
  case userMode
  /// The walk reached its frame limit.
  case frameLimit(Int)
  /// The task has no stack (it has exited).
  case noStack
  /// No starting point: neither saved registers nor a saved context.
  case noStart(String)
  /// ORC has no information for this address (an undefined entry).
  case noUnwindInformation(address: UInt64)
  /// An ORC entry this reader cannot follow (unknown type or register).
  case unknownEntry(address: UInt64, detail: String)
  /// A register ORC needs is not saved (no full `pt_regs` below).
  case missingRegister(address: UInt64, register: String)
  /// A read failed.
  case unreadable(address: UInt64, reason: String)
  /// The stack pointer left every known stack of the task.
  case leftStack(stackPointer: UInt64)
  /// The stack pointer did not increase, or went back to a stack already
  /// left: the stack is corrupt or the unwind information wrong.
  case notIncreasing(stackPointer: UInt64)
  /// A value that should be a return address is not kernel text.
  case notText(address: UInt64, stackAddress: UInt64)

  /// Whether the walk reached a natural end.
  public var isComplete: Bool {
    switch self {
    case .endOfStack, .userMode: return true
    default: return false
    }
  }

  public var description: String {
    func hex(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
    switch self {
    case .endOfStack: return "end of stack"
    case .userMode: return "reached user mode"
    case .frameLimit(let count): return "stopped after \(count) frames (limit)"
    case .noStack: return "the task has no stack"
    case .noStart(let reason): return "no starting point: \(reason)"
    case .noUnwindInformation(let address):
      return "stopped: no unwind information for \(hex(address))"
    case .unknownEntry(let address, let detail):
      return "stopped: ORC entry for \(hex(address)) cannot be followed (\(detail))"
    case .missingRegister(let address, let register):
      return "stopped: ORC entry for \(hex(address)) needs \(register), which no pt_regs saved"
    case .unreadable(let address, let reason):
      return "stopped: \(hex(address)) unreadable (\(reason))"
    case .leftStack(let stackPointer):
      return "stopped: stack pointer \(hex(stackPointer)) is outside the task's stacks"
    case .notIncreasing(let stackPointer):
      return "stopped: stack pointer \(hex(stackPointer)) does not move up the stack"
    case .notText(let address, let stackAddress):
      return "stopped: \(hex(address)) at \(hex(stackAddress)) is not kernel text"
    }
  }
}
