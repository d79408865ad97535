/// One record of the kernel log, as the kernel stored it.
///
/// Fields come from `struct printk_info` (5.10+) or `struct printk_log`
/// (3.5–5.9); the text is the record's bytes as the kernel wrote them, without
/// a trailing newline and without any escaping.
public struct PrintkRecord: Sendable, Equatable {
  /// Who logged a record: a thread (task context) or a CPU (interrupt context).
  public enum Caller: Sendable, Equatable, CustomStringConvertible {
    /// A thread id (`caller_id` without bit 31).
    case thread(UInt32)
    /// A CPU number (`caller_id` with bit 31 set).
    case cpu(UInt32)

    /// Decodes a kernel `caller_id` (bit 31 set: a CPU number).
    public init(callerID: UInt32) {
      self = callerID & 0x8000_0000 != 0 ? .cpu(callerID & 0x7fff_ffff) : .thread(callerID)
    }

    /// "T123" for a thread, "C1" for a CPU, as `/dev/kmsg` shows it.
    public var description: String {
      switch self {
      case .thread(let id): return "T\(id)"
      case .cpu(let id): return "C\(id)"
      }
    }
  }

  /// What a record is.
  public enum Kind: Sendable, Equatable {
    /// A message.
    case message
    /// A 3.5–5.9 wrap marker (a `printk_log` header with `len` 0 that tells
    /// readers to go on at the start of the buffer). It is not a message;
    /// only the vmcore-dmesg text format prints it, because vmcore-dmesg does.
    case wrapMarker
  }

  /// The record's sequence number (in 3.5–5.9 dumps, counted from 0 at the
  /// oldest record: VMCOREINFO does not give `log_first_seq`).
  public var sequence: UInt64
  /// When the record was logged, in nanoseconds since boot.
  public var timestampNs: UInt64
  /// The syslog level (0 emergency … 7 debug), nil when the layout is unknown.
  public var level: UInt8?
  /// The syslog facility (0 kernel), nil when the layout is unknown.
  public var facility: UInt8?
  /// The internal record flags (`LOG_NEWLINE`, `LOG_CONT`…), when known.
  public var flags: UInt8?
  /// Who logged it, when the kernel saved a caller id.
  public var caller: Caller?
  /// The message bytes, unescaped.
  public var text: [UInt8]
  /// Whether the record's text is gone (a data-less record: the kernel could
  /// not store it, or it was empty); `text` is then empty.
  public var textLost: Bool
  /// The device subsystem (`dev_printk_info.subsystem`, or `SUBSYSTEM=` in a
  /// 3.5–5.9 dictionary), when the record has one.
  public var subsystem: String?
  /// The device (`dev_printk_info.device`, or `DEVICE=`), when present.
  public var device: String?
  /// A message or a wrap marker.
  public var kind: Kind

  /// Makes a record.
  public init(
    sequence: UInt64, timestampNs: UInt64, level: UInt8? = nil, facility: UInt8? = nil,
    flags: UInt8? = nil, caller: Caller? = nil, text: [UInt8], textLost: Bool = false,
    subsystem: String? = nil, device: String? = nil, kind: Kind = .message
  ) {
    self.sequence = sequence
    self.timestampNs = timestampNs
    self.level = level
    self.facility = facility
    self.flags = flags
    self.caller = caller
    self.text = text
    self.textLost = textLost
    self.subsystem = subsystem
    self.device = device
    self.kind = kind
  }

  /// The syslog priority `facility * 8 + level` (`<N>` in `dmesg -r`), when
  /// both are known.
  public var priority: Int? {
    guard let level, let facility else { return nil }
    return Int(facility) * 8 + Int(level)
  }

  /// Splits the byte holding `flags:5` and `level:3` (the bitfields after
  /// `facility`): GCC allocates bitfields from the least significant bit on
  /// little-endian targets and from the most significant one on big-endian.
  static func flagsAndLevel(_ byte: UInt8, littleEndian: Bool) -> (flags: UInt8, level: UInt8) {
    littleEndian ? (byte & 0x1f, byte >> 5) : (byte >> 3, byte & 0x07)
  }
}
