import AddressTranslation
import DebugInfo
import DumpFormats

/// Where to find debuginfo beyond the dump itself.
public struct DebugInfoOptions: Sendable {
  /// A vmlinux with DWARF (`--vmlinux`).
  public var vmlinux: String?
  /// A System.map (`--system-map`).
  public var systemMap: String?
  public init(vmlinux: String? = nil, systemMap: String? = nil) {
    self.vmlinux = vmlinux
    self.systemMap = systemMap
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
    let note = dump.notes.first { $0.name == "VMCOREINFO" }
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

  private var symbolChain: SymbolSourceChain?
  private var typeChain: TypeSourceChain?

  /// The symbol sources, built on first use.
  public var symbols: SymbolSourceChain {
    if let symbolChain { return symbolChain }
    var sources: [SymbolSource] = []
    sources.append(VMCoreInfoSymbols(vmcoreinfo))
    let chain = SymbolSourceChain(sources)
    symbolChain = chain
    return chain
  }

  /// The type sources, built on first use.
  public var types: TypeSourceChain {
    if let typeChain { return typeChain }
    var sources: [TypeSource] = []
    sources.append(VMCoreInfoTypes(vmcoreinfo))
    let chain = TypeSourceChain(sources)
    typeChain = chain
    return chain
  }
}
