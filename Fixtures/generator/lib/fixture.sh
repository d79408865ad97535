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

# commit_dump SRC DEST_DIR NAME : copy SRC into the fixture as NAME, or as
# NAME.xz when xz makes it at least 20 % smaller. Prints the committed file name.
#   The xz form is kept beside SRC in the cache and reused while SRC is unchanged.
commit_dump() {
    local src=$1 dest=$2 name=$3
    rm -f "$dest/$name" "$dest/$name.xz"
    if [ ! -s "$src.xz" ] || ! cmp -s <(sha256 "$src") "$src.sha256"; then
        local t0=$SECONDS
        xz -T2 -c --lzma2=preset=9e,dict=256MiB "$src" > "$src.xz"
        sha256 "$src" > "$src.sha256"
        echo "$((SECONDS - t0))" > "$src.xzsecs"
    else
        log "reusing $src.xz (xz took $(cat "$src.xzsecs" 2>/dev/null || echo '?') s when made)"
        [ -z "${TIMINGS:-}" ] || echo "(cached) xz of $(basename "$src") when it was made: $(cat "$src.xzsecs" 2>/dev/null || echo '?') s" >> "$TIMINGS"
    fi
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

# files_table FIXTURE_DIR FILES_TSV : markdown table of the committed files.
files_table() {
    local f="$1" tsv="$2" name fmt comp lvl note
    echo "| file | format | page compression | dump level | bytes | sha256 |"
    echo "| --- | --- | --- | --- | --- | --- |"
    while IFS=$'\t' read -r name fmt comp lvl note; do
        echo "| \`$name\` | $fmt$note | $comp | $lvl | $(fsize "$f/$name") | \`$(sha256 "$f/$name")\` |"
    done < "$tsv"
}
