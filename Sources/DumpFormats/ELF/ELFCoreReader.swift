/// Reads an ELF vmcore: kdump's /proc/vmcore copy, QEMU's
/// `dump-guest-memory` ELF, or makedumpfile's filtered ELF (`-E`).
///
/// Each `PT_LOAD` maps physical addresses `[p_paddr, p_paddr + p_memsz)`;
/// the first `p_filesz` bytes are in the file at `p_offset`. Bytes past
/// `p_filesz` are excluded (makedumpfile shrinks `p_filesz` for the pages a
/// dump level leaves out); bytes the file is too short to hold are missing.
///
/// A /proc/vmcore's kernel-image segment repeats part of RAM; where segments
/// overlap, bytes in the file win over missing ones, and those over excluded.
public final class ELFCoreReader: PhysicalMemory {
  /// What the dump holds for a range of physical addresses.
  public struct Extent: IntervalPayload {
    public var state: PageState
    /// For `.present`: where the range's first byte lies in the file.
    public var fileOffset: UInt64
    public func advanced(by delta: UInt64) -> Extent {
      Extent(state: state, fileOffset: state == .present ? fileOffset + delta : fileOffset)
    }
  }

  public let source: ByteSource
  public let headers: ELFHeaders
  /// `PT_LOAD` segments sorted by physical address.
  public let loads: [ELFHeaders.ProgramHeader]
  public let notes: [ELFNote]
  public let noteError: DumpError?
  public let pageSize: Int
  /// Physical memory as disjoint ranges, each present, missing or excluded.
  public let extents: DisjointIntervals<Extent>

  public static func probe(_ source: ByteSource) -> Bool {
    guard let head = try? source.readPrefix(at: 0, upTo: 4) else { return false }
    return head == ELFHeaders.magic
  }

  /// - Parameter pageSize: the dumped kernel's page size when known
  ///   (VMCOREINFO's `PAGESIZE`), else 4096.
  public init(source: ByteSource, pageSize: Int = 4096) throws(DumpError) {
    self.source = source
    self.pageSize = pageSize
    let headers = try ELFHeaders(reading: source)
    self.headers = headers
    guard headers.fileType == ELFHeaders.coreFileType else {
      throw DumpError(
        .notADump, "ELF file of type \(headers.fileType), not a core file (ET_CORE)",
        file: source.name, offset: 16)
    }
    loads = headers.programHeaders
      .filter { $0.type == ELFHeaders.ProgramHeader.load && $0.memorySize > 0 }
      .sorted { $0.physicalAddress < $1.physicalAddress }

    var pieces: [Interval<Extent>] = []
    for (index, load) in loads.enumerated() {
      let start = load.physicalAddress
      let inFile = load.offset < source.size ? min(load.fileSize, source.size - load.offset) : 0
      let memoryEnd = start +? load.memorySize ?? UInt64.max
      let fileEnd = min(start +? load.fileSize ?? UInt64.max, memoryEnd)
      let presentEnd = min(start + inFile, fileEnd)
      let base = index * 3
      pieces.append(
        Interval(
          start: start, end: presentEnd, priority: base + 2,
          payload: Extent(state: .present, fileOffset: load.offset)))
      pieces.append(
        Interval(
          start: presentEnd, end: fileEnd, priority: base + 1,
          payload: Extent(state: .missing, fileOffset: 0)))
      pieces.append(
        Interval(
          start: fileEnd, end: memoryEnd, priority: base,
          payload: Extent(state: .excluded, fileOffset: 0)))
    }
    // Priorities: any present byte beats any missing one, which beats excluded.
    let count = pieces.count
    extents = DisjointIntervals(
      pieces.map { piece in
        var ranked = piece
        switch piece.payload.state {
        case .present: ranked.priority += 2 * count
        case .missing: ranked.priority += count
        default: break
        }
        return ranked
      })

    var notes: [ELFNote] = []
    var noteError: DumpError?
    for program in headers.programHeaders where program.type == ELFHeaders.ProgramHeader.note {
      do throws(DumpError) {
        guard program.fileSize <= 64 << 20 else {
          throw DumpError(
            .corrupt, "PT_NOTE of \(program.fileSize) bytes", file: source.name,
            offset: program.offset)
        }
        let bytes = try source.read(at: program.offset, count: Int(program.fileSize))
        let parsed = ELFNote.parseAll(bytes, order: headers.order, baseOffset: program.offset)
        notes += parsed.notes
        if let error = parsed.error, noteError == nil { noteError = error.inFile(source.name) }
      } catch {
        if noteError == nil { noteError = error.context("reading a PT_NOTE segment") }
      }
    }
    self.notes = notes
    self.noteError = noteError
  }

  public var ranges: [PhysicalRange] {
    loads.map {
      PhysicalRange(
        start: $0.physicalAddress,
        end: $0.physicalAddress +? $0.memorySize ?? UInt64.max)
    }
  }

  public func pageState(_ pfn: UInt64) -> PageState {
    guard let address = pfn *? UInt64(pageSize), let index = extents.index(containing: address)
    else { return .notCovered }
    return extents.intervals[index].payload.state
  }

  public func read(at address: UInt64, into buffer: UnsafeMutableRawBufferPointer)
    throws(DumpError)
  {
    guard let base = buffer.baseAddress else { return }
    var done = 0
    while done < buffer.count {
      guard let current = address +? UInt64(done) else {
        throw DumpError(.corrupt, "address range overflows")
      }
      guard let index = extents.index(containing: current) else {
        throw DumpError.notInDump(address: current, .notCovered, file: source.name)
      }
      let extent = extents.intervals[index]
      switch extent.payload.state {
      case .present:
        let within = current - extent.start
        let length = Int(min(UInt64(buffer.count - done), extent.end - current))
        try source.read(
          at: extent.payload.fileOffset + within,
          into: UnsafeMutableRawBufferPointer(start: base + done, count: length))
        done += length
      case .missing:
        throw DumpError.notInDump(address: current, .missing, file: source.name)
      case .excluded:
        throw DumpError.notInDump(address: current, .excluded, file: source.name)
      case .notCovered:
        throw DumpError.notInDump(address: current, .notCovered, file: source.name)
      }
    }
  }

  public func census() throws(DumpError) -> PageCensus {
    var census = PageCensus()
    let size = UInt64(pageSize)
    for extent in extents.intervals {
      let pages = (extent.end - extent.start + size - 1) / size
      switch extent.payload.state {
      case .present: census.present += pages
      case .missing: census.missing += pages
      case .excluded: census.excluded += pages
      case .notCovered: break
      }
    }
    return census
  }
}
