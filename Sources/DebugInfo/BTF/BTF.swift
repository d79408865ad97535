import DumpFormats

/// The BPF Type Format: the compact C type information the kernel carries
/// in its `.BTF` section (`__start_BTF`…`__stop_BTF`) when built with
/// `CONFIG_DEBUG_INFO_BTF` (include/uapi/linux/btf.h).
///
/// Layout: a header (magic 0xeB9F, version 1, header length, then the
/// offsets and lengths of the type and string sections, relative to the end
/// of the header), the types as a sequence of 12-byte `btf_type` records each
/// followed by kind-specific data, and a string table. Type ids count from 1
/// in order; 0 is `void`.
public final class BTF {
  public enum Kind: UInt32, Sendable {
    case integer = 1, pointer, array, structure, union, enumeration, forward, typedef
    case volatile, constant, restrict, function, functionPrototype, variable, dataSection
    case float, declarationTag, typeTag, enumeration64
  }

  /// One type record: where it lies and its decoded header.
  public struct TypeRecord: Sendable {
    public var kind: Kind?
    public var nameOffset: UInt32
    public var vlen: Int
    public var kindFlag: Bool
    /// `size` for sized kinds, the referenced type id for the others.
    public var sizeOrType: UInt32
    /// The offset of the kind-specific data in the type section.
    public var dataOffset: Int
  }

  public static let magic: UInt16 = 0xeb9f
  public let order: ByteOrder
  let typeBytes: [UInt8]
  let stringBytes: [UInt8]
  /// Records by type id (index 0 is a placeholder for `void`).
  public private(set) var records: [TypeRecord] = []
  /// A bound on types, so corrupt data cannot exhaust memory.
  public static let maximumTypes = 1 << 21

  /// Parses a whole BTF blob.
  ///
  /// - Throws: `.corrupt` for a bad magic, version or section bounds, or a
  ///   type record that runs past its section.
  public init(parsing bytes: [UInt8]) throws(DumpError) {
    guard bytes.count >= 24 else {
      throw DumpError(.truncated, "BTF of \(bytes.count) bytes has no header")
    }
    if bytes.load(UInt16.self, at: 0, .little) == Self.magic {
      order = .little
    } else if bytes.load(UInt16.self, at: 0, .big) == Self.magic {
      order = .big
    } else {
      throw DumpError(.corrupt, "no BTF magic 0xeB9F")
    }
    var cursor = ByteCursor(bytes, order: order, structure: "BTF header")
    try cursor.skip(2, "magic")
    let version = try cursor.read(UInt8.self, "version")
    guard version == 1 else { throw DumpError(.unsupported, "BTF version \(version)") }
    try cursor.skip(1, "flags")
    let headerLength = try cursor.read(UInt32.self, "hdr_len")
    let typeOffset = try cursor.read(UInt32.self, "type_off")
    let typeLength = try cursor.read(UInt32.self, "type_len")
    let stringOffset = try cursor.read(UInt32.self, "str_off")
    let stringLength = try cursor.read(UInt32.self, "str_len")
    func section(_ offset: UInt32, _ length: UInt32, _ name: String) throws(DumpError) -> [UInt8] {
      guard let start = UInt64(headerLength) +? UInt64(offset),
        let end = start +? UInt64(length), end <= UInt64(bytes.count)
      else {
        throw DumpError(.corrupt, "BTF \(name) section runs past the blob (\(bytes.count) bytes)")
      }
      return Array(bytes[Int(start)..<Int(end)])
    }
    typeBytes = try section(typeOffset, typeLength, "type")
    stringBytes = try section(stringOffset, stringLength, "string")
    try indexTypes()
  }

  private func indexTypes() throws(DumpError) {
    var records = [
      TypeRecord(kind: nil, nameOffset: 0, vlen: 0, kindFlag: false, sizeOrType: 0, dataOffset: 0)
    ]
    records.reserveCapacity(typeBytes.count / 16)
    let order = self.order
    defer { self.records = records }
    // One pass over the raw bytes (this runs for every command that needs
    // types: ~100,000 records in a distribution kernel).
    let failure: DumpError? = typeBytes.withUnsafeBytes { raw -> DumpError? in
      var position = 0
      while position + 12 <= raw.count {
        guard records.count < Self.maximumTypes else {
          return DumpError(.corrupt, "more than \(Self.maximumTypes) BTF types")
        }
        let nameOffset = order.load(UInt32.self, from: raw, at: position)
        let info = order.load(UInt32.self, from: raw, at: position + 4)
        let sizeOrType = order.load(UInt32.self, from: raw, at: position + 8)
        let kind = Kind(rawValue: (info >> 24) & 0x1f)
        let vlen = Int(info & 0xffff)
        let dataOffset = position + 12
        let extra: Int
        switch kind {
        case .integer, .variable, .declarationTag: extra = 4
        case .array: extra = 12
        case .structure, .union, .dataSection, .enumeration64: extra = 12 * vlen
        case .enumeration, .functionPrototype: extra = 8 * vlen
        case .pointer, .forward, .typedef, .volatile, .constant, .restrict, .function, .float,
          .typeTag:
          extra = 0
        case nil:
          return DumpError(.corrupt, "BTF type \(records.count) has unknown kind \((info >> 24) & 0x1f)")
        }
        guard dataOffset + extra <= raw.count else {
          return DumpError(.corrupt, "BTF type \(records.count) runs past the type section")
        }
        records.append(
          TypeRecord(
            kind: kind, nameOffset: nameOffset, vlen: vlen, kindFlag: info & 0x8000_0000 != 0,
            sizeOrType: sizeOrType, dataOffset: dataOffset))
        position = dataOffset + extra
      }
      return nil
    }
    if let failure { throw failure }
  }

  /// The string at `offset` in the string section ("" when out of range).
  public func string(at offset: UInt32) -> String {
    let start = Int(offset)
    guard start < stringBytes.count else { return "" }
    var end = start
    while end < stringBytes.count, stringBytes[end] != 0 { end += 1 }
    return String(decoding: stringBytes[start..<end], as: UTF8.self)
  }

  /// Whether the name at `offset` equals `name`, without building a String.
  func nameEquals(_ offset: UInt32, _ name: [UInt8]) -> Bool {
    let start = Int(offset)
    guard start + name.count < stringBytes.count else { return false }
    for (index, byte) in name.enumerated() where stringBytes[start + index] != byte { return false }
    return stringBytes[start + name.count] == 0
  }

  /// FNV-1a of the name at `offset` in the string section.
  func nameHash(at offset: UInt32) -> UInt64 {
    let start = Int(offset)
    guard start < stringBytes.count else { return Self.hash([][...]) }
    var end = start
    while end < stringBytes.count, stringBytes[end] != 0 { end += 1 }
    return Self.hash(stringBytes[start..<end])
  }

  static func hash(_ bytes: ArraySlice<UInt8>) -> UInt64 {
    var value: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes {
      value = (value ^ UInt64(byte)) &* 0x100_0000_01b3
    }
    return value
  }

  public func record(_ id: UInt32) -> TypeRecord? {
    let index = Int(id)
    guard index > 0, index < records.count else { return nil }
    return records[index]
  }

  func word(_ offset: Int) -> UInt32 { typeBytes.load(UInt32.self, at: offset, order) ?? 0 }
}
