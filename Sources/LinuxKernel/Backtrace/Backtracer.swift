import AddressTranslation
import DebugInfo
import DumpFormats

/// Kernel backtraces of a dump's tasks, from the dump alone: the kernel's
/// ORC tables, kallsyms, BTF, the CPUs' NT_PRSTATUS notes and the tasks'
/// saved contexts.
///
/// Where a walk starts follows crash's `bt`, so that the frames match it:
///
/// - A sleeping task starts from its switch frame: `thread.sp` points at a
///   `struct inactive_task_frame` whose `ret_addr` (in `__schedule`) is frame
///   #0, and whose end is the stack pointer there.
/// - A task running on a CPU at the crash starts where crash's search of its
///   stacks (the task's own, then the CPU's IRQ stack, then its exception
///   stacks, each from the lowest address up) first finds a telling text
///   address (`StackSearch`). For a kdump panic that is `machine_kexec`:
///   `__crash_kexec` saved the CPU's registers (the PRSTATUS note, whose rip
///   is inside `__crash_kexec` itself) and then called `machine_kexec`,
///   which never returned: it jumped to the capture kernel. The return
///   address of the last call `machine_kexec` made is still on the stack,
///   just below the stack pointer `__crash_kexec` had, and crash shows it as
///   frame #0 (`machine_kexec at …`), followed by `__crash_kexec` at the
///   return address of its call to `machine_kexec`. Other CPUs stopped by
///   the crash NMI start at `crash_nmi_callback` the same way.
/// - Failing that, the walk starts from the CPU's PRSTATUS registers; when
///   they are user-mode registers, the backtrace is those registers alone.
///
/// The panic CPU is `panic_cpu` (else `crashing_cpu`); its task is the one
/// its runqueue says was running, cross-checked with the pid in its
/// PRSTATUS note (notes are in CPU order, offline CPUs skipped).
public final class Backtracer {
  public let session: KernelSession
  public let tasks: TaskList
  /// The ORC tables, nil when they could not be read (then frame pointers
  /// are followed).
  public let orc: KernelOrcInfo?
  public let stacks: KernelStacks
  public let registersLayout: PtRegsLayout
  /// The loaded modules (for module frames), empty when unknown.
  public let modules: [KernelModule]
  /// How frames are named: kallsyms and the modules' symbols, with crash's
  /// choice among aliases.
  public let names: CrashSymbolNames
  /// The CPU that panicked, when known.
  public let panicCPU: Int?
  /// The saved registers of each CPU that saved them, by CPU number.
  public let cpuRegisters: [Int: PRStatus]
  /// What could not be read while setting up (no ORC, a PRSTATUS note that
  /// does not match its CPU's task…).
  public private(set) var problems: [String] = []

  private let notesAreQEMUs: Bool
  private let frameOffsets: (returnAddress: Int, bp: Int, size: Int)?
  private let threadSP: Int?
  private let returnFromFork: [UInt64]

  /// Reads what backtraces need from a session.
  ///
  /// - Parameters:
  ///   - tasks: the task list, when the caller has it already.
  ///   - modules: the loaded modules, when the caller has read them already
  ///     (empty when that failed); nil to read them here.
  /// - Throws: `.missingInformation` when the task list cannot be read.
  public init(session: KernelSession, tasks: TaskList? = nil, modules given: [KernelModule]? = nil)
    throws(DumpError)
  {
    self.session = session
    let list: TaskList
    if let tasks { list = tasks } else { list = try TaskList(session: session) }
    self.tasks = list
    var problems: [String] = []
    var moduleList: [KernelModule] = given ?? []
    if given == nil {
      do {
        moduleList = try ModuleList(session: session).modules
      } catch {
        problems.append("modules: \(error.message)")
      }
    }
    modules = moduleList
    names = CrashSymbolNames(
      base: session.symbols, modules: ModuleSymbols(session: session, modules: moduleList))
    do {
      orc = try KernelOrcInfo(session: session, modules: moduleList)
    } catch {
      orc = nil
      problems.append("ORC: \(error.message); following frame pointers only")
    }
    let cpuCount = TaskList.cpuCount(session: session)
    stacks = KernelStacks(session: session, cpuCount: cpuCount)
    problems += stacks.problems
    registersLayout = PtRegsLayout(types: session.types)

    let types = session.types
    threadSP = types.member("thread.sp", in: "task_struct")?.byteOffset
    if let returnAddress = types.member("ret_addr", in: "inactive_task_frame")?.byteOffset,
      let bp = types.member("bp", in: "inactive_task_frame")?.byteOffset,
      let size = types.size(of: "inactive_task_frame")
    {
      frameOffsets = (returnAddress, bp, size)
    } else {
      frameOffsets = nil
      problems.append("no layout of struct inactive_task_frame: sleeping tasks cannot be traced")
    }
    returnFromFork = ["ret_from_fork", "ret_from_fork_asm"].compactMap {
      session.symbols.address(of: $0)
    }

    // PRSTATUS notes, in the order of the online CPUs.
    let notes = session.dump.prstatusNotes()
    var online: [Int] = []
    if let mask = session.symbols.address(of: "__cpu_online_mask") {
      let words = (cpuCount + 63) / 64
      if let bytes = try? session.memory.read(virtual: mask, count: words * 8) {
        for cpu in 0..<cpuCount where bytes[cpu / 8] & (1 << UInt8(cpu % 8)) != 0 {
          online.append(cpu)
        }
      }
    }
    if online.count < notes.count { online = Array(0..<notes.count) }
    var registers: [Int: PRStatus] = [:]
    for (index, note) in notes.enumerated() { registers[online[index]] = note }
    cpuRegisters = registers

    // The panic CPU.
    var panicCPU: Int?
    for name in ["panic_cpu", "crashing_cpu"] {
      if let address = session.symbols.address(of: name),
        let value = try? session.memory.readInteger(Int32.self, at: address),
        value >= 0, Int(value) < max(cpuCount, notes.count)
      {
        panicCPU = Int(value)
        break
      }
    }
    self.panicCPU = panicCPU
    // QEMU's dump-guest-memory numbers its notes' pids after the CPUs.
    notesAreQEMUs = session.dump.notes.contains { $0.name == "QEMU" }
    if let panicCPU, let task = list.tasks.first(where: { $0.activeOnCPU == panicCPU }),
      let note = registers[panicCPU], note.pid != task.pid, !notesAreQEMUs
    {
      problems.append(
        "CPU \(panicCPU)'s PRSTATUS note names pid \(note.pid), its runqueue pid \(task.pid)")
    }
    self.problems = problems + list.problems
  }

  /// The task that panicked: the one running on the panic CPU.
  public var panicTask: KernelTask? {
    guard let panicCPU else { return nil }
    return tasks.tasks.first { $0.activeOnCPU == panicCPU }
  }

  /// The tasks running on a CPU at the crash, in CPU order (crash's
  /// `bt -a`).
  public var activeTasks: [KernelTask] {
    tasks.tasks.filter { $0.activeOnCPU != nil }.sorted {
      ($0.activeOnCPU ?? 0) < ($1.activeOnCPU ?? 0)
    }
  }

  /// The tasks with pid `pid` (several for pid 0: one idle task per CPU).
  public func tasks(withPID pid: Int32) -> [KernelTask] {
    tasks.tasks.filter { $0.pid == pid }
  }

  /// The walker for a task running on (or last run on) `cpu`.
  func unwinder(task: KernelTask, cpu: Int?) -> StackUnwinder {
    StackUnwinder(
      memory: session.memory, orc: orc, symbols: names,
      regions: stacks.regions(task: task.address, cpu: cpu), registersLayout: registersLayout,
      spIndirectAddsAfterLoad: orc?.format.spIndirectAddsAfterLoad ?? true,
      modules: modules.compactMap { module in
        (module.base +? module.size).map { (module.name, module.base..<$0) }
      })
  }

  /// Where the walk of a task running on a CPU starts.
  public enum StartPolicy: Sendable {
    /// crash's conventions: its stack search, then the saved registers shown
    /// as an exception frame (the frames match crash's `bt`).
    case crash
    /// The registers the CPU saved (its PRSTATUS note), the interrupted
    /// instruction as frame #0, as drgn and the kernel's own unwinder start.
    case registers
  }

  /// The backtrace of one task.
  public func backtrace(of task: KernelTask, policy: StartPolicy = .crash) -> Backtrace {
    let cpu = task.activeOnCPU ?? task.cpu
    var trace = Backtrace(task: task, cpu: cpu, stop: .noStart("nothing known"))
    guard stacks.taskStack(of: task.address) != nil else {
      trace.stop = .noStack
      return trace
    }
    let walker = unwinder(task: task, cpu: cpu)
    let start: StackUnwinder.Start
    if let active = task.activeOnCPU {
      let isPanic = active == panicCPU
      let note = cpuRegisters[active]
      let saved = note.map { X86Registers(prstatus: $0.registers) }
      if let note, note.pid != task.pid, !notesAreQEMUs {
        trace.problems.append(
          "CPU \(active)'s PRSTATUS note names pid \(note.pid), not \(task.pid)")
      }
      var search = StackSearch(
        memory: session.memory, symbols: names,
        regions: stacks.regions(task: task.address, cpu: active), isPanicTask: isPanic,
        isIdleTask: task.pid == 0)
      let found =
        policy == .crash ? search.find(hasVMCOREINFO: !session.vmcoreinfo.values.isEmpty) : nil
      if policy == .registers, let saved, !saved.isUserMode {
        trace.start = .registers(cpu: active)
        start = StackUnwinder.Start(
          ip: saved.rip, sp: saved.rsp, bp: saved.rbp, signal: true, stackAddress: saved.rsp,
          registers: saved)
      } else if let hit = found ?? (saved == nil ? search.lastResort : nil) {
        trace.start = .stackSearch(function: hit.function, stackAddress: hit.stackAddress)
        start = StackUnwinder.Start(
          ip: hit.value, sp: hit.stackAddress +? 8 ?? hit.stackAddress,
          bp: saved.flatMap { $0.isUserMode ? nil : $0.rbp } ?? 0, signal: false,
          stackAddress: hit.stackAddress)
      } else if let saved {
        // crash shows the saved registers first (the interrupted function
        // only in their `[exception RIP: …]` line), then the frames above.
        trace.start = .registers(cpu: active)
        var exception = ExceptionFrame(afterFrame: -1, address: nil, registers: saved)
        if !saved.isUserMode, let symbol = names.symbol(containing: saved.rip) {
          exception.function = symbol.name
          exception.offset = saved.rip &- symbol.address
          exception.module = symbol.module
        }
        trace.exceptionFrames = [exception]
        if saved.isUserMode {
          trace.stop = .userMode
          return trace
        }
        start = StackUnwinder.Start(
          ip: saved.rip, sp: saved.rsp, bp: saved.rbp, signal: true, stackAddress: saved.rsp,
          registers: saved, showsFirstFrame: false)
      } else {
        trace.problems.append(
          "CPU \(active) saved no registers; starting from the task's last switch frame")
        guard let switched = switchStart(task, trace: &trace) else { return trace }
        start = switched
      }
    } else {
      guard let switched = switchStart(task, trace: &trace) else { return trace }
      start = switched
    }
    let result = walker.unwind(from: start)
    trace.frames = result.frames
    trace.exceptionFrames += result.exceptionFrames
    trace.stop = result.stop
    return trace
  }

  /// The start from a sleeping task's switch frame, or nil (with `trace`'s
  /// stop set) when it cannot be read.
  private func switchStart(_ task: KernelTask, trace: inout Backtrace) -> StackUnwinder.Start? {
    guard let threadSP, let frameOffsets else {
      trace.stop = .noStart("no layout of thread.sp or struct inactive_task_frame")
      return nil
    }
    let memory = session.memory
    do throws(DumpError) {
      let frame = try memory.readPointer(at: task.address &+ UInt64(threadSP))
      trace.start = .switchFrame(address: frame)
      guard let stack = stacks.taskStack(of: task.address),
        stack.contains(frame, count: UInt64(frameOffsets.size))
      else {
        trace.stop = .leftStack(stackPointer: frame)
        return nil
      }
      let slot = frame &+ UInt64(frameOffsets.returnAddress)
      let ip = try memory.readPointer(at: slot)
      let bp = try memory.readPointer(at: frame &+ UInt64(frameOffsets.bp))
      return StackUnwinder.Start(
        ip: ip, sp: frame &+ UInt64(frameOffsets.size), bp: bp,
        signal: returnFromFork.contains(ip), stackAddress: slot)
    } catch {
      trace.stop = .unreadable(address: task.address, reason: error.message)
      return nil
    }
  }
}
