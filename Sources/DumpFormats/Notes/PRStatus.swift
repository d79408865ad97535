/// The registers and pid a CPU saved when the kernel crashed (`NT_PRSTATUS`).
public struct PRStatus: Sendable, Equatable {
  /// The pid of the task that ran on this CPU (0 for the idle task).
  public var pid: Int32
  /// Register names in the architecture's `pr_reg` order, with values.
  public var registers: [(name: String, value: UInt64)]

  public static func == (lhs: PRStatus, rhs: PRStatus) -> Bool {
    lhs.pid == rhs.pid && lhs.registers.map(\.name) == rhs.registers.map(\.name)
      && lhs.registers.map(\.value) == rhs.registers.map(\.value)
  }

  /// The value of one register, by name (`rip`, `rsp`, `pc`…).
  public func register(_ name: String) -> UInt64? {
    registers.first { $0.name == name }?.value
  }

  /// x86-64 `user_regs_struct` order (also Xen's `ELF_Gregset`).
  public static let x86_64Registers = [
    "r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax",
    "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss",
    "fs_base", "gs_base", "ds", "es", "fs", "gs",
  ]
  /// i386 `user_regs_struct` order.
  public static let i386Registers = [
    "ebx", "ecx", "edx", "esi", "edi", "ebp", "eax", "ds", "es", "fs", "gs",
    "orig_eax", "eip", "cs", "eflags", "esp", "ss",
  ]
  /// arm64 `user_pt_regs` order.
  public static let arm64Registers =
    (0...30).map { "x\($0)" } + ["sp", "pc", "pstate"]

  /// Decodes a PRSTATUS descriptor for `architecture`.
  ///
  /// - Throws: `DumpError` `.truncated` when the descriptor is too short, and
  ///   `.unsupported` for an architecture whose layout is not known.
  public init(
    parsing bytes: [UInt8], architecture: Architecture, order: ByteOrder
  ) throws(DumpError) {
    let names: [String]
    let pidOffset: Int
    let registersOffset: Int
    let wordSize: Int
    switch architecture {
    case .x86_64:
      (names, pidOffset, registersOffset, wordSize) = (Self.x86_64Registers, 32, 112, 8)
    case .i386:
      (names, pidOffset, registersOffset, wordSize) = (Self.i386Registers, 24, 72, 4)
    case .arm64:
      (names, pidOffset, registersOffset, wordSize) = (Self.arm64Registers, 32, 112, 8)
    default:
      throw DumpError(.unsupported, "PRSTATUS layout of \(architecture) is not known")
    }
    guard let pid = bytes.load(Int32.self, at: pidOffset, order),
      bytes.count >= registersOffset + names.count * wordSize
    else {
      throw DumpError(
        .truncated,
        "PRSTATUS note of \(bytes.count) bytes is too short for \(architecture)")
    }
    self.pid = pid
    var registers: [(String, UInt64)] = []
    for (index, name) in names.enumerated() {
      let offset = registersOffset + index * wordSize
      let value: UInt64 =
        wordSize == 8
        ? bytes.load(UInt64.self, at: offset, order) ?? 0
        : UInt64(bytes.load(UInt32.self, at: offset, order) ?? 0)
      registers.append((name, value))
    }
    self.registers = registers
  }
}
