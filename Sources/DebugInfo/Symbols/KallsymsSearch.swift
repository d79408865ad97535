import AddressTranslation
import DumpFormats

/// Finds a kernel's kallsyms tables without VMCOREINFO's `kallsyms_*` keys
/// (Linux before 6.0) by scanning the kernel image's read-only data.
///
/// The anchor is `kallsyms_token_index`: 256 16-bit offsets, the first 0,
/// strictly increasing, each token ending with a NUL just before the next
/// begins, right after `kallsyms_token_table`. From there:
/// - `kallsyms_markers` lie before the token table (directly, or with
///   `kallsyms_seqs_of_names` between them on 6.2+ and Debian's 6.1): 32-bit
///   offsets, the first 0, increasing by 2–514 bytes per 256 entries;
/// - `kallsyms_names` end where the markers begin, and
///   `kallsyms_num_syms` precedes them; the names are walked to check that
///   their 256th entries sit exactly at the markers' offsets;
/// - the addresses are `kallsyms_offsets` then `kallsyms_relative_base`
///   right before the count (up to 6.3), or after the token index (6.4+),
///   or `kallsyms_addresses` before the count (no base-relative kallsyms).
/// Each candidate is then decoded and checked by the caller.
enum KallsymsSearch {
  /// How far past the start the scan goes.
  static let scanLimit: UInt64 = 160 << 20
  /// How much is read at a time.
  static let chunkSize = 1 << 20
  /// How many token-index candidates are examined before giving up.
  static let maximumCandidates = 64
  /// How far before the token table the markers may begin
  /// (`kallsyms_seqs_of_names` takes 3 bytes per symbol).
  static let markersWindow = 4 << 20
  /// The largest names entry: two length bytes and up to 512 tokens.
  static let maximumEntrySize = 2 + 512
  /// Table alignment: scripts/kallsyms.c aligns each table to 8 bytes on
  /// 64-bit kernels, 4 on 32-bit ones; the scan steps by 4 to cover both.
  static let step = 4

  /// What a scan saw.
  struct Report {
    var pagesRead = 0
    var candidates = 0
  }

  /// Scans `[start, end)` for token-index candidates and calls `visit` with
  /// each (token table, token index) pair found, until it returns true.
  static func scan(
    _ memory: VirtualMemory, from start: UInt64, to end: UInt64,
    visit: (_ tokenTable: UInt64, _ tokenIndex: UInt64) -> Bool
  ) -> Report {
    var report = Report()
    var chunkStart = start & ~0xfff
    let order = memory.byteOrder
    // Bounded: each round advances by a chunk, and candidates are capped.
    while chunkStart < end, report.candidates < maximumCandidates {
      let length = Int(min(UInt64(chunkSize), end - chunkStart))
      // 512 more bytes so that an index straddling chunks is seen whole.
      let (bytes, pages) = KallsymsDecoder.readZeroFilled(
        memory, at: chunkStart, count: length + 512)
      report.pagesRead += pages
      if pages > 0 {
        var hits: [Int] = []
        bytes.withUnsafeBytes { buffer in
          var offset = 0
          while offset < length {
            if isTokenIndex(buffer, at: offset, order: order) { hits.append(offset) }
            offset += step
          }
        }
        for offset in hits {
          report.candidates += 1
          let index = chunkStart + UInt64(offset)
          let values = (0..<256).map {
            Int(bytes.load(UInt16.self, at: offset + $0 * 2, order) ?? 0)
          }
          if let table = tokenTableStart(memory, tokenIndex: index, values: values),
            visit(table, index)
          {
            return report
          }
          if report.candidates >= maximumCandidates { break }
        }
      }
      let (next, overflow) = chunkStart.addingReportingOverflow(UInt64(length))
      if overflow { break }
      chunkStart = next
    }
    return report
  }

  /// Whether 512 bytes at `offset` look like `kallsyms_token_index`.
  @inline(__always)
  static func isTokenIndex(_ buffer: UnsafeRawBufferPointer, at offset: Int, order: ByteOrder)
    -> Bool
  {
    guard offset + 512 <= buffer.count, order.load(UInt16.self, from: buffer, at: offset) == 0
    else { return false }
    var previous = 0
    for token in 1..<256 {
      let value = Int(order.load(UInt16.self, from: buffer, at: offset + token * 2))
      // Each token is 1 to 1024 characters and a NUL.
      guard value >= previous + 2, value - previous <= KallsymsDecoder.maximumTokenLength + 1
      else { return false }
      previous = value
    }
    return true
  }

  /// Whether a byte may appear in a symbol name.
  @inline(__always)
  static func isNameCharacter(_ byte: UInt8) -> Bool { byte > 0x20 && byte < 0x7f }

  /// Where the token table that `values` index starts, just before the index
  /// at `tokenIndex`, or nil when no start fits.
  static func tokenTableStart(_ memory: VirtualMemory, tokenIndex: UInt64, values: [Int]) -> UInt64?
  {
    guard values.count == 256, let last = values.last else { return nil }
    let span = UInt64(last + KallsymsDecoder.maximumTokenLength + 16) & ~7
    guard tokenIndex >= span else { return nil }
    let base = tokenIndex - span
    let (bytes, pages) = KallsymsDecoder.readZeroFilled(memory, at: base, count: Int(span))
    guard pages > 0 else { return nil }
    // The last token needs a character and a NUL before the index.
    var start = Int(span) - last - 2
    start -= start % step
    while start >= 0 {
      if tokensFit(bytes, at: start, values: values) { return base + UInt64(start) }
      start -= step
    }
    return nil
  }

  /// Whether the tokens indexed by `values` fit a table starting at `start`
  /// of `bytes`, which ends where the index begins.
  static func tokensFit(_ bytes: [UInt8], at start: Int, values: [Int]) -> Bool {
    for token in 0..<256 {
      let from = start + values[token]
      let to = token < 255 ? start + values[token + 1] - 1 : bytes.count
      guard from < to, to <= bytes.count else { return false }
      if token < 255 {
        guard bytes[to] == 0 else { return false }
        for position in from..<to where !isNameCharacter(bytes[position]) { return false }
      } else {
        // The last token, its NUL, then alignment padding (zeros).
        guard let end = bytes[from..<to].firstIndex(of: 0), end > from else { return false }
        for position in from..<end where !isNameCharacter(bytes[position]) { return false }
        guard bytes.count - end <= 8 else { return false }
        for position in end..<bytes.count where bytes[position] != 0 { return false }
      }
    }
    return true
  }

  // MARK: From the token table back

  /// Candidate tables around a token table and index; the caller decodes and
  /// checks each.
  static func tables(_ memory: VirtualMemory, tokenTable: UInt64, tokenIndex: UInt64)
    -> [KallsymsTables]
  {
    let order = memory.byteOrder
    let window = UInt64(markersWindow)
    guard tokenTable >= window else { return [] }
    let windowStart = tokenTable - window
    let (before, pages) = KallsymsDecoder.readZeroFilled(
      memory, at: windowStart, count: markersWindow)
    guard pages > 0 else { return [] }
    let maximumDelta = 256 * maximumEntrySize
    var results: [KallsymsTables] = []
    var markerCandidates = 0
    var position = markersWindow - 8
    // Backwards from the token table: the markers nearest to it.
    while position >= 0, markerCandidates < maximumCandidates, results.isEmpty {
      defer { position -= step }
      guard before.load(UInt32.self, at: position, order) == 0,
        let first = before.load(UInt32.self, at: position + 4, order),
        first >= 512, first <= maximumDelta
      else { continue }
      var markers: [UInt32] = [0, first]
      var next = position + 8
      while next + 4 <= before.count, let value = before.load(UInt32.self, at: next, order),
        let previous = markers.last, value > previous, value - previous >= 512,
        value - previous <= maximumDelta
      {
        markers.append(value)
        next += 4
      }
      markerCandidates += 1
      let markersAddress = windowStart + UInt64(position)
      if let found = names(memory, endingAt: markersAddress, markers: markers) {
        results = addressCandidates(
          memory, numSyms: found.numSyms, names: found.names, count: found.count,
          markers: markersAddress, tokenTable: tokenTable, tokenIndex: tokenIndex)
      }
    }
    return results
  }

  /// Finds `kallsyms_names` (and the count before it) ending at the markers
  /// `markers` read at `markersAddress`.
  static func names(_ memory: VirtualMemory, endingAt markersAddress: UInt64, markers: [UInt32])
    -> (names: UInt64, numSyms: UInt64, count: Int)?
  {
    guard markers.count >= 2, let lastMarker = markers.last else { return nil }
    let order = memory.byteOrder
    // The last block holds 1 to 256 entries; 16 more bytes for the count.
    // Aligned like the markers, so that buffer offsets align like addresses.
    let span = (UInt64(lastMarker) + UInt64(256 * maximumEntrySize + 32)) & ~7
    guard span <= KallsymsDecoder.maximumNamesSize, markersAddress >= span,
      markersAddress % UInt64(step) == 0
    else { return nil }
    let base = markersAddress - span
    let (bytes, pages) = KallsymsDecoder.readZeroFilled(memory, at: base, count: Int(span))
    guard pages > 0 else { return nil }
    let end = Int(span)
    // The run of increasing values may have taken one value too many.
    for blocks in [markers.count, markers.count - 1] where blocks >= 2 {
      let blockStart = Int(markers[blocks - 1])
      var start = end - blockStart - 2
      start -= start % step
      let lowest = end - blockStart - 256 * maximumEntrySize - 8
      while start >= max(lowest, 8) {
        defer { start -= step }
        // The count: a 32-bit value right before the names, or 8 bytes
        // before them with zero padding.
        var countOffsets: [Int] = []
        if bytes.load(UInt32.self, at: start - 4, order) == 0 { countOffsets.append(start - 8) }
        countOffsets.append(start - 4)
        for countOffset in countOffsets {
          guard let value = bytes.load(UInt32.self, at: countOffset, order), value > 0,
            value <= UInt32(KallsymsDecoder.maximumSymbols),
            (Int(value) + 255) / 256 == blocks
          else { continue }
          if entriesMatch(
            bytes, from: start, count: Int(value), markers: markers.prefix(blocks), end: end)
          {
            return (base + UInt64(start), base + UInt64(countOffset), Int(value))
          }
        }
      }
    }
    return nil
  }

  /// Whether `count` names entries from `start` put every 256th entry at
  /// its marker and end within 8 bytes before `end`, in either encoding.
  static func entriesMatch(
    _ bytes: [UInt8], from start: Int, count: Int, markers: ArraySlice<UInt32>, end: Int
  ) -> Bool {
    for big in [true, false] {
      var offset = start
      var matches = true
      for entry in 0..<count {
        if entry & 0xff == 0 {
          let marker = markers[markers.startIndex + entry >> 8]
          guard offset - start == Int(marker) else {
            matches = false
            break
          }
        }
        guard offset < end else {
          matches = false
          break
        }
        var length = Int(bytes[offset])
        offset += 1
        if big, length & 0x80 != 0 {
          guard offset < end else {
            matches = false
            break
          }
          length = (length & 0x7f) | Int(bytes[offset]) << 7
          offset += 1
        }
        guard length > 0, length <= end - offset else {
          matches = false
          break
        }
        offset += length
      }
      if matches, offset <= end, end - offset < 8 { return true }
    }
    return false
  }

  /// The ways the addresses may be laid out around the count and the token
  /// index, plausible ones first.
  static func addressCandidates(
    _ memory: VirtualMemory, numSyms: UInt64, names: UInt64, count: Int, markers: UInt64,
    tokenTable: UInt64, tokenIndex: UInt64
  ) -> [KallsymsTables] {
    func make(_ addresses: KallsymsTables.Addresses) -> KallsymsTables {
      KallsymsTables(
        numSyms: numSyms, names: names, markers: markers, tokenTable: tokenTable,
        tokenIndex: tokenIndex, addresses: addresses)
    }
    func aligned(_ value: UInt64) -> UInt64 { (value &+ 7) & ~7 }
    func plausibleBase(_ address: UInt64) -> Bool {
      guard let base = try? memory.readInteger(UInt64.self, at: address) else { return false }
      return base >> 63 == 1
    }
    let offsetsSize = UInt64(count) * 4
    var candidates: [KallsymsTables] = []
    // Up to 6.3: offsets, relative base, count.
    func distinct(_ values: [UInt64]) -> [UInt64] {
      values.enumerated().filter { !values[..<$0.offset].contains($0.element) }.map(\.element)
    }
    for baseAddress in distinct([numSyms &- 8, (numSyms &- 8) & ~7])
    where baseAddress < numSyms && plausibleBase(baseAddress) {
      // Aligned first: the table starts aligned and padding follows it.
      for offsets in distinct([baseAddress &- aligned(offsetsSize), baseAddress &- offsetsSize])
      where offsets < baseAddress {
        candidates.append(make(.relative(offsets: offsets, base: baseAddress)))
      }
    }
    // 6.4+: token index, offsets, relative base.
    let offsets = aligned(tokenIndex &+ 512)
    let base = aligned(offsets &+ offsetsSize)
    if base > tokenIndex, plausibleBase(base) {
      candidates.append(make(.relative(offsets: offsets, base: base)))
    }
    // No base-relative kallsyms: pointers, then the count.
    let table = numSyms &- aligned(UInt64(count) * UInt64(memory.pointerSize))
    if table < numSyms { candidates.append(make(.absolute(table))) }
    return candidates
  }
}
