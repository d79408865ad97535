import LinuxKernel

/// What `coroner dmesg --json` prints: the kernel log's messages as an array
/// of objects (keys in Docs/dmesg.md).
public struct DmesgReport: Sendable {
  /// The log shown (already cut by `--tail`).
  public var log: KernelLog

  /// Makes a report of `log`.
  public init(log: KernelLog) { self.log = log }

  /// One object per message, wrap markers left out: `sequence`,
  /// `timestampNs`, `level`, `facility`, `caller` ("T123", "C1" or null),
  /// `text` (UTF-8; bytes that are not UTF-8 become U+FFFD), then
  /// `subsystem` and `device` when the record has them and `textLost: true`
  /// when the kernel lost its text.
  public var json: JSONValue {
    .array(log.records.lazy.filter { $0.kind == .message }.map(Self.object))
  }

  /// The JSON object of one record.
  public static func object(_ record: PrintkRecord) -> JSONValue {
    var members: [(String, JSONValue)] = [
      ("sequence", .unsigned(record.sequence)),
      ("timestampNs", .unsigned(record.timestampNs)),
      ("level", .optional(record.level) { .int(Int64($0)) }),
      ("facility", .optional(record.facility) { .int(Int64($0)) }),
      ("caller", .optional(record.caller) { .string($0.description) }),
      ("text", .string(String(decoding: record.text, as: UTF8.self))),
    ]
    if let subsystem = record.subsystem { members.append(("subsystem", .string(subsystem))) }
    if let device = record.device { members.append(("device", .string(device))) }
    if record.textLost { members.append(("textLost", .bool(true))) }
    return .object(members)
  }
}
