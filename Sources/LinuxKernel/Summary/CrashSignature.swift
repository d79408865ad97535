/// A crash signature: a readable title and a short hash that stay the same
/// for the same bug on another boot, build or container of the dump, so a
/// pipeline can group dumps by bug. Docs/signature.md says what goes in.
///
/// Version 1: the headline's family, then the first three frames of the
/// crashing context after the panic, oops, exception, interrupt and printk
/// machinery is skipped (names cut at the first "." so `.cold`/`.isra.N`
/// go; syscall wrappers' prefixes stripped; no addresses, offsets, module
/// load addresses, kernel release or taint).
public struct CrashSignature: Sendable, Equatable {
  public static let version = 1
  public var kind: CrashHeadline.Kind
  /// "kernel BUG in foo", "general protection fault in bar", "sysrq crash in
  /// sysrq_handle_crash"…
  public var title: String
  /// The normalised frames that were hashed, outermost last.
  public var frames: [String]
  /// The module of the key frame, when it lies in one.
  public var module: String?
  /// 16 hex digits of SHA-256 over "v1|kind|frame|frame|frame".
  public var hash: String

  /// The frames that describe the mechanism of crashing, not the bug.
  static let machinery: Set<String> = [
    "machine_kexec", "__crash_kexec", "crash_kexec", "panic", "vpanic", "nmi_panic",
    "oops_end", "die", "__die", "die_addr", "do_trap", "do_error_trap", "handle_bug",
    "report_bug", "__warn", "warn_slowpath_fmt", "__warn_printk", "dump_stack", "dump_stack_lvl",
    "show_stack", "show_trace_log_lvl", "printk", "_printk", "vprintk", "vprintk_emit",
    "vprintk_default", "page_fault_oops", "kernelmode_fixup_or_oops", "__bad_area_nosemaphore",
    "bad_area_nosemaphore", "do_user_addr_fault", "do_kern_addr_fault", "handle_page_fault",
    "no_context", "spurious_kernel_fault", "watchdog_timer_fn", "__hrtimer_run_queues",
    "hrtimer_interrupt", "__sysvec_apic_timer_interrupt", "irq_exit_rcu", "__irq_exit_rcu",
    "check_hung_uninterruptible_tasks", "watchdog", "out_of_memory", "oom_kill_process",
    "dump_header", "crash_setup_regs",
  ]

  static let wrapperPrefixes = ["__x64_sys_", "__ia32_sys_", "__se_sys_", "__do_sys_", "__arm64_sys_"]

  /// Normalises one frame's function name, or nil when it is machinery.
  static func normalise(_ function: String) -> String? {
    var name = function
    if let dot = name.firstIndex(of: ".") { name = String(name[..<dot]) }
    if name.hasPrefix("asm_exc_") || name.hasPrefix("exc_") || name.hasPrefix("asm_sysvec_")
      || name.hasPrefix("sysvec_") || name.hasPrefix("asm_common_interrupt")
      || machinery.contains(name)
    {
      return nil
    }
    for prefix in wrapperPrefixes where name.hasPrefix(prefix) {
      name = "sys_" + name.dropFirst(prefix.count)
    }
    return name
  }

  /// Builds the signature from the headline and the crashing context's
  /// functions (innermost first), each with its module if any.
  public init(headline: CrashHeadline, frames: [(function: String, module: String?)]) {
    kind = headline.kind
    var kept: [(String, String?)] = []
    for frame in frames {
      guard let name = Self.normalise(frame.function) else { continue }
      if kept.last?.0 == name { continue }
      kept.append((name, frame.module))
      if kept.count == 3 { break }
    }
    self.frames = kept.map(\.0)
    module = kept.first?.1
    let place = kept.first.map { " in " + $0.0 } ?? ""
    switch headline.kind {
    case .nullPointerDereference: title = "BUG: kernel NULL pointer dereference" + place
    case .pagingRequest: title = "BUG: unable to handle kernel paging request" + place
    case .generalProtectionFault: title = "general protection fault" + place
    case .kernelBug: title = "kernel BUG" + place
    case .warning: title = "WARNING" + place
    case .softLockup: title = "BUG: soft lockup" + place
    case .hardLockup: title = "hard LOCKUP" + place
    case .hungTask: title = "INFO: task hung" + place
    case .outOfMemory: title = "out of memory" + place
    case .rcuStall: title = "INFO: rcu stall" + place
    case .divideError: title = "divide error" + place
    case .invalidOpcode: title = "invalid opcode" + place
    case .machineCheck: title = "machine check" + place
    case .sysrq: title = "sysrq crash" + place
    case .panic: title = "kernel panic: " + Self.sanitise(headline.panicMessage ?? headline.line)
    }
    let material = (["v\(Self.version)", kind.rawValue] + self.frames).joined(separator: "|")
    hash = String(SHA256.hex(Array(material.utf8)).prefix(16))
  }

  /// Numbers and hex in a panic message become NUM and ADDR, so messages
  /// that differ only by them group together.
  static func sanitise(_ message: String) -> String {
    var output = ""
    var token = ""
    func flush() {
      if token.isEmpty { return }
      if token.hasPrefix("0x") || (token.count >= 8 && token.allSatisfy(\.isHexDigit)) {
        output += "ADDR"
      } else if token.allSatisfy(\.isNumber) {
        output += "NUM"
      } else {
        output += token
      }
      token = ""
    }
    for character in message.prefix(120) {
      if character.isLetter || character.isNumber || character == "_" {
        token.append(character)
      } else {
        flush()
        output.append(character)
      }
    }
    flush()
    return output
  }
}
