import CElf

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// One debugging information entry (a libdw `Dwarf_Die`), with the few
/// questions the type reader asks of it.
///
/// A `Dwarf_Die` points into libdw's mapping of the file; an entry is valid
/// as long as the `Dwarf` descriptor it came from.
struct DWARFEntry {
  var die: Dwarf_Die

  /// The most children a loop visits under one entry.
  static let maximumChildren = 1 << 22

  /// The entry's tag (`DW_TAG_*`).
  var tag: Int32 {
    var copy = die
    return dwarf_tag(&copy)
  }

  /// The entry's offset in `.debug_info`.
  var offset: UInt64 {
    var copy = die
    return dwarf_dieoffset(&copy)
  }

  /// `DW_AT_name`, or nil for anonymous entries.
  var name: String? {
    var copy = die
    guard let text = dwarf_diename(&copy) else { return nil }
    return String(cString: text)
  }

  /// Whether `DW_AT_name` is exactly `wanted`, without building a string.
  func hasName(_ wanted: String) -> Bool {
    var copy = die
    guard let text = dwarf_diename(&copy) else { return false }
    return wanted.withCString { strcmp($0, text) == 0 }
  }

  /// Whether the entry has an attribute.
  func has(_ attribute: Int) -> Bool {
    var copy = die
    return dwarf_hasattr(&copy, UInt32(attribute)) != 0
  }

  /// Whether `DW_AT_declaration` is set (an incomplete type).
  var isDeclaration: Bool {
    var copy = die
    var attribute = Dwarf_Attribute()
    guard dwarf_attr(&copy, UInt32(DW_AT_declaration), &attribute) != nil else { return false }
    var flag = false
    return dwarf_formflag(&attribute, &flag) == 0 && flag
  }

  /// The entry an attribute refers to (`DW_AT_type`…).
  func reference(_ attribute: Int) -> DWARFEntry? {
    var copy = die
    var value = Dwarf_Attribute()
    guard dwarf_attr_integrate(&copy, UInt32(attribute), &value) != nil else { return nil }
    var target = Dwarf_Die()
    guard dwarf_formref_die(&value, &target) != nil else { return nil }
    return DWARFEntry(die: target)
  }

  /// The entry's type (`DW_AT_type`), nil for void.
  var type: DWARFEntry? { reference(DW_AT_type) }

  /// The type with typedefs and qualifiers (const, volatile, restrict,
  /// atomic) removed.
  var peeled: DWARFEntry {
    var copy = die
    var result = Dwarf_Die()
    guard dwarf_peel_type(&copy, &result) == 0 else { return self }
    return DWARFEntry(die: result)
  }

  /// A constant attribute as an unsigned number (the bit pattern of a
  /// signed form), or nil when absent or not a constant.
  func unsigned(_ attribute: Int) -> UInt64? {
    guard let (_, raw, signed) = constant(attribute) else { return nil }
    return signed.map { UInt64(bitPattern: $0) } ?? raw
  }

  /// A constant attribute as a signed number: signed forms as written,
  /// `DW_FORM_data*` sign-extended from their width when `signExtend` is
  /// set.
  func signed(_ attribute: Int, signExtend: Bool) -> Int64? {
    guard let (form, raw, signed) = constant(attribute) else { return nil }
    if let signed { return signed }
    guard let raw else { return nil }
    guard signExtend else { return Int64(exactly: raw) ?? Int64(bitPattern: raw) }
    switch Int(form) {
    case DW_FORM_data1: return Int64(Int8(truncatingIfNeeded: raw))
    case DW_FORM_data2: return Int64(Int16(truncatingIfNeeded: raw))
    case DW_FORM_data4: return Int64(Int32(truncatingIfNeeded: raw))
    default: return Int64(bitPattern: raw)
    }
  }

  /// The form of a constant attribute and its value: unsigned forms in
  /// `raw`, signed forms in `signed`.
  private func constant(_ attribute: Int) -> (UInt32, UInt64?, Int64?)? {
    var copy = die
    var value = Dwarf_Attribute()
    guard dwarf_attr_integrate(&copy, UInt32(attribute), &value) != nil else { return nil }
    let form = dwarf_whatform(&value)
    switch Int(form) {
    case DW_FORM_sdata, DW_FORM_implicit_const:
      var number: Dwarf_Sword = 0
      guard dwarf_formsdata(&value, &number) == 0 else { return nil }
      return (form, nil, number)
    case DW_FORM_data1, DW_FORM_data2, DW_FORM_data4, DW_FORM_data8, DW_FORM_udata:
      var number: Dwarf_Word = 0
      guard dwarf_formudata(&value, &number) == 0 else { return nil }
      return (form, number, nil)
    default:
      return nil
    }
  }

  /// `DW_AT_data_member_location` as a byte offset: a constant, or an
  /// expression that is a single `DW_OP_plus_uconst` (DWARF 2). nil when
  /// absent (union members) or computed at run time.
  var memberLocation: UInt64? {
    if let constant = unsigned(DW_AT_data_member_location) { return constant }
    var copy = die
    var value = Dwarf_Attribute()
    guard dwarf_attr_integrate(&copy, UInt32(DW_AT_data_member_location), &value) != nil
    else { return nil }
    var operations: UnsafeMutablePointer<Dwarf_Op>? = nil
    var count = 0
    guard dwarf_getlocation(&value, &operations, &count) == 0, count == 1,
      let operation = operations?.pointee, operation.atom == UInt8(DW_OP_plus_uconst)
    else { return nil }
    return operation.number
  }

  /// The first child, or nil.
  var firstChild: DWARFEntry? {
    var copy = die
    var child = Dwarf_Die()
    guard dwarf_child(&copy, &child) == 0 else { return nil }
    return DWARFEntry(die: child)
  }

  /// The next sibling, or nil.
  var nextSibling: DWARFEntry? {
    var copy = die
    var sibling = Dwarf_Die()
    guard dwarf_siblingof(&copy, &sibling) == 0 else { return nil }
    return DWARFEntry(die: sibling)
  }

  /// The children, in order (at most `maximumChildren`).
  var children: DWARFChildren { DWARFChildren(first: firstChild) }

  /// The address size of the entry's compilation unit (8 on x86-64).
  var addressSize: Int? {
    var copy = die
    var unit = Dwarf_Die()
    var addressSize: UInt8 = 0
    var offsetSize: UInt8 = 0
    guard dwarf_diecu(&copy, &unit, &addressSize, &offsetSize) != nil, addressSize > 0 else {
      return nil
    }
    return Int(addressSize)
  }
}

/// The children of an entry, as a sequence with a bounded length.
struct DWARFChildren: Sequence, IteratorProtocol {
  var upcoming: DWARFEntry?
  var visited = 0
  init(first: DWARFEntry?) { upcoming = first }

  mutating func next() -> DWARFEntry? {
    guard let current = upcoming, visited < DWARFEntry.maximumChildren else { return nil }
    visited += 1
    upcoming = current.nextSibling
    return current
  }
}
