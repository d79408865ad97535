/// One task (a process or a thread) as the kernel's `task_struct` holds it.
public struct KernelTask: Sendable, Equatable {
  /// The address of its `task_struct`.
  public var address: UInt64
  public var pid: Int32
  public var tgid: Int32
  /// The pid of its `real_parent` (0 for the idle tasks and init's parent).
  public var ppid: Int32
  public var comm: String
  /// `__state` (5.14+) or `state`, and `exit_state`.
  public var rawState: UInt64
  public var exitState: UInt64
  /// The CPU it last ran on (`task_struct.cpu` or `thread_info.cpu`).
  public var cpu: Int?
  /// The CPU it was running on when the dump was taken (it was that CPU's
  /// `rq->curr`), if any.
  public var activeOnCPU: Int?
  public var flags: UInt64
  /// The `mm_struct` (0 for kernel threads).
  public var mm: UInt64

  /// `PF_KTHREAD`.
  public static let kernelThreadFlag: UInt64 = 0x0020_0000

  public var isKernelThread: Bool { flags & Self.kernelThreadFlag != 0 }
  public var isThreadGroupLeader: Bool { pid == tgid }

  /// The state as crash's `ps` names it (`RU`, `IN`, `UN`, `ID`, `ZO`…),
  /// from the state bits Linux has used since 4.14
  /// (include/linux/sched.h: TASK_INTERRUPTIBLE 0x1, TASK_UNINTERRUPTIBLE
  /// 0x2, __TASK_STOPPED 0x4, __TASK_TRACED 0x8, EXIT_DEAD 0x10,
  /// EXIT_ZOMBIE 0x20, TASK_PARKED 0x40, TASK_DEAD 0x80, TASK_WAKING 0x200,
  /// TASK_NOLOAD 0x400, TASK_NEW 0x800).
  public var shortState: String {
    if exitState & 0x20 != 0 { return "ZO" }
    if exitState & 0x10 != 0 { return "DE" }
    if rawState == 0 { return "RU" }
    if rawState & 0x1 != 0 { return "IN" }
    if rawState & 0x2 != 0 { return rawState & 0x400 != 0 ? "ID" : "UN" }
    if rawState & 0x4 != 0 { return "ST" }
    if rawState & 0x8 != 0 { return "TR" }
    if rawState & 0x80 != 0 { return "DE" }
    if rawState & 0x40 != 0 { return "PA" }
    if rawState & 0x200 != 0 { return "WA" }
    if rawState & 0x800 != 0 { return "NE" }
    return "??"
  }
}
