import CElf
import DumpFormats

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Which kernel build a vmlinux is: its GNU build-id note and the release in
/// its `linux_banner`, to refuse a vmlinux that does not match the dump
/// (a wrong vmlinux gives plausible-looking garbage, not errors).
public struct VmlinuxIdentity: Sendable, Equatable {
  /// The vmlinux's path.
  public var path: String
  /// The `NT_GNU_BUILD_ID` note, lowercase hex, when present.
  public var buildID: String?
  /// `linux_banner` ("Linux version 6.1.0-28-amd64 (…) …"), when the symbol
  /// table has it.
  public var banner: String?

  /// How a vmlinux was matched with a dump.
  public enum Evidence: Sendable, Equatable {
    /// The build-ids are equal.
    case buildID
    /// The dump has no `BUILD-ID` (before Linux 5.9) or the vmlinux no
    /// note, and the releases are equal (a weaker check: two builds of one
    /// release are not told apart).
    case release
    /// Neither could be compared.
    case unverified
  }

  /// The most bytes of `linux_banner` read.
  static let maximumBanner = 1024

  /// Reads the identity of the vmlinux at `path`.
  public init(path: String) throws(DumpError) {
    try self.init(file: ELFFileHandle(path: path))
  }

  init(file: ELFFileHandle) throws(DumpError) {
    path = file.path
    let sections = try file.sections()
    buildID = try Self.buildID(file, sections: sections)
    banner = try? Self.banner(file, sections: sections)
  }

  /// The release in the banner ("6.1.0-28-amd64").
  public var release: String? {
    guard let banner else { return nil }
    let prefix = "Linux version "
    guard banner.hasPrefix(prefix) else { return nil }
    let rest = banner.dropFirst(prefix.count)
    let release = rest.prefix { $0 != " " && $0 != "\n" }
    return release.isEmpty ? nil : String(release)
  }

  /// Checks the vmlinux against the dump's VMCOREINFO: the build-ids when
  /// both are known, else the releases. Throws `.missingInformation`,
  /// naming both values, when they differ.
  @discardableResult
  public func verify(against vmcoreinfo: VMCoreInfo) throws(DumpError) -> Evidence {
    if let dumpID = vmcoreinfo.buildID.map(Self.normalized), !dumpID.isEmpty, let buildID {
      // The kernel may print fewer bytes than the note holds.
      guard buildID.hasPrefix(dumpID) || dumpID.hasPrefix(buildID) else {
        var releases = ""
        if let release {
          releases = " (vmlinux release \(release), dump release \(vmcoreinfo.osRelease ?? "unknown"))"
        }
        throw DumpError(
          .missingInformation,
          "wrong vmlinux: its build-id is \(buildID) but the dump's kernel has BUILD-ID \(dumpID)"
            + releases,
          file: path)
      }
      return .buildID
    }
    if let dumpRelease = vmcoreinfo.osRelease, let release {
      guard dumpRelease == release else {
        throw DumpError(
          .missingInformation,
          "wrong vmlinux: it is release \(release) but the dump's kernel is \(dumpRelease)",
          file: path)
      }
      return .release
    }
    return .unverified
  }

  static func normalized(_ id: String) -> String {
    String(id.lowercased().filter { $0.isHexDigit })
  }

  /// The first `NT_GNU_BUILD_ID` note of any note section.
  static func buildID(_ file: ELFFileHandle, sections: [ELFFileHandle.Section]) throws(DumpError) -> String? {
    for section in sections where section.header.sh_type == UInt32(SHT_NOTE) {
      guard let data = elf_getdata(section.scn, nil) else { continue }
      var offset = 0
      for _ in 0..<ELFFileHandle.maximumNotes {
        var header = GElf_Nhdr()
        var nameOffset = 0
        var descriptorOffset = 0
        let next = gelf_getnote(data, offset, &header, &nameOffset, &descriptorOffset)
        guard next > offset else { break }
        offset = next
        guard header.n_type == UInt32(NT_GNU_BUILD_ID), header.n_namesz == 4,
          let base = data.pointee.d_buf,
          let descriptorEnd = descriptorOffset +? Int(header.n_descsz), descriptorEnd <= data.pointee.d_size,
          let nameEnd = nameOffset +? 4, nameEnd <= data.pointee.d_size
        else { continue }
        let bytes = UnsafeRawBufferPointer(start: base, count: data.pointee.d_size)
        guard Array(bytes[nameOffset..<nameEnd]) == Array("GNU\0".utf8) else { continue }
        let id = bytes[descriptorOffset..<descriptorEnd]
        return id.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
      }
    }
    return nil
  }

  /// `linux_banner`'s text, read from the file at the symbol's place in its
  /// section.
  static func banner(_ file: ELFFileHandle, sections: [ELFFileHandle.Section]) throws(DumpError) -> String? {
    guard let table = sections.first(where: { $0.header.sh_type == UInt32(SHT_SYMTAB) }),
      let data = elf_getdata(table.scn, nil), table.header.sh_entsize > 0
    else { return nil }
    let total = min(table.header.sh_size / table.header.sh_entsize, UInt64(ELFSymbolTable.maximumSymbols))
    let strings = Int(table.header.sh_link)
    let wanted = "linux_banner"
    for index in 0..<Int32(total) {
      var symbol = GElf_Sym()
      guard gelf_getsym(data, index, &symbol) != nil else { break }
      guard symbol.st_name != 0, Int32(symbol.st_info & 0xf) == STT_OBJECT,
        let text = elf_strptr(file.elf, strings, Int(symbol.st_name)),
        wanted.withCString({ strcmp($0, text) == 0 })
      else { continue }
      guard let section = sections.first(where: { $0.index == Int(symbol.st_shndx) }),
        section.header.sh_type != UInt32(SHT_NOBITS),
        let inSection = symbol.st_value -? section.header.sh_addr,
        inSection < section.header.sh_size,
        let offset = section.header.sh_offset +? inSection
      else { return nil }
      let length = Int(
        min(symbol.st_size == 0 ? UInt64(maximumBanner) : symbol.st_size, UInt64(maximumBanner)))
      let bytes = try file.read(at: offset, count: length)
      return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }
    return nil
  }
}
