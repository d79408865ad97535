import DebugInfo
import DumpFormats

/// How a kernel encodes `struct orc_entry`, read from its BTF: the entry
/// size, the two 16-bit offsets and the bit-fields.
///
/// Two encodings exist. Up to 6.3 the entry has an `end` bit and a 2-bit
/// `type` (CALL 0, REGS 1, REGS_PARTIAL 2); an undefined `sp_reg` means the
/// end of the stack when `end` is set and no information otherwise. From
/// 6.4 `end` is gone and a 3-bit `type` says it all (UNDEFINED 0,
/// END_OF_STACK 1, CALL 2, REGS 3, REGS_PARTIAL 4). 6.3 added a `signal`
/// bit; before it, only `pt_regs` frames are signal frames. The type
/// numbers are preprocessor constants that BTF does not carry, so the
/// numbering is chosen by the presence of the `end` member.
public struct OrcFormat: Sendable, Equatable {
  /// A bit-field inside the entry, little-endian as x86 stores it.
  public struct BitField: Sendable, Equatable {
    public var byteOffset: Int
    public var bitOffset: Int
    public var width: Int

    public init(byteOffset: Int, bitOffset: Int, width: Int) {
      self.byteOffset = byteOffset
      self.bitOffset = bitOffset
      self.width = width
    }

    /// The field's value in `bytes` (an entry's bytes starting at `base`),
    /// or nil when the field does not fit.
    func value(in bytes: [UInt8], at base: Int) -> UInt64? {
      guard width > 0, width <= 32, (0..<32).contains(bitOffset), (0..<4096).contains(byteOffset),
        base >= 0, base < bytes.count
      else { return nil }
      let byteCount = (bitOffset + width + 7) / 8
      let start = base + byteOffset
      guard start + byteCount <= bytes.count else { return nil }
      var raw: UInt64 = 0
      for index in 0..<byteCount { raw |= UInt64(bytes[start + index]) << (8 * index) }
      return (raw >> UInt64(bitOffset)) & ((1 << UInt64(width)) - 1)
    }
  }

  /// `sizeof(struct orc_entry)` (6 on every kernel so far).
  public var entrySize: Int
  public var spOffset: Int
  public var bpOffset: Int
  public var spRegister: BitField
  public var bpRegister: BitField
  public var type: BitField
  /// The `signal` bit (6.3+).
  public var signal: BitField?
  /// The `end` bit (before 6.4); its presence selects the older numbering.
  public var end: BitField?
  /// Whether `ORC_REG_SP_INDIRECT` means "load the word at sp, then add the
  /// offset" (5.12+, for the IRQ stack switch) rather than "load the word at
  /// sp + offset" (earlier kernels; the two agree for offset 0, the only
  /// value those kernels used).
  public var spIndirectAddsAfterLoad: Bool

  public init(
    entrySize: Int, spOffset: Int, bpOffset: Int, spRegister: BitField, bpRegister: BitField,
    type: BitField, signal: BitField?, end: BitField?, spIndirectAddsAfterLoad: Bool = true
  ) {
    self.entrySize = entrySize
    self.spOffset = spOffset
    self.bpOffset = bpOffset
    self.spRegister = spRegister
    self.bpRegister = bpRegister
    self.type = type
    self.signal = signal
    self.end = end
    self.spIndirectAddsAfterLoad = spIndirectAddsAfterLoad
  }

  /// Reads the layout of `struct orc_entry` from the kernel's types.
  ///
  /// - Parameter release: the kernel release (`6.1.0-56-amd64`), used only
  ///   for the `SP_INDIRECT` meaning, which BTF cannot show.
  /// - Throws: `.missingInformation` when the types lack `orc_entry`.
  public init(types: TypeSource, release: String?) throws(DumpError) {
    func field(_ name: String) -> BitField? {
      guard let member = types.member(name, in: "orc_entry") else { return nil }
      if let bits = member.bitSize {
        return BitField(byteOffset: member.byteOffset, bitOffset: member.bitOffset ?? 0, width: bits)
      }
      return BitField(byteOffset: member.byteOffset, bitOffset: 0, width: min(member.size, 4) * 8)
    }
    guard let size = types.size(of: "orc_entry"), size > 0, size <= 64,
      let spOffset = types.member("sp_offset", in: "orc_entry")?.byteOffset,
      let bpOffset = types.member("bp_offset", in: "orc_entry")?.byteOffset,
      let spRegister = field("sp_reg"), let bpRegister = field("bp_reg"), let type = field("type")
    else {
      throw DumpError(
        .missingInformation, "no layout of struct orc_entry (\(types.sourceName)); is ORC built in?")
    }
    self.init(
      entrySize: size, spOffset: spOffset, bpOffset: bpOffset, spRegister: spRegister,
      bpRegister: bpRegister, type: type, signal: field("signal"), end: field("end"),
      spIndirectAddsAfterLoad: Self.isAtLeast(release, major: 5, minor: 12) ?? true)
  }

  /// Whether a release string names version major.minor or later; nil when
  /// it cannot be parsed.
  static func isAtLeast(_ release: String?, major: Int, minor: Int) -> Bool? {
    guard let release else { return nil }
    let numbers = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
    guard numbers.count == 2 else { return nil }
    return numbers[0] != major ? numbers[0] > major : numbers[1] >= minor
  }

  /// Decodes the entry whose bytes start at `base` in `bytes`, or nil when
  /// the bytes are too short.
  public func decode(_ bytes: [UInt8], at base: Int = 0) -> OrcEntry? {
    guard (1...64).contains(entrySize), (0...62).contains(spOffset), (0...62).contains(bpOffset),
      base >= 0, base < bytes.count, entrySize <= bytes.count - base, spOffset + 2 <= entrySize,
      bpOffset + 2 <= entrySize,
      let spRaw = spRegister.value(in: bytes, at: base),
      let bpRaw = bpRegister.value(in: bytes, at: base),
      let typeRaw = type.value(in: bytes, at: base)
    else { return nil }
    func int16(_ offset: Int) -> Int16 {
      Int16(bitPattern: UInt16(bytes[base + offset]) | UInt16(bytes[base + offset + 1]) << 8)
    }
    let kind: OrcEntry.Kind
    var signal: Bool
    if let end {
      // Up to 6.3.
      let isEnd = (end.value(in: bytes, at: base) ?? 0) != 0
      if spRaw == UInt64(OrcEntry.Register.undefined.rawValue) {
        kind = isEnd ? .endOfStack : .undefined
      } else {
        switch typeRaw {
        case 0: kind = .call
        case 1: kind = .registers
        case 2: kind = .partialRegisters
        default: kind = .unknown(UInt8(truncatingIfNeeded: typeRaw))
        }
      }
      signal = kind == .registers || kind == .partialRegisters
    } else {
      switch typeRaw {
      case 0: kind = .undefined
      case 1: kind = .endOfStack
      case 2: kind = .call
      case 3: kind = .registers
      case 4: kind = .partialRegisters
      default: kind = .unknown(UInt8(truncatingIfNeeded: typeRaw))
      }
      signal = kind == .registers || kind == .partialRegisters
    }
    if let field = self.signal, let bit = field.value(in: bytes, at: base) { signal = bit != 0 }
    return OrcEntry(
      spOffset: int16(spOffset), bpOffset: int16(bpOffset),
      spRegister: UInt8(truncatingIfNeeded: spRaw), bpRegister: UInt8(truncatingIfNeeded: bpRaw),
      kind: kind, signal: signal)
  }
}
