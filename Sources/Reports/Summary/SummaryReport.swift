import LinuxKernel

/// Renders a `CrashSummary` as text, Markdown or JSON (keys in
/// Docs/summary.md).
public enum SummaryReport {
  public enum Format: String, CaseIterable, Sendable {
    case text, markdown, json
  }

  public static func render(_ summary: CrashSummary, format: Format) -> String {
    switch format {
    case .text: return text(summary)
    case .markdown: return markdown(summary)
    case .json: return json(summary).rendered() + "\n"
    }
  }

  static func facts(_ summary: CrashSummary) -> [(String, String)] {
    var rows: [(String, String)] = []
    rows.append(("Kernel", [summary.release, summary.version].compactMap { $0 }.joined(separator: " ")))
    rows.append(("Machine", [summary.machine, summary.nodeName.map { "node \($0)" }, summary.cpus.map { "\($0) CPUs" }].compactMap { $0 }.joined(separator: ", ")))
    if let memory = summary.memory {
      var text = megabytes(memory.total) + " managed"
      if let free = memory.free { text += ", " + megabytes(free) + " free" }
      rows.append(("Memory", text))
    }
    if let uptime = summary.uptimeNs { rows.append(("Uptime", duration(uptime))) }
    if let time = summary.crashTime { rows.append(("Crash time", UTCDate.format(time))) }
    if let headline = summary.headline {
      rows.append(("Cause", headline.line))
      rows.append(("Panic", headline.panicMessage ?? "(no panic line: the oops went straight to kdump)"))
    }
    if let cpu = summary.panicCPU { rows.append(("Crashed CPU", String(cpu))) }
    if let task = summary.panicTask {
      rows.append(("Crashed task", "pid \(task.pid) \"\(task.comm)\" (task 0x\(String(task.address, radix: 16)))"))
    }
    if let taint = summary.taint {
      rows.append(("Tainted", taint.mask == 0 ? "no" : "\(taint.letters) (\(taint.descriptions.joined(separator: "; ")))"))
    }
    if let signature = summary.signature {
      rows.append(("Signature", "\(signature.hash)  \(signature.title)"))
    }
    if let count = summary.taskCount { rows.append(("Tasks", "\(count), \(summary.blockedTasks.count) in D state")) }
    return rows
  }

  public static func text(_ summary: CrashSummary) -> String {
    var out = "CRASH SUMMARY\n"
    for (label, value) in facts(summary) {
      out += (label + ":").padding(toLength: 14) + value + "\n"
    }
    if let trace = summary.backtrace {
      out += "\nBACKTRACE (crashed task)\n"
      for frame in trace.frames { out += "  #\(frame.index) \(frame.symbolic)\n" }
      for exception in trace.exceptionFrames where !exception.isUserMode {
        if let function = exception.function { out += "  exception RIP: \(function)\n" }
      }
    }
    if !summary.blockedTasks.isEmpty {
      out += "\nTASKS IN D STATE\n"
      for task in summary.blockedTasks { out += "  \(task.pid) \(task.comm)\n" }
    }
    if !summary.modules.isEmpty {
      out += "\nMODULES (\(summary.modules.count))\n"
      for module in summary.modules {
        var line = "  \(module.name) \(module.size)"
        if let taints = module.taints, taints != 0 { line += " taint " + TaintFlags(mask: taints).letters }
        out += line + "\n"
      }
    }
    out += "\nLAST \(summary.lastLogLines.count) LOG LINES\n"
    for line in summary.lastLogLines { out += line + "\n" }
    if !summary.problems.isEmpty {
      out += "\nNOT AVAILABLE\n"
      for problem in summary.problems { out += "  " + problem + "\n" }
    }
    return out
  }

  public static func markdown(_ summary: CrashSummary) -> String {
    var out = "# Crash summary\n\n| | |\n|---|---|\n"
    for (label, value) in facts(summary) {
      out += "| \(label) | \(value.replacingAll("|", with: "\\|")) |\n"
    }
    if let trace = summary.backtrace {
      out += "\n## Backtrace of the crashed task\n\n```\n"
      for frame in trace.frames { out += "#\(frame.index) \(frame.symbolic)\n" }
      out += "```\n"
    }
    if !summary.blockedTasks.isEmpty {
      out += "\n## Tasks in D state\n\n"
      for task in summary.blockedTasks { out += "- \(task.pid) `\(task.comm)`\n" }
    }
    if !summary.modules.isEmpty {
      out += "\n## Modules\n\n"
      for module in summary.modules { out += "- `\(module.name)` (\(module.size) bytes)\n" }
    }
    out += "\n## Last \(summary.lastLogLines.count) log lines\n\n```\n"
    for line in summary.lastLogLines { out += line + "\n" }
    out += "```\n"
    if !summary.problems.isEmpty {
      out += "\n## Not available\n\n"
      for problem in summary.problems { out += "- \(problem)\n" }
    }
    return out
  }

  public static func json(_ summary: CrashSummary) -> JSONValue {
    .object([
      ("kernelRelease", .optional(summary.release) { .string($0) }),
      ("kernelVersion", .optional(summary.version) { .string($0) }),
      ("machine", .optional(summary.machine) { .string($0) }),
      ("nodeName", .optional(summary.nodeName) { .string($0) }),
      ("cpus", .optional(summary.cpus) { .int(Int64($0)) }),
      ("crashTime", .optional(summary.crashTime) { .int($0) }),
      ("uptimeNs", .optional(summary.uptimeNs) { .unsigned($0) }),
      ("cause", .optional(summary.headline) { .object([("kind", .string($0.kind.rawValue)), ("line", .string($0.line))]) }),
      ("panicMessage", .optional(summary.headline?.panicMessage) { .string($0) }),
      ("crashingCPU", .optional(summary.panicCPU) { .int(Int64($0)) }),
      (
        "crashingTask",
        .optional(summary.panicTask) {
          .object([("pid", .int(Int64($0.pid))), ("comm", .string($0.comm)), ("task", .string("0x" + String($0.address, radix: 16)))])
        }
      ),
      (
        "backtrace",
        .optional(summary.backtrace) { trace in
          .array(trace.frames.map { frame in
            .object([
              ("function", .optional(frame.function) { .string($0) }),
              ("offset", .optional(frame.offset) { .unsigned($0) }),
              ("size", .optional(frame.size) { .unsigned($0) }),
              ("module", .optional(frame.module) { .string($0) }),
            ])
          })
        }
      ),
      (
        "signature",
        .optional(summary.signature) { signature in
          .object([
            ("version", .int(Int64(CrashSignature.version))),
            ("hash", .string(signature.hash)),
            ("title", .string(signature.title)),
            ("kind", .string(signature.kind.rawValue)),
            ("frames", .array(signature.frames.map { .string($0) })),
            ("module", .optional(signature.module) { .string($0) }),
          ])
        }
      ),
      (
        "taint",
        .optional(summary.taint) { taint in
          .object([("mask", .unsigned(taint.mask)), ("letters", .string(taint.letters)), ("flags", .array(taint.descriptions.map { .string($0) }))])
        }
      ),
      (
        "memory",
        .optional(summary.memory) { memory in
          .object([("totalBytes", .unsigned(memory.total)), ("freeBytes", .optional(memory.free) { .unsigned($0) })])
        }
      ),
      ("tasks", .optional(summary.taskCount) { .int(Int64($0)) }),
      ("blockedTasks", .array(summary.blockedTasks.map { .object([("pid", .int(Int64($0.pid))), ("comm", .string($0.comm))]) })),
      ("modules", .array(summary.modules.map { .object([("name", .string($0.name)), ("size", .unsigned($0.size)), ("taints", .optional($0.taints) { .unsigned($0) })]) })),
      ("log", .array(summary.lastLogLines.map { .string($0) })),
      ("problems", .array(summary.problems.map { .string($0) })),
    ])
  }

  static func megabytes(_ bytes: UInt64) -> String {
    let tenths = bytes * 10 / (1 << 20)
    return "\(tenths / 10).\(tenths % 10) MiB"
  }

  /// "H:MM:SS (S.mmm s)" from nanoseconds.
  static func duration(_ nanoseconds: UInt64) -> String {
    let milliseconds = nanoseconds / 1_000_000
    let whole = Int(milliseconds / 1000)
    let text = "\(whole / 3600):" + two((whole / 60) % 60) + ":" + two(whole % 60)
    return text + " (\(whole).\(three(Int(milliseconds % 1000))) s)"
  }

  static func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
  static func three(_ value: Int) -> String { String(repeating: "0", count: 3 - String(value).count) + String(value) }
}

extension String {
  func replacingAll(_ target: Character, with replacement: String) -> String {
    var out = ""
    for character in self { if character == target { out += replacement } else { out.append(character) } }
    return out
  }
}
