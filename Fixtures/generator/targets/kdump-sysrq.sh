# Target: a true kdump of a Debian kernel crashed with sysrq-c, its d31 filtered
# forms and the reference outputs. Sourced by make-fixtures.sh.
#
# kdump_fixture ID SUITE KERNEL_REGEX MEM_MB CRASHKERNEL FILTER_TOOL "FORMATS" [QEMU ARGS...]
#   FILTER_TOOL: mdf172 | mdf176 | mdf178 (makedumpfile that writes the d31 files)
#   FORMATS: any of elf zlib lzo zstd snappy flat
kdump_fixture() {
    local id=$1 suite=$2 regex=$3 mem=$4 ck=$5 mdf=$6 formats=$7; shift 7
    local qemu_extra=("$@")
    local w="$CACHE/dumps/$id" fix="$FIXTURES_DIR/$id" t_start=$SECONDS
    mkdir -p "$w" "$fix/expected"
    export TIMINGS="$w/timings.txt"; : > "$TIMINGS"
    local notes="$w/notes.md"; : > "$notes"

    apt_setup "$suite"; tools_setup
    local pkg rel
    pkg=$(newest_pkg "$suite" "$regex"); rel=${pkg#linux-image-}
    log "$id: kernel $pkg $(pkg_version "$suite" "$pkg")"

    timed "DWARF vmlinux (download + extract, cached)" dbg_vmlinux "$suite" "$rel" > /dev/null
    local vml; vml=$(dbg_vmlinux "$suite" "$rel")
    kdump_raw "$id" "$suite" "$rel" "$mem" "$ck" "${qemu_extra[@]}"
    # shellcheck disable=SC1091
    source "$w/run.env"
    local raw="$w/vmcore.raw.elf"

    # ---- d31 files (full size in the cache, committed form in the fixture)
    local tsv="$w/files.tsv"; : > "$tsv"
    rm -f "$fix"/vmcore.*
    local f name out
    for f in $formats; do
        case $f in
            elf)    out="$w/vmcore.d31.elf";         rm -f "$out"; timed "makedumpfile -E -d 31" $mdf -E -d 31 "$raw" "$out" ;;
            zlib)   out="$w/vmcore.d31.zlib.kdump";  rm -f "$out"; timed "makedumpfile -c -d 31" $mdf -c -d 31 "$raw" "$out" ;;
            lzo)    out="$w/vmcore.d31.lzo.kdump";   rm -f "$out"; timed "makedumpfile -l -d 31" $mdf -l -d 31 "$raw" "$out" ;;
            zstd)   out="$w/vmcore.d31.zstd.kdump";  rm -f "$out"; timed "makedumpfile 1.7.6 -z -d 31" mdf176 -z -d 31 "$raw" "$out" ;;
            snappy) out="$w/vmcore.d31.snappy.kdump"; rm -f "$out" "$w/vmcore.d31.none.kdump"
                    timed "makedumpfile -d 31 (pages uncompressed)" $mdf -d 31 "$raw" "$w/vmcore.d31.none.kdump"
                    timed "repack-snappy.py" /usr/bin/python3 "$GEN_DIR/repack-snappy.py" "$w/vmcore.d31.none.kdump" "$out" ;;
            flat)   out="$w/vmcore.d31.flat"; timed "makedumpfile -F -c -d 31" to_file "$out" $mdf -F -c -d 31 "$raw" ;;
        esac > "$w/mdf-$f.log" 2>&1 || die "$id: making the $f file failed (see $w/mdf-$f.log)"
        timed "xz/commit $(basename "$out")" commit_dump "$out" "$fix" "$(basename "$out")" > /dev/null
        name=$(committed_name "$fix" "$(basename "$out")")
        case $f in
            elf)  printf '%s\telf\tnone\t31\t (makedumpfile -E)\n' "$name" ;;
            flat) printf '%s\tflattened\tzlib\t31\t (makedumpfile -F -c)\n' "$name" ;;
            *)    printf '%s\tkdump\t%s\t31\t\n' "$name" "$f" ;;
        esac >> "$tsv"
        if [ "$f" != elf ] && [ "$f" != flat ]; then
            /usr/bin/python3 "$GEN_DIR/kdump-info.py" "$out" > "$w/info-$f.json"
            echo "- \`$(basename "$out")\` header: status $(/usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(d['status'], d['status_names'], 'dump_level', d['dump_level'], 'page_desc flags', d['page_flags'])" "$w/info-$f.json")" >> "$notes"
        fi
    done

    # ---- references on the raw ELF
    timed "references on the raw ELF (vmcore-dmesg, makedumpfile, crash, drgn)" \
        kdump_references "$vml" "$raw" "$fix/expected" "$notes"
    # vmcore-dmesg on the filtered ELF must give the same log.
    if [ -s "$w/vmcore.d31.elf" ]; then
        if cmp -s <(vmcore-dmesg "$w/vmcore.d31.elf") "$fix/expected/vmcore-dmesg.txt"; then
            echo "- vmcore-dmesg on the d31 ELF gives the same output as on the raw ELF." >> "$notes"
        else
            echo "- vmcore-dmesg on the d31 ELF DIFFERS from the raw ELF's." >> "$notes"
        fi
    fi
    # ---- every derived file against the raw references
    for f in $formats; do
        case $f in
            elf) out="$w/vmcore.d31.elf" ;; flat) out="$w/vmcore.d31.flat" ;; *) out="$w/vmcore.d31.$f.kdump" ;;
        esac
        timed "check $(basename "$out") with crash + drgn" check_derived "$vml" "$fix/expected" "$out" "$notes"
    done

    # 5-level paging as the dump's VMCOREINFO tells it (1 with -cpu qemu64,+la57).
    echo "- VMCOREINFO: \`$(/usr/bin/python3 -c "import json,sys,re; v=json.load(open(sys.argv[1])).get('vmcoreinfo'); m=re.search(r'^NUMBER\(pgtable_l5_enabled\)=.*$', v, re.M) if isinstance(v,str) else None; print(m.group(0) if m else 'no NUMBER(pgtable_l5_enabled) line')" "$fix/expected/drgn.json")\`; $(grep -c '^SYMBOL(kallsyms' <(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1])).get('vmcoreinfo'))" "$fix/expected/drgn.json") || true) kallsyms keys." >> "$notes"

    # ---- for 6.12: what the older makedumpfiles make of the same dump (not committed)
    if [ "$mdf" = mdf178 ]; then
        local v fn
        for v in mdf172 mdf176; do
            fn="$w/cmp-$v.d31.zlib.kdump"; rm -f "$fn"
            $v -c -d 31 "$raw" "$fn" > /dev/null 2>&1 || true
            run_drgn "$vml" "$fn" "$fn.json" > /dev/null 2>&1 || true
            echo "- for comparison, \`$v -c -d 31\` on the same raw dump writes $(fsize "$fn") bytes (1.7.8: $(fsize "$w/vmcore.d31.zlib.kdump")); drgn's task list on it: $(/usr/bin/python3 -c "import json,sys; t=json.load(open(sys.argv[1])).get('tasks'); print(str(len(t)) + ' tasks' if isinstance(t, list) else t)" "$fn.json")" >> "$notes"
            rm -f "$fn" "$fn.json.dmesg"
        done
    fi

    # ---- facts + provenance
    local checks
    checks=$(/usr/bin/python3 "$GEN_DIR/make-facts.py" "$fix" "$tsv" "$MARKER" \
        "{\"kind\": \"kdump\", \"guestMemoryMiB\": $mem, \"crashkernel\": \"$ck\", \"rawDumpBytes\": $(fsize "$raw")}")
    echo "- crash vs drgn cross-checks: \`$checks\`" >> "$notes"
    write_kdump_provenance "$id" "$suite" "$pkg" "$rel" "$vml" "$raw" "$mdf" "$formats" "$((SECONDS - t_start))"
    log "$id: done in $((SECONDS - t_start)) s"
}

write_kdump_provenance() {
    local id=$1 suite=$2 pkg=$3 rel=$4 vml=$5 raw=$6 mdf=$7 formats=$8 secs=$9
    local w="$CACHE/dumps/$id" fix="$FIXTURES_DIR/$id"
    local mdfver
    case $mdf in
        mdf172) mdfver="makedumpfile $(dpkg-query -W -f '${Version}' makedumpfile) (Debian 12, host)" ;;
        mdf176) mdfver="makedumpfile $(pkg_version trixie makedumpfile) (Debian 13, run unpacked)" ;;
        mdf178) mdfver="makedumpfile $(pkg_version sid makedumpfile) (Debian sid, run unpacked with sid's loader and libraries)" ;;
    esac
    {
        echo "# $id: provenance"
        echo
        echo "Generated $(date -u +%Y-%m-%d) by \`Fixtures/generator/make-fixtures.sh $id\` (alias \`${id%-sysrq}\`) (guest run $RUN_DATE)."
        echo "Regenerate with \`Fixtures/generator/make-fixtures.sh $id\` (reuses the raw dump in the cache; \`FORCE_BOOT=1\` boots again, which gives a new dump and marker)."
        echo
        echo "## Packages"
        echo "- kernel: \`$pkg\` $(pkg_version "$suite" "$pkg") (Debian $suite, \`apt-get download\` under a private apt state)"
        echo "- DWARF vmlinux: \`$pkg-dbg\` $(pkg_version "$suite" "$pkg-dbg"), only \`usr/lib/debug/boot/vmlinux-$rel\` extracted"
        echo "- busybox-static $(pkg_version bookworm busybox-static) (Debian 12) in the initramfs; kexec-tools $(dpkg-query -W -f '${Version}' kexec-tools) (host's \`kexec\` and the libraries ldd lists)"
        echo "- workload: \`Fixtures/generator/coroner-workload.c\` built with the host's $(gcc --version | head -1) \`-static -O2 -pthread\`"
        echo "- d31 files written by $mdfver$([[ " $formats " == *" zstd "* ]] && echo "; zstd file by makedumpfile $(pkg_version trixie makedumpfile) (Debian 13, run unpacked)")$([[ " $formats " == *" snappy "* ]] && echo "; snappy file by \`repack-snappy.py\` from the uncompressed \`-d 31\` kdump file")"
        tool_versions
        echo
        echo "## Guest run"
        echo "- QEMU (TCG, no KVM): \`$QEMU_CMDLINE\`"
        echo "- first kernel command line: \`$KERNEL_CMDLINE\`"
        echo "- capture kernel: \`kexec -p /boot/vmlinuz --initrd=/boot/capture.gz --$CAPTURE_CMDLINE\` (kexec_load path), same kernel; its init copies \`/proc/vmcore\` to the virtio disk with dd and prints the size; the host cuts the disk image to it."
        echo "- boots needed: $KDUMP_TRIES (a boot is repeated when the console shows \`crashkernel reservation failed\` or prints no vmcore size)"
        echo "- workload (comm names): \`coroner-alpha\` (pinned to CPU 0, spinning at nice 19), \`coroner-bravo\` (pinned to CPU 1, nanosleep), \`coroner-charlie\` (4 threads: main + \`charlie-cond\` futex wait, \`charlie-pipe\` pipe read, \`charlie-sleep\` nanosleep), \`coroner-delta\` (parent of the zombie \`coroner-zombie\`), \`coroner-echo\` (waits in vfork for \`coroner-echo-ch\`), \`coroner-foxtrot\` (stopped by SIGSTOP), \`coroner-crash\` (pins itself to CPU 1 and writes \`c\` to /proc/sysrq-trigger)."
        echo "- marker line written to /dev/kmsg: \`$MARKER\`"
        echo
        echo "## Raw dump (kept in the cache, not committed)"
        echo "- \`$raw\`: $(fsize "$raw") bytes, sha256 \`$(sha256 "$raw")\`"
        echo "- console log: \`$w/serial.log\`; DWARF vmlinux: \`$vml\`"
        echo "- regenerate with: \`Fixtures/generator/make-fixtures.sh $id\`"
        echo
        echo "## Committed files"
        files_table "$fix" "$w/files.tsv"
        echo
        echo "Files ending in \`.xz\` are whole-file xz (\`xz --lzma2=preset=9e,dict=256MiB\`); unpack before use. A kdump file is xz-wrapped only when that saves at least 20 %."
        echo
        echo "## Reference outputs (\`expected/\`, all from the raw ELF)"
        echo "- \`vmcore-dmesg.txt\`: kexec-tools' \`vmcore-dmesg\`; \`makedumpfile-dmesg.txt\`: \`makedumpfile --dump-dmesg\` (host's)"
        echo "- \`crash-*.txt\`: crash $(pkg_version trixie crash) (Debian 13, unpacked) \`crash -s vmlinux-$rel vmcore.raw.elf\`, one batch run: $(printf '%s, ' "${CRASH_CMDS[@]}" | sed 's/|/ = /g; s/, $//')"
        echo "- \`drgn.json\`: \`drgn-reference.py\` (drgn 0.3.0 with the DWARF vmlinux)"
        echo "- \`facts.json\`: the facts above in machine-readable form (\`make-facts.py\`)"
        echo
        echo "## Checks"
        cat "$w/notes.md"
        echo
        echo "## Timings (this machine: 2 cores, TCG)"
        echo "- QEMU kdump run(s) (prepare kernel + initramfs, boot, crash, capture, copy; $KDUMP_TRIES boot(s), at $RUN_DATE): $BOOT_SECONDS s"
        sed 's/^/- /' "$TIMINGS"
        echo "- whole target: $secs s"
    } > "$fix/PROVENANCE.md"
}
