#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// The sorted, name-hashed table behind `KallsymsSymbols` and
/// `SystemMapSymbols`: parallel arrays (address, type letter, name bytes in
/// one shared buffer, optional module) sorted by address, sizes taken from the
/// next distinct address the way the kernel prints `func+off/size`, and a
/// hash of the names built on demand.
///
/// Names are kept as bytes and become `String`s only when a `Symbol` is
/// built, so that loading 200,000 symbols costs a few milliseconds. Not
/// thread-safe: the name hash is built lazily by the first lookups.
struct KallsymsSymbolTable {
  /// Run-time addresses, ascending.
  private(set) var addresses: [UInt64]
  /// Type letters (ASCII), as `nm` and /proc/kallsyms print them.
  private(set) var types: [UInt8]
  /// All names, back to back, without terminators.
  private var nameBytes: [UInt8]
  /// Where each name starts in `nameBytes`; one more entry than symbols.
  private var nameStarts: [UInt32]
  /// Module names, and each symbol's index in it plus one (0: the kernel
  /// image); empty when no symbol has a module.
  private var modules: [String]
  private var moduleIndices: [UInt16]
  /// The name hash, built once, on the first lookup past
  /// `scannedLookups` (a few lookups scan the names of the right length
  /// instead, which is cheaper than building it).
  private let nameIndex = NameIndex()

  /// The name hash, as buckets of entries (a counting sort by hash, built
  /// with sequential passes and small random-access arrays): bucket `b`
  /// holds `entries[bucketStarts[b]..<bucketStarts[b + 1]]`, each a name's
  /// 32-bit hash above its symbol index, in index order.
  private final class NameIndex {
    var bucketStarts: [UInt32] = []
    var entries: [UInt64] = []
    var lookups = 0
  }

  /// Lookups served by scanning before the hash is built.
  static let scannedLookups = 8

  /// How many symbols the table holds.
  var count: Int { addresses.count }

  /// The most symbols a table may hold (kernels have a few hundred thousand).
  static let maximumCount = 1 << 24

  /// Builds a table from parallel arrays; sorts them by address (stably) when
  /// they are not sorted yet.
  ///
  /// - Parameters:
  ///   - nameStarts: `addresses.count + 1` offsets into `nameBytes`,
  ///     non-decreasing, the last one at most `nameBytes.count`.
  ///   - moduleIndices: empty, or one entry per symbol (0 for none, else an
  ///     index into `modules` plus one).
  init?(
    addresses: [UInt64], types: [UInt8], nameBytes: [UInt8], nameStarts: [UInt32],
    modules: [String] = [], moduleIndices: [UInt16] = []
  ) {
    let count = addresses.count
    guard count <= Self.maximumCount, types.count == count, nameStarts.count == count + 1,
      moduleIndices.isEmpty || moduleIndices.count == count
    else { return nil }
    // The name offsets must stay inside the buffer, in order.
    var previous: UInt32 = 0
    for start in nameStarts {
      guard start >= previous, Int(start) <= nameBytes.count else { return nil }
      previous = start
    }
    for index in moduleIndices where Int(index) > modules.count { return nil }

    var sorted = true
    for index in addresses.indices.dropFirst() where addresses[index - 1] > addresses[index] {
      sorted = false
      break
    }
    if sorted {
      self.addresses = addresses
      self.types = types
      self.nameBytes = nameBytes
      self.nameStarts = nameStarts
      self.moduleIndices = moduleIndices
    } else {
      // A stable sort by address: equal addresses keep their order, which
      // decides which alias the kernel prints.
      let order = addresses.indices.sorted {
        addresses[$0] != addresses[$1] ? addresses[$0] < addresses[$1] : $0 < $1
      }
      self.addresses = order.map { addresses[$0] }
      self.types = order.map { types[$0] }
      self.moduleIndices = moduleIndices.isEmpty ? [] : order.map { moduleIndices[$0] }
      var bytes: [UInt8] = []
      bytes.reserveCapacity(nameBytes.count)
      var starts: [UInt32] = [0]
      starts.reserveCapacity(count + 1)
      for index in order {
        bytes += nameBytes[Int(nameStarts[index])..<Int(nameStarts[index + 1])]
        starts.append(UInt32(truncatingIfNeeded: bytes.count))
      }
      self.nameBytes = bytes
      self.nameStarts = starts
    }
    self.modules = modules
  }

  /// The distance from symbol `index` to the next distinct address, or nil
  /// for the last symbol and the last one before a jump between the lower
  /// half (per-CPU offsets) and the kernel half.
  func size(at index: Int) -> UInt64? {
    let address = addresses[index]
    var next = index + 1
    while next < addresses.count, addresses[next] == address { next += 1 }
    guard next < addresses.count, addresses[next] >> 63 == address >> 63 else { return nil }
    return addresses[next] - address
  }

  // MARK: Names

  /// A hash of a name, a word at a time. `readable` is how many bytes may be
  /// read from the name's start (at least its length): with 8 or more, the
  /// last partial word is read whole and masked.
  @inline(__always)
  private static func hash(_ bytes: UnsafeBufferPointer<UInt8>, readable: Int) -> UInt64 {
    guard let base = bytes.baseAddress else { return 0x9e37_79b9_7f4a_7c15 }
    let raw = UnsafeRawPointer(base)
    let count = bytes.count
    var value = 0x9e37_79b9_7f4a_7c15 ^ UInt64(count)
    var position = 0
    while position + 8 <= count {
      value =
        (value ^ raw.loadUnaligned(fromByteOffset: position, as: UInt64.self))
        &* 0xff51_afd7_ed55_8ccd
      value ^= value >> 29
      position += 8
    }
    var tail: UInt64 = 0
    let left = count - position
    if left > 0 {
      if readable - position >= 8 {
        let word = UInt64(
          littleEndian: raw.loadUnaligned(fromByteOffset: position, as: UInt64.self))
        tail = word & ((1 << UInt64(8 * left)) &- 1)
      } else {
        var shift: UInt64 = 0
        while position < count {
          tail |= UInt64(base[position]) << shift
          shift += 8
          position += 1
        }
      }
    }
    value = (value ^ tail) &* 0xc4ce_b9fe_1a85_ec53
    return value ^ (value >> 32)
  }

  /// Whether a type letter is a global one (uppercase).
  @inline(__always)
  private static func isGlobal(_ type: UInt8) -> Bool { type >= 0x41 && type <= 0x5a }

  /// Fills the buckets.
  private func buildHash() {
    let count = addresses.count
    var bucketCount = 16
    while bucketCount < count / 2 { bucketCount <<= 1 }
    let shift = UInt64(64 - bucketCount.trailingZeroBitCount)
    // Hashes, in one sequential pass over the names.
    let hashes = [UInt64](unsafeUninitializedCapacity: count) { hashes, initialized in
      nameBytes.withUnsafeBufferPointer { bytes in
        nameStarts.withUnsafeBufferPointer { starts in
          for index in 0..<count {
            let start = Int(starts[index])
            hashes[index] = Self.hash(
              UnsafeBufferPointer(rebasing: bytes[start..<Int(starts[index + 1])]),
              readable: bytes.count - start)
          }
        }
      }
      initialized = count
    }
    // Counting sort by bucket (the hash's top bits).
    var starts = [UInt32](repeating: 0, count: bucketCount + 1)
    var entries = [UInt64](repeating: 0, count: count)
    hashes.withUnsafeBufferPointer { hashes in
      starts.withUnsafeMutableBufferPointer { starts in
        for hash in hashes { starts[Int(truncatingIfNeeded: hash >> shift) + 1] += 1 }
        for bucket in 0..<bucketCount { starts[bucket + 1] += starts[bucket] }
        entries.withUnsafeMutableBufferPointer { entries in
          // Backwards, filling each bucket from its end: index order within.
          var index = count - 1
          while index >= 0 {
            let hash = hashes[index]
            let bucket = Int(truncatingIfNeeded: hash >> shift)
            // The end of the bucket moves down; restored below.
            starts[bucket + 1] -= 1
            entries[Int(starts[bucket + 1])] = (hash & 0xffff_ffff_0000_0000) | UInt64(index)
            index -= 1
          }
        }
        // Entry b + 1 now holds bucket b's start: shift down by one.
        for bucket in 0..<bucketCount { starts[bucket] = starts[bucket + 1] }
        starts[bucketCount] = UInt32(truncatingIfNeeded: count)
      }
    }
    nameIndex.bucketStarts = starts
    nameIndex.entries = entries
  }

  @inline(__always)
  private static func equal(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>)
    -> Bool
  {
    guard a.count == b.count else { return false }
    guard let left = a.baseAddress, let right = b.baseAddress else { return true }
    return memcmp(left, right, a.count) == 0
  }

  /// The index of the symbol called `name`, or nil; with duplicate names
  /// the first global symbol, else the first (lowest address).
  func index(of name: String) -> Int? {
    if nameIndex.bucketStarts.isEmpty {
      nameIndex.lookups += 1
      if nameIndex.lookups <= Self.scannedLookups { return scan(for: name) }
      buildHash()
    }
    var name = name
    return name.withUTF8 { query -> Int? in
      let bucketStarts = nameIndex.bucketStarts
      let entries = nameIndex.entries
      let bucketCount = bucketStarts.count - 1
      guard bucketCount > 0 else { return nil }
      let shift = UInt64(64 - bucketCount.trailingZeroBitCount)
      let hash = Self.hash(query, readable: query.count)
      let tag = hash & 0xffff_ffff_0000_0000
      let bucket = Int(truncatingIfNeeded: hash >> shift)
      var found: Int?
      nameBytes.withUnsafeBufferPointer { bytes in
        nameStarts.withUnsafeBufferPointer { starts in
          for entry in entries[Int(bucketStarts[bucket])..<Int(bucketStarts[bucket + 1])]
          where entry & 0xffff_ffff_0000_0000 == tag {
            let index = Int(entry & 0xffff_ffff)
            let other = UnsafeBufferPointer(
              rebasing: bytes[Int(starts[index])..<Int(starts[index + 1])])
            guard Self.equal(query, other) else { continue }
            if Self.isGlobal(types[index]) {
              found = index
              return
            }
            if found == nil { found = index }
          }
        }
      }
      return found
    }
  }

  /// `index(of:)` for several names at once, in one scan of the names,
  /// without counting towards the scanned lookups.
  func indices(of names: [String]) -> [String: Int] {
    let queries = names.map { Array($0.utf8) }
    // Which lengths are wanted, as a table indexed by length.
    let longest = queries.map(\.count).max() ?? 0
    var wanted = [Bool](repeating: false, count: longest + 1)
    for query in queries { wanted[query.count] = true }
    var found: [Int?] = Array(repeating: nil, count: queries.count)
    var settled = Array(repeating: false, count: queries.count)
    nameBytes.withUnsafeBufferPointer { bytes in
      nameStarts.withUnsafeBufferPointer { starts in
        for index in 0..<(starts.count - 1) {
          let length = Int(starts[index + 1] &- starts[index])
          guard length <= longest, wanted[length] else { continue }
          let other = UnsafeBufferPointer(
            rebasing: bytes[Int(starts[index])..<Int(starts[index + 1])])
          for (number, query) in queries.enumerated() where !settled[number] {
            let matches = query.withUnsafeBufferPointer { Self.equal($0, other) }
            guard matches else { continue }
            if Self.isGlobal(types[index]) {
              found[number] = index
              settled[number] = true
            } else if found[number] == nil {
              found[number] = index
            }
          }
        }
      }
    }
    var result: [String: Int] = [:]
    for (number, name) in names.enumerated() {
      if let index = found[number] { result[name] = index }
    }
    return result
  }

  /// `index(of:)` by a scan of the names of the same length.
  private func scan(for name: String) -> Int? {
    var name = name
    return name.withUTF8 { query -> Int? in
      guard query.count <= Int(UInt32.max) else { return nil }
      let length = UInt32(truncatingIfNeeded: query.count)
      var found: Int?
      nameBytes.withUnsafeBufferPointer { bytes in
        nameStarts.withUnsafeBufferPointer { starts in
          types.withUnsafeBufferPointer { types in
            for index in 0..<(starts.count - 1)
            where starts[index + 1] &- starts[index] == length {
              let other = UnsafeBufferPointer(
                rebasing: bytes[Int(starts[index])..<Int(starts[index + 1])])
              guard Self.equal(query, other) else { continue }
              if Self.isGlobal(types[index]) {
                found = index
                return
              }
              if found == nil { found = index }
            }
          }
        }
      }
      return found
    }
  }

  /// The name of symbol `index`.
  func name(at index: Int) -> String {
    nameBytes.withUnsafeBufferPointer { bytes in
      String(
        decoding: UnsafeBufferPointer(
          rebasing: bytes[Int(nameStarts[index])..<Int(nameStarts[index + 1])]),
        as: UTF8.self)
    }
  }

  /// Symbol `index` as a `Symbol`.
  func symbol(at index: Int) -> Symbol {
    let module: String? =
      moduleIndices.isEmpty || moduleIndices[index] == 0
      ? nil : modules[Int(moduleIndices[index]) - 1]
    return Symbol(
      name: name(at: index), address: addresses[index],
      type: Character(Unicode.Scalar(types[index])),
      size: size(at: index), module: module)
  }

  // MARK: Addresses

  /// The symbol that contains `address`: the nearest at or below it; among
  /// symbols at the same address the first text symbol (`T`/`t`), else the
  /// first in table order, as the kernel prints them. A symbol of unknown
  /// size only matches its own address.
  func index(containing address: UInt64) -> Int? {
    guard let lowest = addresses.first, address >= lowest else { return nil }
    var low = 0
    var high = addresses.count
    while low < high {
      let middle = low + (high - low) / 2
      if addresses[middle] <= address { low = middle + 1 } else { high = middle }
    }
    let last = low - 1
    let start = addresses[last]
    var runStart = last
    while runStart > 0, addresses[runStart - 1] == start { runStart -= 1 }
    var chosen = runStart
    for index in runStart...last where types[index] == 0x54 || types[index] == 0x74 {
      chosen = index
      break
    }
    if address != start, size(at: chosen) == nil { return nil }
    return chosen
  }
}
