import AddressTranslation
import CoronerTestSupport
import DebugInfo
import DumpFormats
import Foundation
import Testing

/// kallsyms decoded from real dumps, checked against a sample of the DWARF
/// vmlinux's symbols (`expected/kallsyms-sample.txt`, written by
/// Fixtures/generator/kallsyms-sample.sh from `nm -n`). Serialized: the
/// tests share unpacked fixtures.
@Suite(.serialized) struct KallsymsFixtureTests {
  /// Fixture folders with a kallsyms sample.
  static let folders: [URL] = {
    let names =
      (try? FileManager.default.contentsOfDirectory(atPath: Fixtures.root.path))?.sorted() ?? []
    return names.map { Fixtures.root.appendingPathComponent($0) }.filter {
      FileManager.default.fileExists(atPath: $0.appendingPathComponent(KallsymsSample.file).path)
    }
  }()

  @Test func samplesExist() {
    #expect(!Self.folders.isEmpty, "no fixture has expected/\(KallsymsSample.file)")
  }

  @Test(arguments: folders)
  func decodesEveryDumpOfTheFixture(folder: URL) throws {
    let sample = try KallsymsSample(folder: folder)
    let paths = try Fixtures.analysableDumps(in: folder)
    #expect(!paths.isEmpty, "\(folder.lastPathComponent) has no dump")
    for path in paths {
      let kernel = try OpenedKernel(path: path)
      if let buildID = kernel.vmcoreinfo.buildID, let expected = sample.buildID {
        try #require(buildID == expected, "\(path): the sample is for another kernel build")
      }
      let start = ContinuousClock.now
      let symbols = try kernel.kallsyms()
      let elapsed = ContinuousClock.now - start
      print("kallsyms: \(path): \(symbols.count) symbols from \(symbols.origin) in \(elapsed)")
      try check(symbols, against: sample, offset: kernel.offset, path: path)
    }
  }

  /// The search of the kernel image finds the very tables VMCOREINFO names
  /// (this is the only path for kernels before 6.0).
  @Test(arguments: folders)
  func searchFindsTheTablesVMCOREINFONames(folder: URL) throws {
    let sample = try KallsymsSample(folder: folder)
    guard let path = try Fixtures.analysableDumps(in: folder).first else { return }
    let kernel = try OpenedKernel(path: path)
    let start = ContinuousClock.now
    let found = try KallsymsSymbols.search(
      memory: kernel.memory, vmcoreinfo: kernel.vmcoreinfo, kernelOffset: kernel.offset)
    print("kallsyms search: \(path): \(found.tables.summary) in \(ContinuousClock.now - start)")
    #expect(found.markersVerified)
    if let keys = KallsymsTables(vmcoreinfo: kernel.vmcoreinfo) {
      #expect(found.tables.names == keys.names)
      #expect(found.tables.numSyms == keys.numSyms)
      #expect(found.tables.tokenTable == keys.tokenTable)
      #expect(found.tables.tokenIndex == keys.tokenIndex)
      #expect(found.tables.addresses == keys.addresses)
    }
    try check(found, against: sample, offset: kernel.offset, path: path)
  }

  /// A System.map made of the sample's lines, moved by the run-time `_stext`,
  /// gives the addresses kallsyms has.
  @Test(arguments: folders)
  func systemMapMovesLikeKASLR(folder: URL) throws {
    let sample = try KallsymsSample(folder: folder)
    guard let path = try Fixtures.analysableDumps(in: folder).first else { return }
    let kernel = try OpenedKernel(path: path)
    let symbols = try kernel.kallsyms()
    let runtimeText = try #require(symbols.address(of: "_stext"))
    let map = try SystemMapSymbols(
      path: folder.appendingPathComponent(KallsymsSample.file).path, runtimeText: runtimeText)
    #expect(map.relocation == kernel.offset)
    #expect(map.count == sample.entries.count)
    for entry in sample.entries {
      #expect(map.address(of: entry.name) == symbols.address(of: entry.name), "\(entry.name)")
    }
  }

  func check(
    _ symbols: KallsymsSymbols, against sample: KallsymsSample, offset: UInt64, path: String
  )
    throws
  {
    #expect(symbols.count == sample.count, "\(path)")
    #expect(symbols.markersVerified, "\(path)")
    #expect(symbols.absolutePercpu, "\(path): x86-64 kernels store per-CPU symbols as absolute")
    var wrong: [String] = []
    for entry in sample.entries {
      let expected = entry.address >> 63 == 1 ? entry.address &+ offset : entry.address
      let found = symbols.symbol(named: entry.name)
      if found?.address != expected || found?.type != entry.type
        || symbols.address(of: entry.name) != expected
      {
        wrong.append(
          "\(entry.name): \(found.map { "\(String($0.address, radix: 16)) \($0.type)" } ?? "none")"
            + ", expected \(String(expected, radix: 16)) \(entry.type)")
      }
    }
    #expect(
      wrong.isEmpty, "\(path): \(wrong.count) of \(sample.entries.count) wrong: \(wrong.prefix(5))")

    // Sorted, sizes from the next distinct address.
    let all = symbols.all
    #expect(all.count == symbols.count)
    var unsorted = 0
    var badSizes = 0
    for index in all.indices.dropLast() {
      let (current, next) = (all[index], all[index + 1])
      if next.address < current.address { unsorted += 1 }
      if let size = current.size, next.address > current.address,
        size != next.address - current.address
      {
        badSizes += 1
      }
    }
    #expect(unsorted == 0, "\(path)")
    #expect(badSizes == 0, "\(path)")
    #expect(all.last?.size == nil)

    // Reverse lookups, as the kernel prints them.
    let startKernel = try #require(symbols.symbol(named: "start_kernel"))
    let size = try #require(startKernel.size)
    #expect(size > 0x10)
    #expect(
      symbols.describe(startKernel.address + 0x10)
        == "start_kernel+0x10/0x\(String(size, radix: 16))")
    let text = try #require(symbols.address(of: "_stext"))
    #expect(symbols.symbol(containing: text)?.type.lowercased() == "t")
    #expect(symbols.symbol(containing: 0xffff_ffff_c000_0000 + 0x1234) == nil)
    #expect(symbols.symbol(containing: 0x1000_0000_0000) == nil)
    if let runqueues = symbols.symbol(named: "runqueues") {
      #expect(runqueues.type == "A")
      #expect(symbols.symbol(containing: runqueues.address)?.address == runqueues.address)
    }
  }
}

/// `expected/kallsyms-sample.txt`.
struct KallsymsSample {
  static let file = "expected/kallsyms-sample.txt"
  struct Entry {
    var address: UInt64
    var type: Character
    var name: String
  }
  var buildID: String?
  var count = 0
  var entries: [Entry] = []

  init(folder: URL) throws {
    let text = try String(
      contentsOf: folder.appendingPathComponent(Self.file), encoding: .utf8)
    for line in text.split(separator: "\n") where !line.hasPrefix("#") {
      let fields = line.split(separator: " ")
      if fields.count == 2, fields[0] == "count" {
        count = Int(fields[1]) ?? 0
      } else if fields.count == 2, fields[0] == "build-id" {
        buildID = String(fields[1])
      } else if fields.count == 3, let address = UInt64(fields[0], radix: 16),
        let type = fields[1].first
      {
        entries.append(Entry(address: address, type: type, name: String(fields[2])))
      }
    }
    try #require(count > 0 && entries.count > 100, "\(folder.path): a sample without symbols")
  }
}

/// A dump's kernel virtual memory, from VMCOREINFO or, without it, from a
/// CPU's CR3 (QEMU notes) and a search of the kernel image window.
struct OpenedKernel {
  let dump: DumpFile
  let vmcoreinfo: VMCoreInfo
  let memory: X86KernelAddressSpace
  /// The KASLR offset: KERNELOFFSET, or what the image search found.
  let offset: UInt64

  init(path: String) throws {
    dump = try DumpFile.open(path: path)
    if let note = dump.notes.first(where: { $0.name == "VMCOREINFO" }) {
      vmcoreinfo = VMCoreInfo(text: note.descriptor)
      let layout = try #require(vmcoreinfo.x86KernelLayout, "\(path)")
      memory = X86KernelAddressSpace(physical: dump.memory, layout: layout)
      offset = vmcoreinfo.kernelOffset ?? 0
      return
    }
    vmcoreinfo = VMCoreInfo()
    let order = dump.byteOrder
    let states = dump.notes.filter { $0.name == "QEMU" }.compactMap {
      try? QEMUCPUState(parsing: $0.descriptor, order: order)
    }
    var found: (X86KernelLayout, UInt64)?
    for state in states where state.cr3 != 0 && found == nil {
      let levels = state.cr4 & (1 << 12) != 0 ? 5 : 4
      let root = state.cr3 & ~UInt64(0x1fff)
      let walk = X86PageTableWalk(root: root, levels: levels)
      if let image = KernelImageSearch.locate(using: walk, in: dump.memory) {
        found = (
          X86KernelLayout(physBase: image.physBase, pageTableRoot: root, levels: levels),
          image.kaslrOffset
        )
      }
    }
    let (layout, kaslrOffset) = try #require(found, "\(path): neither VMCOREINFO nor CPU state")
    memory = X86KernelAddressSpace(physical: dump.memory, layout: layout)
    offset = kaslrOffset
  }

  /// kallsyms, as a session would load it.
  func kallsyms() throws -> KallsymsSymbols {
    try KallsymsSymbols.load(memory: memory, vmcoreinfo: vmcoreinfo, kernelOffset: offset)
  }
}

// MARK: - Hand-built tables

/// A hand-built kallsyms image, in the layouts scripts/kallsyms.c writes.
struct TinyKallsyms {
  enum Layout {
    /// offsets, relative_base, num_syms, names, markers, [seqs], tokens (≤ 6.3).
    case offsetsFirst
    /// num_syms, names, markers, tokens, offsets, relative_base (6.4+).
    case offsetsAfterIndex
    /// addresses, num_syms, names, markers, tokens (no base-relative kallsyms).
    case absoluteAddresses
    /// num_syms, names, markers, tokens, offsets from their own place (7.0+).
    case placeRelative
  }

  static let base: UInt64 = 0xffff_ffff_8100_0000
  static let banner = "Linux version 9.9.9-tiny (coroner@tests)"
  static let bannerAddress = base + 0x3000

  var symbols: [(type: Character, name: String, address: UInt64)]
  var layout = Layout.offsetsFirst
  var bigLengths = true
  var absolutePercpu = false
  /// Bytes between the markers and the token table (kallsyms_seqs_of_names).
  var seqsGap = 0
  /// Where the tables start, past the image's text.
  var tablesStart = 0x1_0000

  /// The well-known symbols, per-CPU ones when `percpu`, and `filler` more.
  static func standardSymbols(filler: Int, percpu: Bool = false)
    -> [(type: Character, name: String, address: UInt64)]
  {
    var symbols: [(type: Character, name: String, address: UInt64)] = [
      ("T", "_stext", base), ("T", "_text", base), ("T", "start_kernel", base + 0x100),
      ("t", "alias_of_start", base + 0x100), ("D", "init_task", base + 0x2000),
      ("D", "linux_banner", bannerAddress), ("R", "init_uts_ns", base + 0x4000),
    ]
    for index in 0..<filler {
      symbols.append(
        (index % 3 == 0 ? "t" : "T", "sym_\(index)_kernel_text", base + 0x5000 + UInt64(index) * 16)
      )
    }
    if percpu {
      symbols.append(("A", "__per_cpu_start", 0))
      symbols.append(("A", "runqueues", 0x1000))
    }
    return symbols.sorted { $0.address < $1.address }
  }

  /// The token table: every character used stands for itself, some free codes
  /// for pairs and longer pieces, the rest for unused filler.
  func tokens() -> [[UInt8]] {
    var tokens = [[UInt8]?](repeating: nil, count: 256)
    for symbol in symbols {
      for byte in Array(String(symbol.type).utf8) + Array(symbol.name.utf8) {
        tokens[Int(byte)] = [byte]
      }
    }
    var pieces = [
      "_kernel_text", "sym_", "_t", "ex", "in", "it", "ta", "rt", "Tsym_", "tsym_", "_s",
    ]
    var fillerIndex = 0
    for code in 0..<256 where tokens[code] == nil {
      if !pieces.isEmpty {
        tokens[code] = Array(pieces.removeFirst().utf8)
      } else {
        tokens[code] = Array("{\(fillerIndex)}".utf8)
        fillerIndex += 1
      }
    }
    return tokens.map { $0 ?? [0x7e] }
  }

  /// The image from `base`: banner, then the tables; and where they are.
  func build() -> (image: [UInt8], tables: KallsymsTables) {
    var image = [UInt8](repeating: 0xcc, count: tablesStart)
    let bannerOffset = Int(Self.bannerAddress - Self.base)
    image.replaceSubrange(
      bannerOffset..<(bannerOffset + Self.banner.utf8.count + 1),
      with: Array(Self.banner.utf8) + [0])
    func align() { while image.count % 8 != 0 { image.append(0) } }
    func here() -> UInt64 { Self.base + UInt64(image.count) }
    func put32(_ value: UInt32) { withUnsafeBytes(of: value.littleEndian) { image += $0 } }
    func put64(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { image += $0 } }

    let tokens = tokens()
    // Greedy longest-token encoding.
    var byPiece: [[UInt8]: UInt8] = [:]
    for (code, token) in tokens.enumerated() { byPiece[token] = UInt8(code) }
    let longest = tokens.map(\.count).max() ?? 1
    var names: [UInt8] = []
    var markers: [UInt32] = []
    for (index, symbol) in symbols.enumerated() {
      if index % 256 == 0 { markers.append(UInt32(names.count)) }
      let text = Array(String(symbol.type).utf8) + Array(symbol.name.utf8)
      var codes: [UInt8] = []
      var position = 0
      while position < text.count {
        var length = min(longest, text.count - position)
        while length > 1, byPiece[Array(text[position..<(position + length)])] == nil {
          length -= 1
        }
        codes.append(byPiece[Array(text[position..<(position + length)])] ?? 0)
        position += length
      }
      if bigLengths, codes.count > 127 {
        names += [UInt8(0x80 | (codes.count & 0x7f)), UInt8(codes.count >> 7)]
      } else {
        names.append(UInt8(truncatingIfNeeded: codes.count))
      }
      names += codes
    }
    let relativeBase = symbols.map(\.address).filter { $0 >> 63 == 1 }.min() ?? Self.base
    func putOffsets() -> (offsets: UInt64, base: UInt64) {
      align()
      let offsets = here()
      for symbol in symbols {
        if absolutePercpu {
          if symbol.address >> 63 == 0 {
            put32(UInt32(symbol.address))
          } else {
            put32(UInt32(bitPattern: Int32(-Int64(symbol.address - relativeBase) - 1)))
          }
        } else {
          put32(UInt32(symbol.address - relativeBase))
        }
      }
      align()
      let base = here()
      put64(relativeBase)
      return (offsets, base)
    }

    var addresses: KallsymsTables.Addresses = .absolute(0)
    switch layout {
    case .offsetsFirst:
      let (offsets, base) = putOffsets()
      addresses = .relative(offsets: offsets, base: base)
    case .absoluteAddresses:
      align()
      addresses = .absolute(here())
      for symbol in symbols { put64(symbol.address) }
    case .offsetsAfterIndex, .placeRelative:
      break
    }
    align()
    let numSyms = here()
    put32(UInt32(symbols.count))
    align()
    let namesAddress = here()
    image += names
    align()
    let markersAddress = here()
    for marker in markers { put32(marker) }
    image += [UInt8](repeating: 0x5a, count: seqsGap)
    align()
    let tokenTable = here()
    var index: [UInt16] = []
    for token in tokens {
      index.append(UInt16(UInt64(image.count) - (tokenTable - Self.base)))
      image += token + [0]
    }
    align()
    let tokenIndex = here()
    for value in index { withUnsafeBytes(of: value.littleEndian) { image += $0 } }
    if layout == .offsetsAfterIndex {
      let (offsets, base) = putOffsets()
      addresses = .relative(offsets: offsets, base: base)
    } else if layout == .placeRelative {
      align()
      let offsets = here()
      for (index, symbol) in symbols.enumerated() {
        let place = offsets + UInt64(index * 4)
        put32(UInt32(bitPattern: Int32(Int64(bitPattern: symbol.address &- place))))
      }
      addresses = .placeRelative(offsets: offsets)
    }
    // Whole pages, as a dump holds them.
    image += [UInt8](repeating: 0xcc, count: 64)
    while image.count % 4096 != 0 { image.append(0xcc) }
    return (
      image,
      KallsymsTables(
        numSyms: numSyms, names: namesAddress, markers: markersAddress, tokenTable: tokenTable,
        tokenIndex: tokenIndex, addresses: addresses)
    )
  }
}

/// Memory over a byte array at a virtual address; reads past `readableEnd`
/// or into `hole` fail as a truncated or filtered dump would.
final class ByteMemory: VirtualMemory {
  let base: UInt64
  var bytes: [UInt8]
  var readableEnd: Int
  var hole: Range<Int>?
  var byteOrder: ByteOrder { .little }
  var pointerSize: Int { 8 }

  init(base: UInt64, bytes: [UInt8]) {
    self.base = base
    self.bytes = bytes
    readableEnd = bytes.count
  }

  func read(virtual address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(DumpError) {
    guard address >= base, address - base <= UInt64(readableEnd),
      buffer.count <= readableEnd - Int(address - base)
    else {
      throw DumpError(.notMapped, "0x\(String(address, radix: 16)) is not in the test memory")
    }
    let start = Int(address - base)
    if let hole, hole.overlaps(start..<(start + buffer.count)) {
      throw DumpError(.notInDump, "0x\(String(address, radix: 16)) is in a hole")
    }
    bytes.withUnsafeBytes { source in
      buffer.copyMemory(
        from: UnsafeRawBufferPointer(rebasing: source[start..<(start + buffer.count)]))
    }
  }

  func translate(_ address: UInt64) throws(DumpError) -> UInt64 { address }
}

@Suite struct KallsymsSyntheticTests {
  static let vmcoreinfo = VMCoreInfo(text: Array("SYMBOL(_stext)=ffffffff81000000\n".utf8))

  func expectSame(_ decoded: KallsymsSymbols, _ tiny: TinyKallsyms) {
    #expect(decoded.count == tiny.symbols.count)
    let all = decoded.all
    for (index, symbol) in tiny.symbols.enumerated() where index < all.count {
      #expect(all[index].name == symbol.name)
      #expect(all[index].type == symbol.type)
      #expect(all[index].address == symbol.address)
    }
  }

  @Test func decodesOneByteLengths() throws {
    var tiny = TinyKallsyms(symbols: TinyKallsyms.standardSymbols(filler: 600))
    tiny.bigLengths = false
    let (image, tables) = tiny.build()
    let memory = ByteMemory(base: TinyKallsyms.base, bytes: image)
    var keys = tables
    keys.markers = nil  // as in VMCOREINFO
    let symbols = try KallsymsSymbols(memory: memory, tables: keys)
    expectSame(symbols, tiny)
    #expect(symbols.markersVerified)
    #expect(!symbols.absolutePercpu)
    #expect(symbols.address(of: "init_task") == TinyKallsyms.base + 0x2000)
    #expect(symbols.address(of: "no_such_symbol") == nil)
    // The text alias is preferred at a shared address; sizes run to the next.
    let start = try #require(symbols.symbol(containing: TinyKallsyms.base + 0x105))
    #expect(start.name == "start_kernel")
    #expect(start.size == 0x2000 - 0x100)
    #expect(symbols.describe(TinyKallsyms.base + 0x105) == "start_kernel+0x5/0x1f00")
    #expect(symbols.symbol(containing: TinyKallsyms.base - 1) == nil)
    let last = try #require(tiny.symbols.last)
    #expect(symbols.symbol(containing: last.address)?.name == last.name)
    #expect(symbols.symbol(containing: last.address + 1) == nil)
  }

  @Test func decodesBigSymbolLengths() throws {
    var symbols = TinyKallsyms.standardSymbols(filler: 300)
    let long = "very_long_" + String(repeating: "Q", count: 400)
    symbols.append(("t", long, TinyKallsyms.base + 0x9_0000))
    var tiny = TinyKallsyms(symbols: symbols)
    tiny.bigLengths = true
    let (image, tables) = tiny.build()
    let memory = ByteMemory(base: TinyKallsyms.base, bytes: image)
    var keys = tables
    keys.markers = nil
    let decoded = try KallsymsSymbols(memory: memory, tables: keys)
    expectSame(decoded, tiny)
    #expect(decoded.nameEncoding == "two-byte lengths for big symbols")
    #expect(decoded.address(of: long) == TinyKallsyms.base + 0x9_0000)
  }

  /// A one-byte table whose lengths have the high bit set (128–255) is
  /// told apart from a big-symbol table by the markers.
  @Test func oneByteLengthsAbove127() throws {
    var symbols = TinyKallsyms.standardSymbols(filler: 600)
    let long = "long_" + String(repeating: "Q", count: 180)
    symbols.insert(("T", long, TinyKallsyms.base + 0x4800), at: 7)
    symbols.sort { $0.address < $1.address }
    var tiny = TinyKallsyms(symbols: symbols)
    tiny.bigLengths = false
    let (image, tables) = tiny.build()
    let memory = ByteMemory(base: TinyKallsyms.base, bytes: image)
    var keys = tables
    keys.markers = nil
    let decoded = try KallsymsSymbols(memory: memory, tables: keys)
    expectSame(decoded, tiny)
    #expect(decoded.nameEncoding == "one-byte lengths")
    #expect(decoded.address(of: long) == TinyKallsyms.base + 0x4800)
  }

  @Test func absolutePercpuOffsets() throws {
    var tiny = TinyKallsyms(symbols: TinyKallsyms.standardSymbols(filler: 300, percpu: true))
    tiny.absolutePercpu = true
    let (image, tables) = tiny.build()
    let decoded = try KallsymsSymbols(
      memory: ByteMemory(base: TinyKallsyms.base, bytes: image), tables: tables)
    expectSame(decoded, tiny)
    #expect(decoded.absolutePercpu)
    #expect(decoded.address(of: "runqueues") == 0x1000)
    // The last per-CPU symbol does not stretch to the kernel image.
    #expect(decoded.symbol(containing: 0x1000)?.name == "runqueues")
    #expect(decoded.symbol(containing: 0x1008) == nil)
    #expect(decoded.symbol(containing: 0x0)?.name == "__per_cpu_start")
  }

  @Test func placeRelativeOffsets() throws {
    var tiny = TinyKallsyms(symbols: TinyKallsyms.standardSymbols(filler: 300))
    tiny.layout = .placeRelative
    let (image, tables) = tiny.build()
    let memory = ByteMemory(base: TinyKallsyms.base, bytes: image)
    var keys = tables
    keys.markers = nil
    let decoded = try KallsymsSymbols(memory: memory, tables: keys)
    expectSame(decoded, tiny)
    #expect(!decoded.absolutePercpu)
    // VMCOREINFO without kallsyms_relative_base means place-relative.
    func hex(_ value: UInt64) -> String { String(value, radix: 16) }
    guard case .placeRelative(let offsets) = tables.addresses else {
      Issue.record("expected place-relative offsets")
      return
    }
    let text =
      "SYMBOL(kallsyms_names)=\(hex(tables.names))\n"
      + "SYMBOL(kallsyms_num_syms)=\(hex(tables.numSyms))\n"
      + "SYMBOL(kallsyms_token_table)=\(hex(tables.tokenTable))\n"
      + "SYMBOL(kallsyms_token_index)=\(hex(tables.tokenIndex))\n"
      + "SYMBOL(kallsyms_offsets)=\(hex(offsets))\n"
    let vmcoreinfo = VMCoreInfo(text: Array(text.utf8))
    #expect(KallsymsTables(vmcoreinfo: vmcoreinfo)?.addresses == .placeRelative(offsets: offsets))
    #expect(
      try KallsymsSymbols.load(memory: memory, vmcoreinfo: vmcoreinfo).count == tiny.symbols.count)
  }

  @Test func absoluteAddresses() throws {
    var tiny = TinyKallsyms(symbols: TinyKallsyms.standardSymbols(filler: 300))
    tiny.layout = .absoluteAddresses
    let (image, tables) = tiny.build()
    let decoded = try KallsymsSymbols(
      memory: ByteMemory(base: TinyKallsyms.base, bytes: image), tables: tables)
    expectSame(decoded, tiny)
  }

  /// VMCOREINFO's keys are used, and the decoded symbols checked against it.
  @Test func loadsFromVMCOREINFOKeys() throws {
    let tiny = TinyKallsyms(symbols: TinyKallsyms.standardSymbols(filler: 300))
    let (image, tables) = tiny.build()
    let memory = ByteMemory(base: TinyKallsyms.base, bytes: image)
    func hex(_ value: UInt64) -> String { String(value, radix: 16) }
    guard case .relative(let offsets, let base) = tables.addresses else {
      Issue.record("expected relative addresses")
      return
    }
    var text = "SYMBOL(_stext)=ffffffff81000000\nSYMBOL(kallsyms_names)=\(hex(tables.names))\n"
    text += "SYMBOL(kallsyms_num_syms)=\(hex(tables.numSyms))\n"
    text += "SYMBOL(kallsyms_token_table)=\(hex(tables.tokenTable))\n"
    text += "SYMBOL(kallsyms_token_index)=\(hex(tables.tokenIndex))\n"
    text +=
      "SYMBOL(kallsyms_offsets)=\(hex(offsets))\nSYMBOL(kallsyms_relative_base)=\(hex(base))\n"
    let decoded = try KallsymsSymbols.load(
      memory: memory, vmcoreinfo: VMCoreInfo(text: Array(text.utf8)))
    #expect(decoded.origin == "VMCOREINFO")
    expectSame(decoded, tiny)
    // A VMCOREINFO that disagrees on init_uts_ns is refused.
    let wrong = text + "SYMBOL(init_uts_ns)=ffffffff81001234\n"
    #expect(throws: DumpError.self) {
      try KallsymsSymbols.load(memory: memory, vmcoreinfo: VMCoreInfo(text: Array(wrong.utf8)))
    }
  }

  @Test(arguments: [
    (TinyKallsyms.Layout.offsetsFirst, 0), (.offsetsFirst, 3 * 600), (.offsetsAfterIndex, 3 * 600),
    (.absoluteAddresses, 0),
  ])
  func searchFindsTheTables(layout: TinyKallsyms.Layout, seqsGap: Int) throws {
    var tiny = TinyKallsyms(symbols: TinyKallsyms.standardSymbols(filler: 600, percpu: true))
    tiny.layout = layout
    tiny.seqsGap = seqsGap
    tiny.absolutePercpu = layout != .absoluteAddresses
    let (image, tables) = tiny.build()
    let memory = ByteMemory(base: TinyKallsyms.base, bytes: image)
    let found = try KallsymsSymbols.load(memory: memory, vmcoreinfo: Self.vmcoreinfo)
    #expect(found.tables == tables)
    #expect(found.markersVerified)
    expectSame(found, tiny)
    // From the KASLR offset alone.
    let again = try KallsymsSymbols.load(memory: memory, vmcoreinfo: VMCoreInfo(), kernelOffset: 0)
    #expect(again.tables == tables)
  }

  /// A dump that ends anywhere in the tables is an error, never a trap.
  @Test func truncatedTablesThrow() throws {
    let tiny = TinyKallsyms(symbols: TinyKallsyms.standardSymbols(filler: 600))
    let (image, tables) = tiny.build()
    let memory = ByteMemory(base: TinyKallsyms.base, bytes: image)
    let tablesStart = Int(tables.numSyms - TinyKallsyms.base) - 8 - 4 * tiny.symbols.count
    let tablesEnd = Int(tables.tokenIndex - TinyKallsyms.base) + 512
    var cut = tablesStart
    while cut < tablesEnd {
      memory.readableEnd = cut
      #expect(throws: DumpError.self, "cut at \(cut)") {
        try KallsymsSymbols(memory: memory, tables: tables)
      }
      cut += 37
    }
    memory.readableEnd = tablesEnd
    #expect(try KallsymsSymbols(memory: memory, tables: tables).count == tiny.symbols.count)
    // A page missing from the middle of the names, or of the offsets.
    let names = Int(tables.names - TinyKallsyms.base)
    for hole in [(names + 100)..<(names + 200), (tablesStart + 40)..<(tablesStart + 41)] {
      memory.hole = hole
      #expect(throws: DumpError.self, "hole \(hole)") {
        try KallsymsSymbols(memory: memory, tables: tables)
      }
    }
    memory.hole = nil
    // The search over a truncated image finds nothing, and says so.
    memory.readableEnd = Int(tables.markers.map { $0 - TinyKallsyms.base } ?? 0) + 4
    #expect(throws: DumpError.self) {
      try KallsymsSymbols.load(memory: memory, vmcoreinfo: Self.vmcoreinfo)
    }
  }

  @Test func corruptTokenIndexThrows() throws {
    let tiny = TinyKallsyms(symbols: TinyKallsyms.standardSymbols(filler: 300))
    let (image, tables) = tiny.build()
    let indexOffset = Int(tables.tokenIndex - TinyKallsyms.base)
    // An offset past the table, one onto a NUL (an empty token), one that
    // makes the tokens overlap (names decode to garbage: no _stext).
    for (token, value) in [(7, UInt16(0xfff0)), (9, UInt16(0)), (0x54, UInt16(1))] {
      var corrupt = image
      corrupt[indexOffset + token * 2] = UInt8(value & 0xff)
      corrupt[indexOffset + token * 2 + 1] = UInt8(value >> 8)
      if value == 0 {
        // Point at the NUL that ends token 0.
        let end = Int(image[indexOffset + 2]) - 1
        corrupt[indexOffset + token * 2] = UInt8(end)
      }
      let memory = ByteMemory(base: TinyKallsyms.base, bytes: corrupt)
      #expect(throws: DumpError.self, "token \(token) -> \(value)") {
        let symbols = try KallsymsSymbols(memory: memory, tables: tables)
        try Self.requireWellKnown(symbols)
      }
    }
  }

  static func requireWellKnown(_ symbols: KallsymsSymbols) throws(DumpError) {
    for name in ["_stext", "init_task", "linux_banner", "start_kernel"]
    where symbols.address(of: name) == nil {
      throw DumpError(.corrupt, "no \(name)")
    }
  }

  @Test func impossibleCountsThrow() throws {
    let tiny = TinyKallsyms(symbols: TinyKallsyms.standardSymbols(filler: 300))
    let (image, tables) = tiny.build()
    let countOffset = Int(tables.numSyms - TinyKallsyms.base)
    for count: UInt32 in [0, 0xffff_ffff, UInt32(tiny.symbols.count * 50)] {
      var corrupt = image
      withUnsafeBytes(of: count.littleEndian) {
        corrupt.replaceSubrange(countOffset..<(countOffset + 4), with: $0)
      }
      #expect(throws: DumpError.self, "count \(count)") {
        try KallsymsSymbols(
          memory: ByteMemory(base: TinyKallsyms.base, bytes: corrupt), tables: tables)
      }
    }
  }

  /// Random damage to the names and tokens: an error or a table, never a
  /// trap.
  @Test func damagedTablesNeverTrap() throws {
    var tiny = TinyKallsyms(symbols: TinyKallsyms.standardSymbols(filler: 600, percpu: true))
    tiny.absolutePercpu = true
    let (image, tables) = tiny.build()
    let first = Int(tables.names - TinyKallsyms.base)
    let last = Int(tables.tokenIndex - TinyKallsyms.base) + 512
    var generator = SplitMix(seed: 0x6b61_6c6c)
    var decoded = 0
    for iteration in 0..<300 {
      var damaged = image
      for _ in 0..<Int(generator.next() % 8 + 1) {
        let position = first + Int(generator.next() % UInt64(last - first))
        damaged[position] = UInt8(truncatingIfNeeded: generator.next())
      }
      let memory = ByteMemory(base: TinyKallsyms.base, bytes: damaged)
      if let symbols = try? KallsymsSymbols(memory: memory, tables: tables) {
        decoded += 1
        _ = symbols.all
        _ = symbols.symbol(containing: TinyKallsyms.base + 0x5123)
      }
      if iteration < 4 {
        _ = try? KallsymsSymbols.load(memory: memory, vmcoreinfo: Self.vmcoreinfo)
      }
    }
    #expect(decoded > 0)
  }
}

/// A small deterministic generator.
struct SplitMix {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9e37_79b9_7f4a_7c15
    var value = state
    value = (value ^ (value >> 30)) &* 0xbf58_476d_1ce4_e5b9
    value = (value ^ (value >> 27)) &* 0x94d0_49bb_1331_11eb
    return value ^ (value >> 31)
  }
}
