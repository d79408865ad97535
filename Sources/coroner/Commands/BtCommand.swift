import ArgumentParser
import DumpFormats
import LinuxKernel
import Reports

struct Bt: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print kernel backtraces as crash's bt does, from the dump alone.",
    discussion: """
      Without a task, the task that panicked; with PID (or a task_struct
      address in hex), that task; with --all, the task running on each CPU.
      Frames come from the kernel's ORC tables found in the dump. Exit status
      2 when a backtrace stopped before its end (the last line of it says
      why). Conventions and JSON keys: Docs/bt.md.
      """)

  @OptionGroup var options: DumpOptions
  @OptionGroup var debugInfo: DebugInfoArguments
  @Argument(help: "A pid, or a task_struct address in hex (0x…).")
  var task: String?
  @Flag(name: .shortAndLong, help: "The task running on each CPU at the crash (bt -a).")
  var all = false
  @Flag(help: "Print JSON (an object, or an array with --all; keys in Docs/bt.md).")
  var json = false
  @Flag(
    help: """
      Start tasks that were running from their CPU's saved registers (as drgn \
      does), not crash's stack search.
      """)
  var fromRegisters = false

  func validate() throws {
    if all && task != nil { throw ValidationError("give either a task or --all, not both.") }
  }

  func run() throws {
    let session = try openSession(options, debugInfo.options)
    let backtracer: Backtracer
    do {
      backtracer = try Backtracer(session: session)
    } catch {
      throw fail(error.inFile(options.dump))
    }
    let chosen: [KernelTask]
    if all {
      chosen = backtracer.activeTasks
      if chosen.isEmpty {
        throw fail(
          DumpError(
            .missingInformation, "no task is known to have been running on a CPU",
            file: options.dump))
      }
    } else if let task {
      chosen = try select(task, in: backtracer)
    } else {
      guard let panicTask = backtracer.panicTask else {
        throw fail(
          DumpError(
            .missingInformation,
            "cannot tell which task panicked (panic_cpu and crashing_cpu unset or unreadable); name a PID",
            file: options.dump))
      }
      chosen = [panicTask]
    }
    let traces = chosen.map {
      backtracer.backtrace(of: $0, policy: fromRegisters ? .registers : .crash)
    }
    if json {
      let value = all || traces.count > 1 ? BacktraceReport.json(traces) : BacktraceReport.json(traces[0])
      print(value.rendered())
    } else {
      print(BacktraceReport.text(traces), terminator: "")
    }
    var partial = false
    for problem in backtracer.problems {
      printError("coroner: \(options.dump): note: \(problem)")
    }
    for trace in traces {
      for problem in trace.problems {
        printError("coroner: \(options.dump): pid \(trace.task.pid): \(problem)")
      }
      if !trace.stop.isComplete && trace.stop != .noStack {
        printError("coroner: \(options.dump): partial: pid \(trace.task.pid): \(trace.stop)")
        partial = true
      }
    }
    if partial { throw ExitStatus.partial }
  }

  /// The tasks a PID or task address names.
  func select(_ text: String, in backtracer: Backtracer) throws -> [KernelTask] {
    if text.hasPrefix("0x") || text.count > 10 {
      let digits = text.hasPrefix("0x") ? String(text.dropFirst(2)) : text
      guard let address = UInt64(digits, radix: 16) else {
        throw ValidationError("\(text) is neither a pid nor a task address.")
      }
      guard let found = backtracer.tasks.tasks.first(where: { $0.address == address }) else {
        throw fail(DumpError(.missingInformation, "no task at \(text)", file: options.dump))
      }
      return [found]
    }
    guard let pid = Int32(text) else {
      throw ValidationError("\(text) is neither a pid nor a task address.")
    }
    let found = backtracer.tasks(withPID: pid)
    if found.isEmpty {
      throw fail(DumpError(.missingInformation, "no task with pid \(pid)", file: options.dump))
    }
    return found
  }
}
