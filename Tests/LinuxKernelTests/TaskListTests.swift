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
    for path in try Fixtures.dumps(in: folder) {
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
        #expect(task.activeOnCPU == expected["current_on_cpu"] as? Int, "\(label) running")
      }
    }
  }
}
