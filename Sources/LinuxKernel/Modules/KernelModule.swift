/// A loaded kernel module (`struct module` on the kernel's `modules` list).
public struct KernelModule: Sendable, Equatable {
  /// The address of its `struct module`.
  public var address: UInt64
  public var name: String
  /// `MODULE_STATE_LIVE`, `…_COMING`, `…_GOING`, `…_UNFORMED`.
  public var state: String
  /// Where its core image starts and how big it is (`core_layout` before
  /// 6.4; the text region and the sum of the core regions from 6.4).
  public var base: UInt64
  public var size: UInt64
  /// The reference count, when the kernel counts (CONFIG_MODULE_UNLOAD).
  public var referenceCount: Int?
  /// The taint bits the module set (`taints`).
  public var taints: UInt64?
}

extension KernelModule {
  /// `module_state`'s values, stable since Linux 3.x (include/linux/module.h).
  static let stateNames = [
    0: "MODULE_STATE_LIVE", 1: "MODULE_STATE_COMING", 2: "MODULE_STATE_GOING",
    3: "MODULE_STATE_UNFORMED",
  ]
}
