/// The container formats coroner reads.
public enum DumpFormat: String, Sendable, Codable {
  case elf = "elf"
  case kdumpCompressed = "kdump-compressed"
}

/// A dump file opened read-only: its format, architecture, notes, and its
/// physical (or machine) memory.
///
/// `open(path:)` recognises the format from the file's first bytes; a
/// flattened file is unwrapped first, so every format may come flattened.
public final class DumpFile {
  public let path: String
  public let format: DumpFormat
  /// Whether the file is in makedumpfile's flattened layout.
  public let isFlattened: Bool
  public let architecture: Architecture
  public let byteOrder: ByteOrder
  /// The dump's physical (or, for a Xen host, machine) memory.
  public let memory: PhysicalMemory
  public let notes: [ELFNote]
  /// A problem met while reading the notes (the notes before it are kept).
  public let noteError: DumpError?
  /// The page compression methods used (empty when pages are stored raw).
  public let compressions: [PageCompression]
  /// The kdump-compressed reader, for that format.
  public let kdump: KdumpCompressedReader?
  /// The ELF reader, for that format.
  public let elf: ELFCoreReader?
  /// The file size on disk.
  public let fileSize: UInt64

  /// Opens and recognises a dump.
  ///
  /// - Throws: `DumpError` naming the file: `.io` when it cannot be opened,
  ///   `.notADump` when no format matches, or what the format's reader found.
  public static func open(path: String) throws(DumpError) -> DumpFile {
    do {
      let file = try FileByteSource(path: path)
      return try DumpFile(source: file)
    } catch {
      throw error.inFile(path)
    }
  }

  public init(source file: ByteSource) throws(DumpError) {
    path = file.name
    fileSize = file.size
    var source = file
    if FlattenedByteSource.probe(file) {
      source = try FlattenedByteSource(wrapping: file)
      isFlattened = true
    } else {
      isFlattened = false
    }
    if KdumpCompressedReader.probe(source) {
      let reader = try KdumpCompressedReader(source: source)
      format = .kdumpCompressed
      architecture = Architecture(machine: reader.header.machine)
      byteOrder = reader.header.order
      memory = reader
      notes = reader.notes
      noteError = reader.noteError
      compressions = reader.compressions
      kdump = reader
      elf = nil
    } else if ELFCoreReader.probe(source) {
      let headers = try ELFHeaders(reading: source)
      var reader = try ELFCoreReader(source: source)
      if let size = Self.vmcoreinfoPageSize(reader.notes), size != reader.pageSize {
        reader = try ELFCoreReader(source: source, pageSize: size)
      }
      format = .elf
      architecture = headers.architecture
      byteOrder = headers.order
      memory = reader
      notes = reader.notes
      noteError = reader.noteError
      compressions = []
      kdump = nil
      elf = reader
    } else if source.size == 0 {
      throw DumpError(.notADump, "the file is empty", file: file.name)
    } else if let packer = Self.wholeFileCompression(source) {
      throw DumpError(
        .notADump, "the whole file is \(packer)-compressed: unpack it first", file: file.name,
        offset: 0)
    } else {
      throw DumpError(
        .notADump,
        "not a dump coroner knows (no ELF, \"KDUMP   \" or flattened signature)",
        file: file.name, offset: 0)
    }
  }

  /// A whole-file compressor's name when the file starts with its magic
  /// (dumps are often shipped as .xz, .gz, .zst or .bz2).
  static func wholeFileCompression(_ source: ByteSource) -> String? {
    guard let head = try? source.readPrefix(at: 0, upTo: 6) else { return nil }
    if head.starts(with: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) { return "xz" }
    if head.starts(with: [0x1f, 0x8b]) { return "gzip" }
    if head.starts(with: [0x28, 0xb5, 0x2f, 0xfd]) { return "zstd" }
    if head.starts(with: [0x42, 0x5a, 0x68]) { return "bzip2" }
    return nil
  }

  /// The page size VMCOREINFO states (`PAGESIZE=`), if sane.
  static func vmcoreinfoPageSize(_ notes: [ELFNote]) -> Int? {
    guard let note = notes.first(where: { $0.name == "VMCOREINFO" }) else { return nil }
    let text = String(decoding: note.descriptor, as: UTF8.self)
    for line in text.split(separator: "\n") where line.hasPrefix("PAGESIZE=") {
      if let size = Int(line.dropFirst(9)), size >= 4096, size <= 1 << 20,
        size & (size - 1) == 0
      {
        return size
      }
    }
    return nil
  }

  /// The CPU states saved in `NT_PRSTATUS` notes, in note order (CPU order,
  /// offline CPUs skipped). Xen host dumps hold one per physical CPU.
  public func prstatusNotes() -> [PRStatus] {
    notes.filter { $0.name == "CORE" && $0.type == ELFNote.prstatusType }
      .compactMap { try? PRStatus(parsing: $0.descriptor, architecture: architecture, order: byteOrder) }
  }
}
