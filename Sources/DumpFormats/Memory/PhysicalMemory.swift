/// Whether a page's contents are in a dump.
public enum PageState: String, Sendable, Codable {
  /// The page's bytes are in the dump.
  case present
  /// The dumper left the page out on purpose (makedumpfile's dump level).
  case excluded
  /// The page should be in the dump but is not (truncated or incomplete).
  case missing
  /// The dump says nothing of this address (a hole, device memory…).
  case notCovered
}

/// How many pages a dump holds, leaves out on purpose, or lacks.
public struct PageCensus: Sendable, Equatable, Codable {
  public var present: UInt64 = 0
  public var excluded: UInt64 = 0
  public var missing: UInt64 = 0
  public init(present: UInt64 = 0, excluded: UInt64 = 0, missing: UInt64 = 0) {
    self.present = present
    self.excluded = excluded
    self.missing = missing
  }
}

/// A range of physical (or machine) addresses a dump describes.
public struct PhysicalRange: Sendable, Equatable {
  public var start: UInt64
  public var end: UInt64  // exclusive
  public init(start: UInt64, end: UInt64) {
    self.start = start
    self.end = end
  }
}

/// Physical memory as a dump holds it: a set of pages, each present, excluded
/// or missing, readable by address.
///
/// Readers serve whole pages; `read(at:count:)` spans pages and segments.
/// A page that is not present is an error (`.notInDump`) naming why, never
/// zeros passed off as data.
public protocol PhysicalMemory: AnyObject {
  var pageSize: Int { get }
  /// The address ranges the dump describes, sorted.
  var ranges: [PhysicalRange] { get }
  /// Whether page frame `pfn` is in the dump.
  func pageState(_ pfn: UInt64) -> PageState
  /// Copies `count` bytes at physical `address` into `buffer` (`count` may
  /// span pages).
  func read(at address: UInt64, into buffer: UnsafeMutableRawBufferPointer)
    throws(DumpError)
  /// Counts present, excluded and missing pages.
  func census() throws(DumpError) -> PageCensus
}

extension PhysicalMemory {
  /// One past the highest page frame the dump describes (saturating).
  public var pageFrameLimit: UInt64 {
    guard let end = ranges.map(\.end).max(), pageSize > 0 else { return 0 }
    let size = UInt64(pageSize)
    return end / size + (end % size == 0 ? 0 : 1)
  }

  /// Reads `count` bytes at physical `address`.
  public func read(at address: UInt64, count: Int) throws(DumpError) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: max(0, count))
    var failure: DumpError?
    bytes.withUnsafeMutableBytes { buffer in
      do throws(DumpError) { try read(at: address, into: buffer) } catch {
        failure = error
      }
    }
    if let failure { throw failure }
    return bytes
  }

  /// Reads one whole page.
  public func readPage(_ pfn: UInt64) throws(DumpError) -> [UInt8] {
    guard let address = pfn *? UInt64(pageSize) else {
      throw DumpError(.corrupt, "page frame number 0x\(String(pfn, radix: 16)) overflows")
    }
    return try read(at: address, count: pageSize)
  }

  /// Reads an integer at a physical address.
  public func readInteger<T: FixedWidthInteger>(
    _: T.Type, at address: UInt64, order: ByteOrder
  ) throws(DumpError) -> T {
    let bytes = try read(at: address, count: MemoryLayout<T>.size)
    return bytes.load(T.self, at: 0, order) ?? 0
  }
}
