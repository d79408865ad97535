import DumpFormats

/// The facts that place an x86-64 Linux kernel in physical memory. The
/// caller gathers them (VMCOREINFO, CPU registers, a search of the image);
/// this layer never looks them up itself.
public struct X86KernelLayout: Sendable, Equatable {
  /// `phys_base`: how far the kernel image moved physically.
  public var physBase: UInt64
  /// The physical address of the kernel's top page table.
  public var pageTableRoot: UInt64
  /// 4 or 5 paging levels.
  public var levels: Int
  /// `sme_mask`, the memory-encryption bit, or 0.
  public var encryptionMask: UInt64
  /// The start of the direct map (`page_offset_base`), when known.
  public var directMapBase: UInt64?

  public init(
    physBase: UInt64, pageTableRoot: UInt64, levels: Int = 4, encryptionMask: UInt64 = 0,
    directMapBase: UInt64? = nil
  ) {
    self.physBase = physBase
    self.pageTableRoot = pageTableRoot
    self.levels = levels
    self.encryptionMask = encryptionMask
    self.directMapBase = directMapBase
  }

  /// The direct map covers 64 TiB with 4 levels, 32 PiB with 5.
  public var directMapSize: UInt64 { levels == 5 ? 1 << 55 : 1 << 46 }
}

/// An x86-64 Linux kernel's virtual address space over a dump's physical
/// memory: the kernel image and the direct map are linear, everything else
/// (vmalloc, modules, vmemmap, per-CPU areas) goes through the page tables.
public final class X86KernelAddressSpace: VirtualMemory {
  public let physical: PhysicalMemory
  public private(set) var layout: X86KernelLayout
  public let walk: X86PageTableWalk
  public var byteOrder: ByteOrder { .little }
  public var pointerSize: Int { 8 }
  private var translations: [UInt64: UInt64] = [:]  // virtual page → physical page
  private static let translationCacheLimit = 8192

  public init(physical: PhysicalMemory, layout: X86KernelLayout) {
    self.physical = physical
    self.layout = layout
    walk = X86PageTableWalk(
      root: layout.pageTableRoot, levels: layout.levels, encryptionMask: layout.encryptionMask)
  }

  /// Sets the direct map's base once it is known (it is read from memory).
  public func setDirectMapBase(_ base: UInt64) {
    layout.directMapBase = base
  }

  public func translate(_ address: UInt64) throws(DumpError) -> UInt64 {
    if address >= KernelTextMapping.startKernelMap, address < KernelTextMapping.endKernelMap {
      return (address - KernelTextMapping.startKernelMap) &+ layout.physBase
    }
    if let base = layout.directMapBase, address >= base, address - base < layout.directMapSize {
      return address - base
    }
    let page = address & ~0xfff
    if let physicalPage = translations[page] { return physicalPage | (address & 0xfff) }
    let result = try walk.translate(address, in: physical)
    if translations.count >= Self.translationCacheLimit { translations.removeAll(keepingCapacity: true) }
    translations[page] = result.physicalAddress & ~0xfff
    return result.physicalAddress
  }

  public func read(virtual address: UInt64, into buffer: UnsafeMutableRawBufferPointer)
    throws(DumpError)
  {
    try readTranslatingPages(address, into: buffer, from: physical)
  }
}

/// The x86-64 kernel image mapping: virtual addresses from
/// `__START_KERNEL_map` (0xffffffff80000000) map linearly to physical
/// addresses shifted by `phys_base` (arch/x86/include/asm/page_64.h,
/// `__phys_addr_nodebug`). KASLR moves the image inside this window; symbol
/// values from VMCOREINFO are already relocated, so they translate directly.
public struct KernelTextMapping: Sendable, Equatable {
  public static let startKernelMap: UInt64 = 0xffff_ffff_8000_0000
  /// The window's end: 1 GiB with KASLR (the modules area follows).
  public static let endKernelMap: UInt64 = 0xffff_ffff_c000_0000
  /// Where the kernel's text starts without KASLR
  /// (`__START_KERNEL_map + CONFIG_PHYSICAL_START`, 16 MiB by default).
  public static let defaultTextStart: UInt64 = 0xffff_ffff_8100_0000

  public var physBase: UInt64

  public init(physBase: UInt64) { self.physBase = physBase }

  /// The physical address of a kernel-image virtual address, or nil outside
  /// the window.
  public func physicalAddress(of virtual: UInt64) -> UInt64? {
    guard virtual >= Self.startKernelMap, virtual < Self.endKernelMap else { return nil }
    return (virtual - Self.startKernelMap) &+ physBase
  }
}
