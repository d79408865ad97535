import AddressTranslation
import DumpFormats

/// A guess at a frame's layout where ORC has nothing to say (objects the
/// kernel builds without objtool, such as the one holding `__crash_kexec`,
/// which every kdump panic passes through): the function's
/// prologue is decoded from its first byte, adding up what it pushes and
/// subtracts from the stack pointer, until the instruction of interest, a
/// branch, or an instruction it does not recognise; the stack depth is then
/// taken to stay as the prologue left it. crash does much the same (it
/// counts pushes, pops and `sub`/`add` to `%rsp` in gdb's disassembly).
///
/// Recognised: padding and `endbr64`, the `__fentry__` call or the 5-byte
/// nop that replaces it, `push`/`pop` of registers and `pushf`/`popf`,
/// `sub`/`add` of a constant to `%rsp`, and register-to-register moves,
/// `xor`s and constant loads that leave `%rsp` alone. Anything that sets
/// `%rsp` otherwise (`and $-16,%rsp`, `mov …,%rsp`, `leave`) makes the
/// analysis give up.
struct PrologueAnalysis {
  /// The stack depth below the return address at the instruction of
  /// interest, and how far below the return address `%rbp` was saved, if
  /// it was.
  struct Frame: Equatable {
    var depth: UInt64
    var savedBP: UInt64?
  }

  /// The most bytes decoded.
  static let byteLimit = 512

  /// Analyses the function starting at `start` up to (excluding) the
  /// instruction at or containing `target`.
  static func frame(start: UInt64, target: UInt64, memory: VirtualMemory) -> Frame? {
    guard target >= start, target - start < 64 << 10 else { return nil }
    let length = Int(min(target - start, UInt64(byteLimit)))
    guard length > 0 else { return Frame(depth: 0, savedBP: nil) }
    guard let bytes = try? memory.read(virtual: start, count: length) else { return nil }
    return frame(bytes: bytes)
  }

  /// The same, over the bytes from the function's start to the target.
  static func frame(bytes: [UInt8]) -> Frame? {
    var depth: UInt64 = 0
    var savedBP: UInt64?
    var index = 0
    func byte(_ offset: Int) -> UInt8? {
      index + offset < bytes.count ? bytes[index + offset] : nil
    }
    func immediate32(_ offset: Int) -> UInt64? {
      guard index + offset + 4 <= bytes.count else { return nil }
      let raw =
        UInt32(bytes[index + offset]) | UInt32(bytes[index + offset + 1]) << 8
        | UInt32(bytes[index + offset + 2]) << 16 | UInt32(bytes[index + offset + 3]) << 24
      let value = Int64(Int32(bitPattern: raw))
      return value >= 0 ? UInt64(value) : nil
    }
    for _ in 0..<128 {
      guard index < bytes.count, let first = byte(0) else { break }
      // Padding: nop, endbr64, and the multi-byte nops (`[66|2e]* 0f 1f
      // /0`) that replace endbr64 and the __fentry__ call at run time.
      if first == 0x90 {
        index += 1
        continue
      }
      if Array(bytes[index..<min(index + 4, bytes.count)]) == [0xf3, 0x0f, 0x1e, 0xfa] {
        index += 4
        continue
      }
      var prefixes = 0
      while prefixes < 8, let prefix = byte(prefixes), prefix == 0x66 || prefix == 0x2e {
        prefixes += 1
      }
      if byte(prefixes) == 0x0f, byte(prefixes + 1) == 0x1f, let modrm = byte(prefixes + 2),
        (modrm >> 3) & 7 == 0, let operand = modrmLength(modrm, sib: byte(prefixes + 3))
      {
        index += prefixes + 2 + operand
        continue
      }
      if prefixes > 0 && byte(prefixes) == 0x90 {
        index += prefixes + 1
        continue
      }
      // call rel32 (__fentry__ or any call that returns).
      if first == 0xe8 {
        index += 5
        continue
      }
      var rex: UInt8 = 0
      if first & 0xf0 == 0x40 {
        rex = first
        index += 1
      }
      guard let opcode = byte(0) else { break }
      let rexB: UInt8 = rex & 1
      let rexR: UInt8 = (rex >> 2) & 1
      let wide = rex & 8 != 0
      switch opcode {
      case 0x50...0x57:
        depth &+= 8
        if rexB == 0 && opcode == 0x55 { savedBP = depth }
        index += 1
        continue
      case 0x58...0x5f:
        guard depth >= 8 else { return nil }
        depth -= 8
        index += 1
        continue
      case 0x9c:
        depth &+= 8
        index += 1
        continue
      case 0x9d:
        guard depth >= 8 else { return nil }
        depth -= 8
        index += 1
        continue
      case 0xb8...0xbf:
        // mov $imm, r32 (or movabs $imm64 with REX.W).
        index += wide ? 9 : 5
        continue
      case 0x83, 0x81:
        // Group 1 with an immediate: sub/add to %rsp, or anything else to
        // another register.
        guard let modrm = byte(1), modrm >> 6 == 3 else { break }
        let operation = (modrm >> 3) & 7
        let register = (modrm & 7) | (rexB << 3)
        let size = opcode == 0x83 ? 1 : 4
        if register == 4 {
          guard wide else { return nil }
          let amount: UInt64?
          if opcode == 0x83 {
            guard let raw = byte(2) else { return nil }
            let value = Int64(Int8(bitPattern: raw))
            amount = value >= 0 ? UInt64(value) : nil
          } else {
            amount = immediate32(2)
          }
          guard let amount else { return nil }
          if operation == 5 {
            depth &+= amount
          } else if operation == 0 {
            guard depth >= amount else { return nil }
            depth -= amount
          } else {
            return nil
          }
        }
        index += 2 + size
        continue
      case 0x01, 0x03, 0x09, 0x0b, 0x21, 0x23, 0x29, 0x2b, 0x31, 0x33, 0x39, 0x3b, 0x85, 0x89,
        0x8b:
        // Register-to-register operations.
        guard let modrm = byte(1), modrm >> 6 == 3 else { break }
        let destinationIsReg = [0x03, 0x0b, 0x23, 0x2b, 0x33, 0x3b, 0x8b].contains(opcode)
        let destination =
          destinationIsReg ? ((modrm >> 3) & 7) | (rexR << 3) : (modrm & 7) | (rexB << 3)
        let writes = ![0x39, 0x3b, 0x85].contains(opcode)
        if writes && destination == 4 { return nil }
        index += 2
        continue
      case 0xc7:
        // mov $imm32, r/m (register form only).
        guard let modrm = byte(1), modrm >> 6 == 3 else { break }
        if (modrm & 7) | (rexB << 3) == 4 { return nil }
        index += 6
        continue
      case 0xc9:
        return nil
      default:
        break
      }
      break
    }
    return Frame(depth: depth, savedBP: savedBP)
  }

  /// The length of a ModRM operand (the ModRM byte, any SIB byte and
  /// displacement), or nil when the SIB byte is needed and missing.
  static func modrmLength(_ modrm: UInt8, sib: UInt8?) -> Int? {
    let mode = modrm >> 6
    let rm = modrm & 7
    if mode == 3 { return 1 }
    var length = 1
    if rm == 4 {
      guard let sib else { return nil }
      length += 1
      if mode == 0 && sib & 7 == 5 { return length + 4 }
    } else if mode == 0 && rm == 5 {
      return length + 4
    }
    switch mode {
    case 1: return length + 1
    case 2: return length + 4
    default: return length
    }
  }

  /// The frame as an ORC entry for the instruction analysed.
  static func entry(_ frame: Frame) -> OrcEntry? {
    guard let spOffset = Int16(exactly: frame.depth &+ 8) else { return nil }
    var entry = OrcEntry(
      spOffset: spOffset, bpOffset: 0, spRegister: OrcEntry.Register.sp.rawValue,
      bpRegister: OrcEntry.Register.undefined.rawValue, kind: .call, signal: false)
    if let saved = frame.savedBP, let offset = Int16(exactly: -Int64(saved) - 8) {
      entry.bpRegister = OrcEntry.Register.previousSP.rawValue
      entry.bpOffset = offset
    }
    return entry
  }
}
