#!/bin/bash
# Writes a sample of the symbols a kernel's kallsyms holds, taken from its DWARF
# vmlinux with nm, for coroner's KallsymsTests:
#   Fixtures/generator/kallsyms-sample.sh VMLINUX > Fixtures/FIXTURE/expected/kallsyms-sample.txt
#
# Output lines:
#   # comments
#   build-id HEX           the vmlinux's GNU build ID (VMCOREINFO's BUILD-ID)
#   count N                kallsyms_num_syms, read from the vmlinux's .rodata
#   ADDRESS TYPE NAME      link-time address (hex), type letter, name
# Kernel-image addresses are link-time: the tests add KERNELOFFSET. Per-CPU
# symbols are listed as the kernel's scripts/kallsyms.c stores them on x86-64
# (CONFIG_KALLSYMS_ABSOLUTE_PERCPU): type A, offset not moved by KASLR.
#
# Only symbols kallsyms keeps are sampled: not absolute (A/a, e.g. __crc_*),
# not __kstrtab_*, __kstrtabns_*, __crc_*, .L* local labels, nor the kallsyms
# tables themselves (scripts/kallsyms.c leaves them out), and only names that
# occur once in the vmlinux.
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 VMLINUX" >&2; exit 2; }
vmlinux=$1
[ -r "$vmlinux" ] || { echo "$0: cannot read $vmlinux" >&2; exit 1; }

symbols=$(mktemp)
trap 'rm -f "$symbols"' EXIT
nm -n "$vmlinux" > "$symbols"

# kallsyms_num_syms: a 32-bit little-endian value in the image.
count_address=$(awk '$3 == "kallsyms_num_syms" { print $1; exit }' "$symbols")
[ -n "$count_address" ] || { echo "$0: $vmlinux has no kallsyms_num_syms" >&2; exit 1; }
stop=$(printf '%x' $((0x$count_address + 4)))
word=$(objdump -s --start-address="0x$count_address" --stop-address="0x$stop" "$vmlinux" |
    awk 'NF >= 2 && $1 ~ /^[0-9a-f]+$/ { w = $2 } END { print w }')
[ ${#word} -eq 8 ] || { echo "$0: cannot read kallsyms_num_syms" >&2; exit 1; }
count=$((0x${word:6:2}${word:4:2}${word:2:2}${word:0:2}))

build_id=$(readelf -n "$vmlinux" | awk '/Build ID:/ { print $3; exit }')

echo "# kallsyms sample of $(basename "$vmlinux"), made by Fixtures/generator/kallsyms-sample.sh"
echo "# from nm -n: link-time addresses (add KERNELOFFSET to kernel-image ones);"
echo "# per-CPU symbols as type A offsets, which KASLR does not move."
echo "build-id ${build_id:-unknown}"
echo "count $count"

# Eligible symbols, then a sample: every Nth (about 300), the first, middle
# and last of each type letter, and a few well-known names.
awk -v wanted=300 '
    function skipped(name, type) {
        if (type !~ /^[TtDdBbRrWV]$/) return 1
        if (name ~ /^(__crc_|__kstrtab_|__kstrtabns_|\.L)/) return 1
        if (name ~ /^kallsyms_(addresses|offsets|relative_base|num_syms|names|markers|seqs_of_names|token_table|token_index)$/) return 1
        return 0
    }
    NR == FNR {
        seen[$3]++
        if ($3 == "__per_cpu_end") percpu_end = $1
        next
    }
    {
        address = $1; type = $2; name = $3
        if (NF != 3 || seen[name] != 1 || skipped(name, type)) next
        high = substr(address, 1, 8)
        if (high == "00000000") {
            # Per-CPU data: an offset below __per_cpu_end, stored as A.
            if (type !~ /^[Dd]$/ || percpu_end == "" || address >= percpu_end) next
            type = "A"
        } else if (address < "ffffffff80000000") {
            next
        }
        n++
        line[n] = address " " type " " name
        kind[n] = type
        byname[name] = n
        per[type, ++pertype[type]] = n
    }
    END {
        step = int(n / wanted); if (step < 1) step = 1
        for (i = 1; i <= n; i += step) pick[i] = 1
        for (t in pertype) {
            c = pertype[t]
            pick[per[t, 1]] = 1; pick[per[t, int((c + 1) / 2)]] = 1; pick[per[t, c]] = 1
        }
        split("_stext _text _etext _end init_task linux_banner start_kernel init_uts_ns jiffies schedule panic runqueues current_task __per_cpu_start", names, " ")
        for (k in names) if (names[k] in byname) pick[byname[names[k]]] = 1
        for (i = 1; i <= n; i++) if (i in pick) print line[i]
    }
' "$symbols" "$symbols"
