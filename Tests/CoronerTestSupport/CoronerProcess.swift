import Foundation

/// Runs the built `coroner` binary as a process, as a user would.
public enum CoronerProcess {
  public struct Result {
    public var status: Int32
    public var output: Data
    public var error: Data
    public var outputText: String { String(decoding: output, as: UTF8.self) }
    public var errorText: String { String(decoding: error, as: UTF8.self) }
  }

  /// The binary: beside the test bundle (debug or release), or in a
  /// `.build*/debug` folder of the package.
  public static let binary: URL? = {
    let fileManager = FileManager.default
    let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    var candidates = [beside.appendingPathComponent("coroner")]
    let package = Fixtures.root.deletingLastPathComponent()
    let builds =
      (try? fileManager.contentsOfDirectory(atPath: package.path))?.filter {
        $0.hasPrefix(".build")
      } ?? []
    candidates += builds.sorted().map { package.appendingPathComponent("\($0)/debug/coroner") }
    return candidates.first { fileManager.isExecutableFile(atPath: $0.path) }
  }()

  public static func run(_ arguments: [String]) throws -> Result {
    guard let binary else { throw FixtureError("the coroner binary was not found") }
    let directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("coroner-run-\(getpid())-\(UInt64.random(in: 0...UInt64.max))")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let outputURL = directory.appendingPathComponent("stdout")
    let errorURL = directory.appendingPathComponent("stderr")
    _ = FileManager.default.createFile(atPath: outputURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errorURL.path, contents: nil)
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    process.standardOutput = try FileHandle(forWritingTo: outputURL)
    process.standardError = try FileHandle(forWritingTo: errorURL)
    try process.run()
    process.waitUntilExit()
    return Result(
      status: process.terminationStatus, output: try Data(contentsOf: outputURL),
      error: try Data(contentsOf: errorURL))
  }
}
