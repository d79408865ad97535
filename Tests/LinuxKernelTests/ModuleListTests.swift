import CoronerTestSupport
import DumpFormats
import Foundation
import LinuxKernel
import Testing

/// `coroner modules` gives what crash's `mod` gives: the same modules, at
/// the same addresses, of the same sizes.
@Suite struct ModuleListTests {
  static let folders = Fixtures.x86Folders.filter {
    FileManager.default.fileExists(atPath: $0.appendingPathComponent("expected/crash-mod.txt").path)
  }

  @Test func thereAreFixtures() { #expect(!Self.folders.isEmpty) }

  @Test(arguments: folders)
  func modulesMatchCrash(folder: URL) throws {
    // crash: "MODULE NAME BASE SIZE OBJECT FILE", one module a line.
    let text = try Fixtures.expected("crash-mod.txt", in: folder)
    var expected: [[String]] = []
    for line in text.split(separator: "\n").dropFirst() {
      let fields: [String] = line.split(separator: " ").map { String($0) }
      if fields.count >= 4 { expected.append(Array(fields.prefix(4))) }
    }
    #expect(!expected.isEmpty)
    for path in try Fixtures.analysableDumps(in: folder) {
      let list = try ModuleList(session: try KernelSession(dump: try DumpFile.open(path: path)))
      #expect(list.problems.isEmpty, "\(path): \(list.problems)")
      var ours: [[String]] = []
      for module in list.modules {
        ours.append([
          String(module.address, radix: 16), module.name, String(module.base, radix: 16),
          String(module.size),
        ])
      }
      #expect(ours == expected, "\(path)")
    }
  }
}
