import DumpFormats

/// Where a member lies inside a structure, and what it is.
public struct MemberLayout: Sendable, Equatable {
  /// The offset of the member's first byte from the start of the outer type
  /// (the sum along a dotted path such as `thread.sp`).
  public var byteOffset: Int
  /// For bit-fields: the first bit inside `byteOffset`'s storage unit, and
  /// the width; nil for ordinary members.
  public var bitOffset: Int?
  public var bitSize: Int?
  /// The member's size in bytes (of its storage unit for bit-fields).
  public var size: Int
  /// The member's type, as C spells it after resolving typedefs of structs
  /// ("struct list_head", "unsigned int", "pointer", "array").
  public var typeName: String
  /// Whether the member is a pointer.
  public var isPointer: Bool
  /// For arrays: the number of elements (nil for flexible arrays) and the
  /// element size.
  public var arrayCount: Int?
  public var elementSize: Int?

  public init(
    byteOffset: Int, bitOffset: Int? = nil, bitSize: Int? = nil, size: Int, typeName: String,
    isPointer: Bool = false, arrayCount: Int? = nil, elementSize: Int? = nil
  ) {
    self.byteOffset = byteOffset
    self.bitOffset = bitOffset
    self.bitSize = bitSize
    self.size = size
    self.typeName = typeName
    self.isPointer = isPointer
    self.arrayCount = arrayCount
    self.elementSize = elementSize
  }
}

/// A source of C type layouts: the kernel's own BTF, DWARF from a vmlinux,
/// or VMCOREINFO's few sizes and offsets. Types are named as in C without
/// the `struct`/`union` keyword ("task_struct", "list_head").
///
/// A name that is not found is `nil`, not an error: callers try the next
/// source.
public protocol TypeSource: AnyObject {
  /// A short name for messages ("BTF", "DWARF", "VMCOREINFO").
  var sourceName: String { get }
  /// The size in bytes of a struct, union, typedef or base type.
  func size(of typeName: String) -> Int?
  /// A member by dotted path ("tasks", "thread.sp", "se.on_rq"); members of
  /// anonymous structs and unions are found as if they were direct members.
  func member(_ path: String, in typeName: String) -> MemberLayout?
  /// The value of an enumerator ("PIDTYPE_PID", "TASK_COMM_LEN").
  func enumerator(_ name: String) -> Int64?
}

extension TypeSource {
  /// The byte offset of a member, or nil.
  public func offset(of path: String, in typeName: String) -> Int? {
    member(path, in: typeName)?.byteOffset
  }
}

/// Type sources tried in order (DWARF, then BTF, then VMCOREINFO).
public final class TypeSourceChain: TypeSource {
  public private(set) var sources: [TypeSource]
  public init(_ sources: [TypeSource]) { self.sources = sources }
  public var sourceName: String { sources.map(\.sourceName).joined(separator: "+") }

  public func size(of typeName: String) -> Int? {
    for source in sources { if let size = source.size(of: typeName) { return size } }
    return nil
  }

  public func member(_ path: String, in typeName: String) -> MemberLayout? {
    for source in sources { if let member = source.member(path, in: typeName) { return member } }
    return nil
  }

  public func enumerator(_ name: String) -> Int64? {
    for source in sources { if let value = source.enumerator(name) { return value } }
    return nil
  }

  /// The size of a type, or a `.missingInformation` error naming it.
  public func requireSize(of typeName: String) throws(DumpError) -> Int {
    guard let size = size(of: typeName) else {
      throw DumpError(.missingInformation, "no type information for \(typeName) (\(sourceName))")
    }
    return size
  }

  /// A member, or a `.missingInformation` error naming it.
  public func requireMember(_ path: String, in typeName: String) throws(DumpError) -> MemberLayout {
    guard let member = member(path, in: typeName) else {
      throw DumpError(
        .missingInformation, "no type information for \(typeName).\(path) (\(sourceName))")
    }
    return member
  }
}
