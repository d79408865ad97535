/// The x86 CPU state QEMU's `dump-guest-memory` stores per vCPU in a "QEMU"
/// note (QEMU's `QEMUCPUState`, version 1): general registers, segments,
/// control registers.
public struct QEMUCPUState: Sendable, Equatable {
  public var rip: UInt64
  public var rsp: UInt64
  public var cr0: UInt64
  public var cr3: UInt64
  public var cr4: UInt64
  public var kernelGSBase: UInt64

  /// Offsets in the version-1 layout: 2 words of header, 18 general
  /// registers, 10 segment descriptors of 24 bytes, then cr[0…4].
  static let ripOffset = 8 + 16 * 8
  static let rspOffset = 8 + 6 * 8
  static let crOffset = 8 + 18 * 8 + 10 * 24

  public init(parsing bytes: [UInt8], order: ByteOrder) throws(DumpError) {
    guard let version = bytes.load(UInt32.self, at: 0, order), version == 1,
      bytes.count >= Self.crOffset + 6 * 8
    else {
      throw DumpError(.unsupported, "QEMU CPU state note of \(bytes.count) bytes is not version 1")
    }
    func word(_ offset: Int) -> UInt64 { bytes.load(UInt64.self, at: offset, order) ?? 0 }
    rip = word(Self.ripOffset)
    rsp = word(Self.rspOffset)
    cr0 = word(Self.crOffset)
    cr3 = word(Self.crOffset + 3 * 8)
    cr4 = word(Self.crOffset + 4 * 8)
    kernelGSBase = word(Self.crOffset + 5 * 8)
  }
}
