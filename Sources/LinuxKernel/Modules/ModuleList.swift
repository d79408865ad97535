import AddressTranslation
import DebugInfo
import DumpFormats

/// The loaded modules: the kernel's `modules` list of `struct module`.
public struct ModuleList {
  public var modules: [KernelModule]
  public var problems: [String]

  /// Reads every module on the list, sorted by base address as crash's
  /// `mod` prints them.
  ///
  /// - Throws: `.missingInformation` without the `modules` symbol or the
  ///   `struct module` layout.
  public init(session: KernelSession) throws(DumpError) {
    let types = session.types
    let memory = session.memory
    let head = try session.symbols.require("modules")
    let listOffset = try types.requireMember("list", in: "module").byteOffset
    let nameMember = try types.requireMember("name", in: "module")
    let stateOffset = try types.requireMember("state", in: "module").byteOffset
    let refcount = types.member("refcnt", in: "module")?.byteOffset
    let taints = types.member("taints", in: "module")?.byteOffset
    // Before 6.4: core_layout.{base,size}; from 6.4: mem[MOD_TEXT…].
    let coreBase = types.member("core_layout.base", in: "module")?.byteOffset
    let coreSize = types.member("core_layout.size", in: "module")?.byteOffset
    let memory0 = types.member("mem", in: "module")
    let memoryBase = types.member("base", in: "module_memory")?.byteOffset
    let memorySize = types.member("size", in: "module_memory")?.byteOffset
    let memoryStride = types.size(of: "module_memory")
    guard (coreBase != nil && coreSize != nil)
      || (memory0 != nil && memoryBase != nil && memorySize != nil && memoryStride != nil)
    else {
      throw DumpError(.missingInformation, "struct module has neither core_layout nor mem[] (\(types.sourceName))")
    }

    var problems: [String] = []
    var modules: [KernelModule] = []
    let walk = KernelList.nodes(from: head, in: memory, limit: 1 << 16)
    if let stop = walk.stop { problems.append("module list \(stop)") }
    for node in walk.elements {
      let module = node &- UInt64(listOffset)
      do throws(DumpError) {
        let nameBytes = try memory.read(
          virtual: module &+ UInt64(nameMember.byteOffset), count: min(nameMember.size, 256))
        let stateValue = Int(try memory.readInteger(Int32.self, at: module &+ UInt64(stateOffset)))
        var base: UInt64 = 0
        var size: UInt64 = 0
        if let coreBase, let coreSize {
          base = try memory.readPointer(at: module &+ UInt64(coreBase))
          size = UInt64(try memory.readInteger(UInt32.self, at: module &+ UInt64(coreSize)))
        } else if let memory0, let memoryBase, let memorySize, let memoryStride {
          // MOD_TEXT, MOD_DATA, MOD_RODATA, MOD_RO_AFTER_INIT are the core.
          let regions = min(memory0.arrayCount ?? 4, 4)
          for region in 0..<regions {
            let entry = module &+ UInt64(memory0.byteOffset + region * memoryStride)
            if region == 0 { base = try memory.readPointer(at: entry &+ UInt64(memoryBase)) }
            size &+= UInt64(try memory.readInteger(UInt32.self, at: entry &+ UInt64(memorySize)))
          }
        }
        modules.append(
          KernelModule(
            address: module, name: String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self),
            state: KernelModule.stateNames[stateValue] ?? "state \(stateValue)", base: base,
            size: size,
            referenceCount: try refcount.map { offset throws(DumpError) in
              Int(try memory.readInteger(Int32.self, at: module &+ UInt64(offset)))
            },
            taints: try taints.map { offset throws(DumpError) in
              try memory.readPointer(at: module &+ UInt64(offset))
            }))
      } catch {
        problems.append("module at 0x\(String(module, radix: 16)): \(error)")
      }
    }
    self.modules = modules.sorted { $0.base < $1.base }
    self.problems = problems
  }
}
