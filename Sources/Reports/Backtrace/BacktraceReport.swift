import LinuxKernel

/// Renders kernel backtraces as crash's `bt` does, and as JSON.
public enum BacktraceReport {
  /// crash's task header: `PID: 118      TASK: ffff…  CPU: 1    COMMAND: "…"`.
  public static func header(_ trace: Backtrace) -> String {
    "PID: " + padRight(String(trace.task.pid), 7) + "  TASK: " + hex(trace.task.address)
      + "  CPU: " + padRight(trace.cpu.map(String.init) ?? "-", 3) + "  COMMAND: \""
      + trace.task.comm + "\""
  }

  /// One backtrace as crash prints it: the header, `#N [stack] function at
  /// address` per frame, the registers of exception and syscall frames, a
  /// `--- <NMI exception stack> ---` line where the walk leaves an IRQ or
  /// exception stack, and `(no stack)` for a task without one. A walk that
  /// stopped early ends with a `(stopped: …)` line.
  public static func text(_ trace: Backtrace) -> String {
    var lines = [header(trace)]
    if trace.stop == .noStack {
      lines.append("(no stack)")
      return lines.joined(separator: "\n") + "\n"
    }
    for exception in trace.exceptionFrames where exception.afterFrame < 0 {
      lines += registerLines(exception)
    }
    for (position, frame) in trace.frames.enumerated() {
      let number = "#\(frame.index)"
      var line =
        (frame.index < 10 ? " " : "") + number + " [" + hex(frame.stackAddress) + "] "
        + (frame.function ?? "(unknown)") + " at " + hex(frame.address)
      if let module = frame.module { line += " [\(module)]" }
      lines.append(line)
      for exception in trace.exceptionFrames where exception.afterFrame == position {
        lines += registerLines(exception)
      }
      if position + 1 < trace.frames.count, let stack = frame.stack,
        trace.frames[position + 1].stack != stack,
        let label = StackRegion(kind: stack, range: 0..<0).label
      {
        lines.append("--- <\(label)> ---")
      }
    }
    if !trace.stop.isComplete {
      lines.append("    (\(trace.stop))")
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// Several backtraces separated by blank lines (crash's `bt -a`).
  public static func text(_ traces: [Backtrace]) -> String {
    traces.map { text($0) }.joined(separator: "\n")
  }

  /// The register block of an exception frame, as crash prints it: a
  /// `pt_regs` with its `ORIG_RAX`, or a CPU's saved registers (a PRSTATUS
  /// note) without it.
  static func registerLines(_ exception: ExceptionFrame) -> [String] {
    let r = exception.registers
    let fromNote = exception.address == nil
    var lines: [String] = []
    if !exception.isUserMode {
      var location = "unknown or invalid address"
      if let function = exception.function {
        location = function
        if let offset = exception.offset, offset != 0 { location += "+\(offset)" }
      }
      lines.append("    [exception RIP: \(location)]")
    } else if fromNote {
      lines.append("    [exception RIP: user space]")
    }
    lines.append(
      "    RIP: \(hex16(r.rip))  RSP: \(hex16(r.rsp))  RFLAGS: \(hex(r.rflags, width: 8))")
    if exception.isPartial {
      lines.append("    CS: \(hex(r.cs, width: 4))  SS: \(hex(r.ss, width: 4))  (iret frame only)")
      return lines
    }
    lines.append("    RAX: \(hex16(r.rax))  RBX: \(hex16(r.rbx))  RCX: \(hex16(r.rcx))")
    lines.append("    RDX: \(hex16(r.rdx))  RSI: \(hex16(r.rsi))  RDI: \(hex16(r.rdi))")
    lines.append("    RBP: \(hex16(r.rbp))   R8: \(hex16(r.r8))   R9: \(hex16(r.r9))")
    lines.append("    R10: \(hex16(r.r10))  R11: \(hex16(r.r11))  R12: \(hex16(r.r12))")
    lines.append("    R13: \(hex16(r.r13))  R14: \(hex16(r.r14))  R15: \(hex16(r.r15))")
    if fromNote {
      lines.append("    CS: \(hex(r.cs & 0xffff, width: 4))  SS: \(hex(r.ss & 0xffff, width: 4))")
    } else {
      lines.append(
        "    ORIG_RAX: \(hex16(r.origRax))  CS: \(hex(r.cs, width: 4))  SS: \(hex(r.ss, width: 4))")
    }
    return lines
  }

  // MARK: JSON

  /// One backtrace as a JSON object; keys in Docs/bt.md.
  public static func json(_ trace: Backtrace) -> JSONValue {
    .object([
      ("pid", .int(Int64(trace.task.pid))),
      ("task", .string(address(trace.task.address))),
      ("cpu", .optional(trace.cpu) { .int(Int64($0)) }),
      ("comm", .string(trace.task.comm)),
      ("start", start(trace.start)),
      ("frames", .array(trace.frames.map(frame))),
      ("exceptionFrames", .array(trace.exceptionFrames.map(exceptionFrame))),
      ("complete", .bool(trace.stop.isComplete)),
      ("stop", .string(trace.stop.description)),
      ("problems", .array(trace.problems.map { .string($0) })),
    ])
  }

  /// Several backtraces as a JSON array.
  public static func json(_ traces: [Backtrace]) -> JSONValue {
    .array(traces.map { json($0) })
  }

  static func frame(_ frame: BacktraceFrame) -> JSONValue {
    .object([
      ("function", .optional(frame.function) { .string($0) }),
      ("offset", .optional(frame.offset) { .unsigned($0) }),
      ("size", .optional(frame.size) { .unsigned($0) }),
      ("symbol", .string(frame.symbolic)),
      ("address", .string(address(frame.address))),
      ("stackAddress", .string(address(frame.stackAddress))),
      ("module", .optional(frame.module) { .string($0) }),
      ("stack", .optional(frame.stack) { .string(stackName($0)) }),
      ("origin", .string(origin(frame.origin))),
    ])
  }

  static func exceptionFrame(_ exception: ExceptionFrame) -> JSONValue {
    .object([
      ("afterFrame", .int(Int64(exception.afterFrame))),
      ("address", .optional(exception.address) { .string(address($0)) }),
      ("userMode", .bool(exception.isUserMode)),
      ("partial", .bool(exception.isPartial)),
      ("function", .optional(exception.function) { .string($0) }),
      ("offset", .optional(exception.offset) { .unsigned($0) }),
      ("module", .optional(exception.module) { .string($0) }),
      ("stack", .optional(exception.stack) { .string(stackName($0)) }),
      (
        "registers",
        .object(
          exception.registers.named.map { ($0.name, .string(address($0.value))) })
      ),
    ])
  }

  static func start(_ start: Backtrace.Start) -> JSONValue {
    switch start {
    case .switchFrame(let frame):
      return .object([("kind", .string("switchFrame")), ("address", .string(address(frame)))])
    case .stackSearch(let function, let stackAddress):
      return .object([
        ("kind", .string("stackSearch")), ("function", .string(function)),
        ("stackAddress", .string(address(stackAddress))),
      ])
    case .registers(let cpu):
      return .object([("kind", .string("registers")), ("cpu", .int(Int64(cpu)))])
    case .none:
      return .object([("kind", .string("none"))])
    }
  }

  static func stackName(_ kind: StackRegion.Kind) -> String {
    switch kind {
    case .task: return "task"
    case .irq: return "irq"
    case .exception(let name): return name
    }
  }

  static func origin(_ origin: BacktraceFrame.Origin) -> String {
    switch origin {
    case .start: return "start"
    case .orc: return "orc"
    case .framePointer: return "framePointer"
    case .prologue: return "prologue"
    case .interrupted: return "interrupted"
    }
  }

  // MARK: Formatting

  static func address(_ value: UInt64) -> String { "0x" + String(value, radix: 16) }
  static func hex(_ value: UInt64) -> String { String(value, radix: 16) }
  static func hex16(_ value: UInt64) -> String { hex(value, width: 16) }
  static func hex(_ value: UInt64, width: Int) -> String {
    let digits = String(value, radix: 16)
    return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
  }
  static func padRight(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
  }
}
