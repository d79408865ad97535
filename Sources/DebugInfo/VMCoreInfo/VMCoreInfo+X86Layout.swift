import AddressTranslation

extension VMCoreInfo {
  /// The x86-64 kernel's layout from VMCOREINFO: `phys_base`, the top page
  /// table (`init_top_pgt`, 4.14+, or `swapper_pg_dir`/`init_level4_pgt`),
  /// 4 or 5 levels (`pgtable_l5_enabled`) and `sme_mask`. Nil without the
  /// keys that bootstrap translation.
  public var x86KernelLayout: X86KernelLayout? {
    guard let physBase = numbers["phys_base"] else { return nil }
    guard
      let root = symbols["init_top_pgt"] ?? symbols["swapper_pg_dir"]
        ?? symbols["init_level4_pgt"]
    else { return nil }
    let mapping = KernelTextMapping(physBase: UInt64(bitPattern: physBase))
    guard let rootPhysical = mapping.physicalAddress(of: root) else { return nil }
    return X86KernelLayout(
      physBase: UInt64(bitPattern: physBase), pageTableRoot: rootPhysical,
      levels: numbers["pgtable_l5_enabled"] == 1 ? 5 : 4,
      encryptionMask: UInt64(bitPattern: numbers["sme_mask"] ?? 0))
  }
}
