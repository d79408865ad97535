import DumpFormats

/// Physical memory held in an array, from address 0: page-table walks and
/// kernel-structure walkers can be tested on tables written by hand.
public final class FlatPhysicalMemory: PhysicalMemory {
  public var bytes: [UInt8]
  public let pageSize = 4096
  public init(size: Int) { bytes = [UInt8](repeating: 0, count: size) }

  public var ranges: [PhysicalRange] { [PhysicalRange(start: 0, end: UInt64(bytes.count))] }

  public func pageState(_ pfn: UInt64) -> PageState {
    pfn < UInt64(bytes.count / pageSize) ? .present : .notCovered
  }

  public func read(at address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(DumpError) {
    guard address <= UInt64(bytes.count), UInt64(buffer.count) <= UInt64(bytes.count) - address else {
      throw DumpError.notInDump(address: address, .notCovered)
    }
    let start = Int(address)
    bytes.withUnsafeBytes { source in
      buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[start..<(start + buffer.count)]))
    }
  }

  public func census() throws(DumpError) -> PageCensus {
    PageCensus(present: UInt64(bytes.count / pageSize))
  }

  /// Writes a little-endian 64-bit value.
  public func store(_ value: UInt64, at address: Int) {
    for index in 0..<8 { bytes[address + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(index))) }
  }
}
