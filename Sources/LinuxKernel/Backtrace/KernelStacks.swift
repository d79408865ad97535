import AddressTranslation
import DebugInfo
import DumpFormats

/// Where a kernel's stacks are: each task's own (`task_struct.stack`,
/// `THREAD_SIZE` bytes), and each CPU's IRQ stack (`hardirq_stack_ptr`) and
/// exception stacks (`cea_exception_stacks`, in IST order: double fault,
/// NMI, debug, machine check, VMM communication).
public struct KernelStacks {
  /// `THREAD_SIZE`: `__end_init_task - init_stack` when the symbols say, else
  /// 16 KiB (x86-64 without KASAN).
  public let threadSize: UInt64
  /// Each CPU's IRQ and exception stacks, by CPU number.
  public private(set) var cpuStacks: [Int: [StackRegion]] = [:]
  /// What could not be found.
  public private(set) var problems: [String] = []
  let stackMember: Int?
  let memory: VirtualMemory

  /// The exception stacks of `struct cea_exception_stacks`, with crash's names.
  static let exceptionStackMembers = [
    ("DF_stack", "DOUBLEFAULT"), ("NMI_stack", "NMI"), ("DB2_stack", "DEBUG2"),
    ("DB1_stack", "DEBUG1"), ("DB_stack", "DEBUG"), ("MCE_stack", "MCE"), ("VC_stack", "VC"),
    ("VC2_stack", "VC2"),
  ]

  /// Finds the stacks of `cpuCount` CPUs.
  public init(session: KernelSession, cpuCount: Int) {
    let symbols = session.symbols
    let types = session.types
    memory = session.memory
    stackMember = types.member("stack", in: "task_struct")?.byteOffset
    var size: UInt64 = 16 << 10
    if let start = symbols.address(of: "init_stack"), let end = symbols.address(of: "__end_init_task"),
      end > start, end - start >= 4096, end - start <= 1 << 20, (end - start).nonzeroBitCount == 1
    {
      size = end - start
    }
    threadSize = size
    if stackMember == nil { problems.append("task_struct has no stack member: task stacks unknown") }

    guard let perCPUOffsets = symbols.address(of: "__per_cpu_offset") else {
      problems.append("no __per_cpu_offset: IRQ and exception stacks unknown")
      return
    }
    let irqPointer = symbols.address(of: "hardirq_stack_ptr") ?? symbols.address(of: "irq_stack_ptr")
    let exceptionPointer = symbols.address(of: "cea_exception_stacks")
    var members: [(name: String, offset: Int, size: Int)] = []
    for (member, name) in Self.exceptionStackMembers {
      if let layout = types.member(member, in: "cea_exception_stacks"), layout.size > 0 {
        members.append((name, layout.byteOffset, layout.size))
      }
    }
    members.sort { $0.offset < $1.offset }
    for cpu in 0..<max(0, min(cpuCount, 8192)) {
      var regions: [StackRegion] = []
      guard let offset = try? memory.readPointer(at: perCPUOffsets &+ UInt64(cpu * 8)) else {
        problems.append("CPU \(cpu): __per_cpu_offset unreadable")
        continue
      }
      if let irqPointer, let pointer = try? memory.readPointer(at: irqPointer &+ offset), pointer != 0 {
        // The pointer is the stack's top, or 8 bytes below it (5.12+).
        let top = (pointer &+ 8) & ~UInt64(4095)
        if top > size { regions.append(StackRegion(kind: .irq, range: (top - size)..<top)) }
      }
      if let exceptionPointer, !members.isEmpty,
        let base = try? memory.readPointer(at: exceptionPointer &+ offset), base != 0
      {
        for member in members {
          let low = base &+ UInt64(member.offset)
          if let high = low +? UInt64(member.size) {
            regions.append(StackRegion(kind: .exception(member.name), range: low..<high))
          }
        }
      }
      cpuStacks[cpu] = regions
    }
  }

  /// A task's own stack, or nil when `task_struct.stack` is unknown or NULL
  /// (a task that has exited).
  public func taskStack(of task: UInt64) -> StackRegion? {
    guard let stackMember,
      let base = try? memory.readPointer(at: task &+ UInt64(stackMember)), base != 0,
      let top = base +? threadSize
    else { return nil }
    return StackRegion(kind: .task, range: base..<top)
  }

  /// The stacks a task may be found on: its own, then the IRQ and exception
  /// stacks of `cpu` (the CPU it was running on).
  public func regions(task: UInt64, cpu: Int?) -> [StackRegion] {
    var regions: [StackRegion] = []
    if let own = taskStack(of: task) { regions.append(own) }
    if let cpu, let others = cpuStacks[cpu] { regions += others }
    return regions
  }
}
