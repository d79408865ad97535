import LinuxKernel

/// The commonest invocations, `coroner dmesg|ps|info|summary DUMP` with at
/// most `--json`, run without swift-argument-parser: its run-time type
/// lookups cost about 3 ms at start-up, more than `dmesg` itself takes.
/// Anything else (other options, help, errors) goes to the parser, so both
/// paths behave alike.
enum FastPath {
  /// Objects kept until the process exits rather than freed piece by piece
  /// (a kernel session holds ~100k symbol names; the kernel reclaims the
  /// whole heap at exit for free).
  nonisolated(unsafe) static var keptUntilExit: [AnyObject] = []

  /// Runs a simple invocation and returns its exit status, or nil.
  static func run(_ arguments: [String]) -> Int32? {
    var words = Array(arguments.dropFirst())
    var json = false
    if let index = words.firstIndex(of: "--json") {
      json = true
      words.remove(at: index)
    }
    guard words.count == 2, let path = words.last, !path.hasPrefix("-") else { return nil }
    switch words[0] {
    case "dmesg": return Dmesg.execute(path: path, json: json, raw: false, tail: nil)
    case "ps": return Ps.execute(path: path, json: json, debugInfo: DebugInfoOptions())
    case "info": return Info.execute(path: path, json: json)
    case "summary":
      return Summary.execute(path: path, format: json ? .json : .text, debugInfo: DebugInfoOptions())
    default: return nil
    }
  }
}
