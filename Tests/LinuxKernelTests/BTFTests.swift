import CoronerTestSupport
import DebugInfo
import DumpFormats
import Foundation
import LinuxKernel
import Testing

/// The kernel's BTF, read from the dump itself, gives the layouts that
/// DWARF gives (expected/dwarf-layouts.json, written by the generator from
/// the matching vmlinux through gdb).
@Suite struct BTFTests {
  static let folders = Fixtures.x86Folders.filter {
    FileManager.default.fileExists(atPath: $0.appendingPathComponent("expected/dwarf-layouts.json").path)
  }

  @Test func thereAreFixturesWithDWARFLayouts() {
    #expect(Self.folders.count >= 2)
  }

  @Test(arguments: folders)
  func btfMatchesDWARF(folder: URL) throws {
    let data = try Data(contentsOf: folder.appendingPathComponent("expected/dwarf-layouts.json"))
    let layouts = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    let path = try #require(try Fixtures.analysableDumps(in: folder).first)
    let session = try KernelSession(dump: try DumpFile.open(path: path))
    let types = session.types
    #expect(types.sourceName.hasPrefix("BTF"), "\(session.typeProblems)")
    let sizes = try #require(layouts["sizes"] as? [String: Any])
    for (name, size) in sizes {
      #expect(types.size(of: name) == size as? Int, "\(path): sizeof(\(name))")
    }
    let members = try #require(layouts["members"] as? [[String: Any]])
    for entry in members {
      let type = try #require(entry["type"] as? String)
      let memberPath = try #require(entry["path"] as? String)
      let ours = types.member(memberPath, in: type)
      guard let expected = entry["layout"] as? [String: Any] else {
        #expect(ours == nil, "\(path): \(type).\(memberPath) should not exist")
        continue
      }
      let label = "\(path): \(type).\(memberPath)"
      let member = try #require(ours, "\(label) is missing")
      #expect(member.byteOffset == expected["byteOffset"] as? Int, "\(label) offset")
      #expect(member.size == expected["size"] as? Int, "\(label) size")
      #expect(member.isPointer == expected["isPointer"] as? Bool, "\(label) pointer")
      if let count = expected["arrayCount"] as? Int { #expect(member.arrayCount == count, "\(label) count") }
      if let bits = expected["bitSize"] as? Int { #expect(member.bitSize == bits, "\(label) bits") }
    }
    let enumerators = try #require(layouts["enumerators"] as? [String: Any])
    for (name, value) in enumerators {
      guard let value = value as? Int else { continue }
      #expect(types.enumerator(name) == Int64(value), "\(path): \(name)")
    }
  }
}
