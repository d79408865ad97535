import DumpFormats

/// Type layouts from the kernel's own BTF, found in the dump itself.
public final class BTFTypes: TypeSource {
  public let btf: BTF
  public let pointerSize: Int
  public var sourceName: String { "BTF" }
  /// Named types by a hash of their name's bytes (no Strings are made:
  /// the kernel's BTF names some 30,000 types and most are never asked for).
  private var namedTypes: [UInt64: [UInt32]]?
  private var enumerators: [String: Int64]?
  private var memberCache: [String: MemberLayout?] = [:]

  public init(_ btf: BTF, pointerSize: Int = 8) {
    self.btf = btf
    self.pointerSize = pointerSize
  }

  /// Builds the name index of structs, unions, enums, typedefs and base
  /// types on first use.
  private func types(named name: String) -> [UInt32] {
    if namedTypes == nil {
      var index: [UInt64: [UInt32]] = [:]
      index.reserveCapacity(1 << 15)
      for id in 1..<btf.records.count {
        let record = btf.records[id]
        switch record.kind {
        case .structure, .union, .enumeration, .enumeration64, .typedef, .integer, .float:
          if record.nameOffset != 0 {
            index[btf.nameHash(at: record.nameOffset), default: []].append(UInt32(id))
          }
        default: break
        }
      }
      namedTypes = index
    }
    let wanted = Array(name.utf8)
    let candidates = namedTypes?[BTF.hash(wanted[...])] ?? []
    return candidates.filter { id in btf.record(id).map { btf.nameEquals($0.nameOffset, wanted) } ?? false }
  }

  /// The id of a complete struct/union (preferred) or other named type.
  func typeID(named name: String) -> UInt32? {
    let candidates = types(named: name)
    return candidates.first {
      let kind = btf.record($0)?.kind
      return kind == .structure || kind == .union
    } ?? candidates.first
  }

  /// Follows typedefs and qualifiers to the underlying type.
  func resolve(_ id: UInt32) -> UInt32 {
    var current = id
    for _ in 0..<64 {
      guard let record = btf.record(current) else { return current }
      switch record.kind {
      case .typedef, .volatile, .constant, .restrict, .typeTag, .declarationTag:
        current = record.sizeOrType
      default:
        return current
      }
    }
    return current
  }

  /// The size of type `id` in bytes.
  func size(ofID id: UInt32, depth: Int = 0) -> Int? {
    guard depth < 32 else { return nil }
    let resolved = resolve(id)
    guard let record = btf.record(resolved) else { return nil }
    switch record.kind {
    case .integer, .structure, .union, .enumeration, .enumeration64, .float, .dataSection:
      return Int(record.sizeOrType)
    case .pointer:
      return pointerSize
    case .array:
      let element = btf.word(record.dataOffset)
      let count = Int(btf.word(record.dataOffset + 8))
      guard let elementSize = size(ofID: element, depth: depth + 1) else { return nil }
      return elementSize *? count
    default:
      return nil
    }
  }

  func describe(_ id: UInt32) -> String {
    let resolved = resolve(id)
    guard let record = btf.record(resolved) else { return "void" }
    let name = btf.string(at: record.nameOffset)
    switch record.kind {
    case .structure: return "struct " + name
    case .union: return "union " + name
    case .enumeration, .enumeration64: return "enum " + name
    case .pointer: return "pointer"
    case .array: return "array"
    case .functionPrototype: return "function"
    default: return name
    }
  }

  public func size(of typeName: String) -> Int? {
    guard let id = typeID(named: typeName) else { return nil }
    return size(ofID: id)
  }

  public func member(_ path: String, in typeName: String) -> MemberLayout? {
    let key = typeName + "." + path
    if let cached = memberCache[key] { return cached }
    var result: MemberLayout?
    if let id = typeID(named: typeName) {
      result = member(path: path.split(separator: ".").map(String.init), inID: id)
    }
    memberCache[key] = result
    return result
  }

  func member(path: [String], inID id: UInt32) -> MemberLayout? {
    var typeID = id
    var offsetBits = 0
    var found: (type: UInt32, bitSize: Int?)?
    for component in path {
      guard let hit = findMember(component, in: typeID, depth: 0) else { return nil }
      offsetBits += hit.bitOffset
      typeID = hit.type
      found = (hit.type, hit.bitSize)
    }
    guard let (memberType, bitSize) = found else { return nil }
    let resolved = resolve(memberType)
    let record = btf.record(resolved)
    let memberSize = self.size(ofID: memberType) ?? 0
    var layout = MemberLayout(
      byteOffset: offsetBits / 8, size: memberSize, typeName: describe(memberType),
      isPointer: record?.kind == .pointer)
    if let bitSize, bitSize > 0 {
      layout.bitOffset = offsetBits % 8
      layout.bitSize = bitSize
    }
    if let record, record.kind == .array {
      layout.arrayCount = Int(btf.word(record.dataOffset + 8))
      layout.elementSize = self.size(ofID: btf.word(record.dataOffset))
    }
    return layout
  }

  /// Finds a member by name in a struct or union, looking through anonymous
  /// members; returns its bit offset from the start of `id`.
  func findMember(_ name: String, in id: UInt32, depth: Int) -> (type: UInt32, bitOffset: Int, bitSize: Int?)? {
    guard depth < 16, let record = btf.record(resolve(id)),
      record.kind == .structure || record.kind == .union
    else { return nil }
    let wanted = Array(name.utf8)
    var anonymous: [(UInt32, Int)] = []
    for index in 0..<record.vlen {
      let base = record.dataOffset + 12 * index
      let nameOffset = btf.word(base)
      let type = btf.word(base + 4)
      let rawOffset = btf.word(base + 8)
      let bitOffset = record.kindFlag ? Int(rawOffset & 0xff_ffff) : Int(rawOffset)
      let bitSize = record.kindFlag ? Int(rawOffset >> 24) : nil
      if nameOffset == 0 {
        anonymous.append((type, bitOffset))
      } else if btf.nameEquals(nameOffset, wanted) {
        return (type, bitOffset, bitSize == 0 ? nil : bitSize)
      }
    }
    for (type, bitOffset) in anonymous {
      if let hit = findMember(name, in: type, depth: depth + 1) {
        return (hit.type, bitOffset + hit.bitOffset, hit.bitSize)
      }
    }
    return nil
  }

  public func enumerator(_ name: String) -> Int64? {
    if enumerators == nil {
      var values: [String: Int64] = [:]
      for id in 1..<btf.records.count {
        let record = btf.records[id]
        if record.kind == .enumeration {
          for index in 0..<record.vlen {
            let base = record.dataOffset + 8 * index
            let value = Int64(Int32(bitPattern: btf.word(base + 4)))
            values[btf.string(at: btf.word(base))] = value
          }
        } else if record.kind == .enumeration64 {
          for index in 0..<record.vlen {
            let base = record.dataOffset + 12 * index
            let value = UInt64(btf.word(base + 4)) | UInt64(btf.word(base + 8)) << 32
            values[btf.string(at: btf.word(base))] = Int64(bitPattern: value)
          }
        }
      }
      enumerators = values
    }
    return enumerators?[name]
  }
}
