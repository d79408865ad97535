import AddressTranslation
import DebugInfo
import DumpFormats

/// Every task of a kernel: each CPU's idle task, every process on
/// `init_task.tasks`, and every thread of each process
/// (`signal->thread_head`/`thread_node`, or `thread_group` on old kernels).
public struct TaskList {
  public var tasks: [KernelTask]
  /// What could not be read (a list that stopped early, a CPU's runqueue…).
  public var problems: [String]

  /// Walks the task lists of the session's kernel.
  ///
  /// - Throws: `.missingInformation` when the types or symbols the walk needs
  ///   are unavailable, or the first read fails; later failures are partial
  ///   results listed in `problems`.
  public init(session: KernelSession) throws(DumpError) {
    let layout = try TaskLayout(types: session.types)
    let symbols = session.symbols
    let memory = session.memory
    let initTask = try symbols.require("init_task")
    var problems: [String] = []
    var byAddress: [UInt64: KernelTask] = [:]
    var order: [UInt64] = []

    // Per-CPU runqueues: who was running, and each CPU's idle task.
    var active: [UInt64: Int] = [:]
    var idleTasks: [UInt64] = []
    let cpuCount = Self.cpuCount(session: session)
    if let runqueues = symbols.address(of: "runqueues"),
      let perCPUOffsets = symbols.address(of: "__per_cpu_offset"),
      let currentOffset = layout.runqueueCurrent, let idleOffset = layout.runqueueIdle
    {
      for cpu in 0..<cpuCount {
        do {
          let offset = try memory.readPointer(at: perCPUOffsets &+ UInt64(cpu * 8))
          let runqueue = runqueues &+ offset
          let current = try memory.readPointer(at: runqueue &+ UInt64(currentOffset))
          let idle = try memory.readPointer(at: runqueue &+ UInt64(idleOffset))
          if current != 0 { active[current] = cpu }
          if idle != 0 { idleTasks.append(idle) }
        } catch {
          problems.append("CPU \(cpu) runqueue: \(error)")
        }
      }
    } else {
      problems.append("no runqueues: idle tasks of other CPUs and running tasks are unknown")
    }

    func add(_ address: UInt64) {
      guard byAddress[address] == nil else { return }
      do {
        var task = try Self.readTask(at: address, layout: layout, memory: memory)
        task.activeOnCPU = active[address]
        byAddress[address] = task
        order.append(address)
      } catch {
        problems.append("task at 0x\(String(address, radix: 16)): \(error)")
      }
    }

    add(initTask)
    for idle in idleTasks { add(idle) }
    let processes = KernelList.nodes(from: initTask &+ UInt64(layout.tasks), in: memory)
    if let stop = processes.stop { problems.append("task list \(stop)") }
    for node in processes.elements {
      let process = node &- UInt64(layout.tasks)
      add(process)
      for thread in Self.threads(of: process, layout: layout, memory: memory, problems: &problems) {
        add(thread)
      }
    }
    tasks = order.compactMap { byAddress[$0] }.sorted {
      $0.pid != $1.pid ? $0.pid < $1.pid : $0.address < $1.address
    }
    self.problems = problems
  }

  /// The number of CPUs: `nr_cpu_ids` when readable, else the PRSTATUS count.
  static func cpuCount(session: KernelSession) -> Int {
    if let address = session.symbols.address(of: "nr_cpu_ids"),
      let count = try? session.memory.readInteger(UInt32.self, at: address), count > 0, count <= 8192
    {
      return Int(count)
    }
    return max(1, session.dump.prstatusNotes().count)
  }

  static func threads(
    of process: UInt64, layout: TaskLayout, memory: VirtualMemory, problems: inout [String]
  ) -> [UInt64] {
    if let node = layout.threadNode, let head = layout.threadHead {
      guard let signal = try? memory.readPointer(at: process &+ UInt64(layout.signal)), signal != 0
      else { return [] }
      let walk = KernelList.nodes(from: signal &+ UInt64(head), in: memory)
      if let stop = walk.stop { problems.append("threads of 0x\(String(process, radix: 16)) \(stop)") }
      return walk.elements.map { $0 &- UInt64(node) }
    }
    if let group = layout.threadGroup {
      let walk = KernelList.nodes(from: process &+ UInt64(group), in: memory)
      if let stop = walk.stop { problems.append("threads of 0x\(String(process, radix: 16)) \(stop)") }
      return walk.elements.map { $0 &- UInt64(group) }
    }
    return []
  }

  static func readTask(at address: UInt64, layout: TaskLayout, memory: VirtualMemory)
    throws(DumpError) -> KernelTask
  {
    func int32(_ offset: Int) throws(DumpError) -> Int32 {
      try memory.readInteger(Int32.self, at: address &+ UInt64(offset))
    }
    func word(_ offset: Int, _ size: Int) throws(DumpError) -> UInt64 {
      size == 8
        ? try memory.readInteger(UInt64.self, at: address &+ UInt64(offset))
        : UInt64(try memory.readInteger(UInt32.self, at: address &+ UInt64(offset)))
    }
    let commBytes = try memory.read(virtual: address &+ UInt64(layout.comm), count: layout.commLength)
    let parent = try memory.readPointer(at: address &+ UInt64(layout.realParent))
    var ppid: Int32 = 0
    if parent != 0, parent != address {
      ppid = (try? memory.readInteger(Int32.self, at: parent &+ UInt64(layout.pid))) ?? 0
    }
    return KernelTask(
      address: address, pid: try int32(layout.pid), tgid: try int32(layout.tgid), ppid: ppid,
      comm: String(decoding: commBytes.prefix { $0 != 0 }, as: UTF8.self),
      rawState: try word(layout.state, layout.stateSize),
      exitState: UInt64(UInt32(bitPattern: try int32(layout.exitState))),
      cpu: try layout.cpu.map { offset throws(DumpError) in Int(try int32(offset)) },
      activeOnCPU: nil, flags: try word(layout.flags, layout.flagsSize),
      mm: try memory.readPointer(at: address &+ UInt64(layout.mm)))
  }
}
