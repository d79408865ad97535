// coroner-bench: how fast coroner reads every present page of a
// kdump-compressed dump, against the floor of decompressing the same page
// data with the same library (zlib's `uncompress`, libzstd's
// `ZSTD_decompressDCtx`) from memory. Prints both and their ratio.
//
// Usage: coroner-bench KDUMP [REPEATS]
import CZlib
import CZstd
import DumpFormats
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

func now() -> Double {
  var time = timespec()
  clock_gettime(CLOCK_MONOTONIC, &time)
  return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
  print("usage: coroner-bench KDUMP [REPEATS]")
  exit(64)
}
let repeats = arguments.count > 2 ? Int(arguments[2]) ?? 5 : 5
do {
  let path = arguments[1]
  let probe = try DumpFile.open(path: path)
  guard let kdump = probe.kdump else {
    print("\(path): not a kdump-compressed file")
    exit(1)
  }
  let census = try kdump.census()
  let pageSize = kdump.pageSize
  // Load every written page's data once.
  var blobs: [(flags: UInt32, bytes: [UInt8])] = []
  for index in 0..<census.present {
    let descriptor = try kdump.descriptor(atIndex: index)
    blobs.append((descriptor.flags, try kdump.source.read(at: descriptor.offset, count: Int(descriptor.size))))
  }
  var output = [UInt8](repeating: 0, count: pageSize)
  let context = ZSTD_createDCtx()
  defer { ZSTD_freeDCtx(context) }
  func rawPass() -> Double {
    let start = now()
    for blob in blobs {
      blob.bytes.withUnsafeBytes { input in
        output.withUnsafeMutableBytes { target in
          guard let source = input.baseAddress, let destination = target.baseAddress else { return }
          if blob.flags & 0x1 != 0 {
            var length = uLongf(pageSize)
            _ = uncompress(
              destination.assumingMemoryBound(to: Bytef.self), &length,
              source.assumingMemoryBound(to: Bytef.self), uLong(input.count))
          } else if blob.flags & 0x20 != 0 {
            _ = ZSTD_decompressDCtx(context, destination, pageSize, source, input.count)
          } else {
            target.copyMemory(from: input)
          }
        }
      }
    }
    return now() - start
  }
  func coronerPass() throws -> Double {
    let start = now()
    let dump = try DumpFile.open(path: path)
    let result = dump.memory.verifyAllPages()
    guard result.failures == 0 else { throw DumpError(.corrupt, "\(result.failures) pages failed") }
    return now() - start
  }
  let raw = (0..<repeats).map { _ in rawPass() }.sorted()[repeats / 2]
  let coroner = try (0..<repeats).map { _ in try coronerPass() }.sorted()[repeats / 2]
  let megabytes = Double(census.present) * Double(pageSize) / 1_048_576
  let method = probe.compressions.map(\.rawValue).joined(separator: ",")
  print("dump: \(path) (\(method.isEmpty ? "raw" : method), \(census.present) pages, \(String(format: "%.1f", megabytes)) MiB)")
  print("library decompression from memory: \(String(format: "%.1f", raw * 1000)) ms (\(String(format: "%.0f", megabytes / raw)) MiB/s)")
  print("coroner reading every present page: \(String(format: "%.1f", coroner * 1000)) ms (\(String(format: "%.0f", megabytes / coroner)) MiB/s)")
  print("ratio coroner/library: \(String(format: "%.2f", coroner / raw))")
} catch {
  print("coroner-bench: \(error)")
  exit(1)
}
