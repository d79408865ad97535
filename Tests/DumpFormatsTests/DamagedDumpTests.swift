import CoronerTestSupport
import DumpFormats
import Foundation
import Testing

/// Cut-short and corrupted copies of real fixtures: no trap, no hang, a
/// clear error or a partial answer that says what is missing.
@Suite struct DamagedDumpTests {
  /// One dump of each kind of container among the fixtures (ELF32, ELF64,
  /// kdump with each compression, flattened), so every parser is swept.
  static let samples: [String] = {
    var seen = Set<String>()
    var chosen: [String] = []
    for path in Fixtures.folders.flatMap({ (try? Fixtures.dumps(in: $0)) ?? [] }) {
      guard let dump = try? DumpFile.open(path: path) else { continue }
      let kind = "\(dump.format)-\(dump.isFlattened)-\(dump.compressions)-\(dump.architecture)"
      if seen.insert(kind).inserted { chosen.append(path) }
    }
    return chosen
  }()

  /// Opens the damaged dump, takes its census and reads a spread of pages.
  /// Returns the number of pages read and the kinds of errors met.
  @discardableResult
  static func exercise(_ source: ByteSource) -> (opened: Bool, read: Int, errors: Set<String>) {
    let dump: DumpFile
    do {
      dump = try DumpFile(source: source)
    } catch {
      return (false, 0, [error.kind.description])
    }
    var errors = Set<String>()
    var read = 0
    _ = dump.notes.count
    do { _ = try dump.memory.census() } catch { errors.insert(error.kind.description) }
    let lastPFN = dump.memory.pageFrameLimit
    let stride = max(1, lastPFN / 16)
    var pfn: UInt64 = 0
    while pfn < lastPFN {
      _ = dump.memory.pageState(pfn)
      do {
        _ = try dump.memory.readPage(pfn)
        read += 1
      } catch {
        errors.insert(error.kind.description)
      }
      pfn += stride
    }
    return (true, read, errors)
  }

  @Test func samplesExist() {
    #expect(Self.samples.count >= 3)
  }

  @Test(arguments: samples)
  func truncatedCopies(path: String) throws {
    let file = try FileByteSource(path: path)
    var cuts: [UInt64] = [0, 1, 4, 7, 8, 12, 16, 52, 64, 100, 463, 464, 512, 4095, 4096, 4097, 8192, 12288]
    cuts += (1..<8).map { file.size / 8 * $0 }
    cuts.append(file.size - 1)
    var generator = SeededGenerator(seed: 2)
    cuts += (0..<8).map { _ in UInt64.random(in: 0..<file.size, using: &generator) }
    for cut in cuts where cut < file.size {
      Self.exercise(DamagedByteSource(file, length: cut))
    }
    // A dump cut in half still opens (headers are at the front) and says
    // that pages are missing rather than inventing them.
    let half = DamagedByteSource(file, length: file.size / 2)
    if let dump = try? DumpFile(source: half) {
      let census = try dump.memory.census()
      #expect(census.missing > 0, "\(path): a half file reports no missing pages")
    }
  }

  @Test(arguments: samples)
  func corruptedHeaders(path: String) throws {
    let file = try FileByteSource(path: path)
    // Every 4th byte of the first 512 (every header field is hit), then
    // bytes spread over the first 64 KiB (bitmaps, descriptors, notes).
    var positions = Array(stride(from: 0, to: min(UInt64(512), file.size), by: 4))
    var generator = SeededGenerator(seed: 7)
    positions += (0..<64).map { _ in UInt64.random(in: 0..<min(file.size, 65536), using: &generator) }
    for position in positions {
      Self.exercise(DamagedByteSource(file, flips: [position: 0xff]))
    }
  }

  @Test func notADumpIsAClearError() throws {
    let text = MemoryByteSource(Array("hello, this is not a dump\n".utf8), name: "notes.txt")
    let error = #expect(throws: DumpError.self) { try DumpFile(source: text) }
    #expect(error?.kind == .notADump)
    #expect(error?.description.contains("notes.txt") == true)
    let empty = MemoryByteSource([], name: "empty")
    #expect(throws: DumpError.self) { try DumpFile(source: empty) }
  }
}
