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
    let lastPFN = reference.memory.pageFrameLimit
    #expect(lastPFN > 0)
    for (other, path) in zip(dumps.dropFirst(), paths.dropFirst()) {
      #expect(other.memory.pageSize == reference.memory.pageSize)
      var compared = 0
      var differing: [UInt64] = []
      for pfn in 0..<lastPFN
      where reference.memory.pageState(pfn) == .present && other.memory.pageState(pfn) == .present {
        let expected = try reference.memory.readPage(pfn)
        let actual = try other.memory.readPage(pfn)
        if expected != actual { differing.append(pfn) }
        compared += 1
      }
      #expect(compared > 1000, "only \(compared) shared pages between \(paths[0]) and \(path)")
      #expect(differing.isEmpty, "\(path): \(differing.count) pages differ, first 0x\(String(differing.first ?? 0, radix: 16))")
    }
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
