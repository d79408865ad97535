#!/usr/bin/env python3
"""coroner's benchmark harness: runs coroner and the reference tools on the
same dumps, several times each, and prints each command's median wall time
and peak memory (maximum resident set size, from the kernel's accounting of
the finished process) and coroner's ratio to each tool.

Usage: Benchmarks/bench.py [--runs N] [--coroner PATH] DUMP [DUMP ...]
Tools are found in the fixture generator's cache (CORONER_FIXTURE_CACHE,
default /var/tmp/coroner-fixture-cache): crash 8.0.6 run unpacked from
Debian 13, drgn 0.3.0 in a venv, the DWARF vmlinux of the dump's release;
vmcore-dmesg and makedumpfile from the system. A tool that is missing or
cannot read a dump is reported as such, not timed.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

CACHE = os.environ.get("CORONER_FIXTURE_CACHE", "/var/tmp/coroner-fixture-cache")
TRIXIE = os.path.join(CACHE, "tools/trixie-root")
DRGN = os.path.join(CACHE, "tools/drgn-venv/bin/drgn")


def run_once(argv, stdin_text=None):
    """Runs argv once under /usr/bin/time (so the peak is the command's own,
    not this Python process's, which a fork would copy); returns (wall
    seconds, peak RSS in KiB, exit status)."""
    stdin = subprocess.PIPE if stdin_text is not None else subprocess.DEVNULL
    report = tempfile.NamedTemporaryFile("r", suffix=".time", delete=False)
    start = time.monotonic()
    process = subprocess.Popen(["/usr/bin/time", "-f", "%M %x", "-o", report.name] + argv,
                               stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if stdin_text is not None:
        process.stdin.write(stdin_text.encode())
        process.stdin.close()
    process.wait()
    wall = time.monotonic() - start
    fields = open(report.name).read().split()
    os.unlink(report.name)
    peak, status = (int(fields[-2]), int(fields[-1])) if len(fields) >= 2 else (0, process.returncode)
    return wall, peak, status


def measure(argv, runs, stdin_text=None):
    run_once(argv, stdin_text)  # warm-up: the dump's pages in the page cache
    results = [run_once(argv, stdin_text) for _ in range(runs)]
    walls = [r[0] for r in results]
    return statistics.median(walls), max(r[1] for r in results), results[-1][2]


def release_of(dump, coroner):
    out = subprocess.run([coroner, "info", "--json", dump], capture_output=True, text=True)
    match = re.search(r'"kernelRelease": "([^"]+)"', out.stdout)
    return match.group(1) if match else None


def crash_argv(vmlinux, dump):
    loader = os.path.join(TRIXIE, "usr/lib64/ld-linux-x86-64.so.2")
    libs = os.path.join(TRIXIE, "usr/lib/x86_64-linux-gnu")
    return [loader, "--library-path", libs, os.path.join(TRIXIE, "usr/bin/crash"), "-s", vmlinux, dump]


def drgn_argv(vmlinux, dump, code):
    script = tempfile.NamedTemporaryFile("w", suffix=".py", delete=False)
    script.write(code)
    script.close()
    return [DRGN, "-q", "-c", dump, "-s", vmlinux, script.name]


DRGN_DMESG = "from drgn.helpers.linux.printk import get_dmesg\nimport sys\nsys.stdout.buffer.write(get_dmesg(prog))\n"
DRGN_PS = ("from drgn.helpers.linux.pid import for_each_task\n"
           "for t in for_each_task(prog):\n    print(t.pid.value_(), t.comm.string_().decode())\n")
DRGN_SUMMARY = ("from drgn.helpers.linux.printk import get_dmesg\nfrom drgn.helpers.linux.pid import for_each_task\n"
                "get_dmesg(prog)\n[t.pid.value_() for t in for_each_task(prog)]\n"
                "print(prog.crashed_thread().stack_trace())\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--slow-runs", type=int, default=2, help="runs for crash and drgn")
    parser.add_argument("--coroner", default=".build/release/coroner")
    parser.add_argument("dumps", nargs="+")
    args = parser.parse_args()
    coroner = args.coroner
    for dump in args.dumps:
        size = os.path.getsize(dump)
        release = release_of(dump, coroner)
        vmlinux = os.path.join(CACHE, "vmlinux", f"vmlinux-{release}") if release else None
        have_vmlinux = vmlinux and os.path.exists(vmlinux)
        print(f"\n== {dump} ({size / 1048576:.0f} MiB, kernel {release or 'unknown'})")
        print(f"{'command':<44} {'wall ms':>9} {'peak MiB':>9}  {'coroner/it: time':>17} {'memory':>7}")
        for name, ours, others in commands(dump, vmlinux if have_vmlinux else None, coroner):
            wall, rss, status = measure(ours, args.runs)
            print(f"{'coroner ' + name:<44} {wall * 1000:9.1f} {rss / 1024:9.1f}  {'':>17} {'':>7}" + ("" if status in (0, 2) else f"  (exit {status})"))
            for label, argv, stdin_text, slow in others:
                if argv is None:
                    print(f"{label:<44} {'(not available: ' + stdin_text + ')':>20}")
                    continue
                other_wall, other_rss, other_status = measure(argv, args.slow_runs if slow else args.runs, stdin_text)
                if other_status != 0:
                    print(f"{label:<44} {'(failed, exit ' + str(other_status) + ')':>20}")
                    continue
                print(f"{label:<44} {other_wall * 1000:9.1f} {other_rss / 1024:9.1f}  {wall / other_wall:17.3f} {rss / other_rss:7.2f}")


def commands(dump, vmlinux, coroner):
    """(name, coroner argv, [(label, argv or None, stdin or reason, slow)])."""
    is_elf = open(dump, "rb").read(4) == b"\x7fELF"
    missing = "no DWARF vmlinux for this release in the cache"
    have_crash = os.path.exists(os.path.join(TRIXIE, "usr/bin/crash"))
    have_drgn = os.path.exists(DRGN)
    def crash(commands):
        if not vmlinux or not have_crash:
            return None, missing if have_crash else "crash 8.0.6 not unpacked in the cache"
        return crash_argv(vmlinux, dump), commands + "\nexit\n"
    def drgn(code):
        if not vmlinux or not have_drgn:
            return None, missing if have_drgn else "drgn venv not in the cache"
        return drgn_argv(vmlinux, dump, code), None
    dmesg_others = []
    if is_elf:
        dmesg_others.append(("vmcore-dmesg", ["vmcore-dmesg", dump], None, False))
    out = tempfile.mktemp()
    dmesg_others.append(("makedumpfile --dump-dmesg", ["sh", "-c", f"makedumpfile --dump-dmesg {dump} {out} >/dev/null 2>&1; rm -f {out}"], None, False))
    dmesg_others.append(("drgn dmesg (DWARF)", *drgn(DRGN_DMESG), True))
    dmesg_others.append(("crash log (DWARF)", *crash("log"), True))
    yield "dmesg", [coroner, "dmesg", dump], dmesg_others
    yield "ps", [coroner, "ps", dump], [
        ("drgn for_each_task (DWARF)", *drgn(DRGN_PS), True),
        ("crash ps (DWARF)", *crash("ps"), True),
    ]
    yield "summary", [coroner, "summary", dump], [
        ("drgn dmesg+tasks+stack (DWARF)", *drgn(DRGN_SUMMARY), True),
        ("crash sys+bt+log+ps (DWARF)", *crash("sys\nbt\nlog\nps"), True),
    ]


if __name__ == "__main__":
    main()
