import AddressTranslation
import DebugInfo
import DumpFormats

/// Where to find debuginfo beyond the dump itself.
public struct DebugInfoOptions: Sendable {
  /// A vmlinux with DWARF (`--vmlinux`).
  public var vmlinux: String?
  /// A System.map (`--system-map`).
  public var systemMap: String?
  /// Ignore the dump's VMCOREINFO (`--ignore-vmcoreinfo`): find the kernel
  /// from the CPU state and its own tables, as for a QEMU dump of a guest
  /// that never loaded qemu_fw_cfg, or when the note is damaged.
  public var ignoreVMCOREINFO: Bool
  public init(vmlinux: String? = nil, systemMap: String? = nil, ignoreVMCOREINFO: Bool = false) {
    self.vmlinux = vmlinux
    self.systemMap = systemMap
    self.ignoreVMCOREINFO = ignoreVMCOREINFO
  }
}

/// A Linux kernel seen in a dump, like drgn's program: its memory by virtual
/// address, and chains of symbol and type sources (given debuginfo first,
/// then what the dump itself holds: kallsyms, BTF, VMCOREINFO).
///
/// Opening a session reads only VMCOREINFO and the notes; symbols and types
/// are loaded the first time a command asks for them.
public final class KernelSession {
  public let dump: DumpFile
  public let vmcoreinfo: VMCoreInfo
  public let memory: X86KernelAddressSpace
  public let options: DebugInfoOptions
  /// How the kernel's place in memory was found.
  public let layoutOrigin: String
  public let kaslrOffset: UInt64?

  public init(dump: DumpFile, options: DebugInfoOptions = DebugInfoOptions()) throws(DumpError) {
    self.dump = dump
    self.options = options
    guard dump.architecture == .x86_64 else {
      throw DumpError(
        .unsupported,
        "kernel analysis of \(dump.architecture) dumps is not implemented yet (x86_64 only)",
        file: dump.path)
    }
    let note = options.ignoreVMCOREINFO ? nil : dump.notes.first { $0.name == "VMCOREINFO" }
    let vmcoreinfo = note.map { VMCoreInfo(text: $0.descriptor) } ?? VMCoreInfo()
    self.vmcoreinfo = vmcoreinfo
    if let layout = vmcoreinfo.x86KernelLayout {
      memory = X86KernelAddressSpace(physical: dump.memory, layout: layout)
      layoutOrigin = "VMCOREINFO"
      kaslrOffset = vmcoreinfo.kernelOffset
    } else if let found = Self.searchImage(dump) {
      memory = X86KernelAddressSpace(physical: dump.memory, layout: found.layout)
      layoutOrigin = "CPU registers and a search of the kernel image"
      kaslrOffset = found.kaslrOffset
    } else {
      throw DumpError(
        .missingInformation,
        "the dump has no usable VMCOREINFO and no CPU state to find the kernel with",
        file: dump.path)
    }
  }

  /// Finds the kernel from a CPU's CR3 (QEMU notes) by walking the kernel
  /// image window.
  static func searchImage(_ dump: DumpFile) -> (layout: X86KernelLayout, kaslrOffset: UInt64)? {
    let states = dump.notes.filter { $0.name == "QEMU" }.compactMap {
      try? QEMUCPUState(parsing: $0.descriptor, order: dump.byteOrder)
    }
    for state in states where state.cr3 != 0 {
      let levels = state.cr4 & (1 << 12) != 0 ? 5 : 4
      // Clear the PCID bits and the PTI user-half bit (bit 12).
      let root = state.cr3 & ~UInt64(0x1fff)
      let walk = X86PageTableWalk(root: root, levels: levels)
      if let found = KernelImageSearch.locate(using: walk, in: dump.memory) {
        return (
          X86KernelLayout(physBase: found.physBase, pageTableRoot: root, levels: levels),
          found.kaslrOffset
        )
      }
    }
    return nil
  }

  /// Why a type source could not be used.
  public private(set) var typeProblems: [String] = []
  private var symbolChain: SymbolSourceChain?
  private var typeChain: TypeSourceChain?

  /// Why a symbol source could not be used (kallsyms that would not decode,
  /// a System.map that would not read), filled when `symbols` is built.
  public private(set) var symbolProblems: [String] = []

  /// Why the `--vmlinux` file is not used (a build-id that does not match
  /// the dump, an unreadable file, no DWARF), filled when `symbols` or
  /// `types` is built; the session goes on without it.
  public private(set) var debugInfoProblems: [String] = []

  /// The symbol sources, built on first use: the System.map when one is
  /// given, then the vmlinux's symbol table when one is given, then kallsyms
  /// decoded from the dump, then VMCOREINFO.
  public var symbols: SymbolSourceChain {
    if let symbolChain { return symbolChain }
    var sources: [SymbolSource] = []
    var problems: [String] = []
    var kallsyms: KallsymsSymbols?
    do {
      kallsyms = try KallsymsSymbols.load(
        memory: memory, vmcoreinfo: vmcoreinfo, kernelOffset: kaslrOffset)
    } catch {
      problems.append("kallsyms: \(error)")
    }
    if let path = options.systemMap {
      let runtimeText = vmcoreinfo.symbols["_stext"] ?? kallsyms?.address(of: "_stext")
      do {
        let map = try SystemMapSymbols(
          path: path, runtimeText: runtimeText, kernelOffset: kaslrOffset)
        // A map of another build would give wrong addresses: compare it
        // with what the dump itself says.
        var disagreements: [String] = []
        for name in ["init_uts_ns", "init_task", "linux_banner", "start_kernel"] {
          guard let mapped = map.address(of: name),
            let actual = vmcoreinfo.symbols[name] ?? kallsyms?.address(of: name),
            mapped != actual
          else { continue }
          disagreements.append(
            "\(name) at 0x\(String(mapped, radix: 16)), the dump has 0x\(String(actual, radix: 16))")
        }
        if disagreements.isEmpty {
          sources.append(map)
        } else {
          problems.append(
            "System.map \(path) does not match the dump's kernel, not used: "
              + disagreements.joined(separator: "; "))
        }
      } catch {
        problems.append("System.map: \(error)")
      }
    }
    if let path = options.vmlinux {
      do {
        try VmlinuxIdentity(path: path).verify(against: vmcoreinfo)
        sources.append(
          try ELFSymbolTable(
            path: path,
            runtimeStext: vmcoreinfo.symbols["_stext"] ?? kallsyms?.address(of: "_stext"),
            kernelOffset: kaslrOffset))
      } catch {
        let problem = "vmlinux: \(error)"
        if !debugInfoProblems.contains(problem) { debugInfoProblems.append(problem) }
      }
    }
    if let kallsyms { sources.append(kallsyms) }
    sources.append(VMCoreInfoSymbols(vmcoreinfo))
    symbolProblems = problems
    let chain = SymbolSourceChain(sources)
    symbolChain = chain
    return chain
  }

  /// The type sources, built on first use: the vmlinux's DWARF when one is
  /// given, then BTF, then VMCOREINFO.
  public var types: TypeSourceChain {
    if let typeChain { return typeChain }
    var sources: [TypeSource] = []
    if let path = options.vmlinux {
      do {
        try VmlinuxIdentity(path: path).verify(against: vmcoreinfo)
        sources.append(try DWARFTypes(path: path))
      } catch {
        let problem = "vmlinux: \(error)"
        if !debugInfoProblems.contains(problem) { debugInfoProblems.append(problem) }
      }
    }
    do {
      let btf = try KernelBTF.load(
        memory: memory, symbols: symbols, imageStart: vmcoreinfo.symbols["_stext"])
      sources.append(BTFTypes(btf))
    } catch {
      typeProblems.append("BTF: \(error)")
    }
    sources.append(VMCoreInfoTypes(vmcoreinfo))
    let chain = TypeSourceChain(sources)
    typeChain = chain
    return chain
  }
}
