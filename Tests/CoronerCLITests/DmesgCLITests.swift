import AddressTranslation
import CoronerTestSupport
import DebugInfo
import DumpFormats
import Foundation
import LinuxKernel
import Testing

/// `coroner dmesg` run as a process, on the committed fixtures.
@Suite struct DmesgCLITests {
  /// Fixture folders whose log vmcore-dmesg could read.
  static let folders: [URL] = {
    let names =
      (try? FileManager.default.contentsOfDirectory(atPath: Fixtures.root.path))?.sorted() ?? []
    return names.map { Fixtures.root.appendingPathComponent($0) }.filter {
      FileManager.default.fileExists(
        atPath: $0.appendingPathComponent("expected/vmcore-dmesg.txt").path)
    }
  }()

  /// The dumps of a folder that have VMCOREINFO and whose addresses coroner
  /// translates: x86-64, or an ELF whose program headers give virtual
  /// addresses (32-bit x86 kdumps).
  static func readableDumps(in folder: URL) throws -> [String] {
    try Fixtures.analysableDumps(in: folder).filter { (path: String) -> Bool in
      guard let dump = try? DumpFile.open(path: path) else { return false }
      return dump.notes.contains { $0.name == "VMCOREINFO" }
        && (dump.architecture == .x86_64 || dump.architecture == .arm64
          || LoadSegmentMemory(dump: dump) != nil)
    }
  }

  /// All fixture folders.
  static let allFolders: [URL] = {
    let names =
      (try? FileManager.default.contentsOfDirectory(atPath: Fixtures.root.path))?.sorted() ?? []
    return names.map { Fixtures.root.appendingPathComponent($0) }.filter {
      $0.lastPathComponent != "generator"
    }
  }()

  /// A dump without VMCOREINFO: the log cannot be found, exit 1 with a line
  /// that says why.
  @Test(arguments: allFolders)
  func dumpWithoutVMCOREINFOFails(folder: URL) throws {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
    guard names.contains(where: { $0.hasPrefix("vmcore") && $0.contains("novmcoreinfo") }) else {
      return
    }
    for path in try Fixtures.analysableDumps(in: folder) {
      guard let dump = try? DumpFile.open(path: path),
        !dump.notes.contains(where: { $0.name == "VMCOREINFO" })
      else { continue }
      let result = try CoronerProcess.run(["dmesg", path])
      #expect(result.status == 1)
      #expect(result.errorText.hasPrefix("coroner: \(path): "))
      #expect(result.errorText.contains("VMCOREINFO"))
      #expect(result.errorText.split(separator: "\n").count == 1)
    }
  }

  @Test(arguments: folders)
  func textMatchesVmcoreDmesg(folder: URL) throws {
    let expected = try Data(contentsOf: folder.appendingPathComponent("expected/vmcore-dmesg.txt"))
    for path in try Self.readableDumps(in: folder) {
      let result = try CoronerProcess.run(["dmesg", path])
      #expect(result.status == 0, "\(path): \(result.errorText)")
      #expect(result.output == expected, "\(path): output differs from vmcore-dmesg's")
    }
  }

  @Test(arguments: folders)
  func jsonAndTail(folder: URL) throws {
    guard let path = try Self.readableDumps(in: folder).first else { return }
    let all = try CoronerProcess.run(["dmesg", "--json", path])
    #expect(all.status == 0)
    let records = try #require(
      try JSONSerialization.jsonObject(with: all.output) as? [[String: Any]])
    #expect(records.count > 50)
    for record in records {
      for key in ["sequence", "timestampNs", "level", "facility", "caller", "text"] {
        #expect(record[key] != nil, "\(path): a record has no \(key)")
      }
      if let caller = record["caller"] as? String {
        #expect(caller.hasPrefix("T") || caller.hasPrefix("C"))
      }
    }
    let tail = try CoronerProcess.run(["dmesg", "--json", "--tail", "50", path])
    let last = try #require(try JSONSerialization.jsonObject(with: tail.output) as? [[String: Any]])
    #expect(last.count == 50)
    #expect(last.last?["sequence"] as? Int == records.last?["sequence"] as? Int)

    let raw = try CoronerProcess.run(["dmesg", "--raw", "--tail", "5", path])
    let lines = String(decoding: raw.output, as: UTF8.self).split(separator: "\n")
    #expect(lines.count >= 5)
    #expect(lines.allSatisfy { $0.hasPrefix("<") && $0.contains(">[") })
  }

  @Test func unreadableFileFailsWithOneLine() throws {
    let missing = try CoronerProcess.run(["dmesg", "/nonexistent/vmcore"])
    #expect(missing.status == 1)
    #expect(missing.errorText.hasPrefix("coroner: /nonexistent/vmcore: "))
    #expect(missing.errorText.split(separator: "\n").count == 1)

    let directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("coroner-dmesg-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let notADump = directory.appendingPathComponent("notes.txt")
    try Data(repeating: 0x41, count: 8192).write(to: notADump)
    let result = try CoronerProcess.run(["dmesg", notADump.path])
    #expect(result.status == 1)
    #expect(result.errorText.hasPrefix("coroner: \(notADump.path): "))
    #expect(result.output.isEmpty)
  }

  @Test func badOptionsAreUsageErrors() throws {
    let result = try CoronerProcess.run(["dmesg", "--json", "--raw", "/nonexistent"])
    #expect(result.status == 64)
  }

  /// A copy of an ELF fixture cut in the middle of the text ring: the records
  /// before the cut are printed, exit status 2, and the last line on standard
  /// error says what is missing.
  @Test(arguments: folders)
  func partlyUnreadableRingIsPartial(folder: URL) throws {
    guard
      let path = try Self.readableDumps(in: folder).first(where: {
        guard let dump = try? DumpFile.open(path: $0) else { return false }
        return dump.format == .elf && dump.architecture == .x86_64
      })
    else { return }
    let cut = try Self.offsetInsideTextRing(path)
    let directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("coroner-dmesg-partial-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let copy = directory.appendingPathComponent("cut.elf")
    let input = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
    defer { try? input.close() }
    _ = FileManager.default.createFile(atPath: copy.path, contents: nil)
    let output = try FileHandle(forWritingTo: copy)
    var remaining = Int(cut)
    while remaining > 0 {
      guard let chunk = try input.read(upToCount: min(remaining, 8 << 20)), !chunk.isEmpty else {
        break
      }
      try output.write(contentsOf: chunk)
      remaining -= chunk.count
    }
    try output.close()

    let result = try CoronerProcess.run(["dmesg", copy.path])
    #expect(result.status == 2, "\(result.errorText)")
    let lastLine = result.errorText.split(separator: "\n").last.map(String.init) ?? ""
    #expect(lastLine.hasPrefix("coroner: \(copy.path): partial log: "))
    let expected = try Data(contentsOf: folder.appendingPathComponent("expected/vmcore-dmesg.txt"))
    let expectedLines = Set(String(decoding: expected, as: UTF8.self).split(separator: "\n"))
    let lines = String(decoding: result.output, as: UTF8.self).split(separator: "\n")
    #expect(!lines.isEmpty)
    #expect(lines.allSatisfy { expectedLines.contains($0) })
    #expect(lines.count < expectedLines.count)
  }

  /// The file offset of the middle of the used part of the text data ring.
  static func offsetInsideTextRing(_ path: String) throws -> UInt64 {
    let dump = try DumpFile.open(path: path)
    let session = try KernelSession(dump: dump)
    let info = session.vmcoreinfo
    let memory = session.memory
    let ring = UInt64(info.offsets["printk_ringbuffer.text_data_ring"] ?? 0)
    let prb = try memory.readPointer(at: info.symbols["prb"] ?? 0)
    let sizeBits = try memory.readInteger(
      UInt32.self, at: prb + ring + UInt64(info.offsets["prb_data_ring.size_bits"] ?? 0))
    let data = try memory.readPointer(
      at: prb + ring + UInt64(info.offsets["prb_data_ring.data"] ?? 0))
    let head = try memory.readPointer(
      at: prb + ring + UInt64(info.offsets["prb_data_ring.head_lpos"] ?? 0))
    let size = UInt64(1) << UInt64(sizeBits)
    let used = head % size > 16384 ? head % size : size
    let physical = try memory.translate(data + used / 2)
    let elf = try #require(dump.elf)
    let load = try #require(
      elf.loads.first {
        physical >= $0.physicalAddress && physical - $0.physicalAddress < $0.fileSize
      })
    return (load.offset + (physical - load.physicalAddress)) & ~0xfff
  }
}
