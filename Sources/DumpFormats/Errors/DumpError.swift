/// An error met while reading a dump file.
///
/// Every error says what kind of failure it is, where in the file it was
/// found, and what the reader was doing, innermost step last. An excluded or
/// missing page is `.notInDump`, never `.corrupt`: a filtered dump is normal.
public struct DumpError: Error, CustomStringConvertible, Sendable {
  /// What went wrong, as an open set of kinds (new kinds may be added).
  public struct Kind: Hashable, Sendable, CustomStringConvertible {
    private let name: String
    private init(_ name: String) { self.name = name }
    public var description: String { name }

    /// The file is not a dump coroner recognises.
    public static let notADump = Kind("not a dump")
    /// The file ends before a structure it declares.
    public static let truncated = Kind("truncated")
    /// A value read from the file is impossible.
    public static let corrupt = Kind("corrupt")
    /// A valid feature that coroner does not read (yet).
    public static let unsupported = Kind("unsupported")
    /// The requested memory is not in the dump (excluded, missing or a hole).
    public static let notInDump = Kind("not in dump")
    /// A virtual address that the page tables do not map.
    public static let notMapped = Kind("not mapped")
    /// Something coroner needs (a symbol, a type, a note) is not available.
    public static let missingInformation = Kind("missing information")
    /// The operating system failed a read or an open.
    public static let io = Kind("I/O error")
  }

  /// Why a page is absent from a dump.
  public enum Absence: String, Sendable {
    /// The dumper left it out on purpose (makedumpfile's dump level).
    case excluded
    /// It should be in the dump but is not (truncated or incomplete dump).
    case missing
    /// The dump does not cover this address at all.
    case notCovered = "not covered"
  }

  public var kind: Kind
  public var message: String
  /// The file's name, when known.
  public var file: String?
  /// The byte offset in the file where the problem lies, when known.
  public var offset: UInt64?
  /// For `.notInDump`: the physical address and why it is absent.
  public var address: UInt64?
  public var absence: Absence?
  /// What the callers were doing, outermost last.
  public var context: [String] = []

  public init(
    _ kind: Kind, _ message: String, file: String? = nil,
    offset: UInt64? = nil
  ) {
    self.kind = kind
    self.message = message
    self.file = file
    self.offset = offset
  }

  /// An error for memory the dump does not hold.
  public static func notInDump(
    address: UInt64, _ absence: Absence, file: String? = nil
  ) -> DumpError {
    var error = DumpError(
      .notInDump,
      "physical address 0x\(String(address, radix: 16)) is \(absence.rawValue)"
        + (absence == .notCovered ? " by the dump" : " from the dump"),
      file: file)
    error.address = address
    error.absence = absence
    return error
  }

  /// The same error with one more line of context (what the caller was doing).
  public func context(_ line: String) -> DumpError {
    var copy = self
    copy.context.append(line)
    return copy
  }

  /// The same error naming `file` if it named none.
  public func inFile(_ name: String) -> DumpError {
    var copy = self
    if copy.file == nil { copy.file = name }
    return copy
  }

  public var description: String {
    var text = ""
    if let file { text += "\(file): " }
    text += "\(kind): \(message)"
    if let offset { text += " (at file offset 0x\(String(offset, radix: 16)))" }
    for line in context.reversed() { text += "; while \(line)" }
    return text
  }
}
