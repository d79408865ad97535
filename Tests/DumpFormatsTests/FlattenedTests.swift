import DumpFormats
import Testing

/// Builds a flattened stream: header, then records {offset, size} (big-endian).
func flattened(_ records: [(UInt64, [UInt8])], endMarker: Bool = true) -> [UInt8] {
  var bytes = Array("makedumpfile".utf8) + [UInt8](repeating: 0, count: 4)
  func bigEndian(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) } }
  bytes += bigEndian(1) + bigEndian(1)
  bytes += [UInt8](repeating: 0, count: 4096 - bytes.count)
  for (offset, data) in records {
    bytes += bigEndian(offset) + bigEndian(UInt64(data.count)) + data
  }
  if endMarker { bytes += bigEndian(UInt64.max) + bigEndian(0) }
  return bytes
}

@Suite struct FlattenedTests {
  @Test func reassemblesOverlappingRecordsLaterWins() throws {
    let stream = flattened([
      (0, Array("AAAAAAAAAA".utf8)),
      (20, Array("CCCC".utf8)),
      (4, Array("BB".utf8)),
    ])
    let source = MemoryByteSource(stream, name: "flat")
    #expect(FlattenedByteSource.probe(source))
    let view = try FlattenedByteSource(wrapping: source)
    #expect(view.size == 24)
    #expect(view.recordCount == 3)
    #expect(!view.endMarkerMissing)
    let bytes = try view.read(at: 0, count: 24)
    #expect(Array(bytes[0..<10]) == Array("AAAABBAAAA".utf8))
    #expect(Array(bytes[10..<20]) == [UInt8](repeating: 0, count: 10))  // never written
    #expect(Array(bytes[20..<24]) == Array("CCCC".utf8))
    #expect(throws: DumpError.self) { try view.read(at: 20, count: 5) }
  }

  @Test func missingEndMarkerAndCutRecords() throws {
    let stream = flattened([(0, [1, 2, 3, 4])], endMarker: false)
    let view = try FlattenedByteSource(wrapping: MemoryByteSource(stream))
    #expect(view.endMarkerMissing)
    let cut = Array(stream.dropLast(2))
    let error = #expect(throws: DumpError.self) {
      try FlattenedByteSource(wrapping: MemoryByteSource(cut))
    }
    #expect(error?.kind == .truncated)
  }

  @Test func rejectsUnknownType() {
    var stream = flattened([])
    stream[23] = 2
    let error = #expect(throws: DumpError.self) {
      try FlattenedByteSource(wrapping: MemoryByteSource(stream))
    }
    #expect(error?.kind == .unsupported)
  }
}
