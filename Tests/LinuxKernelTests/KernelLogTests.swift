import AddressTranslation
import CoronerTestSupport
import DebugInfo
import DumpFormats
import Foundation
import LinuxKernel
import Testing

// MARK: - Real dumps

/// On every committed fixture, the log must be vmcore-dmesg's byte for byte
/// (or, where vmcore-dmesg could not read the dump, drgn's).
@Suite struct KernelLogFixtureTests {
  /// Fixture folders with a reference log.
  static let folders: [URL] = {
    let names =
      (try? FileManager.default.contentsOfDirectory(atPath: Fixtures.root.path))?.sorted() ?? []
    return names.map { Fixtures.root.appendingPathComponent($0) }.filter { (folder: URL) -> Bool in
      let expected = folder.appendingPathComponent("expected")
      return FileManager.default.fileExists(
        atPath: expected.appendingPathComponent("vmcore-dmesg.txt").path)
        || FileManager.default.fileExists(atPath: expected.appendingPathComponent("drgn.json").path)
    }
  }()

  /// Opens a fixture dump's kernel log, or nil for a dump without
  /// VMCOREINFO (the log is found from VMCOREINFO only) or one coroner
  /// cannot translate addresses of yet (neither x86-64 nor an ELF whose
  /// program headers give virtual addresses).
  static func log(of path: String) throws -> KernelLog? {
    let dump = try DumpFile.open(path: path)
    guard dump.notes.contains(where: { $0.name == "VMCOREINFO" }),
      dump.architecture == .x86_64 || dump.architecture == .arm64
        || LoadSegmentMemory(dump: dump) != nil
    else { return nil }
    return try KernelLog.read(from: dump)
  }

  @Test(arguments: folders)
  func matchesVmcoreDmesg(folder: URL) throws {
    let reference = folder.appendingPathComponent("expected/vmcore-dmesg.txt")
    guard let expected = FileManager.default.contents(atPath: reference.path) else { return }
    for path in try Fixtures.analysableDumps(in: folder) {
      guard let log = try Self.log(of: path) else { continue }
      #expect(log.isComplete, "\(path): \(log.problems)")
      let actual = log.vmcoreDmesgText()
      #expect(
        actual == Array(expected), "\(path): \(Self.firstDifference(actual, Array(expected)))")
    }
  }

  @Test(arguments: folders)
  func matchesDrgnWhereVmcoreDmesgCannotRead(folder: URL) throws {
    let expected = folder.appendingPathComponent("expected")
    guard
      !FileManager.default.fileExists(
        atPath: expected.appendingPathComponent("vmcore-dmesg.txt").path),
      let data = FileManager.default.contents(
        atPath: expected.appendingPathComponent("drgn.json").path),
      let object = try JSONSerialization.jsonObject(with: data) as? [String: Any],
      let dmesg = object["dmesg"] as? String
    else { return }
    for path in try Fixtures.analysableDumps(in: folder) {
      guard let log = try Self.log(of: path) else { continue }
      // drgn prints the text unescaped.
      var text: [UInt8] = []
      for record in log.messages {
        KernelLog.appendTimestamp(record.timestampNs, to: &text)
        text += record.text
        text.append(0x0a)
      }
      #expect(String(decoding: text, as: UTF8.self) == dmesg, "\(path)")
    }
  }

  static func firstDifference(_ a: [UInt8], _ b: [UInt8]) -> String {
    let linesA = a.split(separator: 0x0a, omittingEmptySubsequences: false)
    let linesB = b.split(separator: 0x0a, omittingEmptySubsequences: false)
    for (index, (x, y)) in zip(linesA, linesB).enumerated() where x != y {
      return
        "line \(index + 1): got \(String(decoding: x, as: UTF8.self)) expected \(String(decoding: y, as: UTF8.self))"
    }
    return "\(linesA.count) lines, expected \(linesB.count)"
  }
}

// MARK: - A synthetic 5.10+ ring

/// Hand-built lockless rings in a small in-memory address space.
@Suite struct PrintkRingBufferTests {
  @Test func readsEveryCommittedRecord() throws {
    let image = LocklessImage.standard()
    let log = try KernelLog.read(from: image.memory, vmcoreinfo: image.vmcoreinfo)
    #expect(log.format == .lockless)
    #expect(log.isComplete, "\(log.problems)")
    let lines = String(decoding: log.vmcoreDmesgText(), as: UTF8.self)
      .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    #expect(
      lines == [
        "[    0.000000] Linux version test",
        "[    1.500000] tab\there\\x01\\x7f\\xc3\\xa9",
        "[    2.000000] ",
        "[    3.000000] pci 0000:00:01.0: enabled",
        "[    4.000000] two",
        "lines",
        "[    5.000000] cut\\x00\\x00\\x00\\x00\\x00",
        "[    6.000000] ",
        "[123456.789012] late",
        "",
      ])
    let records = log.messages
    #expect(records.map(\.sequence) == [100, 101, 102, 103, 104, 105, 106, 107])
    #expect(records[0].level == 5 && records[0].facility == 0)
    #expect(records[0].caller == .thread(1))
    #expect(records[1].caller == .cpu(1))
    #expect(records[1].caller?.description == "C1")
    #expect(records[2].textLost)
    #expect(records[3].subsystem == "pci" && records[3].device == "+pci:0000:00:01.0")
    #expect(records[4].priority == 12)
    #expect(!records[6].textLost && records[6].text.isEmpty)
  }

  @Test func rawFormatPrefixesEveryLine() throws {
    let image = LocklessImage.standard()
    let log = try KernelLog.read(from: image.memory, vmcoreinfo: image.vmcoreinfo)
    let lines = String(decoding: log.rawText(), as: UTF8.self)
      .split(separator: "\n").map(String.init)
    #expect(lines[0] == "<5>[    0.000000] Linux version test")
    #expect(lines[4] == "<12>[    4.000000] two")
    #expect(lines[5] == "<12>[    4.000000] lines")
    #expect(lines.count == 9)
  }

  @Test func tailKeepsTheLastRecords() throws {
    let image = LocklessImage.standard()
    let log = try KernelLog.read(from: image.memory, vmcoreinfo: image.vmcoreinfo)
    let tail = log.suffix(messages: 2)
    #expect(tail.records.map(\.sequence) == [106, 107])
    #expect(log.suffix(messages: 0).records.isEmpty)
    #expect(log.suffix(messages: 1000).records.count == log.records.count)
  }

  @Test func idsWrapAroundTheirMask() throws {
    var image = LocklessImage()
    let mask: UInt64 = (1 << 62) - 1
    image.tail = mask - 1
    image.add(id: mask - 1, sequence: 1, seconds: 1, text: "before")
    image.add(id: mask, sequence: 2, seconds: 2, text: "at the mask")
    image.add(id: 0, sequence: 3, seconds: 3, text: "after")
    image.head = 0
    image.finish()
    let log = try KernelLog.read(from: image.memory, vmcoreinfo: image.vmcoreinfo)
    #expect(log.messages.map(\.sequence) == [1, 2, 3])
    #expect(log.isComplete)
  }

  /// Since 2025 a block may end exactly at the ring's end without wrapping.
  @Test func blockEndingAtTheRingEnd() throws {
    var image = LocklessImage()
    image.tail = 7
    image.head = 7
    let text = "exactly to the end, 24b"
    let begin: UInt64 = 5 * 256 + 224
    image.memory.write(
      LocklessImage.integer(7, 8) + Array(text.utf8) + [0], at: LocklessImage.data + 224)
    image.add(id: 7, sequence: 1, seconds: 1, text: text, lpos: (begin, 6 * 256))
    image.finish()
    let log = try KernelLog.read(from: image.memory, vmcoreinfo: image.vmcoreinfo)
    #expect(log.messages.map { String(decoding: $0.text, as: UTF8.self) } == [text])
  }

  @Test func missingTextPageGivesAPartialLog() throws {
    var image = LocklessImage()
    image.sizeBits = 14  // 16 KiB of text: four pages
    image.countBits = 6
    image.tail = 10
    for index in 0..<40 {
      image.add(
        id: 10 + UInt64(index), sequence: UInt64(index), seconds: UInt64(index),
        text: String(repeating: "x", count: 300) + " \(index)")
    }
    image.head = 49
    image.finish()
    image.memory.removePage(containing: LocklessImage.data + 8192)
    let log = try KernelLog.read(from: image.memory, vmcoreinfo: image.vmcoreinfo)
    #expect(!log.isComplete)
    #expect(log.messages.count > 20 && log.messages.count < 40)
    #expect(log.problems.contains { $0.contains("could not be read") })
  }

  @Test func missingKeyIsExplained() {
    let image = LocklessImage.standard()
    var info = image.vmcoreinfo
    info.offsets["prb_desc.state_var"] = nil
    #expect {
      _ = try KernelLog.read(from: image.memory, vmcoreinfo: info)
    } throws: { error in
      (error as? DumpError)?.kind == .missingInformation
        && "\(error)".contains("OFFSET(prb_desc.state_var)")
    }
    #expect(throws: DumpError.self) {
      try KernelLog.read(from: image.memory, vmcoreinfo: VMCoreInfo())
    }
  }
}

// MARK: - Damage

/// Garbled rings give an error or a partial log, never a trap or a hang.
@Suite struct KernelLogDamageTests {
  @Test func absurdDescriptorCountIsRefused() {
    var image = LocklessImage.standard()
    image.memory.write(LocklessImage.integer(60, 4), at: LocklessImage.prbAddress + 0)
    #expect {
      _ = try KernelLog.read(from: image.memory, vmcoreinfo: image.vmcoreinfo)
    } throws: { error in
      (error as? DumpError)?.kind == .corrupt && "\(error)".contains("2^60")
    }
    image = LocklessImage.standard()
    image.memory.write(LocklessImage.integer(63, 4), at: LocklessImage.prbAddress + 48)
    #expect(throws: DumpError.self) {
      try KernelLog.read(from: image.memory, vmcoreinfo: image.vmcoreinfo)
    }
  }

  @Test func headFarBeyondTailIsBounded() throws {
    let image = LocklessImage.standard()
    // head_id 2^40 ids after tail_id: only the last 2^count_bits ids are tried.
    image.memory.write(
      LocklessImage.integer(image.tail + (1 << 40), 8), at: LocklessImage.prbAddress + 24)
    let log = try KernelLog.read(from: image.memory, vmcoreinfo: image.vmcoreinfo)
    #expect(!log.isComplete)
    #expect(log.problems.first?.contains("apart") == true)
  }

  @Test func textLengthBeyondTheBlockIsCut() throws {
    let image = LocklessImage.standard()
    let log = try KernelLog.read(from: image.memory, vmcoreinfo: image.vmcoreinfo)
    // Record 105 claims 200 bytes in a 16-byte block: 8 bytes are shown.
    let record = try #require(log.messages.first { $0.sequence == 105 })
    #expect(record.text.count == 8)
  }

  @Test func unreadableArraysAreAnError() {
    let image = LocklessImage.standard()
    image.memory.write(
      LocklessImage.integer(0xffff_c900_dead_0000, 8), at: LocklessImage.prbAddress + 8)
    #expect(throws: DumpError.self) {
      try KernelLog.read(from: image.memory, vmcoreinfo: image.vmcoreinfo)
    }
    let other = LocklessImage.standard()
    other.memory.removePage(containing: LocklessImage.prbPointer)
    #expect(throws: DumpError.self) {
      try KernelLog.read(from: other.memory, vmcoreinfo: other.vmcoreinfo)
    }
  }

  @Test func randomDamageNeverTraps() {
    var generator = SeededGenerator(seed: 7)
    var outcomes = (complete: 0, partial: 0, failed: 0)
    for _ in 0..<400 {
      let lockless = Bool.random(using: &generator)
      let memory: PagedMemory
      let info: VMCoreInfo
      let targets: [UInt64]
      if lockless {
        let image = LocklessImage.standard()
        memory = image.memory
        info = image.vmcoreinfo
        targets = [
          LocklessImage.prbAddress, LocklessImage.descs, LocklessImage.infos, LocklessImage.data,
        ]
      } else {
        let image = StructuredImage.standard()
        memory = image.memory
        info = image.vmcoreinfo
        targets = [StructuredImage.variables, StructuredImage.buffer]
      }
      for _ in 0..<Int.random(in: 1...6, using: &generator) {
        let base = targets.randomElement(using: &generator) ?? 0
        let address = base + UInt64.random(in: 0..<512, using: &generator)
        let value = UInt8.random(in: 0...255, using: &generator)
        memory.write([value], at: address)
      }
      do {
        let log = try KernelLog.read(from: memory, vmcoreinfo: info)
        _ = log.vmcoreDmesgText()
        _ = log.rawText()
        if log.isComplete { outcomes.complete += 1 } else { outcomes.partial += 1 }
      } catch {
        outcomes.failed += 1
      }
    }
    #expect(outcomes.complete + outcomes.partial + outcomes.failed == 400)
  }

  @Test func structuredDamageIsBounded() throws {
    // A record whose len points back to itself through the wrap: a cycle.
    var image = StructuredImage.standard()
    image.memory.write(
      LocklessImage.integer(0, 2), at: StructuredImage.buffer + UInt64(image.offsets[3]) + 8)
    var log = try KernelLog.read(from: image.memory, vmcoreinfo: image.vmcoreinfo)
    #expect(!log.isComplete)
    #expect(log.problems.contains { $0.contains("twice") })

    // len far beyond the buffer.
    image = StructuredImage.standard()
    image.memory.write(
      LocklessImage.integer(0xfff0, 2), at: StructuredImage.buffer + UInt64(image.offsets[1]) + 8)
    log = try KernelLog.read(from: image.memory, vmcoreinfo: image.vmcoreinfo)
    #expect(!log.isComplete)
    #expect(log.messages.count == 1)

    // log_buf_len of 4 GiB and log_first_idx outside the buffer.
    image = StructuredImage.standard()
    image.memory.write(LocklessImage.integer(0xffff_ffff, 4), at: StructuredImage.variables + 8)
    #expect(throws: DumpError.self) {
      try KernelLog.read(from: image.memory, vmcoreinfo: image.vmcoreinfo)
    }
    image = StructuredImage.standard()
    image.memory.write(LocklessImage.integer(4000, 4), at: StructuredImage.variables + 16)
    #expect(throws: DumpError.self) {
      try KernelLog.read(from: image.memory, vmcoreinfo: image.vmcoreinfo)
    }
  }
}

// MARK: - A synthetic 3.5–5.9 log_buf

/// The structured format is covered only by this generated image: no Debian
/// 11–13 kernel uses it.
@Suite struct StructuredLogBufferTests {
  @Test func readsRecordsAcrossTheWrap() throws {
    let image = StructuredImage.standard()
    let log = try KernelLog.read(from: image.memory, vmcoreinfo: image.vmcoreinfo)
    #expect(log.format == .structured)
    #expect(log.isComplete, "\(log.problems)")
    let lines = String(decoding: log.vmcoreDmesgText(), as: UTF8.self)
      .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    #expect(
      lines == [
        "[   10.000000] old message",
        "[   11.250000] bell\\x07 and \\xff",
        "[    0.000000] ",
        "[   12.000000] after wrap",
        "[   13.000001] last one",
        "",
      ])
    let messages = log.messages
    #expect(messages.map(\.sequence) == [0, 1, 2, 3])
    #expect(messages[1].caller == .cpu(0))
    #expect(messages[2].caller == .thread(42))
    #expect(messages[2].level == 3 && messages[2].facility == 0)
    #expect(messages[2].subsystem == "usb" && messages[2].device == "c189:1")
    #expect(messages[3].level == 6 && messages[3].facility == 3)
    // The wrap marker is vmcore-dmesg's line only.
    let raw = String(decoding: log.rawText(), as: UTF8.self).split(separator: "\n")
    #expect(raw.count == 4)
    #expect(raw[3] == "<30>[   13.000001] last one")
  }

  @Test func oldStructNameAndNoCallerID() throws {
    var image = StructuredImage(callerID: false, structName: "log")
    image.place(seconds: 1, text: "hello", level: 4)
    image.finish()
    let log = try KernelLog.read(from: image.memory, vmcoreinfo: image.vmcoreinfo)
    #expect(log.messages.count == 1)
    #expect(log.messages[0].caller == nil)
    #expect(log.messages[0].level == 4)
    #expect(String(decoding: log.vmcoreDmesgText(), as: UTF8.self) == "[    1.000000] hello\n")
  }
}

// MARK: - Formatting

@Suite struct KernelLogFormatTests {
  @Test func timestampsAndEscapes() {
    var output: [UInt8] = []
    KernelLog.appendTimestamp(0, to: &output)
    KernelLog.appendTimestamp(99_999_999_999_999, to: &output)
    KernelLog.appendTimestamp(1_000_999, to: &output)
    #expect(
      String(decoding: output, as: UTF8.self) == "[    0.000000] [99999.999999] [    0.001000] ")
    output = []
    KernelLog.escape(
      [0x00, 0x08, 0x09, 0x0a, 0x0d, 0x0e, 0x1f, 0x20, 0x7e, 0x7f, 0x80, 0xff], into: &output)
    #expect(
      String(decoding: output, as: UTF8.self) == "\\x00\\x08\t\n\r\\x0e\\x1f ~\\x7f\\x80\\xff")
  }
}

// MARK: - Test images

/// Virtual memory made of 4 KiB pages held in a dictionary.
final class PagedMemory: VirtualMemory {
  var pages: [UInt64: [UInt8]] = [:]
  let byteOrder: ByteOrder = .little
  let pointerSize = 8

  func write(_ bytes: [UInt8], at address: UInt64) {
    for (index, byte) in bytes.enumerated() {
      let current = address + UInt64(index)
      let page = current & ~0xfff
      var contents = pages[page] ?? [UInt8](repeating: 0, count: 4096)
      contents[Int(current & 0xfff)] = byte
      pages[page] = contents
    }
  }

  func removePage(containing address: UInt64) { pages[address & ~0xfff] = nil }

  func read(virtual address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(DumpError) {
    var done = 0
    while done < buffer.count {
      let current = address &+ UInt64(done)
      guard let page = pages[current & ~0xfff] else {
        throw DumpError(.notMapped, "0x\(String(current, radix: 16)) is not mapped")
      }
      let offset = Int(current & 0xfff)
      let length = min(buffer.count - done, 4096 - offset)
      for index in 0..<length { buffer[done + index] = page[offset + index] }
      done += length
    }
  }

  func translate(_ address: UInt64) throws(DumpError) -> UInt64 { address }
}

/// A 5.10+ `printk_ringbuffer` with the layout of Debian's 6.1 kernel.
struct LocklessImage {
  static let prbPointer: UInt64 = 0xffff_ffff_8200_0000
  static let prbAddress: UInt64 = 0xffff_ffff_8200_1000
  static let descs: UInt64 = 0xffff_ffff_8201_0000
  static let infos: UInt64 = 0xffff_ffff_8202_0000
  static let data: UInt64 = 0xffff_8880_0010_0000

  let memory = PagedMemory()
  var countBits: UInt64 = 4
  var sizeBits: UInt64 = 8
  var tail: UInt64 = 0
  var head: UInt64 = 0
  /// The data ring's head position: five wraps in, 64 bytes before the end.
  var headLpos: UInt64 = 5 * 256 + 256 - 64

  static func integer(_ value: UInt64, _ width: Int) -> [UInt8] {
    (0..<width).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
  }

  var vmcoreinfo: VMCoreInfo {
    VMCoreInfo(
      text: Array(
        """
        OSRELEASE=6.1.0-test
        SYMBOL(prb)=\(String(Self.prbPointer, radix: 16))
        SIZE(printk_ringbuffer)=88
        OFFSET(printk_ringbuffer.desc_ring)=0
        OFFSET(printk_ringbuffer.text_data_ring)=48
        OFFSET(printk_ringbuffer.fail)=80
        SIZE(prb_desc_ring)=48
        OFFSET(prb_desc_ring.count_bits)=0
        OFFSET(prb_desc_ring.descs)=8
        OFFSET(prb_desc_ring.infos)=16
        OFFSET(prb_desc_ring.head_id)=24
        OFFSET(prb_desc_ring.tail_id)=32
        SIZE(prb_desc)=24
        OFFSET(prb_desc.state_var)=0
        OFFSET(prb_desc.text_blk_lpos)=8
        SIZE(prb_data_blk_lpos)=16
        OFFSET(prb_data_blk_lpos.begin)=0
        OFFSET(prb_data_blk_lpos.next)=8
        SIZE(printk_info)=88
        OFFSET(printk_info.seq)=0
        OFFSET(printk_info.ts_nsec)=8
        OFFSET(printk_info.text_len)=16
        OFFSET(printk_info.caller_id)=20
        OFFSET(printk_info.dev_info)=24
        SIZE(dev_printk_info)=64
        OFFSET(dev_printk_info.subsystem)=0
        LENGTH(printk_info_subsystem)=16
        OFFSET(dev_printk_info.device)=16
        LENGTH(printk_info_device)=48
        SIZE(prb_data_ring)=32
        OFFSET(prb_data_ring.size_bits)=0
        OFFSET(prb_data_ring.data)=8
        OFFSET(prb_data_ring.head_lpos)=16
        OFFSET(prb_data_ring.tail_lpos)=24
        SIZE(atomic_long_t)=8
        OFFSET(atomic_long_t.counter)=0

        """.utf8))
  }

  /// The standard scenario: ids 20–30 in a 16-slot ring of 256 text bytes,
  /// covering an id mismatch, reserved and reusable descriptors, a wrapping
  /// data block (id 22 would end at the ring's end, so it is stored at the
  /// start, as kernels before 2025 store it), escapes, lost text, device
  /// info, a newline, a text_len beyond its block, an empty line and a wide
  /// timestamp.
  static func standard() -> LocklessImage {
    var image = LocklessImage()
    image.tail = 20
    image.head = 30
    image.add(id: 20, stateID: 4, sequence: 90, seconds: 0, text: "stale")  // id mismatch
    image.add(id: 21, state: 3, sequence: 91, seconds: 0, text: "reusable")
    image.add(id: 22, sequence: 100, seconds: 0, text: "Linux version test", level: 5, caller: 1)
    image.add(
      id: 23, state: 1, sequence: 101, seconds: 1, nanoseconds: 500_000_000,
      bytes: Array("tab\there".utf8) + [0x01, 0x7f, 0xc3, 0xa9], caller: 0x8000_0001)
    image.add(id: 24, sequence: 102, seconds: 2, text: "lost", lpos: (1, 1))
    image.add(
      id: 25, sequence: 103, seconds: 3, text: "pci 0000:00:01.0: enabled", subsystem: "pci",
      device: "+pci:0000:00:01.0")
    image.add(id: 26, sequence: 104, seconds: 4, text: "two\nlines", level: 4, facility: 1)
    image.add(id: 27, sequence: 105, seconds: 5, text: "cut", textLength: 200)
    image.add(id: 28, sequence: 106, seconds: 6, text: "", lpos: (3, 3))
    image.add(id: 29, sequence: 107, seconds: 123_456, nanoseconds: 789_012_345, text: "late")
    image.add(id: 30, state: 0, sequence: 108, seconds: 7, text: "reserved")
    image.finish()
    return image
  }

  mutating func add(
    id: UInt64, state: UInt64 = 2, stateID: UInt64? = nil, sequence: UInt64, seconds: UInt64,
    nanoseconds: UInt64 = 0, text: String = "", bytes: [UInt8]? = nil, level: UInt8 = 6,
    facility: UInt8 = 0, caller: UInt32 = 1, subsystem: String = "", device: String = "",
    textLength: Int? = nil, lpos: (UInt64, UInt64)? = nil
  ) {
    let payload = bytes ?? Array(text.utf8)
    let count: UInt64 = 1 << countBits
    let ring: UInt64 = 1 << sizeBits
    let slot = id & (count - 1)
    var begin: UInt64
    var next: UInt64
    if let lpos {
      (begin, next) = lpos
    } else {
      // The kernel's data_alloc(): id then text, 8-byte aligned; a block
      // that would cross the ring's end is stored at its start instead.
      let size = (8 + UInt64(payload.count) + 7) & ~7
      begin = headLpos
      next = begin + size
      if begin / ring != next / ring { next = next / ring * ring + size }
      let start = begin / ring == next / ring ? begin % ring : 0
      memory.write(Self.integer(id, 8), at: Self.data + begin % ring)
      memory.write(Self.integer(id, 8) + payload, at: Self.data + start)
      headLpos = next
    }
    let desc = Self.descs + slot * 24
    memory.write(Self.integer(state << 62 | (stateID ?? id), 8), at: desc)
    memory.write(Self.integer(begin, 8) + Self.integer(next, 8), at: desc + 8)
    let info = Self.infos + slot * 88
    var bytes = Self.integer(sequence, 8) + Self.integer(seconds * 1_000_000_000 + nanoseconds, 8)
    bytes += Self.integer(UInt64(textLength ?? payload.count), 2)
    bytes += [facility, level << 5]
    bytes += Self.integer(UInt64(caller), 4)
    var subsystemField = [UInt8](repeating: 0, count: 16)
    subsystemField.replaceSubrange(0..<subsystem.utf8.count, with: subsystem.utf8)
    var deviceField = [UInt8](repeating: 0, count: 48)
    deviceField.replaceSubrange(0..<device.utf8.count, with: device.utf8)
    memory.write(bytes + subsystemField + deviceField, at: info)
  }

  /// Writes the `prb` pointer and the ring buffer header.
  func finish() {
    memory.write(Self.integer(Self.prbAddress, 8), at: Self.prbPointer)
    var header = Self.integer(countBits, 8) + Self.integer(Self.descs, 8)
    header += Self.integer(Self.infos, 8) + Self.integer(head, 8) + Self.integer(tail, 8)
    header += Self.integer(0, 8)
    header += Self.integer(sizeBits, 8) + Self.integer(Self.data, 8)
    header += Self.integer(headLpos, 8) + Self.integer(headLpos &- (1 << sizeBits), 8)
    header += Self.integer(0, 8)
    memory.write(header, at: Self.prbAddress)
  }
}

/// A 3.5–5.9 `log_buf` of `struct printk_log` records (20 bytes with
/// `caller_id`, packed and 4-byte aligned as on x86-64), 256 bytes long.
struct StructuredImage {
  static let variables: UInt64 = 0xffff_ffff_8300_0000
  static let buffer: UInt64 = 0xffff_8880_0020_0000
  static let length = 256

  let memory = PagedMemory()
  let callerID: Bool
  let structName: String
  var first = 160
  var next = 160
  /// Where each record (and wrap marker) was put.
  var offsets: [Int] = []

  init(callerID: Bool = true, structName: String = "printk_log") {
    self.callerID = callerID
    self.structName = structName
    first = callerID ? 160 : 0
    next = first
  }

  var headerSize: Int { callerID ? 20 : 16 }

  var vmcoreinfo: VMCoreInfo {
    var text = """
      OSRELEASE=5.4.0-test
      SYMBOL(log_buf)=\(String(Self.variables, radix: 16))
      SYMBOL(log_buf_len)=\(String(Self.variables + 8, radix: 16))
      SYMBOL(log_first_idx)=\(String(Self.variables + 16, radix: 16))
      SYMBOL(clear_idx)=\(String(Self.variables + 20, radix: 16))
      SYMBOL(log_next_idx)=\(String(Self.variables + 24, radix: 16))
      SIZE(\(structName))=\(headerSize)
      OFFSET(\(structName).ts_nsec)=0
      OFFSET(\(structName).len)=8
      OFFSET(\(structName).text_len)=10
      OFFSET(\(structName).dict_len)=12

      """
    if callerID { text += "OFFSET(\(structName).caller_id)=16\n" }
    return VMCoreInfo(text: Array(text.utf8))
  }

  /// Records from offset 160, wrapping once, as in the kernel's log_store().
  static func standard() -> StructuredImage {
    var image = StructuredImage()
    image.place(seconds: 10, text: "old message")
    image.place(
      seconds: 11, nanoseconds: 250_000_000,
      bytes: Array("bell".utf8) + [0x07] + Array(" and ".utf8) + [0xff],
      caller: 0x8000_0000)
    image.place(
      seconds: 12, text: "after wrap", level: 3, caller: 42,
      dictionary: Array("SUBSYSTEM=usb".utf8) + [0] + Array("DEVICE=c189:1".utf8))
    image.place(seconds: 13, nanoseconds: 1000, text: "last one", level: 6, facility: 3)
    image.finish()
    return image
  }

  mutating func place(
    seconds: UInt64, nanoseconds: UInt64 = 0, text: String = "", bytes: [UInt8]? = nil,
    level: UInt8 = 6, facility: UInt8 = 0, caller: UInt32 = 1, dictionary: [UInt8] = []
  ) {
    let payload = bytes ?? Array(text.utf8)
    let size = (headerSize + payload.count + dictionary.count + 3) & ~3
    if next + size + headerSize > Self.length {
      // The wrap marker: a zeroed header.
      offsets.append(next)
      memory.write([UInt8](repeating: 0, count: headerSize), at: Self.buffer + UInt64(next))
      next = 0
    }
    offsets.append(next)
    var header = LocklessImage.integer(seconds * 1_000_000_000 + nanoseconds, 8)
    header += LocklessImage.integer(UInt64(size), 2)
    header += LocklessImage.integer(UInt64(payload.count), 2)
    header += LocklessImage.integer(UInt64(dictionary.count), 2)
    header += [facility, level << 5]
    if callerID { header += LocklessImage.integer(UInt64(caller), 4) }
    memory.write(header + payload + dictionary, at: Self.buffer + UInt64(next))
    next += size
  }

  func finish() {
    memory.write(LocklessImage.integer(Self.buffer, 8), at: Self.variables)
    memory.write(LocklessImage.integer(UInt64(Self.length), 4), at: Self.variables + 8)
    memory.write(LocklessImage.integer(UInt64(first), 4), at: Self.variables + 16)
    memory.write(LocklessImage.integer(UInt64(first), 4), at: Self.variables + 20)
    memory.write(LocklessImage.integer(UInt64(next), 4), at: Self.variables + 24)
    // Make sure the whole buffer is mapped.
    memory.write([0], at: Self.buffer + UInt64(Self.length) - 1)
    if memory.pages[Self.buffer] == nil { memory.write([0], at: Self.buffer) }
  }
}
