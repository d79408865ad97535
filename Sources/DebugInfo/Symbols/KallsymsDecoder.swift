import AddressTranslation
import DumpFormats

/// Reads and expands kallsyms tables (see `KallsymsTables`) from a kernel's
/// virtual memory. Each table is read in one large read; names are expanded
/// in one pass into one buffer, tokens copied a word at a time.
enum KallsymsDecoder {
  /// The most symbols a kernel may declare (Debian kernels have 100–200k).
  static let maximumSymbols = 1 << 22
  /// The longest expanded symbol, type letter included (KSYM_NAME_LEN is 512
  /// since Linux 6.1).
  static let maximumNameLength = 1024
  /// The largest names table read (kernels have a few MiB).
  static let maximumNamesSize: UInt64 = 64 << 20
  /// The largest token table (a token index entry is 16 bits).
  static let maximumTokenTableSize = (1 << 16) + maximumNameLength
  /// The longest token.
  static let maximumTokenLength = maximumNameLength

  /// How a names entry gives its length.
  enum NameEncoding: String, Sendable {
    /// One length byte (Linux before 6.1).
    case oneByte = "one-byte lengths"
    /// A second length byte when the first has its high bit set (6.1+).
    case bigSymbols = "two-byte lengths for big symbols"
  }

  /// The 256 tokens: their bytes as read (the token table), where each
  /// starts and how long it is.
  struct Tokens {
    var bytes: [UInt8]
    var starts: [Int32]
    var lengths: [Int32]
  }

  /// Names expanded from the names table.
  struct Expansion {
    var encoding: NameEncoding
    var types: [UInt8]
    var nameBytes: [UInt8]
    var nameStarts: [UInt32]
    /// The offset just past the last entry.
    var end: Int
    /// The offset of every 256th entry, as `kallsyms_markers` holds them.
    var markerOffsets: [UInt32]
    /// Whether some length byte had its high bit set (the encodings differ).
    var sawHighBit: Bool
  }

  /// Decoded symbols, in table order.
  struct Decoded {
    var addresses: [UInt64]
    var types: [UInt8]
    var nameBytes: [UInt8]
    var nameStarts: [UInt32]
    var encoding: NameEncoding
    /// Whether `kallsyms_markers` agreed with the names.
    var markersVerified: Bool
    /// Whether offsets were read with absolute-percpu semantics.
    var absolutePercpu: Bool
  }

  // MARK: Reading memory

  /// Reads `count` bytes in one read, without zeroing a buffer first.
  static func read(_ memory: VirtualMemory, at address: UInt64, count: Int) throws(DumpError)
    -> [UInt8]
  {
    var failure: DumpError?
    let bytes = [UInt8](unsafeUninitializedCapacity: max(0, count)) { buffer, initialized in
      initialized = 0
      do throws(DumpError) {
        let wanted = UnsafeMutableBufferPointer(rebasing: buffer[0..<max(0, count)])
        try memory.read(virtual: address, into: UnsafeMutableRawBufferPointer(wanted))
        initialized = wanted.count
      } catch {
        failure = error
      }
    }
    if let failure { throw failure }
    return bytes
  }

  /// Reads `count` bytes, or as many as can be read before the first page
  /// that cannot.
  static func readAvailable(_ memory: VirtualMemory, at address: UInt64, count: Int) -> [UInt8] {
    guard count > 0 else { return [] }
    if let bytes = try? read(memory, at: address, count: count), bytes.count == count {
      return bytes
    }
    var bytes: [UInt8] = []
    var cursor = address
    while bytes.count < count {
      let inPage = 4096 - Int(cursor & 0xfff)
      let length = min(inPage, count - bytes.count)
      guard let chunk = try? memory.read(virtual: cursor, count: length) else { break }
      bytes += chunk
      let (next, overflow) = cursor.addingReportingOverflow(UInt64(length))
      if overflow { break }
      cursor = next
    }
    return bytes
  }

  /// Reads `count` bytes page by page, leaving zeros where a page cannot be
  /// read. Returns the bytes and how many pages were read.
  static func readZeroFilled(_ memory: VirtualMemory, at address: UInt64, count: Int)
    -> (bytes: [UInt8], pagesRead: Int)
  {
    var bytes = [UInt8](repeating: 0, count: max(0, count))
    var pagesRead = 0
    var done = 0
    bytes.withUnsafeMutableBytes { buffer in
      guard let base = buffer.baseAddress else { return }
      while done < buffer.count {
        let (current, overflow) = address.addingReportingOverflow(UInt64(done))
        if overflow { break }
        let length = min(buffer.count - done, 4096 - Int(current & 0xfff))
        let slice = UnsafeMutableRawBufferPointer(start: base + done, count: length)
        do throws(DumpError) {
          try memory.read(virtual: current, into: slice)
          pagesRead += 1
        } catch {
          slice.initializeMemory(as: UInt8.self, repeating: 0)
        }
        done += length
      }
    }
    return (bytes, pagesRead)
  }

  // MARK: Tokens

  /// Reads `kallsyms_token_index` and `kallsyms_token_table` and checks
  /// that every token is a non-empty NUL-terminated string inside the table.
  static func readTokens(_ memory: VirtualMemory, table: UInt64, index: UInt64)
    throws(DumpError) -> Tokens
  {
    let indexBytes: [UInt8]
    do {
      indexBytes = try memory.read(virtual: index, count: 512)
    } catch {
      throw error.context("reading kallsyms_token_index at 0x\(String(index, radix: 16))")
    }
    let order = memory.byteOrder
    var starts = [Int32](repeating: 0, count: 256)
    var highest = 0
    for token in 0..<256 {
      let start = Int(indexBytes.load(UInt16.self, at: token * 2, order) ?? 0)
      starts[token] = Int32(start)
      highest = max(highest, start)
    }
    // The table usually ends where the index begins.
    var size = highest + maximumTokenLength + 1
    if index > table, index - table <= UInt64(maximumTokenTableSize),
      Int(index - table) > highest
    {
      size = Int(index - table)
    }
    let bytes = readAvailable(memory, at: table, count: size)
    guard bytes.count > highest else {
      throw DumpError(
        .truncated,
        "kallsyms_token_table at 0x\(String(table, radix: 16)) is not readable up to its "
          + "last token (offset \(highest))")
    }
    var lengths = [Int32](repeating: 0, count: 256)
    for token in 0..<256 {
      let start = Int(starts[token])
      let limit = min(bytes.count, start + maximumTokenLength + 1)
      guard let end = bytes[start..<limit].firstIndex(of: 0) else {
        throw DumpError(
          .corrupt, "kallsyms token \(token) at offset \(start) of the token table has no end")
      }
      guard end > start else {
        throw DumpError(.corrupt, "kallsyms token \(token) at offset \(start) is empty")
      }
      lengths[token] = Int32(end - start)
    }
    return Tokens(bytes: bytes, starts: starts, lengths: lengths)
  }

  // MARK: Names

  /// How the expansion loop ended.
  enum LoopStatus {
    case done, truncated, empty, tooLong, full
  }

  /// What the expansion loop met.
  struct LoopResult {
    var status: LoopStatus
    /// The symbol it stopped at (`count` when done).
    var symbol: Int
    /// The names offset reached.
    var offset: Int
    /// The bytes written.
    var written: Int
    var sawHighBit: Bool
  }

  /// Expands `count` names: type letters apart, names back to back.
  ///
  /// - Throws: `.truncated` when the names end before `count` entries,
  ///   `.corrupt` for an empty entry or a name longer than
  ///   `maximumNameLength`.
  static func expand(
    _ names: UnsafeBufferPointer<UInt8>, count: Int, tokens: Tokens, encoding: NameEncoding
  ) throws(DumpError) -> Expansion {
    guard count > 0 else { throw DumpError(.corrupt, "kallsyms has no symbol") }
    // Each token's first 8 bytes as a little-endian word.
    var words = [UInt64](repeating: 0, count: 256)
    var longest = 1
    var lengthSum = 0
    for code in 0..<256 {
      let start = Int(tokens.starts[code])
      let length = Int(tokens.lengths[code])
      longest = max(longest, length)
      lengthSum += length
      for index in 0..<min(8, length) {
        words[code] |= UInt64(tokens.bytes[start + index]) << (8 * index)
      }
    }
    // Room for twice the average token per code, more if that is short;
    // never more than every symbol at its longest, or every code at the
    // longest token. Untouched room costs no memory.
    let slack = maximumTokenLength + 8
    let bound = min(count * maximumNameLength, names.count * longest)
    var room = min(bound, names.count * (2 * lengthSum / 256 + 2))
    let markerCount = (count + 255) / 256
    for _ in 0..<6 {
      var result = LoopResult(status: .full, symbol: 0, offset: 0, written: 0, sawHighBit: false)
      var types: [UInt8] = []
      var starts: [UInt32] = []
      var markers: [UInt32] = []
      let bytes = [UInt8](unsafeUninitializedCapacity: room + slack) { output, outputCount in
        outputCount = 0
        types = [UInt8](unsafeUninitializedCapacity: count) { typeBuffer, typeCount in
          typeCount = 0
          starts = [UInt32](unsafeUninitializedCapacity: count + 1) { startBuffer, startCount in
            startCount = 0
            markers = [UInt32](unsafeUninitializedCapacity: markerCount) {
              markerBuffer, markerCount in
              markerCount = 0
              guard let out = output.baseAddress, let typeOut = typeBuffer.baseAddress,
                let startOut = startBuffer.baseAddress, let markerOut = markerBuffer.baseAddress,
                let source = names.baseAddress, output.count >= room + slack,
                typeBuffer.count >= count, startBuffer.count > count,
                markerBuffer.count >= (count + 255) / 256
              else { return }
              result = words.withUnsafeBufferPointer { words in
                tokens.lengths.withUnsafeBufferPointer { lengths in
                  tokens.bytes.withUnsafeBufferPointer { tokenBytes in
                    tokens.starts.withUnsafeBufferPointer { tokenStarts in
                      guard let words = words.baseAddress, let lengths = lengths.baseAddress,
                        let tokenBytes = tokenBytes.baseAddress,
                        let tokenStarts = tokenStarts.baseAddress
                      else { return result }
                      return expandLoop(
                        source: source, size: names.count, count: count,
                        big: encoding == .bigSymbols, words: words, lengths: lengths,
                        tokenBytes: tokenBytes, tokenStarts: tokenStarts, output: out,
                        limit: room, types: typeOut, starts: startOut, markers: markerOut)
                    }
                  }
                }
              }
              if result.status == .done { markerCount = (count + 255) / 256 }
            }
            if result.status == .done { startCount = count + 1 }
          }
          if result.status == .done { typeCount = count }
        }
        if result.status == .done { outputCount = result.written }
      }
      switch result.status {
      case .done:
        return Expansion(
          encoding: encoding, types: types, nameBytes: bytes, nameStarts: starts,
          end: result.offset, markerOffsets: markers, sawHighBit: result.sawHighBit)
      case .truncated:
        throw DumpError(
          .truncated,
          "the kallsyms names end inside symbol \(result.symbol) of \(count) "
            + "(names offset \(result.offset))")
      case .empty:
        throw DumpError(
          .corrupt, "kallsyms symbol \(result.symbol) (names offset \(result.offset)) is empty")
      case .tooLong:
        throw DumpError(
          .corrupt,
          "kallsyms symbol \(result.symbol) expands to more than \(maximumNameLength) bytes")
      case .full:
        guard room < bound else { break }
        room = min(bound, room * 2)
      }
    }
    throw DumpError(.corrupt, "the kallsyms names expand to more than \(room) bytes")
  }

  /// The expansion loop, over raw pointers. `output` holds `limit` bytes
  /// plus `maximumTokenLength + 8` of slack: tokens of up to 8 bytes are
  /// stored as one word, and the loop stops as soon as a token ends past
  /// `limit`.
  @inline(never)
  static func expandLoop(
    source: UnsafePointer<UInt8>, size: Int, count: Int, big: Bool,
    words: UnsafePointer<UInt64>, lengths: UnsafePointer<Int32>,
    tokenBytes: UnsafePointer<UInt8>, tokenStarts: UnsafePointer<Int32>,
    output: UnsafeMutablePointer<UInt8>, limit: Int,
    types: UnsafeMutablePointer<UInt8>, starts: UnsafeMutablePointer<UInt32>,
    markers: UnsafeMutablePointer<UInt32>
  ) -> LoopResult {
    let raw = UnsafeMutableRawPointer(output)
    var offset = 0
    var written = 0
    var sawHighBit = false
    func stop(_ status: LoopStatus, _ symbol: Int) -> LoopResult {
      LoopResult(
        status: status, symbol: symbol, offset: offset, written: written, sawHighBit: sawHighBit)
    }
    for symbol in 0..<count {
      if symbol & 0xff == 0 { markers[symbol >> 8] = UInt32(truncatingIfNeeded: offset) }
      starts[symbol] = UInt32(truncatingIfNeeded: written)
      guard offset < size else { return stop(.truncated, symbol) }
      var length = Int(source[offset])
      offset += 1
      if length >= 0x80 {
        sawHighBit = true
        if big {
          guard offset < size else { return stop(.truncated, symbol) }
          length = (length & 0x7f) | Int(source[offset]) << 7
          offset += 1
        }
      }
      guard length > 0 else { return stop(.empty, symbol) }
      guard length <= size - offset else { return stop(.truncated, symbol) }
      let end = offset + length
      let symbolStart = written
      // The first token starts with the type letter.
      let first = Int(source[offset])
      offset += 1
      let firstLength = Int(lengths[first]) - 1
      types[symbol] = UInt8(truncatingIfNeeded: words[first])
      if firstLength < 8 {
        (raw + written).storeBytes(of: (words[first] >> 8).littleEndian, as: UInt64.self)
      } else {
        let from = Int(tokenStarts[first]) + 1
        for index in 0..<firstLength { output[written + index] = tokenBytes[from + index] }
      }
      written += firstLength
      guard written <= limit else { return stop(.full, symbol) }
      while offset < end {
        let code = Int(source[offset])
        offset += 1
        let tokenLength = Int(lengths[code])
        if tokenLength <= 8 {
          (raw + written).storeBytes(of: words[code].littleEndian, as: UInt64.self)
        } else {
          let from = Int(tokenStarts[code])
          for index in 0..<tokenLength { output[written + index] = tokenBytes[from + index] }
        }
        written += tokenLength
        guard written <= limit else { return stop(.full, symbol) }
      }
      // A name (the type letter apart) has at most maximumNameLength - 1 bytes.
      guard written - symbolStart < maximumNameLength else { return stop(.tooLong, symbol) }
    }
    starts[count] = UInt32(truncatingIfNeeded: written)
    return stop(.done, count)
  }

  /// Whether `kallsyms_markers` (read at `address`) hold `offsets`.
  static func markersMatch(
    _ memory: VirtualMemory, at address: UInt64, offsets: [UInt32], names: [UInt8],
    namesAddress: UInt64
  ) -> Bool {
    let count = offsets.count
    guard count > 0 else { return false }
    var values: [UInt8]
    if address >= namesAddress, address - namesAddress <= UInt64(names.count),
      names.count - Int(address - namesAddress) >= count * 4
    {
      let start = Int(address - namesAddress)
      values = Array(names[start..<(start + count * 4)])
    } else {
      guard let read = try? memory.read(virtual: address, count: count * 4) else { return false }
      values = read
    }
    for (index, expected) in offsets.enumerated() {
      guard values.load(UInt32.self, at: index * 4, memory.byteOrder) == expected else {
        return false
      }
    }
    return true
  }

  // MARK: Whole tables

  /// Reads and decodes every symbol of `tables`, in table order.
  static func decode(_ memory: VirtualMemory, tables: KallsymsTables) throws(DumpError) -> Decoded {
    let rawCount: UInt32
    do {
      rawCount = try memory.readInteger(UInt32.self, at: tables.numSyms)
    } catch {
      throw error.context("reading kallsyms_num_syms at 0x\(String(tables.numSyms, radix: 16))")
    }
    guard rawCount > 0, rawCount <= UInt32(maximumSymbols) else {
      throw DumpError(
        .corrupt, "kallsyms_num_syms is \(rawCount) (expected 1 to \(maximumSymbols))")
    }
    let count = Int(rawCount)
    let tokens = try readTokens(memory, table: tables.tokenTable, index: tables.tokenIndex)

    // The names, with the markers that usually follow them.
    var size = UInt64(count) * 24
    var knownEnd = false
    for end in [tables.markers, tables.tokenTable].compactMap({ $0 }) where end > tables.names {
      let distance = end - tables.names
      if distance <= maximumNamesSize {
        size = distance + (end == tables.markers ? UInt64(count / 256 + 1) * 4 : 0)
        knownEnd = true
        break
      }
    }
    size = min(size, maximumNamesSize)
    var names: [UInt8] = []
    var expansions: [Expansion] = []
    var lastError: DumpError?
    for _ in 0..<8 {
      names = readAvailable(memory, at: tables.names, count: Int(size))
      expansions = []
      lastError = nil
      var ranOut = false
      // The big-symbol reading first; when a length has its high bit set,
      // the one-byte reading too, and the markers choose.
      for encoding in [NameEncoding.bigSymbols, .oneByte] {
        do throws(DumpError) {
          let expansion = try names.withUnsafeBufferPointer { (buffer) throws(DumpError) in
            try Self.expand(buffer, count: count, tokens: tokens, encoding: encoding)
          }
          expansions.append(expansion)
          if !expansion.sawHighBit { break }
        } catch {
          if error.kind == .truncated { ranOut = true }
          if lastError == nil { lastError = error }
        }
      }
      // Read more when the names ran out before the memory did.
      guard expansions.isEmpty, ranOut, !knownEnd, names.count == Int(size),
        size < maximumNamesSize
      else { break }
      size = min(size * 2, maximumNamesSize)
    }
    guard !expansions.isEmpty else {
      let error = lastError ?? DumpError(.corrupt, "the kallsyms names cannot be read")
      throw error.context("decoding kallsyms_names at 0x\(String(tables.names, radix: 16))")
    }
    var chosen = expansions[0]
    var verified = false
    for expansion in expansions {
      let end = tables.names &+ UInt64(expansion.end)
      // Right after the names, aligned to 8 (64-bit) or 4 (32-bit).
      let places = tables.markers.map { [$0] } ?? [(end &+ 7) & ~7, (end &+ 3) & ~3]
      if places.contains(where: {
        markersMatch(
          memory, at: $0, offsets: expansion.markerOffsets, names: names,
          namesAddress: tables.names)
      }) {
        chosen = expansion
        verified = true
        break
      }
    }
    let (addresses, absolutePercpu) = try readAddresses(memory, tables: tables, count: count)
    return Decoded(
      addresses: addresses, types: chosen.types, nameBytes: chosen.nameBytes,
      nameStarts: chosen.nameStarts, encoding: chosen.encoding, markersVerified: verified,
      absolutePercpu: absolutePercpu)
  }

  /// Reads the symbol addresses.
  static func readAddresses(_ memory: VirtualMemory, tables: KallsymsTables, count: Int)
    throws(DumpError) -> (addresses: [UInt64], absolutePercpu: Bool)
  {
    let order = memory.byteOrder
    switch tables.addresses {
    case .relative(let offsetsAddress, let baseAddress):
      let base: UInt64
      let raw: [UInt8]
      do {
        base = try memory.readInteger(UInt64.self, at: baseAddress)
        raw = try read(memory, at: offsetsAddress, count: count * 4)
      } catch {
        throw error.context(
          "reading kallsyms_offsets at 0x\(String(offsetsAddress, radix: 16)) "
            + "and kallsyms_relative_base at 0x\(String(baseAddress, radix: 16))")
      }
      var absolutePercpu = false
      var overflow = false
      let addresses = [UInt64](unsafeUninitializedCapacity: count) { addresses, initialized in
        raw.withUnsafeBytes { bytes in
          for index in 0..<count where order.load(Int32.self, from: bytes, at: index * 4) < 0 {
            absolutePercpu = true
            break
          }
          // relative_base - 1 - offset for negative offsets, with -offset in
          // 1...2^31: relative_base must be at least 1.
          let below = base &- 1
          overflow = absolutePercpu && base == 0
          for index in 0..<count {
            let offset = order.load(Int32.self, from: bytes, at: index * 4)
            let value: UInt64
            let over: Bool
            if !absolutePercpu {
              (value, over) = base.addingReportingOverflow(UInt64(UInt32(bitPattern: offset)))
            } else if offset >= 0 {
              (value, over) = (UInt64(offset), false)
            } else {
              (value, over) = below.addingReportingOverflow(UInt64(-Int64(offset)))
            }
            addresses[index] = value
            overflow = overflow || over
          }
        }
        initialized = count
      }
      if overflow {
        throw DumpError(
          .corrupt,
          "kallsyms_relative_base 0x\(String(base, radix: 16)) plus an offset overflows")
      }
      return (addresses, absolutePercpu)
    case .placeRelative(let offsetsAddress):
      let raw: [UInt8]
      do {
        raw = try read(memory, at: offsetsAddress, count: count * 4)
      } catch {
        throw error.context(
          "reading kallsyms_offsets at 0x\(String(offsetsAddress, radix: 16))")
      }
      var overflow = false
      let addresses = [UInt64](unsafeUninitializedCapacity: count) { addresses, initialized in
        raw.withUnsafeBytes { bytes in
          for index in 0..<count {
            let offset = Int64(order.load(Int32.self, from: bytes, at: index * 4))
            // The entry's own address plus its signed offset.
            let (place, over) = offsetsAddress.addingReportingOverflow(UInt64(index * 4))
            let (value, wrapped) =
              offset >= 0
              ? place.addingReportingOverflow(UInt64(offset))
              : place.subtractingReportingOverflow(UInt64(-offset))
            addresses[index] = value
            overflow = overflow || over || wrapped
          }
        }
        initialized = count
      }
      if overflow {
        throw DumpError(.corrupt, "a place-relative kallsyms offset overflows")
      }
      return (addresses, false)
    case .absolute(let tableAddress):
      let raw: [UInt8]
      let width = memory.pointerSize == 4 ? 4 : 8
      do {
        raw = try read(memory, at: tableAddress, count: count * width)
      } catch {
        throw error.context("reading kallsyms_addresses at 0x\(String(tableAddress, radix: 16))")
      }
      let addresses = [UInt64](unsafeUninitializedCapacity: count) { addresses, initialized in
        raw.withUnsafeBytes { bytes in
          for index in 0..<count {
            addresses[index] =
              width == 8
              ? order.load(UInt64.self, from: bytes, at: index * 8)
              : UInt64(order.load(UInt32.self, from: bytes, at: index * 4))
          }
        }
        initialized = count
      }
      return (addresses, false)
    }
  }
}
