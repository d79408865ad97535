#!/usr/bin/env python3
"""Write drgn's view of a Linux crash dump as JSON (reference output for coroner).

Usage: drgn-reference.py VMLINUX DUMP OUT.json [--architecture x86_64] [--no-debuginfo]

Runs with drgn (PyPI) in the generator's venv. Every field is read by drgn
from the dump with the DWARF vmlinux; fields drgn cannot read are recorded as
{"error": "..."} instead of aborting, so the failure itself is a reference.
"""
import argparse
import json
import sys

import drgn
from drgn import Architecture, Platform, PlatformFlags, Program
from drgn.helpers.linux.cpumask import for_each_online_cpu, for_each_possible_cpu
from drgn.helpers.linux.pid import for_each_task
from drgn.helpers.linux.sched import cpu_curr, idle_task, task_cpu

PF_KTHREAD = 0x00200000


def guarded(fn):
    """Run fn(); turn any exception into an error record."""
    try:
        return fn()
    except Exception as e:  # noqa: BLE001 - the error text is the reference
        return {"error": f"{type(e).__name__}: {e}"}


def short_state(state, exit_state):
    """crash's two-letter task state for __state / exit_state."""
    if exit_state & 0x20:
        return "ZO"
    if exit_state & 0x10:
        return "DE"
    if state == 0:
        return "RU"
    if state & 0x1:
        return "IN"
    if state & 0x2:
        return "ID" if state & 0x400 else "UN"
    if state & 0x4:
        return "ST"
    if state & 0x8:
        return "TR"
    if state & 0x80:
        return "DE"
    if state & 0x40:
        return "PA"
    if state & 0x200:
        return "WA"
    if state & 0x800:
        return "NE"
    return "??"


def vmcoreinfo_text(prog):
    # drgn exposes the dump's VMCOREINFO note as the object "VMCOREINFO".
    return prog["VMCOREINFO"].string_().decode()


def task_record(prog, task, currents):
    state_member = "__state" if task.type_.type.has_member("__state") else "state"
    state = task.member_(state_member).value_()
    exit_state = task.exit_state.value_()
    addr = task.value_()
    rec = {
        "pid": task.pid.value_(),
        "tgid": task.tgid.value_(),
        "ppid": task.real_parent.pid.value_() if task.real_parent else 0,
        "comm": task.comm.string_().decode(errors="replace"),
        "state": short_state(state, exit_state),
        "raw_state": state,
        "exit_state": exit_state,
        "cpu": task_cpu(task),
        "on_cpu": bool(task.on_cpu.value_()) if task.type_.type.has_member("on_cpu") else None,
        "current_on_cpu": currents.get(addr),
        "kthread": bool(task.flags.value_() & PF_KTHREAD),
        "task": hex(addr),
    }
    return rec


def tasks(prog):
    currents = {}
    for cpu in for_each_online_cpu(prog):
        currents[cpu_curr(prog, cpu).value_()] = cpu
    seen, out = set(), []
    # Per-CPU idle tasks first (pid 0), then every task and thread in the PID hash.
    for cpu in for_each_possible_cpu(prog):
        t = idle_task(prog, cpu)
        if t.value_() not in seen:
            seen.add(t.value_())
            out.append(task_record(prog, t, currents))
    for t in for_each_task(prog):
        if t.value_() not in seen:
            seen.add(t.value_())
            out.append(task_record(prog, t, currents))
    out.sort(key=lambda r: (r["pid"], r["task"]))
    return out


def stack(trace):
    frames, last_pc = [], None
    for frame in trace:
        pc = frame.pc
        if frame.is_inline:         # keep one frame per pc (the symbol's function)
            continue
        try:
            sym = frame.symbol()
            frames.append({"function": sym.name, "offset": pc - sym.address,
                           "size": sym.size, "address": hex(pc)})
        except LookupError:
            frames.append({"function": None, "offset": None, "size": None, "address": hex(pc)})
        last_pc = pc
        if pc < 0xffff800000000000:
            # User-space pc (the syscall's return): stop here; drgn's guesses
            # past it depend on which user pages the dump kept.
            break
    return frames


def modules(prog):
    from drgn.helpers.linux.list import list_for_each_entry
    out = []
    for mod in list_for_each_entry("struct module", prog["modules"].address_of_(), "list"):
        rec = {"name": mod.name.string_().decode(),
               "state": mod.state.format_(type_name=False),
               "refcount": mod.refcnt.counter.value_()}
        if mod.type_.type.has_member("core_layout"):        # before 6.4
            rec["base"] = hex(mod.core_layout.base.value_())
            rec["size"] = mod.core_layout.size.value_()
        else:                                              # 6.4+: struct module_memory mem[]
            mem = mod.mem
            # MOD_TEXT, MOD_DATA, MOD_RODATA, MOD_RO_AFTER_INIT are the core parts.
            rec["base"] = hex(mem[0].base.value_())
            rec["size"] = sum(mem[i].size.value_() for i in range(4))
            rec["layout"] = [{"base": hex(mem[i].base.value_()), "size": mem[i].size.value_()}
                             for i in range(len(mem))]
        out.append(rec)
    return out


def kaslr(prog, info):
    for line in info.splitlines():
        if line.startswith("KERNELOFFSET="):
            return hex(int(line.split("=", 1)[1], 16))
    return hex(0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("vmlinux")
    ap.add_argument("dump")
    ap.add_argument("out")
    ap.add_argument("--architecture", choices=["x86_64"])
    ap.add_argument("--no-debuginfo", action="store_true")
    a = ap.parse_args()

    if a.architecture:
        prog = Program(Platform(Architecture.X86_64,
                                PlatformFlags.IS_64_BIT | PlatformFlags.IS_LITTLE_ENDIAN))
    else:
        prog = Program()
    r = {"tool": f"drgn {drgn.__version__}"}
    try:
        prog.set_core_dump(a.dump)
        if not a.no_debuginfo:
            prog.load_debug_info([a.vmlinux])
    except Exception as e:  # noqa: BLE001 - drgn cannot open it: that is the reference
        r["error"] = f"{type(e).__name__}: {e}"
        with open(a.out, "w") as f:
            json.dump(r, f, indent=1)
            f.write("\n")
        return 0

    r["uname"] = guarded(lambda: {
        "release": prog["init_uts_ns"].name.release.string_().decode(),
        "version": prog["init_uts_ns"].name.version.string_().decode(),
        "machine": prog["init_uts_ns"].name.machine.string_().decode()})
    info = guarded(lambda: vmcoreinfo_text(prog))
    r["vmcoreinfo"] = info
    r["kaslr_offset"] = guarded(lambda: kaslr(prog, info) if isinstance(info, str) else info)
    # phys_base is an assembler symbol (no DWARF type): read it by address.
    r["phys_base"] = guarded(lambda: hex(prog.read_u64(prog.symbol("phys_base").address)))
    r["nr_cpus"] = guarded(lambda: {
        "online": len(list(for_each_online_cpu(prog))),
        "possible": len(list(for_each_possible_cpu(prog)))})

    def dmesg():
        from drgn.helpers.linux.printk import get_dmesg
        return get_dmesg(prog).decode(errors="surrogateescape")
    r["dmesg"] = guarded(dmesg)
    r["panic_message"] = None
    if isinstance(r["dmesg"], str):
        for line in r["dmesg"].splitlines():
            if "Kernel panic - not syncing: " in line:
                r["panic_message"] = line.split("Kernel panic - not syncing: ", 1)[1]
    r["taint"] = guarded(lambda: prog["tainted_mask"].value_())
    r["crashed_cpu"] = guarded(lambda: prog.crashed_thread().object.cpu.value_()
                               if prog.crashed_thread().object.type_.type.has_member("cpu")
                               else task_cpu(prog.crashed_thread().object))
    r["panic_cpu"] = guarded(lambda: prog["panic_cpu"].counter.value_())
    r["crashing_cpu"] = guarded(lambda: prog["crashing_cpu"].value_())
    r["crashed_thread"] = guarded(lambda: {
        "pid": prog.crashed_thread().tid,
        "comm": prog.crashed_thread().object.comm.string_().decode(),
        "task": hex(prog.crashed_thread().object.value_())})
    r["crashed_thread_stack"] = guarded(lambda: stack(prog.crashed_thread().stack_trace()))
    r["tasks"] = guarded(lambda: tasks(prog))
    r["modules"] = guarded(lambda: modules(prog))

    with open(a.out, "w") as f:
        json.dump(r, f, indent=1, sort_keys=False)
        f.write("\n")
    if isinstance(r["dmesg"], str):
        with open(a.out + ".dmesg", "w", errors="surrogateescape") as f:
            f.write(r["dmesg"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
