import AddressTranslation
import CoronerTestSupport
import DumpFormats
import Foundation
@testable import LinuxKernel
import Testing

/// coroner's backtraces equal crash's `bt` and `bt -a` (crash 8.0.6 with the
/// DWARF vmlinux) on every fixture that has them, on every container of the
/// fixture; started from the saved registers they equal drgn's; every task
/// unwinds to its natural end; and a corrupt stack stops with a reason.
@Suite struct BacktraceTests {
  static let folders = Fixtures.folders.filter {
    FileManager.default.fileExists(atPath: $0.appendingPathComponent("expected/crash-bt.txt").path)
  }

  @Test func thereAreFixturesWithReferenceBacktraces() {
    #expect(!Self.folders.isEmpty)
  }

  // MARK: crash's output

  /// One frame line of crash's `bt`: `#N [stack] function at address`.
  struct CrashFrame: Equatable, CustomStringConvertible {
    var stack: UInt64
    var function: String
    var address: UInt64
    var description: String {
      "[\(String(stack, radix: 16))] \(function) at \(String(address, radix: 16))"
    }
  }

  /// One task's block of crash's `bt` output.
  struct CrashTrace {
    var pid: Int32
    var task: UInt64
    var frames: [CrashFrame] = []
    /// The `RIP:` of each register block, in order.
    var registerIPs: [UInt64] = []
  }

  /// Parses crash's `bt` or `bt -a` output.
  static func parse(_ text: String) -> [CrashTrace] {
    var traces: [CrashTrace] = []
    for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
      let words = line.split(separator: " ", omittingEmptySubsequences: true)
      if words.first == "PID:", words.count >= 4, let pid = Int32(words[1]),
        let task = UInt64(words[3], radix: 16)
      {
        traces.append(CrashTrace(pid: pid, task: task))
      } else if let first = words.first, first.hasPrefix("#"), words.count >= 5, words[3] == "at",
        let stack = UInt64(words[1].dropFirst().dropLast(), radix: 16),
        let address = UInt64(words[4], radix: 16), !traces.isEmpty
      {
        traces[traces.count - 1].frames.append(
          CrashFrame(stack: stack, function: String(words[2]), address: address))
      } else if words.first == "RIP:", words.count >= 2, let ip = UInt64(words[1], radix: 16),
        !traces.isEmpty
      {
        traces[traces.count - 1].registerIPs.append(ip)
      }
    }
    return traces
  }

  static func frames(_ trace: Backtrace) -> [CrashFrame] {
    trace.frames.map {
      CrashFrame(stack: $0.stackAddress, function: $0.function ?? "?", address: $0.address)
    }
  }

  /// The reference folder for a container: a dump taken without VMCOREINFO
  /// comes from a run of its own, with its own references.
  static func expectedFolder(for path: String, in folder: URL) -> URL {
    let own = folder.appendingPathComponent("expected-novmcoreinfo")
    if path.contains("novmcoreinfo"), FileManager.default.fileExists(atPath: own.path) { return own }
    return folder.appendingPathComponent("expected")
  }

  static func compare(_ ours: Backtrace, _ reference: CrashTrace, _ label: String) {
    #expect(ours.task.address == reference.task, "\(label): task")
    #expect(ours.task.pid == reference.pid, "\(label): pid")
    #expect(
      frames(ours) == reference.frames,
      "\(label): frames\n  ours:  \(frames(ours))\n  crash: \(reference.frames)")
    #expect(
      ours.exceptionFrames.map(\.registers.rip) == reference.registerIPs,
      "\(label): exception frames")
    #expect(ours.stop.isComplete, "\(label): \(ours.stop)")
  }

  /// The panic task's backtrace is crash's `bt`, and the tasks running on
  /// each CPU give crash's `bt -a`, on every container of the fixture.
  @Test(arguments: folders)
  func matchesCrash(folder: URL) throws {
    for path in try Fixtures.analysableDumps(in: folder) {
      let expected = Self.expectedFolder(for: path, in: folder)
      let label = "\(folder.lastPathComponent)/\((path as NSString).lastPathComponent)"
      let session = try KernelSession(dump: try DumpFile.open(path: path))
      let backtracer = try Backtracer(session: session)

      let panicText = try String(
        contentsOf: expected.appendingPathComponent("crash-bt.txt"), encoding: .utf8)
      let reference = try #require(Self.parse(panicText).first, "\(label): no crash bt")
      let panicTask = try #require(backtracer.panicTask, "\(label): no panic task")
      Self.compare(backtracer.backtrace(of: panicTask), reference, "\(label) bt")

      let allFile = expected.appendingPathComponent("crash-bt-a.txt")
      if let allText = try? String(contentsOf: allFile, encoding: .utf8) {
        let references = Self.parse(allText)
        let active = backtracer.activeTasks
        #expect(
          active.map(\.address) == references.map(\.task), "\(label) bt -a: tasks")
        for (task, reference) in zip(active, references) {
          Self.compare(backtracer.backtrace(of: task), reference, "\(label) bt -a pid \(task.pid)")
        }
      }
    }
  }

  /// Started from the panic CPU's saved registers, the panic task's frames
  /// are drgn's `crashed_thread_stack` (drgn unwinds with the vmlinux's DWARF
  /// call frame information; names differ only where kallsyms has a label
  /// DWARF lacks, so addresses are compared).
  @Test(arguments: folders)
  func fromRegistersMatchesDrgn(folder: URL) throws {
    guard let drgn = try? Fixtures.drgn(in: folder),
      let stack = drgn["crashed_thread_stack"] as? [[String: Any]]
    else { return }
    let expected: [UInt64] = stack.compactMap { frame in
      guard frame["function"] is String, let address = frame["address"] as? String else { return nil }
      return UInt64(address.dropFirst(2), radix: 16)
    }
    for path in try Fixtures.analysableDumps(in: folder) where !path.contains("novmcoreinfo") {
      let label = "\(folder.lastPathComponent)/\((path as NSString).lastPathComponent)"
      let session = try KernelSession(dump: try DumpFile.open(path: path))
      let backtracer = try Backtracer(session: session)
      let panicTask = try #require(backtracer.panicTask, "\(label): no panic task")
      let trace = backtracer.backtrace(of: panicTask, policy: .registers)
      #expect(trace.frames.map(\.address) == expected, "\(label): \(trace.functionNames)")
      #expect(trace.stop == .userMode, "\(label): \(trace.stop)")
    }
  }

  /// Sleeping tasks start in `__schedule` from their switch frame and end at
  /// their syscall entry (user tasks) or `ret_from_fork` (kernel threads);
  /// every task of the dump unwinds to such an end (a zombie has no stack).
  @Test(arguments: folders)
  func sleepingTasksUnwindToTheirEntry(folder: URL) throws {
    let path = try #require(try Fixtures.analysableDumps(in: folder).first)
    let session = try KernelSession(dump: try DumpFile.open(path: path))
    let backtracer = try Backtracer(session: session)
    let label = folder.lastPathComponent
    var checked = 0
    for task in backtracer.tasks.tasks {
      let trace = backtracer.backtrace(of: task)
      if trace.stop == .noStack {
        #expect(task.exitState != 0 || task.rawState & 0x80 != 0, "\(label) pid \(task.pid): no stack")
        continue
      }
      #expect(trace.stop.isComplete, "\(label) pid \(task.pid) \(task.comm): \(trace.stop) \(trace.functionNames)")
      guard task.activeOnCPU == nil else { continue }
      #expect(
        ["__schedule", "schedule"].contains(trace.frames.first?.function ?? ""),
        "\(label) pid \(task.pid) \(task.comm): starts in \(trace.functionNames.first ?? "nothing")")
      let named = task.comm == "coroner-bravo" || task.pid == 1 || task.comm == "kthreadd"
      if task.isKernelThread {
        #expect(
          ["ret_from_fork", "ret_from_fork_asm"].contains(trace.frames.last?.function ?? "")
            || task.pid == 0,
          "\(label) pid \(task.pid) \(task.comm): ends in \(trace.functionNames.last ?? "nothing")")
        #expect(trace.stop == .endOfStack, "\(label) pid \(task.pid): \(trace.stop)")
      } else {
        #expect(
          trace.frames.last?.function == "entry_SYSCALL_64_after_hwframe",
          "\(label) pid \(task.pid) \(task.comm): ends in \(trace.functionNames.last ?? "nothing")")
        #expect(trace.stop == .userMode, "\(label) pid \(task.pid): \(trace.stop)")
        #expect(trace.exceptionFrames.last?.isUserMode == true, "\(label) pid \(task.pid)")
      }
      if named { checked += 1 }
    }
    #expect(checked >= 3, "\(label): coroner-bravo, init and kthreadd were not all found")
  }

  // MARK: Corrupt stacks

  /// Memory made of a few words; everything else is unreadable.
  final class FakeMemory: VirtualMemory {
    var words: [UInt64: UInt64] = [:]
    var byteOrder: ByteOrder { .little }
    var pointerSize: Int { 8 }
    func read(virtual address: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(DumpError) {
      for index in 0..<buffer.count {
        let byteAddress = address &+ UInt64(index)
        let wordAddress = byteAddress & ~7
        guard let word = words[wordAddress] else {
          throw DumpError(.notInDump, "0x\(String(byteAddress, radix: 16)) is not in the fake memory")
        }
        buffer[index] = UInt8(truncatingIfNeeded: word >> (8 * (byteAddress & 7)))
      }
    }
    func translate(_ address: UInt64) throws(DumpError) -> UInt64 { address }
  }

  /// One ORC entry for every address.
  final class FixedOrc: OrcLookup {
    var entry: OrcEntry
    init(_ entry: OrcEntry) { self.entry = entry }
    func orcEntry(for address: UInt64) -> OrcEntry? { entry }
  }

  static let stackBase: UInt64 = 0xffff_c900_0000_0000
  static let text: UInt64 = 0xffff_ffff_8100_0000

  static func call(spOffset: Int16) -> OrcEntry {
    OrcEntry(
      spOffset: spOffset, bpOffset: 0, spRegister: OrcEntry.Register.sp.rawValue,
      bpRegister: OrcEntry.Register.undefined.rawValue, kind: .call, signal: false)
  }

  /// A stack whose every word is the same return address, with a frame
  /// size of 0: the stack pointer never moves, and the walk stops.
  @Test func aFrameThatDoesNotMoveStops() {
    let memory = FakeMemory()
    for index in 0..<512 { memory.words[Self.stackBase + UInt64(index * 8)] = Self.text + 0x10 }
    let region = StackRegion(kind: .task, range: Self.stackBase..<(Self.stackBase + 4096))
    let walker = StackUnwinder(
      memory: memory, orc: FixedOrc(Self.call(spOffset: 0)), symbols: nil, regions: [region])
    let result = walker.unwind(
      from: .init(ip: Self.text, sp: Self.stackBase + 64, bp: 0, signal: true, stackAddress: Self.stackBase + 64))
    #expect(result.stop == .notIncreasing(stackPointer: Self.stackBase + 64))
    #expect(result.frames.count <= 2)
  }

  /// The same stack with 8-byte frames climbs word by word until it leaves
  /// the stack; without known stacks it stops at the frame limit.
  @Test func anEndlessChainStopsAtTheStackTopOrTheLimit() {
    let memory = FakeMemory()
    for index in 0..<1024 { memory.words[Self.stackBase + UInt64(index * 8)] = Self.text + 0x10 }
    let region = StackRegion(kind: .task, range: Self.stackBase..<(Self.stackBase + 4096))
    var walker = StackUnwinder(
      memory: memory, orc: FixedOrc(Self.call(spOffset: 8)), symbols: nil, regions: [region],
      frameLimit: 10_000)
    let start = StackUnwinder.Start(
      ip: Self.text, sp: Self.stackBase, bp: 0, signal: true, stackAddress: Self.stackBase)
    let bounded = walker.unwind(from: start)
    #expect(bounded.stop == .leftStack(stackPointer: Self.stackBase + 4096))
    #expect(bounded.frames.count == 512)

    walker.regions = []
    walker.frameLimit = 256
    let limited = walker.unwind(from: start)
    #expect(limited.stop == .frameLimit(256))
    #expect(limited.frames.count == 256)
  }

  /// A return address in memory the dump does not hold stops the walk.
  @Test func anUnreadableWordStops() {
    let memory = FakeMemory()
    let walker = StackUnwinder(
      memory: memory, orc: FixedOrc(Self.call(spOffset: 16)), symbols: nil, regions: [])
    let result = walker.unwind(
      from: .init(ip: Self.text, sp: Self.stackBase, bp: 0, signal: true, stackAddress: Self.stackBase))
    guard case .unreadable(let address, _) = result.stop else {
      Issue.record("stopped with \(result.stop)")
      return
    }
    #expect(address == Self.stackBase + 8)
  }

  /// A `pt_regs` whose saved stack pointer points back down the stack, and
  /// a frame-pointer chain that loops, both stop.
  @Test func registersPointingBackDownStop() {
    let memory = FakeMemory()
    let base = Self.stackBase
    // pt_regs at base + 0x100: ip and sp (offsets 128 and 152) lead below.
    for index in 0..<21 { memory.words[base + 0x100 + UInt64(index * 8)] = 0 }
    memory.words[base + 0x100 + 128] = Self.text + 0x40
    memory.words[base + 0x100 + 136] = 0x10  // cs: kernel
    memory.words[base + 0x100 + 152] = base + 0x80
    let region = StackRegion(kind: .task, range: base..<(base + 4096))
    let regs = OrcEntry(
      spOffset: 0, bpOffset: 0, spRegister: OrcEntry.Register.sp.rawValue,
      bpRegister: OrcEntry.Register.undefined.rawValue, kind: .registers, signal: true)
    let walker = StackUnwinder(memory: memory, orc: FixedOrc(regs), symbols: nil, regions: [region])
    let result = walker.unwind(
      from: .init(ip: Self.text, sp: base + 0x100, bp: 0, signal: true, stackAddress: base + 0x100))
    #expect(result.stop == .notIncreasing(stackPointer: base + 0x80))
    #expect(result.exceptionFrames.count == 1)

    // rbp pointing at itself: CFA = rbp + 16, saved rbp = rbp.
    let loop = FakeMemory()
    loop.words[base + 0x200] = base + 0x200
    loop.words[base + 0x208] = Self.text + 0x80
    let framePointer = StackUnwinder(memory: loop, orc: nil, symbols: nil, regions: [region])
    let chained = framePointer.unwind(
      from: .init(ip: Self.text, sp: base + 0x1f0, bp: base + 0x200, signal: true, stackAddress: base + 0x1f0))
    #expect(!chained.stop.isComplete)
    #expect(chained.frames.count < 5, "\(chained.frames.count) frames")
  }

  /// ORC entries by the address looked up.
  final class MapOrc: OrcLookup {
    var entries: [UInt64: OrcEntry]
    init(_ entries: [UInt64: OrcEntry]) { self.entries = entries }
    func orcEntry(for address: UInt64) -> OrcEntry? { entries[address] }
  }

  /// An NMI taken in kernel mode: the walk starts on the NMI stack, finds
  /// the `pt_regs`, shows the interrupted instruction as a frame on the task
  /// stack (crash's convention) and goes on there to the end.
  @Test func anExceptionStackLeadsBackToTheTaskStack() {
    let memory = FakeMemory()
    let task = StackRegion(kind: .task, range: Self.stackBase..<(Self.stackBase + 0x4000))
    let nmiBase: UInt64 = 0xffff_fe00_0000_8000
    let nmi = StackRegion(kind: .exception("NMI"), range: nmiBase..<(nmiBase + 0x2000))
    let entryCode = Self.text + 0x100
    let interrupted = Self.text + 0x200
    let caller = Self.text + 0x300
    // pt_regs at nmiBase + 0x1f00: the interrupted kernel context.
    for index in 0..<21 { memory.words[nmiBase + 0x1f00 + UInt64(index * 8)] = 0 }
    memory.words[nmiBase + 0x1f00 + 128] = interrupted
    memory.words[nmiBase + 0x1f00 + 136] = 0x10
    memory.words[nmiBase + 0x1f00 + 152] = Self.stackBase + 0x3000
    // The interrupted function's caller.
    memory.words[Self.stackBase + 0x3008] = caller + 5
    let regs = OrcEntry(
      spOffset: 0, bpOffset: 0, spRegister: OrcEntry.Register.sp.rawValue,
      bpRegister: OrcEntry.Register.undefined.rawValue, kind: .registers, signal: true)
    let end = OrcEntry(
      spOffset: 0, bpOffset: 0, spRegister: 0, bpRegister: 0, kind: .endOfStack, signal: false)
    let orc = MapOrc([entryCode: regs, interrupted: Self.call(spOffset: 16), caller + 4: end])
    let walker = StackUnwinder(memory: memory, orc: orc, symbols: nil, regions: [task, nmi])
    let result = walker.unwind(
      from: .init(ip: entryCode, sp: nmiBase + 0x1f00, bp: 0, signal: true, stackAddress: nmiBase + 0x1f00))
    #expect(result.stop == .endOfStack)
    #expect(result.frames.map(\.address) == [entryCode, interrupted, caller + 5])
    #expect(result.frames.map(\.stackAddress) == [nmiBase + 0x1f00, Self.stackBase + 0x3000, Self.stackBase + 0x3008])
    #expect(result.frames.map(\.stack) == [.exception("NMI"), .task, .task])
    #expect(result.frames.map(\.origin) == [.start, .interrupted, .orc])
    #expect(result.exceptionFrames.count == 1)
    #expect(result.exceptionFrames.first?.afterFrame == 0)
    #expect(result.exceptionFrames.first?.isUserMode == false)
  }

  /// Module code is named from the module's own symbols and has ORC
  /// entries from the module's tables.
  @Test func moduleAddressesAreNamedAndUnwindable() throws {
    let folder = try #require(Self.folders.first)
    let path = try #require(try Fixtures.analysableDumps(in: folder).first)
    let backtracer = try Backtracer(session: try KernelSession(dump: try DumpFile.open(path: path)))
    #expect(!backtracer.modules.isEmpty)
    for module in backtracer.modules {
      let symbol = backtracer.names.symbol(containing: module.base + 0x10)
      #expect(symbol?.module == module.name, "\(module.name): \(String(describing: symbol))")
      #expect(backtracer.orc?.orcEntry(for: module.base + 0x10) != nil, "\(module.name)")
    }
  }

  /// Garbage ORC entries and prologues decode without trapping.
  @Test func garbageDecodesSafely() {
    let format = OrcFormat(
      entrySize: 6, spOffset: 0, bpOffset: 2,
      spRegister: .init(byteOffset: 4, bitOffset: 0, width: 4),
      bpRegister: .init(byteOffset: 4, bitOffset: 4, width: 4),
      type: .init(byteOffset: 5, bitOffset: 0, width: 3),
      signal: .init(byteOffset: 5, bitOffset: 3, width: 1), end: nil)
    var generator = SystemRandomNumberGenerator()
    let bytes = (0..<6000).map { _ in UInt8.random(in: 0...255, using: &generator) }
    for base in stride(from: 0, to: 6000, by: 6) { _ = format.decode(bytes, at: base) }
    #expect(format.decode(bytes, at: 5998) == nil)
    for start in stride(from: 0, to: 5000, by: 97) {
      _ = PrologueAnalysis.frame(bytes: Array(bytes[start..<(start + 512)]))
    }
    // push rbx; sub $0xb0,%rsp: a frame of 0xb8 bytes, rbp untouched.
    let prologue: [UInt8] = [0x0f, 0x1f, 0x44, 0x00, 0x00, 0x53, 0x48, 0x81, 0xec, 0xb0, 0, 0, 0]
    #expect(PrologueAnalysis.frame(bytes: prologue) == .init(depth: 0xb8, savedBP: nil))
    // and $-16,%rsp cannot be followed.
    #expect(PrologueAnalysis.frame(bytes: [0x55, 0x48, 0x83, 0xe4, 0xf0]) == nil)
  }
}
