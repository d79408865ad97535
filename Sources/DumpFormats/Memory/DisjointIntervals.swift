/// What an interval carries; trimming an interval's front advances it.
public protocol IntervalPayload: Sendable {
  /// The payload for the part of the interval that starts `delta` bytes in.
  func advanced(by delta: UInt64) -> Self
}

/// A half-open address range with a payload; where intervals overlap, the
/// higher `priority` wins.
public struct Interval<Payload: IntervalPayload>: Sendable {
  public var start: UInt64
  public var end: UInt64
  public var priority: Int
  public var payload: Payload

  public init(start: UInt64, end: UInt64, priority: Int, payload: Payload) {
    self.start = start
    self.end = end
    self.priority = priority
    self.payload = payload
  }
}

/// Sorted, non-overlapping intervals, built from overlapping ones.
///
/// Overlaps in dumps are rare and local (the kernel-image `PT_LOAD` of a
/// /proc/vmcore repeats part of RAM; a flattened record rewrites a header),
/// so each input is merged only with the tail it overlaps.
public struct DisjointIntervals<Payload: IntervalPayload>: Sendable {
  public private(set) var intervals: [Interval<Payload>] = []

  public init(_ input: [Interval<Payload>]) {
    let sorted = input.filter { $0.end > $0.start }.sorted {
      $0.start != $1.start ? $0.start < $1.start : $0.priority < $1.priority
    }
    for interval in sorted {
      var firstOverlap = intervals.count
      while firstOverlap > 0, intervals[firstOverlap - 1].end > interval.start {
        firstOverlap -= 1
      }
      if firstOverlap == intervals.count {
        intervals.append(interval)
        continue
      }
      let local = Array(intervals[firstOverlap...]) + [interval]
      intervals.removeSubrange(firstOverlap...)
      var bounds = Set<UInt64>()
      for piece in local {
        bounds.insert(piece.start)
        bounds.insert(piece.end)
      }
      let edges = bounds.sorted()
      for (low, high) in zip(edges, edges.dropFirst()) {
        var best: Interval<Payload>?
        for piece in local where piece.start <= low && piece.end >= high {
          if let current = best, current.priority > piece.priority { continue }
          best = piece
        }
        if let best {
          intervals.append(
            Interval(
              start: low, end: high, priority: best.priority,
              payload: best.payload.advanced(by: low - best.start)))
        }
      }
    }
  }

  /// The index of the interval holding `address`, if any.
  public func index(containing address: UInt64) -> Int? {
    var low = 0
    var high = intervals.count
    while low < high {
      let middle = (low + high) / 2
      if intervals[middle].start <= address { low = middle + 1 } else { high = middle }
    }
    guard low > 0, address < intervals[low - 1].end else { return nil }
    return low - 1
  }

  /// The index of the first interval that ends after `address`.
  public func firstIndex(endingAfter address: UInt64) -> Int {
    var low = 0
    var high = intervals.count
    while low < high {
      let middle = (low + high) / 2
      if intervals[middle].end <= address { low = middle + 1 } else { high = middle }
    }
    return low
  }
}
