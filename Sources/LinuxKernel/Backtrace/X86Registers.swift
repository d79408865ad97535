/// The general registers of an x86-64 CPU as `struct pt_regs` (or a
/// PRSTATUS note) holds them.
public struct X86Registers: Sendable, Equatable {
  public var r15: UInt64 = 0
  public var r14: UInt64 = 0
  public var r13: UInt64 = 0
  public var r12: UInt64 = 0
  public var rbp: UInt64 = 0
  public var rbx: UInt64 = 0
  public var r11: UInt64 = 0
  public var r10: UInt64 = 0
  public var r9: UInt64 = 0
  public var r8: UInt64 = 0
  public var rax: UInt64 = 0
  public var rcx: UInt64 = 0
  public var rdx: UInt64 = 0
  public var rsi: UInt64 = 0
  public var rdi: UInt64 = 0
  /// The syscall number, error code or vector (`orig_ax`), -1 when none.
  public var origRax: UInt64 = 0
  public var rip: UInt64 = 0
  public var cs: UInt64 = 0
  public var rflags: UInt64 = 0
  public var rsp: UInt64 = 0
  public var ss: UInt64 = 0

  public init() {}

  /// Whether these registers belong to user mode (CPL 3 in `cs`).
  public var isUserMode: Bool { cs & 3 != 0 }

  /// The registers in `pt_regs` order, with the names `pt_regs` gives them
  /// (`bp`, `ax`, `orig_ax`, `ip`, `flags`, `sp`…).
  public var named: [(name: String, value: UInt64)] {
    [
      ("r15", r15), ("r14", r14), ("r13", r13), ("r12", r12), ("bp", rbp), ("bx", rbx),
      ("r11", r11), ("r10", r10), ("r9", r9), ("r8", r8), ("ax", rax), ("cx", rcx),
      ("dx", rdx), ("si", rsi), ("di", rdi), ("orig_ax", origRax), ("ip", rip), ("cs", cs),
      ("flags", rflags), ("sp", rsp), ("ss", ss),
    ]
  }

  /// Sets a register by its `pt_regs` name; unknown names are ignored.
  public mutating func set(_ name: String, _ value: UInt64) {
    switch name {
    case "r15": r15 = value
    case "r14": r14 = value
    case "r13": r13 = value
    case "r12": r12 = value
    case "bp", "rbp": rbp = value
    case "bx", "rbx": rbx = value
    case "r11": r11 = value
    case "r10": r10 = value
    case "r9": r9 = value
    case "r8": r8 = value
    case "ax", "rax": rax = value
    case "cx", "rcx": rcx = value
    case "dx", "rdx": rdx = value
    case "si", "rsi": rsi = value
    case "di", "rdi": rdi = value
    case "orig_ax", "orig_rax": origRax = value
    case "ip", "rip": rip = value
    case "cs": cs = value
    case "flags", "eflags", "rflags": rflags = value
    case "sp", "rsp": rsp = value
    case "ss": ss = value
    default: break
    }
  }

  /// The registers of a PRSTATUS note (`user_regs_struct` names).
  public init(prstatus registers: [(name: String, value: UInt64)]) {
    for (name, value) in registers { set(name, value) }
  }
}
