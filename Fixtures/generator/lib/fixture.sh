# Steps shared by the fixture targets. Source after common.sh, guest.sh, tools.sh, reference.sh.

# kdump_raw ID SUITE RELEASE MEM_MB CRASHKERNEL [QEMU ARGS...]
#   the raw ELF vmcore of a true kdump in $CACHE/dumps/ID (made once; FORCE_BOOT=1 redoes it).
#   Leaves $CACHE/dumps/ID/run.env with MARKER, KDUMP_TRIES, QEMU_CMDLINE, KERNEL_CMDLINE, BOOT_SECONDS, RUN_DATE.
kdump_raw() {
    local id=$1 suite=$2 rel=$3 mem=$4 ck=$5; shift 5
    local w="$CACHE/dumps/$id"
    mkdir -p "$w"
    if [ -s "$w/vmcore.raw.elf" ] && [ -s "$w/run.env" ] && [ -z "${FORCE_BOOT:-}" ]; then
        log "$id: reusing $w/vmcore.raw.elf"
        return 0
    fi
    local kd marker t0=$SECONDS
    kd=$(prepare_kernel "$suite" "$rel")
    marker="CORONER-MARKER $id $(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')"
    build_initramfs "$kd" kdump "$marker" "$w"
    run_kdump "$kd" "$mem" "$ck" "$w" "$@"
    {
        printf 'MARKER=%q\nKDUMP_TRIES=%q\nQEMU_CMDLINE=%q\n' "$marker" "$KDUMP_TRIES" "$QEMU_CMDLINE"
        printf 'KERNEL_CMDLINE=%q\n' "$(printf "$KDUMP_CMDLINE_FMT" "$ck")"
        printf 'CAPTURE_CMDLINE=%q\n' "$(grep -o 'append="[^"]*"' "$GEN_DIR/initramfs/init" | head -1)"
        printf 'BOOT_SECONDS=%q\nRUN_DATE=%q\nMEM=%q\nCRASHKERNEL=%q\n' "$((SECONDS - t0))" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$mem" "$ck"
    } > "$w/run.env"
    grep -q "^${marker}\$" <(tr -d '\r' < "$w/serial.log" | sed 's/^\[ *[0-9.]*\] //') || die "marker not on the console"
}

# Fixtures that are not committed (linux-6.12-sysrq, qemu-6.1-panic-novmcoreinfo)
# are written with UNCOMMITTED=1: into $CACHE/uncommitted/ID instead of
# Fixtures/ID, with their dump files as they are (no xz).
UNCOMMITTED_DIR="$CACHE/uncommitted"

# fixture_dir ID : where the fixture's folder goes.
fixture_dir() {
    if [ "${UNCOMMITTED:-0}" = 1 ]; then echo "$UNCOMMITTED_DIR/$1"; else echo "$FIXTURES_DIR/$1"; fi
}

# xz_cached SRC : SRC.xz beside SRC (xz -9e, 256 MiB dictionary), made again
#   only when SRC changed (SRC.sha256 records what it was made from).
xz_cached() {
    local src=$1
    if [ ! -s "$src.xz" ] || ! cmp -s <(sha256 "$src") "$src.sha256"; then
        local t0=$SECONDS
        xz -T2 -c --lzma2=preset=9e,dict=256MiB "$src" > "$src.xz"
        sha256 "$src" > "$src.sha256"
        echo "$((SECONDS - t0))" > "$src.xzsecs"
    else
        log "reusing $src.xz (xz took $(cat "$src.xzsecs" 2>/dev/null || echo '?') s when made)"
        [ -z "${TIMINGS:-}" ] || echo "(cached) xz of $(basename "$src") when it was made: $(cat "$src.xzsecs" 2>/dev/null || echo '?') s" >> "$TIMINGS"
    fi
}

# commit_dump SRC DEST_DIR NAME : copy SRC into the fixture as NAME, or as
# NAME.xz when xz makes it at least 20 % smaller. Prints the committed file name.
#   The xz form is kept beside SRC in the cache and reused while SRC is unchanged.
#   With UNCOMMITTED=1: a hard link to SRC, never xz.
commit_dump() {
    local src=$1 dest=$2 name=$3
    rm -f "$dest/$name" "$dest/$name.xz"
    if [ "${UNCOMMITTED:-0}" = 1 ]; then
        ln -f "$src" "$dest/$name" 2>/dev/null || cp "$src" "$dest/$name"
        echo "$name"; return 0
    fi
    xz_cached "$src"
    if [ "$(fsize "$src.xz")" -lt $(( $(fsize "$src") * 8 / 10 )) ]; then
        cp "$src.xz" "$dest/$name.xz"; chmod 644 "$dest/$name.xz"
        echo "$name.xz"
    else
        cp "$src" "$dest/$name"; chmod 644 "$dest/$name"; echo "$name"
    fi
}

# committed_name DIR NAME : NAME.xz if that is what commit_dump kept, else NAME.
committed_name() { if [ -e "$1/$2.xz" ]; then echo "$2.xz"; else echo "$2"; fi; }

# to_file FILE CMD... : run CMD with its standard output in FILE.
to_file() { local f=$1; shift; "$@" > "$f"; }

# status_ready ID TEXT : tell the lead a fixture is ready.
status_ready() {
    echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) $1 READY: $2" >> "$FIXTURES_DIR/STATUS.generator.txt"
}

# tsv_row TSV NAME FORMAT COMPRESSION LEVEL NOTE ARCHIVE PATH [EXTRA_JSON]
#   one line of files.tsv (fields separated by 0x1f), read by make-facts.py and files_table.
tsv_row() {
    local tsv=$1; shift
    printf '%s\037%s\037%s\037%s\037%s\037%s\037%s\037%s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7" "${8:-}" >> "$tsv"
}

# files_table FIXTURE_DIR FILES_TSV : markdown tables of the committed files and
# of the dump files they hold. FILES_TSV lines (tsv_row; fields separated by
# the ASCII unit separator 0x1f, so that empty fields survive `read`): name, format, page
# compression, dump level, note, archive (empty: the file itself is committed),
# path of the file to measure, extra JSON (kdump header facts, split range).
files_table() {
    local f="$1" tsv="$2" name fmt comp lvl note arch path extra seen=" "
    echo "Committed files:"
    echo
    echo "| file | bytes | sha256 | what |"
    echo "| --- | --- | --- | --- |"
    while IFS=$'\x1f' read -r name fmt comp lvl note arch path extra; do
        if [ -n "$arch" ]; then
            [[ "$seen" == *" $arch "* ]] && continue; seen+="$arch "
            echo "| \`$arch\` | $(fsize "$f/$arch") | \`$(sha256 "$f/$arch")\` | ustar archive, xz -9e (256 MiB dictionary): $(awk -F'\037' -v a="$arch" '$6 == a {printf "%s`%s`", n++ ? ", " : "", $1}' "$tsv") |"
        else
            echo "| \`$name\` | $(fsize "$f/$name") | \`$(sha256 "$f/$name")\` | $fmt$note |"
        fi
    done < "$tsv"
    echo
    echo "Dump files (for members of an archive: the member's own size and sha256):"
    echo
    echo "| dump file | inside | format | page compression | dump level | header status | split part, pfn range | bytes | sha256 |"
    echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    while IFS=$'\x1f' read -r name fmt comp lvl note arch path extra; do
        local st="—" sp="—"
        if [ -n "$extra" ]; then
            st=$(/usr/bin/python3 -c "import json,sys; d=json.loads(sys.argv[1]); print('%#x %s' % (d['headerStatus'], '+'.join(d['statusNames']) or 'uncompressed'))" "$extra")
            sp=$(/usr/bin/python3 -c "import json,sys; d=json.loads(sys.argv[1]).get('split'); print('%d of %d, [%d, %d)' % (d['part'], d['parts'], d['startPfn'], d['endPfn']) if d else '—')" "$extra")
        fi
        local inside="—"; [ -z "$arch" ] || inside="\`$arch\`"
        echo "| \`$name\` | $inside | $fmt$note | $comp | $lvl | $st | $sp | $(fsize "$path") | \`$(sha256 "$path")\` |"
    done < "$tsv"
}
