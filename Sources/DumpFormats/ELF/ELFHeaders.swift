/// The parts of an ELF core file's headers coroner needs: class, byte order,
/// machine, program headers and section headers (with names).
public struct ELFHeaders: Sendable {
  public struct ProgramHeader: Sendable, Equatable {
    public var type: UInt32
    public var flags: UInt32
    public var offset: UInt64
    public var virtualAddress: UInt64
    public var physicalAddress: UInt64
    public var fileSize: UInt64
    public var memorySize: UInt64

    public static let load: UInt32 = 1  // PT_LOAD
    public static let note: UInt32 = 4  // PT_NOTE
  }

  public struct SectionHeader: Sendable, Equatable {
    public var name: String
    public var type: UInt32
    public var offset: UInt64
    public var size: UInt64
    public var entrySize: UInt64
  }

  public var is64Bit: Bool
  public var order: ByteOrder
  public var fileType: UInt16
  public var machine: UInt16
  public var programHeaders: [ProgramHeader]
  public var sectionHeaders: [SectionHeader]

  public var architecture: Architecture {
    Architecture(elfMachine: machine, is64Bit: is64Bit, order: order)
  }

  public static let coreFileType: UInt16 = 4  // ET_CORE
}
