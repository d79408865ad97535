import CoronerTestSupport
import DumpFormats
import Foundation
import LinuxKernel
import Testing

/// The same answers with no debuginfo and with `--vmlinux` (DWARF) or
/// `--system-map`. The DWARF vmlinux files are too big to commit: these
/// tests run where the fixture generator's cache holds them
/// (CORONER_VMLINUX_DIR, default /var/tmp/coroner-fixture-cache/vmlinux) and
/// are skipped elsewhere; BTFTests checks BTF against DWARF layouts in CI.
@Suite struct DebugInfoEquivalenceTests {
  static let vmlinuxDirectory =
    ProcessInfo.processInfo.environment["CORONER_VMLINUX_DIR"] ?? "/var/tmp/coroner-fixture-cache/vmlinux"

  static func vmlinux(for folder: URL) -> String? {
    guard let release = (try? Fixtures.facts(in: folder))?["kernelRelease"] as? String else { return nil }
    let path = vmlinuxDirectory + "/vmlinux-" + release
    return FileManager.default.fileExists(atPath: path) ? path : nil
  }

  static let folders = Fixtures.x86Folders.filter { vmlinux(for: $0) != nil }

  @Test(.enabled(if: !folders.isEmpty, "no DWARF vmlinux in the cache"), arguments: folders)
  func sameAnswersWithAndWithoutVmlinux(folder: URL) throws {
    let vmlinux = try #require(Self.vmlinux(for: folder))
    let path = try #require(try Fixtures.analysableDumps(in: folder).first)
    let plain = try KernelSession(dump: try DumpFile.open(path: path))
    let dwarf = try KernelSession(
      dump: try DumpFile.open(path: path), options: DebugInfoOptions(vmlinux: vmlinux))
    #expect(dwarf.types.sourceName.hasPrefix("DWARF"), "\(dwarf.debugInfoProblems)")
    #expect(try TaskList(session: plain).tasks == TaskList(session: dwarf).tasks)
    #expect(try ModuleList(session: plain).modules == ModuleList(session: dwarf).modules)
    let plainSummary = CrashSummary(session: plain)
    let dwarfSummary = CrashSummary(session: dwarf)
    #expect(plainSummary.signature == dwarfSummary.signature)
    #expect(plainSummary.backtrace?.functionNames == dwarfSummary.backtrace?.functionNames)
    #expect(plainSummary.lastLogLines == dwarfSummary.lastLogLines)
  }
}
