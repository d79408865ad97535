import DumpFormats
import Testing

func note(_ name: String, _ type: UInt32, _ descriptor: [UInt8]) -> [UInt8] {
  func le(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
  var nameBytes = Array(name.utf8) + [0]
  let nameSize = UInt32(nameBytes.count)
  while nameBytes.count % 4 != 0 { nameBytes.append(0) }
  var padded = descriptor
  while padded.count % 4 != 0 { padded.append(0) }
  return le(nameSize) + le(UInt32(descriptor.count)) + le(type) + nameBytes + padded
}

@Suite struct ELFNoteTests {
  @Test func parsesNotesAndStopsAtPadding() {
    let blob = note("CORE", 1, [1, 2, 3]) + note("VMCOREINFO", 0, Array("OSRELEASE=6.1\n".utf8)) + [UInt8](repeating: 0, count: 24)
    let (notes, error) = ELFNote.parseAll(blob, order: .little)
    #expect(error == nil)
    #expect(notes.map(\.name) == ["CORE", "VMCOREINFO"])
    #expect(notes[0].descriptor == [1, 2, 3])
    #expect(notes[0].typeName == "NT_PRSTATUS")
  }

  @Test func keepsNotesBeforeACorruptOne() {
    var blob = note("CORE", 1, [9, 9, 9, 9]) + note("CORE", 1, [1])
    blob[20 + 4] = 0xff  // the second note's descriptor size
    let (notes, error) = ELFNote.parseAll(blob, order: .little)
    #expect(notes.count == 1)
    #expect(error?.kind == .corrupt)
  }

  @Test func everyTruncationIsSafe() {
    let blob = note("CORE", 1, [UInt8](repeating: 7, count: 336)) + note("VMCOREINFO", 0, [1, 2])
    for cut in 0...blob.count {
      _ = ELFNote.parseAll(Array(blob.prefix(cut)), order: .little)
    }
  }
}
