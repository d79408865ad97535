import DebugInfo
import DumpFormats

/// The offsets in `task_struct` the task list needs, resolved once from the
/// session's type sources; names follow the kernel version (e.g. `__state`
/// since 5.14, `state` before; `cpu` in `task_struct` or in `thread_info`).
struct TaskLayout {
  var tasks: Int
  var pid: Int
  var tgid: Int
  var realParent: Int
  var comm: Int
  var commLength: Int
  var state: Int
  var stateSize: Int
  var exitState: Int
  var flags: Int
  var flagsSize: Int
  var cpu: Int?
  var mm: Int
  var signal: Int
  var threadNode: Int?
  var threadHead: Int?
  var threadGroup: Int?
  var runqueueCurrent: Int?
  var runqueueIdle: Int?

  init(types: TypeSourceChain) throws(DumpError) {
    let task = "task_struct"
    tasks = try types.requireMember("tasks", in: task).byteOffset
    pid = try types.requireMember("pid", in: task).byteOffset
    tgid = try types.requireMember("tgid", in: task).byteOffset
    realParent = try types.requireMember("real_parent", in: task).byteOffset
    let commMember = try types.requireMember("comm", in: task)
    comm = commMember.byteOffset
    commLength = min(max(commMember.arrayCount ?? 16, 1), 64)
    let stateMember = types.member("__state", in: task) ?? types.member("state", in: task)
    guard let stateMember else {
      throw DumpError(.missingInformation, "task_struct has neither __state nor state (\(types.sourceName))")
    }
    state = stateMember.byteOffset
    stateSize = stateMember.size == 8 ? 8 : 4
    exitState = try types.requireMember("exit_state", in: task).byteOffset
    let flagsMember = try types.requireMember("flags", in: task)
    flags = flagsMember.byteOffset
    flagsSize = flagsMember.size == 8 ? 8 : 4
    cpu = types.member("cpu", in: task)?.byteOffset ?? types.member("thread_info.cpu", in: task)?.byteOffset
    mm = try types.requireMember("mm", in: task).byteOffset
    signal = try types.requireMember("signal", in: task).byteOffset
    threadNode = types.member("thread_node", in: task)?.byteOffset
    threadHead = types.member("thread_head", in: "signal_struct")?.byteOffset
    threadGroup = types.member("thread_group", in: task)?.byteOffset
    runqueueCurrent = types.member("curr", in: "rq")?.byteOffset
    runqueueIdle = types.member("idle", in: "rq")?.byteOffset
  }
}
