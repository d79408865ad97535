/// The x86-64 kernel image mapping: virtual addresses from
/// `__START_KERNEL_map` (0xffffffff80000000) map linearly to physical
/// addresses shifted by `phys_base` (arch/x86/include/asm/page_64.h,
/// `__phys_addr_nodebug`). KASLR moves the image inside this window; symbol
/// values from VMCOREINFO are already relocated, so they translate directly.
public struct KernelTextMapping: Sendable, Equatable {
  public static let startKernelMap: UInt64 = 0xffff_ffff_8000_0000
  /// The window's end: 1 GiB with KASLR, 512 MiB without.
  public static let endKernelMap: UInt64 = 0xffff_ffff_c000_0000

  public var physBase: UInt64

  public init(physBase: UInt64) { self.physBase = physBase }

  /// The physical address of a kernel-image virtual address, or nil outside
  /// the window.
  public func physicalAddress(of virtual: UInt64) -> UInt64? {
    guard virtual >= Self.startKernelMap, virtual < Self.endKernelMap else { return nil }
    return (virtual - Self.startKernelMap) &+ physBase
  }
}
