import DumpFormats

/// A real dump seen through damage: cut short at `length` bytes and with some
/// bytes flipped, without copying the file. Tests use it to check that no
/// truncated or corrupt input traps or hangs.
public final class DamagedByteSource: ByteSource {
  public let base: ByteSource
  public let size: UInt64
  public let flips: [UInt64: UInt8]
  public var name: String { base.name + " (damaged)" }

  public init(_ base: ByteSource, length: UInt64? = nil, flips: [UInt64: UInt8] = [:]) {
    self.base = base
    size = min(length ?? base.size, base.size)
    self.flips = flips
  }

  public func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer)
    throws(DumpError)
  {
    guard offset <= size, UInt64(buffer.count) <= size - offset else {
      throw DumpError(.truncated, "cut-short file ends before 0x\(String(offset, radix: 16))")
    }
    try base.read(at: offset, into: buffer)
    for (position, mask) in flips where position >= offset && position < offset + UInt64(buffer.count) {
      buffer[Int(position - offset)] ^= mask
    }
  }
}

/// A small deterministic generator for reproducible damage.
public struct SeededGenerator: RandomNumberGenerator {
  private var state: UInt64
  public init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
