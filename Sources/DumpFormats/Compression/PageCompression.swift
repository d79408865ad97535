import CLZO
import CSnappy
import CZlib
import CZstd

/// The compression methods of kdump-compressed pages, with makedumpfile's
/// flag values (`diskdump_mod.h`: `DUMP_DH_COMPRESSED_*`).
public enum PageCompression: String, Sendable, CaseIterable, Codable {
  case zlib
  case lzo
  case snappy
  case zstd

  /// The bit in `page_desc.flags` and in the header's `status`.
  public var flag: UInt32 {
    switch self {
    case .zlib: return 0x1
    case .lzo: return 0x2
    case .snappy: return 0x4
    case .zstd: return 0x20
    }
  }

  /// The methods named by a set of flag bits.
  public static func methods(inFlags flags: UInt32) -> [PageCompression] {
    allCases.filter { flags & $0.flag != 0 }
  }
}

/// Decompresses kdump pages through the C libraries (zlib, liblzo2, snappy,
/// libzstd). Holds a reusable zstd context.
final class PageDecompressor {
  private var zstdContext: OpaquePointer?
  private static let lzoReady: Bool = coroner_lzo_init() == LZO_E_OK

  init() {}

  deinit {
    if let zstdContext { ZSTD_freeDCtx(zstdContext) }
  }

  /// Decompresses `input` into exactly `output.count` bytes.
  ///
  /// - Throws: `DumpError` `.corrupt` when the library rejects the data or
  ///   yields another size.
  func decompress(
    _ method: PageCompression, _ input: UnsafeRawBufferPointer,
    into output: UnsafeMutableRawBufferPointer
  ) throws(DumpError) {
    guard let source = input.baseAddress, let target = output.baseAddress else {
      throw DumpError(.corrupt, "empty \(method.rawValue) page")
    }
    var produced = 0
    var failure = ""
    switch method {
    case .zlib:
      var length = uLongf(output.count)
      let status = uncompress(
        target.assumingMemoryBound(to: Bytef.self), &length,
        source.assumingMemoryBound(to: Bytef.self), uLong(input.count))
      if status != Z_OK { failure = "zlib status \(status)" }
      produced = Int(length)
    case .lzo:
      guard Self.lzoReady else {
        throw DumpError(.unsupported, "liblzo2 failed to initialise")
      }
      var length = lzo_uint(output.count)
      let status = lzo1x_decompress_safe(
        source.assumingMemoryBound(to: UInt8.self), lzo_uint(input.count),
        target.assumingMemoryBound(to: UInt8.self), &length, nil)
      if status != LZO_E_OK { failure = "lzo status \(status)" }
      produced = Int(length)
    case .snappy:
      var length = output.count
      let status = snappy_uncompress(
        source.assumingMemoryBound(to: CChar.self), input.count,
        target.assumingMemoryBound(to: CChar.self), &length)
      if status != SNAPPY_OK { failure = "snappy status \(status.rawValue)" }
      produced = length
    case .zstd:
      if zstdContext == nil { zstdContext = ZSTD_createDCtx() }
      guard let context = zstdContext else {
        throw DumpError(.io, "cannot create a zstd context")
      }
      let result = ZSTD_decompressDCtx(
        context, target, output.count, source, input.count)
      if ZSTD_isError(result) != 0 {
        failure = "zstd: " + String(cString: ZSTD_getErrorName(result))
      }
      produced = result
    }
    if !failure.isEmpty {
      throw DumpError(.corrupt, "\(method.rawValue) page does not decompress (\(failure))")
    }
    guard produced == output.count else {
      throw DumpError(
        .corrupt,
        "\(method.rawValue) page decompresses to \(produced) bytes, not \(output.count)")
    }
  }
}
