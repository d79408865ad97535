import CoronerTestSupport
import DumpFormats
import Foundation
import LinuxKernel
import Testing

/// coroner's task list equals drgn's (with the DWARF vmlinux) on every
/// fixture that has drgn's answers, for every task and every field.
@Suite struct TaskListTests {
  static let folders = Fixtures.x86Folders.filter { folder in
    guard let drgn = try? Fixtures.drgn(in: folder) else { return false }
    return drgn["tasks"] is [[String: Any]]
  }

  @Test func thereAreFixturesWithReferenceTasks() {
    #expect(!Self.folders.isEmpty)
  }

  @Test(arguments: folders)
  func tasksMatchDrgn(folder: URL) throws {
    let reference = try #require(try Fixtures.drgn(in: folder)["tasks"] as? [[String: Any]])
    // crash's ps marks the tasks running on a CPU with ">".
    let crashActive: Set<String>? = (try? Fixtures.expected("crash-ps.txt", in: folder)).map { text in
      Set(text.split(separator: "\n").filter { $0.hasPrefix(">") }.compactMap { line in
        line.split(separator: " ").dropFirst(4).first.map(String.init)
      })
    }
    for path in try Fixtures.analysableDumps(in: folder) {
      let session = try KernelSession(dump: try DumpFile.open(path: path))
      let list = try TaskList(session: session)
      #expect(list.problems.isEmpty, "\(path): \(list.problems)")
      let ours = Dictionary(list.tasks.map { ("0x" + String($0.address, radix: 16), $0) }) { first, _ in first }
      #expect(list.tasks.count == reference.count, "\(path): \(list.tasks.count) tasks, drgn has \(reference.count)")
      for expected in reference {
        let address = try #require(expected["task"] as? String)
        guard let task = ours[address] else {
          Issue.record("\(path): task \(address) (\(expected["comm"] ?? "?")) is missing")
          continue
        }
        let label = "\(path): pid \(task.pid) \(task.comm)"
        #expect(Int(task.pid) == expected["pid"] as? Int, "\(label)")
        #expect(Int(task.tgid) == expected["tgid"] as? Int, "\(label)")
        #expect(Int(task.ppid) == expected["ppid"] as? Int, "\(label) ppid")
        #expect(task.comm == expected["comm"] as? String, "\(label)")
        #expect(task.shortState == expected["state"] as? String, "\(label) state")
        #expect(task.cpu == expected["cpu"] as? Int, "\(label) cpu")
        #expect(task.isKernelThread == expected["kthread"] as? Bool, "\(label) kthread")
        // Running tasks: crash's `>` marks (each CPU's rq->curr). drgn looks
        // only at online CPUs, and a CPU stopped by a panic without kdump
        // is marked offline, so drgn is the reference only without crash.
        if let crashActive {
          #expect((task.activeOnCPU != nil) == crashActive.contains(String(task.address, radix: 16)), "\(label) running")
        } else {
          #expect(task.activeOnCPU == expected["current_on_cpu"] as? Int, "\(label) running")
        }
      }
    }
  }

  /// A QEMU dump read as if it had no VMCOREINFO (a guest that never loaded
  /// qemu_fw_cfg): the kernel is found from CR3 and a search of its image,
  /// kallsyms by a scan, and the task list is still drgn's.
  @Test func withoutVMCOREINFOTheTasksAreTheSame() throws {
    let folder = try #require(Self.folders.first { $0.lastPathComponent.hasPrefix("qemu-") })
    let reference = try #require(try Fixtures.drgn(in: folder)["tasks"] as? [[String: Any]])
    let facts = try Fixtures.facts(in: folder)
    let path = try #require(try Fixtures.analysableDumps(in: folder).first { $0.hasSuffix(".elf") })
    let session = try KernelSession(
      dump: try DumpFile.open(path: path), options: DebugInfoOptions(ignoreVMCOREINFO: true))
    #expect(session.layoutOrigin != "VMCOREINFO")
    if let offset = facts["kaslrOffset"] as? String {
      #expect(session.kaslrOffset.map { "0x" + String($0, radix: 16) } == offset)
    }
    let list = try TaskList(session: session)
    let ours = Set(list.tasks.map { "0x" + String($0.address, radix: 16) + " " + $0.comm })
    let theirs = Set(reference.compactMap { task -> String? in
      guard let address = task["task"] as? String, let comm = task["comm"] as? String else { return nil }
      return address + " " + comm
    })
    #expect(ours == theirs)
  }
}
