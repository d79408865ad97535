#!/usr/bin/env python3
# What drgn sees in a vmcore, as JSON on stdout (expected/drgn.json of the
# foreign-architecture fixtures): uname, the kernel log, the task list and the
# crashed thread's stack.
#   python3 drgn-facts.py VMCORE VMLINUX [--arch ARCH]
import json
import sys

import drgn
from drgn.helpers.linux.pid import for_each_task
from drgn.helpers.linux.printk import get_dmesg
from drgn.helpers.linux.sched import task_cpu, task_state_to_char


def text(value):
    return value.string_().decode("utf-8", "replace")


def main():
    core, vmlinux = sys.argv[1], sys.argv[2]
    prog = drgn.Program()
    prog.set_core_dump(core)
    prog.load_debug_info([vmlinux])
    out = {"drgnVersion": drgn.__version__, "platform": str(prog.platform.arch).split(".")[-1]}

    uts = prog["init_uts_ns"].name
    out["uname"] = {k: text(getattr(uts, k)) for k in
                    ("sysname", "nodename", "release", "version", "machine")}

    out["dmesg"] = get_dmesg(prog).decode("utf-8", "replace")

    tasks = []
    for t in for_each_task(prog):
        tasks.append({
            "pid": t.pid.value_(),
            "tgid": t.tgid.value_(),
            "comm": text(t.comm),
            "state": task_state_to_char(t),
            "cpu": task_cpu(t),
        })
    tasks.sort(key=lambda x: x["pid"])
    out["tasks"] = tasks

    try:
        thread = prog.crashed_thread()
        frames = []
        for frame in thread.stack_trace():
            try:
                name = frame.name
            except Exception:
                name = None
            try:
                pc = hex(frame.pc)
            except Exception:
                pc = None
            frames.append({"function": name, "pc": pc})
        out["crashedThread"] = {"tid": thread.tid, "stack": frames}
    except Exception as e:                  # not every dump names its crashed thread
        out["crashedThread"] = {"error": f"{type(e).__name__}: {e}"}

    try:
        out["panicCpu"] = prog["panic_cpu"].counter.value_()
    except Exception:
        pass
    try:
        out["taintMask"] = prog["tainted_mask"].value_()
    except Exception:
        pass

    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
