import AddressTranslation
import DebugInfo
import DumpFormats

/// The two linear mappings of an arm64 Linux kernel (5.4 and later), from
/// VMCOREINFO alone: the linear map of RAM, `[PAGE_OFFSET, PAGE_OFFSET +
/// 2^(VA_BITS-1))` with `PAGE_OFFSET = -2^VA_BITS`, where physical =
/// virtual - PAGE_OFFSET + `PHYS_OFFSET`; and the kernel image above it,
/// where physical = virtual - `kimage_voffset`.
///
/// This is the fallback that lets the kernel log be read from arm64 dumps
/// before coroner walks arm64 page tables: the log's arrays live in the
/// kernel image or (after `log_buf_len=`) in the linear map, never in
/// vmalloc space. Other addresses in the upper half translate to nonsense
/// that the reads then reject.
public final class Arm64LinearMemory: VirtualMemory {
  /// The dump's byte order.
  public let byteOrder: ByteOrder
  /// 8: arm64 pointers.
  public var pointerSize: Int { 8 }
  private let physicalMemory: PhysicalMemory
  private let pageOffset: UInt64
  private let linearSize: UInt64
  private let physOffset: UInt64
  private let kimageVoffset: UInt64

  /// Nil unless the dump is arm64 and VMCOREINFO gives `NUMBER(VA_BITS)`
  /// (36 to 52), `NUMBER(PHYS_OFFSET)` and `NUMBER(kimage_voffset)`.
  public init?(dump: DumpFile, vmcoreinfo: VMCoreInfo) {
    guard dump.architecture == .arm64,
      let vaBits = vmcoreinfo.numbers["VA_BITS"], vaBits >= 36, vaBits <= 52,
      let physOffset = vmcoreinfo.numbers["PHYS_OFFSET"],
      let kimageVoffset = vmcoreinfo.numbers["kimage_voffset"]
    else { return nil }
    physicalMemory = dump.memory
    byteOrder = dump.byteOrder
    pageOffset = 0 &- (UInt64(1) << UInt64(vaBits))
    linearSize = UInt64(1) << UInt64(vaBits - 1)
    self.physOffset = UInt64(bitPattern: physOffset)
    self.kimageVoffset = UInt64(bitPattern: kimageVoffset)
  }

  /// The physical address of a virtual one, or `.notMapped`.
  public func translate(_ address: UInt64) throws(DumpError) -> UInt64 {
    guard address >= pageOffset else {
      throw DumpError(
        .notMapped, "0x\(String(address, radix: 16)) is not an arm64 kernel address")
    }
    if address - pageOffset < linearSize {
      return address - pageOffset &+ physOffset
    }
    return address &- kimageVoffset
  }

  /// Copies memory at a virtual address; `.notMapped` outside the mappings,
  /// `.notInDump` for pages the dump lacks.
  public func read(virtual address: UInt64, into buffer: UnsafeMutableRawBufferPointer)
    throws(DumpError)
  {
    try readTranslatingPages(address, into: buffer, from: physicalMemory)
  }
}
