import DebugInfo
import DumpFormats
import Foundation
import Testing

/// System.map parsing, relocation and lookups. (Against real dumps:
/// `KallsymsFixtureTests.systemMapMovesLikeKASLR`.)
@Suite struct SystemMapTests {
  static let map = """
    0000000000000000 D __per_cpu_start
    0000000000031c40 D runqueues
    0000000001234567 A some_absolute
    ffffffff81000000 T _text
    ffffffff81000000 T _stext
    ffffffff81000000 t startup_64
    ffffffff81000100 t local_helper
    ffffffff81000100 T global_helper
    ffffffff81000180 W weak_thing
    ffffffff81001000 D init_task
    ffffffff81002000 d duplicate
    ffffffff81003000 D duplicate
    ffffffff81004000 b duplicate_local
    ffffffff81004000 B _end

    """

  func parse(_ text: String, runtimeText: UInt64? = nil, kernelOffset: UInt64? = nil) throws
    -> SystemMapSymbols
  {
    try SystemMapSymbols(
      bytes: Array(text.utf8), runtimeText: runtimeText, kernelOffset: kernelOffset)
  }

  @Test func parsesWithoutRelocation() throws {
    let map = try parse(Self.map)
    #expect(map.count == 14)
    #expect(map.relocation == 0)
    #expect(map.linkTimeText == 0xffff_ffff_8100_0000)
    #expect(map.address(of: "init_task") == 0xffff_ffff_8100_1000)
    #expect(map.address(of: "missing") == nil)
    // Duplicate names: the global one.
    #expect(map.address(of: "duplicate") == 0xffff_ffff_8100_3000)
    #expect(map.symbol(named: "weak_thing")?.type == "W")
  }

  @Test func relocatesKernelAddressesOnly() throws {
    let delta: UInt64 = 0x2dc0_0000
    let map = try parse(Self.map, runtimeText: 0xffff_ffff_8100_0000 + delta)
    #expect(map.relocation == delta)
    #expect(map.address(of: "_stext") == 0xffff_ffff_8100_0000 + delta)
    #expect(map.address(of: "init_task") == 0xffff_ffff_8100_1000 + delta)
    // Per-CPU offsets and absolute values stay.
    #expect(map.address(of: "runqueues") == 0x31c40)
    #expect(map.address(of: "some_absolute") == 0x1234567)
    // The kernel offset serves when the run-time text is unknown.
    let byOffset = try parse(Self.map, kernelOffset: delta)
    #expect(byOffset.address(of: "init_task") == 0xffff_ffff_8100_1000 + delta)
    // The run-time _stext wins over the offset.
    let both = try parse(Self.map, runtimeText: 0xffff_ffff_8200_0000, kernelOffset: delta)
    #expect(both.relocation == 0x100_0000)
  }

  @Test func reverseLookupsLikeTheKernel() throws {
    let map = try parse(Self.map, runtimeText: 0xffff_ffff_a000_0000)
    let base: UInt64 = 0xffff_ffff_a000_0000
    // Text symbols first among aliases, in map order.
    #expect(map.symbol(containing: base)?.name == "_text")
    let helper = try #require(map.symbol(containing: base + 0x123))
    #expect(helper.name == "local_helper")
    #expect(helper.size == 0x80)
    #expect(map.describe(base + 0x123) == "local_helper+0x23/0x80")
    #expect(map.symbol(containing: base + 0x1008)?.name == "init_task")
    // Nothing below the first symbol; the last only at its own address.
    #expect(map.symbol(containing: base + 0x4000)?.name == "duplicate_local")
    #expect(map.symbol(containing: base + 0x4001) == nil)
    // The last per-CPU symbol does not run into the kernel image.
    #expect(map.symbol(containing: 0x31c40)?.name == "runqueues")
    #expect(
      map.symbol(containing: 0x40000) == nil || map.symbol(containing: 0x40000)?.name == "runqueues"
    )
    #expect(map.symbol(containing: 0xffff_ffff_c000_0000) == nil)
    // Sorted, with sizes to the next distinct address.
    let all = map.all
    #expect(all.map(\.address) == all.map(\.address).sorted())
  }

  @Test func readsProcKallsymsCopiesWithModules() throws {
    let text = """
      ffffffffa0000000 T _stext
      ffffffffa0001000 T do_something
      ffffffffc0a00000 t mod_init\t[mymod]
      ffffffffc0a00040 T mod_work\t[mymod]
      ffffffffc0b00000 t other\t[othermod]
      """
    let map = try parse(text, runtimeText: 0xffff_ffff_a000_0000, kernelOffset: 0x1000)
    #expect(map.relocation == 0)
    let work = try #require(map.symbol(named: "mod_work"))
    #expect(work.module == "mymod")
    #expect(work.address == 0xffff_ffff_c0a0_0040)
    #expect(map.describe(0xffff_ffff_c0a0_0010) == "mod_init+0x10/0x40 [mymod]")
    #expect(map.symbol(named: "other")?.module == "othermod")
    // Module symbols are not moved by a kernel relocation.
    let moved = try parse(text, runtimeText: 0xffff_ffff_a100_0000)
    #expect(moved.address(of: "do_something") == 0xffff_ffff_a100_1000)
    #expect(moved.address(of: "mod_work") == 0xffff_ffff_c0a0_0040)
  }

  @Test func skipsLinesItDoesNotUnderstand() throws {
    let text =
      "# a comment\r\nffffffff81000000 T _stext\r\nnot a line\nffffffff8100zz00 T bad_hex\n"
      + "ffffffff81000010 TT two_letters\n10000000000000000 T too_long\n"
      + "ffffffff81000020 t five fields here x\n ffffffff81000030   t   spaced_out  \n"
      + "ffffffff81000040 t bad_module [unclosed\n                 U undefined_symbol\n"
    let map = try parse(text)
    #expect(map.count == 2)
    #expect(map.address(of: "_stext") == 0xffff_ffff_8100_0000)
    #expect(map.address(of: "spaced_out") == 0xffff_ffff_8100_0030)
    #expect(map.skippedLines == 8)
  }

  @Test func emptyOrUnreadableMapsThrow() throws {
    #expect(throws: DumpError.self) { try parse("") }
    #expect(throws: DumpError.self) { try parse("garbage\nmore garbage\n") }
    #expect(throws: DumpError.self) {
      try SystemMapSymbols(path: "/nonexistent/System.map-coroner")
    }
    #expect(throws: DumpError.self) { try SystemMapSymbols(path: "/") }
  }

  @Test func readsAFile() throws {
    let path = FileManager.default.temporaryDirectory
      .appendingPathComponent("coroner-system-map-\(getpid()).map").path
    try Self.map.write(toFile: path, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let map = try SystemMapSymbols(path: path, kernelOffset: 0x1000_0000)
    #expect(map.path == path)
    #expect(map.address(of: "init_task") == 0xffff_ffff_9100_1000)
  }

  /// Random bytes: an error or a table, never a trap.
  @Test func randomTextNeverTraps() {
    var generator = SplitMix(seed: 42)
    let alphabet = Array("0123456789abcdefxTtDd _[]\n\t\r".utf8)
    for _ in 0..<200 {
      let bytes = (0..<Int(generator.next() % 2000)).map { _ in
        alphabet[Int(generator.next() % UInt64(alphabet.count))]
      }
      if let map = try? SystemMapSymbols(bytes: bytes, kernelOffset: generator.next()) {
        _ = map.all
        _ = map.symbol(containing: generator.next())
      }
    }
  }
}
