import CElf
import DumpFormats

/// C type layouts from the DWARF of a vmlinux (a Debian
/// `linux-image-*-dbg` file, `--vmlinux`), read with elfutils' libdw.
///
/// The file is opened read-only and mapped (`ELF_C_READ_MMAP`); nothing is
/// indexed up front. A name is looked for in the top-level entries of the
/// compilation units, in order, from where the last search stopped (see
/// `DWARFUnitWalk`), and every answer is cached.
///
/// Names are C type names without a keyword ("task_struct", "list_head",
/// "pid_t", "unsigned int"), looked for as a struct, then a union, a
/// typedef, a base type and an enum; "struct x", "union x" and "enum x"
/// choose one namespace.
///
/// Bit-fields are described little-endian, as BTF does: `byteOffset` is the
/// byte holding the field's first bit, `bitOffset` (0–7) counts from that
/// byte's least significant bit, and `size` is the declared type's size; the
/// field's bits are in the `(bitOffset + bitSize + 7) / 8` bytes from
/// `byteOffset`.
public final class DWARFTypes: TypeSource {
  /// The vmlinux's path.
  public let path: String
  private let file: ELFFileHandle
  private let dwarf: OpaquePointer
  private let walk: DWARFUnitWalk
  private var sizes: [String: Int?] = [:]
  private var members: [String: MemberLayout?] = [:]

  /// The deepest typedef chain, anonymous nesting or dotted path followed.
  static let maximumDepth = 32

  /// Opens a vmlinux with DWARF. Throws `.io` when the file cannot be read
  /// and `.missingInformation` when it has no DWARF (a stripped vmlinux).
  public convenience init(path: String) throws(DumpError) {
    try self.init(file: ELFFileHandle(path: path))
  }

  init(file: ELFFileHandle) throws(DumpError) {
    guard let dwarf = dwarf_begin_elf(file.elf, DWARF_C_READ, nil) else {
      throw DumpError(
        .missingInformation,
        "no DWARF debugging information (\(Self.libdwMessage())); a vmlinux from a -dbg package is needed",
        file: file.path)
    }
    self.path = file.path
    self.file = file
    self.dwarf = dwarf
    self.walk = DWARFUnitWalk(dwarf: dwarf, path: file.path)
  }

  deinit {
    dwarf_end(dwarf)
  }

  /// "DWARF".
  public var sourceName: String { "DWARF" }

  /// How many compilation units the searches have looked at so far.
  public var unitsVisited: Int { walk.unitsVisited }

  /// Why the search stopped before the last unit (corrupt DWARF), if it did.
  public var problem: DumpError? { walk.problem }

  /// The size in bytes of a struct, union, typedef, base type or enum.
  public func size(of typeName: String) -> Int? {
    if let cached = sizes[typeName] { return cached }
    let size = definition(of: typeName).flatMap { Self.size(of: complete($0)) }
    sizes[typeName] = size
    return size
  }

  /// A member by dotted path, through anonymous structs and unions.
  public func member(_ path: String, in typeName: String) -> MemberLayout? {
    let key = typeName + "\u{1}" + path
    if let cached = members[key] { return cached }
    let layout = resolve(path, in: typeName)
    members[key] = layout
    return layout
  }

  /// The value of an enumerator of any enum (named or anonymous).
  public func enumerator(_ name: String) -> Int64? {
    walk.enumerator(name)
  }

  /// libdw's message for its last error.
  static func libdwMessage() -> String {
    guard let text = dwarf_errmsg(-1) else { return "unknown libdw error" }
    return String(cString: text)
  }

  // MARK: - Finding definitions

  /// The definition of a type name, as described in the class comment.
  private func definition(of typeName: String) -> DWARFEntry? {
    let keywords: [(String, DWARFUnitWalk.Namespace)] = [
      ("struct ", .structure), ("union ", .union), ("enum ", .enumeration),
    ]
    var name = typeName
    var namespaces: [DWARFUnitWalk.Namespace] = [.structure, .union, .typedef, .base, .enumeration]
    for (keyword, namespace) in keywords where typeName.hasPrefix(keyword) {
      name = String(typeName.dropFirst(keyword.count))
      namespaces = [namespace]
    }
    guard !name.isEmpty, let offset = walk.definition(of: name, in: namespaces) else { return nil }
    return entry(at: offset)
  }

  private func entry(at offset: UInt64) -> DWARFEntry? {
    var die = Dwarf_Die()
    guard dwarf_offdie(dwarf, offset, &die) != nil else { return nil }
    return DWARFEntry(die: die)
  }

  /// A struct or union with typedefs and qualifiers removed; when that is a
  /// declaration only, its definition found by name.
  private func complete(_ entry: DWARFEntry) -> DWARFEntry {
    let peeled = entry.peeled
    guard peeled.isDeclaration, let name = peeled.name else { return peeled }
    let namespace: DWARFUnitWalk.Namespace
    switch Int(peeled.tag) {
    case DW_TAG_structure_type: namespace = .structure
    case DW_TAG_union_type: namespace = .union
    case DW_TAG_enumeration_type: namespace = .enumeration
    default: return peeled
    }
    guard let offset = walk.definition(of: name, in: [namespace]), let found = self.entry(at: offset)
    else { return peeled }
    return found
  }

  // MARK: - Members

  /// Where a member lies in its container.
  struct Position {
    var byteOffset: Int
    var bitOffset: Int?
    var bitSize: Int?
    /// For bit-fields: the declared type's size.
    var storage: Int?
  }

  private func resolve(_ path: String, in typeName: String) -> MemberLayout? {
    let components = path.split(separator: ".", omittingEmptySubsequences: false)
    guard !components.isEmpty, components.count <= Self.maximumDepth,
      components.allSatisfy({ !$0.isEmpty }),
      var container = definition(of: typeName).map(complete)
    else { return nil }
    var base = 0
    for (index, component) in components.enumerated() {
      guard Self.isAggregate(container),
        let (member, position) = find(String(component), in: container, depth: 0),
        let offset = base +? position.byteOffset
      else { return nil }
      if index == components.count - 1 {
        return layout(
          of: member,
          at: Position(
            byteOffset: offset, bitOffset: position.bitOffset, bitSize: position.bitSize,
            storage: position.storage))
      }
      guard let type = member.type else { return nil }
      container = complete(type)
      base = offset
    }
    return nil
  }

  static func isAggregate(_ entry: DWARFEntry) -> Bool {
    let tag = Int(entry.tag)
    return tag == DW_TAG_structure_type || tag == DW_TAG_union_type
  }

  /// A member of a struct or union by name, looking into anonymous struct
  /// and union members as C does.
  private func find(_ name: String, in container: DWARFEntry, depth: Int) -> (DWARFEntry, Position)? {
    guard depth < Self.maximumDepth else { return nil }
    for child in container.children where Int(child.tag) == DW_TAG_member {
      if child.hasName(name) {
        guard let position = Self.position(of: child) else { return nil }
        return (child, position)
      }
      guard !child.has(DW_AT_name), let type = child.type else { continue }
      let inner = complete(type)
      guard Self.isAggregate(inner), let (member, position) = find(name, in: inner, depth: depth + 1),
        let outer = Self.position(of: child), outer.bitSize == nil,
        let offset = outer.byteOffset +? position.byteOffset
      else { continue }
      var combined = position
      combined.byteOffset = offset
      return (member, combined)
    }
    return nil
  }

  /// A member's position: `DW_AT_data_member_location` (absent in unions),
  /// and for bit-fields `DW_AT_data_bit_offset` (DWARF 4+) or the older
  /// big-endian `DW_AT_bit_offset` with `DW_AT_byte_size` (counted from the
  /// storage unit's most significant bit).
  static func position(of member: DWARFEntry) -> Position? {
    let location = member.memberLocation ?? 0
    guard let byteOffset = Int(exactly: location) else { return nil }
    guard let bits = member.unsigned(DW_AT_bit_size) else {
      return Position(byteOffset: byteOffset)
    }
    guard let bitSize = Int(exactly: bits), bitSize > 0, bitSize <= 64 else { return nil }
    let typeSize = member.type.flatMap { size(of: $0) }
    let absolute: Int
    if let dataBitOffset = member.unsigned(DW_AT_data_bit_offset) {
      guard let start = Int(exactly: dataBitOffset), let sum = start +? (byteOffset *? 8) else {
        return nil
      }
      absolute = sum
    } else {
      let storage = member.unsigned(DW_AT_byte_size).flatMap { Int(exactly: $0) } ?? typeSize
      guard let storage, storage > 0, storage <= 8 else { return nil }
      let fromTop = member.signed(DW_AT_bit_offset, signExtend: false) ?? 0
      guard let fromBottom = (Int64(storage) * 8) -? fromTop -? Int64(bitSize), fromBottom >= 0,
        let sum = Int(fromBottom) +? (byteOffset *? 8)
      else { return nil }
      absolute = sum
    }
    return Position(
      byteOffset: absolute / 8, bitOffset: absolute % 8, bitSize: bitSize,
      storage: typeSize ?? (absolute % 8 + bitSize + 7) / 8)
  }

  private func layout(of member: DWARFEntry, at position: Position) -> MemberLayout {
    let type = member.type.map(complete)
    let declared = member.type.map { $0.peeled }
    var layout = MemberLayout(
      byteOffset: position.byteOffset, bitOffset: position.bitOffset, bitSize: position.bitSize,
      size: position.storage ?? type.flatMap { Self.size(of: $0) } ?? 0,
      typeName: Self.typeName(of: type),
      isPointer: declared.map { Int($0.tag) == DW_TAG_pointer_type } ?? false)
    if let declared, Int(declared.tag) == DW_TAG_array_type, let shape = Self.arrayShape(of: declared) {
      layout.arrayCount = shape.count
      layout.elementSize = shape.elementSize
    }
    return layout
  }

  // MARK: - Type facts

  /// "struct list_head", "union (anonymous)", "enum pid_type", a base type's
  /// own name ("unsigned int"), "pointer", "array", "function" or "void".
  static func typeName(of entry: DWARFEntry?) -> String {
    guard let entry else { return "void" }
    let peeled = entry.peeled
    switch Int(peeled.tag) {
    case DW_TAG_structure_type: return "struct " + (peeled.name ?? "(anonymous)")
    case DW_TAG_union_type: return "union " + (peeled.name ?? "(anonymous)")
    case DW_TAG_enumeration_type: return "enum " + (peeled.name ?? "(anonymous)")
    case DW_TAG_base_type: return peeled.name ?? "?"
    case DW_TAG_pointer_type, DW_TAG_reference_type, DW_TAG_rvalue_reference_type: return "pointer"
    case DW_TAG_array_type: return "array"
    case DW_TAG_subroutine_type: return "function"
    case DW_TAG_typedef, DW_TAG_const_type, DW_TAG_volatile_type, DW_TAG_restrict_type,
      DW_TAG_atomic_type, DW_TAG_unspecified_type:
      return "void"
    default: return "?"
    }
  }

  /// The size of a type in bytes, following typedefs, qualifiers and arrays.
  static func size(of entry: DWARFEntry, depth: Int = 0) -> Int? {
    guard depth < maximumDepth else { return nil }
    if let bytes = entry.unsigned(DW_AT_byte_size) { return Int(exactly: bytes) }
    switch Int(entry.tag) {
    case DW_TAG_pointer_type, DW_TAG_reference_type, DW_TAG_rvalue_reference_type:
      return entry.addressSize
    case DW_TAG_typedef, DW_TAG_const_type, DW_TAG_volatile_type, DW_TAG_restrict_type,
      DW_TAG_atomic_type, DW_TAG_immutable_type, DW_TAG_enumeration_type:
      return entry.type.flatMap { size(of: $0, depth: depth + 1) }
    case DW_TAG_array_type:
      guard let shape = arrayShape(of: entry, depth: depth + 1) else { return nil }
      return (shape.count ?? 0) *? shape.elementSize
    default:
      return nil
    }
  }

  /// An array's outer dimension (nil when flexible) and the size of one
  /// element (which, for `int a[2][3]`, is an `int[3]`).
  static func arrayShape(of entry: DWARFEntry, depth: Int = 0) -> (count: Int?, elementSize: Int)? {
    guard depth < maximumDepth, let element = entry.type,
      var elementSize = size(of: element, depth: depth + 1)
    else { return nil }
    var counts: [Int?] = []
    for child in entry.children where Int(child.tag) == DW_TAG_subrange_type {
      counts.append(dimension(child))
      if counts.count > maximumDepth { return nil }
    }
    guard let outer = counts.first else { return (nil, elementSize) }
    for inner in counts.dropFirst() {
      guard let inner, let product = elementSize *? inner else { return nil }
      elementSize = product
    }
    return (outer, elementSize)
  }

  /// A subrange's element count: `DW_AT_count`, or upper − lower + 1; nil
  /// for a flexible array.
  static func dimension(_ subrange: DWARFEntry) -> Int? {
    if let count = subrange.unsigned(DW_AT_count) { return Int(exactly: count) }
    guard let upper = subrange.signed(DW_AT_upper_bound, signExtend: false) else { return nil }
    let lower = subrange.signed(DW_AT_lower_bound, signExtend: false) ?? 0
    guard let count = upper -? lower +? 1 else { return nil }
    return count < 0 ? 0 : Int(exactly: count)
  }

  /// Whether an enum's underlying type is signed (`DW_AT_type`'s encoding);
  /// unsigned when unknown.
  static func isSigned(_ enumeration: DWARFEntry) -> Bool {
    guard let base = enumeration.type?.peeled, let encoding = base.unsigned(DW_AT_encoding) else {
      return false
    }
    switch Int(encoding) {
    case DW_ATE_signed, DW_ATE_signed_char, DW_ATE_signed_fixed: return true
    default: return false
    }
  }
}
