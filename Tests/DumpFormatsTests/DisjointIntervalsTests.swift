import DumpFormats
import Testing

struct Tag: IntervalPayload, Equatable {
  var name: String
  var offset: UInt64
  func advanced(by delta: UInt64) -> Tag { Tag(name: name, offset: offset + delta) }
}

@Suite struct DisjointIntervalsTests {
  @Test func laterPriorityWinsAndPayloadAdvances() {
    let map = DisjointIntervals([
      Interval(start: 0, end: 100, priority: 0, payload: Tag(name: "a", offset: 1000)),
      Interval(start: 40, end: 60, priority: 1, payload: Tag(name: "b", offset: 5000)),
      Interval(start: 200, end: 300, priority: 2, payload: Tag(name: "c", offset: 0)),
    ])
    let pieces = map.intervals.map { ($0.start, $0.end, $0.payload.name, $0.payload.offset) }
    #expect(pieces.count == 4)
    #expect(pieces[0] == (0, 40, "a", 1000))
    #expect(pieces[1] == (40, 60, "b", 5000))
    #expect(pieces[2] == (60, 100, "a", 1060))
    #expect(pieces[3] == (200, 300, "c", 0))
    #expect(map.index(containing: 50) == 1)
    #expect(map.index(containing: 150) == nil)
    #expect(map.firstIndex(endingAfter: 150) == 3)
  }

  @Test func lowerPriorityDoesNotOverride() {
    let map = DisjointIntervals([
      Interval(start: 10, end: 20, priority: 5, payload: Tag(name: "high", offset: 0)),
      Interval(start: 0, end: 30, priority: 1, payload: Tag(name: "low", offset: 0)),
    ])
    #expect(map.intervals.map(\.payload.name) == ["low", "high", "low"])
    #expect(map.intervals.map(\.start) == [0, 10, 20])
  }
}
