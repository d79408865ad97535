/// The kernel's VMCOREINFO: `KEY=value` lines the kernel (or Xen, in
/// `VMCOREINFO_XEN`) writes for dump tools: symbol addresses, structure sizes
/// and member offsets, constants and configuration (kernel/vmcore_info.c,
/// printk.c, arch/*/kernel/machine_kexec*.c).
public struct VMCoreInfo: Sendable, Equatable {
  /// `SYMBOL(name)=hex`: run-time addresses (already KASLR-relocated).
  public var symbols: [String: UInt64] = [:]
  /// `SIZE(type)=dec`.
  public var sizes: [String: Int64] = [:]
  /// `OFFSET(type.member)=dec`.
  public var offsets: [String: Int64] = [:]
  /// `LENGTH(name)=dec`.
  public var lengths: [String: Int64] = [:]
  /// `NUMBER(name)=value` (decimal, or hex with 0x).
  public var numbers: [String: Int64] = [:]
  /// `CONFIG_X=y`.
  public var configs: [String: String] = [:]
  /// Every other `KEY=value` (OSRELEASE, PAGESIZE, BUILD-ID, CRASHTIME…).
  public var values: [String: String] = [:]
  /// Every line, in order, as written.
  public var lines: [String] = []

  public init() {}

  /// Parses VMCOREINFO text. Unparsable lines are kept in `lines` only.
  ///
  /// Works on bytes (the note is ASCII), making Strings only for each key
  /// and value: every command pays for this parse at start-up.
  public init(text bytes: [UInt8]) {
    let end = bytes.firstIndex(of: 0) ?? bytes.count
    var start = 0
    while start < end, lines.count < 1 << 16 {
      var stop = start
      while stop < end, bytes[stop] != 0x0a { stop += 1 }
      if stop > start { parseLine(bytes[start..<stop]) }
      start = stop + 1
    }
  }

  private mutating func parseLine(_ line: ArraySlice<UInt8>) {
    lines.append(String(decoding: line, as: UTF8.self))
    guard let equals = line.firstIndex(of: 0x3d) else { return }  // "="
    let keyBytes = line[line.startIndex..<equals]
    let value = String(decoding: line[(equals + 1)...], as: UTF8.self)
    // KIND(name)=value
    if let open = keyBytes.firstIndex(of: 0x28), keyBytes.last == 0x29 {  // "(" … ")"
      let kind = String(decoding: keyBytes[keyBytes.startIndex..<open], as: UTF8.self)
      let name = String(decoding: keyBytes[(open + 1)..<(keyBytes.endIndex - 1)], as: UTF8.self)
      switch kind {
      case "SYMBOL": if let address = UInt64(value, radix: 16) { symbols[name] = address }
      case "SIZE": if let size = Int64(value) { sizes[name] = size }
      case "OFFSET": if let offset = Int64(value) { offsets[name] = offset }
      case "LENGTH": if let length = Int64(value) { lengths[name] = length }
      case "NUMBER": if let number = Self.number(value) { numbers[name] = number }
      default: values[String(decoding: keyBytes, as: UTF8.self)] = value
      }
      return
    }
    let key = String(decoding: keyBytes, as: UTF8.self)
    if key.hasPrefix("CONFIG_") {
      configs[String(key.dropFirst(7))] = value
    } else {
      values[key] = value
    }
  }

  static func argument(of key: String, prefix: String) -> String? {
    guard key.hasPrefix(prefix), key.hasSuffix(")") else { return nil }
    return String(key.dropFirst(prefix.count).dropLast())
  }

  static func number(_ value: String) -> Int64? {
    if value.hasPrefix("0x") || value.hasPrefix("0X") {
      return UInt64(value.dropFirst(2), radix: 16).map { Int64(bitPattern: $0) }
    }
    if let signed = Int64(value) { return signed }
    return UInt64(value).map { Int64(bitPattern: $0) }
  }

  /// `OSRELEASE`, the kernel release ("6.1.0-28-amd64").
  public var osRelease: String? { values["OSRELEASE"] }
  /// `PAGESIZE`.
  public var pageSize: Int? { values["PAGESIZE"].flatMap { Int($0) } }
  /// `KERNELOFFSET` (KASLR), hex.
  public var kernelOffset: UInt64? { values["KERNELOFFSET"].flatMap { UInt64($0, radix: 16) } }
  /// `CRASHTIME`, seconds since the epoch.
  public var crashTime: Int64? { values["CRASHTIME"].flatMap { Int64($0) } }
  /// `BUILD-ID` (5.9+).
  public var buildID: String? { values["BUILD-ID"] }
  /// A panic message, where the kernel records one (not upstream Linux).
  public var panicMessage: String? { values["PANIC_MESSAGE"] ?? values["PANIC_MSG"] }
}
