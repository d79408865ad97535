import ArgumentParser

#if canImport(Glibc)
  import Glibc
#endif

@main
struct Coroner: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "coroner",
    abstract: "Crash-dump analysis for Linux and Xen.",
    discussion: """
      Exit status: 0 complete answer; 1 the dump could not be read (bad,
      truncated or unsupported input, I/O error); 2 partial answer (some data
      was not in the dump; the output says what); 64 usage error.
      """,
    subcommands: [Info.self, Verify.self, Ps.self, Modules.self, Vtop.self, Read.self, Dmesg.self, Bt.self, Summary.self])

  static func main() {
    if let status = FastPath.run(CommandLine.arguments) { Glibc.exit(status) }
    main(nil)
  }
}
