import CoronerTestSupport
import DumpFormats
import Foundation
import LinuxKernel
import Testing

/// The kernel-level commands on cut-short and corrupted copies of a real
/// dump: each gives an error or a partial answer, never a trap or a hang.
@Suite struct DamagedKernelTests {
  static let path: String? = {
    guard let folder = Fixtures.x86Folders.first(where: { $0.lastPathComponent == "linux-6.1-sysrq" })
    else { return nil }
    return (try? Fixtures.analysableDumps(in: folder))?.first { $0.hasSuffix(".elf") }
  }()

  /// Everything `summary`, `ps`, `bt` and `dmesg` do, on one damaged source.
  static func exercise(_ source: ByteSource) {
    guard let dump = try? DumpFile(source: source),
      let session = try? KernelSession(dump: dump)
    else { return }
    _ = try? KernelLog.read(from: session.memory, vmcoreinfo: session.vmcoreinfo)
    if let tasks = try? TaskList(session: session), let tracer = try? Backtracer(session: session, tasks: tasks) {
      for task in tasks.tasks.prefix(8) { _ = tracer.backtrace(of: task) }
    }
    _ = try? ModuleList(session: session)
    _ = CrashSummary(session: session)
  }

  @Test(.enabled(if: path != nil, "no 6.1 ELF fixture")) func cutShort() throws {
    let file = try FileByteSource(path: try #require(Self.path))
    for tenth in [1, 3, 5, 7, 9] as [UInt64] {
      Self.exercise(DamagedByteSource(file, length: file.size / 10 * tenth))
    }
    // A copy cut where the kernel's data lies still names what is missing.
    let half = DamagedByteSource(file, length: file.size / 2)
    if let dump = try? DumpFile(source: half), let session = try? KernelSession(dump: dump) {
      let summary = CrashSummary(session: session)
      #expect(!summary.problems.isEmpty)
    }
  }

  @Test(.enabled(if: path != nil, "no 6.1 ELF fixture")) func corruptedMemory() throws {
    let file = try FileByteSource(path: try #require(Self.path))
    var generator = SeededGenerator(seed: 11)
    for round in 0..<6 {
      // Thousands of flipped bytes spread over the whole file: pointers,
      // list links, counts and strings in kernel memory go bad.
      var flips: [UInt64: UInt8] = [:]
      for _ in 0..<(2000 * (round + 1)) {
        flips[UInt64.random(in: 4096..<file.size, using: &generator)] = UInt8.random(in: 1...255, using: &generator)
      }
      Self.exercise(DamagedByteSource(file, flips: flips))
    }
  }

  /// Bytes flipped right inside the task_structs, the module list and the
  /// log ring's descriptors: the walkers meet bad pointers, loops and counts.
  @Test(.enabled(if: path != nil, "no 6.1 ELF fixture")) func corruptedKernelStructures() throws {
    let path = try #require(Self.path)
    let file = try FileByteSource(path: path)
    let clean = try KernelSession(dump: try DumpFile.open(path: path))
    let elf = try #require(clean.dump.elf)
    let tasks = try TaskList(session: clean).tasks
    // File offsets of the kernel virtual addresses to damage.
    func fileOffset(_ virtual: UInt64) -> UInt64? {
      guard let physical = try? clean.memory.translate(virtual),
        let index = elf.extents.index(containing: physical)
      else { return nil }
      let extent = elf.extents.intervals[index]
      guard extent.payload.state == .present else { return nil }
      return extent.payload.fileOffset + (physical - extent.start)
    }
    var generator = SeededGenerator(seed: 5)
    for round in 0..<8 {
      var flips: [UInt64: UInt8] = [:]
      for task in tasks.shuffled(using: &generator).prefix(12) {
        for _ in 0..<(8 * (round + 1)) {
          let within = UInt64.random(in: 0..<4096, using: &generator)
          if let offset = fileOffset(task.address &+ within) {
            flips[offset] = UInt8.random(in: 1...255, using: &generator)
          }
        }
      }
      for name in ["modules", "prb", "init_task", "runqueues"] {
        guard let symbol = clean.symbols.address(of: name) else { continue }
        for _ in 0..<16 {
          if let offset = fileOffset(symbol &+ UInt64.random(in: 0..<256, using: &generator)) {
            flips[offset] = UInt8.random(in: 1...255, using: &generator)
          }
        }
      }
      #expect(!flips.isEmpty)
      Self.exercise(DamagedByteSource(file, flips: flips))
    }
  }
}
