import CoronerTestSupport
import DumpFormats
import Foundation
import LinuxKernel
import Testing

/// The summary's facts agree with what the generator recorded from crash and
/// drgn, and the crash signature is the same on every container of a dump.
@Suite struct SummaryTests {
  static let folders = Fixtures.x86Folders.filter { folder in
    ((try? Fixtures.facts(in: folder))?["panicTask"]) != nil
  }

  @Test func thereAreFixtures() { #expect(Self.folders.count >= 2) }

  @Test(arguments: folders)
  func summaryAgreesWithReferences(folder: URL) throws {
    let facts = try Fixtures.facts(in: folder)
    let drgn = try? Fixtures.drgn(in: folder)
    var signatures = Set<String>()
    for path in try Fixtures.analysableDumps(in: folder) {
      let session = try KernelSession(dump: try DumpFile.open(path: path))
      let summary = CrashSummary(session: session)
      #expect(summary.release == facts["kernelRelease"] as? String, "\(path)")
      #expect(summary.panicCPU == facts["crashingCPU"] as? Int, "\(path)")
      let panicTask = try #require(facts["panicTask"] as? [String: Any])
      #expect(summary.panicTask.map { Int($0.pid) } == panicTask["pid"] as? Int, "\(path)")
      #expect(summary.panicTask?.comm == panicTask["comm"] as? String, "\(path)")
      if let message = facts["panicMessage"] as? String {
        #expect(summary.headline.map { "Kernel panic - not syncing: " + ($0.panicMessage ?? "") } == message, "\(path)")
      }
      #expect(summary.taint.map { Int($0.mask) } == facts["taint"] as? Int, "\(path)")
      if let tasks = drgn?["tasks"] as? [[String: Any]] {
        let blocked = tasks.filter { $0["state"] as? String == "UN" }.compactMap { $0["pid"] as? Int }.sorted()
        #expect(summary.blockedTasks.map { Int($0.pid) }.sorted() == blocked, "\(path)")
      }
      if let modules = drgn?["modules"] as? [[String: Any]] {
        let expected = modules.compactMap { $0["name"] as? String }.sorted()
        #expect(summary.modules.map(\.name).sorted() == expected, "\(path)")
      }
      #expect(summary.lastLogLines.count == CrashSummary.logLines, "\(path)")
      let signature = try #require(summary.signature, "\(path)")
      #expect(!signature.frames.isEmpty, "\(path)")
      signatures.insert(signature.hash)
    }
    #expect(signatures.count == 1, "\(folder.lastPathComponent): containers give \(signatures)")
  }

  /// sysrq-c crashes on 5.10, 6.1 and 6.12 run the same functions: one bug,
  /// one signature.
  @Test func sysrqCrashesShareOneSignatureAcrossKernels() throws {
    var titles = Set<String>()
    var hashes = Set<String>()
    for folder in Self.folders where folder.lastPathComponent.hasSuffix("-sysrq") {
      let path = try #require(try Fixtures.analysableDumps(in: folder).first)
      let summary = CrashSummary(session: try KernelSession(dump: try DumpFile.open(path: path)))
      let signature = try #require(summary.signature)
      #expect(signature.kind == .sysrq, "\(path)")
      #expect(signature.frames.first == "sysrq_handle_crash", "\(path): \(signature.frames)")
      titles.insert(signature.title)
      hashes.insert(signature.hash)
    }
    #expect(titles == ["sysrq crash in sysrq_handle_crash"])
    #expect(hashes.count == 1)
  }

  @Test func headlinesAreClassified() {
    let oops = CrashHeadline(lines: [
      "BUG: kernel NULL pointer dereference, address: 0000000000000000",
      "Oops: 0002 [#1] PREEMPT SMP NOPTI",
    ])
    #expect(oops?.kind == .nullPointerDereference)
    #expect(oops?.panicMessage == nil)
    let hung = CrashHeadline(lines: [
      "INFO: task coroner-hang:123 blocked for more than 5 seconds.",
      "Kernel panic - not syncing: hung_task: blocked tasks",
    ])
    #expect(hung?.kind == .hungTask)
    #expect(hung?.panicMessage == "hung_task: blocked tasks")
    #expect(CrashHeadline(lines: ["Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000009"])?.kind == .panic)
    #expect(CrashHeadline(lines: ["nothing to see"]) == nil)
  }

  @Test func signatureNormalisesFrames() {
    let headline = CrashHeadline(kind: .generalProtectionFault, line: "general protection fault", panicMessage: nil)
    let a = CrashSignature(
      headline: headline,
      frames: [("asm_exc_general_protection", nil), ("foo_write.cold", "mymod"), ("__x64_sys_write", nil), ("do_syscall_64", nil)])
    let b = CrashSignature(
      headline: headline, frames: [("foo_write.isra.0", "mymod"), ("__se_sys_write", nil), ("do_syscall_64", nil)])
    #expect(a.frames == ["foo_write", "sys_write", "do_syscall_64"])
    #expect(a.hash == b.hash)
    #expect(a.title == "general protection fault in foo_write")
    #expect(a.module == "mymod")
    let other = CrashSignature(headline: CrashHeadline(kind: .kernelBug, line: "kernel BUG at", panicMessage: nil), frames: [("foo_write", nil)])
    #expect(other.hash != a.hash)
    let panic = CrashSignature(
      headline: CrashHeadline(kind: .panic, line: "", panicMessage: "Attempted to kill init! exitcode=0x00000009"), frames: [])
    #expect(panic.title == "kernel panic: Attempted to kill init! exitcode=ADDR")
  }
}
