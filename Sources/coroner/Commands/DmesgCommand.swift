import ArgumentParser
import DumpFormats
import LinuxKernel
import Reports

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

struct Dmesg: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print the kernel log (dmesg) from a dump.",
    discussion: """
      The text is byte for byte what kexec-tools' vmcore-dmesg prints. Exit
      status 2 when part of the log is not in the dump: the records that
      could be read are printed, and the last line on standard error says
      what is missing. Formats and JSON keys: Docs/dmesg.md.
      """)

  @OptionGroup var options: DumpOptions
  @Flag(help: "Print a JSON array of records (keys in Docs/dmesg.md).")
  var json = false
  @Flag(help: "Start every line with <priority> (facility * 8 + level), as dmesg -r does.")
  var raw = false
  @Option(name: .long, help: "Print only the last N records.")
  var tail: Int?

  func validate() throws {
    if json && raw { throw ValidationError("--json and --raw cannot be used together.") }
    if let tail, tail < 0 { throw ValidationError("--tail needs a count of 0 or more.") }
  }

  func run() throws {
    let status = Self.execute(path: options.dump, json: json, raw: raw, tail: tail)
    if status != 0 { throw ExitCode(status) }
  }

  /// The command's work, shared with the fast path (FastPath.swift).
  static func execute(path: String, json: Bool, raw: Bool, tail: Int?) -> Int32 {
    let log: KernelLog
    do throws(DumpError) {
      let dump = try DumpFile.open(path: path)
      do throws(DumpError) {
        log = try KernelLog.read(from: dump)
      } catch {
        throw error.inFile(path)
      }
    } catch {
      printError("coroner: \(error)")
      return ExitStatus.unreadable.rawValue
    }
    let shown = tail.map { log.suffix(messages: $0) } ?? log
    let output: [UInt8]
    if json {
      output = Array((DmesgReport(log: shown).json.rendered() + "\n").utf8)
    } else if raw {
      output = shown.rawText()
    } else {
      output = shown.vmcoreDmesgText()
    }
    guard writeAll(output) else {
      printError("coroner: \(path): cannot write the log to standard output")
      return ExitStatus.unreadable.rawValue
    }
    if !log.isComplete {
      printError("coroner: \(path): partial log: " + log.problems.joined(separator: "; "))
      return ExitStatus.partial.rawValue
    }
    return 0
  }

  /// Writes `bytes` to standard output in as few system calls as it takes.
  static func writeAll(_ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { buffer in
      var done = 0
      // Each write either makes progress or ends the loop.
      while done < buffer.count {
        guard let base = buffer.baseAddress else { return false }
        let written = write(1, base + done, buffer.count - done)
        if written < 0 && errno == EINTR { continue }
        guard written > 0 else { return false }
        done += written
      }
      return true
    }
  }
}
