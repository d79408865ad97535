import AddressTranslation
import DumpFormats

/// Kernel virtual memory as an ELF dump's program headers describe it: each
/// `PT_LOAD` maps `p_vaddr` to `p_paddr`, the way vmcore-dmesg reads a dump.
///
/// This is the fallback for dumps whose page tables coroner cannot walk yet
/// (32-bit x86 kdumps, whose lowmem is mapped linearly at 0xc0000000 and
/// covered by the program headers); it reaches only what the headers map.
public final class LoadSegmentMemory: VirtualMemory {
  /// A mapped range: virtual start, physical start, length.
  private struct Segment {
    var virtual: UInt64
    var physical: UInt64
    var size: UInt64
  }

  /// The dump's byte order.
  public let byteOrder: ByteOrder
  /// 8 for a 64-bit dump, 4 for a 32-bit one.
  public let pointerSize: Int
  private let physicalMemory: PhysicalMemory
  private let segments: [Segment]

  /// Makes the memory of an ELF dump with virtual addresses in its
  /// `PT_LOAD` headers; nil for other dumps (kdump-compressed, or an ELF
  /// whose headers give no virtual addresses: QEMU's give 0 or repeat the
  /// physical address).
  public init?(dump: DumpFile) {
    guard let elf = dump.elf else { return nil }
    let segments = elf.loads.compactMap { load -> Segment? in
      guard load.virtualAddress != 0, load.virtualAddress != load.physicalAddress,
        load.memorySize > 0, load.virtualAddress <= UInt64.max - load.memorySize
      else { return nil }
      return Segment(
        virtual: load.virtualAddress, physical: load.physicalAddress, size: load.memorySize)
    }
    guard !segments.isEmpty else { return nil }
    self.segments = segments.sorted { $0.virtual < $1.virtual }
    physicalMemory = dump.memory
    byteOrder = dump.byteOrder
    pointerSize = dump.architecture.is64Bit ? 8 : 4
  }

  /// The physical address of a virtual one, or `.notMapped`.
  public func translate(_ address: UInt64) throws(DumpError) -> UInt64 {
    for segment in segments
    where address >= segment.virtual && address - segment.virtual < segment.size {
      return segment.physical &+ (address - segment.virtual)
    }
    throw DumpError(
      .notMapped,
      "virtual address 0x\(String(address, radix: 16)) is in no PT_LOAD of the dump")
  }

  /// Copies memory at a virtual address; `.notMapped` outside the mappings,
  /// `.notInDump` for pages the dump lacks.
  public func read(virtual address: UInt64, into buffer: UnsafeMutableRawBufferPointer)
    throws(DumpError)
  {
    guard let base = buffer.baseAddress else { return }
    var done = 0
    // Each pass reads up to the end of one segment.
    while done < buffer.count {
      let current = address &+ UInt64(done)
      guard
        let segment = segments.first(where: {
          current >= $0.virtual && current - $0.virtual < $0.size
        })
      else {
        throw DumpError(
          .notMapped,
          "virtual address 0x\(String(current, radix: 16)) is in no PT_LOAD of the dump")
      }
      let inSegment = segment.size - (current - segment.virtual)
      let length = Int(min(UInt64(buffer.count - done), inSegment))
      try physicalMemory.read(
        at: segment.physical &+ (current - segment.virtual),
        into: UnsafeMutableRawBufferPointer(start: base + done, count: length))
      done += length
    }
  }
}
