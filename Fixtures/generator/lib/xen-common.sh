# Xen host crash dumps: unpacking Xen 4.17 and its toolstack from Debian 12,
# the dom0 / domU / capture initramfs images, and the QEMU run.
# Source after common.sh and guest.sh. Big files live in $CACHE/xen/.

XEN_SUITE=bookworm
XEN_REL=6.1.0-56-amd64                 # dom0, domU and capture kernel (linux-image-$XEN_REL)
XEN_ROOT="$CACHE/xen/root"             # unpacked Xen + toolstack + kernel modules
XEN_PKGS="xen-hypervisor-4.17-amd64 xen-utils-4.17 libxencall1 libxendevicemodel1
 libxenevtchn1 libxenforeignmemory1 libxengnttab1 libxenhypfs1 libxenmisc4.17
 libxenstore4 libxentoolcore1 libxentoollog1 libyajl2"
# dom0's modules, in load order: virtio (the output disk) then the Xen devices
# the toolstack needs (privcmd, evtchn, gntdev, gntalloc) and xenfs (/proc/xen).
XEN_DOM0_MODULES="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk
 xen-privcmd xen-evtchn xen-gntdev xen-gntalloc xenfs"
XEN_BIN=/usr/lib/xen-4.17/bin
# +npt: Debian's Xen is built without shadow paging (CONFIG_SHADOW_PAGING unset), so
# PVH/HVM domUs need HAP, i.e. nested paging of QEMU's TCG SVM.
XEN_CPU=${XEN_CPU:-qemu64,+svm,+npt}

# xen_prepare : unpack the packages into $XEN_ROOT and gunzip the hypervisor
# to $CACHE/xen/xen-4.17-amd64 (QEMU's -kernel multiboots the ELF32 image).
xen_prepare() {
    apt_setup "$XEN_SUITE"
    if [ ! -x "$XEN_ROOT$XEN_BIN/xl" ] || [ ! -d "$XEN_ROOT/lib/modules/$XEN_REL" ]; then
        # shellcheck disable=SC2086
        deb_extract "$XEN_SUITE" "$XEN_ROOT" $XEN_PKGS "linux-image-$XEN_REL"
    fi
    [ -s "$CACHE/xen/xen-4.17-amd64" ] || gunzip -c "$XEN_ROOT/boot/xen-4.17-amd64.gz" > "$CACHE/xen/xen-4.17-amd64"
    XEN_KD=$(prepare_kernel "$XEN_SUITE" "$XEN_REL")
    XEN_VERSION=$(pkg_version "$XEN_SUITE" xen-hypervisor-4.17-amd64)
    KERNEL_VERSION=$(pkg_version "$XEN_SUITE" "linux-image-$XEN_REL")
}

# xen_copy_bins DEST BIN... : copy binaries of $XEN_ROOT (paths inside it) and
# every library ldd lists, looking in $XEN_ROOT's library folders first.
xen_copy_bins() {
    local dest=$1 b l; shift
    local lp="$XEN_ROOT/usr/lib/x86_64-linux-gnu:$XEN_ROOT/lib/x86_64-linux-gnu"
    for b in "$@"; do
        mkdir -p "$dest$(dirname "$b")"; cp -L "$XEN_ROOT$b" "$dest$b"
        for l in $(LD_LIBRARY_PATH=$lp ldd "$XEN_ROOT$b" | grep -oE '/[^ ]+\.so[^ ]*'); do
            local target=${l#"$XEN_ROOT"}     # libraries from $XEN_ROOT go to the same path
            mkdir -p "$dest$(dirname "$target")"; cp -Ln "$l" "$dest$target"
        done
    done
}

# xen_domu_initramfs KIND MARKER OUT.gz NAMES : a busybox initramfs for a domU.
xen_domu_initramfs() {
    local kind=$1 marker=$2 out=$3 names=$4 w n
    w=$(mktemp -d "$CACHE/xen/initramfs.XXXXXX")
    mkdir -p "$w/bin" "$w/etc"
    cp "$(busybox_bin)" "$w/bin/busybox"
    cp "$GEN_DIR/xen/domu-init" "$w/init"; chmod 755 "$w/init"
    for n in $names; do ln -s busybox "$w/bin/$n"; done
    echo "$names" > "$w/etc/coroner-names"
    echo "$marker" > "$w/etc/coroner-marker"
    echo "$kind" > "$w/etc/coroner-kind"
    pack_initramfs "$w" "$out"
    rm -rf "$w"
}

# xen_domu_cfg NAME TYPE MEM RAMDISK : an xl config (kernel and ramdisk in dom0's /boot).
xen_domu_cfg() {
    cat <<CFG
name = "$1"
type = "$2"
kernel = "/boot/vmlinuz"
ramdisk = "/boot/$4"
extra = "console=hvc0 rdinit=/init loglevel=7"
memory = $3
vcpus = 1
vif = []
disk = []
on_crash = "preserve"
CFG
}

# xen_dom0_initramfs WORK DOM0_MARKER DOMUS DUMPCORE : WORK/dom0.gz. DOMUS is a
# list of NAME:TYPE:MEM:MARKER; each domU's initramfs and xl config go into dom0's
# /boot and /etc/xen. DUMPCORE names the domU to `xl dump-core` (or is empty).
xen_dom0_initramfs() {
    local work=$1 marker=$2 domus=$3 dumpcore=$4
    local w="$work/dom0-root" m f d name type mem dmark kd_mod="$XEN_ROOT/lib/modules/$XEN_REL"
    rm -rf "$w"; mkdir -p "$w/bin" "$w/etc/xen" "$w/lib/modules" "$w/boot" "$w/run" "$w/var"
    ln -s ../run "$w/var/run"
    cp "$(busybox_bin)" "$w/bin/busybox"
    cp "$GEN_DIR/xen/dom0-init" "$w/init"; chmod 755 "$w/init"
    : > "$w/etc/modules.list"
    for m in $XEN_DOM0_MODULES; do
        f=$(find "$kd_mod" -name "$m.ko" | head -1)
        [ -n "$f" ] || { log "dom0 module $m not found (built in?)"; continue; }
        cp "$f" "$w/lib/modules/"; echo "$m.ko" >> "$w/etc/modules.list"
    done
    xen_copy_bins "$w" $XEN_BIN/xl $XEN_BIN/xenstored $XEN_BIN/xenconsoled $XEN_BIN/xen-init-dom0
    copy_with_libs "$w" /usr/sbin/kexec /usr/bin/timeout
    # xl needs libgcc_s (pthread_cancel); ldd does not list it.
    cp -Ln /lib/x86_64-linux-gnu/libgcc_s.so.1 "$w/lib/x86_64-linux-gnu/" 2>/dev/null \
        || { mkdir -p "$w/usr/lib/x86_64-linux-gnu"; cp -L /lib/x86_64-linux-gnu/libgcc_s.so.1 "$w/usr/lib/x86_64-linux-gnu/"; }
    cp "$XEN_KD/vmlinuz" "$w/boot/vmlinuz"
    cp "$work/capture.gz" "$w/boot/capture.gz"
    : > "$w/etc/xen/xl.conf"            # xl complains when it is missing
    : > "$w/etc/coroner-domus"
    for d in $domus; do
        IFS=: read -r name type mem dmark <<< "$d"
        xen_domu_initramfs "$type" "${dmark//_/ }" "$w/boot/$name.gz" "$name-alpha $name-bravo"
        xen_domu_cfg "$name" "$type" "$mem" "$name.gz" > "$w/etc/xen/$name.cfg"
        echo "$name" >> "$w/etc/coroner-domus"
    done
    echo "$dumpcore" > "$w/etc/coroner-dumpcore"
    echo "dom0-alpha dom0-bravo" > "$w/etc/coroner-names"
    ln -s busybox "$w/bin/dom0-alpha"; ln -s busybox "$w/bin/dom0-bravo"
    echo "$marker" > "$w/etc/coroner-marker"
    pack_initramfs "$w" "$work/dom0.gz"
    rm -rf "$w"
}

# xen_capture_initramfs WORK : WORK/capture.gz, the generic capture initramfs of
# guest.sh (busybox, virtio modules, generator/initramfs/init: dd /proc/vmcore to /dev/vda).
xen_capture_initramfs() {
    local work=$1 t="$1/capture-build"
    mkdir -p "$t"
    build_initramfs "$XEN_KD" kdump "unused" "$t" 1
    mv "$t/capture.gz" "$work/capture.gz"
    rm -rf "$t"
}

# xen_cut_elf DISK OUT : copy the ELF file at the start of DISK to OUT, as long as
# the farthest end of its program headers, section headers and sections.
xen_cut_elf() {
    local n
    n=$(python3 - "$1" <<'PY'
import struct, sys
f = open(sys.argv[1], 'rb'); h = f.read(64)
assert h[:4] == b'\x7fELF' and h[4] == 2, 'not ELF64'
phoff, shoff = struct.unpack_from('<QQ', h, 32)
phentsize, phnum, shentsize, shnum = struct.unpack_from('<HHHH', h, 54)
end = max(64, phoff + phentsize * phnum, shoff + shentsize * shnum)
for i in range(shnum):
    f.seek(shoff + i * shentsize); s = f.read(shentsize)
    typ, = struct.unpack_from('<I', s, 4); off, size = struct.unpack_from('<QQ', s, 24)
    if typ != 8: end = max(end, off + size)          # SHT_NOBITS has no bytes
for i in range(phnum):
    f.seek(phoff + i * phentsize); p = f.read(phentsize)
    off, = struct.unpack_from('<Q', p, 8); filesz, = struct.unpack_from('<Q', p, 32)
    end = max(end, off + filesz)
print(end)
PY
) || return 1
    head -c "$n" "$1" > "$2"
}

# xen_run WORK MEM_MB XEN_APPEND TIMEOUT : boot Xen + dom0 under QEMU TCG with three
# virtio disks (vda: the vmcore, vdb: dom0's tar of xl outputs, vdc: xl dump-core). Cuts the copied
# /proc/vmcore to WORK/vmcore.raw.elf and unpacks vdb into WORK/out/.
xen_run() {
    local work=$1 mem=$2 xappend=$3 t=$4 size
    rm -f "$work/vda.raw" "$work/vdb.raw" "$work/serial.log"
    truncate -s $((mem + 64))M "$work/vda.raw"
    truncate -s 512M "$work/vdb.raw" "$work/vdc.raw"
    XEN_QEMU_CMDLINE="qemu-system-x86_64 -machine pc -accel tcg,thread=single -cpu $XEN_CPU -smp 2 -m $mem -display none -no-reboot -kernel xen-4.17-amd64 -append '$xappend' -initrd 'vmlinuz $XEN_DOM0_APPEND,dom0.gz' -drive file=vda.raw,format=raw,if=none,id=d0 -device virtio-blk-pci,drive=d0 -drive file=vdb.raw,format=raw,if=none,id=d1 -device virtio-blk-pci,drive=d1 -drive file=vdc.raw,format=raw,if=none,id=d2 -device virtio-blk-pci,drive=d2 -serial file:serial.log -monitor none -net none"
    log "QEMU: $XEN_QEMU_CMDLINE"
    timeout --kill-after=10 "$t" qemu-system-x86_64 -machine pc -accel tcg,thread=single \
        -cpu "$XEN_CPU" -smp 2 -m "$mem" -display none -no-reboot \
        -kernel "${XEN_IMAGE:-$CACHE/xen/xen-4.17-amd64}" -append "$xappend" \
        -initrd "$XEN_KD/vmlinuz $XEN_DOM0_APPEND,$work/dom0.gz" \
        -drive file="$work/vda.raw",format=raw,if=none,id=d0 -device virtio-blk-pci,drive=d0 \
        -drive file="$work/vdb.raw",format=raw,if=none,id=d1 -device virtio-blk-pci,drive=d1 \
        -drive file="$work/vdc.raw",format=raw,if=none,id=d2 -device virtio-blk-pci,drive=d2 \
        -serial file:"$work/serial.log" -monitor none -net none || true
    rm -rf "$work/out"; mkdir -p "$work/out"
    tar -x -f "$work/vdb.raw" -C "$work/out" 2>/dev/null || log "no tar archive on vdb"
    rm -f "$work/vdb.raw"
    local dc; dc=$(tr -d '\r' < "$work/serial.log" | awk '/^CORONER-DUMPCORE-DONE/ {print $2}' | tail -1)
    if [ -n "$dc" ]; then
        xen_cut_elf "$work/vdc.raw" "$work/out/$dc.core" || log "vdc holds no ELF"
    fi
    rm -f "$work/vdc.raw"
    size=$(tr -d '\r' < "$work/serial.log" | awk '/^CORONER-VMCORE-SIZE/ {print $2}' | tail -1)
    [ -n "$size" ] || { log "no vmcore size on the console (see $work/serial.log)"; return 1; }
    head -c "$size" "$work/vda.raw" > "$work/vmcore.raw.elf"
    rm -f "$work/vda.raw"
}
