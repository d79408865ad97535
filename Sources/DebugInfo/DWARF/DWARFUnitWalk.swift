import CElf
import DumpFormats

/// A lazy, resumable index of the type names a DWARF file defines.
///
/// Nothing is read up front. When a name is asked for that the index has not
/// seen, the walk goes on through the compilation units, in file order, from
/// where it stopped; in each unit it looks only at the top-level entries
/// (where C types live), and remembers every complete definition and every
/// enumerator it passes. A kernel's common types are defined in its first
/// units, so most questions are answered after a few of them; a name that no
/// unit defines costs one walk over every unit's top level, once.
final class DWARFUnitWalk {
  /// The C namespaces a type name lives in.
  enum Namespace: UInt8, CaseIterable {
    case structure, union, typedef, base, enumeration
  }

  struct Key: Hashable {
    var namespace: Namespace
    var name: String
  }

  /// The most units a walk visits.
  static let maximumUnits = 1 << 20

  private let dwarf: OpaquePointer
  private let path: String
  /// The first complete definition of each name seen so far, by offset.
  private var definitions: [Key: UInt64] = [:]
  /// Every enumerator seen so far (the first value wins).
  private var enumerators: [String: Int64] = [:]
  /// Where the next unit starts.
  private var nextUnit: UInt64 = 0
  /// The number of units looked at.
  private(set) var unitsVisited = 0
  /// Whether every unit has been looked at.
  private(set) var finished = false
  /// Why the walk stopped early, if it did.
  private(set) var problem: DumpError?

  init(dwarf: OpaquePointer, path: String) {
    self.dwarf = dwarf
    self.path = path
  }

  /// The offset of the first complete definition of `name` in any of
  /// `namespaces` (tried in that order), walking on until one is found or the
  /// units run out.
  func definition(of name: String, in namespaces: [Namespace]) -> UInt64? {
    for _ in 0..<Self.maximumUnits {
      for namespace in namespaces {
        if let offset = definitions[Key(namespace: namespace, name: name)] { return offset }
      }
      guard visitNextUnit() else { return nil }
    }
    return nil
  }

  /// The value of an enumerator, walking on until it is found.
  func enumerator(_ name: String) -> Int64? {
    for _ in 0..<Self.maximumUnits {
      if let value = enumerators[name] { return value }
      guard visitNextUnit() else { return nil }
    }
    return nil
  }

  /// Looks at the top level of the next unit; false when there is none.
  private func visitNextUnit() -> Bool {
    guard !finished else { return false }
    var next: Dwarf_Off = 0
    var headerSize = 0
    let status = dwarf_nextcu(dwarf, nextUnit, &next, &headerSize, nil, nil, nil)
    guard status == 0 else {
      finished = true
      if status < 0 {
        problem = DumpError(
          .corrupt,
          "DWARF unit header at .debug_info+0x\(String(nextUnit, radix: 16)): \(DWARFTypes.libdwMessage())",
          file: path)
      }
      return false
    }
    guard next > nextUnit else {
      finished = true
      problem = DumpError(
        .corrupt, "DWARF unit at .debug_info+0x\(String(nextUnit, radix: 16)) does not advance",
        file: path)
      return false
    }
    defer {
      nextUnit = next
      unitsVisited += 1
    }
    var unit = Dwarf_Die()
    guard let start = UInt64(nextUnit) +? UInt64(exactly: headerSize),
      dwarf_offdie(dwarf, start, &unit) != nil
    else { return true }
    let entry = DWARFEntry(die: unit)
    switch Int(entry.tag) {
    case DW_TAG_compile_unit, DW_TAG_partial_unit, DW_TAG_type_unit: break
    default: return true
    }
    for child in entry.children { record(child) }
    return true
  }

  /// Remembers a top-level entry if it defines a type or enumerators.
  private func record(_ entry: DWARFEntry) {
    let namespace: Namespace
    switch Int(entry.tag) {
    case DW_TAG_structure_type: namespace = .structure
    case DW_TAG_union_type: namespace = .union
    case DW_TAG_typedef: namespace = .typedef
    case DW_TAG_base_type: namespace = .base
    case DW_TAG_enumeration_type: namespace = .enumeration
    default: return
    }
    if entry.isDeclaration { return }
    guard let name = entry.name else {
      if namespace == .enumeration { recordEnumerators(of: entry) }
      return
    }
    let key = Key(namespace: namespace, name: name)
    guard definitions[key] == nil else { return }
    definitions[key] = entry.offset
    if namespace == .enumeration { recordEnumerators(of: entry) }
  }

  /// Remembers an enum's enumerators. Every unit repeats the enums of the
  /// headers it includes: a named enum is read once (above), an anonymous
  /// one is skipped when its first enumerator is already known.
  private func recordEnumerators(of entry: DWARFEntry) {
    let signed = DWARFTypes.isSigned(entry)
    var first = true
    for child in entry.children where Int(child.tag) == DW_TAG_enumerator {
      defer { first = false }
      guard let name = child.name else { continue }
      if first, enumerators[name] != nil { return }
      guard enumerators[name] == nil,
        let value = child.signed(DW_AT_const_value, signExtend: signed)
      else { continue }
      enumerators[name] = value
    }
  }
}
