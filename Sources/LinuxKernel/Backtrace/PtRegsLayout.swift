import AddressTranslation
import DebugInfo
import DumpFormats

/// Where each register lies in `struct pt_regs`, from the kernel's types
/// (the classic x86-64 order when they do not say).
public struct PtRegsLayout: Sendable, Equatable {
  /// Register name (as `pt_regs` names it) to byte offset.
  public var offsets: [String: Int]
  /// `sizeof(struct pt_regs)`.
  public var size: Int

  /// The names of `pt_regs`' members, in the classic order.
  static let names = [
    "r15", "r14", "r13", "r12", "bp", "bx", "r11", "r10", "r9", "r8", "ax", "cx", "dx", "si",
    "di", "orig_ax", "ip", "cs", "flags", "sp", "ss",
  ]

  /// The layout every x86-64 kernel has used so far: 21 words.
  public static let standard = PtRegsLayout(
    offsets: Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0 * 8) }), size: 168)

  public init(offsets: [String: Int], size: Int) {
    self.offsets = offsets
    self.size = size
  }

  /// Reads the layout from the kernel's types, falling back to `standard`
  /// for anything they do not describe.
  public init(types: TypeSource) {
    var offsets = Self.standard.offsets
    for name in Self.names {
      if let member = types.member(name, in: "pt_regs"), member.size == 8 || member.size == 0 {
        offsets[name] = member.byteOffset
      }
    }
    let size = types.size(of: "pt_regs") ?? Self.standard.size
    guard size >= 168, size <= 4096, offsets.values.allSatisfy({ $0 >= 0 && $0 + 8 <= size }) else {
      self = Self.standard
      return
    }
    self.init(offsets: offsets, size: size)
  }

  /// The offset of `ip`: where the hardware iret frame (ip, cs, flags, sp,
  /// ss) starts inside `pt_regs`.
  public var iretOffset: Int { offsets["ip"] ?? 128 }

  /// Reads a `pt_regs` at `address`; with `partial`, `address` is that of a
  /// full `pt_regs` of which only the iret frame is read.
  public func read(at address: UInt64, partial: Bool = false, memory: VirtualMemory)
    throws(DumpError) -> X86Registers
  {
    let start = partial ? iretOffset : 0
    guard start >= 0, start < size else {
      throw DumpError(.corrupt, "pt_regs layout: ip at \(start) is outside its \(size) bytes")
    }
    let bytes = try memory.read(virtual: address &+ UInt64(start), count: size - start)
    var registers = X86Registers()
    for (name, offset) in offsets where offset >= start && offset - start + 8 <= bytes.count {
      if let value = bytes.load(UInt64.self, at: offset - start, memory.byteOrder) {
        registers.set(name, value)
      }
    }
    return registers
  }
}
