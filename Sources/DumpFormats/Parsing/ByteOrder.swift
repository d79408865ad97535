/// The byte order of the values in a dump.
public enum ByteOrder: String, Sendable, Codable {
  case little = "little-endian"
  case big = "big-endian"

  /// Reads a fixed-width integer stored in this byte order.
  @inlinable
  public func load<T: FixedWidthInteger>(
    _: T.Type, from bytes: UnsafeRawBufferPointer, at offset: Int
  ) -> T {
    let raw = bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
    switch self {
    case .little: return T(littleEndian: raw)
    case .big: return T(bigEndian: raw)
    }
  }
}
