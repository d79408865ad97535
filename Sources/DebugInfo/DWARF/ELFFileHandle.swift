import CElf
import DumpFormats

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// An ELF file (a vmlinux) opened read-only and mapped by libelf with
/// `ELF_C_READ_MMAP`: nothing is read until a section is touched, so opening
/// a 600 MB debuginfo file costs a few system calls.
///
/// The handle owns the file descriptor and the `Elf` descriptor and releases
/// both when it goes away; DWARF and symbol readers keep it alive.
final class ELFFileHandle {
  /// The file's path, for messages.
  let path: String
  /// libelf's descriptor of the file.
  let elf: OpaquePointer
  private let descriptor: Int32

  /// The most sections and symbols a loop will visit.
  static let maximumSections = 1 << 16
  static let maximumNotes = 1 << 12

  /// Opens `path` read-only.
  init(path: String) throws(DumpError) {
    self.path = path
    _ = elf_version(UInt32(EV_CURRENT))
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else {
      throw DumpError(.io, "cannot open: \(String(cString: strerror(errno)))", file: path)
    }
    guard let elf = elf_begin(descriptor, ELF_C_READ_MMAP, nil) else {
      let message = Self.libelfMessage()
      close(descriptor)
      throw DumpError(.io, "libelf cannot read the file: \(message)", file: path)
    }
    guard elf_kind(elf) == ELF_K_ELF else {
      elf_end(elf)
      close(descriptor)
      throw DumpError(.corrupt, "not an ELF file", file: path)
    }
    self.elf = elf
    self.descriptor = descriptor
  }

  deinit {
    elf_end(elf)
    close(descriptor)
  }

  /// libelf's message for its last error.
  static func libelfMessage() -> String {
    guard let text = elf_errmsg(-1) else { return "unknown libelf error" }
    return String(cString: text)
  }

  /// A section: its index, header and name.
  struct Section {
    var index: Int
    var header: GElf_Shdr
    var name: String
    var scn: OpaquePointer
  }

  /// Every section, in file order.
  func sections() throws(DumpError) -> [Section] {
    var count = 0
    guard elf_getshdrnum(elf, &count) == 0 else {
      throw DumpError(.corrupt, "section count: \(Self.libelfMessage())", file: path)
    }
    guard count <= Self.maximumSections else {
      throw DumpError(.corrupt, "the file claims \(count) sections", file: path)
    }
    var namesIndex = 0
    let hasNames = elf_getshdrstrndx(elf, &namesIndex) == 0
    var result: [Section] = []
    var scn: OpaquePointer? = nil
    for _ in 0..<count {
      guard let next = elf_nextscn(elf, scn) else { break }
      scn = next
      var header = GElf_Shdr()
      guard gelf_getshdr(next, &header) != nil else {
        throw DumpError(.corrupt, "section header: \(Self.libelfMessage())", file: path)
      }
      var name = ""
      if hasNames, let text = elf_strptr(elf, namesIndex, Int(header.sh_name)) {
        name = String(cString: text)
      }
      result.append(Section(index: elf_ndxscn(next), header: header, name: name, scn: next))
    }
    return result
  }

  /// Reads up to `count` bytes at file offset `offset` (fewer at the end of
  /// the file).
  func read(at offset: UInt64, count: Int) throws(DumpError) -> [UInt8] {
    guard count > 0 else { return [] }
    guard let start = off_t(exactly: offset) else {
      throw DumpError(.corrupt, "file offset 0x\(String(offset, radix: 16)) is out of range", file: path)
    }
    var bytes = [UInt8](repeating: 0, count: count)
    let got = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, count, start) }
    guard got >= 0 else {
      throw DumpError(.io, "read failed: \(String(cString: strerror(errno)))", file: path, offset: offset)
    }
    return Array(bytes.prefix(got))
  }
}
