#!/bin/bash
# Fixture Fixtures/arm64-6.1-panic: QEMU dump-guest-memory (ELF, and kdump-zlib
# when it works) of a panicked arm64 guest running Debian 12's newest 6.1 arm64
# kernel under TCG, with VMCOREINFO (qemu_fw_cfg + -device vmcoreinfo).
#
#   Fixtures/generator/make-arm64.sh [dump|drgn|all]     (default: dump)
#     dump  boot, panic, dump, write the fixture folder (vmcore.elf.xz, expected/, PROVENANCE.md)
#     drgn  add expected/drgn.json (drgn 0.3.0 + the -dbg package's DWARF vmlinux, ~800 MB download)
#
# Environment: CORONER_FIXTURE_CACHE (default /var/tmp/coroner-fixture-cache),
#   ARM64_MEM (MiB, default 128: 256 gave a dump of the same compressed size),
#   ARM64_EXTRA_APPEND (added to the kernel command line),
#   ARM64_COMMIT_KDUMP=1 to put vmcore.kdump-zlib.flat.xz into the fixture folder too
#   (about 14 MB: zlib-compressed pages do not shrink under xz; by default it stays
#   in the cache and only its size, sha256 and first bytes are recorded).
# Needs: qemu-system-arm (host package), xz-utils, cpio, python3 (Debian's).
source "$(dirname "$0")/lib/foreign-common.sh"

STAGE=${1:-dump}
FIXTURE=arm64-6.1-panic
ARCH=arm64
SUITE=bookworm
MEM=${ARM64_MEM:-128}
OUT="$FFIX_DIR/$FIXTURE"
WORK="$FCACHE/work/$FIXTURE"
APPEND="console=ttyAMA0 rdinit=/init panic=0 ${ARM64_EXTRA_APPEND:-}"
APPEND=${APPEND% }
mkdir -p "$WORK"

stage_dump() {
    local t_all=$SECONDS t0 rel kd bb marker
    t0=$SECONDS
    fapt_setup "$SUITE" "$ARCH"
    rel=$(fnewest_pkg "$SUITE" "$ARCH" 'linux-image-6\.1\.0-[0-9]+-arm64')
    rel=${rel#linux-image-}
    [ -n "$rel" ] || fdie "no linux-image-6.1.0-*-arm64 in $SUITE"
    kd=$(fkernel "$SUITE" "$ARCH" "$rel" qemu_fw_cfg)
    fdeb_x "$SUITE" "$ARCH" "$WORK/busybox-root" busybox-static
    bb="$WORK/busybox-root/bin/busybox"
    local t_fetch=$((SECONDS - t0))

    marker="CORONER-MARKER $FIXTURE $(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')"
    t0=$SECONDS
    fbuild_initramfs "$bb" "$kd" "$FIXTURE" "$marker" "$WORK/initrd.gz"
    local t_initramfs=$((SECONDS - t0))

    flog "booting $rel (arm64, ${MEM} MiB, 2 vCPUs, TCG)"
    t0=$SECONDS
    FDUMP_KDUMP=1 fqemu_panic_dump "$WORK" 900 qemu-system-aarch64 -accel tcg -machine virt -cpu cortex-a57 \
        -smp 2 -m "$MEM" -no-reboot -net none -device vmcoreinfo \
        -kernel "$kd/vmlinuz" -initrd "$WORK/initrd.gz" -append "$APPEND" \
        || fdie "QEMU run failed"
    local t_qemu=$((SECONDS - t0))
    local qemu_cmd=${FQEMU_CMDLINE//$kd\//}; qemu_cmd=${qemu_cmd//$WORK\//}

    # ------------------------------------------------------------ the fixture folder
    t0=$SECONDS
    rm -rf "$OUT.new"; mkdir -p "$OUT.new/expected"
    xz -T1 -9 -c "$WORK/vmcore.elf" > "$OUT.new/vmcore.elf.xz"
    local have_kdump=0
    if [ -s "$WORK/vmcore.kdump-zlib.flat" ]; then
        have_kdump=1
        [ "${ARM64_COMMIT_KDUMP:-0}" = 1 ] && xz -T1 -9 -c "$WORK/vmcore.kdump-zlib.flat" > "$OUT.new/vmcore.kdump-zlib.flat.xz"
    fi
    local t_xz=$((SECONDS - t0))
    fexpected "$WORK/vmcore.elf" "$OUT.new/expected" aarch64 "$FIXTURE" "$marker"
    ftrim_serial "$WORK/serial.log" "$OUT.new/expected/serial.log"
    if [ $have_kdump = 1 ]; then
        head -c 4096 "$WORK/vmcore.kdump-zlib.flat" | od -A x -t x1z | head -20 > "$OUT.new/expected/kdump-zlib-head.txt"
    fi
    grep -qF "$marker" "$OUT.new/expected/serial.log" || flog "WARNING: the marker is not on the console"

    # ------------------------------------------------------------ PROVENANCE.md
    local kver bbver qver
    kver=$(fpkg_version "$SUITE" "$ARCH" "linux-image-$rel")
    bbver=$(fpkg_version "$SUITE" "$ARCH" busybox-static)
    qver=$(dpkg-query -W -f '${Version}' qemu-system-arm)
    {
        echo "# $FIXTURE"
        echo
        echo "A QEMU \`dump-guest-memory\` ELF dump of an arm64 guest that panicked through"
        echo "\`echo c > /proc/sysrq-trigger\` and stayed in panic (\`panic=0\`)."
        echo "QEMU ran under TCG (no KVM) on x86-64. The guest loaded \`qemu_fw_cfg\`, so QEMU's"
        echo "\`vmcoreinfo\` device put the kernel's VMCOREINFO note into the dump."
        echo
        echo "- Made: $(date -u +%Y-%m-%dT%H:%M:%SZ) by \`Fixtures/generator/make-arm64.sh dump\`"
        echo "- Host: $(. /etc/os-release; echo "$PRETTY_NAME"), $(uname -m), $(nproc) cores, QEMU TCG"
        echo
        echo "## Packages (Debian $SUITE, arm64, private apt state: APT::Architecture=arm64, own lists/cache, empty status)"
        echo "- linux-image-$rel $kver"
        echo "- busybox-static:arm64 $bbver"
        echo "- qemu-system-arm (host, amd64) $qver"
        echo "- Modules loaded in the guest, in order: $(tr '\n' ' ' < "$kd/modules/list")"
        echo
        echo "## Command lines"
        echo "- QEMU (paths shortened): \`$qemu_cmd\`"
        echo "- Kernel: \`$APPEND\`"
        echo "- QMP: \`{\"execute\":\"qmp_capabilities\"}\`, then \`{\"execute\":\"dump-guest-memory\",\"arguments\":{\"paging\":false,\"protocol\":\"file:vmcore.elf\",\"format\":\"elf\"}}\`$( [ $have_kdump = 1 ] && echo ', then the same with `"format":"kdump-zlib"`')"
        echo "- Guest init: \`Fixtures/generator/foreign/init\` (workload: \`foreign/workload.sh\` as coroner-alpha, coroner-bravo, coroner-charlie)"
        echo
        echo "## Marker"
        echo "\`$marker\`"
        echo
        echo "## Files"
        echo "| file | bytes | sha256 |"
        echo "|---|---|---|"
        echo "| vmcore.elf (uncompressed, not committed) | $(stat -c %s "$WORK/vmcore.elf") | $(sha256sum < "$WORK/vmcore.elf" | cut -d' ' -f1) |"
        if [ $have_kdump = 1 ]; then
            echo "| vmcore.kdump-zlib.flat ($( [ -f "$OUT.new/vmcore.kdump-zlib.flat.xz" ] && echo 'uncompressed, not committed' || echo 'made, not committed: stays in the cache'); QEMU wrote it in makedumpfile's flattened layout) | $(stat -c %s "$WORK/vmcore.kdump-zlib.flat") | $(sha256sum < "$WORK/vmcore.kdump-zlib.flat" | cut -d' ' -f1) |"
        fi
        (cd "$OUT.new" && find . -type f ! -name PROVENANCE.md | LC_ALL=C sort | while read -r f; do
            echo "| ${f#./} | $(stat -c %s "$f") | $(sha256sum < "$f" | cut -d' ' -f1) |"
        done)
        echo
        echo "Compression: \`xz -9\` of the whole file. Most of what remains after xz is the kernel"
        echo "image itself (Debian's arm64 Image is an uncompressed 32 MB file that QEMU loads into RAM and"
        echo "the kernel runs in place; \`xz -9\` of that file alone gives about 8 MB): 256 MiB of guest"
        echo "memory gave the same compressed size as 128 MiB."
        if [ $have_kdump = 1 ] && [ ! -f "$OUT.new/vmcore.kdump-zlib.flat.xz" ]; then
            echo
            echo "The kdump-zlib dump of the same guest (second QMP command) works but is not committed:"
            echo "its pages are zlib-compressed one by one, so xz cannot shrink it (about 14 MB);"
            echo "\`ARM64_COMMIT_KDUMP=1\` adds it. expected/kdump-zlib-head.txt shows its first bytes."
        fi
        echo
        echo "## Timings (wall, seconds)"
        echo "- packages and kernel unpacking: $t_fetch"
        echo "- initramfs: $t_initramfs"
        echo "- boot to panic: ${FBOOT_SECONDS:-?}; ELF dump over QMP: ${FDUMP_SECONDS:-?}; whole QEMU run: $t_qemu"
        echo "- xz: $t_xz"
        echo "- whole dump stage: $((SECONDS - t_all))"
    } > "$OUT.new/PROVENANCE.md"
    if [ -f "$OUT/expected/drgn.json" ]; then
        flog "note: the old expected/drgn.json belongs to the old dump; run the drgn stage again"
    fi
    fpublish "$OUT.new" "$OUT"
    echo "$rel" > "$WORK/release"
    flog "fixture written: $OUT ($(du -sh "$OUT" | cut -f1))"
}

stage_drgn() {
    local rel vmlinux venv="$FCACHE/tools/drgn-venv-foreign" t0=$SECONDS
    rel=$(cat "$WORK/release")
    [ -s "$WORK/vmcore.elf" ] || fdie "run the dump stage first"
    vmlinux="$FCACHE/vmlinux/vmlinux-$rel"
    if [ ! -s "$vmlinux" ]; then
        local deb tmp; deb=$(fdeb "$SUITE" "$ARCH" "linux-image-$rel-dbg")
        tmp=$(mktemp -d "$FCACHE/vmlinux/tmp.XXXXXX")
        dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" "./usr/lib/debug/boot/vmlinux-$rel"
        mv "$tmp/usr/lib/debug/boot/vmlinux-$rel" "$vmlinux"; rm -rf "$tmp"
    fi
    if [ ! -x "$venv/bin/drgn" ]; then
        /usr/bin/python3 -m venv "$venv"
        "$venv/bin/pip" install -q "drgn==0.3.0"
    fi
    local t1=$SECONDS
    "$venv/bin/python3" "$FGEN_DIR/foreign/drgn-facts.py" "$WORK/vmcore.elf" "$vmlinux" \
        > "$OUT/expected/drgn.json"
    flog "drgn: $((SECONDS - t1)) s (stage $((SECONDS - t0)) s)"
    {
        echo "## drgn (expected/drgn.json)"
        echo "- drgn $("$venv/bin/pip" show drgn | awk '/^Version/ {print $2}') (PyPI, venv) with \`vmlinux-$rel\` from linux-image-$rel-dbg $(fpkg_version "$SUITE" "$ARCH" "linux-image-$rel-dbg")"
        echo "- \`Fixtures/generator/foreign/drgn-facts.py vmcore.elf vmlinux-$rel\`; $((SECONDS - t1)) s; run $(date -u +%Y-%m-%dT%H:%M:%SZ) by \`make-arm64.sh drgn\`"
        echo "- expected/drgn.json: $(stat -c %s "$OUT/expected/drgn.json") bytes, sha256 $(sha256sum < "$OUT/expected/drgn.json" | cut -d' ' -f1)"
    } | fprov_section "$OUT/PROVENANCE.md" "drgn"
}

case $STAGE in
    dump) stage_dump ;;
    drgn) stage_drgn ;;
    all) stage_dump; stage_drgn ;;
    *) fdie "unknown stage $STAGE" ;;
esac
