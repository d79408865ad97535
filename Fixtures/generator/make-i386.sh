#!/bin/bash
# Fixture Fixtures/i386-panic: a 32-bit (ELFCLASS32) vmcore of a panicked i386
# guest running Debian 12's 686-pae kernel under QEMU TCG.
#
# QEMU's dump-guest-memory cannot make it: for an x86 guest QEMU 7.2 (and later)
# chooses ELFCLASS64 as soon as a guest memory block ends above 0xffffffff, and
# the PC machine's BIOS ROM block (0xfffc0000-0x100000000) ends exactly at 4 GiB
# (target/i386/arch_dump.c: `block->target_end > UINT_MAX`). So the fixture is a
# true kdump: the guest `kexec -p`s a capture kernel (i386 kexec-tools,
# --elf32-core-headers), panics with sysrq-c, and the capture kernel copies
# /proc/vmcore (ELF32, built by kexec-tools and the kernel) to a virtio disk.
#
#   Fixtures/generator/make-i386.sh [kdump|qemu|reference|all]     (default: kdump)
#     kdump  the fixture: boot, kexec -p, panic, capture, copy; writes
#            Fixtures/i386-panic (vmcore.elf.xz, expected/, PROVENANCE.md)
#     qemu   for the record only: the QEMU dump-guest-memory ELF of the same kind of
#            guest (stays in the cache; its header goes to expected/qemu-elf-readelf.txt)
#     reference  expected/crash.txt from Debian 13's crash 8.0.6 (i386 build, run
#            unpacked) and expected/drgn.json from drgn 0.3.0 (PyPI, venv), both with
#            the -dbg package's DWARF vmlinux (about 765 MB download)
#
# Environment: CORONER_FIXTURE_CACHE (default /var/tmp/coroner-fixture-cache),
#   I386_MEM (MiB, default 192), I386_CRASHKERNEL (default 64M).
source "$(dirname "$0")/lib/foreign-common.sh"

STAGE=${1:-kdump}
FIXTURE=i386-panic
ARCH=i386
SUITE=bookworm
MEM=${I386_MEM:-192}
CK=${I386_CRASHKERNEL:-64M}
OUT="$FFIX_DIR/$FIXTURE"
WORK="$FCACHE/work/$FIXTURE"
# init_on_free=1: pages the kernel frees (and the free memory it takes over at
# boot, such as the leftover compressed bzImage) are zeroed, so the dump packs
# smaller; the kernel states it on the console ("mem auto-init: ... heap free:on").
# nokaslr: with the kernel moved by physical KASLR (which on i386 moves its virtual
# addresses too, and i386's VMCOREINFO has no KERNELOFFSET), Debian 13's crash 8.0.6
# ("vmlinux and vmcore do not match", also with --kaslr) and drgn 0.3.0 (reads
# the unrelocated addresses) could not read the dump. I386_KASLR=1 keeps KASLR.
FIRST_APPEND="console=ttyS0 crashkernel=$CK rdinit=/init panic=-1 init_on_free=1"
[ "${I386_KASLR:-0}" = 1 ] || FIRST_APPEND+=" nokaslr"
CAPTURE_APPEND="console=ttyS0 irqpoll nr_cpus=1 reset_devices rdinit=/init panic=-1"
KEXEC_ARGS="--elf32-core-headers"
QEMU_PANIC_APPEND="console=ttyS0 rdinit=/init panic=0 init_on_free=1"
mkdir -p "$WORK"

prepare() {
    fapt_setup "$SUITE" "$ARCH"
    REL=$(fnewest_pkg "$SUITE" "$ARCH" 'linux-image-6\.1\.0-[0-9]+-686-pae')
    REL=${REL#linux-image-}
    [ -n "$REL" ] || fdie "no linux-image-6.1.0-*-686-pae in $SUITE"
    KD=$(fkernel "$SUITE" "$ARCH" "$REL" virtio_pci virtio_blk qemu_fw_cfg)
    fdeb_x "$SUITE" "$ARCH" "$WORK/root" busybox-static kexec-tools libc6
    BB="$WORK/root/bin/busybox"
}

stage_kdump() {
    local t_all=$SECONDS t0 marker
    t0=$SECONDS
    prepare
    local t_fetch=$((SECONDS - t0))
    marker="CORONER-MARKER $FIXTURE $(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')"

    # -------------------------------------------------------- initramfs
    t0=$SECONDS
    local x="$WORK/extra-capture" y="$WORK/extra-first"
    rm -rf "$x" "$y"; mkdir -p "$x/etc" "$y/etc" "$y/boot" "$y/sbin" "$y/lib/i386-linux-gnu"
    echo capture > "$x/etc/coroner-mode"
    fbuild_initramfs "$BB" "$KD" "$FIXTURE" "$marker" "$WORK/capture.gz" "$x"
    echo kdump > "$y/etc/coroner-mode"
    echo "$CAPTURE_APPEND" > "$y/etc/coroner-capture-cmdline"
    echo "$KEXEC_ARGS" > "$y/etc/coroner-kexec-args"
    cp "$WORK/root/sbin/kexec" "$y/sbin/kexec"
    cp "$WORK/root/lib/i386-linux-gnu/libc.so.6" "$y/lib/i386-linux-gnu/"
    cp -L "$WORK/root/lib/ld-linux.so.2" "$y/lib/ld-linux.so.2"
    cp "$KD/vmlinuz" "$y/boot/vmlinuz"
    cp "$WORK/capture.gz" "$y/boot/capture.gz"
    fbuild_initramfs "$BB" "$KD" "$FIXTURE" "$marker" "$WORK/first.gz" "$y"
    local t_initramfs=$((SECONDS - t0))

    # -------------------------------------------------------- boot, crash, capture
    t0=$SECONDS
    local try size qemu_args
    for try in 1 2 3; do
        rm -f "$WORK/disk.raw" "$WORK/serial.log" "$WORK/vmcore.elf"
        truncate -s $((MEM + 32))M "$WORK/disk.raw"
        flog "kdump boot #$try: $REL (i386, ${MEM} MiB, 2 vCPUs, crashkernel=$CK, TCG)"
        qemu_args=(-accel tcg -machine pc -smp 2 -m "$MEM" -vga none -no-reboot -net none
            -kernel "$KD/vmlinuz" -initrd "$WORK/first.gz" -append "$FIRST_APPEND"
            -drive file="$WORK/disk.raw",format=raw,if=virtio
            -serial file:"$WORK/serial.log" -monitor none -display none)
        QEMU_CMD=qemu-system-i386
        local a; for a in "${qemu_args[@]}"; do
            case $a in *' '*) QEMU_CMD+=" \"$a\"" ;; *) QEMU_CMD+=" $a" ;; esac
        done
        timeout --kill-after=10 900 qemu-system-i386 "${qemu_args[@]}" > "$WORK/qemu.stdout" 2>&1 || true
        size=$(tr -d '\r' < "$WORK/serial.log" | awk '/^CORONER-VMCORE-SIZE/ {print $2}' | tail -1)
        if [ -n "$size" ]; then
            head -c "$size" "$WORK/disk.raw" > "$WORK/vmcore.elf"; rm -f "$WORK/disk.raw"
            break
        fi
        cp "$WORK/serial.log" "$WORK/serial.fail$try.log"
        flog "no vmcore on try $try (see $WORK/serial.fail$try.log)"
    done
    [ -s "$WORK/vmcore.elf" ] || fdie "kdump failed 3 times"
    local t_qemu=$((SECONDS - t0)) tries=$try
    QEMU_CMD=${QEMU_CMD//$KD\//}; QEMU_CMD=${QEMU_CMD//$WORK\//}
    local class; class=$(od -An -tu1 -j4 -N1 "$WORK/vmcore.elf" | tr -d ' ')
    [ "$class" = 1 ] || flog "WARNING: the vmcore is not ELFCLASS32 (EI_CLASS=$class)"

    # -------------------------------------------------------- the fixture folder
    t0=$SECONDS
    rm -rf "$OUT.new"; mkdir -p "$OUT.new/expected"
    xz -T1 -9 -c "$WORK/vmcore.elf" > "$OUT.new/vmcore.elf.xz"
    local t_xz=$((SECONDS - t0))
    fexpected "$WORK/vmcore.elf" "$OUT.new/expected" i386 "$FIXTURE" "$marker"
    /usr/bin/python3 - "$OUT.new/expected/facts.json" <<'PY'
import json, sys
p = sys.argv[1]; f = json.load(open(p))
f["dumpFormat"] = "kdump-elf"       # /proc/vmcore of a kexec capture kernel
open(p, "w").write(json.dumps(f, indent=2) + "\n")
PY
    # console: the first kernel from its first line to the crash, then the capture kernel
    tr -d '\r' < "$WORK/serial.log" | awk '
        /Linux version/ { n++ }
        n >= 1 { print }' > "$OUT.new/expected/serial.log"
    # vmcore-dmesg (i386 kexec-tools, run with its own loader) as a reference for dmesg
    "$WORK/root/lib/ld-linux.so.2" --library-path "$WORK/root/lib/i386-linux-gnu" \
        "$WORK/root/sbin/vmcore-dmesg" "$WORK/vmcore.elf" > "$OUT.new/expected/vmcore-dmesg.txt" 2>&1 \
        || flog "vmcore-dmesg failed (see expected/vmcore-dmesg.txt)"
    grep -qF "$marker" "$OUT.new/expected/serial.log" || flog "WARNING: the marker is not on the console"

    # -------------------------------------------------------- PROVENANCE.md
    {
        echo "# $FIXTURE"
        echo
        echo "A 32-bit ELF (ELFCLASS32, EM_386) kdump vmcore: \`/proc/vmcore\` of a capture kernel,"
        echo "copied after an i386 guest (Debian 12's 686-pae kernel, PAE paging) crashed with"
        echo "\`echo c > /proc/sysrq-trigger\`. QEMU ran under TCG (no KVM) on x86-64."
        echo
        echo "Why a kdump and not QEMU's \`dump-guest-memory\`: for an x86 guest QEMU 7.2 writes"
        echo "ELFCLASS32 only if no guest memory block ends above 0xffffffff"
        echo "(\`target/i386/arch_dump.c\`, \`block->target_end > UINT_MAX\`, an exclusive end); the PC"
        echo "machine's BIOS ROM occupies 0xfffc0000-0x100000000, so its end is 0x100000000 and the"
        echo "dump is always ELFCLASS64 (Machine: Intel 80386), with \`-vga none\` and"
        echo "\`qemu-system-i386\` too. See \`make-i386.sh qemu\` and expected/qemu-elf-readelf.txt"
        echo "if present."
        echo
        echo "The first kernel ran with \`init_on_free=1\` (freed pages are zeroed: the dump packs"
        echo "smaller) and, unless I386_KASLR=1, \`nokaslr\`: with physical KASLR the i386 kernel's virtual"
        echo "addresses move too and i386's VMCOREINFO has no KERNELOFFSET; neither crash 8.0.6 (also with"
        echo "\`--kaslr\`) nor drgn 0.3.0 could then read the dump (an offset can still be worked out from"
        echo "VMCOREINFO's \`SYMBOL(_stext)\` against the vmlinux's \`_stext\` = 0xc1000000)."
        echo
        echo "- Made: $(date -u +%Y-%m-%dT%H:%M:%SZ) by \`Fixtures/generator/make-i386.sh kdump\` ($tries boot(s))"
        echo "- Host: $(. /etc/os-release; echo "$PRETTY_NAME"), $(uname -m), $(nproc) cores, QEMU TCG"
        echo
        echo "## Packages (Debian $SUITE, i386, private apt state: APT::Architecture=i386, own lists/cache, empty status)"
        echo "- linux-image-$REL $(fpkg_version "$SUITE" "$ARCH" "linux-image-$REL") (first and capture kernel)"
        echo "- busybox-static:i386 $(fpkg_version "$SUITE" "$ARCH" busybox-static)"
        echo "- kexec-tools:i386 $(fpkg_version "$SUITE" "$ARCH" kexec-tools) (kexec in the guest; vmcore-dmesg on the host), libc6:i386 $(fpkg_version "$SUITE" "$ARCH" libc6)"
        echo "- qemu-system-x86 (host, amd64) $(dpkg-query -W -f '${Version}' qemu-system-x86)"
        echo "- Modules loaded in the guest, in order: $(tr '\n' ' ' < "$KD/modules/list")"
        local errs; errs=$(fapt_errors "$SUITE" "$ARCH")
        if [ -n "$errs" ]; then
            echo "- Note: the newest 686-pae kernel of bookworm's main suite was used: apt update of"
            echo "  bookworm-security's i386 index failed here (\`${errs//$'\n'/ }\`), so its newer kernels were not seen."
        fi
        echo
        echo "## Command lines"
        echo "- QEMU (paths shortened): \`$QEMU_CMD\`"
        echo "- First kernel: \`$FIRST_APPEND\`"
        echo "- In the guest: \`kexec -p /boot/vmlinuz --initrd=/boot/capture.gz $KEXEC_ARGS --append=\"$CAPTURE_APPEND\"\`, then \`echo c > /proc/sysrq-trigger\`"
        echo "- Capture kernel: \`dd if=/proc/vmcore of=/dev/vda bs=1M\`; the host cuts the disk to the size it printed"
        echo "- Guest init: \`Fixtures/generator/foreign/init\` (workload: \`foreign/workload.sh\` as coroner-alpha, coroner-bravo, coroner-charlie)"
        echo
        echo "## Marker"
        echo "\`$marker\`"
        echo
        echo "## Files"
        echo "| file | bytes | sha256 |"
        echo "|---|---|---|"
        echo "| vmcore.elf (uncompressed, not committed) | $(stat -c %s "$WORK/vmcore.elf") | $(sha256sum < "$WORK/vmcore.elf" | cut -d' ' -f1) |"
        (cd "$OUT.new" && find . -type f ! -name PROVENANCE.md | LC_ALL=C sort | while read -r f; do
            echo "| ${f#./} | $(stat -c %s "$f") | $(sha256sum < "$f" | cut -d' ' -f1) |"
        done)
        echo
        echo "Compression: \`xz -9\` of the whole file."
        echo
        echo "## Timings (wall, seconds)"
        echo "- packages and kernel unpacking: $t_fetch"
        echo "- initramfs: $t_initramfs"
        echo "- QEMU (boot, kexec -p, crash, capture kernel, copy): $t_qemu"
        echo "- xz: $t_xz"
        echo "- whole kdump stage: $((SECONDS - t_all))"
    } > "$OUT.new/PROVENANCE.md"
    fpublish "$OUT.new" "$OUT"
    echo "$REL" > "$WORK/release"
    flog "fixture written: $OUT ($(du -sh "$OUT" | cut -f1))"
}

stage_qemu() {
    prepare
    local q="$WORK/qemu-elf" t0=$SECONDS
    mkdir -p "$q"
    fbuild_initramfs "$BB" "$KD" "$FIXTURE" "CORONER-MARKER $FIXTURE-qemu-elf $(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')" "$q/initrd.gz"
    fqemu_panic_dump "$q" 600 qemu-system-i386 -accel tcg -machine pc -smp 2 -m "$MEM" -vga none -no-reboot \
        -net none -device vmcoreinfo -kernel "$KD/vmlinuz" -initrd "$q/initrd.gz" -append "$QEMU_PANIC_APPEND" \
        || fdie "QEMU run failed"
    local cmd=${FQEMU_CMDLINE//$KD\//}; cmd=${cmd//$q\//}
    {
        echo "# QEMU dump-guest-memory of an i386 guest (not committed: it is ELFCLASS64)"
        echo "# made $(date -u +%Y-%m-%dT%H:%M:%SZ) by make-i386.sh qemu; $((SECONDS - t0)) s"
        echo "# $cmd"
        echo "# kernel: $QEMU_PANIC_APPEND"
        echo "# QMP dump-guest-memory paging=false format=elf; $(stat -c %s "$q/vmcore.elf") bytes, sha256 $(sha256sum < "$q/vmcore.elf" | cut -d' ' -f1)"
        LC_ALL=C readelf -h -l "$q/vmcore.elf"
        LC_ALL=C readelf -n "$q/vmcore.elf" | grep -E '^ +[A-Z]' | cut -c1-80
    } > "$OUT/expected/qemu-elf-readelf.txt"
    local cls; cls=$(od -An -tu1 -j4 -N1 "$q/vmcore.elf" | tr -d ' ')
    flog "QEMU ELF of the i386 guest: EI_CLASS $cls (1 = ELF32, 2 = ELF64)"
    {
        echo "## QEMU dump-guest-memory of the same kind of guest (expected/qemu-elf-readelf.txt)"
        echo "- \`make-i386.sh qemu\`, $(date -u +%Y-%m-%dT%H:%M:%SZ): \`$cmd\`, kernel \`$QEMU_PANIC_APPEND\`,"
        echo "  QMP \`dump-guest-memory\` paging=false format=elf: EI_CLASS $cls ($( [ "$cls" = 2 ] && echo ELF64 || echo ELF32)), $(stat -c %s "$q/vmcore.elf") bytes; not committed."
        echo "- expected/qemu-elf-readelf.txt: $(stat -c %s "$OUT/expected/qemu-elf-readelf.txt") bytes, sha256 $(sha256sum < "$OUT/expected/qemu-elf-readelf.txt" | cut -d' ' -f1)"
    } | fprov_section "$OUT/PROVENANCE.md" "QEMU dump-guest-memory"
}

stage_reference() {
    local rel vmlinux t0=$SECONDS
    rel=$(cat "$WORK/release")
    vmlinux="$FCACHE/vmlinux/vmlinux-$rel"
    if [ ! -s "$vmlinux" ]; then
        local deb tmp; deb=$(fdeb "$SUITE" "$ARCH" "linux-image-$rel-dbg")
        mkdir -p "$FCACHE/vmlinux"; tmp=$(mktemp -d "$FCACHE/vmlinux/tmp.XXXXXX")
        dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" "./usr/lib/debug/boot/vmlinux-$rel"
        mv "$tmp/usr/lib/debug/boot/vmlinux-$rel" "$vmlinux"; rm -rf "$tmp"
    fi
    # Debian 13's crash, i386 build, with its i386 libraries (readelf -d NEEDED)
    local croot="$FCACHE/tools/trixie-i386-root"
    if [ ! -x "$croot/usr/bin/crash" ]; then
        fapt_setup trixie i386
        fdeb_x trixie i386 "$croot" crash libc6 libncursesw6 libtinfo6 liblzo2-2 libsnappy1v5 libzstd1 \
            libstdc++6 libgcc-s1 zlib1g libgmp10 libmpfr6
    fi
    local t1=$SECONDS
    printf '%s\n' sys "log" ps "bt -a" "foreach bt" exit > "$WORK/crash.cmds"
    "$croot/usr/lib/ld-linux.so.2" --library-path "$croot/usr/lib/i386-linux-gnu:$croot/lib/i386-linux-gnu" \
        "$croot/usr/bin/crash" -s "$vmlinux" "$WORK/vmcore.elf" < "$WORK/crash.cmds" > "$WORK/crash.out" 2>&1 || true
    CRASH_MODE=full
    if grep -qE 'cannot resolve|do not match' "$WORK/crash.out"; then
        # Seen with 6.1: the full start-up stops at 'cannot resolve "sys_open"' (the i386
        # build still looks for that symbol); --minimal mode reads the log and memory.
        CRASH_FULL_ERR=$(grep -m1 -E 'cannot resolve|do not match' "$WORK/crash.out")
        CRASH_MODE=minimal
        printf '%s\n' "log" "sym linux_banner" "rd -a linux_banner" "sym init_uts_ns" exit > "$WORK/crash.cmds"
        "$croot/usr/lib/ld-linux.so.2" --library-path "$croot/usr/lib/i386-linux-gnu:$croot/lib/i386-linux-gnu" \
            "$croot/usr/bin/crash" -s --minimal "$vmlinux" "$WORK/vmcore.elf" < "$WORK/crash.cmds" > "$WORK/crash.out" 2>&1 || true
    fi
    sed "s|$vmlinux|vmlinux-$rel|g; s|$WORK/||g" "$WORK/crash.out" > "$OUT/expected/crash.txt"
    local t_crash=$((SECONDS - t1))
    flog "crash: $t_crash s"
    # drgn 0.3.0 (PyPI) in a venv of the cache
    local venv="$FCACHE/tools/drgn-venv-foreign"
    if [ ! -x "$venv/bin/drgn" ]; then
        /usr/bin/python3 -m venv "$venv"
        "$venv/bin/pip" install -q "drgn==0.3.0"
    fi
    local t2=$SECONDS
    "$venv/bin/python3" "$FGEN_DIR/foreign/drgn-facts.py" "$WORK/vmcore.elf" "$vmlinux" \
        > "$OUT/expected/drgn.json" 2> "$WORK/drgn.err" || { flog "drgn failed (see $WORK/drgn.err)"; rm -f "$OUT/expected/drgn.json"; }
    local t_drgn=$((SECONDS - t2))
    {
        echo "## Reference tools: crash (expected/crash.txt)"
        echo "- crash $(fpkg_version trixie i386 crash) (Debian 13, i386 build, run unpacked with its own loader) with \`vmlinux-$rel\` from linux-image-$rel-dbg $(fpkg_version "$SUITE" "$ARCH" "linux-image-$rel-dbg")"
        if [ "$CRASH_MODE" = minimal ]; then
            echo "- The full start-up (\`crash -s vmlinux-$rel vmcore.elf\`) stopped with: \`$CRASH_FULL_ERR\`;"
            echo "  expected/crash.txt is \`crash -s --minimal vmlinux-$rel vmcore.elf\` with the commands: $(tr '\n' ';' < "$WORK/crash.cmds")"
        else
            echo "- \`crash -s vmlinux-$rel vmcore.elf\` with the commands: $(tr '\n' ';' < "$WORK/crash.cmds")"
        fi
        echo "- $t_crash s; run $(date -u +%Y-%m-%dT%H:%M:%SZ) by \`make-i386.sh reference\`"
        echo "- expected/crash.txt: $(stat -c %s "$OUT/expected/crash.txt") bytes, sha256 $(sha256sum < "$OUT/expected/crash.txt" | cut -d' ' -f1)"
        if [ -f "$OUT/expected/drgn.json" ]; then
            echo
            echo "drgn (expected/drgn.json):"
            echo "- drgn $("$venv/bin/pip" show drgn | awk '/^Version/ {print $2}') (PyPI, venv): \`Fixtures/generator/foreign/drgn-facts.py vmcore.elf vmlinux-$rel\`; $t_drgn s"
            echo "- expected/drgn.json: $(stat -c %s "$OUT/expected/drgn.json") bytes, sha256 $(sha256sum < "$OUT/expected/drgn.json" | cut -d' ' -f1)"
            echo "- Its dmesg text $(cmp -s <("$venv/bin/python3" -c 'import json,sys; sys.stdout.write(json.load(open(sys.argv[1]))["dmesg"])' "$OUT/expected/drgn.json") "$OUT/expected/vmcore-dmesg.txt" && echo 'is byte for byte' || echo 'is NOT') the same as expected/vmcore-dmesg.txt. drgn 0.3.0 has no stack unwinding for i386 core dumps (crashedThread.error)."
        fi
    } | fprov_section "$OUT/PROVENANCE.md" "Reference tools"
}

case $STAGE in
    kdump) stage_kdump ;;
    qemu) stage_qemu ;;
    reference) stage_reference ;;
    all) stage_kdump; stage_qemu; stage_reference ;;
    *) fdie "unknown stage $STAGE" ;;
esac
