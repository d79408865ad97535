import AddressTranslation
import DebugInfo
import DumpFormats

/// The report a support engineer attaches to a ticket: what the kernel
/// was, when and why it crashed, where, the end of its log, the blocked
/// tasks, memory, taint and modules, and a signature to group dumps by bug.
///
/// Each part is read on its own; a part that cannot be read is left out
/// and named in `problems`, the rest is still reported.
public struct CrashSummary {
  public var release: String?
  public var version: String?
  public var machine: String?
  public var nodeName: String?
  public var cpus: Int?
  public var crashTime: Int64?
  /// Nanoseconds from boot to the crash: the timestamp of the last log
  /// record (the kernel's local clock, as printk stamps it).
  public var uptimeNs: UInt64?
  public var headline: CrashHeadline?
  public var panicCPU: Int?
  public var panicTask: KernelTask?
  public var backtrace: Backtrace?
  public var signature: CrashSignature?
  public var lastLogLines: [String] = []
  public var blockedTasks: [KernelTask] = []
  public var taint: TaintFlags?
  public var memory: MemoryTotals?
  public var modules: [KernelModule] = []
  public var taskCount: Int?
  public var problems: [String] = []

  /// Memory figures in bytes.
  public struct MemoryTotals: Sendable, Equatable {
    /// `totalram_pages`: RAM the page allocator manages.
    public var total: UInt64
    /// Free pages (`vm_zone_stat[NR_FREE_PAGES]`), when readable.
    public var free: UInt64?
  }

  /// How many log lines the summary keeps.
  public static let logLines = 50

  public init(session: KernelSession) {
    let vmcoreinfo = session.vmcoreinfo
    release = vmcoreinfo.osRelease
    crashTime = vmcoreinfo.crashTime
    do {
      let uts = try UTSName.read(from: session.dump.memory, vmcoreinfo: vmcoreinfo)
      release = release ?? uts.release
      version = uts.version
      machine = uts.machine
      nodeName = uts.nodeName
    } catch {
      problems.append("utsname: \(error)")
    }

    // The log: headline, uptime, last lines.
    var logLines: [String] = []
    do {
      let log = try KernelLog.read(from: session.memory, vmcoreinfo: vmcoreinfo)
      let messages = log.messages
      logLines = messages.flatMap { record in
        String(decoding: record.text, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
          .map(String.init)
      }
      uptimeNs = messages.last?.timestampNs
      // Records may hold several lines: take enough records, keep the
      // last lines.
      let tail = log.suffix(messages: Self.logLines)
      lastLogLines = Array(
        String(decoding: tail.vmcoreDmesgText(), as: UTF8.self)
          .split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
          .suffix(Self.logLines))
      problems += log.problems.map { "log: \($0)" }
    } catch {
      problems.append("log: \(error)")
    }
    headline = CrashHeadline(lines: logLines)

    // The modules, read once: the report lists them, backtraces name their
    // frames.
    do {
      let list = try ModuleList(session: session)
      modules = list.modules
      problems += list.problems.map { "modules: \($0)" }
    } catch {
      problems.append("modules: \(error)")
    }

    // Tasks, the panic task and its backtrace.
    do {
      let tasks = try TaskList(session: session)
      taskCount = tasks.tasks.count
      blockedTasks = tasks.tasks.filter { $0.shortState == "UN" }
      cpus = TaskList.cpuCount(session: session)
      problems += tasks.problems.map { "tasks: \($0)" }
      let tracer = try Backtracer(session: session, tasks: tasks, modules: modules)
      panicCPU = tracer.panicCPU
      panicTask = tracer.panicTask
      if let task = tracer.panicTask {
        let trace = tracer.backtrace(of: task)
        backtrace = trace
        if let headline {
          signature = CrashSignature(headline: headline, frames: Self.crashingContext(trace))
        }
      } else {
        problems.append("the panic task is unknown (no panic_cpu, or no task running on it)")
      }
    } catch {
      problems.append("tasks: \(error)")
    }
    if signature == nil, let headline {
      signature = CrashSignature(headline: headline, frames: [])
    }

    // Taint and memory.
    if let address = session.symbols.address(of: "tainted_mask") {
      do {
        taint = TaintFlags(mask: try session.memory.readPointer(at: address))
      } catch {
        problems.append("taint: \(error)")
      }
    } else {
      problems.append("taint: no tainted_mask symbol")
    }
    memory = Self.memoryTotals(session: session, problems: &problems)
  }

  /// The functions of the context that crashed, innermost first: after a
  /// kernel-mode exception frame (an oops), the interrupted function and
  /// the frames below it; otherwise every frame.
  static func crashingContext(_ trace: Backtrace) -> [(function: String, module: String?)] {
    if let exception = trace.exceptionFrames.first(where: { !$0.isUserMode && $0.function != nil }),
      let function = exception.function
    {
      let rest = trace.frames.filter { $0.index > exception.afterFrame }
      return [(function, exception.module)] + rest.compactMap { frame in
        frame.function.map { ($0, frame.module) }
      }
    }
    return trace.frames.compactMap { frame in frame.function.map { ($0, frame.module) } }
  }

  static func memoryTotals(session: KernelSession, problems: inout [String]) -> MemoryTotals? {
    let pageSize = UInt64(session.dump.memory.pageSize)
    guard let totalAddress = session.symbols.address(of: "_totalram_pages")
      ?? session.symbols.address(of: "totalram_pages")
    else {
      problems.append("memory: no totalram_pages symbol")
      return nil
    }
    do {
      let total = try session.memory.readPointer(at: totalAddress) &* pageSize
      var free: UInt64?
      if let stats = session.symbols.address(of: "vm_zone_stat") {
        let index = UInt64(max(0, session.vmcoreinfo.numbers["NR_FREE_PAGES"] ?? 0))
        free = (try? session.memory.readPointer(at: stats &+ index &* 8)).map { $0 &* pageSize }
      }
      return MemoryTotals(total: total, free: free)
    } catch {
      problems.append("memory: \(error)")
      return nil
    }
  }
}
