import AddressTranslation
import DebugInfo
import DumpFormats

/// The lockless printk ring buffer of Linux 5.10 and later
/// (kernel/printk/printk_ringbuffer.h), read from VMCOREINFO offsets only.
///
/// `prb` points to a `printk_ringbuffer` holding a descriptor ring (arrays of
/// `prb_desc` and `printk_info`, 2^count_bits entries, indexed by descriptor
/// id) and a text data ring (2^size_bits bytes of data blocks, each starting
/// with its descriptor id). Records from `tail_id` to `head_id` whose
/// descriptor is committed or finalized under the same id are read, in id
/// order, as vmcore-dmesg does. The arrays and the text are read with a few
/// large reads; only the slots and the parts of the data ring in use are read.
struct PrintkRingBuffer {
  /// The largest descriptor ring believed: 2^24 descriptors.
  static let countBitsLimit = 24
  /// The largest text data ring believed: 2^30 bytes (1 GiB).
  static let sizeBitsLimit = 30
  /// Text spans closer than this are read together.
  static let mergeDistance = 64 << 10

  /// Where the fields are, from VMCOREINFO.
  struct Layout {
    var prb: UInt64
    var ringbufferSize: Int
    var descRing: Int
    var textDataRing: Int
    var countBits: Int
    var descs: Int
    var infos: Int
    var headID: Int
    var tailID: Int
    var descSize: Int
    var stateVar: Int
    var textBegin: Int
    var textNext: Int
    var infoSize: Int
    var seq: Int
    var tsNsec: Int
    var textLen: Int
    var callerID: Int
    /// `facility` and the `flags:5 level:3` byte follow `text_len` (not in
    /// VMCOREINFO; known only when `caller_id` sits where 5.10+ puts it).
    var facility: Int?
    var subsystem: (offset: Int, length: Int)?
    var device: (offset: Int, length: Int)?
    var sizeBits: Int
    var data: Int

    init(_ vmcoreinfo: VMCoreInfo, pointerSize: Int) throws(DumpError) {
      let keys = PrintkLayoutKeys(info: vmcoreinfo)
      let long = pointerSize
      prb = try keys.symbol("prb")
      ringbufferSize = try keys.size("printk_ringbuffer")
      let descRingSize = try keys.size("prb_desc_ring")
      let dataRingSize = try keys.size("prb_data_ring")
      descRing = try keys.offset(
        "printk_ringbuffer.desc_ring", width: descRingSize, within: ringbufferSize)
      textDataRing = try keys.offset(
        "printk_ringbuffer.text_data_ring", width: dataRingSize, within: ringbufferSize)
      let atomicSize = try keys.size("atomic_long_t")
      let counter = try keys.offset("atomic_long_t.counter", width: long, within: atomicSize)
      countBits =
        descRing + (try keys.offset("prb_desc_ring.count_bits", width: 4, within: descRingSize))
      descs = descRing + (try keys.offset("prb_desc_ring.descs", width: long, within: descRingSize))
      infos = descRing + (try keys.offset("prb_desc_ring.infos", width: long, within: descRingSize))
      headID =
        descRing + counter
        + (try keys.offset("prb_desc_ring.head_id", width: atomicSize, within: descRingSize))
      tailID =
        descRing + counter
        + (try keys.offset("prb_desc_ring.tail_id", width: atomicSize, within: descRingSize))
      descSize = try keys.size("prb_desc")
      stateVar =
        counter + (try keys.offset("prb_desc.state_var", width: atomicSize, within: descSize))
      let lposSize = try keys.size("prb_data_blk_lpos")
      let lpos = try keys.offset("prb_desc.text_blk_lpos", width: lposSize, within: descSize)
      textBegin = lpos + (try keys.offset("prb_data_blk_lpos.begin", width: long, within: lposSize))
      textNext = lpos + (try keys.offset("prb_data_blk_lpos.next", width: long, within: lposSize))
      infoSize = try keys.size("printk_info")
      seq = try keys.offset("printk_info.seq", width: 8, within: infoSize)
      tsNsec = try keys.offset("printk_info.ts_nsec", width: 8, within: infoSize)
      textLen = try keys.offset("printk_info.text_len", width: 2, within: infoSize)
      callerID = try keys.offset("printk_info.caller_id", width: 4, within: infoSize)
      facility = callerID == textLen + 4 ? textLen + 2 : nil
      subsystem = nil
      device = nil
      if let devInfo = keys.optionalOffset("printk_info.dev_info") {
        let limit = infoSize
        func field(_ member: String, _ length: String) -> (offset: Int, length: Int)? {
          guard let offset = keys.optionalOffset("dev_printk_info.\(member)"),
            let count = keys.optionalLength(length), devInfo + offset + count <= limit
          else { return nil }
          return (devInfo + offset, count)
        }
        subsystem = field("subsystem", "printk_info_subsystem")
        device = field("device", "printk_info_device")
      }
      sizeBits =
        textDataRing
        + (try keys.offset("prb_data_ring.size_bits", width: 4, within: dataRingSize))
      data =
        textDataRing + (try keys.offset("prb_data_ring.data", width: long, within: dataRingSize))
    }
  }

  /// A record whose descriptor and info were read, waiting for its text.
  private struct Pending {
    var record: PrintkRecord
    /// The text's place in the data ring, when it has text.
    var text: Range<Int>?
  }

  let memory: VirtualMemory
  let layout: Layout
  private var order: ByteOrder { memory.byteOrder }
  private var long: Int { memory.pointerSize }

  init(memory: VirtualMemory, vmcoreinfo: VMCoreInfo) throws(DumpError) {
    guard memory.pointerSize == 8 || memory.pointerSize == 4 else {
      throw DumpError(.unsupported, "pointers of \(memory.pointerSize) bytes")
    }
    self.memory = memory
    layout = try Layout(vmcoreinfo, pointerSize: memory.pointerSize)
  }

  /// Reads every committed record.
  func read() throws(DumpError) -> KernelLog {
    let prbAddress: UInt64
    let header: LogMemoryRegion
    do {
      prbAddress = try memory.readPointer(at: layout.prb)
      header = try LogMemoryRegion(
        memory: memory, address: prbAddress, count: layout.ringbufferSize,
        what: "the printk_ringbuffer")
    } catch {
      throw error.context("reading the printk ring buffer header (prb)")
    }
    if let error = header.firstError { throw error }
    func field(_ offset: Int, _ width: Int) -> UInt64 {
      header.unsigned(at: offset, width: width, order) ?? 0
    }
    let countBits = field(layout.countBits, 4)
    guard countBits <= UInt64(Self.countBitsLimit) else {
      throw DumpError(
        .corrupt,
        "the printk descriptor ring claims 2^\(countBits) descriptors (at most 2^\(Self.countBitsLimit) are believed)"
      )
    }
    let sizeBits = field(layout.sizeBits, 4)
    guard sizeBits <= UInt64(Self.sizeBitsLimit), sizeBits >= 3 else {
      throw DumpError(
        .corrupt,
        "the printk text data ring claims 2^\(sizeBits) bytes (2^3 to 2^\(Self.sizeBitsLimit) are believed)"
      )
    }
    let count = 1 << Int(countBits)
    let ringSize = 1 << Int(sizeBits)
    let descsAddress = field(layout.descs, long)
    let infosAddress = field(layout.infos, long)
    let dataAddress = field(layout.data, long)
    let idBits = long * 8 - 2
    let idMask: UInt64 = (1 << UInt64(idBits)) - 1
    let head = field(layout.headID, long) & idMask
    var tail = field(layout.tailID, long) & idMask
    var problems: [String] = []

    // The ids in use: tail_id through head_id, fewer than `count` apart.
    var distance = (head &- tail) & idMask
    if distance >= UInt64(count) {
      problems.append(
        "the descriptor ring's tail_id \(tail) and head_id \(head) are \(distance) apart, more than its \(count) descriptors: only the last \(count) ids were read"
      )
      distance = UInt64(count - 1)
      tail = (head &- distance) & idMask
    }
    let used = Int(distance) + 1
    let firstSlot = Int(tail & UInt64(count - 1))

    let descArray = try SlotArray(
      memory: memory, base: descsAddress, elementSize: layout.descSize, count: count,
      firstSlot: firstSlot, used: used, what: "the printk descriptors")
    let infoArray = try SlotArray(
      memory: memory, base: infosAddress, elementSize: layout.infoSize, count: count,
      firstSlot: firstSlot, used: used, what: "the printk infos")

    var pending: [Pending] = []
    pending.reserveCapacity(used)
    var unreadable = 0
    var firstError: DumpError?
    var id = tail
    for _ in 0..<used {
      defer { id = (id &+ 1) & idMask }
      let slot = Int(id & UInt64(count - 1))
      guard let desc = descArray.element(slot) else {
        unreadable += 1
        firstError = firstError ?? descArray.error
        continue
      }
      let stateVar =
        desc.region.unsigned(at: desc.offset + layout.stateVar, width: long, order) ?? 0
      let state = stateVar >> UInt64(idBits)
      // desc_committed (1) or desc_finalized (2), under this very id.
      guard stateVar & idMask == id, state == 1 || state == 2 else { continue }
      guard let info = infoArray.element(slot) else {
        unreadable += 1
        firstError = firstError ?? infoArray.error
        continue
      }
      let begin = desc.region.unsigned(at: desc.offset + layout.textBegin, width: long, order) ?? 0
      let next = desc.region.unsigned(at: desc.offset + layout.textNext, width: long, order) ?? 0
      pending.append(
        makePending(
          info: info.region, at: info.offset, begin: begin, next: next, ringSize: ringSize))
    }

    // Read the text: the spans in use, merged into a few large reads.
    let spans = Self.merge(pending.compactMap(\.text), within: Self.mergeDistance)
    var regions: [(span: Range<Int>, region: LogMemoryRegion)] = []
    for span in spans {
      let address = dataAddress &+ UInt64(span.lowerBound)
      let region: LogMemoryRegion
      do {
        region = try LogMemoryRegion(
          memory: memory, address: address, count: span.count, what: "the printk text data ring")
      } catch {
        region = LogMemoryRegion(unreadable: address, count: span.count, error: error)
      }
      regions.append((span, region))
    }
    var records: [PrintkRecord] = []
    records.reserveCapacity(pending.count)
    var regionIndex = 0
    for var item in pending {
      if let text = item.text {
        // Spans are sorted; records mostly come in ring order.
        if regionIndex >= regions.count || !regions[regionIndex].span.contains(text.lowerBound) {
          regionIndex = Self.index(of: text.lowerBound, in: spans) ?? regions.count
        }
        guard regionIndex < regions.count else {
          unreadable += 1
          continue
        }
        let (span, region) = regions[regionIndex]
        let local = (text.lowerBound - span.lowerBound)..<(text.upperBound - span.lowerBound)
        guard region.isReadable(local) else {
          unreadable += 1
          firstError = firstError ?? region.firstError
          continue
        }
        item.record.text = region.slice(local)
      }
      records.append(item.record)
    }
    if unreadable > 0 {
      let total = records.count + unreadable
      var problem = "\(unreadable) of \(total) records could not be read"
      if let firstError { problem += " (\(KernelLog.describe(firstError)))" }
      problems.append(problem)
      if records.isEmpty, let firstError { throw firstError.context("reading the kernel log") }
    }
    return KernelLog(format: .lockless, records: records, problems: problems)
  }

  /// Decodes one info and locates its text (kernel get_data(): a regular
  /// block lies between `begin` and `next` in one wrap; a wrapping block keeps
  /// its data at the start of the ring; odd positions mark data-less records).
  private func makePending(
    info: LogMemoryRegion, at base: Int, begin: UInt64, next: UInt64, ringSize: Int
  ) -> Pending {
    var record = PrintkRecord(
      sequence: info.unsigned(at: base + layout.seq, width: 8, order) ?? 0,
      timestampNs: info.unsigned(at: base + layout.tsNsec, width: 8, order) ?? 0,
      caller: (info.unsigned(at: base + layout.callerID, width: 4, order)).map {
        PrintkRecord.Caller(callerID: UInt32(truncatingIfNeeded: $0))
      },
      text: [])
    if let facility = layout.facility,
      let value = info.unsigned(at: base + facility, width: 1, order),
      let bits = info.unsigned(at: base + facility + 1, width: 1, order)
    {
      record.facility = UInt8(truncatingIfNeeded: value)
      let split = PrintkRecord.flagsAndLevel(
        UInt8(truncatingIfNeeded: bits), littleEndian: order == .little)
      record.flags = split.flags
      record.level = split.level
    }
    if let subsystem = layout.subsystem {
      record.subsystem = info.string(at: base + subsystem.offset, length: subsystem.length)
    }
    if let device = layout.device {
      record.device = info.string(at: base + device.offset, length: device.length)
    }
    let textLength = Int(info.unsigned(at: base + layout.textLen, width: 2, order) ?? 0)

    let size = UInt64(ringSize)
    let wrapShift = UInt64(ringSize.trailingZeroBitCount)
    // An odd position is a data-less record: 0x3 an empty line (NO_LPOS,
    // EMPTY_LINE_LPOS), anything else (FAILED_LPOS 0x1) text the kernel lost.
    if begin & 1 != 0 || next & 1 != 0 {
      record.textLost = !(begin == 3 && next == 3)
      return Pending(record: record, text: nil)
    }
    if begin == next {
      return Pending(record: record, text: nil)
    }
    let blockStart: Int
    let blockSize: UInt64
    // next - 1: a block that ends exactly at the ring's end does not wrap
    // (kernels since 2025; older ones never write such a block).
    if begin >> wrapShift == (next &- 1) >> wrapShift, begin < next {
      blockStart = Int(begin & (size - 1))
      blockSize = next - begin
    } else if (begin >> wrapShift) &+ 1 == (next &- 1) >> wrapShift {
      blockStart = 0
      blockSize = next & (size - 1)
    } else {
      record.textLost = true
      return Pending(record: record, text: nil)
    }
    let idSize = UInt64(long)
    guard blockSize >= idSize, blockSize <= size else {
      record.textLost = true
      return Pending(record: record, text: nil)
    }
    // Like vmcore-dmesg: a text_len larger than the block is cut to the block.
    let available = Int(blockSize - idSize)
    let start = blockStart + Int(idSize)
    return Pending(record: record, text: start..<(start + min(textLength, available)))
  }

  /// Sorts `ranges` and joins those less than `distance` apart.
  static func merge(_ ranges: [Range<Int>], within distance: Int) -> [Range<Int>] {
    var result: [Range<Int>] = []
    for range in ranges.filter({ !$0.isEmpty }).sorted(by: { $0.lowerBound < $1.lowerBound }) {
      if let last = result.last, range.lowerBound <= last.upperBound + distance {
        result[result.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
      } else {
        result.append(range)
      }
    }
    return result
  }

  /// The index of the sorted, disjoint range holding `position`.
  static func index(of position: Int, in ranges: [Range<Int>]) -> Int? {
    var low = 0
    var high = ranges.count
    while low < high {
      let middle = (low + high) / 2
      if ranges[middle].upperBound <= position { low = middle + 1 } else { high = middle }
    }
    return low < ranges.count && ranges[low].contains(position) ? low : nil
  }
}

/// The slots in use of one of the descriptor ring's arrays, read in at most
/// two large reads (the run of slots may wrap past the array's end).
private struct SlotArray {
  let elementSize: Int
  let count: Int
  /// (first slot, region) pairs.
  private var parts: [(first: Int, slots: Int, region: LogMemoryRegion)] = []
  /// Why some slots could not be read.
  private(set) var error: DumpError?

  init(
    memory: VirtualMemory, base: UInt64, elementSize: Int, count: Int, firstSlot: Int,
    used: Int, what: String
  ) throws(DumpError) {
    self.elementSize = elementSize
    self.count = count
    let runs =
      firstSlot + used <= count
      ? [(firstSlot, used)] : [(firstSlot, count - firstSlot), (0, used - (count - firstSlot))]
    for (first, slots) in runs where slots > 0 {
      guard let offset = UInt64(first) *? UInt64(elementSize),
        let bytes = slots *? elementSize
      else { throw DumpError(.corrupt, "\(what) overflow the address space") }
      let address = base &+ offset
      let region: LogMemoryRegion
      do {
        region = try LogMemoryRegion(memory: memory, address: address, count: bytes, what: what)
      } catch {
        region = LogMemoryRegion(unreadable: address, count: bytes, error: error)
      }
      if error == nil { error = region.firstError }
      parts.append((first, slots, region))
    }
  }

  /// The region and offset of a slot's element, nil when it is unreadable.
  func element(_ slot: Int) -> (region: LogMemoryRegion, offset: Int)? {
    for part in parts where slot >= part.first && slot < part.first + part.slots {
      let offset = (slot - part.first) * elementSize
      guard part.region.isReadable(offset..<(offset + elementSize)) else { return nil }
      return (part.region, offset)
    }
    return nil
  }
}
