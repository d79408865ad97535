import CElf

/// Reads ELF headers with elfutils' libelf, over the file's first bytes.
///
/// libelf parses from a buffer (`elf_memory`) that holds the ELF header and
/// the program and section header tables, so the same code reads plain files
/// and views such as the flattened format. The buffer grows to what the
/// headers declare, up to `maximumHeaderBytes`.
extension ELFHeaders {
  public static let maximumHeaderBytes = 256 << 20
  public static let magic: [UInt8] = [0x7f, 0x45, 0x4c, 0x46]

  public init(reading source: ByteSource) throws(DumpError) {
    var length = 64 << 10
    for _ in 0..<4 {
      let prefix = try source.readPrefix(at: 0, upTo: length)
      switch try Self.parse(prefix, file: source.name) {
      case .parsed(let headers):
        self = headers
        return
      case .needs(let bytes):
        guard bytes <= Self.maximumHeaderBytes else {
          throw DumpError(
            .corrupt, "ELF header tables claim \(bytes) bytes", file: source.name)
        }
        guard bytes <= source.size else {
          throw DumpError(
            .truncated,
            "ELF header tables end at byte \(bytes), past the end of the file (\(source.size) bytes)",
            file: source.name)
        }
        length = bytes
      }
    }
    throw DumpError(.corrupt, "ELF header tables keep growing", file: source.name)
  }

  enum ParseResult {
    case parsed(ELFHeaders)
    case needs(Int)
  }

  static func parse(_ prefix: [UInt8], file: String) throws(DumpError) -> ParseResult {
    guard prefix.count >= 16, Array(prefix.prefix(4)) == magic else {
      throw DumpError(.notADump, "no ELF magic", file: file, offset: 0)
    }
    guard prefix[4] == 1 || prefix[4] == 2 else {
      throw DumpError(.corrupt, "ELF class \(prefix[4]) is neither 32 nor 64 bits", file: file, offset: 4)
    }
    guard prefix[5] == 1 || prefix[5] == 2 else {
      throw DumpError(.corrupt, "ELF data encoding \(prefix[5]) is unknown", file: file, offset: 5)
    }
    _ = elf_version(UInt32(EV_CURRENT))
    var storage = prefix
    var outcome: Result<ParseResult, DumpError> = .failure(
      DumpError(.corrupt, "unreadable ELF header", file: file))
    storage.withUnsafeMutableBytes { raw in
      outcome = Result { () throws(DumpError) -> ParseResult in try parse(raw, prefix: prefix, file: file) }
    }
    return try outcome.get()
  }

  static func parse(_ raw: UnsafeMutableRawBufferPointer, prefix: [UInt8], file: String)
    throws(DumpError) -> ParseResult
  {
    do {
      guard let base = raw.baseAddress,
        let elf = elf_memory(base.assumingMemoryBound(to: CChar.self), raw.count)
      else {
        throw DumpError(.corrupt, "libelf: \(Self.libelfMessage())", file: file)
      }
      defer { elf_end(elf) }
      var header = GElf_Ehdr()
      guard gelf_getehdr(elf, &header) != nil else {
        throw DumpError(.truncated, "ELF header: \(Self.libelfMessage())", file: file)
      }
      let is64 = prefix[4] == 2
      let order: ByteOrder = prefix[5] == 1 ? .little : .big
      // How many bytes the header tables need.
      var needed = UInt64(is64 ? 64 : 52)
      if header.e_phnum > 0,
        let end = header.e_phoff +? (UInt64(header.e_phnum) *? UInt64(header.e_phentsize))
      {
        needed = max(needed, end)
      }
      if header.e_shoff > 0,
        let end = header.e_shoff
          +? (UInt64(max(header.e_shnum, 1)) *? UInt64(header.e_shentsize))
      {
        needed = max(needed, end)
      }
      guard needed <= UInt64(raw.count) else {
        guard needed <= UInt64(Int.max) else {
          throw DumpError(.corrupt, "ELF header tables overflow", file: file)
        }
        return .needs(Int(needed))
      }
      var count = 0
      guard elf_getphdrnum(elf, &count) == 0 else {
        throw DumpError(.corrupt, "program headers: \(Self.libelfMessage())", file: file)
      }
      if let end = header.e_phoff +? (UInt64(count) *? UInt64(header.e_phentsize)),
        end > UInt64(raw.count)
      {
        return .needs(Int(min(end, UInt64(Int.max))))
      }
      var programs: [ProgramHeader] = []
      programs.reserveCapacity(count)
      for index in 0..<count {
        var program = GElf_Phdr()
        guard gelf_getphdr(elf, Int32(index), &program) != nil else {
          throw DumpError(
            .corrupt, "program header \(index): \(Self.libelfMessage())", file: file)
        }
        programs.append(
          ProgramHeader(
            type: program.p_type, flags: program.p_flags, offset: program.p_offset,
            virtualAddress: program.p_vaddr, physicalAddress: program.p_paddr,
            fileSize: program.p_filesz, memorySize: program.p_memsz))
      }
      // The section name table must be in the buffer too (xc_core files).
      var nameIndex = 0
      if elf_getshdrstrndx(elf, &nameIndex) == 0, nameIndex > 0,
        let table = elf_getscn(elf, nameIndex)
      {
        var tableHeader = GElf_Shdr()
        if gelf_getshdr(table, &tableHeader) != nil,
          let end = tableHeader.sh_offset +? tableHeader.sh_size, end > UInt64(raw.count)
        {
          guard end <= UInt64(Self.maximumHeaderBytes) else {
            throw DumpError(.corrupt, "ELF section name table ends at \(end)", file: file)
          }
          return .needs(Int(end))
        }
      }
      let sections = try Self.sections(elf, available: raw.count, file: file)
      return .parsed(
        ELFHeaders(
          is64Bit: is64, order: order, fileType: header.e_type,
          machine: header.e_machine, programHeaders: programs,
          sectionHeaders: sections))
    }
  }

  /// Section headers with their names, when the name table is in the buffer.
  static func sections(_ elf: OpaquePointer, available: Int, file: String)
    throws(DumpError) -> [SectionHeader]
  {
    var count = 0
    guard elf_getshdrnum(elf, &count) == 0, count > 0 else { return [] }
    var nameIndex = 0
    let haveNames = elf_getshdrstrndx(elf, &nameIndex) == 0
    var sections: [SectionHeader] = []
    var scn = elf_nextscn(elf, nil)
    while let section = scn, sections.count < count {
      var header = GElf_Shdr()
      guard gelf_getshdr(section, &header) != nil else { break }
      var name = ""
      if haveNames, let pointer = elf_strptr(elf, nameIndex, Int(header.sh_name)) {
        name = String(cString: pointer)
      }
      sections.append(
        SectionHeader(
          name: name, type: header.sh_type, offset: header.sh_offset,
          size: header.sh_size, entrySize: header.sh_entsize))
      scn = elf_nextscn(elf, section)
    }
    return sections
  }

  static func libelfMessage() -> String {
    guard let message = elf_errmsg(-1) else { return "unknown error" }
    return String(cString: message)
  }
}
