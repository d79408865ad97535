import AddressTranslation
import DebugInfo
import DumpFormats

extension KernelLog {
  /// Reads the kernel log of a dump through the first address translation
  /// that can be had: a `KernelSession` (the x86-64 page tables); for arm64,
  /// the linear mappings VMCOREINFO describes (`Arm64LinearMemory`);
  /// otherwise the ELF program headers' virtual addresses, as vmcore-dmesg
  /// reads (`LoadSegmentMemory`: 32-bit x86 kdumps).
  ///
  /// - Throws: the session's error when no translation can be had (a dump
  ///   without VMCOREINFO among them), or `read(from:vmcoreinfo:)`'s.
  public static func read(from dump: DumpFile) throws(DumpError) -> KernelLog {
    let memory: VirtualMemory
    let vmcoreinfo: VMCoreInfo
    do {
      let session = try KernelSession(dump: dump)
      memory = session.memory
      vmcoreinfo = session.vmcoreinfo
    } catch {
      guard let note = dump.notes.first(where: { $0.name == "VMCOREINFO" }) else { throw error }
      vmcoreinfo = VMCoreInfo(text: note.descriptor)
      if let arm64 = Arm64LinearMemory(dump: dump, vmcoreinfo: vmcoreinfo) {
        memory = arm64
      } else if let segments = LoadSegmentMemory(dump: dump) {
        memory = segments
      } else {
        throw error
      }
    }
    return try read(from: memory, vmcoreinfo: vmcoreinfo)
  }
}
