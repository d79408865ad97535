/// The kernel log as text: vmcore-dmesg's format and `dmesg -r`'s.
extension KernelLog {
  /// The log exactly as kexec-tools' vmcore-dmesg prints it: for each record
  /// (wrap markers of the 3.5–5.9 format included, as vmcore-dmesg prints
  /// them) `[%5llu.%06llu] `, the text escaped by `escape(_:into:)`, and a
  /// newline. A newline inside a record is printed as is, so the rest of the
  /// record starts a line without a timestamp.
  public func vmcoreDmesgText() -> [UInt8] {
    var output: [UInt8] = []
    output.reserveCapacity(records.reduce(0) { $0 + $1.text.count + 16 })
    for record in records {
      Self.appendTimestamp(record.timestampNs, to: &output)
      Self.escape(record.text, into: &output)
      output.append(0x0a)
    }
    return output
  }

  /// The log as `dmesg -r` prints it: every line of every message (a record
  /// holding newlines gives several lines) starts with `<priority>` (facility
  /// × 8 + level) and the timestamp; wrap markers are left out. Bytes are
  /// escaped as in `vmcoreDmesgText()`.
  public func rawText() -> [UInt8] {
    var output: [UInt8] = []
    output.reserveCapacity(records.reduce(0) { $0 + $1.text.count + 20 })
    for record in records where record.kind == .message {
      var prefix: [UInt8] = []
      if let priority = record.priority {
        prefix.append(UInt8(ascii: "<"))
        prefix.append(contentsOf: String(priority).utf8)
        prefix.append(UInt8(ascii: ">"))
      }
      Self.appendTimestamp(record.timestampNs, to: &prefix)
      for line in record.text.split(separator: 0x0a, omittingEmptySubsequences: false) {
        output.append(contentsOf: prefix)
        Self.escape(line, into: &output)
        output.append(0x0a)
      }
    }
    return output
  }

  /// Appends `[%5llu.%06llu] `: seconds right-aligned in five columns (more
  /// when needed) and microseconds in six digits.
  public static func appendTimestamp(_ nanoseconds: UInt64, to output: inout [UInt8]) {
    let seconds = nanoseconds / 1_000_000_000
    let microseconds = nanoseconds % 1_000_000_000 / 1000
    output.append(UInt8(ascii: "["))
    var digits: [UInt8] = []
    var value = seconds
    repeat {
      digits.append(UInt8(ascii: "0") + UInt8(value % 10))
      value /= 10
    } while value > 0
    if digits.count < 5 {
      output.append(contentsOf: repeatElement(UInt8(ascii: " "), count: 5 - digits.count))
    }
    output.append(contentsOf: digits.reversed())
    output.append(UInt8(ascii: "."))
    var divisor: UInt64 = 100_000
    while divisor > 0 {
      output.append(UInt8(ascii: "0") + UInt8(microseconds / divisor % 10))
      divisor /= 10
    }
    output.append(UInt8(ascii: "]"))
    output.append(UInt8(ascii: " "))
  }

  /// vmcore-dmesg's escaping (C locale `isprint`/`isspace`): bytes 0x20–0x7e
  /// and the white space 0x09–0x0d (tab, newline, vertical tab, form feed,
  /// carriage return) are copied; every other byte (0x00–0x08, 0x0e–0x1f,
  /// 0x7f–0xff) becomes `\xNN` with two lowercase hex digits.
  public static func escape<Bytes: Collection<UInt8>>(_ bytes: Bytes, into output: inout [UInt8]) {
    let hex: [UInt8] = Array("0123456789abcdef".utf8)
    for byte in bytes {
      if (0x20...0x7e).contains(byte) || (0x09...0x0d).contains(byte) {
        output.append(byte)
      } else {
        output.append(UInt8(ascii: "\\"))
        output.append(UInt8(ascii: "x"))
        output.append(hex[Int(byte >> 4)])
        output.append(hex[Int(byte & 0x0f)])
      }
    }
  }
}
