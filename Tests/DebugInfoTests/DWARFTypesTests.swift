import CoronerTestSupport
import DumpFormats
import Foundation
import Testing

@testable import DebugInfo

// DWARF types, ELF symbols and build-id checks of `--vmlinux`.
//
// Two kinds of evidence: a small C file compiled on the spot by gcc (skipped
// without gcc), whose layouts are checked against what the compiled program
// itself prints with offsetof/sizeof; and Debian's DWARF vmlinux files, too
// big for the repository, checked against the gdb-derived
// Fixtures/<fixture>/expected/dwarf-layouts.json (written by
// Fixtures/generator/dwarf-layouts.sh) when they are in $CORONER_VMLINUX_DIR
// or /var/tmp/coroner-fixture-cache/vmlinux, and skipped otherwise.

/// The cached DWARF vmlinux files.
enum CachedVmlinux {
  static let directory =
    ProcessInfo.processInfo.environment["CORONER_VMLINUX_DIR"]
    ?? "/var/tmp/coroner-fixture-cache/vmlinux"

  /// Every `vmlinux-*` in the directory, sorted.
  static let paths: [String] = {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    return names.filter { $0.hasPrefix("vmlinux-") }.sorted().map { directory + "/" + $0 }
  }()

  static var available: Bool { !paths.isEmpty }

  /// The vmlinux to time: the 6.1 amd64 one, else any amd64, else any.
  static var preferred: String? {
    let amd64 = paths.filter { $0.hasSuffix("-amd64") }
    return amd64.first { $0.contains("/vmlinux-6.1.") } ?? amd64.first ?? paths.first
  }

  static let skipMessage: Comment =
    "no DWARF vmlinux in \(directory) (set CORONER_VMLINUX_DIR; the files come from Debian's linux-image-*-dbg packages)"
}

/// gcc, and running what it builds.
enum CCompiler {
  static let path: String? = ["/usr/bin/gcc", "/usr/local/bin/gcc", "/bin/gcc"].first {
    FileManager.default.isExecutableFile(atPath: $0)
  }

  /// Runs a program and returns its standard output; throws on failure.
  static func run(_ executable: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    let message = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw FixtureError(
        "\(executable) \(arguments.joined(separator: " ")) failed: "
          + String(decoding: message, as: UTF8.self))
    }
    return String(decoding: data, as: UTF8.self)
  }

  /// A fresh temporary folder.
  static func temporaryFolder() throws -> URL {
    let folder = FileManager.default.temporaryDirectory
      .appendingPathComponent("coroner-dwarf-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
  }
}

/// The C file the synthetic tests compile: nested structs, an anonymous
/// union and struct, bit-fields that start new storage units, arrays
/// (flexible and two-dimensional), qualified pointers, signed, unsigned and
/// anonymous enums, typedefs. The program prints the truth: offsetof and
/// sizeof, and for bit-fields the first bit and width found by setting the
/// field to all ones.
let syntheticSource = #"""
  #include <stddef.h>
  #include <stdio.h>
  #include <string.h>

  struct list_head { struct list_head *next, *prev; };
  typedef unsigned int u32;
  typedef struct list_head list_t;
  enum color { RED = 1, GREEN = 2, BLUE = -3 };
  enum wide { WIDE_TOP = 0xfffffff0u };
  enum { ANONYMOUS_CONSTANT = 42 };
  struct inner { long a; u32 b; };
  struct sample {
    int first;
    list_t link;
    union { u32 word; unsigned char raw[6]; };
    struct { short tag; struct inner nested; };
    unsigned int low : 3;
    unsigned int mid : 5;
    unsigned int high : 30;
    unsigned long long wide : 40;
    unsigned char bytes[7];
    int matrix[2][3];
    const volatile struct inner *pointer;
    enum color color;
    char tail[];
  };
  typedef struct sample sample_t;
  union both { int i; double d; };

  struct sample global_sample;
  sample_t *global_pointer;
  union both global_union;
  enum wide global_wide;
  int anonymous_user = ANONYMOUS_CONSTANT;
  const char linux_banner[] = "Linux version 9.9.9-synthetic (test@coroner) #1 SMP\n";

  static void bits(const char *name, struct sample *s) {
    const unsigned char *bytes = (const unsigned char *)s;
    int first = -1, width = 0;
    for (size_t i = 0; i < sizeof *s * 8; i++) {
      if (bytes[i / 8] & (1u << (i % 8))) {
        if (first < 0) first = (int)i;
        width++;
      }
    }
    printf("bits %s %d %d\n", name, first, width);
  }

  #define MEMBER(path) printf("member " #path " %zu %zu\n", offsetof(struct sample, path), \
    sizeof(((struct sample *)0)->path))

  int main(void) {
    struct sample s;
    printf("size sample %zu\n", sizeof(struct sample));
    printf("size inner %zu\n", sizeof(struct inner));
    printf("size both %zu\n", sizeof(union both));
    MEMBER(first); MEMBER(link); MEMBER(link.prev); MEMBER(word); MEMBER(raw);
    MEMBER(tag); MEMBER(nested); MEMBER(nested.b); MEMBER(bytes); MEMBER(matrix);
    MEMBER(pointer); MEMBER(color);
    printf("member tail %zu 0\n", offsetof(struct sample, tail));
    memset(&s, 0, sizeof s); s.low = ~0u; bits("low", &s);
    memset(&s, 0, sizeof s); s.mid = ~0u; bits("mid", &s);
    memset(&s, 0, sizeof s); s.high = ~0u; bits("high", &s);
    memset(&s, 0, sizeof s); s.wide = ~0ull; bits("wide", &s);
    return 0;
  }
  """#

/// A compiled synthetic program and what it printed.
struct SyntheticProgram {
  var binary: String
  var sizes: [String: Int] = [:]
  var members: [String: (offset: Int, size: Int)] = [:]
  var bits: [String: (first: Int, width: Int)] = [:]

  /// Compiles and runs the C file with `-g<flag>`.
  init(dwarf flag: String, in folder: URL, debug: Bool = true) throws {
    let gcc = try #require(CCompiler.path)
    let source = folder.appendingPathComponent("sample.c")
    try syntheticSource.write(to: source, atomically: true, encoding: .utf8)
    binary = folder.appendingPathComponent("sample-\(flag)").path
    // Linked, not just `-c`: libdw does not apply an object file's
    // relocations to its .debug_info (libdwfl would), and the names there
    // are relocated .debug_str offsets.
    var arguments = ["-O0", "-fno-eliminate-unused-debug-types", "-o", binary, source.path]
    if debug { arguments.insert("-g\(flag)", at: 0) }
    _ = try CCompiler.run(gcc, arguments)
    for line in try CCompiler.run(binary, []).split(separator: "\n") {
      let words = line.split(separator: " ").map(String.init)
      guard words.count >= 3 else { continue }
      switch words[0] {
      case "size": sizes[words[1]] = Int(words[2])
      case "member": members[words[1]] = (Int(words[2]) ?? -1, Int(words[3]) ?? -1)
      case "bits": bits[words[1]] = (Int(words[2]) ?? -1, Int(words[3]) ?? -1)
      default: break
      }
    }
  }
}

@Suite("DWARF types of a C file compiled by gcc", .enabled(if: CCompiler.path != nil, "gcc is not installed"))
struct SyntheticDWARFTests {
  /// DWARF 2 has `DW_OP_plus_uconst` member locations and big-endian
  /// `DW_AT_bit_offset`; DWARF 4 constant locations; DWARF 5
  /// `DW_AT_data_bit_offset`.
  @Test(arguments: ["dwarf-2", "dwarf-4", "dwarf-5"])
  func layoutsMatchTheCompiler(_ flag: String) throws {
    let folder = try CCompiler.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let program = try SyntheticProgram(dwarf: flag, in: folder)
    let types = try DWARFTypes(path: program.binary)

    #expect(types.size(of: "sample") == program.sizes["sample"])
    #expect(types.size(of: "struct sample") == program.sizes["sample"])
    #expect(types.size(of: "sample_t") == program.sizes["sample"])
    #expect(types.size(of: "inner") == program.sizes["inner"])
    #expect(types.size(of: "both") == program.sizes["both"])
    #expect(types.size(of: "union both") == program.sizes["both"])
    #expect(types.size(of: "struct both") == nil)
    #expect(types.size(of: "u32") == 4)
    #expect(types.size(of: "unsigned int") == 4)
    #expect(types.size(of: "enum color") == 4)
    #expect(types.size(of: "no_such_type") == nil)

    for (path, truth) in program.members {
      let layout = try #require(types.member(path, in: "sample"), "sample.\(path)")
      #expect(layout.byteOffset == truth.offset, "sample.\(path) offset")
      #expect(layout.size == truth.size, "sample.\(path) size")
      #expect(layout.bitOffset == nil && layout.bitSize == nil, "sample.\(path) is no bit-field")
    }
    for (name, truth) in program.bits {
      let layout = try #require(types.member(name, in: "sample"), "sample.\(name)")
      let bitOffset = try #require(layout.bitOffset, "sample.\(name) bit offset")
      #expect(layout.byteOffset * 8 + bitOffset == truth.first, "sample.\(name) first bit")
      #expect((0..<8).contains(bitOffset))
      #expect(layout.bitSize == truth.width, "sample.\(name) width")
    }
    #expect(types.member("low", in: "sample")?.size == 4)
    #expect(types.member("wide", in: "sample")?.size == 8)

    let link = try #require(types.member("link", in: "sample_t"))
    #expect(link.typeName == "struct list_head" && !link.isPointer)
    let prev = try #require(types.member("link.prev", in: "sample"))
    #expect(prev.typeName == "pointer" && prev.isPointer && prev.size == 8)
    #expect(types.member("word", in: "sample")?.typeName == "unsigned int")
    #expect(types.member("nested", in: "sample")?.typeName == "struct inner")
    #expect(types.member("pointer", in: "sample")?.isPointer == true)
    #expect(types.member("color", in: "sample")?.typeName == "enum color")
    let raw = try #require(types.member("raw", in: "sample"))
    #expect(raw.typeName == "array" && raw.arrayCount == 6 && raw.elementSize == 1)
    let matrix = try #require(types.member("matrix", in: "sample"))
    #expect(matrix.arrayCount == 2 && matrix.elementSize == 12 && matrix.size == 24)
    let tail = try #require(types.member("tail", in: "sample"))
    #expect(tail.arrayCount == nil && tail.elementSize == 1 && tail.size == 0)

    #expect(types.member("missing", in: "sample") == nil)
    #expect(types.member("link.missing", in: "sample") == nil)
    #expect(types.member("first.x", in: "sample") == nil)
    #expect(types.member("", in: "sample") == nil)
    #expect(types.member("link..prev", in: "sample") == nil)
    #expect(types.member("first", in: "no_such_type") == nil)
    #expect(types.member("a", in: "u32") == nil)

    #expect(types.enumerator("RED") == 1)
    #expect(types.enumerator("BLUE") == -3)
    #expect(types.enumerator("WIDE_TOP") == 0xffff_fff0)
    #expect(types.enumerator("ANONYMOUS_CONSTANT") == 42)
    #expect(types.enumerator("NO_SUCH_ENUMERATOR") == nil)
    #expect(types.problem == nil)
  }

  @Test func symbolsAndIdentityOfTheProgram() throws {
    let folder = try CCompiler.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let program = try SyntheticProgram(dwarf: "dwarf-5", in: folder)

    let plain = try ELFSymbolTable(path: program.binary, kaslrDelta: 0)
    let main = try #require(plain.symbol(named: "main"))
    #expect(main.type == "T")
    let mainSize = try #require(main.size)
    #expect(mainSize > 0)
    #expect(plain.symbol(named: "bits")?.type == "t")
    #expect(plain.symbol(named: "global_sample")?.type == "B")
    #expect(plain.symbol(named: "anonymous_user")?.type == "D")
    #expect(plain.symbol(named: "linux_banner")?.type == "R")
    #expect(plain.symbol(containing: main.address)?.name == "main")
    #expect(plain.symbol(containing: main.address + mainSize - 1)?.name == "main")
    #expect(plain.describe(main.address + 4) == "main+0x4/0x" + String(mainSize, radix: 16))

    let moved = try ELFSymbolTable(path: program.binary, kaslrDelta: 0x4000_0000)
    #expect(moved.address(of: "main") == main.address + 0x4000_0000)
    #expect(moved.symbol(containing: main.address + 0x4000_0000 + 1)?.name == "main")
    #expect(moved.symbol(containing: main.address)?.name != "main")
    #expect(moved.address(of: "no_such_symbol") == nil)

    let identity = try VmlinuxIdentity(path: program.binary)
    #expect(identity.release == "9.9.9-synthetic")
    var same = VMCoreInfo()
    same.values["OSRELEASE"] = "9.9.9-synthetic"
    var other = VMCoreInfo()
    other.values["OSRELEASE"] = "9.9.8"
    if let buildID = identity.buildID {
      #expect(buildID.count >= 16 && buildID.allSatisfy(\.isHexDigit))
      same.values["BUILD-ID"] = buildID.uppercased()
      other.values["BUILD-ID"] = String(repeating: "ab", count: buildID.count / 2)
      #expect(try identity.verify(against: same) == .buildID)
      let error = #expect(throws: DumpError.self) { try identity.verify(against: other) }
      #expect(error?.kind == .missingInformation)
      #expect(error?.message.contains(buildID) == true)
      #expect(error?.message.contains(String(repeating: "ab", count: buildID.count / 2)) == true)
    } else {
      #expect(try identity.verify(against: same) == .release)
      #expect(throws: DumpError.self) { try identity.verify(against: other) }
    }
    var releaseOnly = VMCoreInfo()
    releaseOnly.values["OSRELEASE"] = "1.2.3"
    #expect(throws: DumpError.self) { try identity.verify(against: releaseOnly) }
    #expect(try identity.verify(against: VMCoreInfo()) == .unverified)
  }

  @Test func unusableFilesAreErrors() throws {
    let folder = try CCompiler.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let missing = folder.appendingPathComponent("missing").path
    #expect(throws: DumpError.self) { try DWARFTypes(path: missing) }
    #expect((try? DWARFTypes(path: missing)) == nil)
    do {
      _ = try DWARFTypes(path: missing)
    } catch {
      #expect(error.kind == .io)
    }

    let text = folder.appendingPathComponent("text")
    try "not an ELF file".write(to: text, atomically: true, encoding: .utf8)
    do {
      _ = try ELFSymbolTable(path: text.path, kaslrDelta: 0)
      Issue.record("a text file was read as ELF")
    } catch {
      #expect(error.kind == .corrupt)
    }

    // Built without -g: symbols but no DWARF.
    let program = try SyntheticProgram(dwarf: "", in: folder, debug: false)
    do {
      _ = try DWARFTypes(path: program.binary)
      Issue.record("a file without DWARF was accepted")
    } catch {
      #expect(error.kind == .missingInformation)
    }
    #expect(try ELFSymbolTable(path: program.binary, kaslrDelta: 0).address(of: "main") != nil)
  }

  /// Truncated and damaged copies give errors or no answers, never a crash.
  @Test func damagedFilesDoNotCrash() throws {
    let folder = try CCompiler.temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let program = try SyntheticProgram(dwarf: "dwarf-5", in: folder)
    let original = try [UInt8](Data(contentsOf: URL(fileURLWithPath: program.binary)))
    let copy = folder.appendingPathComponent("damaged").path

    func exercise() {
      if let types = try? DWARFTypes(path: copy) {
        _ = types.size(of: "sample")
        _ = types.member("nested.b", in: "sample")
        _ = types.member("wide", in: "sample")
        _ = types.member("matrix", in: "sample")
        _ = types.enumerator("NO_SUCH_ENUMERATOR")
      }
      if let symbols = try? ELFSymbolTable(path: copy, kaslrDelta: 0) {
        _ = symbols.symbol(containing: symbols.address(of: "main") ?? 0)
      }
      _ = try? VmlinuxIdentity(path: copy)
    }

    for eighth in 0..<8 {
      try Data(original.prefix(original.count * eighth / 8)).write(to: URL(fileURLWithPath: copy))
      exercise()
    }
    // Deterministic byte damage, everywhere in the file.
    var state: UInt64 = 0x2545_f491_4f6c_dd1d
    for _ in 0..<200 {
      var bytes = original
      for _ in 0..<8 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        let position = Int((state >> 33) % UInt64(bytes.count))
        bytes[position] = UInt8(truncatingIfNeeded: state >> 17)
      }
      try Data(bytes).write(to: URL(fileURLWithPath: copy))
      exercise()
    }
  }
}

@Suite(
  "DWARF types of Debian vmlinux files", .enabled(if: CachedVmlinux.available, CachedVmlinux.skipMessage))
struct VmlinuxDWARFTests {
  /// The members the kernel walkers read, checked against gdb's answers
  /// (dwarf-layouts.json of the fixture built from this vmlinux) when there
  /// is such a file, and for version-independent facts in any case.
  @Test(arguments: CachedVmlinux.paths)
  func kernelLayouts(_ path: String) throws {
    let types = try DWARFTypes(path: path)
    let size = try #require(types.size(of: "task_struct"))
    #expect(size > 1000)
    let parent = try #require(types.member("real_parent", in: "task_struct"))
    #expect(parent.isPointer && parent.typeName == "pointer")
    let pointerSize = parent.size
    #expect(pointerSize == 4 || pointerSize == 8)
    let tasks = try #require(types.member("tasks", in: "task_struct"))
    #expect(tasks.typeName == "struct list_head" && tasks.size == 2 * pointerSize)
    let comm = try #require(types.member("comm", in: "task_struct"))
    #expect(comm.typeName == "array" && comm.arrayCount == 16 && comm.elementSize == 1)
    // The saved stack pointer: x86's thread.sp, arm64's thread.cpu_context.sp.
    let stackPointer =
      types.member("thread.sp", in: "task_struct")
      ?? types.member("thread.cpu_context.sp", in: "task_struct")
    #expect(stackPointer?.size == pointerSize)
    #expect((types.member("__state", in: "task_struct") ?? types.member("state", in: "task_struct")) != nil)
    #expect((types.member("mem", in: "module") ?? types.member("core_layout", in: "module")) != nil)
    #expect(types.member("list", in: "module")?.typeName == "struct list_head")
    // An anonymous union member (since 5.3).
    #expect(types.member("rcu_users", in: "task_struct") != nil)
    #expect(types.enumerator("PIDTYPE_PID") == 0)
    #expect(types.enumerator("MODULE_STATE_LIVE") == 0)
    // Lazy: the common types come from the first units, not a full walk.
    #expect(types.unitsVisited < 100, "\(types.unitsVisited) units read for the common types")

    let identity = try VmlinuxIdentity(path: path)
    guard let buildID = identity.buildID, let expected = try Self.expectedLayouts(buildID: buildID) else {
      print(
        "\(path): no dwarf-layouts.json for build-id \(identity.buildID ?? "none"); checked the common facts only"
      )
      return
    }
    for entry in expected.members {
      let answer = types.member(entry.path, in: entry.type)
      guard let truth = entry.layout else {
        #expect(answer == nil, "\(entry.type).\(entry.path) should not exist")
        continue
      }
      let layout = try #require(answer, "\(entry.type).\(entry.path)")
      #expect(layout.byteOffset == truth.byteOffset, "\(entry.type).\(entry.path) offset")
      #expect(layout.size == truth.size, "\(entry.type).\(entry.path) size")
      #expect(layout.isPointer == truth.isPointer, "\(entry.type).\(entry.path) pointer")
      #expect(layout.bitOffset == truth.bitOffset, "\(entry.type).\(entry.path) bit offset")
      #expect(layout.bitSize == truth.bitSize, "\(entry.type).\(entry.path) bit size")
      #expect(layout.arrayCount == truth.arrayCount, "\(entry.type).\(entry.path) count")
      #expect(layout.elementSize == truth.elementSize, "\(entry.type).\(entry.path) element size")
      #expect(
        Self.canonical(layout.typeName) == Self.canonical(truth.typeName),
        "\(entry.type).\(entry.path) type \(layout.typeName) vs \(truth.typeName)")
    }
    for (name, truth) in expected.sizes {
      #expect(types.size(of: name) == truth, "size of \(name)")
    }
    for (name, truth) in expected.enumerators {
      #expect(types.enumerator(name) == truth, "enumerator \(name)")
    }
  }

  /// How long the questions of a `ps` and a module list take, in a fresh
  /// reader (cold: nothing cached, though the file's pages may be in the
  /// page cache) and again (warm).
  @Test func lookupTimes() throws {
    let path = try #require(CachedVmlinux.preferred)
    let clock = ContinuousClock()
    var types: DWARFTypes?
    let open = try clock.measure { types = try DWARFTypes(path: path) }
    let reader = try #require(types)
    func ask() -> Int {
      var answers = 0
      if reader.size(of: "task_struct") != nil { answers += 1 }
      for member in [
        "tasks", "thread.sp", "comm", "__state", "state", "pid", "tgid", "real_parent", "on_cpu",
        "flags", "stack", "mm",
      ] where reader.member(member, in: "task_struct") != nil {
        answers += 1
      }
      if reader.size(of: "module") != nil { answers += 1 }
      for member in ["list", "name", "mem", "core_layout"] where reader.member(member, in: "module") != nil {
        answers += 1
      }
      if reader.enumerator("PIDTYPE_PID") != nil { answers += 1 }
      return answers
    }
    var answers = 0
    let cold = clock.measure { answers = ask() }
    let warm = clock.measure { _ = ask() }
    print(
      "\(URL(fileURLWithPath: path).lastPathComponent): open \(open), 19 questions cold \(cold), warm \(warm), \(reader.unitsVisited) units read"
    )
    #expect(answers == 17)
    #expect(cold < .seconds(30))
    #expect(warm < .milliseconds(50))
  }

  /// The symbol table against the fixture dump's VMCOREINFO: relocation by
  /// `SYMBOL(_stext)`, the build-id check, reverse lookups.
  @Test(arguments: CachedVmlinux.paths)
  func symbolsAndBuildID(_ path: String) throws {
    let identity = try VmlinuxIdentity(path: path)
    let buildID = try #require(identity.buildID)
    #expect(buildID.count == 40)
    let release = try #require(identity.release)
    #expect(path.hasSuffix("vmlinux-" + release))

    var matching = VMCoreInfo()
    matching.values["BUILD-ID"] = buildID
    matching.values["OSRELEASE"] = release
    #expect(try identity.verify(against: matching) == .buildID)
    var wrong = matching
    wrong.values["BUILD-ID"] = String(buildID.reversed())
    let error = #expect(throws: DumpError.self) { try identity.verify(against: wrong) }
    #expect(error?.kind == .missingInformation)
    #expect(
      error?.message.contains(buildID) == true && error?.message.contains(String(buildID.reversed())) == true)

    let unmoved = try ELFSymbolTable(path: path, kaslrDelta: 0)
    let linkStext = try #require(unmoved.linkStext)
    #expect(unmoved.address(of: "_stext") == linkStext)
    let runtimeStext = linkStext &+ 0x2c40_0000
    let symbols = try ELFSymbolTable(path: path, runtimeStext: runtimeStext, kernelOffset: nil)
    #expect(symbols.linkStext == linkStext)
    #expect(symbols.kaslrDelta == 0x2c40_0000)
    #expect(symbols.address(of: "_stext") == runtimeStext)
    #expect(symbols.count > 50_000)
    let start = try #require(symbols.symbol(named: "start_kernel"))
    #expect(start.type == "T")
    let size = try #require(start.size)
    #expect(symbols.symbol(containing: start.address + size / 2)?.name == "start_kernel")
    #expect(symbols.describe(start.address + 1)?.hasPrefix("start_kernel+0x1/") == true)
    #expect(symbols.symbol(named: "init_task")?.type == "D")
    // Per-CPU variables keep their offsets in the per-CPU area.
    if let percpu = symbols.symbol(named: "fixed_percpu_data") ?? symbols.symbol(named: "pcpu_hot") {
      #expect(percpu.address < 0x10_0000)
    }
    // Without SYMBOL(_stext), KERNELOFFSET is the delta.
    let byOffset = try ELFSymbolTable(path: path, runtimeStext: nil, kernelOffset: 0x2c40_0000)
    #expect(byOffset.address(of: "_stext") == linkStext &+ 0x2c40_0000)

    // A dump of a fixture made with this vmlinux's kernel, when there is one.
    guard let vmcoreinfo = try Self.fixtureVMCoreInfo(buildID: buildID) else {
      print("\(path): no fixture dump for build-id \(buildID)")
      return
    }
    #expect(try identity.verify(against: vmcoreinfo) == .buildID)
    let fromDump = try ELFSymbolTable(
      path: path, runtimeStext: vmcoreinfo.symbols["_stext"], kernelOffset: vmcoreinfo.kernelOffset)
    #expect(fromDump.address(of: "_stext") == vmcoreinfo.symbols["_stext"])
    if let kernelOffset = vmcoreinfo.kernelOffset {
      #expect(fromDump.kaslrDelta == kernelOffset)
    }
    // SYMBOL(mem_section) is the pointer's value (VMCOREINFO_SYMBOL_ARRAY),
    // not its address.
    for (name, address) in vmcoreinfo.symbols
    where name != "mem_section" && fromDump.symbol(named: name)?.type.isUppercase == true {
      #expect(fromDump.address(of: name) == address, "VMCOREINFO SYMBOL(\(name))")
    }
  }

  // MARK: - dwarf-layouts.json

  struct Expected: Decodable {
    struct Layout: Decodable {
      var byteOffset: Int
      var size: Int
      var typeName: String
      var isPointer: Bool
      var bitOffset: Int?
      var bitSize: Int?
      var arrayCount: Int?
      var elementSize: Int?
    }
    struct Member: Decodable {
      var type: String
      var path: String
      var layout: Layout?
    }
    var buildID: String
    var members: [Member]
    var sizes: [String: Int?]
    var enumerators: [String: Int64?]
  }

  /// The fixture folders whose dwarf-layouts.json was made from the vmlinux
  /// with this build-id.
  static func fixtureFolders(buildID: String) throws -> [URL] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: Fixtures.root.path))?.sorted() ?? []
    var folders: [URL] = []
    for name in names {
      let folder = Fixtures.root.appendingPathComponent(name)
      let file = folder.appendingPathComponent("expected/dwarf-layouts.json")
      guard let data = try? Data(contentsOf: file) else { continue }
      if try JSONDecoder().decode(Expected.self, from: data).buildID == buildID { folders.append(folder) }
    }
    return folders
  }

  static func expectedLayouts(buildID: String) throws -> Expected? {
    guard let folder = try fixtureFolders(buildID: buildID).first else { return nil }
    let data = try Data(contentsOf: folder.appendingPathComponent("expected/dwarf-layouts.json"))
    return try JSONDecoder().decode(Expected.self, from: data)
  }

  /// The VMCOREINFO of the first ELF dump that has one in those folders.
  static func fixtureVMCoreInfo(buildID: String) throws -> VMCoreInfo? {
    for folder in try fixtureFolders(buildID: buildID) {
      let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path))?.sorted() ?? []
      for name in names where name.hasPrefix("vmcore") && name.contains(".elf") {
        let dump = try DumpFile.open(path: try Fixtures.path(of: folder.appendingPathComponent(name)))
        if let note = dump.notes.first(where: { $0.name == "VMCOREINFO" }) {
          return VMCoreInfo(text: note.descriptor)
        }
      }
    }
    return nil
  }

  /// Base type names compared as sets of words without an implied "int"
  /// (gdb's "unsigned long" is DWARF's "long unsigned int").
  static func canonical(_ name: String) -> String {
    for prefix in ["struct ", "union ", "enum "] where name.hasPrefix(prefix) { return name }
    var words = name.split(separator: " ").map(String.init)
    if words.count > 1 { words.removeAll { $0 == "int" } }
    return words.sorted().joined(separator: " ")
  }
}
