/// Registers saved on a stack by an exception, interrupt or system call
/// entry (`struct pt_regs`), or those a CPU saved at the crash when the
/// backtrace starts from them in user mode.
public struct ExceptionFrame: Sendable, Equatable {
  /// The frame after which crash prints these registers (the entry code's
  /// frame); -1 when they come before any frame (a task running in user
  /// mode).
  public var afterFrame: Int
  /// Where the `pt_regs` lies, nil for registers from a PRSTATUS note.
  public var address: UInt64?
  public var registers: X86Registers
  /// Only the hardware iret frame (ip, cs, flags, sp, ss) is meaningful
  /// (ORC's REGS_PARTIAL); the other registers read as 0.
  public var isPartial: Bool
  /// For kernel mode: the function the exception interrupted and the offset
  /// of `rip` in it (crash's `[exception RIP: …]`), when known.
  public var function: String?
  public var offset: UInt64?
  public var module: String?
  /// The stack the registers were saved on, when known.
  public var stack: StackRegion.Kind?

  public init(
    afterFrame: Int, address: UInt64?, registers: X86Registers, isPartial: Bool = false,
    function: String? = nil, offset: UInt64? = nil, module: String? = nil,
    stack: StackRegion.Kind? = nil
  ) {
    self.afterFrame = afterFrame
    self.address = address
    self.registers = registers
    self.isPartial = isPartial
    self.function = function
    self.offset = offset
    self.module = module
    self.stack = stack
  }

  /// Whether the registers are those of user mode.
  public var isUserMode: Bool { registers.isUserMode }
}
