import ArgumentParser
import DumpFormats
import LinuxKernel

/// The dump every command reads, and the debuginfo it may be given.
struct DumpOptions: ParsableArguments {
  @Argument(help: "The dump file (ELF, kdump-compressed, flattened).")
  var dump: String
}

/// The exit statuses coroner promises (Docs/exit-codes.md).
enum ExitStatus {
  static let complete = ExitCode(0)
  static let unreadable = ExitCode(1)
  static let partial = ExitCode(2)
}

/// Prints `error` as one line on standard error and fails with status 1.
func fail(_ error: DumpError) -> ExitCode {
  printError("coroner: \(error)")
  return ExitStatus.unreadable
}

func printError(_ text: String) {
  var standardError = StandardError()
  print(text, to: &standardError)
}

struct StandardError: TextOutputStream {
  mutating func write(_ string: String) {
    var bytes = Array(string.utf8)
    bytes.withUnsafeMutableBytes { raw in
      _ = Glibc.write(2, raw.baseAddress, raw.count)
    }
  }
}

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Debuginfo beyond the dump: a DWARF vmlinux or a System.map.
struct DebugInfoArguments: ParsableArguments {
  @Option(help: "A vmlinux with DWARF debuginfo matching the dump.")
  var vmlinux: String?
  @Option(help: "A System.map matching the dump.")
  var systemMap: String?
  @Flag(help: "Ignore the dump's VMCOREINFO; find the kernel from CPU state and its own tables.")
  var ignoreVmcoreinfo = false

  var options: DebugInfoOptions {
    DebugInfoOptions(vmlinux: vmlinux, systemMap: systemMap, ignoreVMCOREINFO: ignoreVmcoreinfo)
  }
}

/// Opens a dump and its kernel, or fails with one clear line (status 1).
func openSession(_ dump: DumpOptions, _ debugInfo: DebugInfoOptions = DebugInfoOptions()) throws
  -> KernelSession
{
  do {
    let file = try DumpFile.open(path: dump.dump)
    return try KernelSession(dump: file, options: debugInfo)
  } catch {
    throw fail(error.inFile(dump.dump))
  }
}
