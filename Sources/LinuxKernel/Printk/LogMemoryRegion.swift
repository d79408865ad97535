import AddressTranslation
import DumpFormats

/// A copy of a range of kernel virtual memory holding part of the log: read
/// with one large read when every page is in the dump, otherwise page by page,
/// keeping the pages that could be read and remembering the others as holes.
///
/// A filtered dump may leave out pages of the log's arrays (makedumpfile
/// drops pages full of zeros, which an unused tail of a ring is); only the
/// records that touch a hole are lost.
struct LogMemoryRegion {
  /// The granule of holes: the smallest page size of the architectures read.
  static let granule = 4096

  /// The virtual address of `bytes[0]`.
  let address: UInt64
  /// The bytes; holes read as zeros.
  private(set) var bytes: [UInt8]
  /// The unreadable parts of `bytes`, sorted and disjoint.
  private(set) var holes: [Range<Int>] = []
  /// The first error a read met, to explain the holes.
  private(set) var firstError: DumpError?

  /// Reads `count` bytes at `address` (the caller bounds `count` by the caps
  /// on ring sizes).
  init(
    memory: VirtualMemory, address: UInt64, count: Int, what: String
  ) throws(DumpError) {
    guard count >= 0 else { throw DumpError(.corrupt, "\(what) has a negative size") }
    guard let end = address +? UInt64(count), end >= address else {
      throw DumpError(
        .corrupt,
        "\(what) at 0x\(String(address, radix: 16)) with \(count) bytes runs past the end of the address space"
      )
    }
    self.address = address
    var bytes = [UInt8](repeating: 0, count: count)
    var holes: [Range<Int>] = []
    var firstError: DumpError?
    bytes.withUnsafeMutableBytes { buffer in
      do throws(DumpError) {
        try memory.read(virtual: address, into: buffer)
        return
      } catch {
        firstError = error
      }
      // Page by page: at most count / granule + 1 reads.
      guard let base = buffer.baseAddress else { return }
      var done = 0
      while done < count {
        let current = address &+ UInt64(done)
        let length = min(count - done, Self.granule - Int(current % UInt64(Self.granule)))
        let chunk = UnsafeMutableRawBufferPointer(start: base + done, count: length)
        do throws(DumpError) {
          try memory.read(virtual: current, into: chunk)
        } catch {
          chunk.initializeMemory(as: UInt8.self, repeating: 0)
          if let last = holes.last, last.upperBound == done {
            holes[holes.count - 1] = last.lowerBound..<(done + length)
          } else {
            holes.append(done..<(done + length))
          }
        }
        done += length
      }
    }
    self.bytes = bytes
    self.holes = holes
    self.firstError = holes.isEmpty ? nil : firstError?.context("reading \(what)")
  }

  /// A region standing for memory that could not be read at all.
  init(unreadable address: UInt64, count: Int, error: DumpError) {
    self.address = address
    bytes = []
    holes = count > 0 ? [0..<count] : []
    firstError = error
  }

  /// Whether every byte of `range` was read.
  func isReadable(_ range: Range<Int>) -> Bool {
    guard range.lowerBound >= 0, range.upperBound <= bytes.count else { return false }
    if holes.isEmpty || range.isEmpty { return true }
    // The first hole that ends after the range starts.
    var low = 0
    var high = holes.count
    while low < high {
      let middle = (low + high) / 2
      if holes[middle].upperBound <= range.lowerBound { low = middle + 1 } else { high = middle }
    }
    return low == holes.count || holes[low].lowerBound >= range.upperBound
  }

  /// An unsigned integer of `width` bytes (1, 2, 4 or 8) at `offset`, in
  /// `order`; nil outside the region.
  func unsigned(at offset: Int, width: Int, _ order: ByteOrder) -> UInt64? {
    guard offset >= 0, width > 0, width <= 8, offset <= bytes.count - width else { return nil }
    var value: UInt64 = 0
    for index in 0..<width {
      let byte = UInt64(bytes[offset + index])
      switch order {
      case .little: value |= byte << (8 * UInt64(index))
      case .big: value = value << 8 | byte
      }
    }
    return value
  }

  /// A NUL-terminated string of at most `length` bytes at `offset`; nil when
  /// it is empty or outside the region.
  func string(at offset: Int, length: Int) -> String? {
    guard offset >= 0, length > 0, offset <= bytes.count - length else { return nil }
    let raw = bytes[offset..<(offset + length)].prefix { $0 != 0 }
    return raw.isEmpty ? nil : String(decoding: raw, as: UTF8.self)
  }

  /// A copy of `range`, which must lie inside the region.
  func slice(_ range: Range<Int>) -> [UInt8] {
    guard range.lowerBound >= 0, range.upperBound <= bytes.count else { return [] }
    return Array(bytes[range])
  }
}
