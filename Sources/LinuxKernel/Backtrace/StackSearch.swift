import AddressTranslation
import DebugInfo
import DumpFormats

/// crash's search for where to start the backtrace of a task that was
/// running on a CPU when the dump was taken (its x86-64
/// `get_dumpfile_stack_frame`), so that frame #0 is the one crash shows.
///
/// The stacks are read in order — the task's own, then the CPU's IRQ stack,
/// then its exception stacks — each from its lowest address up, and each
/// word is named by the symbol that contains it:
///
/// - `machine_kexec` (and the old dump hooks `crash_kexec`,
///   `try_crashdump`, `disk_dump`, `start_disk_dump`, `netconsole_netdump`,
///   `netpoll_start_netdump`) ends the search at once. `crash_kexec` does
///   only when the instruction before it calls `machine_kexec`; otherwise the
///   first such word is kept and a second one ends the search.
/// - `panic` is kept (the last one wins) while the search goes on for `die`,
///   which ends it unless `sysrq_handle_crash` comes later on that stack.
/// - For any task but the panicking one: `crash_nmi_callback` (a CPU stopped
///   by the crash NMI) ends the search; `smp_call_function_interrupt` and
///   `stop_this_cpu` on the IRQ or exception stacks, `notify_die` on the NMI
///   stack and `cpu_idle` on an idle task's own stack are kept as last
///   resorts.
///
/// After each stack a kept `panic`, then a kept `crash_kexec`, is the
/// answer; after all stacks, `sysrq_handle_crash`, then `notify_die`. The
/// caller falls back to the PRSTATUS registers, and only after those should
/// use `lastResort`.
struct StackSearch {
  /// A word the search settled on.
  struct Hit: Equatable {
    var function: String
    /// The word's value: a text address.
    var value: UInt64
    /// Where it lies.
    var stackAddress: UInt64
  }

  var memory: VirtualMemory
  var symbols: SymbolSource
  var regions: [StackRegion]
  var isPanicTask: Bool
  var isIdleTask: Bool

  /// Names that end the search at once.
  static let dumpHooks: Set<String> = [
    "netconsole_netdump", "netpoll_start_netdump", "start_disk_dump", "disk_dump",
    "crash_kexec", "machine_kexec", "try_crashdump",
  ]

  /// `smp_call_function_interrupt`/`stop_this_cpu` or `cpu_idle` hits, for
  /// after the registers.
  private(set) var lastResort: Hit?

  init(
    memory: VirtualMemory, symbols: SymbolSource, regions: [StackRegion], isPanicTask: Bool,
    isIdleTask: Bool
  ) {
    self.memory = memory
    self.symbols = symbols
    self.regions = regions
    self.isPanicTask = isPanicTask
    self.isIdleTask = isIdleTask
  }

  /// The named words of a stack, lowest first; unreadable pages are skipped.
  func words(of region: StackRegion) -> [(address: UInt64, value: UInt64, function: String)] {
    var found: [(UInt64, UInt64, String)] = []
    var page = region.range.lowerBound
    let pageSize: UInt64 = 4096
    // A stack is at most a few pages; bound the walk anyway.
    for _ in 0..<256 where page < region.range.upperBound {
      let end = min((page & ~(pageSize - 1)) &+ pageSize, region.range.upperBound)
      guard end > page else { break }
      if let bytes = try? memory.read(virtual: page, count: Int(end - page)) {
        var offset = 0
        while offset + 8 <= bytes.count {
          if let value = bytes.load(UInt64.self, at: offset, memory.byteOrder),
            value >= 0xff00_0000_0000_0000, let symbol = symbols.symbol(containing: value)
          {
            found.append((page &+ UInt64(offset), value, symbol.name))
          }
          offset += 8
        }
      }
      page = end
    }
    return found
  }

  /// The name of the function a `call rel32` ending at `returnAddress`
  /// calls, or nil when the instruction there is not such a call.
  func calledFunction(returning returnAddress: UInt64) -> String? {
    guard let start = returnAddress -? 5,
      let bytes = try? memory.read(virtual: start, count: 5), bytes[0] == 0xe8,
      let relative = bytes.load(Int32.self, at: 1, memory.byteOrder)
    else { return nil }
    let target = returnAddress &+ UInt64(bitPattern: Int64(relative))
    guard let symbol = symbols.symbol(containing: target), symbol.address == target else {
      return nil
    }
    return symbol.name
  }

  /// Runs the search; nil when nothing before the registers applies (then
  /// see `lastResort`).
  mutating func find(hasVMCOREINFO: Bool) -> Hit? {
    var crashKexec: Hit?
    var sysrq: Hit?
    var notifyDie: Hit?
    var callFunction: Hit?
    var halt: Hit?
    for (stage, region) in regions.enumerated() {
      var panic: Hit?
      let named = words(of: region)
      let inNMIStack = region.kind == .exception("NMI")
      for (index, word) in named.enumerated() {
        let hit = Hit(function: word.function, value: word.value, stackAddress: word.address)
        let name = word.function
        if Self.dumpHooks.contains(name) {
          if name == "crash_kexec" {
            if calledFunction(returning: word.value) == "machine_kexec" { return hit }
            if crashKexec == nil {
              crashKexec = hit
              continue
            }
          }
          return hit
        }
        if name == "panic" {
          panic = hit
          continue
        }
        if name == "die" {
          if let later = named[(index + 1)...].last(where: { $0.function == "sysrq_handle_crash" }) {
            sysrq = Hit(function: later.function, value: later.value, stackAddress: later.address)
          } else {
            return hit
          }
        }
        if name == "sysrq_handle_crash" { sysrq = hit }
        if !isPanicTask && stage > 0
          && (name == "smp_call_function_interrupt" || name == "stop_this_cpu")
        {
          callFunction = hit
        }
        if !isPanicTask && name == "crash_nmi_callback" { return hit }
        if !isPanicTask && inNMIStack && hasVMCOREINFO && name == "notify_die" { notifyDie = hit }
        if !isPanicTask && isIdleTask && stage == 0 && halt == nil && name == "cpu_idle" {
          halt = hit
        }
      }
      if let panic { return panic }
      if let crashKexec { return crashKexec }
    }
    lastResort = callFunction ?? halt
    return sysrq ?? notifyDie
  }
}
