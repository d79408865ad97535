#!/usr/bin/env python3
"""Collect the machine-readable facts of a fixture into expected/facts.json.

Usage: make-facts.py FIXTURE_DIR FILES_TSV MARKER [extra JSON object]

Reads expected/drgn.json and expected/crash-*.txt (written by the reference
tools) and FILES_TSV (name, format, compression, dump level, note, archive,
path, extra JSON) written by the generator; cross-checks crash against drgn
where both say the same thing.
"""
import hashlib
import json
import os
import re
import sys

fix, tsv, marker = sys.argv[1:4]
extra = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {}
exp = os.path.join(fix, "expected")


def read(name):
    p = os.path.join(exp, name)
    return open(p, errors="replace").read() if os.path.exists(p) else ""


drgn = json.load(open(os.path.join(exp, "drgn.json"))) if os.path.exists(os.path.join(exp, "drgn.json")) else {}
sys_txt, bt_txt = read("crash-sys.txt"), read("crash-bt.txt")
facts = {"fixture": os.path.basename(os.path.abspath(fix))}

m = re.search(r"^\s*RELEASE: (\S+)", sys_txt, re.M)
facts["kernelRelease"] = m.group(1) if m else (drgn.get("uname") or {}).get("release")
m = re.search(r"^\s*CPUS: (\d+)", sys_txt, re.M)
facts["cpus"] = int(m.group(1)) if m else None
m = re.search(r'^PID: (\d+)\s+TASK: (\S+)\s+CPU: (\d+)\s+COMMAND: "([^"]*)"', bt_txt, re.M)
if m:
    facts["panicTask"] = {"pid": int(m.group(1)), "comm": m.group(4), "task": "0x" + m.group(2)}
    facts["crashingCPU"] = int(m.group(3))
elif isinstance(drgn.get("crashed_thread"), dict):
    facts["panicTask"] = {k: drgn["crashed_thread"][k] for k in ("pid", "comm", "task")}
    facts["crashingCPU"] = drgn.get("crashed_cpu")
m = re.search(r'^\s*PANIC: "(.*)"', sys_txt, re.M)
facts["panicMessage"] = m.group(1) if m else None
facts["marker"] = marker or None
facts["kaslrOffset"] = drgn.get("kaslr_offset") if isinstance(drgn.get("kaslr_offset"), str) else None
facts["physBase"] = drgn.get("phys_base") if isinstance(drgn.get("phys_base"), str) else None
facts["taint"] = drgn.get("taint") if isinstance(drgn.get("taint"), int) else None
vmci = drgn.get("vmcoreinfo") if isinstance(drgn.get("vmcoreinfo"), str) else ""
m = re.search(r"^NUMBER\(pgtable_l5_enabled\)=(\d+)$", vmci, re.M)
facts["pgtableL5Enabled"] = int(m.group(1)) if m else None
facts["vmcoreinfoHasKallsyms"] = "SYMBOL(kallsyms_names)=" in vmci if vmci else None

# Cross-checks between crash and drgn (recorded, not fatal).
checks = {}
if isinstance(drgn.get("crashed_thread"), dict) and "panicTask" in facts:
    checks["panicTaskAgrees"] = drgn["crashed_thread"]["pid"] == facts["panicTask"]["pid"]
if isinstance(drgn.get("crashed_cpu"), int) and "crashingCPU" in facts:
    checks["crashingCPUAgrees"] = drgn["crashed_cpu"] == facts["crashingCPU"]
if isinstance(drgn.get("tasks"), list):
    ps = read("crash-ps.txt")
    crash_tasks = {}
    for line in ps.splitlines()[1:]:
        f = line.lstrip(">").split()
        if len(f) >= 9:
            crash_tasks[f[3]] = (int(f[0]), f[4])
    drgn_tasks = {t["task"][2:].rjust(16, "0"): (t["pid"], t["state"]) for t in drgn["tasks"]}
    checks["crashTaskCount"] = len(crash_tasks)
    checks["drgnTaskCount"] = len(drgn_tasks)
    checks["taskStatesAgree"] = crash_tasks == drgn_tasks
    if crash_tasks != drgn_tasks:
        checks["taskDifferences"] = sorted(
            "%s crash=%s drgn=%s" % (k, crash_tasks.get(k), drgn_tasks.get(k))
            for k in set(crash_tasks) | set(drgn_tasks) if crash_tasks.get(k) != drgn_tasks.get(k))
    facts["workload"] = [{"pid": t["pid"], "tgid": t["tgid"], "comm": t["comm"], "state": t["state"], "cpu": t["cpu"]}
                         for t in drgn["tasks"] if t["comm"].startswith(("coroner-", "charlie-"))]
facts["crossChecks"] = checks

def digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# FILES_TSV (tsv_row in lib/fixture.sh, fields separated by 0x1f): name, format, compression,
# dump level, note, archive, path of the file to measure, extra JSON. A line
# with an archive is a member of that archive (committed as FIX/archive); the
# others are committed as FIX/name.
files, archives = [], {}
for line in open(tsv):
    name, fmt, comp, lvl, note, arch, path, more = (line.rstrip("\n").split("\x1f") + [""] * 8)[:8]
    p = path or os.path.join(fix, name)
    entry = {"name": name, "format": fmt, "compression": comp,
             "dumpLevel": int(lvl) if lvl.isdigit() else None,
             "wrapper": "xz" if name.endswith(".xz") else None,
             "archive": arch or None,
             "bytes": os.path.getsize(p),
             "sha256": digest(p)}
    if more:
        entry.update(json.loads(more))
    files.append(entry)
    if arch:
        a = archives.setdefault(arch, {"name": arch, "format": "tar (ustar)",
                                       "wrapper": "xz" if arch.endswith(".xz") else None,
                                       "bytes": os.path.getsize(os.path.join(fix, arch)),
                                       "sha256": digest(os.path.join(fix, arch)), "members": []})
        a["members"].append(name)
facts["dumpFiles"] = files
facts["archives"] = list(archives.values())
facts.update(extra)
json.dump(facts, open(os.path.join(exp, "facts.json"), "w"), indent=1)
open(os.path.join(exp, "facts.json"), "a").write("\n")
print(json.dumps(checks))
