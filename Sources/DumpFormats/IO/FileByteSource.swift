#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// A file opened read-only and read with positioned I/O (`pread`).
///
/// Nothing is mapped or cached here: memory use does not depend on the file's
/// size. Callers keep their own small caches of decoded pages.
public final class FileByteSource: ByteSource {
  public let name: String
  public let size: UInt64
  private let descriptor: Int32

  /// Opens `path` read-only.
  ///
  /// - Throws: `DumpError` `.io` naming the file and the system's reason.
  public init(path: String) throws(DumpError) {
    name = path
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else {
      throw DumpError(.io, "cannot open: \(String(cString: strerror(errno)))", file: path)
    }
    var info = stat()
    guard fstat(fd, &info) == 0 else {
      let reason = String(cString: strerror(errno))
      close(fd)
      throw DumpError(.io, "cannot stat: \(reason)", file: path)
    }
    if (info.st_mode & S_IFMT) == S_IFDIR {
      close(fd)
      throw DumpError(.io, "is a directory", file: path)
    }
    descriptor = fd
    size = UInt64(max(0, info.st_size))
    _ = posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM)
  }

  deinit { close(descriptor) }

  public func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer)
    throws(DumpError)
  {
    let count = UInt64(buffer.count)
    guard offset <= size, count <= size - offset else {
      throw DumpError(
        .truncated,
        "file ends before byte range 0x\(String(offset, radix: 16))+\(count) "
          + "(file size \(size))", file: name, offset: offset)
    }
    var done = 0
    while done < buffer.count {
      guard let base = buffer.baseAddress else { return }
      let result = pread(
        descriptor, base + done, buffer.count - done,
        off_t(offset) + off_t(done))
      if result < 0 {
        if errno == EINTR { continue }
        throw DumpError(
          .io, "read failed: \(String(cString: strerror(errno)))", file: name,
          offset: offset)
      }
      if result == 0 {
        throw DumpError(.truncated, "file shrank while reading", file: name, offset: offset)
      }
      done += result
    }
  }
}

/// Bytes held in memory: tests, and small reassembled headers.
public final class MemoryByteSource: ByteSource {
  public let name: String
  public let bytes: [UInt8]
  public var size: UInt64 { UInt64(bytes.count) }

  public init(_ bytes: [UInt8], name: String = "<memory>") {
    self.bytes = bytes
    self.name = name
  }

  public func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer)
    throws(DumpError)
  {
    guard offset <= size, UInt64(buffer.count) <= size - offset else {
      throw DumpError(
        .truncated, "data ends before byte range 0x\(String(offset, radix: 16))+\(buffer.count)",
        file: name, offset: offset)
    }
    let start = Int(offset)
    bytes.withUnsafeBytes { source in
      buffer.copyMemory(
        from: UnsafeRawBufferPointer(rebasing: source[start..<(start + buffer.count)]))
    }
  }
}
