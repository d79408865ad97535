import AddressTranslation
import DebugInfo
import DumpFormats

/// The structured kernel log of Linux 3.5 to 5.9: `log_buf`, a buffer of
/// `log_buf_len` bytes holding variable-length records, each a
/// `struct printk_log` (`struct log` before 3.11) followed by its text and
/// dictionary. Records run from `log_first_idx` to `log_next_idx`; a header
/// whose `len` is 0 marks the point where writing wrapped to the start.
///
/// Read from VMCOREINFO only, as vmcore-dmesg does: `SYMBOL(log_buf)` (a
/// pointer), `SYMBOL(log_buf_len)`, `SYMBOL(log_first_idx)`,
/// `SYMBOL(log_next_idx)` (32-bit values), `SIZE(printk_log)` and the
/// offsets of `ts_nsec`, `len`, `text_len`, `dict_len` and, with
/// `CONFIG_PRINTK_CALLER` (5.1+), `caller_id`.
struct StructuredLogBuffer {
  /// The largest buffer believed (1 GiB).
  static let lengthLimit: UInt64 = 1 << 30

  /// Where the fields are, from VMCOREINFO.
  struct Layout {
    var logBuf: UInt64
    var logBufLen: UInt64
    var firstIndex: UInt64
    var nextIndex: UInt64
    var firstSequence: UInt64?
    var headerSize: Int
    var tsNsec: Int
    var len: Int
    var textLen: Int
    var dictLen: Int?
    var callerID: Int?
    /// `facility` and the `flags:5 level:3` byte follow `dict_len`.
    var facility: Int?

    init(_ vmcoreinfo: VMCoreInfo) throws(DumpError) {
      let keys = PrintkLayoutKeys(info: vmcoreinfo)
      logBuf = try keys.symbol("log_buf")
      logBufLen = try keys.symbol("log_buf_len")
      firstIndex = try keys.symbol("log_first_idx")
      nextIndex = try keys.symbol("log_next_idx")
      firstSequence = vmcoreinfo.symbols["log_first_seq"]
      // `struct log` was renamed `struct printk_log` in 3.11.
      let name = vmcoreinfo.sizes["printk_log"] != nil ? "printk_log" : "log"
      headerSize = try keys.size(name)
      tsNsec = try keys.offset("\(name).ts_nsec", width: 8, within: headerSize)
      len = try keys.offset("\(name).len", width: 2, within: headerSize)
      textLen = try keys.offset("\(name).text_len", width: 2, within: headerSize)
      dictLen = keys.optionalOffset("\(name).dict_len").flatMap { $0 + 2 <= headerSize ? $0 : nil }
      callerID = keys.optionalOffset("\(name).caller_id").flatMap {
        $0 + 4 <= headerSize ? $0 : nil
      }
      if let dictLen, dictLen + 4 <= headerSize, callerID == nil || callerID == dictLen + 4 {
        facility = dictLen + 2
      }
    }
  }

  let memory: VirtualMemory
  let layout: Layout
  private var order: ByteOrder { memory.byteOrder }

  init(memory: VirtualMemory, vmcoreinfo: VMCoreInfo) throws(DumpError) {
    self.memory = memory
    layout = try Layout(vmcoreinfo)
  }

  /// Reads every record from `log_first_idx` to `log_next_idx`.
  func read() throws(DumpError) -> KernelLog {
    let bufferAddress: UInt64
    let length: UInt64
    let first: UInt64
    let next: UInt64
    var sequence: UInt64 = 0
    do {
      bufferAddress = try memory.readPointer(at: layout.logBuf)
      length = UInt64(try memory.readInteger(UInt32.self, at: layout.logBufLen))
      first = UInt64(try memory.readInteger(UInt32.self, at: layout.firstIndex))
      next = UInt64(try memory.readInteger(UInt32.self, at: layout.nextIndex))
      if let address = layout.firstSequence {
        sequence = try memory.readInteger(UInt64.self, at: address)
      }
    } catch {
      throw error.context(
        "reading the kernel log's variables (log_buf, log_buf_len, log_first_idx, log_next_idx)")
    }
    let header = UInt64(layout.headerSize)
    guard length >= header, length <= Self.lengthLimit else {
      throw DumpError(
        .corrupt, "log_buf_len \(length) is not a plausible size (\(header) bytes to 1 GiB)")
    }
    guard first <= length - header, next <= length else {
      throw DumpError(
        .corrupt,
        "log_first_idx \(first) or log_next_idx \(next) lies outside the \(length)-byte log_buf")
    }
    let buffer = try LogMemoryRegion(
      memory: memory, address: bufferAddress, count: Int(length), what: "log_buf")

    var records: [PrintkRecord] = []
    var problems: [String] = []
    var unreadable = 0
    var wrapped = false
    var index = first
    // Every step moves by at least one header, except the single wrap.
    let stepLimit = length / header + 2
    var steps: UInt64 = 0
    walk: while index != next {
      steps += 1
      guard steps <= stepLimit else {
        problems.append("the records of log_buf do not lead from log_first_idx to log_next_idx")
        break
      }
      let start = Int(index)
      guard buffer.isReadable(start..<(start + layout.headerSize)) else {
        problems.append(
          "the record header at log_buf offset \(index) is not in the dump, so the records after it cannot be found"
            + (buffer.firstError.map { " (\(KernelLog.describe($0)))" } ?? ""))
        break
      }
      func field(_ offset: Int, _ width: Int) -> UInt64 {
        buffer.unsigned(at: start + offset, width: width, order) ?? 0
      }
      let recordLength = field(layout.len, 2)
      let textLength = Int(field(layout.textLen, 2))
      let dictLength = layout.dictLen.map { Int(field($0, 2)) } ?? 0
      var record = PrintkRecord(
        sequence: sequence, timestampNs: field(layout.tsNsec, 8),
        caller: layout.callerID.map {
          PrintkRecord.Caller(callerID: UInt32(truncatingIfNeeded: field($0, 4)))
        },
        text: [])
      if let facility = layout.facility {
        record.facility = UInt8(truncatingIfNeeded: field(facility, 1))
        let split = PrintkRecord.flagsAndLevel(
          UInt8(truncatingIfNeeded: field(facility + 1, 1)), littleEndian: order == .little)
        record.flags = split.flags
        record.level = split.level
      }
      let body = start + layout.headerSize
      if recordLength == 0 {
        // The wrap marker; vmcore-dmesg prints it as a line of its own.
        record.kind = .wrapMarker
        let text = body..<(body + min(textLength, Int(length) - body))
        if buffer.isReadable(text) { record.text = buffer.slice(text) }
        records.append(record)
        guard !wrapped else {
          problems.append("log_buf wraps twice: its records form a cycle")
          break walk
        }
        wrapped = true
        index = 0
        continue
      }
      guard recordLength >= header, index + recordLength <= length else {
        problems.append(
          "the record at log_buf offset \(index) claims \(recordLength) bytes, which do not fit log_buf"
        )
        break
      }
      let room = Int(recordLength) - layout.headerSize
      let text = body..<(body + min(textLength, room))
      let dictionary = text.upperBound..<(text.upperBound + min(dictLength, room - text.count))
      if buffer.isReadable(text) {
        record.text = buffer.slice(text)
        if !dictionary.isEmpty, buffer.isReadable(dictionary) {
          Self.parseDictionary(buffer.slice(dictionary), into: &record)
        }
        records.append(record)
      } else {
        unreadable += 1
      }
      sequence &+= 1
      index += recordLength
      if index != next, index > length - header {
        problems.append(
          "the record after log_buf offset \(index - recordLength) lies outside log_buf")
        break
      }
    }
    if unreadable > 0 {
      var problem = "the text of \(unreadable) records is not in the dump"
      if let error = buffer.firstError { problem += " (\(KernelLog.describe(error)))" }
      problems.append(problem)
    }
    if records.isEmpty, !problems.isEmpty {
      throw DumpError(
        .notInDump, "no record of log_buf could be read: \(problems.joined(separator: "; "))")
    }
    return KernelLog(format: .structured, records: records, problems: problems)
  }

  /// Takes `SUBSYSTEM=` and `DEVICE=` from a record's dictionary
  /// (NUL-separated `KEY=value` pairs).
  static func parseDictionary(_ bytes: [UInt8], into record: inout PrintkRecord) {
    for pair in bytes.split(separator: 0, omittingEmptySubsequences: true) {
      guard let equals = pair.firstIndex(of: UInt8(ascii: "=")) else { continue }
      let key = String(decoding: pair[pair.startIndex..<equals], as: UTF8.self)
      let value = String(decoding: pair[(equals + 1)...], as: UTF8.self)
      switch key {
      case "SUBSYSTEM": record.subsystem = value
      case "DEVICE": record.device = value
      default: break
      }
    }
  }
}
