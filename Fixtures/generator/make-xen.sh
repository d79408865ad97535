#!/bin/bash
# Xen crash dumps for coroner (work in progress: nothing is written under
# Fixtures/ yet; everything stays in $CACHE/xen/).
#
#   Fixtures/generator/make-xen.sh host-4.17 [reference]
#     host-4.17  Xen 4.17 (Debian 12 xen-hypervisor-4.17-amd64) + PV dom0 (Debian
#                12's 6.1 kernel) under QEMU TCG. dom0 starts the toolstack, creates
#                a PV domU and a PVH domU (each with its own marker and two named
#                sleepers), saves `xl list`, `xl vcpu-list`, `xl info`, `xl dmesg`,
#                and the domUs' console logs to a second virtio disk (a tar), and
#                (XEN_DUMPCORE=1) `xl dump-core` of the PV domU raw to a third one;
#                loads a capture kernel through
#                Xen's kexec (crashkernel=192M@256M), writes its marker and crashes
#                with sysrq-c; the capture kernel copies /proc/vmcore to a virtio disk.
#                Result: $CACHE/xen/host-4.17/{vmcore.raw.elf,out/,serial.log,run.txt}
#     reference  readelf -n of the host dump and Debian 13's crash 8.0.6 in dom0
#                mode (DWARF vmlinux of the -dbg package): sys, ps, log; on the
#                xc_core file too; and, for a dump made with XEN_HV=dwarf, crash's
#                hypervisor mode with the matching xen-syms: sys, doms, pcpus, vcpus, log
#                -> $WORK/reference/
#     xen-dwarf  rebuild the hypervisor from the bookworm `xen` source package with
#                CONFIG_DEBUG_INFO=y (lib/xen-syms.sh) -> $CACHE/xen/dwarf/
#
#   XEN_HV=dwarf boots that rebuilt hypervisor instead of Debian's binary (the
#   work folder then defaults to $CACHE/xen/host-4.17-dwarf and xen-syms is copied
#   beside the dump).
#
# Environment: CORONER_FIXTURE_CACHE, XEN_MEM (MiB, default 768), XEN_DOM0_MEM
#   (default 320M), XEN_PVH (1: also a PVH domU, default 1), XEN_DUMPCORE (1:
#   xl dump-core of the PV domU, default 1), XEN_TIMEOUT (s, default 1200),
#   XEN_CPU (QEMU -cpu, default qemu64,+svm,+npt), XEN_WORK (default $CACHE/xen/host-4.17),
#   XEN_HV (debian | dwarf). See xen/README.md for what works and the measurements.
source "$(dirname "$0")/lib/common.sh"
source "$GEN_DIR/lib/guest.sh"
source "$GEN_DIR/lib/xen-common.sh"
source "$GEN_DIR/lib/xen-syms.sh"

STAGE=${1:-host-4.17}
MEM=${XEN_MEM:-768}
DOM0_MEM=${XEN_DOM0_MEM:-320M}
XEN_HV=${XEN_HV:-debian}
if [ "$XEN_HV" = dwarf ]; then
    WORK=${XEN_WORK:-$CACHE/xen/host-4.17-dwarf}
    XEN_IMAGE="$CACHE/xen/dwarf/xen-4.17-amd64"
else
    WORK=${XEN_WORK:-$CACHE/xen/host-4.17}
fi
XEN_APPEND="console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all dom0_mem=$DOM0_MEM,max:$DOM0_MEM crashkernel=192M@256M noreboot watchdog=0 spec-ctrl=no console_to_ring conring_size=256k"
XEN_DOM0_APPEND="console=hvc0 earlyprintk=xen rdinit=/init loglevel=7"
TRIXIE_ROOT="$CACHE/tools/trixie-root"
mkdir -p "$WORK"

hex() { od -An -tx1 -N8 /dev/urandom | tr -d ' \n'; }

stage_host() {
    local t0=$SECONDS t1 domus pvm pvhm d0m
    TIMINGS="$WORK/timings.txt"; : > "$TIMINGS"
    timed prepare xen_prepare
    if [ "$XEN_HV" = dwarf ]; then
        timed xen-dwarf-build xen_build_dwarf
        cp "$CACHE/xen/dwarf/xen-syms" "$CACHE/xen/dwarf/config" "$WORK/"
    fi
    d0m="CORONER-MARKER xen-dom0 $(hex)"
    pvm="CORONER-MARKER_xen-pv-domu_$(hex)"
    domus="pvdomu:pv:96:$pvm"
    if [ "${XEN_PVH:-1}" = 1 ]; then
        pvhm="CORONER-MARKER_xen-pvh-domu_$(hex)"
        domus+=" pvhdomu:pvh:96:$pvhm"
    fi
    local dc=; [ "${XEN_DUMPCORE:-1}" = 1 ] && dc=pvdomu
    timed capture-initramfs xen_capture_initramfs "$WORK"
    timed dom0-initramfs xen_dom0_initramfs "$WORK" "$d0m" "$domus" "$dc"
    log "dom0.gz $(fsize "$WORK/dom0.gz") bytes, capture.gz $(fsize "$WORK/capture.gz") bytes"
    t1=$SECONDS
    xen_run "$WORK" "$MEM" "$XEN_APPEND" "${XEN_TIMEOUT:-1200}" || die "no dump"
    echo "qemu run (boot .. capture copied): $((SECONDS - t1)) s" >> "$TIMINGS"
    {
        if [ "$XEN_HV" = dwarf ]; then
            echo "xen: rebuilt from $(ls -d "$XEN_SRC_DIR"/*.dsc | xargs -n1 basename) with CONFIG_DEBUG_INFO=y (xen-syms beside the dump); toolstack $XEN_VERSION"
        else
            echo "xen: xen-hypervisor-4.17-amd64 $XEN_VERSION (gunzipped)"
        fi
        echo "kernel: linux-image-$XEN_REL $KERNEL_VERSION (dom0, domUs, capture)"
        echo "memory: ${MEM} MiB, dom0_mem=$DOM0_MEM"
        echo "xen command line: $XEN_APPEND"
        echo "dom0 command line: $XEN_DOM0_APPEND"
        echo "qemu: $XEN_QEMU_CMDLINE"
        echo "markers:"; echo "  $d0m"; for d in $domus; do IFS=: read -r _ _ _ m <<< "$d"; echo "  ${m//_/ }"; done
        echo "vmcore.raw.elf: $(fsize "$WORK/vmcore.raw.elf") bytes, sha256 $(sha256 "$WORK/vmcore.raw.elf")"
        for f in "$WORK"/out/*.core; do [ -e "$f" ] && echo "$(basename "$f"): $(fsize "$f") bytes, sha256 $(sha256 "$f")"; done
        echo "steps (dom0 uptime, s):"; tr -d '\r' < "$WORK/serial.log" | grep -a '^CORONER-STEP' | sed 's/^/  /'
        echo "timings:"; sed 's/^/  /' "$TIMINGS"
        echo "total: $((SECONDS - t0)) s"
    } > "$WORK/run.txt"
    cat "$WORK/run.txt" >&2
}

crash806() {
    "$TRIXIE_ROOT/usr/lib64/ld-linux-x86-64.so.2" --library-path "$TRIXIE_ROOT/usr/lib/x86_64-linux-gnu" \
        "$TRIXIE_ROOT/usr/bin/crash" "$@"
}

stage_reference() {
    local r="$WORK/reference" vml
    mkdir -p "$r"
    [ -s "$WORK/vmcore.raw.elf" ] || die "run host-4.17 first"
    readelf -n "$WORK/vmcore.raw.elf" > "$r/readelf-n.txt"
    readelf -h -l -W "$WORK/vmcore.raw.elf" > "$r/readelf-hl.txt"
    vml=$(dbg_vmlinux "$XEN_SUITE" "$XEN_REL")
    local t0=$SECONDS
    printf 'sys\nps\nlog\nquit\n' > "$r/cmds"
    crash806 -s "$vml" "$WORK/vmcore.raw.elf" -i "$r/cmds" > "$r/crash-dom0.txt" 2>&1 < /dev/null || true
    echo "crash dom0 mode: $((SECONDS - t0)) s" >> "$WORK/timings.txt"
    if [ -s "$WORK/out/pvdomu.core" ]; then
        t0=$SECONDS
        crash806 -s "$vml" "$WORK/out/pvdomu.core" -i "$r/cmds" > "$r/crash-pvdomu-core.txt" 2>&1 < /dev/null || true
        echo "crash xc_core: $((SECONDS - t0)) s" >> "$WORK/timings.txt"
    fi
    if [ -s "$WORK/xen-syms" ]; then
        t0=$SECONDS
        printf 'sys\ndoms\npcpus\nvcpus\nlog\nquit\n' > "$r/cmds"
        crash806 -s "$WORK/xen-syms" "$WORK/vmcore.raw.elf" -i "$r/cmds" > "$r/crash-xen.txt" 2>&1 < /dev/null || true
        echo "crash hypervisor mode: $((SECONDS - t0)) s" >> "$WORK/timings.txt"
    fi
    rm -f "$r/cmds"
}

case $STAGE in
    host-4.17) stage_host; [ "${2:-}" = reference ] && stage_reference ;;
    reference) stage_reference ;;
    xen-dwarf) xen_prepare; xen_build_dwarf; ls -l "$CACHE/xen/dwarf" >&2 ;;
    *) die "usage: $0 host-4.17 [reference] | reference | xen-dwarf" ;;
esac
