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
/// array of `struct orc_entry`. The tables are sorted (by `sorttable` at
/// build time for vmlinux, by the module loader for modules), so a binary
/// search finds the last entry at or below an address, as the kernel's own
/// `__orc_find` does.
///
/// A table read from a dump is searched in place: a lookup reads the ~20
/// offsets its binary search probes and one entry, instead of the whole
/// table (vmlinux has about 400,000 entries, some 4 MB), which a backtrace
/// of a dozen frames never needs.
public struct OrcTable {
  private enum Storage {
    case loaded(addresses: [UInt64], entries: [UInt8])
    case inMemory(memory: VirtualMemory, ipTable: UInt64, entryTable: UInt64, count: Int)
  }

  private let storage: Storage
  public let format: OrcFormat

  /// The most entries a table may have (vmlinux has about 400,000).
  public static let maximumCount = 1 << 22

  /// A table in the dump's memory.
  ///
  /// - Parameters:
  ///   - ipTable: the address of the `int` offsets (`__start_orc_unwind_ip`
  ///     or a module's `orc_unwind_ip`).
  ///   - entryTable: the address of the entries.
  ///   - count: the number of entries.
  /// - Throws: `.corrupt` for an impossible count, or the error of reading
  ///   the first and last offsets.
  public init(
    memory: VirtualMemory, ipTable: UInt64, entryTable: UInt64, count: Int, format: OrcFormat
  ) throws(DumpError) {
    guard count > 0, count <= Self.maximumCount else {
      throw DumpError(.corrupt, "an ORC table of \(count) entries")
    }
    guard count *? format.entrySize != nil else {
      throw DumpError(.corrupt, "an ORC table of \(count) entries overflows")
    }
    storage = .inMemory(memory: memory, ipTable: ipTable, entryTable: entryTable, count: count)
    self.format = format
    // Read both ends now, so an unreadable table fails here, not mid-walk.
    _ = try address(at: 0)
    _ = try address(at: count - 1)
  }

  /// A table already in memory (tests, fakes).
  public init(addresses: [UInt64], entries: [UInt8], format: OrcFormat) {
    let count = min(addresses.count, entries.count / max(format.entrySize, 1))
    storage = .loaded(addresses: Array(addresses.prefix(count)), entries: entries)
    self.format = format
  }

  /// The number of entries.
  public var count: Int {
    switch storage {
    case .loaded(let addresses, _): return addresses.count
    case .inMemory(_, _, _, let count): return count
    }
  }

  /// The lowest and highest covered addresses.
  public var first: UInt64? { count > 0 ? try? address(at: 0) : nil }
  public var last: UInt64? { count > 0 ? try? address(at: count - 1) : nil }

  /// The start address of entry `index`.
  func address(at index: Int) throws(DumpError) -> UInt64 {
    switch storage {
    case .loaded(let addresses, _):
      return addresses[index]
    case .inMemory(let memory, let ipTable, _, _):
      let slot = ipTable &+ UInt64(4 * index)
      let relative = try memory.readInteger(Int32.self, at: slot)
      return slot &+ UInt64(bitPattern: Int64(relative))
    }
  }

  /// The entry whose range holds `address`: the rightmost entry at or below
  /// it (the kernel's `__orc_find`), or nil below the first entry or when
  /// the table cannot be read.
  public func entry(for address: UInt64) -> OrcEntry? {
    var low = 0
    var high = count
    while low < high {
      let middle = low + (high - low) / 2
      guard let probe = try? self.address(at: middle) else { return nil }
      if probe <= address { low = middle + 1 } else { high = middle }
    }
    guard low > 0 else { return nil }
    let index = low - 1
    switch storage {
    case .loaded(_, let entries):
      return format.decode(entries, at: index * format.entrySize)
    case .inMemory(let memory, _, let entryTable, _):
      guard
        let bytes = try? memory.read(
          virtual: entryTable &+ UInt64(index * format.entrySize), count: format.entrySize)
      else { return nil }
      return format.decode(bytes, at: 0)
    }
  }
}
