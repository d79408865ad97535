import DumpFormats

/// One step of a page-table walk: the table read, the index used and the
/// entry found. A verbose `vtop` prints these.
public struct WalkStep: Sendable, Equatable {
  /// "PML5", "PML4", "PDPT", "PD" or "PT".
  public var level: String
  public var tableAddress: UInt64
  public var index: Int
  public var entryAddress: UInt64
  public var entry: UInt64
}

/// Where a virtual address led.
public struct PageTranslation: Sendable, Equatable {
  public var virtualAddress: UInt64
  public var physicalAddress: UInt64
  /// The size of the page that maps it (4 KiB, 2 MiB or 1 GiB).
  public var pageSize: UInt64
  public var steps: [WalkStep]
}

/// The x86-64 page-table walk, 4-level (48-bit) or 5-level (57-bit, LA57).
///
/// Entries are 8 bytes; bit 0 is present, bit 7 (PS) maps a 1 GiB page at
/// the PDPT and a 2 MiB page at the PD; the frame address is bits 51..12,
/// less the memory-encryption bit (`sme_mask`) when there is one.
public struct X86PageTableWalk: Sendable, Equatable {
  /// The physical address of the top table (CR3 with the PCID and PTI bits
  /// cleared, or `init_top_pgt`'s physical address).
  public var root: UInt64
  public var levels: Int
  /// Bits to clear from entries besides the flags (`NUMBER(sme_mask)`).
  public var encryptionMask: UInt64

  static let frameMask: UInt64 = 0x000f_ffff_ffff_f000
  static let levelNames = ["PT", "PD", "PDPT", "PML4", "PML5"]

  public init(root: UInt64, levels: Int = 4, encryptionMask: UInt64 = 0) {
    self.root = root & Self.frameMask
    self.levels = levels == 5 ? 5 : 4
    self.encryptionMask = encryptionMask
  }

  /// Whether `address` is canonical for this paging mode.
  public func isCanonical(_ address: UInt64) -> Bool {
    let bits = levels == 5 ? 57 : 48
    let top = Int64(bitPattern: address) >> (bits - 1)
    return top == 0 || top == -1
  }

  /// Walks the tables for `address`.
  ///
  /// - Throws: `.notMapped` naming the level, index and entry when an entry
  ///   is not present; `.notInDump` when a table page is not in the dump.
  public func translate(_ address: UInt64, in memory: PhysicalMemory) throws(DumpError)
    -> PageTranslation
  {
    guard isCanonical(address) else {
      throw DumpError(
        .notMapped, "0x\(String(address, radix: 16)) is not a canonical \(levels)-level address")
    }
    var table = root
    var steps: [WalkStep] = []
    for level in stride(from: levels - 1, through: 0, by: -1) {
      let shift = UInt64(12 + 9 * level)
      let index = Int((address >> shift) & 0x1ff)
      let entryAddress = table + UInt64(index * 8)
      let entry: UInt64
      do {
        entry = try memory.readInteger(UInt64.self, at: entryAddress, order: .little)
      } catch {
        throw error.context(
          "reading the \(Self.levelNames[level]) entry for 0x\(String(address, radix: 16))")
      }
      steps.append(
        WalkStep(
          level: Self.levelNames[level], tableAddress: table, index: index,
          entryAddress: entryAddress, entry: entry))
      guard entry & 1 != 0 else {
        var error = DumpError(
          .notMapped,
          "0x\(String(address, radix: 16)) is not mapped: \(Self.levelNames[level]) entry \(index) "
            + "at 0x\(String(entryAddress, radix: 16)) is 0x\(String(entry, radix: 16)) (not present)")
        error.address = address
        throw error
      }
      let frame = entry & Self.frameMask & ~encryptionMask
      if level == 0 || ((level == 1 || level == 2) && entry & 0x80 != 0) {
        let size = UInt64(1) << shift
        let base = frame & ~(size - 1)
        return PageTranslation(
          virtualAddress: address, physicalAddress: base | (address & (size - 1)),
          pageSize: size, steps: steps)
      }
      table = frame
    }
    throw DumpError(.corrupt, "page walk for 0x\(String(address, radix: 16)) did not end")
  }
}
