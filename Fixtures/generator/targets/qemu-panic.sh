# Target: QEMU dump-guest-memory dumps (through QMP) of a guest left in panic
# (no kdump loaded, panic=0). Sourced by make-fixtures.sh.
#
# qemu_fixture ID SUITE KERNEL_REGEX VARIANT
#   VARIANT vmcoreinfo (qemu-6.1-panic, committed): the guest loads qemu_fw_cfg,
#     QEMU has -device vmcoreinfo; dumps as ELF (vmcore.qemu.elf.xz) and as
#     QEMU's kdump-zlib (vmcore.qemu.kdump-zlib.flat), both of the same panic.
#   VARIANT novmcoreinfo (qemu-6.1-panic-novmcoreinfo, NOT committed: run with
#     UNCOMMITTED=1, written to $CACHE/uncommitted/ID): no qemu_fw_cfg, so the
#     ELF dump has no VMCOREINFO note.
# The guest is lean, so that QEMU's kdump-zlib file (whose pages QEMU
# compresses with zlib level 1, every non-zero page of RAM) stays near 15 MB:
#   - QEMU_PANIC_MEM MiB (default 96; 80 failed to unpack the initramfs),
#     no VGA device (-vga none: no 16 MiB VGA BAR in the dumps);
#   - init_on_free=1: freed pages are zeros, which xz and QEMU's kdump format
#     store for nothing (the initrd, the freed kernel init sections, ...);
#   - lockdown=confidentiality: tracefs then creates none of its ~9,700 event
#     inodes (about 7 MB of slab, 1.7 MB of the kdump-zlib file);
#   - an initramfs with busybox, /init, the stripped workload and qemu_fw_cfg
#     only; /init deletes busybox and execs coroner-init before the crash, so
#     busybox's 2 MB of page cache are freed (zeroed) too.
QEMU_PANIC_CMDLINE='console=ttyS0 rdinit=/init panic=0 init_on_free=1 lockdown=confidentiality'
QEMU_PANIC_ARGS='-vga none'
# Bump when the guest recipe changes: a cached dump of another recipe is not reused.
QEMU_PANIC_RECIPE=3

# qemu_panic_run KDIR MEM_MB OUTDIR MARKER NOFWCFG "FORMATS"
#   boots the guest, waits for the panic on the console and writes
#   OUTDIR/qemu.FORMAT for each FORMAT (elf, kdump-zlib) through QMP.
qemu_panic_run() {
    local kd=$1 mem=$2 out=$3 marker=$4 nofwcfg=$5 formats=$6
    mkdir -p "$out"
    rm -f "$out"/qemu.* "$out/serial.log" "$out/qmp.sock"
    build_initramfs "$kd" panic "$marker" "$out" "$nofwcfg"
    QEMU_CMDLINE="qemu-system-x86_64 -accel tcg -machine q35 -smp 2 -m $mem -no-reboot -kernel vmlinuz -initrd first.gz -append \"$QEMU_PANIC_CMDLINE\" -device vmcoreinfo -serial file:serial.log -qmp unix:qmp.sock,server=on,wait=off -monitor none -display none -net none $QEMU_PANIC_ARGS"
    # shellcheck disable=SC2086
    qemu_run 600 -machine q35 -smp 2 -m "$mem" -no-reboot -kernel "$kd/vmlinuz" -initrd "$out/first.gz" \
        -append "$QEMU_PANIC_CMDLINE" -device vmcoreinfo -serial file:"$out/serial.log" \
        -qmp unix:"$out/qmp.sock",server=on,wait=off -monitor none -display none -net none $QEMU_PANIC_ARGS &
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
    grep -q "^${marker}\$" <(tr -d '\r' < "$out/serial.log" | sed 's/^\[ *[0-9.]*\] //') || die "marker not on the console"
}

qemu_fixture() {
    local id=$1 suite=$2 regex=$3 variant=$4 mem=${QEMU_PANIC_MEM:-96}
    local w="$CACHE/dumps/$id" fix t_start=$SECONDS
    fix=$(fixture_dir "$id")
    mkdir -p "$w" "$fix/expected"
    export TIMINGS="$w/timings.txt"; : > "$TIMINGS"
    local notes="$w/notes.md"; : > "$notes"
    apt_setup "$suite"; tools_setup
    local pkg rel kd vml
    pkg=$(newest_pkg "$suite" "$regex"); rel=${pkg#linux-image-}
    kd=$(prepare_kernel "$suite" "$rel"); vml=$(dbg_vmlinux "$suite" "$rel")

    local nofwcfg=0 formats="elf kdump-zlib" elfname=vmcore.qemu.elf
    [ "$variant" = novmcoreinfo ] && { nofwcfg=1; formats=elf; elfname=vmcore.qemu-novmcoreinfo.elf; }
    local recipe_ok=0
    [ -s "$w/run.env" ] && grep -qx "RECIPE=$QEMU_PANIC_RECIPE" "$w/run.env" && recipe_ok=1
    if [ "$recipe_ok" = 0 ] || [ ! -s "$w/guest/qemu.elf" ] || [ -n "${FORCE_BOOT:-}" ]; then
        local m t1=$SECONDS
        m="CORONER-MARKER $id $(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')"
        rm -rf "$w/guest" "$w/vmci" "$w/novmci"
        qemu_panic_run "$kd" "$mem" "$w/guest" "$m" "$nofwcfg" "$formats"
        printf 'RECIPE=%s\nMARKER=%q\nQEMU_CMDLINE=%q\nRUN_DATE=%q\nMEM=%q\nBOOT_SECONDS=%q\nINITRAMFS_BYTES=%q\n' \
            "$QEMU_PANIC_RECIPE" "$m" "$QEMU_CMDLINE" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$mem" "$((SECONDS - t1))" \
            "$(fsize "$w/guest/first.gz")" > "$w/run.env"
    fi
    # shellcheck disable=SC1091
    source "$w/run.env"

    # ---- committed files
    rm -f "$fix"/vmcore.*
    local tsv="$w/files.tsv"; : > "$tsv"
    ln -f "$w/guest/qemu.elf" "$w/$elfname"
    timed "xz $elfname" commit_dump "$w/$elfname" "$fix" "$elfname" > /dev/null
    local n; n=$(committed_name "$fix" "$elfname")
    if [ "$variant" = novmcoreinfo ]; then
        tsv_row "$tsv" "$n" elf none - " (QEMU dump-guest-memory format=elf, NO VMCOREINFO)" "" "$fix/$n"
    else
        tsv_row "$tsv" "$n" elf none - " (QEMU dump-guest-memory format=elf, with VMCOREINFO)" "" "$fix/$n"
        ln -f "$w/guest/qemu.kdump-zlib" "$w/vmcore.qemu.kdump-zlib.flat"
        timed "xz vmcore.qemu.kdump-zlib.flat" commit_dump "$w/vmcore.qemu.kdump-zlib.flat" "$fix" vmcore.qemu.kdump-zlib.flat > /dev/null
        n=$(committed_name "$fix" vmcore.qemu.kdump-zlib.flat)
        tsv_row "$tsv" "$n" flattened zlib - " (QEMU dump-guest-memory format=kdump-zlib, flattened layout)" "" "$fix/$n"
    fi

    # ---- references (crash and drgn with the DWARF vmlinux; the other tools where they can)
    local exp="$fix/expected"
    ref_try() { local what=$1; shift; if "$@" > "$w/ref.out" 2>&1; then echo "- $what: works." >> "$notes"; else echo "- $what: FAILS: \`$(tail -1 "$w/ref.out")\`" >> "$notes"; fi; }
    rm -f "$exp/vmcore-dmesg.txt" "$exp/makedumpfile-dmesg.txt" "$exp"/crash-*.txt "$exp/drgn.json"
    ref_try "vmcore-dmesg on the QEMU ELF" bash -c "vmcore-dmesg '$w/$elfname' > '$exp/vmcore-dmesg.txt'"
    [ -s "$exp/vmcore-dmesg.txt" ] || rm -f "$exp/vmcore-dmesg.txt"
    ref_try "makedumpfile --dump-dmesg on the QEMU ELF" makedumpfile --dump-dmesg "$w/$elfname" "$exp/makedumpfile-dmesg.txt"
    [ -s "$exp/makedumpfile-dmesg.txt" ] || rm -f "$exp/makedumpfile-dmesg.txt"
    timed "crash on the QEMU ELF" run_crash "$vml" "$w/$elfname" "$exp"
    timed "drgn on the QEMU ELF" run_drgn "$vml" "$w/$elfname" "$exp/drgn.json" || true
    mv "$exp/drgn.json.dmesg" "$w/drgn-elf.dmesg" 2>/dev/null || true
    if [ "$variant" = novmcoreinfo ]; then
        # Whatever crash and drgn say is the reference.
        echo "- no-VMCOREINFO ELF: crash says \`$(grep -h -m1 -E 'RELEASE|error|invalid|cannot' "$exp/crash-sys.txt" "$exp/crash-stderr.txt" 2>/dev/null | head -1 || true)\`; drgn: \`$(/usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print({k: (v if not isinstance(v,(list,str)) or len(str(v))<80 else str(v)[:80]) for k,v in d.items() if k in ('error','uname','kaslr_offset','dmesg','tasks')})" "$exp/drgn.json" 2>&1 | tail -1)\`" >> "$notes"
    else
        if [ -s "$exp/vmcore-dmesg.txt" ] && cmp -s "$w/drgn-elf.dmesg" "$exp/vmcore-dmesg.txt"; then
            echo "- drgn's dmesg equals vmcore-dmesg's byte for byte." >> "$notes"; fi
        # crash indents continuation lines; compare with leading blanks removed.
        if cmp -s <(sed 's/^ *//' "$exp/crash-log.txt") <(sed 's/^ *//' "$w/drgn-elf.dmesg"); then
            echo "- crash's \`log\` equals drgn's dmesg (ignoring the indentation crash gives continuation lines)." >> "$notes"
        else echo "- crash's \`log\` and drgn's dmesg differ (see expected/)." >> "$notes"; fi
        grep -q "^.*$MARKER\$" "$w/drgn-elf.dmesg" && echo "- the marker line is in drgn's dmesg." >> "$notes"
        timed "check kdump-zlib with crash + drgn" check_derived "$vml" "$exp" "$w/vmcore.qemu.kdump-zlib.flat" "$notes" --architecture x86_64
        echo "- the no-VMCOREINFO path: not a separate committed dump; a reader can ignore the VMCOREINFO note of \`vmcore.qemu.elf\`. A real QEMU dump without VMCOREINFO is made by \`make-fixtures.sh qemu-6.1-novmcoreinfo\` (not committed: \`$UNCOMMITTED_DIR/qemu-6.1-panic-novmcoreinfo\`)." >> "$notes"
    fi
    # Page statistics of the ELF: how many pages are zero (init_on_free=1 zeroes freed pages).
    echo "- $(/usr/bin/python3 "$GEN_DIR/elf-page-stats.py" "$w/$elfname")" >> "$notes"

    local checks
    checks=$(/usr/bin/python3 "$GEN_DIR/make-facts.py" "$fix" "$tsv" "$MARKER" \
        "{\"kind\": \"qemu-dump-guest-memory\", \"guestMemoryMiB\": $MEM, \"kernelCmdline\": \"$QEMU_PANIC_CMDLINE\", \"vmcoreinfo\": $( [ "$variant" = novmcoreinfo ] && echo false || echo true)}")
    echo "- crash vs drgn cross-checks: \`$checks\`" >> "$notes"
    write_qemu_provenance "$id" "$suite" "$pkg" "$rel" "$vml" "$variant" "$((SECONDS - t_start))"
    log "$id: done in $((SECONDS - t_start)) s"
}

write_qemu_provenance() {
    local id=$1 suite=$2 pkg=$3 rel=$4 vml=$5 variant=$6 secs=$7 w="$CACHE/dumps/$1" fix
    fix=$(fixture_dir "$id")
    local target=qemu-6.1; [ "$variant" = novmcoreinfo ] && target=qemu-6.1-novmcoreinfo
    {
        echo "# $id: provenance"
        echo
        echo "Generated $(date -u +%Y-%m-%d) by \`Fixtures/generator/make-fixtures.sh $target\` (guest run $RUN_DATE)."
        echo "Regenerate with \`Fixtures/generator/make-fixtures.sh $target\` (reuses the dump in the cache; \`FORCE_BOOT=1\` boots again, which gives a new dump and marker)."
        [ "${UNCOMMITTED:-0}" = 1 ] && echo "This fixture is NOT committed: the generator writes it to \`$fix\`."
        echo
        echo "## Packages"
        echo "- kernel: \`$pkg\` $(pkg_version "$suite" "$pkg"); DWARF vmlinux from \`$pkg-dbg\`"
        echo "- busybox-static $(pkg_version bookworm busybox-static); workload \`coroner-workload.c\` (as in linux-6.1-sysrq)"
        tool_versions
        echo
        echo "## Guest run"
        echo "- QEMU: \`$QEMU_CMDLINE\`"
        echo "- kernel command line: \`$QEMU_PANIC_CMDLINE\` (no crashkernel, no kdump: \`coroner-crash\` writes \`c\` to /proc/sysrq-trigger on CPU 1 and the guest stays in panic; \`init_on_free=1\` makes freed pages zeros; \`lockdown=confidentiality\` keeps tracefs from creating its ~9,700 event inodes, about 7 MB of slab: the log says \`Kernel is locked down from command line\` and \`Tracing disabled due to lockdown\`)"
        echo "- /init (busybox sh) starts the workload, writes the marker, then deletes /bin/busybox and execs \`coroner-init\` (the workload binary under that name), which starts \`coroner-crash\`: PID 1's comm is \`coroner-init\`, and busybox's page cache is freed (zeroed) before the crash"
        echo "- guest memory: $MEM MiB, no VGA device (\`-vga none\`); initramfs \`first.gz\` $INITRAMFS_BYTES bytes: busybox, \`/init\`, the workload (stripped)$( [ "$variant" = novmcoreinfo ] && echo ' (no module: without qemu_fw_cfg QEMU cannot hand VMCOREINFO over)' || echo ' and qemu_fw_cfg.ko (QEMU -device vmcoreinfo needs it for the VMCOREINFO note)'); no kexec, no capture kernel, no virtio"
        echo "- after \`---[ end Kernel panic\` on the console, QMP: \`dump-guest-memory\` with \`paging: false\`, $( [ "$variant" = novmcoreinfo ] && echo '`format: elf`' || echo '`format: elf` then `format: kdump-zlib` (QEMU 7.2 writes kdump-zlib in makedumpfile'"'"'s flattened layout); both dumps are of the same panicked guest')."
        echo "- marker \`$MARKER\`"
        echo
        echo "## Dumps (cache)"
        local f
        for f in "$w"/guest/qemu.*; do
            echo "- \`$f\`: $(fsize "$f") bytes, sha256 \`$(sha256 "$f")\`"; done
        echo "- DWARF vmlinux: \`$vml\`; console log \`$w/guest/serial.log\`"
        echo
        echo "## Committed files"
        echo
        files_table "$fix" "$w/files.tsv"
        echo
        echo "\`.xz\` files are whole-file xz (\`xz --lzma2=preset=9e,dict=256MiB\`); a file is xz-wrapped only when that saves at least 20 %."
        echo
        echo "## Reference outputs (\`expected/\`)"
        echo "- crash $(pkg_version trixie crash) (\`crash -s vmlinux-$rel $( [ "$variant" = novmcoreinfo ] && echo vmcore.qemu-novmcoreinfo.elf || echo vmcore.qemu.elf)\`: $(printf '%s, ' "${CRASH_CMDS[@]}" | sed 's/|/ = /g; s/, $//')) and \`drgn-reference.py\` (drgn 0.3.0 with the DWARF vmlinux) on the QEMU ELF; vmcore-dmesg / makedumpfile outputs only where those tools could read it$( [ "$variant" = novmcoreinfo ] && echo '; without VMCOREINFO, what crash and drgn say is the reference, errors included')"
        echo "- \`facts.json\`: \`make-facts.py\`"
        echo
        echo "## Checks"
        cat "$w/notes.md"
        echo
        echo "## Timings (this machine: 2 cores, TCG)"
        echo "- QEMU run (build initramfs, boot, panic, dumps through QMP; at $RUN_DATE): $BOOT_SECONDS s"
        sed 's/^/- /' "$TIMINGS"
        echo "- whole target: $secs s"
    } > "$fix/PROVENANCE.md"
}
