import LinuxKernel

/// Renders a task list as crash's `ps` does, and as JSON.
public enum TaskReport {
  /// A crash-like table: `>` marks the tasks running on a CPU at the crash,
  /// kernel threads' names are in brackets.
  public static func text(_ list: TaskList) -> String {
    var lines = ["   PID    PPID   TGID  CPU       TASK        ST  COMM"]
    for task in list.tasks {
      let marker = task.activeOnCPU != nil ? ">" : " "
      let cpu = task.cpu.map(String.init) ?? "-"
      let name = task.isKernelThread ? "[\(task.comm)]" : task.comm
      lines.append(
        marker + pad(String(task.pid), 5) + "  " + pad(String(task.ppid), 6) + " "
          + pad(String(task.tgid), 6) + "  " + pad(cpu, 3) + "  "
          + pad(String(task.address, radix: 16), 16) + "  " + task.shortState + "  " + name)
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// One object per task; keys documented in Docs/ps.md.
  public static func json(_ list: TaskList) -> JSONValue {
    .array(
      list.tasks.map { task in
        .object([
          ("pid", .int(Int64(task.pid))),
          ("tgid", .int(Int64(task.tgid))),
          ("ppid", .int(Int64(task.ppid))),
          ("state", .string(task.shortState)),
          ("rawState", .unsigned(task.rawState)),
          ("exitState", .unsigned(task.exitState)),
          ("cpu", .optional(task.cpu) { .int(Int64($0)) }),
          ("running", .bool(task.activeOnCPU != nil)),
          ("comm", .string(task.comm)),
          ("kernelThread", .bool(task.isKernelThread)),
          ("task", .string("0x" + String(task.address, radix: 16))),
        ])
      })
  }

  static func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
  }
}
