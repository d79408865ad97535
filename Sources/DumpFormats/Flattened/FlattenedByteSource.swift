/// makedumpfile's flattened format (`makedumpfile -F`), read in place.
///
/// A flattened file is a 4096-byte header (`"makedumpfile"`, type 1,
/// version 1) and a stream of records `{offset, size}` + `size` bytes, each
/// saying where its bytes belong in the reassembled file; an offset of -1 ends
/// the stream. All record integers are big-endian whatever the dump's
/// architecture (makedumpfile.h: `makedumpfile_header`,
/// `makedumpfile_data_header`).
///
/// This source scans the record headers once (16 bytes per record, read in
/// large sequential chunks) and serves the reassembled file through an
/// interval map. Later records win where they overlap; ranges no record wrote
/// read as zeros, as in the file `makedumpfile -R` would produce. The map
/// costs 24 bytes per record: it grows with the number of records, not with
/// the bytes they carry.
public final class FlattenedByteSource: ByteSource {
  public static let signature = Array("makedumpfile".utf8)
  public static let headerSize: UInt64 = 4096
  /// A bound on records, so a corrupt stream cannot exhaust memory.
  public static let maximumRecords = 64 << 20

  /// Where a reassembled range's first byte lies in the flattened file.
  struct StreamOffset: IntervalPayload {
    var offset: UInt64
    func advanced(by delta: UInt64) -> StreamOffset { StreamOffset(offset: offset + delta) }
  }

  public var name: String { base.name }
  public let size: UInt64
  /// The number of data records in the stream.
  public let recordCount: Int
  /// True when the stream had no end marker (a cut-off transfer).
  public let endMarkerMissing: Bool
  private let base: ByteSource
  private let extents: DisjointIntervals<StreamOffset>

  /// Whether `source` starts with the flattened header.
  public static func probe(_ source: ByteSource) -> Bool {
    guard let head = try? source.readPrefix(at: 0, upTo: 16) else { return false }
    return head.count == 16 && Array(head.prefix(12)) == signature
      && head[12...].allSatisfy { $0 == 0 }
  }

  public init(wrapping source: ByteSource) throws(DumpError) {
    base = source
    let header = try source.cursor(
      at: 0, count: 32, order: .big, structure: "flattened header")
    var cursor = header
    _ = try cursor.readBytes(16, "signature")
    let type = try cursor.read(Int64.self, "type")
    let version = try cursor.read(Int64.self, "version")
    guard type == 1 else {
      throw DumpError(
        .unsupported, "flattened header type \(type) (only 1 is known)",
        file: source.name, offset: 16)
    }
    guard version == 1 else {
      throw DumpError(
        .unsupported, "flattened header version \(version) (only 1 is known)",
        file: source.name, offset: 24)
    }

    var records: [Interval<StreamOffset>] = []
    var position = Self.headerSize
    var sawEnd = false
    var reader = SequentialReader(source: source)
    // Small records come in runs: read ahead through them. After a big
    // record, fetch just the next header rather than its neighbour's data.
    var readAhead = SequentialReader.chunk
    while position < source.size {
      guard records.count < Self.maximumRecords else {
        throw DumpError(
          .corrupt, "more than \(Self.maximumRecords) flattened records",
          file: source.name, offset: position)
      }
      let head: [UInt8]
      do {
        head = try reader.bytes(at: position, count: 16, readAhead: readAhead)
      } catch {
        throw error.context("reading flattened record header")
      }
      let offset = Int64(bitPattern: head.load(UInt64.self, at: 0, .big) ?? 0)
      let length = Int64(bitPattern: head.load(UInt64.self, at: 8, .big) ?? 0)
      if offset == -1 {
        sawEnd = true
        break
      }
      guard offset >= 0, length >= 0 else {
        throw DumpError(
          .corrupt, "flattened record with offset \(offset) and size \(length)",
          file: source.name, offset: position)
      }
      let dataStart = position + 16
      guard let dataEnd = dataStart +? UInt64(length), dataEnd <= source.size,
        let targetEnd = UInt64(offset) +? UInt64(length)
      else {
        throw DumpError(
          .truncated,
          "flattened record of \(length) bytes runs past the end of the file",
          file: source.name, offset: position)
      }
      if length > 0 {
        records.append(
          Interval(
            start: UInt64(offset), end: targetEnd, priority: records.count,
            payload: StreamOffset(offset: dataStart)))
      }
      position = dataEnd
      readAhead = length > 65536 ? 4096 : SequentialReader.chunk
    }
    endMarkerMissing = !sawEnd
    recordCount = records.count
    extents = DisjointIntervals(records)
    size = extents.intervals.last?.end ?? 0
  }

  public func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer)
    throws(DumpError)
  {
    let count = UInt64(buffer.count)
    guard offset <= size, count <= size - offset else {
      throw DumpError(
        .truncated,
        "reassembled file ends before byte range 0x\(String(offset, radix: 16))+\(count)",
        file: name, offset: offset)
    }
    guard let target = buffer.baseAddress else { return }
    var index = extents.firstIndex(endingAfter: offset)
    var cursor = offset
    let end = offset + count
    let map = extents.intervals
    while cursor < end {
      let destination = UnsafeMutableRawBufferPointer(
        start: target + Int(cursor - offset), count: Int(end - cursor))
      guard index < map.count, map[index].start < end else {
        destination.initializeMemory(as: UInt8.self, repeating: 0)
        return
      }
      let extent = map[index]
      if extent.start > cursor {
        // Bytes no record wrote read as zeros, as in a reassembled file.
        let gap = Int(extent.start - cursor)
        UnsafeMutableRawBufferPointer(rebasing: destination[0..<gap])
          .initializeMemory(as: UInt8.self, repeating: 0)
        cursor = extent.start
        continue
      }
      let length = Int(min(extent.end, end) - cursor)
      try base.read(
        at: extent.payload.offset + (cursor - extent.start),
        into: UnsafeMutableRawBufferPointer(rebasing: destination[0..<length]))
      cursor += UInt64(length)
      index += 1
    }
  }
}

/// Forward reads through a large buffer, for scanning record headers.
struct SequentialReader {
  let source: ByteSource
  var buffer: [UInt8] = []
  var bufferStart: UInt64 = 0
  static let chunk = 1 << 20

  init(source: ByteSource) { self.source = source }

  mutating func bytes(at offset: UInt64, count: Int, readAhead: Int = chunk)
    throws(DumpError) -> [UInt8]
  {
    if offset >= bufferStart,
      offset + UInt64(count) <= bufferStart + UInt64(buffer.count)
    {
      let start = Int(offset - bufferStart)
      return Array(buffer[start..<(start + count)])
    }
    buffer = try source.readPrefix(at: offset, upTo: max(readAhead, count))
    bufferStart = offset
    guard buffer.count >= count else {
      throw DumpError(
        .truncated, "file ends inside a \(count)-byte header", file: source.name,
        offset: offset)
    }
    return Array(buffer[0..<count])
  }
}
