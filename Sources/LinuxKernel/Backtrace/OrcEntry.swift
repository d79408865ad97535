/// One decoded `struct orc_entry`: how to find the caller's frame from a
/// text address (arch/x86/include/asm/orc_types.h).
///
/// The meaning of the fields does not depend on the kernel version; only
/// their encoding does, which `OrcFormat` reads from BTF.
public struct OrcEntry: Sendable, Equatable {
  /// The base registers ORC refers to (`ORC_REG_*`, the same numbers in
  /// every kernel that has ORC).
  public enum Register: UInt8, Sendable {
    case undefined = 0
    case previousSP = 1
    case dx = 2
    case di = 3
    case bp = 4
    case sp = 5
    case r10 = 6
    case r13 = 7
    case bpIndirect = 8
    case spIndirect = 9
  }

  /// What lies at the previous frame's stack pointer.
  public enum Kind: Sendable, Equatable {
    /// No unwind information here (a gap the unwinder must not cross).
    case undefined
    /// The outermost frame: the unwind is complete.
    case endOfStack
    /// A normal call frame: the return address is just below the CFA.
    case call
    /// A full `struct pt_regs` (an exception, interrupt or syscall entry).
    case registers
    /// Only the hardware iret frame (ip, cs, flags, sp, ss) of a `pt_regs`.
    case partialRegisters
    /// A type number this reader does not know.
    case unknown(UInt8)
  }

  /// Added to the base register `spRegister` to find the previous frame's
  /// stack pointer (the CFA).
  public var spOffset: Int16
  /// Added to `bpRegister` to find where the caller's frame pointer is saved.
  public var bpOffset: Int16
  /// The raw `sp_reg` and `bp_reg` numbers (see `Register`).
  public var spRegister: UInt8
  public var bpRegister: UInt8
  public var kind: Kind
  /// The kernel's `signal` bit (6.3+), or on older kernels whether this is a
  /// `pt_regs` frame: the next address is an exact instruction address, not
  /// a return address.
  public var signal: Bool

  public init(
    spOffset: Int16, bpOffset: Int16, spRegister: UInt8, bpRegister: UInt8, kind: Kind,
    signal: Bool
  ) {
    self.spOffset = spOffset
    self.bpOffset = bpOffset
    self.spRegister = spRegister
    self.bpRegister = bpRegister
    self.kind = kind
    self.signal = signal
  }

  /// The entry the kernel uses where ORC has none and the code is assumed to
  /// keep a frame pointer (`orc_fp_entry`): CFA = rbp + 16, the caller's rbp
  /// saved at CFA - 16.
  public static let framePointer = OrcEntry(
    spOffset: 16, bpOffset: -16, spRegister: Register.bp.rawValue,
    bpRegister: Register.previousSP.rawValue, kind: .call, signal: false)

  /// The entry for address 0 (a call through a NULL function pointer): the
  /// return address is at the stack pointer.
  public static let nullAddress = OrcEntry(
    spOffset: 8, bpOffset: 0, spRegister: Register.sp.rawValue,
    bpRegister: Register.undefined.rawValue, kind: .call, signal: false)
}
