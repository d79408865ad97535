import AddressTranslation
import CoronerTestSupport
import DumpFormats
import Testing

/// Page-table walks over tables written by hand: each level, large pages,
/// 5 levels, and the errors that name the level, index and entry.
@Suite struct X86PageTableWalkTests {
  static let present: UInt64 = 0x063  // present, writable, accessed, dirty
  static let large: UInt64 = 0x80

  /// PML4 at 0x1000 → PDPT 0x2000 → PD 0x3000 → PT 0x4000 → page 0x9000.
  static func fourLevelTables() -> FlatPhysicalMemory {
    let memory = FlatPhysicalMemory(size: 0x40_0000)
    let address: UInt64 = 0xffff_8880_0020_3000  // PML4 273, PDPT 0, PD 1, PT 3
    memory.store(0x2000 | present, at: 0x1000 + 273 * 8)
    memory.store(0x3000 | present, at: 0x2000 + 0 * 8)
    memory.store(0x4000 | present, at: 0x3000 + 1 * 8)
    memory.store(0x9000 | present | (1 << 63), at: 0x4000 + 3 * 8)
    _ = address
    return memory
  }

  @Test func walksFourLevels() throws {
    let memory = Self.fourLevelTables()
    let walk = X86PageTableWalk(root: 0x1000, levels: 4)
    let result = try walk.translate(0xffff_8880_0020_3abc, in: memory)
    #expect(result.physicalAddress == 0x9abc)
    #expect(result.pageSize == 4096)
    #expect(result.steps.map(\.level) == ["PML4", "PDPT", "PD", "PT"])
    #expect(result.steps.map(\.index) == [273, 0, 1, 3])
    #expect(result.steps.last?.entryAddress == 0x4000 + 24)
  }

  @Test func largePagesAndNotPresent() throws {
    let memory = Self.fourLevelTables()
    memory.store(0x20_0000 | Self.present | Self.large, at: 0x3000 + 2 * 8)  // 2 MiB page
    memory.store(0x4000_0000 | Self.present | Self.large, at: 0x2000 + 1 * 8)  // 1 GiB page
    let walk = X86PageTableWalk(root: 0x1000, levels: 4)
    let twoMiB = try walk.translate(0xffff_8880_0041_2345, in: memory)
    #expect(twoMiB.physicalAddress == 0x21_2345)
    #expect(twoMiB.pageSize == 2 << 20)
    let oneGiB = try walk.translate(0xffff_8880_4012_3456, in: memory)
    #expect(oneGiB.physicalAddress == 0x4012_3456)
    #expect(oneGiB.pageSize == 1 << 30)
    let error = #expect(throws: DumpError.self) {
      try walk.translate(0xffff_8880_00a0_0000, in: memory)  // PD entry 5 is empty
    }
    #expect(error?.kind == .notMapped)
    #expect(error?.message.contains("PD entry 5") == true)
    #expect(throws: DumpError.self) { try walk.translate(0x0000_8000_0000_0000, in: memory) }
  }

  @Test func walksFiveLevels() throws {
    let memory = FlatPhysicalMemory(size: 0x20_0000)
    // PML5 0x1000 [273] → PML4 0x2000 [0] → PDPT 0x3000 [0] → PD 0x4000 [0], a 2 MiB page.
    let address: UInt64 = 0xff11_0000_0000_1234
    memory.store(0x2000 | Self.present, at: 0x1000 + 273 * 8)
    memory.store(0x3000 | Self.present, at: 0x2000)
    memory.store(0x4000 | Self.present, at: 0x3000)
    memory.store(0x20_0000 | Self.present | Self.large, at: 0x4000)
    let walk = X86PageTableWalk(root: 0x1000, levels: 5)
    let result = try walk.translate(address, in: memory)
    #expect(result.steps.map(\.level) == ["PML5", "PML4", "PDPT", "PD"])
    #expect(result.physicalAddress == 0x20_1234)
    // The same address is not canonical with 4 levels.
    #expect(throws: DumpError.self) { try X86PageTableWalk(root: 0x1000, levels: 4).translate(address, in: memory) }
  }

  @Test func tablesOutsideMemoryAreErrorsNotTraps() {
    let memory = FlatPhysicalMemory(size: 0x2000)
    memory.store(0xffff_ffff_f000 | Self.present, at: 0x1000 + 511 * 8)
    let walk = X86PageTableWalk(root: 0x1000, levels: 4)
    #expect(throws: DumpError.self) { try walk.translate(0xffff_ff80_0000_0000, in: memory) }
  }

  @Test func kernelImageSearchFindsTheTextStart() throws {
    // A kernel image mapped at 0xffffffff9e000000 (KASLR) from physical 0x20_0000
    // through a 2 MiB page: PML4 511 → PDPT 510 → PD 240.
    let memory = FlatPhysicalMemory(size: 0x40_0000)
    memory.store(0x2000 | Self.present, at: 0x1000 + 511 * 8)
    memory.store(0x3000 | Self.present, at: 0x2000 + 510 * 8)
    memory.store(0x20_0000 | Self.present | Self.large, at: 0x3000 + 240 * 8)
    let found = try #require(KernelImageSearch.locate(using: X86PageTableWalk(root: 0x1000), in: memory))
    #expect(found.textStart == 0xffff_ffff_9e00_0000)
    #expect(found.kaslrOffset == 0x1d00_0000)
    #expect(found.physBase == 0x20_0000 &- 0x1e00_0000)
  }
}
