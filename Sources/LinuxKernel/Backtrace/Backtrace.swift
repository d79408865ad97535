/// A task's kernel backtrace: its frames, the registers saved by exception
/// or syscall entries along the way, how the walk started and why it
/// stopped.
public struct Backtrace: Sendable, Equatable {
  /// Where the walk started.
  public enum Start: Sendable, Equatable {
    /// A sleeping task's switch frame (`struct inactive_task_frame` at
    /// `thread.sp`): its `ret_addr` is frame #0.
    case switchFrame(address: UInt64)
    /// A text address crash's search finds on the stacks of a task that was
    /// running (`machine_kexec` for a kdump panic, `crash_nmi_callback` for
    /// a CPU stopped by the crash NMI…); frame #0 is that address.
    case stackSearch(function: String, stackAddress: UInt64)
    /// The registers the CPU saved in its NT_PRSTATUS note.
    case registers(cpu: Int)
    /// No starting point was found.
    case none
  }

  public var task: KernelTask
  /// The CPU in the header: the one it was running on, else its last.
  public var cpu: Int?
  public var frames: [BacktraceFrame]
  public var exceptionFrames: [ExceptionFrame]
  public var start: Start
  public var stop: BacktraceStop
  /// What went wrong on the way besides the stop (a PRSTATUS note that does
  /// not match the task…).
  public var problems: [String]

  public init(
    task: KernelTask, cpu: Int?, frames: [BacktraceFrame] = [],
    exceptionFrames: [ExceptionFrame] = [], start: Start = .none, stop: BacktraceStop,
    problems: [String] = []
  ) {
    self.task = task
    self.cpu = cpu
    self.frames = frames
    self.exceptionFrames = exceptionFrames
    self.start = start
    self.stop = stop
    self.problems = problems
  }

  /// The function names of the frames, in order ("?" when unknown).
  public var functionNames: [String] { frames.map { $0.function ?? "?" } }
}
