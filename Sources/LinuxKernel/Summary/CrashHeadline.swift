/// What the kernel log says happened: the first oops-class report of the
/// boot and the panic message, classified in the families syzbot and ABRT
/// use to group kernel crashes.
public struct CrashHeadline: Sendable, Equatable {
  public enum Kind: String, Sendable, CaseIterable {
    case nullPointerDereference = "null-pointer-dereference"
    case pagingRequest = "paging-request"
    case generalProtectionFault = "general-protection-fault"
    case kernelBug = "kernel-bug"
    case warning = "warning"
    case softLockup = "soft-lockup"
    case hardLockup = "hard-lockup"
    case hungTask = "hung-task"
    case outOfMemory = "out-of-memory"
    case rcuStall = "rcu-stall"
    case divideError = "divide-error"
    case invalidOpcode = "invalid-opcode"
    case machineCheck = "machine-check"
    case sysrq = "sysrq"
    case panic = "panic"
  }

  public var kind: Kind
  /// The log line the kind was read from.
  public var line: String
  /// The text after "Kernel panic - not syncing: ", when the log has one
  /// (an oops handed straight to kdump has none).
  public var panicMessage: String?

  /// The report's first line's prefix for each family, most specific first.
  static let patterns: [(prefix: String, kind: Kind)] = [
    ("BUG: kernel NULL pointer dereference", .nullPointerDereference),
    ("BUG: unable to handle page fault", .pagingRequest),
    ("BUG: unable to handle kernel paging request", .pagingRequest),
    ("BUG: unable to handle kernel NULL pointer dereference", .nullPointerDereference),
    ("general protection fault", .generalProtectionFault),
    ("kernel BUG at", .kernelBug),
    ("watchdog: BUG: soft lockup", .softLockup),
    ("BUG: soft lockup", .softLockup),
    ("watchdog: Watchdog detected hard LOCKUP", .hardLockup),
    ("Watchdog detected hard LOCKUP", .hardLockup),
    ("rcu: INFO: rcu_preempt detected stalls", .rcuStall),
    ("rcu: INFO: rcu_sched detected stalls", .rcuStall),
    ("INFO: rcu_sched self-detected stall", .rcuStall),
    ("divide error:", .divideError),
    ("Oops: divide error", .divideError),
    ("invalid opcode:", .invalidOpcode),
    ("Oops: invalid opcode", .invalidOpcode),
    ("mce: [Hardware Error]", .machineCheck),
    ("WARNING:", .warning),
  ]

  /// Reads the headline from the log's lines (oldest first).
  public init?(lines: [String]) {
    var panic: String?
    let panicPrefix = "Kernel panic - not syncing: "
    for line in lines.reversed() where line.hasPrefix(panicPrefix) {
      panic = String(line.dropFirst(panicPrefix.count))
      break
    }
    for line in lines {
      if line.hasPrefix("INFO: task "), Self.contains(line, " blocked for more than ") {
        self.init(kind: .hungTask, line: line, panicMessage: panic)
        return
      }
      if line.hasPrefix("Out of memory") || Self.contains(line, "invoked oom-killer:") {
        self.init(kind: .outOfMemory, line: line, panicMessage: panic)
        return
      }
      if let match = Self.patterns.first(where: { line.hasPrefix($0.prefix) }) {
        self.init(kind: match.kind, line: line, panicMessage: panic)
        return
      }
    }
    guard let panic else { return nil }
    let kind: Kind =
      panic.hasPrefix("sysrq triggered crash") ? .sysrq
      : panic.contains("Out of memory") || panic.contains("out of memory") ? .outOfMemory
      : panic.hasPrefix("hung_task") ? .hungTask
      : panic.hasPrefix("softlockup") ? .softLockup
      : panic.hasPrefix("Hard LOCKUP") ? .hardLockup
      : .panic
    self.init(kind: kind, line: "Kernel panic - not syncing: " + panic, panicMessage: panic)
  }

  /// Whether `text` contains `pattern`, comparing UTF-8 bytes (the log is
  /// hundreds of lines; the string-processing search is far slower).
  static func contains(_ text: String, _ pattern: String) -> Bool {
    let haystack = Array(text.utf8)
    let needle = Array(pattern.utf8)
    guard let first = needle.first, needle.count <= haystack.count else { return false }
    var index = 0
    while index + needle.count <= haystack.count {
      if haystack[index] == first, haystack[index..<(index + needle.count)].elementsEqual(needle) {
        return true
      }
      index += 1
    }
    return false
  }

  public init(kind: Kind, line: String, panicMessage: String?) {
    self.kind = kind
    self.line = line
    self.panicMessage = panicMessage
  }
}
