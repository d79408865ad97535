import DumpFormats

/// Finds the x86-64 kernel image without VMCOREINFO: walks a CPU's page
/// tables over the kernel-image window (0xffffffff80000000–0xffffffffc0000000)
/// in 2 MiB steps and takes the lowest mapped address as the start of the
/// text, as libkdumpfile does.
public enum KernelImageSearch {
  public struct Result: Sendable, Equatable {
    /// The lowest mapped virtual address in the window (the text start).
    public var textStart: UInt64
    /// The KASLR offset: `textStart` minus the unrandomised text start.
    public var kaslrOffset: UInt64
    /// `phys_base`, from where the text start maps.
    public var physBase: UInt64
  }

  /// Searches with the page tables at `walk.root` (a CPU's CR3).
  public static func locate(using walk: X86PageTableWalk, in memory: PhysicalMemory)
    -> Result?
  {
    var address = KernelTextMapping.startKernelMap
    while address < KernelTextMapping.endKernelMap {
      if let hit = try? walk.translate(address, in: memory) {
        let offset = address &- KernelTextMapping.defaultTextStart
        let physBase = hit.physicalAddress &- (address - KernelTextMapping.startKernelMap)
        return Result(textStart: address, kaslrOffset: offset, physBase: physBase)
      }
      address += 2 << 20
    }
    return nil
  }
}
