import DebugInfo
import DumpFormats
import LinuxKernel

/// What `coroner info` reports: the container and the facts the dump itself
/// states (VMCOREINFO, notes, headers), without walking kernel structures.
public struct DumpInfo {
  public var path: String
  public var format: DumpFormat
  public var isFlattened: Bool
  public var compressions: [PageCompression]
  public var dumpLevel: Int32?
  /// For one file of a split set: the page frames it holds.
  public var splitRange: Range<UInt64>?
  public var architecture: Architecture
  public var byteOrder: ByteOrder
  public var pageSize: Int
  public var kernelRelease: String?
  public var kernelVersion: String?
  public var machine: String?
  public var nodeName: String?
  public var crashTime: Int64?
  public var panicMessage: String?
  public var cpus: Int?
  public var crashingCPU: Int?
  public var kaslrOffset: UInt64?
  public var physBase: UInt64?
  public var pages: PageCensus?
  public var notes: [ELFNote]
  public var problems: [String] = []

  /// Gathers the facts; what cannot be read is left nil and explained in
  /// `problems`.
  public init(dump: DumpFile) {
    path = dump.path
    format = dump.format
    isFlattened = dump.isFlattened
    compressions = dump.compressions
    architecture = dump.architecture
    byteOrder = dump.byteOrder
    pageSize = dump.memory.pageSize
    notes = dump.notes
    if let error = dump.noteError { problems.append("notes: \(error)") }

    let vmcoreinfoNote = dump.notes.first { $0.name == "VMCOREINFO" }
    let vmcoreinfo = vmcoreinfoNote.map { VMCoreInfo(text: $0.descriptor) }
    if vmcoreinfo == nil { problems.append("the dump has no VMCOREINFO note") }
    kernelRelease = vmcoreinfo?.osRelease
    crashTime = vmcoreinfo?.crashTime
    panicMessage = vmcoreinfo?.panicMessage
    kaslrOffset = vmcoreinfo?.kernelOffset
    physBase = vmcoreinfo?.numbers["phys_base"].map { UInt64(bitPattern: $0) }

    let prstatus = dump.prstatusNotes()
    if !prstatus.isEmpty { cpus = prstatus.count }
    if let kdump = dump.kdump {
      let header = kdump.header
      dumpLevel = header.headerVersion >= 1 ? kdump.subHeader.dumpLevel : nil
      splitRange = kdump.splitRange
      kernelRelease = kernelRelease ?? (header.release.isEmpty ? nil : header.release)
      kernelVersion = header.version.isEmpty ? nil : header.version
      machine = header.machine.isEmpty ? nil : header.machine
      nodeName = header.nodeName.isEmpty ? nil : header.nodeName
      if crashTime == nil, header.timestampSeconds > 0 { crashTime = header.timestampSeconds }
      if cpus == nil, header.cpuCount > 0 { cpus = Int(header.cpuCount) }
      if physBase == nil, kdump.subHeader.physBase != 0 {
        physBase = kdump.subHeader.physBase
      }
    }
    if let vmcoreinfo, architecture == .x86_64 {
      do {
        let uts = try UTSName.read(from: dump.memory, vmcoreinfo: vmcoreinfo)
        kernelRelease = kernelRelease ?? uts.release
        kernelVersion = uts.version
        machine = uts.machine
        nodeName = uts.nodeName
      } catch {
        problems.append("kernel version: \(error)")
      }
    }
    if machine == nil, architecture != .unknown { machine = architecture.rawValue }
    do {
      pages = try dump.memory.census()
    } catch {
      problems.append("page census: \(error)")
    }
  }

  /// The `--json` form; every key is documented in Docs/info.md.
  public var json: JSONValue {
    .object([
      ("path", .string(path)),
      ("format", .string(format.rawValue)),
      ("flattened", .bool(isFlattened)),
      ("compression", compressions.isEmpty ? .string("none") : .string(compressions.map(\.rawValue).joined(separator: ","))),
      ("dumpLevel", .optional(dumpLevel) { .int(Int64($0)) }),
      (
        "split",
        .optional(splitRange) {
          .object([("startPFN", .unsigned($0.lowerBound)), ("endPFN", .unsigned($0.upperBound))])
        }
      ),
      ("arch", .string(architecture.rawValue)),
      ("byteOrder", .string(byteOrder == .little ? "little" : "big")),
      ("pageSize", .int(Int64(pageSize))),
      ("kernelRelease", .optional(kernelRelease) { .string($0) }),
      ("kernelVersion", .optional(kernelVersion) { .string($0) }),
      ("machine", .optional(machine) { .string($0) }),
      ("nodeName", .optional(nodeName) { .string($0) }),
      ("crashTime", .optional(crashTime) { .int($0) }),
      ("panicMessage", .optional(panicMessage) { .string($0) }),
      ("cpus", .optional(cpus) { .int(Int64($0)) }),
      ("crashingCPU", .optional(crashingCPU) { .int(Int64($0)) }),
      ("kaslrOffset", .optional(kaslrOffset) { .string("0x" + String($0, radix: 16)) }),
      ("physBase", .optional(physBase) { .string("0x" + String($0, radix: 16)) }),
      (
        "pages",
        .optional(pages) {
          .object([
            ("present", .unsigned($0.present)), ("excluded", .unsigned($0.excluded)),
            ("missing", .unsigned($0.missing)),
          ])
        }
      ),
      (
        "notes",
        .array(
          notes.map {
            .object([
              ("name", .string($0.name)), ("type", .unsigned(UInt64($0.type))),
              ("typeName", .string($0.typeName)),
              ("size", .int(Int64($0.descriptor.count))),
            ])
          })
      ),
      ("problems", .array(problems.map { .string($0) })),
    ])
  }

  /// The human-readable form.
  public var text: String {
    var lines: [String] = []
    func add(_ label: String, _ value: String?) {
      lines.append(label.padding(12) + (value ?? "(unknown)"))
    }
    add("DUMP", path)
    var formatText = format.rawValue
    if isFlattened { formatText += " (flattened)" }
    add("FORMAT", formatText)
    add("COMPRESSION", compressions.isEmpty ? "none" : compressions.map(\.rawValue).joined(separator: ", "))
    if let dumpLevel { add("DUMP LEVEL", String(dumpLevel)) }
    if let splitRange {
      add(
        "SPLIT", "one file of a split set: page frames 0x\(String(splitRange.lowerBound, radix: 16))"
          + "-0x\(String(splitRange.upperBound, radix: 16))")
    }
    add("ARCH", "\(architecture.rawValue) (\(byteOrder.rawValue), \(pageSize)-byte pages)")
    add("RELEASE", kernelRelease)
    add("VERSION", kernelVersion)
    add("MACHINE", machine)
    add("NODENAME", nodeName)
    add("CRASH TIME", crashTime.map { UTCDate.format($0) })
    add("PANIC", panicMessage ?? "(not recorded in VMCOREINFO)")
    add("CPUS", cpus.map(String.init))
    add("CRASHED CPU", crashingCPU.map(String.init))
    add("KASLR", kaslrOffset.map { "0x" + String($0, radix: 16) })
    add("PHYS BASE", physBase.map { "0x" + String($0, radix: 16) })
    if let pages {
      add("PAGES", "\(pages.present) present, \(pages.excluded) excluded, \(pages.missing) missing")
    } else {
      add("PAGES", nil)
    }
    lines.append("NOTES".padding(12) + "\(notes.count)")
    for note in notes {
      lines.append(String(repeating: " ", count: 12) + "\(note.name) \(note.typeName) (\(note.descriptor.count) bytes)")
    }
    for problem in problems { lines.append("WARNING".padding(12) + problem) }
    return lines.joined(separator: "\n") + "\n"
  }
}

extension String {
  func padding(_ width: Int) -> String {
    count >= width ? self + " " : self + String(repeating: " ", count: width - count)
  }
}
