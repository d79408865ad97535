import AddressTranslation
import DebugInfo
import DumpFormats

/// An x86-64 ORC unwinder over memory from a dump, after the kernel's own
/// (arch/x86/kernel/unwind_orc.c): from an instruction address and stack
/// pointer, the ORC entry of the address gives the caller's stack pointer
/// (the CFA) and where the caller's frame pointer was saved; a CALL entry
/// puts the return address just below the CFA, a REGS entry a full
/// `pt_regs` at it (an exception, interrupt or syscall entry) and a
/// REGS_PARTIAL entry the hardware iret frame. Where ORC has no entry the
/// code is assumed to keep frame pointers.
///
/// Every value read comes from an untrusted dump, so the walk is bounded: it
/// stops after `frameLimit` frames, when the stack pointer leaves the given
/// stacks, when it does not move up its stack, when it goes back to a stack
/// it left, and on any unreadable word, always saying why.
public struct StackUnwinder {
  /// Where the walk starts.
  public struct Start: Sendable, Equatable {
    /// The instruction address of frame #0.
    public var ip: UInt64
    /// The stack pointer in frame #0's function at `ip`.
    public var sp: UInt64
    public var bp: UInt64
    /// Whether `ip` is an exact instruction address (saved registers) rather
    /// than a return address (looked up one byte back).
    public var signal: Bool
    /// The stack address crash shows for frame #0.
    public var stackAddress: UInt64
    /// All registers, when known (a PRSTATUS note): ORC entries based on
    /// r10, r13, rdi or rdx need them.
    public var registers: X86Registers?
    /// Whether `ip` is shown as frame #0; crash does not when it starts from
    /// a CPU's saved registers (it shows them as an exception frame).
    public var showsFirstFrame: Bool

    public init(
      ip: UInt64, sp: UInt64, bp: UInt64, signal: Bool, stackAddress: UInt64,
      registers: X86Registers? = nil, showsFirstFrame: Bool = true
    ) {
      self.showsFirstFrame = showsFirstFrame
      self.ip = ip
      self.sp = sp
      self.bp = bp
      self.signal = signal
      self.stackAddress = stackAddress
      self.registers = registers
    }
  }

  /// What the walk found.
  public struct Result: Sendable, Equatable {
    public var frames: [BacktraceFrame] = []
    public var exceptionFrames: [ExceptionFrame] = []
    public var stop: BacktraceStop = .endOfStack
  }

  public var memory: VirtualMemory
  public var orc: OrcLookup?
  public var symbols: SymbolSource?
  /// The stacks the walk may use; empty means "do not check" (the stack
  /// pointer must still increase).
  public var regions: [StackRegion]
  public var registersLayout: PtRegsLayout
  /// See `OrcFormat.spIndirectAddsAfterLoad`.
  public var spIndirectAddsAfterLoad: Bool
  /// Module names by address range, for frames in modules.
  public var modules: [(name: String, range: Range<UInt64>)]
  /// The most frames a walk returns.
  public var frameLimit: Int

  public init(
    memory: VirtualMemory, orc: OrcLookup?, symbols: SymbolSource?, regions: [StackRegion],
    registersLayout: PtRegsLayout = .standard, spIndirectAddsAfterLoad: Bool = true,
    modules: [(name: String, range: Range<UInt64>)] = [], frameLimit: Int = 256
  ) {
    self.memory = memory
    self.orc = orc
    self.symbols = symbols
    self.regions = regions
    self.registersLayout = registersLayout
    self.spIndirectAddsAfterLoad = spIndirectAddsAfterLoad
    self.modules = modules
    self.frameLimit = frameLimit
  }

  /// The saved registers the walk knows of at a point: a full `pt_regs`, or
  /// an iret frame with the full set found before it.
  private struct SavedRegisters {
    var values: X86Registers
    var full: Bool
  }

  private enum Failure: Error {
    case stop(BacktraceStop)
  }

  /// Walks the stack from `start`.
  public func unwind(from start: Start) -> Result {
    var result = Result()
    var ip = start.ip
    var sp = start.sp
    var bp = start.bp
    var signal = start.signal
    var saved: SavedRegisters? = start.registers.map { SavedRegisters(values: $0, full: true) }
    var previousFull: X86Registers?
    var visited = Set<StackRegion.Kind>()
    var current = region(of: sp)
    if let current { visited.insert(current.kind) }

    if start.showsFirstFrame {
      result.frames.append(
        frame(
          index: 0, address: ip, stackAddress: start.stackAddress, isReturnAddress: !signal,
          origin: .start))
    }

    // Each pass adds at most two frames, so this bounds the walk twice over.
    for _ in 0..<(2 * max(frameLimit, 1) + 2) {
      if result.frames.count >= frameLimit {
        result.stop = .frameLimit(frameLimit)
        return result
      }
      let lookup = signal ? ip : ip &- 1
      var entry = orc?.orcEntry(for: lookup)
      var origin = BacktraceFrame.Origin.orc
      if entry == nil || entry?.kind == .undefined {
        // No ORC here: guess from the function's prologue, else (where no
        // table covers the address at all) follow the frame pointer.
        if let guess = prologueEntry(for: lookup) {
          entry = guess
          origin = .prologue
        } else if entry == nil {
          entry = .framePointer
          origin = .framePointer
        }
      }
      guard let entry else { break }
      switch entry.kind {
      case .undefined:
        result.stop = .noUnwindInformation(address: lookup)
        return result
      case .endOfStack:
        result.stop = .endOfStack
        return result
      case .unknown(let type):
        result.stop = .unknownEntry(address: lookup, detail: "type \(type)")
        return result
      default: break
      }

      do throws(Failure) {
        // The previous frame's stack pointer.
        let offset = Int64(entry.spOffset)
        var cfa: UInt64
        switch OrcEntry.Register(rawValue: entry.spRegister) {
        case .sp: cfa = try add(sp, offset)
        case .bp: cfa = try add(bp, offset)
        case .spIndirect:
          cfa =
            spIndirectAddsAfterLoad
            ? try add(try readStackWord(sp), offset) : try readStackWord(try add(sp, offset))
        case .bpIndirect: cfa = try readStackWord(try add(bp, offset))
        case .r10, .r13, .di, .dx:
          let register = OrcEntry.Register(rawValue: entry.spRegister)
          guard let values = saved.flatMap({ $0.full ? $0.values : nil }) ?? previousFull else {
            throw Failure.stop(
              .missingRegister(
                address: lookup, register: register.map { String(describing: $0) } ?? "?"))
          }
          switch register {
          case .r10: cfa = values.r10
          case .r13: cfa = values.r13
          case .di: cfa = values.rdi
          default: cfa = values.rdx
          }
        default:
          throw Failure.stop(
            .unknownEntry(address: lookup, detail: "sp_reg \(entry.spRegister)"))
        }

        // The previous frame's instruction and stack pointers.
        var newIP: UInt64
        var newSP: UInt64
        var interrupted = false
        switch entry.kind {
        case .call:
          let slot = try subtract(cfa, 8)
          newIP = try readStackWord(slot)
          newSP = cfa
          saved = nil
          previousFull = nil
          try checkMove(from: sp, to: newSP, current: &current, visited: &visited)
          try checkText(newIP, at: slot)
          result.frames.append(
            frame(
              index: result.frames.count, address: newIP, stackAddress: slot,
              isReturnAddress: true, origin: origin))
        case .registers, .partialRegisters:
          let partial = entry.kind == .partialRegisters
          let layoutOffset = UInt64(max(0, partial ? registersLayout.iretOffset : 0))
          let address = try subtract(cfa, layoutOffset)
          guard let length = UInt64(max(0, registersLayout.size)) -? layoutOffset else {
            throw Failure.stop(.unknownEntry(address: lookup, detail: "pt_regs layout"))
          }
          try checkOnStack(cfa, count: length)
          let values: X86Registers
          do {
            values = try registersLayout.read(at: address, partial: partial, memory: memory)
          } catch {
            throw Failure.stop(.unreadable(address: cfa, reason: error.message))
          }
          let regsRegion = region(of: cfa)
          var exception = ExceptionFrame(
            afterFrame: result.frames.count - 1, address: address, registers: values,
            isPartial: partial, stack: regsRegion?.kind)
          if !values.isUserMode, let symbol = symbols?.symbol(containing: values.rip) {
            exception.function = symbol.name
            exception.offset = values.rip &- symbol.address
            exception.module = symbol.module ?? moduleName(values.rip)
          }
          result.exceptionFrames.append(exception)
          if values.isUserMode {
            result.stop = .userMode
            return result
          }
          if partial {
            if let saved, saved.full { previousFull = saved.values }
            saved = SavedRegisters(values: values, full: false)
          } else {
            saved = SavedRegisters(values: values, full: true)
            previousFull = nil
          }
          newIP = values.rip
          newSP = values.rsp
          // crash shows the interrupted instruction as a frame of its own when
          // the registers were saved on an exception stack.
          if case .exception = regsRegion?.kind, region(of: newSP)?.kind != regsRegion?.kind {
            interrupted = true
          }
          try checkMove(from: sp, to: newSP, current: &current, visited: &visited)
          try checkText(newIP, at: cfa, isReturnAddress: false)
        default:
          throw Failure.stop(.unknownEntry(address: lookup, detail: "\(entry.kind)"))
        }

        // The previous frame's frame pointer.
        switch OrcEntry.Register(rawValue: entry.bpRegister) {
        case .undefined:
          if let saved, saved.full {
            bp = saved.values.rbp
          } else if saved != nil, let previousFull {
            bp = previousFull.rbp
          }
        case .previousSP: bp = try readStackWord(try add(cfa, Int64(entry.bpOffset)))
        case .bp: bp = try readStackWord(try add(bp, Int64(entry.bpOffset)))
        default:
          throw Failure.stop(.unknownEntry(address: lookup, detail: "bp_reg \(entry.bpRegister)"))
        }

        ip = newIP
        sp = newSP
        signal = entry.signal
        if interrupted {
          result.frames.append(
            frame(
              index: result.frames.count, address: newIP, stackAddress: newSP,
              isReturnAddress: false, origin: .interrupted))
        }
      } catch {
        switch error {
        case .stop(let stop): result.stop = stop
        }
        return result
      }
    }
    result.stop = .frameLimit(frameLimit)
    return result
  }

  // MARK: Helpers

  /// The known stack that holds `address`, if any.
  func region(of address: UInt64) -> StackRegion? {
    regions.first { $0.contains(address) }
  }

  private func add(_ base: UInt64, _ offset: Int64) throws(Failure) -> UInt64 {
    let result =
      offset >= 0 ? base +? UInt64(offset) : base -? UInt64(offset.magnitude)
    guard let result else { throw .stop(.unreadable(address: base, reason: "address overflows")) }
    return result
  }

  private func subtract(_ base: UInt64, _ amount: UInt64) throws(Failure) -> UInt64 {
    guard let result = base -? amount else {
      throw .stop(.unreadable(address: base, reason: "address underflows"))
    }
    return result
  }

  /// Refuses reads outside the known stacks, as the kernel's
  /// `stack_access_ok` does.
  private func checkOnStack(_ address: UInt64, count: UInt64) throws(Failure) {
    guard !regions.isEmpty else { return }
    guard regions.contains(where: { $0.contains(address, count: count) }) else {
      throw .stop(.leftStack(stackPointer: address))
    }
  }

  private func readStackWord(_ address: UInt64) throws(Failure) -> UInt64 {
    try checkOnStack(address, count: 8)
    do {
      return try memory.readPointer(at: address)
    } catch {
      throw .stop(.unreadable(address: address, reason: error.message))
    }
  }

  /// The stack pointer must move up its stack, or onto a stack not used yet.
  private func checkMove(
    from old: UInt64, to new: UInt64, current: inout StackRegion?, visited: inout Set<StackRegion.Kind>
  ) throws(Failure) {
    guard !regions.isEmpty else {
      guard new > old else { throw .stop(.notIncreasing(stackPointer: new)) }
      return
    }
    guard let next = region(of: new) else { throw .stop(.leftStack(stackPointer: new)) }
    if next.kind == current?.kind {
      guard new > old else { throw .stop(.notIncreasing(stackPointer: new)) }
    } else {
      guard visited.insert(next.kind).inserted else {
        throw .stop(.notIncreasing(stackPointer: new))
      }
      current = next
    }
  }

  /// A return or interrupted address must be kernel text: a symbol or an
  /// ORC entry must cover it (a return address one byte back).
  private func checkText(_ address: UInt64, at slot: UInt64, isReturnAddress: Bool = true)
    throws(Failure)
  {
    guard address != 0 else { throw .stop(.notText(address: address, stackAddress: slot)) }
    if symbols == nil && orc == nil { return }
    let lookup = isReturnAddress ? address &- 1 : address
    if symbols?.symbol(containing: lookup) != nil || orc?.orcEntry(for: lookup) != nil { return }
    throw .stop(.notText(address: address, stackAddress: slot))
  }

  /// An entry guessed from the prologue of the function holding `address`.
  func prologueEntry(for address: UInt64) -> OrcEntry? {
    guard let symbol = symbols?.symbol(containing: address),
      let frame = PrologueAnalysis.frame(start: symbol.address, target: address, memory: memory)
    else { return nil }
    return PrologueAnalysis.entry(frame)
  }

  func moduleName(_ address: UInt64) -> String? {
    modules.first { $0.range.contains(address) }?.name
  }

  /// A frame with its symbol resolved.
  func frame(
    index: Int, address: UInt64, stackAddress: UInt64, isReturnAddress: Bool,
    origin: BacktraceFrame.Origin
  ) -> BacktraceFrame {
    var frame = BacktraceFrame(
      index: index, address: address, stackAddress: stackAddress,
      isReturnAddress: isReturnAddress, stack: region(of: stackAddress)?.kind, origin: origin)
    let lookup = isReturnAddress ? address &- 1 : address
    if let symbol = symbols?.symbol(containing: lookup) {
      frame.function = symbol.name
      frame.offset = address &- symbol.address
      frame.size = symbol.size
      frame.module = symbol.module
    }
    if frame.module == nil { frame.module = moduleName(address) }
    return frame
  }
}
