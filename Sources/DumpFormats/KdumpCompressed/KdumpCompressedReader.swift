/// Reads a kdump-compressed ("diskdump") dump written by makedumpfile or
/// QEMU: header, sub-header, two page bitmaps, page descriptors, page data.
///
/// The 1st bitmap marks RAM pages, the 2nd the pages written to the dump; a
/// page's descriptor index is the number of 2nd-bitmap bits set before it.
/// Bitmap blocks, descriptors and pages are read on demand; the rank index
/// keeps one count per 32768 pages, and decoded pages live in a small cache.
public final class KdumpCompressedReader: PhysicalMemory {
  public let source: ByteSource
  public let header: DiskDumpHeader
  public let subHeader: KdumpSubHeader
  public let notes: [ELFNote]
  /// A problem met while reading the notes (they are kept up to it).
  public let noteError: DumpError?
  /// The raw VMCOREINFO text stored beside the notes (v3+), if any.
  public let vmcoreinfo: [UInt8]?
  public var pageSize: Int { Int(header.blockSize) }
  /// The number of page frames the bitmaps describe.
  public let pageCount: UInt64
  /// The compression methods the header's status names.
  public var compressions: [PageCompression] {
    PageCompression.methods(inFlags: header.status)
  }

  let bitmapBytes: UInt64  // the length of one bitmap
  let firstBitmapOffset: UInt64
  let secondBitmapOffset: UInt64
  let descriptorsOffset: UInt64
  /// Pages outside [coveredStart, coveredEnd) belong to another file of a
  /// split set.
  let coveredStart: UInt64
  let coveredEnd: UInt64

  static let rankChunkBytes = 4096
  private var rankPrefix: [UInt64] = [0]  // set bits before chunk i
  private var lastRank: (pfn: UInt64, rank: UInt64)?
  private var rankAtCoveredStart: UInt64?
  private var bitmapChunks: [UInt64: [UInt8]] = [:]  // key: offset of chunk
  private var bitmapChunkOrder: [UInt64] = []
  private var descriptorBlock: (start: UInt64, bytes: [UInt8])?
  private let pages = PageCache(capacity: 1024)
  private let decompressor = PageDecompressor()
  private var compressedBuffer: [UInt8] = []

  public static func probe(_ source: ByteSource) -> Bool {
    guard let head = try? source.readPrefix(at: 0, upTo: 8) else { return false }
    return head == DiskDumpHeader.signature
  }

  public init(source: ByteSource) throws(DumpError) {
    self.source = source
    let file = source.name
    let headBytes = try source.readPrefix(at: 0, upTo: 4096)
    let header = try DiskDumpHeader(parsing: headBytes, file: file)
    self.header = header
    let blockSize = UInt64(header.blockSize)
    guard header.subHeaderBlocks >= 0, header.subHeaderBlocks < 1 << 16 else {
      throw DumpError(
        .corrupt, "sub-header of \(header.subHeaderBlocks) blocks", file: file, offset: 432)
    }
    var subHeader = KdumpSubHeader()
    if header.subHeaderBlocks > 0 {
      let length = Int(blockSize) * Int(header.subHeaderBlocks)
      let bytes = try source.read(at: blockSize, count: min(length, 4096))
      subHeader = try KdumpSubHeader(parsing: bytes, header: header)
    }
    self.subHeader = subHeader

    pageCount =
      header.headerVersion >= 6 && subHeader.maxMapNumber64 != 0
      ? subHeader.maxMapNumber64 : UInt64(header.maxMapNumber)
    guard header.bitmapBlocks >= 2, header.bitmapBlocks % 2 == 0 else {
      throw DumpError(
        .corrupt, "odd or empty bitmap (\(header.bitmapBlocks) blocks)", file: file, offset: 436)
    }
    bitmapBytes = UInt64(header.bitmapBlocks / 2) * blockSize
    guard pageCount <= bitmapBytes * 8 else {
      throw DumpError(
        .corrupt,
        "bitmaps of \(bitmapBytes) bytes cannot describe \(pageCount) pages",
        file: file, offset: 440)
    }
    firstBitmapOffset = blockSize * (1 + UInt64(header.subHeaderBlocks))
    secondBitmapOffset = firstBitmapOffset + bitmapBytes
    descriptorsOffset = secondBitmapOffset + bitmapBytes
    guard descriptorsOffset <= source.size else {
      throw DumpError(
        .truncated,
        "file of \(source.size) bytes ends inside the page bitmaps (which end at \(descriptorsOffset))",
        file: file)
    }
    if header.headerVersion >= 6, subHeader.endPFN64 > subHeader.startPFN64 {
      coveredStart = subHeader.startPFN64
      coveredEnd = min(subHeader.endPFN64, pageCount)
    } else if subHeader.split != 0, subHeader.endPFN > subHeader.startPFN {
      coveredStart = subHeader.startPFN
      coveredEnd = min(subHeader.endPFN, pageCount)
    } else {
      coveredStart = 0
      coveredEnd = pageCount
    }

    var notes: [ELFNote] = []
    var noteError: DumpError?
    if header.headerVersion >= 4, subHeader.noteSize > 0 {
      do throws(DumpError) {
        guard subHeader.noteSize <= 64 << 20 else {
          throw DumpError(.corrupt, "ELF notes of \(subHeader.noteSize) bytes", file: file)
        }
        let bytes = try source.read(at: subHeader.noteOffset, count: Int(subHeader.noteSize))
        let parsed = ELFNote.parseAll(
          bytes, order: header.order, baseOffset: subHeader.noteOffset)
        notes = parsed.notes
        noteError = parsed.error?.inFile(file)
      } catch {
        noteError = error.context("reading the ELF notes")
      }
    }
    var vmcoreinfo: [UInt8]?
    if header.headerVersion >= 3, subHeader.vmcoreinfoSize > 0,
      subHeader.vmcoreinfoSize <= 1 << 20
    {
      vmcoreinfo = try? source.read(
        at: subHeader.vmcoreinfoOffset, count: Int(subHeader.vmcoreinfoSize))
    }
    if let vmcoreinfo, !notes.contains(where: { $0.name == "VMCOREINFO" }) {
      notes.append(ELFNote(name: "VMCOREINFO", type: 0, descriptor: vmcoreinfo))
    }
    self.notes = notes
    self.noteError = noteError
    self.vmcoreinfo = vmcoreinfo
  }

  /// For a file of a `makedumpfile --split` set: the page frames it holds.
  public var splitRange: Range<UInt64>? {
    coveredStart == 0 && coveredEnd == pageCount ? nil : coveredStart..<coveredEnd
  }

  public var ranges: [PhysicalRange] {
    [PhysicalRange(start: coveredStart * UInt64(pageSize), end: coveredEnd * UInt64(pageSize))]
  }

  // MARK: Bitmaps

  private func bitmapChunk(at offset: UInt64) throws(DumpError) -> [UInt8] {
    if let chunk = bitmapChunks[offset] { return chunk }
    let chunk = try source.readPrefix(at: offset, upTo: Self.rankChunkBytes)
    if bitmapChunkOrder.count >= 16 {
      bitmapChunks[bitmapChunkOrder.removeFirst()] = nil
    }
    bitmapChunks[offset] = chunk
    bitmapChunkOrder.append(offset)
    return chunk
  }

  private func bit(_ pfn: UInt64, inBitmapAt bitmapOffset: UInt64) throws(DumpError) -> Bool {
    let byte = pfn / 8
    let chunkStart = byte / UInt64(Self.rankChunkBytes) * UInt64(Self.rankChunkBytes)
    let chunk = try bitmapChunk(at: bitmapOffset + chunkStart)
    let index = Int(byte - chunkStart)
    guard index < chunk.count else { return false }
    return chunk[index] & (1 << UInt8(pfn % 8)) != 0
  }

  /// The index of `pfn`'s descriptor: the pages written before it in this
  /// file. A file of a `--split` set holds the descriptors of its own range
  /// only, so the pages before `coveredStart` do not count.
  private func descriptorIndex(_ pfn: UInt64) throws(DumpError) -> UInt64 {
    if rankAtCoveredStart == nil {
      rankAtCoveredStart = coveredStart == 0 ? 0 : try fullRank(coveredStart)
    }
    let base = rankAtCoveredStart ?? 0
    let rank = try rank(pfn)
    return rank >= base ? rank - base : 0
  }

  /// The number of pages written before `pfn` in the whole bitmap.
  /// Queries that move forward within a chunk count only the bits between
  /// the last query and this one, so sequential scans cost O(1) a page.
  private func rank(_ pfn: UInt64) throws(DumpError) -> UInt64 {
    let bitsPerChunk = UInt64(Self.rankChunkBytes * 8)
    if let last = lastRank, pfn >= last.pfn, pfn / bitsPerChunk == last.pfn / bitsPerChunk,
      pfn - last.pfn <= 64
    {
      var count = last.rank
      var bitIndex = last.pfn
      while bitIndex < pfn {
        if try bit(bitIndex, inBitmapAt: secondBitmapOffset) { count += 1 }
        bitIndex += 1
      }
      lastRank = (pfn, count)
      return count
    }
    let result = try fullRank(pfn)
    lastRank = (pfn, result)
    return result
  }

  private func fullRank(_ pfn: UInt64) throws(DumpError) -> UInt64 {
    let bitsPerChunk = UInt64(Self.rankChunkBytes * 8)
    let chunkIndex = Int(pfn / bitsPerChunk)
    while rankPrefix.count <= chunkIndex {
      let next = rankPrefix.count - 1
      let chunk = try bitmapChunk(
        at: secondBitmapOffset + UInt64(next) * UInt64(Self.rankChunkBytes))
      rankPrefix.append(rankPrefix[next] + Self.popcount(chunk[...]))
    }
    let chunkStart = UInt64(chunkIndex) * UInt64(Self.rankChunkBytes)
    let chunk = try bitmapChunk(at: secondBitmapOffset + chunkStart)
    let bitInChunk = Int(pfn % bitsPerChunk)
    let wholeBytes = min(bitInChunk / 8, chunk.count)
    var count = rankPrefix[chunkIndex] + Self.popcount(chunk[0..<wholeBytes])
    if wholeBytes < chunk.count, bitInChunk % 8 != 0 {
      let mask = UInt8((1 << (bitInChunk % 8)) - 1)
      count += UInt64((chunk[wholeBytes] & mask).nonzeroBitCount)
    }
    return count
  }

  static func popcount(_ bytes: ArraySlice<UInt8>) -> UInt64 {
    var total = 0
    bytes.withUnsafeBytes { raw in
      var offset = 0
      while offset + 8 <= raw.count {
        total += raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self).nonzeroBitCount
        offset += 8
      }
      while offset < raw.count {
        total += raw[offset].nonzeroBitCount
        offset += 1
      }
    }
    return UInt64(total)
  }

  // MARK: Pages

  public func pageState(_ pfn: UInt64) -> PageState {
    guard pfn >= coveredStart, pfn < coveredEnd else { return .notCovered }
    do {
      if try bit(pfn, inBitmapAt: secondBitmapOffset) {
        let descriptor = try self.descriptor(atIndex: try descriptorIndex(pfn))
        return descriptorState(descriptor)
      }
      return try bit(pfn, inBitmapAt: firstBitmapOffset) ? .excluded : .notCovered
    } catch {
      return .missing
    }
  }

  private func descriptorState(_ descriptor: PageDescriptor) -> PageState {
    if descriptor.size == 0 || descriptor.offset == 0 { return .missing }
    guard let end = descriptor.offset +? UInt64(descriptor.size), end <= source.size else {
      return .missing
    }
    return .present
  }

  /// The descriptor of the `index`th written page.
  public func descriptor(atIndex index: UInt64) throws(DumpError) -> PageDescriptor {
    guard let position = index *? UInt64(PageDescriptor.size) +? descriptorsOffset else {
      throw DumpError(.corrupt, "page descriptor index \(index) overflows", file: source.name)
    }
    if let block = descriptorBlock, position >= block.start,
      position + UInt64(PageDescriptor.size) <= block.start + UInt64(block.bytes.count)
    {
      return PageDescriptor(
        parsing: block.bytes, at: Int(position - block.start), order: header.order)
    }
    let bytes = try source.readPrefix(at: position, upTo: PageDescriptor.size * 170)
    guard bytes.count >= PageDescriptor.size else {
      throw DumpError.notInDump(address: 0, .missing, file: source.name)
        .context("reading page descriptor \(index)")
    }
    descriptorBlock = (position, bytes)
    return PageDescriptor(parsing: bytes, at: 0, order: header.order)
  }

  /// One decoded page, from the cache or the file.
  func page(_ pfn: UInt64) throws(DumpError) -> [UInt8] {
    if let cached = pages.page(pfn) { return cached }
    let address = pfn &* UInt64(pageSize)
    guard pfn >= coveredStart, pfn < coveredEnd else {
      throw DumpError.notInDump(address: address, .notCovered, file: source.name)
    }
    guard try bit(pfn, inBitmapAt: secondBitmapOffset) else {
      let absence: DumpError.Absence =
        try bit(pfn, inBitmapAt: firstBitmapOffset) ? .excluded : .notCovered
      throw DumpError.notInDump(address: address, absence, file: source.name)
    }
    let descriptor: PageDescriptor
    do {
      descriptor = try self.descriptor(atIndex: try descriptorIndex(pfn))
    } catch {
      throw DumpError.notInDump(address: address, .missing, file: source.name)
    }
    guard descriptorState(descriptor) == .present else {
      throw DumpError.notInDump(address: address, .missing, file: source.name)
    }
    let data = try decode(descriptor, pfn: pfn)
    pages.insert(pfn, data)
    return data
  }

  private func decode(_ descriptor: PageDescriptor, pfn: UInt64) throws(DumpError) -> [UInt8] {
    let size = Int(descriptor.size)
    let methods = PageCompression.methods(inFlags: descriptor.flags)
    if methods.isEmpty {
      guard size == pageSize else {
        throw DumpError(
          .corrupt,
          "uncompressed page 0x\(String(pfn, radix: 16)) is \(size) bytes, not \(pageSize)",
          file: source.name, offset: descriptor.offset)
      }
      return try source.read(at: descriptor.offset, count: size)
    }
    guard methods.count == 1, size <= pageSize * 2 else {
      throw DumpError(
        .corrupt,
        "page 0x\(String(pfn, radix: 16)) has flags 0x\(String(descriptor.flags, radix: 16)) and size \(size)",
        file: source.name, offset: descriptor.offset)
    }
    let compressed = try source.read(at: descriptor.offset, count: size)
    var output = [UInt8](repeating: 0, count: pageSize)
    var failure: DumpError?
    compressed.withUnsafeBytes { input in
      output.withUnsafeMutableBytes { target in
        do throws(DumpError) {
          try decompressor.decompress(methods[0], input, into: target)
        } catch {
          failure = error
        }
      }
    }
    if let failure {
      var error = failure.inFile(source.name)
      error.offset = descriptor.offset
      throw error.context("reading page 0x\(String(pfn, radix: 16))")
    }
    return output
  }

  public func read(at address: UInt64, into buffer: UnsafeMutableRawBufferPointer)
    throws(DumpError)
  {
    guard let base = buffer.baseAddress else { return }
    let size = UInt64(pageSize)
    var done = 0
    while done < buffer.count {
      guard let current = address +? UInt64(done) else {
        throw DumpError(.corrupt, "address range overflows")
      }
      let pfn = current / size
      let within = Int(current % size)
      let page = try self.page(pfn)
      let length = min(buffer.count - done, pageSize - within)
      guard within + length <= page.count else {
        throw DumpError(.corrupt, "page 0x\(String(pfn, radix: 16)) is \(page.count) bytes", file: source.name)
      }
      page.withUnsafeBytes { bytes in
        guard let pageBase = bytes.baseAddress else { return }
        (base + done).copyMemory(from: pageBase + within, byteCount: length)
      }
      done += length
    }
  }

  public func census() throws(DumpError) -> PageCensus {
    // Count the bits of [coveredStart, coveredEnd): a file of a split set
    // describes only its own range.
    var dumped: UInt64 = 0
    var ram: UInt64 = 0
    let firstByte = coveredStart / 8
    let endByte = (coveredEnd + 7) / 8
    var offset = firstByte
    while offset < endByte {
      let length = Int(min(1 << 20, endByte - offset))
      var first = try source.read(at: firstBitmapOffset + offset, count: length)
      var second = try source.read(at: secondBitmapOffset + offset, count: length)
      // Clear the bits outside the range in the first and last bytes.
      if offset == firstByte, coveredStart % 8 != 0 {
        let keep = UInt8(truncatingIfNeeded: 0xff << (coveredStart % 8))
        first[0] &= keep
        second[0] &= keep
      }
      if offset + UInt64(length) == endByte, coveredEnd % 8 != 0 {
        let keep = UInt8((1 << (coveredEnd % 8)) - 1)
        first[length - 1] &= keep
        second[length - 1] &= keep
      }
      ram += Self.popcount(first[...])
      dumped += Self.popcount(second[...])
      offset += UInt64(length)
    }
    var census = PageCensus(present: dumped, excluded: ram > dumped ? ram - dumped : 0)
    // Pages whose descriptors or data lie past the end of the file are missing.
    let missing = try countMissing(dumped: dumped)
    census.present -= missing
    census.missing = missing
    return census
  }

  /// Counts written pages whose descriptor or data is not in the file.
  ///
  /// Scans every descriptor (24 bytes a page, read 1 MiB at a time): page
  /// data is not in page order (pages with equal contents may share data),
  /// so no single descriptor tells whether a cut-short file lost any.
  private func countMissing(dumped: UInt64) throws(DumpError) -> UInt64 {
    guard dumped > 0 else { return 0 }
    var missing: UInt64 = 0
    let perBlock: UInt64 = 43690
    var index: UInt64 = 0
    while index < dumped {
      let count = Int(min(perBlock, dumped - index))
      let position = descriptorsOffset + index * UInt64(PageDescriptor.size)
      let bytes = try source.readPrefix(at: position, upTo: count * PageDescriptor.size)
      let whole = bytes.count / PageDescriptor.size
      for entry in 0..<whole {
        let descriptor = PageDescriptor(
          parsing: bytes, at: entry * PageDescriptor.size, order: header.order)
        if descriptorState(descriptor) != .present { missing += 1 }
      }
      missing += UInt64(count - whole)
      if whole < count {
        missing += dumped - index - UInt64(count)
        break
      }
      index += UInt64(count)
    }
    return missing
  }
}
