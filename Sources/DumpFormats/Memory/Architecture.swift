/// The machine a dump comes from.
public enum Architecture: String, Sendable, Codable, CustomStringConvertible {
  case x86_64
  case i386
  case arm64 = "aarch64"
  case arm
  case ppc64
  case ppc64le
  case s390x
  case riscv64
  case unknown

  public var description: String { rawValue }

  /// From an ELF `e_machine` and class.
  public init(elfMachine: UInt16, is64Bit: Bool, order: ByteOrder) {
    switch elfMachine {
    case 62: self = .x86_64
    case 3: self = .i386
    case 183: self = .arm64
    case 40: self = .arm
    case 21: self = order == .little ? .ppc64le : .ppc64
    case 22: self = .s390x
    case 243: self = is64Bit ? .riscv64 : .unknown
    default: self = .unknown
    }
  }

  /// From a `utsname.machine` string ("x86_64", "i686", "aarch64"…).
  public init(machine: String) {
    switch machine {
    case "x86_64", "amd64": self = .x86_64
    case "i386", "i486", "i586", "i686": self = .i386
    case "aarch64", "arm64": self = .arm64
    case let name where name.hasPrefix("arm"): self = .arm
    case "ppc64": self = .ppc64
    case "ppc64le": self = .ppc64le
    case "s390x": self = .s390x
    case "riscv64": self = .riscv64
    default: self = .unknown
    }
  }

  /// Whether pointers are 64 bits wide.
  public var is64Bit: Bool {
    switch self {
    case .i386, .arm: return false
    default: return true
    }
  }
}
