/// A bounded, consuming view over bytes read from a dump.
///
/// Every read checks the bounds and throws `DumpError` (`.truncated`) instead
/// of trapping. Integers are read in the byte order given at creation.
public struct ByteCursor: Sendable {
  public let bytes: [UInt8]
  public var order: ByteOrder
  /// The position of `bytes[0]` in the file, for error messages.
  public let baseOffset: UInt64
  /// What is being parsed, for error messages ("kdump sub-header").
  public let structure: String
  public private(set) var position: Int
  public let end: Int

  public init(
    _ bytes: [UInt8], order: ByteOrder, baseOffset: UInt64 = 0,
    structure: String
  ) {
    self.bytes = bytes
    self.order = order
    self.baseOffset = baseOffset
    self.structure = structure
    self.position = 0
    self.end = bytes.count
  }

  public var remaining: Int { end - position }

  func truncated(_ field: String, need: Int) -> DumpError {
    DumpError(
      .truncated,
      "\(structure) ends before \(field) (needs \(need) bytes, has \(remaining))",
      offset: baseOffset &+ UInt64(position))
  }

  /// Moves to an absolute position inside the view.
  public mutating func seek(to newPosition: Int, for field: String = "field")
    throws(DumpError)
  {
    guard newPosition >= 0, newPosition <= end else {
      throw DumpError(
        .truncated, "\(structure) has no \(field) at offset \(newPosition)",
        offset: baseOffset)
    }
    position = newPosition
  }

  public mutating func skip(_ count: Int, _ field: String = "padding")
    throws(DumpError)
  {
    guard count >= 0, count <= remaining else {
      throw truncated(field, need: count)
    }
    position += count
  }

  public mutating func read<T: FixedWidthInteger>(
    _: T.Type, _ field: String = "field"
  ) throws(DumpError) -> T {
    let size = MemoryLayout<T>.size
    guard size <= remaining else { throw truncated(field, need: size) }
    let start = position
    position += size
    let order = self.order
    return bytes.withUnsafeBytes { order.load(T.self, from: $0, at: start) }
  }

  public mutating func readBytes(_ count: Int, _ field: String = "bytes")
    throws(DumpError) -> [UInt8]
  {
    guard count >= 0, count <= remaining else {
      throw truncated(field, need: count)
    }
    let slice = Array(bytes[position..<(position + count)])
    position += count
    return slice
  }

  /// Reads a fixed-size, NUL-padded text field.
  public mutating func readFixedString(_ count: Int, _ field: String)
    throws(DumpError) -> String
  {
    let raw = try readBytes(count, field)
    let text = raw.prefix { $0 != 0 }
    return String(decoding: text, as: UTF8.self)
  }
}

extension Array where Element == UInt8 {
  /// Reads an integer at `offset` in `order`, or nil when it does not fit.
  @inlinable
  public func load<T: FixedWidthInteger>(
    _: T.Type, at offset: Int, _ order: ByteOrder
  ) -> T? {
    guard offset >= 0, offset <= count - MemoryLayout<T>.size else {
      return nil
    }
    return withUnsafeBytes { order.load(T.self, from: $0, at: offset) }
  }
}
