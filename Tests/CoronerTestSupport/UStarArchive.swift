import Foundation

/// Extracts regular files from a POSIX ustar archive (512-byte headers:
/// name at 0, octal size at 124, type at 156, name prefix at 345), copying
/// each member in 1 MiB pieces.
enum UStarArchive {
  static func extract(_ archive: String, into directory: URL) throws {
    guard let input = FileHandle(forReadingAtPath: archive) else {
      throw FixtureError("cannot open \(archive)")
    }
    defer { try? input.close() }
    var members = 0
    while members < 10_000 {
      let header = try input.read(upToCount: 512) ?? Data()
      guard header.count == 512, header.contains(where: { $0 != 0 }) else { return }
      let bytes = [UInt8](header)
      func field(_ start: Int, _ length: Int) -> String {
        String(decoding: bytes[start..<(start + length)].prefix { $0 != 0 }, as: UTF8.self)
      }
      let prefix = field(345, 155)
      var name = field(0, 100)
      if !prefix.isEmpty { name = prefix + "/" + name }
      let sizeText = field(124, 12).trimmingCharacters(in: .whitespaces)
      guard let size = Int(sizeText, radix: 8), size >= 0 else {
        throw FixtureError("\(archive): bad size field \"\(sizeText)\"")
      }
      let type = bytes[156]
      let padded = (size + 511) / 512 * 512
      let base = URL(fileURLWithPath: name).lastPathComponent
      if (type == 0x30 || type == 0), !base.isEmpty, !base.hasPrefix(".") {
        let target = directory.appendingPathComponent(base)
        _ = FileManager.default.createFile(atPath: target.path, contents: nil)
        let output = try FileHandle(forWritingTo: target)
        var remaining = size
        while remaining > 0 {
          let chunk = try input.read(upToCount: min(remaining, 1 << 20)) ?? Data()
          guard !chunk.isEmpty else { throw FixtureError("\(archive): \(name) is cut short") }
          try output.write(contentsOf: chunk)
          remaining -= chunk.count
        }
        try output.close()
        _ = try input.read(upToCount: padded - size)
      } else {
        try input.seek(toOffset: input.offsetInFile + UInt64(padded))
      }
      members += 1
    }
  }
}
