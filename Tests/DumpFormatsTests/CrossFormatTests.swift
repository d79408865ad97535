import CoronerTestSupport
import DumpFormats
import Foundation
import Testing

/// Every container of one real kdump must hold the same bytes for every page
/// two of them both hold.
@Suite struct CrossFormatTests {
  static let kdumpFolders = Fixtures.folders.filter {
    ((try? Fixtures.dumps(in: $0).count) ?? 0) >= 2
  }

  @Test func fixturesExist() throws {
    #expect(!Fixtures.folders.isEmpty, "no fixture folders under \(Fixtures.root.path)")
    #expect(!Self.kdumpFolders.isEmpty, "no fixture holds two containers of one dump")
  }

  @Test(arguments: kdumpFolders)
  func sharedPagesAreIdentical(folder: URL) throws {
    let paths = try Fixtures.dumps(in: folder)
    let dumps = try paths.map { try DumpFile.open(path: $0) }
    let reference = dumps[0]
    for (other, path) in zip(dumps.dropFirst(), paths.dropFirst()) {
      // Formats of one dump may use different page sizes (QEMU writes
      // arm64 kdumps in 64 KiB blocks): compare blocks of the larger size
      // that both hold whole.
      let block = UInt64(max(reference.memory.pageSize, other.memory.pageSize))
      let limit = min(
        reference.memory.pageFrameLimit * UInt64(reference.memory.pageSize),
        other.memory.pageFrameLimit * UInt64(other.memory.pageSize)) / block
      #expect(limit > 0)
      var compared = 0
      var differing: [UInt64] = []
      for index in 0..<limit {
        let address = index * block
        guard Self.holdsWhole(reference.memory, address, block), Self.holdsWhole(other.memory, address, block)
        else { continue }
        let expected = try reference.memory.read(at: address, count: Int(block))
        let actual = try other.memory.read(at: address, count: Int(block))
        if expected != actual { differing.append(address) }
        compared += Int(block / 4096)
      }
      #expect(compared > 1000, "only \(compared) shared pages between \(paths[0]) and \(path)")
      #expect(differing.isEmpty, "\(path): \(differing.count) blocks differ, first at 0x\(String(differing.first ?? 0, radix: 16))")
    }
  }

  /// Whether every page of `[address, address + length)` is present.
  static func holdsWhole(_ memory: PhysicalMemory, _ address: UInt64, _ length: UInt64) -> Bool {
    let size = UInt64(memory.pageSize)
    var pfn = address / size
    while pfn * size < address + length {
      if memory.pageState(pfn) != .present { return false }
      pfn += 1
    }
    return true
  }

  @Test(arguments: kdumpFolders)
  func presentPageCountsAddUp(folder: URL) throws {
    for path in try Fixtures.dumps(in: folder) {
      let dump = try DumpFile.open(path: path)
      let census = try dump.memory.census()
      #expect(census.present > 1000, "\(path)")
      #expect(census.missing == 0, "\(path)")
      // Every page the census counts present reads back.
      var counted: UInt64 = 0
      let lastPFN = dump.memory.pageFrameLimit
      for pfn in 0..<lastPFN where dump.memory.pageState(pfn) == .present { counted += 1 }
      #expect(counted == census.present, "\(path)")
    }
  }
}
