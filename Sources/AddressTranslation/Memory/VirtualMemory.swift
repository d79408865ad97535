import DumpFormats

/// Memory read by virtual address (a kernel's, or Xen's), through page tables
/// or linear mappings.
public protocol VirtualMemory: AnyObject {
  /// The byte order of the values in memory.
  var byteOrder: ByteOrder { get }
  /// The size of a pointer, in bytes.
  var pointerSize: Int { get }
  /// Copies `buffer.count` bytes at virtual `address` into `buffer`.
  ///
  /// - Throws: `DumpError` `.notMapped` when the page tables do not map an
  ///   address, `.notInDump` when the page is not in the dump.
  func read(virtual address: UInt64, into buffer: UnsafeMutableRawBufferPointer)
    throws(DumpError)
  /// The physical address `address` maps to.
  func translate(_ address: UInt64) throws(DumpError) -> UInt64
}

extension VirtualMemory {
  /// Copies virtual memory translating it page by page with `translate`
  /// (the shared body of `read(virtual:into:)` for page-mapped spaces).
  /// Pages that are contiguous in physical memory are read in one piece;
  /// a page the dump lacks is an error that names both addresses.
  public func readTranslatingPages(
    _ address: UInt64, into buffer: UnsafeMutableRawBufferPointer, from physical: PhysicalMemory,
    pageSize: Int = 4096
  ) throws(DumpError) {
    guard let base = buffer.baseAddress else { return }
    let mask = UInt64(pageSize - 1)
    var done = 0
    while done < buffer.count {
      let start = address &+ UInt64(done)
      let physicalStart = try translate(start)
      var length = min(buffer.count - done, pageSize - Int(start & mask))
      // Extend the run while the next page follows physically.
      while done + length < buffer.count {
        let next = start &+ UInt64(length)
        guard let nextPhysical = try? translate(next), nextPhysical == physicalStart &+ UInt64(length)
        else { break }
        length += min(buffer.count - done - length, pageSize)
      }
      do {
        try physical.read(
          at: physicalStart, into: UnsafeMutableRawBufferPointer(start: base + done, count: length))
      } catch {
        var located = error
        if located.kind == .notInDump {
          located.message += " (virtual 0x\(String(start, radix: 16)) and up)"
        }
        throw located
      }
      done += length
    }
  }

  /// Reads `count` bytes at a virtual address.
  public func read(virtual address: UInt64, count: Int) throws(DumpError) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: max(0, count))
    var failure: DumpError?
    bytes.withUnsafeMutableBytes { buffer in
      do throws(DumpError) { try read(virtual: address, into: buffer) } catch {
        failure = error
      }
    }
    if let failure { throw failure }
    return bytes
  }

  /// Reads an integer at a virtual address, in memory's byte order.
  public func readInteger<T: FixedWidthInteger>(_: T.Type, at address: UInt64)
    throws(DumpError) -> T
  {
    let bytes = try read(virtual: address, count: MemoryLayout<T>.size)
    return bytes.load(T.self, at: 0, byteOrder) ?? 0
  }

  /// Reads a pointer-sized value.
  public func readPointer(at address: UInt64) throws(DumpError) -> UInt64 {
    pointerSize == 8
      ? try readInteger(UInt64.self, at: address)
      : UInt64(try readInteger(UInt32.self, at: address))
  }

  /// Reads a NUL-terminated string of at most `limit` bytes.
  public func readCString(at address: UInt64, limit: Int = 4096) throws(DumpError) -> String {
    var bytes: [UInt8] = []
    var cursor = address
    while bytes.count < limit {
      let pageRemainder = Int(4096 - cursor % 4096)
      let chunk = try read(virtual: cursor, count: min(pageRemainder, limit - bytes.count))
      if let end = chunk.firstIndex(of: 0) {
        bytes += chunk[..<end]
        return String(decoding: bytes, as: UTF8.self)
      }
      bytes += chunk
      cursor &+= UInt64(chunk.count)
    }
    return String(decoding: bytes, as: UTF8.self)
  }
}
