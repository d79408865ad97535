import DebugInfo
import DumpFormats

/// Looks up the VMCOREINFO keys that describe the kernel log's structures,
/// checking each value against the structure it belongs to, so that a
/// garbled note gives a clear error instead of a wild read.
struct PrintkLayoutKeys {
  /// The largest structure size believed (the log's structures are < 200 bytes).
  static let structureLimit: Int64 = 4096

  let info: VMCoreInfo

  /// `SYMBOL(name)`.
  func symbol(_ name: String) throws(DumpError) -> UInt64 {
    guard let value = info.symbols[name] else {
      throw DumpError(.missingInformation, "VMCOREINFO has no SYMBOL(\(name))")
    }
    return value
  }

  /// `SIZE(type)`, between 1 and `structureLimit`.
  func size(_ type: String) throws(DumpError) -> Int {
    guard let value = info.sizes[type] else {
      throw DumpError(.missingInformation, "VMCOREINFO has no SIZE(\(type))")
    }
    guard value > 0, value <= Self.structureLimit else {
      throw DumpError(.corrupt, "VMCOREINFO's SIZE(\(type))=\(value) is not a plausible size")
    }
    return Int(value)
  }

  /// `OFFSET(member)` of a field `width` bytes wide inside a structure of
  /// `size` bytes.
  func offset(_ member: String, width: Int, within size: Int) throws(DumpError) -> Int {
    guard let value = optionalOffset(member) else {
      throw DumpError(.missingInformation, "VMCOREINFO has no OFFSET(\(member))")
    }
    guard value >= 0, value <= size - width else {
      throw DumpError(
        .corrupt,
        "VMCOREINFO's OFFSET(\(member))=\(value) does not fit a \(width)-byte field in \(size) bytes"
      )
    }
    return value
  }

  /// `OFFSET(member)` when present and plausible.
  func optionalOffset(_ member: String) -> Int? {
    guard let value = info.offsets[member], value >= 0, value < Self.structureLimit else {
      return nil
    }
    return Int(value)
  }

  /// `LENGTH(name)` when present and plausible.
  func optionalLength(_ name: String) -> Int? {
    guard let value = info.lengths[name], value > 0, value < Self.structureLimit else {
      return nil
    }
    return Int(value)
  }
}
