/// Random-access, read-only bytes: a dump file, or a view that reassembles one
/// (the flattened format).
public protocol ByteSource: AnyObject {
  /// A name for messages (the file's path).
  var name: String { get }
  /// The number of bytes the source holds.
  var size: UInt64 { get }
  /// Copies `buffer.count` bytes at `offset` into `buffer`.
  ///
  /// - Throws: `DumpError` `.truncated` if the range runs past the end,
  ///   `.io` if the operating system fails the read.
  func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer)
    throws(DumpError)
}

extension ByteSource {
  /// Reads `count` bytes at `offset` into a new array.
  public func read(at offset: UInt64, count: Int) throws(DumpError) -> [UInt8] {
    guard count >= 0 else {
      throw DumpError(.corrupt, "negative read length", file: name)
    }
    var bytes = [UInt8](repeating: 0, count: count)
    var failure: DumpError?
    bytes.withUnsafeMutableBytes { buffer in
      do throws(DumpError) {
        try read(at: offset, into: buffer)
      } catch {
        failure = error
      }
    }
    if let failure { throw failure }
    return bytes
  }

  /// Reads at most `count` bytes at `offset`, fewer at the end of the source.
  public func readPrefix(at offset: UInt64, upTo count: Int) throws(DumpError)
    -> [UInt8]
  {
    guard offset < size else { return [] }
    let available = size - offset
    let length = UInt64(count) < available ? count : Int(available)
    return try read(at: offset, count: length)
  }

  /// A cursor over `count` bytes at `offset`.
  public func cursor(
    at offset: UInt64, count: Int, order: ByteOrder, structure: String
  ) throws(DumpError) -> ByteCursor {
    do {
      let bytes = try read(at: offset, count: count)
      return ByteCursor(
        bytes, order: order, baseOffset: offset, structure: structure)
    } catch {
      throw error.context("reading \(structure)")
    }
  }
}
