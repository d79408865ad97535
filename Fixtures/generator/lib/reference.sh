# Reference outputs of established tools for a dump. Source after common.sh and tools.sh.

# The crash commands whose outputs are kept, as "file-name|command".
CRASH_CMDS=(
    "crash-sys.txt|sys"
    "crash-log.txt|log"
    "crash-bt.txt|bt"
    "crash-bt-a.txt|bt -a"
    "crash-mod.txt|mod"
    "crash-ps.txt|ps"
    "crash-kmem-i.txt|kmem -i"
)

# run_crash VMLINUX DUMP OUTDIR [CRASH OPTIONS...]
#   one batch crash 8.0.6 run; splits the output into OUTDIR/crash-*.txt.
#   crash runs in a scratch folder on symlinks so that its output names only
#   the file names (KERNEL: vmlinux-REL, DUMPFILE: NAME), not the cache path.
run_crash() {
    local vml=$1 dump=$2 out=$3; shift 3
    crash_batch "$vml" "$out" "$*" "$dump"
}

# run_crash_files VMLINUX OUTDIR DUMP... : the same on several dump files
#   (the parts of a split dump, which crash reads as one dump).
run_crash_files() {
    local vml=$1 out=$2; shift 2
    crash_batch "$vml" "$out" "" "$@"
}

# crash_batch VMLINUX OUTDIR "CRASH OPTIONS" DUMP...
crash_batch() {
    local vml=$1 out=$2 opts=$3; shift 3
    local s; s=$(mktemp -d "$CACHE/tmp.crash.XXXX")
    ln -s "$vml" "$s/$(basename "$vml")"
    local d names=()
    for d in "$@"; do ln -s "$(readlink -f "$d")" "$s/$(basename "$d")"; names+=("$(basename "$d")"); done
    local e name cmd
    for e in "${CRASH_CMDS[@]}"; do
        name=${e%%|*}; cmd=${e#*|}
        echo "echo @@CORONER-SPLIT@@ $name"; echo "$cmd"
    done > "$s/cmds"
    echo exit >> "$s/cmds"
    # shellcheck disable=SC2086
    (cd "$s" && crash806 -s $opts "$(basename "$vml")" "${names[@]}" < cmds > all.txt 2> stderr.txt) || true
    mkdir -p "$out"
    # Split: each section starts after its marker line.
    awk -v dir="$out" '/^@@CORONER-SPLIT@@ / {f = dir "/" $2; printf "" > f; next} f {print >> f}' "$s/all.txt"
    cp "$s/stderr.txt" "$out/crash-stderr.txt"
    [ -s "$out/crash-stderr.txt" ] || rm -f "$out/crash-stderr.txt"
    rm -rf "$s"
}

# run_drgn VMLINUX DUMP OUT.json [drgn-reference.py options]
run_drgn() {
    local vml=$1 dump=$2 out=$3; shift 3
    drgn_py "$GEN_DIR/drgn-reference.py" "$vml" "$dump" "$out" "$@"
}

# kdump_references VMLINUX RAW_ELF EXPDIR : every reference for a true kdump.
# Writes a notes file EXPDIR/../.notes (lines for PROVENANCE.md).
kdump_references() {
    local vml=$1 raw=$2 exp=$3 notes=$4
    mkdir -p "$exp"
    timed "vmcore-dmesg" bash -c "vmcore-dmesg '$raw' > '$exp/vmcore-dmesg.txt'"
    rm -f "$exp/makedumpfile-dmesg.txt"
    timed "makedumpfile --dump-dmesg" bash -c "makedumpfile --dump-dmesg '$raw' '$exp/makedumpfile-dmesg.txt' > /dev/null 2>&1"
    chmod 644 "$exp/makedumpfile-dmesg.txt"
    timed "crash 8.0.6 (raw ELF)" run_crash "$vml" "$raw" "$exp"
    timed "drgn (raw ELF)" run_drgn "$vml" "$raw" "$exp/drgn.json"
    if cmp -s "$exp/drgn.json.dmesg" "$exp/vmcore-dmesg.txt"; then
        echo "- drgn's dmesg equals vmcore-dmesg's output byte for byte." >> "$notes"
    else
        echo "- drgn's dmesg DIFFERS from vmcore-dmesg's output:" >> "$notes"
        diff "$exp/vmcore-dmesg.txt" "$exp/drgn.json.dmesg" | head -20 | sed 's/^/    /' >> "$notes"
    fi
    rm -f "$exp/drgn.json.dmesg"
}

# check_derived VMLINUX RAW_EXPDIR DUMP NOTES [drgn options]
#   run crash and drgn on a derived (filtered / converted) dump and compare
#   with the references of the raw ELF: crash ps, bt -a, log, mod and drgn's
#   JSON (tasks, stack, dmesg, modules...). Appends the verdict to NOTES.
check_derived() {
    local vml=$1 exp=$2 dump=$3 notes=$4; shift 4
    local s; s=$(mktemp -d "$CACHE/tmp.check.XXXX")
    run_crash "$vml" "$dump" "$s/crash"
    run_drgn "$vml" "$dump" "$s/drgn.json" "$@" || true
    local f verdict="" same=""
    for f in crash-ps.txt crash-bt-a.txt crash-log.txt crash-mod.txt crash-bt.txt; do
        if cmp -s "$exp/$f" "$s/crash/$f"; then same="$same ${f#crash-}"; else verdict="$verdict ${f#crash-}"; fi
    done
    # sys names the dump file: compare the other lines.
    if [ -s "$s/crash/crash-sys.txt" ] && cmp -s <(grep -v DUMPFILE: "$exp/crash-sys.txt") <(grep -v DUMPFILE: "$s/crash/crash-sys.txt"); then
        same="$same sys.txt(but DUMPFILE)"; else verdict="$verdict sys.txt"; fi
    local dj
    dj=$(/usr/bin/python3 - "$exp/drgn.json" "$s/drgn.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
diff = [k for k in a if a.get(k) != b.get(k)]
print("drgn JSON identical" if not diff else "drgn JSON differs in: " + ", ".join(diff))
PY
)
    echo "- \`$(basename "$dump")\`: crash output identical to the raw ELF's for:${same:- none}${verdict:+; DIFFERENT for:$verdict}; $dj." >> "$notes"
    rm -rf "$s"
}
