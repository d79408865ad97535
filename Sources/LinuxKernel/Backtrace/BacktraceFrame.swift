/// One frame of a kernel backtrace: a text address found on a stack.
public struct BacktraceFrame: Sendable, Equatable {
  /// How the frame was found.
  public enum Origin: Sendable, Equatable {
    /// The starting point (saved registers, the switch frame of a sleeping
    /// task, or crash's stack search; see `Backtrace.start`).
    case start
    /// A return address found through the ORC entry of the frame below.
    case orc
    /// A return address found by following saved frame pointers, where ORC
    /// had no entry: less certain.
    case framePointer
    /// A return address found by decoding the prologue of a function ORC
    /// has no information for (`PrologueAnalysis`): a guess.
    case prologue
    /// The instruction an exception interrupted, after a switch from an
    /// exception stack (crash prints it as a frame of its own).
    case interrupted
  }

  /// The frame's number (`#N`), from 0.
  public var index: Int
  /// The text address: a return address, or for the first and interrupted
  /// frames the exact instruction address.
  public var address: UInt64
  /// Where on the stack the address was found (for an interrupted frame, the
  /// interrupted stack pointer).
  public var stackAddress: UInt64
  /// The function holding the address, its offset and size, as kallsyms
  /// (or the module's symbols) tell; nil when unknown. Return addresses are
  /// looked up one byte back, so a call that ends a function names it.
  public var function: String?
  public var offset: UInt64?
  public var size: UInt64?
  /// The module that holds the address, nil for the kernel image.
  public var module: String?
  /// Whether `address` is a return address (looked up one byte back).
  public var isReturnAddress: Bool
  /// The stack the address was found on, when known.
  public var stack: StackRegion.Kind?
  public var origin: Origin

  public init(
    index: Int, address: UInt64, stackAddress: UInt64, function: String? = nil,
    offset: UInt64? = nil, size: UInt64? = nil, module: String? = nil,
    isReturnAddress: Bool = true, stack: StackRegion.Kind? = nil, origin: Origin = .orc
  ) {
    self.index = index
    self.address = address
    self.stackAddress = stackAddress
    self.function = function
    self.offset = offset
    self.size = size
    self.module = module
    self.isReturnAddress = isReturnAddress
    self.stack = stack
    self.origin = origin
  }

  /// `function+0xoff/0xsize [module]` as the kernel prints it, or the
  /// address in hex when the function is unknown.
  public var symbolic: String {
    guard let function else { return "0x" + String(address, radix: 16) }
    var text = function
    if let offset { text += "+0x" + String(offset, radix: 16) }
    if let size { text += "/0x" + String(size, radix: 16) }
    if let module { text += " [\(module)]" }
    return text
  }
}
