/// The main header of a kdump-compressed dump (makedumpfile's
/// `disk_dump_header`, `diskdump_mod.h`), block 0 of the file.
public struct DiskDumpHeader: Sendable, Equatable {
  /// How the C structures are laid out, which depends on the dumped kernel's
  /// word size (not the machine reading the dump).
  public enum ABI: String, Sendable {
    /// 64-bit kernels: `long` and `time_t` are 8 bytes.
    case lp64
    /// i386: 32-bit `long`, 64-bit values packed at 4-byte alignment.
    case ilp32Packed
    /// 32-bit arm and others: 64-bit values aligned to 8 bytes.
    case ilp32Padded

    var is64Bit: Bool { self == .lp64 }
  }

  public static let signature = Array("KDUMP   ".utf8)

  public var headerVersion: Int32
  public var systemName: String
  public var nodeName: String
  public var release: String
  public var version: String
  public var machine: String
  public var domainName: String
  /// Seconds and microseconds since the epoch when the dump was taken.
  public var timestampSeconds: Int64
  public var timestampMicroseconds: Int64
  /// The compression and completeness bits (`DUMP_DH_*`).
  public var status: UInt32
  public var blockSize: Int32
  /// The sub-header's length, in blocks.
  public var subHeaderBlocks: Int32
  /// The length of both bitmaps together, in blocks.
  public var bitmapBlocks: UInt32
  /// The 32-bit page count (see `KdumpSubHeader.maxMapNumber64`).
  public var maxMapNumber: UInt32
  public var totalRAMBlocks: UInt32
  public var deviceBlocks: UInt32
  public var writtenBlocks: UInt32
  public var currentCPU: UInt32
  public var cpuCount: Int32
  public var order: ByteOrder
  public var abi: ABI

  /// `status` bit: capture ran out of space; the end of the dump is lost.
  public static let incompleteFlag: UInt32 = 0x8
  /// `status` bit: unused vmemmap pages were excluded.
  public static let excludedVmemmapFlag: UInt32 = 0x10

  public var isIncomplete: Bool { status & Self.incompleteFlag != 0 }
}

extension DiskDumpHeader {
  /// Parses block 0, choosing byte order and ABI from what makes sense.
  ///
  /// - Parameter bytes: at least the first 512 bytes of the file.
  /// - Throws: `.notADump` without the signature, `.corrupt` when no byte
  ///   order gives a sane block size, `.truncated` when too short.
  public init(parsing bytes: [UInt8], file: String) throws(DumpError) {
    guard bytes.count >= 8, Array(bytes.prefix(8)) == Self.signature else {
      throw DumpError(.notADump, "no \"KDUMP   \" signature", file: file, offset: 0)
    }
    guard bytes.count >= 464 else {
      throw DumpError(.truncated, "kdump header needs 464 bytes, file has \(bytes.count)", file: file)
    }
    let machine = String(
      decoding: bytes[(12 + 4 * 65)..<(12 + 5 * 65)].prefix { $0 != 0 }, as: UTF8.self)
    let architecture = Architecture(machine: machine)
    let abi: ABI =
      architecture == .i386 ? .ilp32Packed : architecture == .arm ? .ilp32Padded : .lp64
    var lastError: DumpError?
    for order in [ByteOrder.little, .big] {
      do {
        let header = try Self.parse(bytes, order: order, abi: abi, file: file)
        let size = header.blockSize
        guard size >= 512, size <= 1 << 20, size & (size - 1) == 0,
          header.headerVersion >= 0, header.headerVersion < 256
        else {
          lastError = DumpError(
            .corrupt, "kdump header has block size \(size) and version \(header.headerVersion)",
            file: file, offset: 8)
          continue
        }
        self = header
        return
      } catch {
        lastError = error
      }
    }
    throw lastError ?? DumpError(.corrupt, "unreadable kdump header", file: file)
  }

  static func parse(_ bytes: [UInt8], order: ByteOrder, abi: ABI, file: String)
    throws(DumpError) -> DiskDumpHeader
  {
    var cursor = ByteCursor(bytes, order: order, structure: "kdump header")
    try cursor.skip(8, "signature")
    let version = try cursor.read(Int32.self, "header_version")
    var names: [String] = []
    for field in ["sysname", "nodename", "release", "version", "machine", "domainname"] {
      names.append(try cursor.readFixedString(65, "utsname.\(field)"))
    }
    let seconds: Int64
    let microseconds: Int64
    if abi.is64Bit {
      try cursor.seek(to: 408, for: "timestamp")
      seconds = try cursor.read(Int64.self, "timestamp.tv_sec")
      microseconds = try cursor.read(Int64.self, "timestamp.tv_usec")
    } else {
      try cursor.seek(to: 404, for: "timestamp")
      seconds = Int64(try cursor.read(Int32.self, "timestamp.tv_sec"))
      microseconds = Int64(try cursor.read(Int32.self, "timestamp.tv_usec"))
    }
    return DiskDumpHeader(
      headerVersion: version, systemName: names[0], nodeName: names[1],
      release: names[2], version: names[3], machine: names[4],
      domainName: names[5], timestampSeconds: seconds,
      timestampMicroseconds: microseconds,
      status: try cursor.read(UInt32.self, "status"),
      blockSize: try cursor.read(Int32.self, "block_size"),
      subHeaderBlocks: try cursor.read(Int32.self, "sub_hdr_size"),
      bitmapBlocks: try cursor.read(UInt32.self, "bitmap_blocks"),
      maxMapNumber: try cursor.read(UInt32.self, "max_mapnr"),
      totalRAMBlocks: try cursor.read(UInt32.self, "total_ram_blocks"),
      deviceBlocks: try cursor.read(UInt32.self, "device_blocks"),
      writtenBlocks: try cursor.read(UInt32.self, "written_blocks"),
      currentCPU: try cursor.read(UInt32.self, "current_cpu"),
      cpuCount: try cursor.read(Int32.self, "nr_cpus"),
      order: order, abi: abi)
  }
}

/// The kdump sub-header (`kdump_sub_header`), starting at block 1. Fields
/// exist from the header version noted beside them.
public struct KdumpSubHeader: Sendable, Equatable {
  public var physBase: UInt64 = 0  // v0
  public var dumpLevel: Int32 = 0  // v1
  public var split: Int32 = 0  // v2
  public var startPFN: UInt64 = 0  // v2
  public var endPFN: UInt64 = 0  // v2
  public var vmcoreinfoOffset: UInt64 = 0  // v3
  public var vmcoreinfoSize: UInt64 = 0
  public var noteOffset: UInt64 = 0  // v4
  public var noteSize: UInt64 = 0
  public var eraseinfoOffset: UInt64 = 0  // v5
  public var eraseinfoSize: UInt64 = 0
  public var startPFN64: UInt64 = 0  // v6
  public var endPFN64: UInt64 = 0
  public var maxMapNumber64: UInt64 = 0

  public init() {}

  /// Parses the sub-header for `header`'s version and ABI.
  public init(parsing bytes: [UInt8], header: DiskDumpHeader) throws(DumpError) {
    var cursor = ByteCursor(
      bytes, order: header.order, baseOffset: UInt64(header.blockSize),
      structure: "kdump sub-header")
    let version = header.headerVersion
    let abi = header.abi
    func word(_ field: String) throws(DumpError) -> UInt64 {
      abi.is64Bit
        ? try cursor.read(UInt64.self, field) : UInt64(try cursor.read(UInt32.self, field))
    }
    func offset(_ field: String) throws(DumpError) -> UInt64 {
      if abi == .ilp32Padded { try cursor.skip((8 - cursor.position % 8) % 8) }
      return try cursor.read(UInt64.self, field)
    }
    self.init()
    physBase = try word("phys_base")
    guard version >= 1 else { return }
    dumpLevel = try cursor.read(Int32.self, "dump_level")
    guard version >= 2 else { return }
    split = try cursor.read(Int32.self, "split")
    if abi.is64Bit { try cursor.skip(0) }
    startPFN = try word("start_pfn")
    endPFN = try word("end_pfn")
    guard version >= 3 else { return }
    vmcoreinfoOffset = try offset("offset_vmcoreinfo")
    vmcoreinfoSize = try word("size_vmcoreinfo")
    guard version >= 4 else { return }
    noteOffset = try offset("offset_note")
    noteSize = try word("size_note")
    guard version >= 5 else { return }
    eraseinfoOffset = try offset("offset_eraseinfo")
    eraseinfoSize = try word("size_eraseinfo")
    guard version >= 6 else { return }
    startPFN64 = try offset("start_pfn_64")
    endPFN64 = try cursor.read(UInt64.self, "end_pfn_64")
    maxMapNumber64 = try cursor.read(UInt64.self, "max_mapnr_64")
  }
}

/// One page's descriptor (`page_desc`, 24 bytes): where its data lies, how
/// long it is and how it is compressed.
public struct PageDescriptor: Sendable, Equatable {
  public static let size = 24
  public var offset: UInt64
  public var size: UInt32
  public var flags: UInt32
  public var pageFlags: UInt64

  public init(parsing bytes: [UInt8], at position: Int, order: ByteOrder) {
    offset = bytes.load(UInt64.self, at: position, order) ?? 0
    size = bytes.load(UInt32.self, at: position + 8, order) ?? 0
    flags = bytes.load(UInt32.self, at: position + 12, order) ?? 0
    pageFlags = bytes.load(UInt64.self, at: position + 16, order) ?? 0
  }
}
