import ArgumentParser
import DumpFormats

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
