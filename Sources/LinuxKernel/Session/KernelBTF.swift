import AddressTranslation
import DebugInfo
import DumpFormats

/// Finds and reads the kernel's own BTF in a dump.
enum KernelBTF {
  /// A bound on the BTF blob's size.
  static let maximumSize: UInt64 = 64 << 20

  /// Reads BTF between `__start_BTF` and `__stop_BTF` when the symbols are
  /// known, else searches the kernel image for the BTF header.
  static func load(memory: VirtualMemory, symbols: SymbolSource, imageStart: UInt64?)
    throws(DumpError) -> BTF
  {
    if let start = symbols.address(of: "__start_BTF"), let stop = symbols.address(of: "__stop_BTF"),
      stop > start, stop - start <= maximumSize
    {
      let bytes = try memory.read(virtual: start, count: Int(stop - start))
      return try BTF(parsing: bytes)
    }
    guard let imageStart else {
      throw DumpError(.missingInformation, "no __start_BTF symbol and no kernel image start")
    }
    return try search(memory: memory, from: imageStart)
  }

  /// Scans up to 64 MiB of the kernel image, a page at a time, for a BTF
  /// header (magic, version 1, a 24-byte header, types first, strings next).
  static func search(memory: VirtualMemory, from start: UInt64) throws(DumpError) -> BTF {
    let page: UInt64 = 4096
    var address = start & ~(page - 1)
    let end = start &+ maximumSize
    while address < end {
      guard let bytes = try? memory.read(virtual: address, count: Int(page)) else {
        address += page
        continue
      }
      var offset = 0
      while offset + 24 <= bytes.count {
        if bytes[offset] == 0x9f, bytes[offset + 1] == 0xeb, bytes[offset + 2] == 1,
          bytes.load(UInt32.self, at: offset + 4, .little) == 24,
          bytes.load(UInt32.self, at: offset + 8, .little) == 0,
          let typeLength = bytes.load(UInt32.self, at: offset + 12, .little),
          bytes.load(UInt32.self, at: offset + 16, .little) == typeLength,
          let stringLength = bytes.load(UInt32.self, at: offset + 20, .little),
          UInt64(typeLength) + UInt64(stringLength) + 24 <= maximumSize, typeLength > 0
        {
          let total = 24 + Int(typeLength) + Int(stringLength)
          let blob = try memory.read(virtual: address + UInt64(offset), count: total)
          if let btf = try? BTF(parsing: blob) { return btf }
        }
        offset += 4
      }
      address += page
    }
    throw DumpError(.missingInformation, "no BTF found in the kernel image")
  }
}
