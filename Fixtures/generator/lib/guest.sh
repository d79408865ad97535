# Guest side: kernel + initramfs preparation and the QEMU runs (kdump and panic).
# Source after common.sh.

# Module files to load, in dependency order (missing ones are skipped: some
# kernels build them in or do not have them, e.g. virtio_pci_modern_dev < 5.13).
GUEST_MODULES="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk qemu_fw_cfg"

# prepare_kernel SUITE RELEASE : unpack linux-image-RELEASE into
# $CACHE/kernel/RELEASE (vmlinuz + the guest modules, decompressed). Prints the dir.
prepare_kernel() {
    local suite=$1 rel=$2 kd="$CACHE/kernel/$2"
    if [ ! -s "$kd/vmlinuz" ]; then
        rm -rf "$kd"; mkdir -p "$kd/root" "$kd/modules"
        deb_extract "$suite" "$kd/root" "linux-image-$rel"
        cp "$kd/root/boot/vmlinuz-$rel" "$kd/vmlinuz"
        cp "$kd/root/boot/config-$rel" "$kd/config"
        : > "$kd/modules/list"
        local m f
        for m in $GUEST_MODULES; do
            # /lib/modules (Debian 11, 12) or /usr/lib/modules (merged /usr, Debian 13)
            f=$(find "$kd/root/lib/modules/$rel" "$kd/root/usr/lib/modules/$rel" \
                \( -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" \) 2>/dev/null | sort | head -1 || true)
            [ -n "$f" ] || { log "module $m not in $rel (built in or absent)"; continue; }
            case $f in
                *.xz) xz -dc "$f" > "$kd/modules/$m.ko" ;;
                *.zst) zstd -qdc "$f" > "$kd/modules/$m.ko" ;;
                *) cp "$f" "$kd/modules/$m.ko" ;;
            esac
            echo "$m.ko" >> "$kd/modules/list"
        done
        rm -rf "$kd/root"
    fi
    echo "$kd"
}

# workload_bin : the static workload helper, built with the host's gcc.
workload_bin() {
    local out="$CACHE/build/coroner-workload"
    if [ ! -x "$out" ] || [ "$GEN_DIR/coroner-workload.c" -nt "$out" ]; then
        mkdir -p "$CACHE/build"
        gcc -static -O2 -pthread -Wall -o "$out" "$GEN_DIR/coroner-workload.c"
    fi
    echo "$out"
}

# busybox_bin : busybox-static from bookworm.
busybox_bin() {
    local r="$CACHE/build/busybox-root"
    [ -x "$r/bin/busybox" ] || deb_extract bookworm "$r" busybox-static
    echo "$r/bin/busybox"
}

# build_initramfs KDIR MODE MARKER OUTDIR [NOFWCFG]
#   MODE kdump: writes OUTDIR/capture.gz (capture kernel: busybox, init, the
#     virtio modules) and OUTDIR/first.gz (first kernel: the same plus the
#     workload, the marker, kexec with its libraries, vmlinuz and capture.gz).
#   MODE panic (QEMU dump-guest-memory, no kdump): only OUTDIR/first.gz, as small
#     as the fixture allows: busybox, init, the workload (stripped, plus the
#     coroner-init name), the marker and qemu_fw_cfg (no virtio, no kexec, no
#     capture kernel).
#   NOFWCFG=1 leaves qemu_fw_cfg out (no VMCOREINFO for QEMU).
build_initramfs() {
    local kd=$1 mode=$2 marker=$3 out=$4 nofwcfg=${5:-0}
    local w="$out/initramfs" bb wl
    bb=$(busybox_bin); wl=$(workload_bin)
    rm -rf "$w"; mkdir -p "$w/bin" "$w/etc" "$w/lib/modules" "$w/boot"
    cp "$bb" "$w/bin/busybox"
    cp "$GEN_DIR/initramfs/init" "$w/init"; chmod 755 "$w/init"
    local m
    if [ "$mode" = panic ]; then
        : > "$w/etc/modules.list"
        if [ "$nofwcfg" != 1 ] && grep -qx qemu_fw_cfg.ko "$kd/modules/list"; then
            cp "$kd/modules/qemu_fw_cfg.ko" "$w/lib/modules/"; echo qemu_fw_cfg.ko > "$w/etc/modules.list"
        fi
    else
        while read -r m; do
            [ "$nofwcfg" = 1 ] && [ "$m" = qemu_fw_cfg.ko ] && continue
            cp "$kd/modules/$m" "$w/lib/modules/"; echo "$m" >> "$w/etc/modules.list"
        done < "$kd/modules/list"
    fi
    echo "$mode" > "$w/etc/coroner-mode"
    rm -f "$out/capture.gz"
    [ "$mode" = kdump ] && pack_initramfs "$w" "$out/capture.gz"
    # First kernel: add workload, marker, kexec and the capture kernel + initramfs.
    local n
    # One copy; the names are symlinks (comm is the name exec'd, not the target).
    cp "$wl" "$w/bin/coroner-workload"
    for n in alpha bravo charlie delta echo foxtrot crash; do ln -s coroner-workload "$w/bin/coroner-$n"; done
    if [ "$mode" = panic ]; then
        strip "$w/bin/coroner-workload"               # its pages stay in memory: keep them few
        ln -s coroner-workload "$w/bin/coroner-init"
    fi
    echo "$marker" > "$w/etc/coroner-marker"
    if [ "$mode" = kdump ]; then
        copy_with_libs "$w" /usr/sbin/kexec
        cp "$kd/vmlinuz" "$w/boot/vmlinuz"
        cp "$out/capture.gz" "$w/boot/capture.gz"
    fi
    pack_initramfs "$w" "$out/first.gz"
    rm -rf "$w"
}

# run_kdump KDIR MEM_MB CRASHKERNEL OUTDIR [QEMU ARGS...]
#   boots the first kernel, lets it crash into the capture kernel and cuts the
#   copied /proc/vmcore to OUTDIR/vmcore.raw.elf. Retries (up to 5 boots) when
#   the crashkernel reservation failed or no size was printed.
KDUMP_CMDLINE_FMT='console=ttyS0 crashkernel=%s rdinit=/init panic=-1'
run_kdump() {
    local kd=$1 mem=$2 ck=$3 out=$4; shift 4
    local try append size
    append=$(printf "$KDUMP_CMDLINE_FMT" "$ck")
    for try in 1 2 3 4 5; do
        rm -f "$out/disk.raw" "$out/serial.log"
        truncate -s $((mem + 64))M "$out/disk.raw"
        log "kdump boot #$try (mem ${mem}M, crashkernel=$ck)"
        QEMU_CMDLINE="qemu-system-x86_64 -accel tcg -machine q35 -smp 2 -m $mem -no-reboot -kernel vmlinuz -initrd first.gz -append \"$append\" -drive file=disk.raw,format=raw,if=virtio -serial file:serial.log -monitor none -display none -net none $*"
        qemu_run 600 -machine q35 -smp 2 -m "$mem" -no-reboot \
            -kernel "$kd/vmlinuz" -initrd "$out/first.gz" -append "$append" \
            -drive file="$out/disk.raw",format=raw,if=virtio \
            -serial file:"$out/serial.log" -monitor none -display none -net none "$@" || true
        size=$(tr -d '\r' < "$out/serial.log" | awk '/^CORONER-VMCORE-SIZE/ {print $2}' | tail -1)
        if [ -n "$size" ]; then
            head -c "$size" "$out/disk.raw" > "$out/vmcore.raw.elf"
            rm -f "$out/disk.raw"
            KDUMP_TRIES=$try
            return 0
        fi
        if grep -qE 'crashkernel reservation failed|cannot allocate crashkernel' "$out/serial.log"; then
            log "crashkernel reservation failed: booting again"
        else
            log "no vmcore size on the console: booting again (see $out/serial.log)"
            cp "$out/serial.log" "$out/serial.fail$try.log"
        fi
    done
    die "kdump failed 5 times"
}
