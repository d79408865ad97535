import AddressTranslation
import DumpFormats

/// Something that finds the ORC entry covering a text address: the kernel's
/// and its modules' tables (`KernelOrcInfo`), or a test's fake.
public protocol OrcLookup: AnyObject {
  /// The entry for `address`, or nil when no table covers it.
  func orcEntry(for address: UInt64) -> OrcEntry?
}

/// One ORC table as the kernel keeps it: `orc_unwind_ip`, an array of 32-bit
/// offsets each relative to its own address, and `orc_unwind`, the parallel
/// array of `struct orc_entry`. The kernel sorts both at boot (or at build
/// time), so a binary search finds the last entry at or below an address.
public struct OrcTable: Sendable {
  /// The absolute start address of each entry's code range, ascending.
  public private(set) var addresses: [UInt64]
  /// The raw entries, `format.entrySize` bytes each, in the same order.
  private var entries: [UInt8]
  public let format: OrcFormat

  /// The most entries a table may have (vmlinux has about 400,000).
  public static let maximumCount = 1 << 22

  /// Reads a table from memory.
  ///
  /// - Parameters:
  ///   - ipTable: the address of the `int` offsets (`__start_orc_unwind_ip`
  ///     or a module's `orc_unwind_ip`).
  ///   - entryTable: the address of the entries.
  ///   - count: the number of entries.
  /// - Throws: `.corrupt` for an impossible count, or the read's error.
  public init(
    memory: VirtualMemory, ipTable: UInt64, entryTable: UInt64, count: Int, format: OrcFormat
  ) throws(DumpError) {
    guard count > 0, count <= Self.maximumCount else {
      throw DumpError(.corrupt, "an ORC table of \(count) entries")
    }
    guard let ipBytes = count *? 4, let entryBytes = count *? format.entrySize else {
      throw DumpError(.corrupt, "an ORC table of \(count) entries overflows")
    }
    let offsets = try memory.read(virtual: ipTable, count: ipBytes)
    let entries = try memory.read(virtual: entryTable, count: entryBytes)
    var addresses: [UInt64] = []
    addresses.reserveCapacity(count)
    var sorted = true
    for index in 0..<count {
      let relative = Int32(
        bitPattern: UInt32(offsets[4 * index]) | UInt32(offsets[4 * index + 1]) << 8
          | UInt32(offsets[4 * index + 2]) << 16 | UInt32(offsets[4 * index + 3]) << 24)
      let address = (ipTable &+ UInt64(4 * index)) &+ UInt64(bitPattern: Int64(relative))
      if let last = addresses.last, last > address { sorted = false }
      addresses.append(address)
    }
    self.format = format
    if sorted {
      self.addresses = addresses
      self.entries = entries
    } else {
      // A table the kernel has not sorted yet (a very early dump): sort a
      // copy, keeping equal addresses in table order.
      let order = addresses.indices.sorted {
        addresses[$0] != addresses[$1] ? addresses[$0] < addresses[$1] : $0 < $1
      }
      self.addresses = order.map { addresses[$0] }
      var copy: [UInt8] = []
      copy.reserveCapacity(entries.count)
      for index in order {
        copy += entries[(index * format.entrySize)..<((index + 1) * format.entrySize)]
      }
      self.entries = copy
    }
  }

  /// A table from already decoded parts (tests).
  public init(addresses: [UInt64], entries: [UInt8], format: OrcFormat) {
    let count = min(addresses.count, entries.count / max(format.entrySize, 1))
    self.addresses = Array(addresses.prefix(count))
    self.entries = entries
    self.format = format
  }

  /// The number of entries.
  public var count: Int { addresses.count }

  /// The lowest and highest covered addresses.
  public var first: UInt64? { addresses.first }
  public var last: UInt64? { addresses.last }

  /// The entry whose range holds `address`: the rightmost entry at or below
  /// it (the kernel's `__orc_find`), or nil below the first entry.
  public func entry(for address: UInt64) -> OrcEntry? {
    var low = 0
    var high = addresses.count
    while low < high {
      let middle = low + (high - low) / 2
      if addresses[middle] <= address { low = middle + 1 } else { high = middle }
    }
    guard low > 0 else { return nil }
    return format.decode(entries, at: (low - 1) * format.entrySize)
  }
}
