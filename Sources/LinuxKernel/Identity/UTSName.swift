import AddressTranslation
import DebugInfo
import DumpFormats

/// The kernel's `utsname` (`init_uts_ns.name`): system, node, release,
/// version, machine and domain names, 65 bytes each.
public struct UTSName: Sendable, Equatable {
  public var systemName: String
  public var nodeName: String
  public var release: String
  public var version: String
  public var machine: String
  public var domainName: String

  public static let fieldLength = 65

  public init(parsing bytes: [UInt8]) throws(DumpError) {
    guard bytes.count >= 6 * Self.fieldLength else {
      throw DumpError(.truncated, "utsname of \(bytes.count) bytes")
    }
    func field(_ index: Int) -> String {
      let start = index * Self.fieldLength
      let raw = bytes[start..<(start + Self.fieldLength)].prefix { $0 != 0 }
      return String(decoding: raw, as: UTF8.self)
    }
    systemName = field(0)
    nodeName = field(1)
    release = field(2)
    version = field(3)
    machine = field(4)
    domainName = field(5)
  }

  /// Reads `init_uts_ns.name` through the x86-64 kernel-image mapping.
  ///
  /// Uses VMCOREINFO's `SYMBOL(init_uts_ns)`, `NUMBER(phys_base)` and
  /// `OFFSET(uts_namespace.name)` when present; without the offset, tries
  /// the layouts Linux has had (name first, or after a 4-byte kref) and keeps
  /// the one whose system name is "Linux".
  public static func read(from memory: PhysicalMemory, vmcoreinfo: VMCoreInfo)
    throws(DumpError) -> UTSName
  {
    guard let symbol = vmcoreinfo.symbols["init_uts_ns"] else {
      throw DumpError(.unsupported, "VMCOREINFO has no SYMBOL(init_uts_ns)")
    }
    let mapping = KernelTextMapping(
      physBase: UInt64(bitPattern: vmcoreinfo.numbers["phys_base"] ?? 0))
    guard let physical = mapping.physicalAddress(of: symbol) else {
      throw DumpError(
        .unsupported, "init_uts_ns at 0x\(String(symbol, radix: 16)) is outside the kernel image")
    }
    var candidates: [UInt64] = [0, 4]
    if let offset = vmcoreinfo.offsets["uts_namespace.name"], offset >= 0 {
      candidates = [UInt64(offset)]
    }
    var lastError = DumpError(.corrupt, "init_uts_ns holds no utsname")
    for offset in candidates {
      do throws(DumpError) {
        let bytes = try memory.read(at: physical + offset, count: 6 * fieldLength)
        let name = try UTSName(parsing: bytes)
        if name.systemName == "Linux" { return name }
      } catch {
        lastError = error
      }
    }
    throw lastError.context("reading init_uts_ns")
  }
}
