# Target: a true kdump of a Debian kernel crashed with sysrq-c, its d31 filtered
# forms and the reference outputs. Sourced by make-fixtures.sh.
#
# kdump_fixture ID SUITE KERNEL_REGEX MEM_MB CRASHKERNEL FILTER_TOOL "COMMITTED" "CACHE_ONLY" [QEMU ARGS...]
#   FILTER_TOOL: mdf172 | mdf176 | mdf178 (makedumpfile that writes the d31 files)
#   COMMITTED (what goes into the fixture folder), any of:
#     elf    vmcore.d31.elf.xz (makedumpfile -E -d 31, whole-file xz)
#     tar    vmcores.tar.xz: one ustar archive, xz -9e with a 256 MiB dictionary,
#            of vmcore.d31.elf, vmcore.d31.kdump (-d 31, pages uncompressed) and
#            vmcore.d31.flat (-F -d 31, pages uncompressed): they hold the same
#            pages, which xz stores once
#     split  one part (SPLIT_PART of SPLIT_PARTS, default 2 of 8) of
#            `makedumpfile --split` per page compression: zlib (-c), lzo (-l),
#            zstd (-z, makedumpfile 1.7.6 unless FILTER_TOOL is mdf178) and
#            snappy (repack-snappy.py on the uncompressed split part); the part
#            must not hold the kernel image (checked)
#     zlib   vmcore.d31.zlib.kdump (whole file, as it is)
#   CACHE_ONLY (made and checked in $CACHE/dumps/ID, not committed), any of:
#     elf kdump flat zlib lzo zstd snappy zlib-flat (-F -c)
kdump_fixture() {
    local id=$1 suite=$2 regex=$3 mem=$4 ck=$5 mdf=$6 committed=$7 cacheonly=$8; shift 8
    local qemu_extra=("$@")
    local w="$CACHE/dumps/$id" fix t_start=$SECONDS
    fix=$(fixture_dir "$id")
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
    local zstd_tool=mdf176; [ "$mdf" = mdf178 ] && zstd_tool=mdf178

    # ---- the whole-dump d31 files (full size, in the cache)
    local need=" $cacheonly " f
    [[ " $committed " == *" elf "* ]] && need+=" elf "
    [[ " $committed " == *" zlib "* ]] && need+=" zlib "
    [[ " $committed " == *" tar "* ]] && need+=" elf kdump flat "
    local made=()
    for f in elf kdump flat zlib lzo zstd snappy zlib-flat; do
        [[ "$need" == *" $f "* ]] || continue
        make_d31 "$f" "$raw" "$w" "$mdf" "$zstd_tool"
        made+=("$f")
    done

    # ---- committed files
    local tsv="$w/files.tsv"; : > "$tsv"
    rm -rf "$fix"/vmcore* "$fix"/vmcores.*
    local name
    for f in $committed; do
        case $f in
            elf)
                timed "xz/commit vmcore.d31.elf" commit_dump "$w/vmcore.d31.elf" "$fix" vmcore.d31.elf > /dev/null
                name=$(committed_name "$fix" vmcore.d31.elf)
                tsv_row "$tsv" "$name" elf none 31 " (makedumpfile -E)" "" "$fix/$name" ;;
            zlib)
                timed "commit vmcore.d31.zlib.kdump" commit_dump "$w/vmcore.d31.zlib.kdump" "$fix" vmcore.d31.zlib.kdump > /dev/null
                name=$(committed_name "$fix" vmcore.d31.zlib.kdump)
                tsv_row "$tsv" "$name" kdump zlib 31 "" "" "$fix/$name" "$(kdump_extra "$w/vmcore.d31.zlib.kdump")" ;;
            tar)
                timed "tar + xz vmcores.tar.xz" commit_tar "$w" "$fix" vmcores.tar vmcore.d31.elf vmcore.d31.kdump vmcore.d31.flat
                tsv_row "$tsv" vmcore.d31.elf elf none 31 " (makedumpfile -E)" vmcores.tar.xz "$w/vmcore.d31.elf"
                tsv_row "$tsv" vmcore.d31.kdump kdump none 31 " (makedumpfile, no compression option)" vmcores.tar.xz "$w/vmcore.d31.kdump" "$(kdump_extra "$w/vmcore.d31.kdump")"
                tsv_row "$tsv" vmcore.d31.flat flattened none 31 " (makedumpfile -F, no compression option)" vmcores.tar.xz "$w/vmcore.d31.flat" ;;
            split)
                timed "makedumpfile --split (4 compressions) + repack-snappy.py" make_splits "$raw" "$w" "$mdf" "$zstd_tool"
                local c part
                for c in zlib lzo zstd snappy; do
                    part="vmcore.d31.$c.split${SPLIT_PART}of${SPLIT_PARTS}.kdump"
                    cp "$w/split/$part" "$fix/$part"; chmod 644 "$fix/$part"
                    /usr/bin/python3 "$GEN_DIR/kdump-info.py" "$w/split/$part" > "$w/split/info-$c.json"
                    echo "- committed \`$part\` header: $(kdump_summary "$w/split/info-$c.json")" >> "$notes"
                    tsv_row "$tsv" "$part" kdump "$c" 31 " (makedumpfile --split$( [ $c = snappy ] && echo ', pages snappy-compressed by repack-snappy.py'))" "" "$fix/$part" "$(kdump_extra "$w/split/$part" "$SPLIT_PART" "$SPLIT_PARTS")"
                done ;;
            *) die "unknown committed format $f" ;;
        esac
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
    # ---- every whole-dump d31 file against the raw references
    for f in "${made[@]}"; do
        timed "check $(d31_name "$f") with crash + drgn" check_derived "$vml" "$fix/expected" "$w/$(d31_name "$f")" "$notes"
    done
    # ---- the committed archive: unpack it, compare its members, crash on its kdump member
    if [[ " $committed " == *" tar "* ]]; then
        timed "check the committed vmcores.tar.xz (unpack, sha256, crash sys/ps/log on its vmcore.d31.kdump)" \
            check_tar "$vml" "$fix/expected" "$fix/vmcores.tar.xz" "$w" "$notes"
    fi
    # ---- the split dumps: every set of parts with crash, the committed parts page by page
    if [[ " $committed " == *" split "* ]]; then
        timed "check the split parts (crash on each set, drgn page by page)" check_splits "$vml" "$fix/expected" "$w" "$notes"
    fi

    # 5-level paging as the dump's VMCOREINFO tells it (1 with -cpu qemu64,+la57).
    echo "- VMCOREINFO: \`$(/usr/bin/python3 -c "import json,sys,re; v=json.load(open(sys.argv[1])).get('vmcoreinfo'); m=re.search(r'^NUMBER\(pgtable_l5_enabled\)=.*$', v, re.M) if isinstance(v,str) else None; print(m.group(0) if m else 'no NUMBER(pgtable_l5_enabled) line')" "$fix/expected/drgn.json")\`; $(grep -c '^SYMBOL(kallsyms' <(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1])).get('vmcoreinfo'))" "$fix/expected/drgn.json") || true) kallsyms keys." >> "$notes"

    # ---- for 6.12: what the older makedumpfiles make of the same dump (not committed)
    if [ "$mdf" = mdf178 ]; then
        local v fn
        [ -s "$w/vmcore.d31.zlib.kdump" ] || make_d31 zlib "$raw" "$w" "$mdf" "$zstd_tool"
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
    local img; img=$(kernel_image_pfns "$raw")
    checks=$(/usr/bin/python3 "$GEN_DIR/make-facts.py" "$fix" "$tsv" "$MARKER" \
        "{\"kind\": \"kdump\", \"guestMemoryMiB\": $mem, \"crashkernel\": \"$ck\", \"rawDumpBytes\": $(fsize "$raw"), \"kernelImagePfns\": [${img% *}, ${img#* }]}")
    echo "- crash vs drgn cross-checks: \`$checks\`" >> "$notes"
    write_kdump_provenance "$id" "$suite" "$pkg" "$rel" "$vml" "$raw" "$mdf" "$committed" "$((SECONDS - t_start))" "${made[*]}"
    log "$id: done in $((SECONDS - t_start)) s"
}

# d31_name FORMAT : file name of a whole-dump d31 file in the cache.
d31_name() {
    case $1 in
        elf) echo vmcore.d31.elf ;; kdump) echo vmcore.d31.kdump ;; flat) echo vmcore.d31.flat ;;
        zlib-flat) echo vmcore.d31.zlib.flat ;; *) echo "vmcore.d31.$1.kdump" ;;
    esac
}

# make_d31 FORMAT RAW DIR MDF ZSTD_TOOL : write DIR/$(d31_name FORMAT) from RAW.
make_d31() {
    local f=$1 raw=$2 w=$3 mdf=$4 ztool=$5 out
    out="$w/$(d31_name "$f")"; rm -f "$out"
    case $f in
        elf)    timed "makedumpfile -E -d 31" $mdf -E -d 31 "$raw" "$out" ;;
        kdump)  timed "makedumpfile -d 31 (pages uncompressed)" $mdf -d 31 "$raw" "$out" ;;
        flat)   timed "makedumpfile -F -d 31 (pages uncompressed)" to_file "$out" $mdf -F -d 31 "$raw" ;;
        zlib)   timed "makedumpfile -c -d 31" $mdf -c -d 31 "$raw" "$out" ;;
        lzo)    timed "makedumpfile -l -d 31" $mdf -l -d 31 "$raw" "$out" ;;
        zstd)   timed "makedumpfile ($ztool) -z -d 31" $ztool -z -d 31 "$raw" "$out" ;;
        snappy) [ -s "$w/vmcore.d31.kdump" ] || make_d31 kdump "$raw" "$w" "$mdf" "$ztool"
                timed "repack-snappy.py" /usr/bin/python3 "$GEN_DIR/repack-snappy.py" "$w/vmcore.d31.kdump" "$out" ;;
        zlib-flat) timed "makedumpfile -F -c -d 31" to_file "$out" $mdf -F -c -d 31 "$raw" ;;
        *) die "unknown d31 format $f" ;;
    esac > "$w/mdf-$f.log" 2>&1 || die "making the $f file failed (see $w/mdf-$f.log)"
    chmod 644 "$out"
    case $f in elf|flat|zlib-flat) ;; *)
        /usr/bin/python3 "$GEN_DIR/kdump-info.py" "$out" > "$w/info-$f.json"
        echo "- \`$(basename "$out")\` header: $(kdump_summary "$w/info-$f.json")" >> "$w/notes.md" ;;
    esac
}

# kdump_summary INFO.json : one line of a kdump-info.py answer.
kdump_summary() {
    /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print('status %d %s, dump_level %d, max_mapnr %d, ' % (d['status'], d['status_names'], d['dump_level'], d['max_mapnr']) + ('split part: pfns [%d, %d), %d pages dumped here (%d in the whole dump), ' % (d['start_pfn_64'], d['end_pfn_64'], d['dumped_pages'], d['dumped_pages_whole_dump']) if d['split'] else '%d pages dumped, ' % d['dumped_pages']) + 'page_desc flags %s' % d['page_flags'])" "$1"
}

# kdump_extra FILE [PART PARTS] : facts.json details of a kdump file (header status, split range).
kdump_extra() {
    /usr/bin/python3 - "$GEN_DIR" "$@" <<'PY'
import json, subprocess, sys
gen, path = sys.argv[1], sys.argv[2]
d = json.loads(subprocess.check_output([sys.executable, gen + "/kdump-info.py", path]))
out = {"headerStatus": d["status"], "statusNames": d["status_names"], "headerVersion": d["header_version"],
       "maxMapnr": d["max_mapnr"], "dumpedPages": d["dumped_pages"], "pageDescFlags": d["page_flags"]}
if d["split"]:
    out["split"] = {"part": int(sys.argv[3]), "parts": int(sys.argv[4]),
                    "startPfn": d["start_pfn_64"], "endPfn": d["end_pfn_64"],
                    "dumpedPagesWholeDump": d["dumped_pages_whole_dump"]}
print(json.dumps(out))
PY
}

# commit_tar DIR FIXDIR NAME MEMBER... : DIR/NAME (ustar of the members, in
#   this order, owner 0, mode 0644, mtime = the guest run) xz'd into FIXDIR/NAME.xz.
commit_tar() {
    local w=$1 fix=$2 name=$3; shift 3
    (cd "$w" && tar --format=ustar --owner=0 --group=0 --numeric-owner --mode=0644 \
        --mtime="$RUN_DATE" -cf "$name" "$@")
    xz_cached "$w/$name"
    cp "$w/$name.xz" "$fix/$name.xz"; chmod 644 "$fix/$name.xz"
    local m sum=0
    for m in "$@"; do sum=$((sum + $(fsize "$w/$m"))); done
    echo "- \`$name.xz\`: $(fsize "$w/$name.xz") bytes for $sum bytes of members ($*)$( [ -s "$w/vmcore.d31.elf.xz" ] && [ "$(cat "$w/vmcore.d31.elf.sha256" 2>/dev/null)" = "$(sha256 "$w/vmcore.d31.elf")" ] && echo "; the d31 ELF alone, xz'd the same way: $(fsize "$w/vmcore.d31.elf.xz") bytes")." >> "$w/notes.md"
}

# The committed split part: part 2 of 8 (pfns [6400, 8960) of linux-6.1-sysrq),
# below the kernel image (which makedumpfile spreads over parts 3-7) and with
# both ends of its range inside memory. 1 MiB split blocks: makedumpfile's
# default (1 GiB) makes one block of a 384 MiB guest, all of it in part 1.
# kernel_image_pfns RAW_ELF : "FIRST END" pfns of the kernel image: the kdump
#   ELF's PT_LOAD at the kernel-image addresses (0xffffffff8…), end exclusive.
kernel_image_pfns() {
    local r
    r=$(readelf -lW "$1" | /usr/bin/python3 -c '
import sys
for line in sys.stdin:
    f = line.split()
    if f[:1] == ["LOAD"] and int(f[2], 16) >= 0xffffffff80000000:
        print(int(f[3], 16) // 4096, (int(f[3], 16) + int(f[5], 16) + 4095) // 4096)
        break')
    [ -n "$r" ] || die "no kernel-image PT_LOAD in $1"
    echo "$r"
}

# check_tar VMLINUX RAW_EXPDIR ARCHIVE DIR NOTES : unpack the committed archive
#   into a scratch folder, compare every member with the file it was made from,
#   run crash (sys, ps, log) on the vmcore.d31.kdump member.
check_tar() {
    local vml=$1 exp=$2 archive=$3 w=$4 notes=$5 m line=""
    local s; s=$(mktemp -d "$CACHE/tmp.tar.XXXX")
    xz -dc "$archive" | tar -x -C "$s"
    for m in $(xz -dc "$archive" | tar -t); do
        if cmp -s "$s/$m" "$w/$m"; then line+=" $m (sha256 $(sha256 "$s/$m")) identical;"
        else line+=" $m DIFFERS from $w/$m;"; fi
    done
    echo "- \`$(basename "$archive")\` unpacked (\`xz -dc | tar -x\`), members in order: $(xz -dc "$archive" | tar -tv | awk '{printf "%s%s %s bytes", n++ ? ", " : "", $6, $3}'); against the files they were made from:${line%;}." >> "$notes"
    run_crash "$vml" "$s/vmcore.d31.kdump" "$s/crash"
    local same="" differ="" f
    for f in crash-ps.txt crash-log.txt; do
        if cmp -s "$exp/$f" "$s/crash/$f"; then same+=" ${f#crash-}"; else differ+=" ${f#crash-}"; fi
    done
    if cmp -s <(grep -v DUMPFILE: "$exp/crash-sys.txt") <(grep -v DUMPFILE: "$s/crash/crash-sys.txt"); then
        same+=" sys.txt(but DUMPFILE)"; else differ+=" sys.txt"; fi
    echo "- crash 8.0.6 on the unpacked \`vmcore.d31.kdump\` member (\`sys\`, \`ps\`, \`log\` among its batch): identical to the raw ELF's for:${same:- none}${differ:+; DIFFERENT for:$differ}; \`sys\` says: $(grep -E '^ *(DUMPFILE|TASKS|PANIC):' "$s/crash/crash-sys.txt" | sed 's/^ *//' | tr '\n' ';' | sed 's/;$//; s/;/; /g')." >> "$notes"
    rm -rf "$s"
}

SPLIT_PARTS=${SPLIT_PARTS:-8}
SPLIT_PART=${SPLIT_PART:-2}
SPLITBLOCK_KB=${SPLITBLOCK_KB:-1024}

# make_splits RAW DIR MDF ZSTD_TOOL : every part of `makedumpfile --split -d 31`
#   with zlib, lzo, zstd and no compression, and the snappy parts made from the
#   uncompressed ones, in DIR/split. Checks that part SPLIT_PART holds no page of
#   the kernel image (the raw ELF's PT_LOAD at the kernel-image addresses).
make_splits() {
    local raw=$1 w=$2 mdf=$3 ztool=$4 c i parts opt tool
    rm -rf "$w/split"; mkdir -p "$w/split"
    for c in zlib lzo zstd none; do
        parts=()
        for i in $(seq 1 "$SPLIT_PARTS"); do parts+=("$w/split/vmcore.d31.$c.split${i}of${SPLIT_PARTS}.kdump"); done
        tool=$mdf
        case $c in zlib) opt=(-c) ;; lzo) opt=(-l) ;; zstd) opt=(-z); tool=$ztool ;; none) opt=() ;; esac
        $tool --splitblock-size "$SPLITBLOCK_KB" --split "${opt[@]}" -d 31 "$raw" "${parts[@]}" \
            > "$w/split/mdf-$c.log" 2>&1 || die "makedumpfile --split ($c) failed (see $w/split/mdf-$c.log)"
        if [ $c = none ]; then
            for i in $(seq 1 "$SPLIT_PARTS"); do
                /usr/bin/python3 "$GEN_DIR/repack-snappy.py" "$w/split/vmcore.d31.none.split${i}of${SPLIT_PARTS}.kdump" \
                    "$w/split/vmcore.d31.snappy.split${i}of${SPLIT_PARTS}.kdump" >> "$w/split/repack-snappy.log"
            done
        fi
    done
    chmod 644 "$w/split"/*.kdump
    # The kernel image's pfns, from the raw ELF (PT_LOAD at 0xffffffff8…).
    local img; img=$(kernel_image_pfns "$raw")
    local lo=${img% *} hi=${img#* } info
    echo "- kernel image (raw ELF PT_LOAD at the kernel-image addresses): pfns [$lo, $hi)." >> "$w/notes.md"
    echo "- \`makedumpfile --splitblock-size $SPLITBLOCK_KB --split -d 31 RAW P1 … P$SPLIT_PARTS\` with \`-c\`, \`-l\`, \`-z\` and without compression (snappy: \`repack-snappy.py\` on each uncompressed part); pfn ranges and sizes in bytes:" >> "$w/notes.md"
    for i in $(seq 1 "$SPLIT_PARTS"); do
        local line="  - part $i:" s e
        for c in zlib lzo zstd snappy none; do
            info=$(/usr/bin/python3 "$GEN_DIR/kdump-info.py" "$w/split/vmcore.d31.$c.split${i}of${SPLIT_PARTS}.kdump")
            read -r s e < <(/usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print(d['start_pfn_64'], d['end_pfn_64'])" <<< "$info")
            if [ $c = zlib ]; then
                line+=" pfns [$s, $e)"
                if [ "$s" -lt "$hi" ] && [ "$e" -gt "$lo" ]; then line+=" (kernel image)"; fi
                line+=","
            fi
            line+=" $c $(fsize "$w/split/vmcore.d31.$c.split${i}of${SPLIT_PARTS}.kdump")"
            if [ "$i" = "$SPLIT_PART" ]; then
                [ "$s" -lt "$hi" ] && [ "$e" -gt "$lo" ] && die "split part $i ($c, pfns [$s, $e)) holds kernel-image pages [$lo, $hi): choose another SPLIT_PART / SPLIT_PARTS"
                echo "$s $e" > "$w/split/range-$c"
            fi
        done
        echo "$line bytes" >> "$w/notes.md"
    done
    local r; r=$(sort -u "$w/split"/range-* | wc -l)
    [ "$r" = 1 ] || die "the split tools cut part $SPLIT_PART at different pfns: $(cat "$w/split"/range-*)"
}

# check_splits VMLINUX RAW_EXPDIR DIR NOTES : crash on each whole set of parts
#   (must equal the raw ELF's references), crash on the committed part alone
#   (what it says), drgn page by page on each committed part.
check_splits() {
    local vml=$1 exp=$2 w=$3 notes=$4 c i
    local s; s=$(mktemp -d "$CACHE/tmp.split.XXXX")
    for c in zlib lzo zstd snappy; do
        local parts=() same="" differ=""
        for i in $(seq 1 "$SPLIT_PARTS"); do parts+=("$w/split/vmcore.d31.$c.split${i}of${SPLIT_PARTS}.kdump"); done
        rm -rf "$s/crash"; run_crash_files "$vml" "$s/crash" "${parts[@]}"
        for f in crash-ps.txt crash-bt-a.txt crash-log.txt crash-mod.txt crash-bt.txt; do
            if cmp -s "$exp/$f" "$s/crash/$f"; then same="$same ${f#crash-}"; else differ="$differ ${f#crash-}"; fi
        done
        echo "- crash on all $SPLIT_PARTS $c parts together: output identical to the raw ELF's for:${same:- none}${differ:+; DIFFERENT for:$differ}." >> "$notes"
    done
    # One part alone: crash needs the kernel image, which this part does not hold.
    local part="$w/split/vmcore.d31.zlib.split${SPLIT_PART}of${SPLIT_PARTS}.kdump" rc=0
    ln -sf "$vml" "$s/$(basename "$vml")"; ln -sf "$part" "$s/$(basename "$part")"
    printf 'sys\nps\nlog\nexit\n' > "$s/cmds"
    (cd "$s" && crash806 -s "$(basename "$vml")" "$(basename "$part")" < cmds > one-s.txt 2>&1) || rc=$?
    (cd "$s" && crash806 -d 1 "$(basename "$vml")" "$(basename "$part")" < cmds > one.txt 2>&1) || true
    local said; said=$(grep -E '^crash: .*(error|invalid|cannot)' "$s/one.txt" | tail -1 | tr -d '\r' || true)
    echo "- crash 8.0.6 on \`$(basename "$part")\` alone (\`crash -s vmlinux PART\`, commands sys, ps, log): exit status $rc, $(wc -c < "$s/one-s.txt") bytes of output (no message, no command run); with \`-d 1\` it says \`${said:-nothing}\` before it stops: it needs kernel data that lies in other parts, and reads split dumps only as the whole set (see the sets above)." >> "$notes"
    for c in zlib lzo zstd snappy; do
        part="$w/split/vmcore.d31.$c.split${SPLIT_PART}of${SPLIT_PARTS}.kdump"
        local lo hi res
        read -r lo hi < "$w/split/range-$c"
        res=$(drgn_py "$GEN_DIR/split-check.py" "$part" "$lo" "$hi" "$w/vmcore.d31.elf" 2>&1 | tail -1) || true
        echo "- drgn (libkdumpfile) on \`$(basename "$part")\` alone, every pfn of [$lo, $hi) against the d31 ELF: \`$res\`" >> "$notes"
    done
    rm -rf "$s"
}

write_kdump_provenance() {
    local id=$1 suite=$2 pkg=$3 rel=$4 vml=$5 raw=$6 mdf=$7 committed=$8 secs=$9 made=${10}
    local w="$CACHE/dumps/$id" fix
    fix=$(fixture_dir "$id")
    local mdfver
    case $mdf in
        mdf172) mdfver="makedumpfile $(dpkg-query -W -f '${Version}' makedumpfile) (Debian 12, host)" ;;
        mdf176) mdfver="makedumpfile $(pkg_version trixie makedumpfile) (Debian 13, run unpacked)" ;;
        mdf178) mdfver="makedumpfile $(pkg_version sid makedumpfile) (Debian sid, run unpacked with sid's loader and libraries)" ;;
    esac
    local alias=${id%-sysrq}
    {
        echo "# $id: provenance"
        echo
        echo "Generated $(date -u +%Y-%m-%d) by \`Fixtures/generator/make-fixtures.sh $alias\` (guest run $RUN_DATE)."
        echo "Regenerate with \`Fixtures/generator/make-fixtures.sh $alias\` (reuses the raw dump in the cache; \`FORCE_BOOT=1\` boots again, which gives a new dump and marker)."
        [ "${UNCOMMITTED:-0}" = 1 ] && echo "This fixture is NOT committed: the generator writes it to \`$fix\`."
        echo
        echo "## Packages"
        echo "- kernel: \`$pkg\` $(pkg_version "$suite" "$pkg") (Debian $suite, \`apt-get download\` under a private apt state)"
        echo "- DWARF vmlinux: \`$pkg-dbg\` $(pkg_version "$suite" "$pkg-dbg"), only \`usr/lib/debug/boot/vmlinux-$rel\` extracted"
        echo "- busybox-static $(pkg_version bookworm busybox-static) (Debian 12) in the initramfs; kexec-tools $(dpkg-query -W -f '${Version}' kexec-tools) (host's \`kexec\` and the libraries ldd lists)"
        echo "- workload: \`Fixtures/generator/coroner-workload.c\` built with the host's $(gcc --version | head -1) \`-static -O2 -pthread\`"
        echo "- d31 files written by $mdfver$([[ " $committed $made " == *" zstd "* || " $committed " == *" split "* ]] && [ "$mdf" != mdf178 ] && echo "; zstd files by makedumpfile $(pkg_version trixie makedumpfile) (Debian 13, run unpacked)")$([[ " $committed $made " == *" snappy "* || " $committed " == *" split "* ]] && echo "; snappy files by \`repack-snappy.py\` from the uncompressed \`-d 31\` kdump files")"
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
        echo "## Raw dump and full-size files (kept in the cache, not committed)"
        echo "- \`$raw\`: $(fsize "$raw") bytes, sha256 \`$(sha256 "$raw")\`"
        local f
        for f in $made; do
            echo "- \`$w/$(d31_name "$f")\`: $(fsize "$w/$(d31_name "$f")") bytes, sha256 \`$(sha256 "$w/$(d31_name "$f")")\`"
        done
        [[ " $committed " == *" split "* ]] && echo "- every part of the split dumps: \`$w/split/vmcore.d31.{zlib,lzo,zstd,none,snappy}.splitKof$SPLIT_PARTS.kdump\`"
        echo "- console log: \`$w/serial.log\`; DWARF vmlinux: \`$vml\`"
        echo "- regenerate with: \`Fixtures/generator/make-fixtures.sh $alias\`"
        echo
        echo "## Committed files"
        echo
        files_table "$fix" "$w/files.tsv"
        echo
        [[ " $committed " == *" elf "* ]] && echo "\`vmcore.d31.elf.xz\` is whole-file xz (\`xz --lzma2=preset=9e,dict=256MiB\`); unpack before use."
        [[ " $committed " == *" tar "* ]] && echo "\`vmcores.tar.xz\` is one ustar archive (members in this order, owner 0, mode 0644, mtime = the guest run) compressed with \`xz -T2 --lzma2=preset=9e,dict=256MiB\`: its three members hold the same pages (uncompressed), which xz's 256 MiB window stores once. Unpack with \`tar -xJf vmcores.tar.xz\` (xz needs about 260 MB of memory to decompress it)."
        [[ " $committed " == *" split "* ]] && echo "The \`*.split${SPLIT_PART}of${SPLIT_PARTS}.kdump\` files are part $SPLIT_PART of $SPLIT_PARTS of \`makedumpfile --splitblock-size $SPLITBLOCK_KB --split\` (zlib \`-c\`, lzo \`-l\`, zstd \`-z\`; snappy: \`repack-snappy.py\` on part $SPLIT_PART of the uncompressed split): a part whose pfn range holds no page of the kernel image, so it is small. Alone, a part is not a readable dump for crash (see Checks); its pages are the d31 dump's pages of its pfn range. \`--splitblock-size\` is needed: with makedumpfile's default (1 GiB blocks) a 384 MiB guest is one block, and part 1 gets every page while the other parts are empty."
        echo
        echo "## Reference outputs (\`expected/\`, all from the raw ELF)"
        echo "- \`vmcore-dmesg.txt\`: kexec-tools' \`vmcore-dmesg\`; \`makedumpfile-dmesg.txt\`: \`makedumpfile --dump-dmesg\` (host's)"
        echo "- \`crash-*.txt\`: crash $(pkg_version trixie crash) (Debian 13, unpacked) \`crash -s vmlinux-$rel vmcore.raw.elf\`, one batch run: $(printf '%s, ' "${CRASH_CMDS[@]}" | sed 's/|/ = /g; s/, $//')"
        echo "- \`drgn.json\`: \`drgn-reference.py\` (drgn 0.3.0 with the DWARF vmlinux)"
        echo "- \`facts.json\`: the facts above in machine-readable form (\`make-facts.py\`), with every dump file (archive member or split part included)"
        echo
        echo "## Checks"
        echo "(crash and drgn on every d31 file, compared with their output on the raw ELF; \`sys\` compared without its DUMPFILE line)"
        echo
        cat "$w/notes.md"
        echo
        echo "## Timings (this machine: 2 cores, TCG)"
        echo "- QEMU kdump run(s) (prepare kernel + initramfs, boot, crash, capture, copy; $KDUMP_TRIES boot(s), at $RUN_DATE): $BOOT_SECONDS s"
        sed 's/^/- /' "$TIMINGS"
        echo "- whole target: $secs s"
    } > "$fix/PROVENANCE.md"
}
