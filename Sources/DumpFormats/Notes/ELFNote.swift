/// One ELF note from a dump: per-CPU `CORE`/`NT_PRSTATUS`, `VMCOREINFO`,
/// QEMU's CPU state, Xen's crash notes…, kept as raw bytes for later layers.
public struct ELFNote: Sendable, Equatable {
  /// The note's owner ("CORE", "VMCOREINFO", "Xen", "QEMU"…).
  public var name: String
  public var type: UInt32
  public var descriptor: [UInt8]

  public init(name: String, type: UInt32, descriptor: [UInt8]) {
    self.name = name
    self.type = type
    self.descriptor = descriptor
  }

  /// Well-known note types.
  public static let prstatusType: UInt32 = 1  // NT_PRSTATUS
  public static let prpsinfoType: UInt32 = 3  // NT_PRPSINFO
  public static let taskstructType: UInt32 = 4  // NT_TASKSTRUCT
  public static let xenCrashInfoType: UInt32 = 0x100_0001
  public static let xenCrashRegistersType: UInt32 = 0x100_0002

  /// A short human name for the note's type.
  public var typeName: String {
    switch (name, type) {
    case ("CORE", 1): return "NT_PRSTATUS"
    case ("CORE", 2): return "NT_PRFPREG"
    case ("CORE", 3): return "NT_PRPSINFO"
    case ("CORE", 4): return "NT_TASKSTRUCT"
    case ("CORE", 6): return "NT_AUXV"
    case ("CORE", 0x202): return "NT_X86_XSTATE"
    case ("LINUX", 0x202): return "NT_X86_XSTATE"
    case ("VMCOREINFO", _): return "VMCOREINFO"
    case ("VMCOREINFO_XEN", _): return "VMCOREINFO_XEN"
    case ("QEMU", 0): return "QEMU CPU state"
    case ("Xen", 0x100_0001): return "XEN_ELFNOTE_CRASH_INFO"
    case ("Xen", 0x100_0002): return "XEN_ELFNOTE_CRASH_REGS"
    case ("Xen", 0x200_0000): return "XEN_ELFNOTE_DUMPCORE_NONE"
    case ("Xen", 0x200_0001): return "XEN_ELFNOTE_DUMPCORE_HEADER"
    case ("Xen", 0x200_0002): return "XEN_ELFNOTE_DUMPCORE_XEN_VERSION"
    case ("Xen", 0x200_0003): return "XEN_ELFNOTE_DUMPCORE_FORMAT_VERSION"
    default: return "type 0x\(String(type, radix: 16))"
    }
  }
}

extension ELFNote {
  /// A bound on the notes in one blob, so corrupt sizes cannot loop long.
  public static let maximumCount = 1 << 16

  /// Parses a blob of ELF notes (`namesz`, `descsz`, `type`, name and
  /// descriptor each padded to 4 bytes).
  ///
  /// Stops at the first malformed note and reports it, keeping what came
  /// before: trailing zero padding after the last note is not an error.
  public static func parseAll(
    _ bytes: [UInt8], order: ByteOrder, baseOffset: UInt64 = 0
  ) -> (notes: [ELFNote], error: DumpError?) {
    var notes: [ELFNote] = []
    var position = 0
    while position + 12 <= bytes.count, notes.count < maximumCount {
      guard let nameSize = bytes.load(UInt32.self, at: position, order),
        let descriptorSize = bytes.load(UInt32.self, at: position + 4, order),
        let type = bytes.load(UInt32.self, at: position + 8, order)
      else { break }
      if nameSize == 0 && descriptorSize == 0 && type == 0 { break }
      let nameStart = position + 12
      let paddedName = (Int(nameSize) + 3) & ~3
      let descriptorStart = nameStart + paddedName
      let paddedDescriptor = (Int(descriptorSize) + 3) & ~3
      guard nameSize <= 4096, descriptorSize <= UInt32(bytes.count),
        descriptorStart + Int(descriptorSize) <= bytes.count
      else {
        let error = DumpError(
          .corrupt,
          "ELF note \(notes.count) declares name size \(nameSize) and "
            + "descriptor size \(descriptorSize), past the end of its segment",
          offset: baseOffset + UInt64(position))
        return (notes, error)
      }
      let nameBytes = bytes[nameStart..<(nameStart + Int(nameSize))]
      let name = String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self)
      let descriptor = Array(
        bytes[descriptorStart..<(descriptorStart + Int(descriptorSize))])
      notes.append(ELFNote(name: name, type: type, descriptor: descriptor))
      position = descriptorStart + paddedDescriptor
    }
    return (notes, nil)
  }
}
