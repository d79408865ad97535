import CoronerTestSupport
import Foundation
import Testing

/// `coroner info` on every fixture reports the kernel release and CPU count
/// crash reported; bad input fails with one line naming the file.
@Suite struct InfoCLITests {
  @Test(arguments: Fixtures.folders)
  func releaseAndCPUsMatchTheReferences(folder: URL) throws {
    let facts = try Fixtures.facts(in: folder)
    let release = try #require(facts["kernelRelease"] as? String)
    let cpus = try #require(facts["cpus"] as? Int)
    for path in try Fixtures.dumps(in: folder) {
      let result = try CoronerProcess.run(["info", "--json", path])
      #expect(result.status == 0, "\(path): \(result.errorText)")
      let json = try #require(try JSONSerialization.jsonObject(with: result.output) as? [String: Any])
      #expect(json["kernelRelease"] as? String == release, "\(path)")
      #expect(json["cpus"] as? Int == cpus, "\(path)")
      for key in ["format", "compression", "arch", "crashingCPU", "pages", "notes"] {
        #expect(json.keys.contains(key), "\(path): no \(key)")
      }
      let pages = try #require(json["pages"] as? [String: Any])
      #expect((pages["present"] as? Int ?? 0) > 1000, "\(path)")
    }
  }

  @Test func badInputExitsOneWithOneLine() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("coroner-bad-\(getpid())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let cases: [(String, [UInt8])] = [
      ("text.txt", Array("not a dump at all\n".utf8)),
      ("empty", []),
      ("elf-truncated", [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]),
      ("kdump-truncated", Array("KDUMP   ".utf8) + [6, 0, 0, 0]),
      ("flat-truncated", Array("makedumpfile".utf8) + [0, 0, 0, 0, 0, 0]),
    ]
    for (name, bytes) in cases {
      let file = directory.appendingPathComponent(name)
      try Data(bytes).write(to: file)
      let result = try CoronerProcess.run(["info", file.path])
      #expect(result.status == 1, "\(name)")
      let lines = result.errorText.split(separator: "\n")
      #expect(lines.count == 1, "\(name): \(result.errorText)")
      #expect(lines.first?.contains(file.path) == true, "\(name): \(result.errorText)")
    }
    let missing = try CoronerProcess.run(["info", directory.appendingPathComponent("nope").path])
    #expect(missing.status == 1)
    #expect(missing.errorText.contains("cannot open"))
  }
}
