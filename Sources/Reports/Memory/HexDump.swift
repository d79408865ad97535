/// A hex dump in the style of `xxd`/crash's `rd`: address, 16 bytes as
/// 8-byte words or bytes, and their printable characters.
public enum HexDump {
  public static func text(_ bytes: [UInt8], startingAt address: UInt64) -> String {
    var lines: [String] = []
    var offset = 0
    while offset < bytes.count {
      let row = bytes[offset..<min(offset + 16, bytes.count)]
      var line = hex(address &+ UInt64(offset), width: 16) + ":  "
      for (index, byte) in row.enumerated() {
        line += hex(UInt64(byte), width: 2) + (index == 7 ? "  " : " ")
      }
      line += String(repeating: "   ", count: 16 - row.count) + (row.count <= 8 ? " " : "")
      line += " " + String(row.map { $0 >= 0x20 && $0 < 0x7f ? Character(UnicodeScalar($0)) : "." })
      lines.append(line)
      offset += 16
    }
    return lines.joined(separator: "\n") + "\n"
  }

  static func hex(_ value: UInt64, width: Int) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
  }
}
