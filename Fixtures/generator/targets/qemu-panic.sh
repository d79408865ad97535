# Target: QEMU dump-guest-memory dumps (through QMP) of a guest left in panic
# (no kdump loaded, panic=0), with and without VMCOREINFO. Sourced by make-fixtures.sh.

# qemu_panic_run KDIR MEM_MB OUTDIR MARKER NOFWCFG "FORMATS"
#   boots the guest, waits for the panic on the console and writes
#   OUTDIR/qemu.FORMAT for each FORMAT (elf, kdump-zlib) through QMP.
QEMU_PANIC_CMDLINE='console=ttyS0 rdinit=/init panic=0'
qemu_panic_run() {
    local kd=$1 mem=$2 out=$3 marker=$4 nofwcfg=$5 formats=$6
    rm -f "$out"/qemu.* "$out/serial.log" "$out/qmp.sock"
    build_initramfs "$kd" panic "$marker" "$out" "$nofwcfg"
    QEMU_CMDLINE="qemu-system-x86_64 -accel tcg -machine q35 -smp 2 -m $mem -no-reboot -kernel vmlinuz -initrd first.gz -append \"$QEMU_PANIC_CMDLINE\" -device vmcoreinfo -serial file:serial.log -qmp unix:qmp.sock,server=on,wait=off -monitor none -display none -net none"
    qemu_run 600 -machine q35 -smp 2 -m "$mem" -no-reboot -kernel "$kd/vmlinuz" -initrd "$out/first.gz" \
        -append "$QEMU_PANIC_CMDLINE" -device vmcoreinfo -serial file:"$out/serial.log" \
        -qmp unix:"$out/qmp.sock",server=on,wait=off -monitor none -display none -net none &
    local qpid=$! i
    for i in $(seq 1 300); do
        grep -q 'end Kernel panic' "$out/serial.log" 2>/dev/null && break
        kill -0 $qpid 2>/dev/null || die "QEMU exited before the panic (see $out/serial.log)"
        sleep 1
    done
    grep -q 'end Kernel panic' "$out/serial.log" || { kill $qpid; die "no panic within 300 s"; }
    sleep 2                                   # let the other CPU reach its stop loop
    local f cmds=()
    for f in $formats; do
        cmds+=("{\"execute\":\"dump-guest-memory\",\"arguments\":{\"paging\":false,\"protocol\":\"file:$out/qemu.$f\",\"format\":\"$f\"}}")
    done
    cmds+=('{"execute":"query-dump-guest-memory-capability"}' '{"execute":"quit"}')
    /usr/bin/python3 "$GEN_DIR/qmp.py" "$out/qmp.sock" "${cmds[@]}" > "$out/qmp.log" || true
    wait $qpid || true
    for f in $formats; do [ -s "$out/qemu.$f" ] || die "no $f dump (see $out/qmp.log)"; done
}

qemu_fixture() {
    local id=$1 suite=$2 regex=$3 mem=${QEMU_PANIC_MEM:-96}
    local w="$CACHE/dumps/$id" fix="$FIXTURES_DIR/$id" t_start=$SECONDS
    mkdir -p "$w/vmci" "$w/novmci" "$fix/expected" "$fix/expected-novmcoreinfo"
    export TIMINGS="$w/timings.txt"; : > "$TIMINGS"
    local notes="$w/notes.md"; : > "$notes"
    apt_setup "$suite"; tools_setup
    local pkg rel kd vml
    pkg=$(newest_pkg "$suite" "$regex"); rel=${pkg#linux-image-}
    kd=$(prepare_kernel "$suite" "$rel"); vml=$(dbg_vmlinux "$suite" "$rel")

    if [ ! -s "$w/vmci/qemu.kdump-zlib" ] || [ ! -s "$w/novmci/qemu.elf" ] || [ -n "${FORCE_BOOT:-}" ]; then
        local m1 m2
        m1="CORONER-MARKER $id $(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')"
        m2="CORONER-MARKER $id-novmcoreinfo $(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')"
        local t1=$SECONDS
        qemu_panic_run "$kd" "$mem" "$w/vmci" "$m1" 0 "elf kdump-zlib"
        local q1=$QEMU_CMDLINE t2=$SECONDS
        qemu_panic_run "$kd" "$mem" "$w/novmci" "$m2" 1 "elf"
        printf 'MARKER=%q\nMARKER_NOVMCI=%q\nQEMU_CMDLINE=%q\nRUN_DATE=%q\nMEM=%q\nQ1_SECONDS=%q\nQ2_SECONDS=%q\n' \
            "$m1" "$m2" "$q1" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$mem" "$((t2 - t1))" "$((SECONDS - t2))" > "$w/run.env"
    fi
    source "$w/run.env"

    # ---- committed files
    rm -f "$fix"/vmcore.*
    local tsv="$w/files.tsv"; : > "$tsv"
    cp "$w/vmci/qemu.elf" "$w/vmcore.qemu.elf"
    cp "$w/vmci/qemu.kdump-zlib" "$w/vmcore.qemu.kdump-zlib.flat"
    cp "$w/novmci/qemu.elf" "$w/vmcore.qemu-novmcoreinfo.elf"
    local n
    timed "xz vmcore.qemu.elf" commit_dump "$w/vmcore.qemu.elf" "$fix" vmcore.qemu.elf > /dev/null
    printf '%s\telf\tnone\t\t (QEMU dump-guest-memory format=elf, with VMCOREINFO)\n' "$(committed_name "$fix" vmcore.qemu.elf)" >> "$tsv"
    timed "xz vmcore.qemu.kdump-zlib.flat" commit_dump "$w/vmcore.qemu.kdump-zlib.flat" "$fix" vmcore.qemu.kdump-zlib.flat > /dev/null
    printf '%s\tflattened\tzlib\t\t (QEMU dump-guest-memory format=kdump-zlib, flattened layout)\n' "$(committed_name "$fix" vmcore.qemu.kdump-zlib.flat)" >> "$tsv"
    timed "xz vmcore.qemu-novmcoreinfo.elf" commit_dump "$w/vmcore.qemu-novmcoreinfo.elf" "$fix" vmcore.qemu-novmcoreinfo.elf > /dev/null
    printf '%s\telf\tnone\t\t (QEMU dump-guest-memory format=elf, NO VMCOREINFO)\n' "$(committed_name "$fix" vmcore.qemu-novmcoreinfo.elf)" >> "$tsv"

    # ---- references
    local exp="$fix/expected" exp2="$fix/expected-novmcoreinfo"
    ref_try() { local what=$1; shift; if "$@" > "$w/ref.out" 2>&1; then echo "- $what: works." >> "$notes"; else echo "- $what: FAILS: \`$(tail -1 "$w/ref.out")\`" >> "$notes"; fi; }
    ref_try "vmcore-dmesg on the QEMU ELF" bash -c "vmcore-dmesg '$w/vmcore.qemu.elf' > '$exp/vmcore-dmesg.txt'"
    [ -s "$exp/vmcore-dmesg.txt" ] || rm -f "$exp/vmcore-dmesg.txt"
    rm -f "$exp/makedumpfile-dmesg.txt"
    ref_try "makedumpfile --dump-dmesg on the QEMU ELF" makedumpfile --dump-dmesg "$w/vmcore.qemu.elf" "$exp/makedumpfile-dmesg.txt"
    [ -s "$exp/makedumpfile-dmesg.txt" ] || rm -f "$exp/makedumpfile-dmesg.txt"
    timed "crash on the QEMU ELF" run_crash "$vml" "$w/vmcore.qemu.elf" "$exp"
    timed "drgn on the QEMU ELF" run_drgn "$vml" "$w/vmcore.qemu.elf" "$exp/drgn.json"
    mv "$exp/drgn.json.dmesg" "$w/drgn-elf.dmesg" 2>/dev/null || true
    if [ -s "$exp/vmcore-dmesg.txt" ] && cmp -s "$w/drgn-elf.dmesg" "$exp/vmcore-dmesg.txt"; then
        echo "- drgn's dmesg equals vmcore-dmesg's byte for byte." >> "$notes"; fi
    # crash indents continuation lines; compare with leading blanks removed.
    if cmp -s <(sed 's/^ *//' "$exp/crash-log.txt") <(sed 's/^ *//' "$w/drgn-elf.dmesg"); then
        echo "- crash's \`log\` equals drgn's dmesg (ignoring the indentation crash gives continuation lines)." >> "$notes"
    else echo "- crash's \`log\` and drgn's dmesg differ (see expected/)." >> "$notes"; fi
    timed "check kdump-zlib with crash + drgn" check_derived "$vml" "$exp" "$w/vmcore.qemu.kdump-zlib.flat" "$notes" --architecture x86_64
    # Without VMCOREINFO: whatever crash and drgn say is the reference.
    timed "crash on the no-VMCOREINFO ELF" run_crash "$vml" "$w/vmcore.qemu-novmcoreinfo.elf" "$exp2"
    timed "drgn on the no-VMCOREINFO ELF" run_drgn "$vml" "$w/vmcore.qemu-novmcoreinfo.elf" "$exp2/drgn.json" || true
    rm -f "$exp2/drgn.json.dmesg"
    echo "- no-VMCOREINFO ELF: crash says \`$(grep -h -m1 -E 'RELEASE|error|invalid|cannot' "$exp2/crash-sys.txt" "$exp2/crash-stderr.txt" 2>/dev/null | head -1 || true)\`; drgn: \`$(/usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print({k: (v if not isinstance(v,(list,str)) or len(str(v))<80 else str(v)[:80]) for k,v in d.items() if k in ('error','uname','kaslr_offset','dmesg','tasks')})" "$exp2/drgn.json" 2>&1 | tail -1)\`" >> "$notes"

    local checks
    checks=$(/usr/bin/python3 "$GEN_DIR/make-facts.py" "$fix" "$tsv" "$MARKER" \
        "{\"kind\": \"qemu-dump-guest-memory\", \"guestMemoryMiB\": $mem, \"markerNoVmcoreinfo\": \"$MARKER_NOVMCI\"}")
    echo "- crash vs drgn cross-checks: \`$checks\`" >> "$notes"
    write_qemu_provenance "$id" "$suite" "$pkg" "$rel" "$vml" "$((SECONDS - t_start))"
}

write_qemu_provenance() {
    local id=$1 suite=$2 pkg=$3 rel=$4 vml=$5 secs=$6 w="$CACHE/dumps/$1" fix="$FIXTURES_DIR/$1"
    {
        echo "# $id: provenance"
        echo
        echo "Generated $(date -u +%Y-%m-%d) by \`Fixtures/generator/make-fixtures.sh qemu-6.1\` (guest runs $RUN_DATE)."
        echo
        echo "## Packages"
        echo "- kernel: \`$pkg\` $(pkg_version "$suite" "$pkg"); DWARF vmlinux from \`$pkg-dbg\`"
        echo "- busybox-static $(pkg_version bookworm busybox-static); workload \`coroner-workload.c\` (as in linux-6.1-sysrq, without kexec)"
        tool_versions
        echo
        echo "## Guest runs"
        echo "- QEMU: \`$QEMU_CMDLINE\`"
        echo "- kernel command line: \`$QEMU_PANIC_CMDLINE\` (no crashkernel, no kdump: \`coroner-crash\` writes \`c\` to /proc/sysrq-trigger on CPU 1 and the guest stays in panic)"
        echo "- after \`---[ end Kernel panic\` on the console, QMP: \`dump-guest-memory\` with \`paging: false\`, \`format: elf\` then \`format: kdump-zlib\` (QEMU 7.2 writes kdump-zlib in makedumpfile's flattened layout)."
        echo "- with VMCOREINFO: the guest loads \`qemu_fw_cfg\` and QEMU has \`-device vmcoreinfo\`; marker \`$MARKER\`"
        echo "- without VMCOREINFO: same command line, the initramfs leaves \`qemu_fw_cfg\` out; marker \`$MARKER_NOVMCI\`"
        echo "- guest memory: $MEM MiB"
        echo
        echo "## Raw dumps (cache)"
        for f in vmcore.qemu.elf vmcore.qemu.kdump-zlib.flat vmcore.qemu-novmcoreinfo.elf; do
            echo "- \`$w/$f\`: $(fsize "$w/$f") bytes, sha256 \`$(sha256 "$w/$f")\`"; done
        echo "- DWARF vmlinux: \`$vml\`; regenerate with \`Fixtures/generator/make-fixtures.sh qemu-6.1\`"
        echo
        echo "## Committed files"
        files_table "$fix" "$w/files.tsv"
        echo
        echo "## Reference outputs"
        echo "- \`expected/\`: crash $(pkg_version trixie crash) and \`drgn-reference.py\` on the QEMU ELF with VMCOREINFO (vmcore-dmesg / makedumpfile outputs only where those tools could read it)"
        echo "- \`expected-novmcoreinfo/\`: crash and drgn on the ELF without VMCOREINFO (what they say, errors included)"
        echo
        echo "## Checks"
        cat "$w/notes.md"
        echo
        echo "## Timings (this machine: 2 cores, TCG)"
        echo "- QEMU run with qemu_fw_cfg (build initramfs, boot, panic, ELF + kdump-zlib dumps; at $RUN_DATE): $Q1_SECONDS s"
        echo "- QEMU run without qemu_fw_cfg (build initramfs, boot, panic, ELF dump): $Q2_SECONDS s"
        sed 's/^/- /' "$TIMINGS"
        echo "- whole target: $secs s"
    } > "$fix/PROVENANCE.md"
}
