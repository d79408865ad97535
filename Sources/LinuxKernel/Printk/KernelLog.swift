import AddressTranslation
import DebugInfo
import DumpFormats

/// The kernel log (what `dmesg` shows) read from a dump's memory.
///
/// The format is chosen by which VMCOREINFO symbols exist, as vmcore-dmesg
/// chooses it: `SYMBOL(prb)` means the lockless ring buffer of 5.10+,
/// `SYMBOL(log_first_idx)` the structured `log_buf` of 3.5–5.9. Everything
/// is located from VMCOREINFO alone (no kallsyms, no BTF, no debuginfo).
public struct KernelLog: Sendable {
  /// How the kernel stored its log.
  public enum Format: String, Sendable {
    /// The lockless `printk_ringbuffer` (Linux 5.10+).
    case lockless = "printk_ringbuffer"
    /// `log_buf` of `struct printk_log` records (Linux 3.5–5.9).
    case structured = "printk_log"
  }

  /// The format read.
  public var format: Format
  /// The records in the order the kernel wrote them, wrap markers included
  /// (see `PrintkRecord.Kind`); `messages` leaves the markers out.
  public var records: [PrintkRecord]
  /// What could not be read, one sentence each; empty when the log was read
  /// whole.
  public var problems: [String]

  /// Makes a log from records already read.
  public init(format: Format, records: [PrintkRecord], problems: [String] = []) {
    self.format = format
    self.records = records
    self.problems = problems
  }

  /// Whether every record was read.
  public var isComplete: Bool { problems.isEmpty }

  /// The messages, without wrap markers.
  public var messages: [PrintkRecord] { records.filter { $0.kind == .message } }

  /// Reads the log through `memory` with the layout VMCOREINFO gives.
  ///
  /// - Throws: `DumpError` `.missingInformation` when VMCOREINFO lacks a key
  ///   the format needs, `.corrupt` for impossible sizes or indexes,
  ///   `.notInDump`/`.notMapped` when nothing of the log can be read. When
  ///   only some records are unreadable, returns the others and says what is
  ///   missing in `problems`.
  public static func read(from memory: VirtualMemory, vmcoreinfo: VMCoreInfo)
    throws(DumpError) -> KernelLog
  {
    if vmcoreinfo.lines.isEmpty {
      throw DumpError(
        .missingInformation,
        "the dump has no VMCOREINFO, from which alone the kernel log is located")
    }
    if vmcoreinfo.symbols["prb"] != nil {
      return try PrintkRingBuffer(memory: memory, vmcoreinfo: vmcoreinfo).read()
    }
    if vmcoreinfo.symbols["log_first_idx"] != nil {
      return try StructuredLogBuffer(memory: memory, vmcoreinfo: vmcoreinfo).read()
    }
    if vmcoreinfo.symbols["log_buf"] != nil {
      throw DumpError(
        .unsupported,
        "the kernel log of kernels before 3.5 (a plain text log_buf) is not read yet")
    }
    throw DumpError(
      .missingInformation,
      "VMCOREINFO has neither SYMBOL(prb) nor SYMBOL(log_first_idx): the kernel log cannot be found"
    )
  }

  /// An error as a clause of a problem sentence: without the file's name,
  /// which the caller prints once.
  static func describe(_ error: DumpError) -> String {
    var copy = error
    copy.file = nil
    return copy.description
  }

  /// The last `count` messages (and any wrap marker between them), with the
  /// same problems.
  public func suffix(messages count: Int) -> KernelLog {
    var kept = 0
    var start = records.count
    while start > 0, kept < max(0, count) {
      start -= 1
      if records[start].kind == .message { kept += 1 }
    }
    return KernelLog(format: format, records: Array(records[start...]), problems: problems)
  }
}
