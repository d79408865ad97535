import CLZMA
import DumpFormats
import Foundation

/// The committed real-dump fixtures (Fixtures/), with `.xz` files unpacked
/// once into a cache beside the build (liblzma, streaming, written to a
/// temporary file then renamed).
public enum Fixtures {
  /// The repository's Fixtures/ folder.
  public static let root: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures")

  /// Where unpacked fixtures are kept.
  public static let cache: URL = root.deletingLastPathComponent()
    .appendingPathComponent(".build/fixture-cache")

  /// Every fixture folder that holds an `expected/facts.json`.
  public static var folders: [URL] {
    let names =
      (try? FileManager.default.contentsOfDirectory(atPath: root.path))?.sorted() ?? []
    return names.map { root.appendingPathComponent($0) }.filter {
      FileManager.default.fileExists(atPath: $0.appendingPathComponent("expected/facts.json").path)
    }
  }

  /// The architecture a fixture's facts name ("x86_64" when unstated).
  public static func architecture(of folder: URL) -> String {
    (try? facts(in: folder))?["arch"] as? String ?? "x86_64"
  }

  /// Fixture folders of x86-64 kernels (the ones kernel analysis reads).
  public static var x86Folders: [URL] { folders.filter { architecture(of: $0) == "x86_64" } }

  /// The dump files in a fixture folder: `vmcore*` files (unpacked when
  /// compressed with xz) and the members of `*.tar.xz` archives (several
  /// containers of one dump share pages, which xz stores once).
  public static func dumps(in folder: URL) throws -> [String] {
    let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
    var paths: [String] = []
    for name in names {
      let file = folder.appendingPathComponent(name)
      if name.hasSuffix(".tar.xz") {
        paths += try members(ofArchive: file).filter {
          URL(fileURLWithPath: $0).lastPathComponent.hasPrefix("vmcore")
        }
      } else if name.hasPrefix("vmcore") {
        paths.append(try path(of: file))
      }
    }
    return paths.sorted { URL(fileURLWithPath: $0).lastPathComponent < URL(fileURLWithPath: $1).lastPathComponent }
  }

  /// The dumps of a folder that hold a whole kernel: every dump but the
  /// parts of a `makedumpfile --split` set (`*.splitNofM.*`), which hold a
  /// range of page frames each and serve the container tests.
  public static func analysableDumps(in folder: URL) throws -> [String] {
    try dumps(in: folder).filter { !URL(fileURLWithPath: $0).lastPathComponent.contains(".split") }
  }

  /// Unpacks a `.tar.xz` once into the cache and lists its members' paths.
  public static func members(ofArchive file: URL) throws -> [String] {
    unpacking.lock()
    defer { unpacking.unlock() }
    let tar = try path(of: file)  // the .tar, unpacked from .xz
    let directory = URL(fileURLWithPath: tar + ".d")
    let stamp = directory.appendingPathComponent(".complete")
    let tarStamp = (try? String(contentsOf: URL(fileURLWithPath: tar + ".stamp"), encoding: .utf8)) ?? "?"
    if (try? String(contentsOf: stamp, encoding: .utf8)) != tarStamp {
      let staging = URL(fileURLWithPath: tar + ".d-\(getpid())-\(UUID().uuidString)")
      try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
      try UStarArchive.extract(tar, into: staging)
      try tarStamp.write(to: staging.appendingPathComponent(".complete"), atomically: false, encoding: .utf8)
      _ = try? FileManager.default.removeItem(at: directory)
      if rename(staging.path, directory.path) != 0 {
        // Another test finished the same extraction first.
        _ = try? FileManager.default.removeItem(at: staging)
      }
    }
    return try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
      .filter { !$0.hasPrefix(".") }.map { directory.appendingPathComponent($0).path }
  }

  /// The facts the generator wrote from the reference tools.
  public static func facts(in folder: URL) throws -> [String: Any] {
    let data = try Data(contentsOf: folder.appendingPathComponent("expected/facts.json"))
    return (try JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
  }

  /// Serialises unpacking within the test process (tests run in parallel);
  /// temporary names and rename(2) keep other processes safe.
  private static let unpacking = NSRecursiveLock()

  /// A usable path for a fixture file: itself, or its unpacked copy.
  public static func path(of file: URL) throws -> String {
    guard file.pathExtension == "xz" else { return file.path }
    unpacking.lock()
    defer { unpacking.unlock() }
    let relative = file.path.dropFirst(root.path.count + 1).dropLast(3)
    let target = cache.appendingPathComponent(String(relative))
    let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
    let stamp = "\(attributes[.size] ?? 0)-\((attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)"
    let stampFile = target.appendingPathExtension("stamp")
    if let existing = try? String(contentsOf: stampFile, encoding: .utf8), existing == stamp,
      FileManager.default.fileExists(atPath: target.path)
    {
      return target.path
    }
    try FileManager.default.createDirectory(
      at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
    // A unique temporary name, then an atomic rename(2): concurrent tests
    // unpacking the same file each write their own copy, and the last
    // rename wins with identical contents.
    let temporary = target.appendingPathExtension("partial-\(getpid())-\(UUID().uuidString)")
    try unpackXZ(from: file.path, to: temporary.path)
    guard rename(temporary.path, target.path) == 0 else {
      throw FixtureError("cannot rename \(temporary.path) to \(target.path)")
    }
    let stampTemporary = stampFile.appendingPathExtension(UUID().uuidString)
    try stamp.write(to: stampTemporary, atomically: false, encoding: .utf8)
    _ = rename(stampTemporary.path, stampFile.path)
    return target.path
  }

  /// Decompresses an .xz file with liblzma, 1 MiB at a time.
  public static func unpackXZ(from source: String, to destination: String) throws {
    guard let input = fopen(source, "rb"), let output = fopen(destination, "wb") else {
      throw FixtureError("cannot open \(source) or \(destination)")
    }
    defer {
      fclose(input)
      fclose(output)
    }
    var stream = lzma_stream()
    guard lzma_stream_decoder(&stream, UInt64.max, 0) == LZMA_OK else {
      throw FixtureError("liblzma cannot start a decoder")
    }
    defer { lzma_end(&stream) }
    let chunk = 1 << 20
    let inBuffer = UnsafeMutablePointer<UInt8>.allocate(capacity: chunk)
    let outBuffer = UnsafeMutablePointer<UInt8>.allocate(capacity: chunk)
    defer {
      inBuffer.deallocate()
      outBuffer.deallocate()
    }
    var endOfInput = false
    while true {
      if stream.avail_in == 0 && !endOfInput {
        let read = fread(inBuffer, 1, chunk, input)
        stream.next_in = UnsafePointer(inBuffer)
        stream.avail_in = read
        if read < chunk { endOfInput = true }
      }
      stream.next_out = outBuffer
      stream.avail_out = chunk
      let status = lzma_code(&stream, endOfInput ? LZMA_FINISH : LZMA_RUN)
      let produced = chunk - stream.avail_out
      if produced > 0, fwrite(outBuffer, 1, produced, output) != produced {
        throw FixtureError("cannot write \(destination)")
      }
      if status == LZMA_STREAM_END { return }
      guard status == LZMA_OK else {
        throw FixtureError("xz data of \(source) is corrupt (status \(status.rawValue))")
      }
    }
  }
}

public struct FixtureError: Error, CustomStringConvertible {
  public var description: String
  public init(_ description: String) { self.description = description }
}

extension Fixtures {
  /// drgn's answers (expected/drgn.json), written by the generator.
  public static func drgn(in folder: URL) throws -> [String: Any] {
    let data = try Data(contentsOf: folder.appendingPathComponent("expected/drgn.json"))
    return (try JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
  }

  /// A text file of reference output (expected/NAME).
  public static func expected(_ name: String, in folder: URL) throws -> String {
    try String(contentsOf: folder.appendingPathComponent("expected/\(name)"), encoding: .utf8)
  }
}
