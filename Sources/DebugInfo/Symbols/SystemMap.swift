import DumpFormats

/// Symbols from a System.map (`nm -n vmlinux`: `address type name` per line)
/// or a copy of /proc/kallsyms (`address type name [module]`), moved by the
/// KASLR delta: the run-time `_stext` minus the map's, or the kernel offset.
///
/// Kernel-half addresses are moved, except absolute symbols (`A`/`a`) and
/// module symbols (a /proc/kallsyms copy already holds run-time addresses);
/// per-CPU offsets (small values) stay as they are.
public final class SystemMapSymbols: SymbolSource {
  /// The file read.
  public let path: String
  /// What was added to the map's kernel addresses (wrapping).
  public let relocation: UInt64
  /// The map's own `_stext` (or `_text`), when it has one.
  public let linkTimeText: UInt64?
  /// Lines that could not be parsed (skipped).
  public let skippedLines: Int
  let table: KallsymsSymbolTable

  /// The largest map read (Debian's are about 10 MiB).
  public static let maximumFileSize: UInt64 = 512 << 20

  public var sourceName: String { "System.map" }

  /// Reads a System.map, opened read-only.
  ///
  /// - Parameters:
  ///   - runtimeText: the run-time `_stext` (VMCOREINFO or kallsyms), which
  ///     gives the relocation against the map's `_stext`.
  ///   - kernelOffset: the KASLR offset, used when `runtimeText` is not known
  ///     or the map has no `_stext`.
  /// - Throws: `DumpError` `.io` when the file cannot be read, `.corrupt`
  ///   when it holds no symbol.
  public convenience init(path: String, runtimeText: UInt64? = nil, kernelOffset: UInt64? = nil)
    throws(DumpError)
  {
    let file = try FileByteSource(path: path)
    guard file.size <= Self.maximumFileSize else {
      throw DumpError(
        .unsupported, "System.map is \(file.size) bytes (more than \(Self.maximumFileSize))",
        file: path)
    }
    var bytes = [UInt8](repeating: 0, count: Int(file.size))
    var failure: DumpError?
    bytes.withUnsafeMutableBytes { buffer in
      do throws(DumpError) { try file.read(at: 0, into: buffer) } catch { failure = error }
    }
    if let failure { throw failure }
    try self.init(bytes: bytes, path: path, runtimeText: runtimeText, kernelOffset: kernelOffset)
  }

  /// Parses System.map text.
  public init(
    bytes: [UInt8], path: String = "<memory>", runtimeText: UInt64? = nil,
    kernelOffset: UInt64? = nil
  )
    throws(DumpError)
  {
    var addresses: [UInt64] = []
    var types: [UInt8] = []
    var nameBytes: [UInt8] = []
    var nameStarts: [UInt32] = [0]
    var modules: [String] = []
    var moduleIndices: [UInt16] = []
    var moduleLookup: [String: UInt16] = [:]
    var skipped = 0
    let estimate = bytes.count / 40
    addresses.reserveCapacity(estimate)
    types.reserveCapacity(estimate)
    nameStarts.reserveCapacity(estimate + 1)
    nameBytes.reserveCapacity(bytes.count / 2)

    let space: UInt8 = 0x20
    let tab: UInt8 = 0x09
    let newline: UInt8 = 0x0a
    let carriageReturn: UInt8 = 0x0d
    var tooMany = false
    var mapStext: UInt64?
    var mapTextAlone: UInt64?
    bytes.withUnsafeBufferPointer { text in
      var lineStart = 0
      var lastModule: Range<Int>?
      var lastModuleIndex: UInt16 = 0
      // One pass over the text; each line ends at a newline or the end.
      while lineStart < text.count {
        var lineEnd = lineStart
        while lineEnd < text.count, text[lineEnd] != newline { lineEnd += 1 }
        defer { lineStart = lineEnd + 1 }
        var end = lineEnd
        if end > lineStart, text[end - 1] == carriageReturn { end -= 1 }
        // Up to five fields separated by spaces or tabs (five: too many).
        var fields = (0..<0, 0..<0, 0..<0, 0..<0)
        var fieldCount = 0
        var cursor = lineStart
        while cursor < end, fieldCount < 5 {
          while cursor < end, text[cursor] == space || text[cursor] == tab { cursor += 1 }
          guard cursor < end else { break }
          let fieldStart = cursor
          while cursor < end, text[cursor] != space, text[cursor] != tab { cursor += 1 }
          switch fieldCount {
          case 0: fields.0 = fieldStart..<cursor
          case 1: fields.1 = fieldStart..<cursor
          case 2: fields.2 = fieldStart..<cursor
          case 3: fields.3 = fieldStart..<cursor
          default: break
          }
          fieldCount += 1
        }
        if fieldCount == 0 { continue }
        guard fieldCount == 3 || fieldCount == 4,
          let address = Self.hexadecimal(text, fields.0),
          fields.1.count == 1,
          Self.isTypeLetter(text[fields.1.lowerBound])
        else {
          skipped += 1
          continue
        }
        let type = text[fields.1.lowerBound]
        // Undefined symbols have no address.
        if type == 0x55 || type == 0x75 { continue }
        var moduleIndex: UInt16 = 0
        if fieldCount == 4 {
          let field = fields.3
          guard field.count >= 3, text[field.lowerBound] == 0x5b,
            text[field.upperBound - 1] == 0x5d
          else {
            skipped += 1
            continue
          }
          let inner = (field.lowerBound + 1)..<(field.upperBound - 1)
          // /proc/kallsyms lists each module's symbols together.
          if let lastModule, lastModule.count == inner.count,
            text[lastModule].elementsEqual(text[inner])
          {
            moduleIndex = lastModuleIndex
          } else {
            let name = String(
              decoding: UnsafeBufferPointer(rebasing: text[inner]), as: UTF8.self)
            if let known = moduleLookup[name] {
              moduleIndex = known
            } else if modules.count < Int(UInt16.max) - 1 {
              modules.append(name)
              moduleIndex = UInt16(modules.count)
              moduleLookup[name] = moduleIndex
            }
            lastModule = inner
            lastModuleIndex = moduleIndex
          }
        }
        let name = fields.2
        guard addresses.count < KallsymsSymbolTable.maximumCount,
          nameBytes.count + name.count <= Int(UInt32.max)
        else {
          tooMany = true
          return
        }
        // The map's own text start, before relocation.
        if moduleIndex == 0, name.count == 6 || name.count == 5 {
          let bytes = text[name]
          if bytes.elementsEqual("_stext".utf8) {
            mapStext = address
          } else if mapTextAlone == nil, bytes.elementsEqual("_text".utf8) {
            mapTextAlone = address
          }
        }
        addresses.append(address)
        types.append(type)
        nameBytes.append(contentsOf: UnsafeBufferPointer(rebasing: text[name]))
        nameStarts.append(UInt32(nameBytes.count))
        moduleIndices.append(moduleIndex)
      }
    }
    if tooMany {
      throw DumpError(.unsupported, "System.map has too many symbols", file: path)
    }
    guard !addresses.isEmpty else {
      throw DumpError(
        .corrupt, "System.map holds no symbol (\(skipped) lines not understood)", file: path)
    }

    let mapText = mapStext ?? mapTextAlone
    let delta: UInt64
    if let runtimeText, let mapText {
      delta = runtimeText &- mapText
    } else {
      delta = kernelOffset ?? 0
    }
    if delta != 0 {
      for index in addresses.indices
      where addresses[index] >> 63 == 1 && moduleIndices[index] == 0
        && types[index] != 0x41 && types[index] != 0x61
      {
        addresses[index] = addresses[index] &+ delta
      }
    }
    let hasModules = !modules.isEmpty
    guard
      let table = KallsymsSymbolTable(
        addresses: addresses, types: types, nameBytes: nameBytes, nameStarts: nameStarts,
        modules: modules, moduleIndices: hasModules ? moduleIndices : [])
    else {
      throw DumpError(.corrupt, "System.map's symbols are inconsistent", file: path)
    }
    self.path = path
    self.table = table
    relocation = delta
    linkTimeText = mapText
    skippedLines = skipped
  }

  /// A hexadecimal address of 1 to 16 digits.
  private static func hexadecimal(_ text: UnsafeBufferPointer<UInt8>, _ range: Range<Int>)
    -> UInt64?
  {
    guard !range.isEmpty, range.count <= 16 else { return nil }
    var value: UInt64 = 0
    for position in range {
      let byte = text[position]
      let digit: UInt8
      switch byte {
      case 0x30...0x39: digit = byte - 0x30
      case 0x61...0x66: digit = byte - 0x61 + 10
      case 0x41...0x46: digit = byte - 0x41 + 10
      default: return nil
      }
      value = value << 4 | UInt64(digit)
    }
    return value
  }

  /// Whether a byte is an `nm` type letter.
  private static func isTypeLetter(_ byte: UInt8) -> Bool {
    (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || byte == 0x3f
  }

  // MARK: Lookups

  /// How many symbols the map has.
  public var count: Int { table.count }

  /// Every symbol, sorted by (relocated) address.
  public var all: [Symbol] { (0..<table.count).map { table.symbol(at: $0) } }

  /// The (relocated) address of a symbol by name.
  public func address(of name: String) -> UInt64? {
    table.index(of: name).map { table.addresses[$0] }
  }

  /// The symbol named `name`, or nil.
  public func symbol(named name: String) -> Symbol? {
    table.index(of: name).map { table.symbol(at: $0) }
  }

  /// The symbol containing `address`, as `KallsymsSymbols` finds it.
  public func symbol(containing address: UInt64) -> Symbol? {
    table.index(containing: address).map { table.symbol(at: $0) }
  }
}
