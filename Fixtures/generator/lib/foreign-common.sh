# Helpers for the foreign-architecture fixtures (arm64, i386): private apt
# states per (suite, architecture), guest initramfs, QEMU panic + QMP dump,
# and the expected/ outputs. Source this file; do not run it.
# Big files live in $FCACHE (outside the repository).
set -euo pipefail

FGEN_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)      # Fixtures/generator
FFIX_DIR=$(cd "$FGEN_DIR/.." && pwd)                           # Fixtures
FCACHE=${CORONER_FIXTURE_CACHE:-/var/tmp/coroner-fixture-cache}
mkdir -p "$FCACHE"

flog() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
fdie() { flog "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- apt
# One private state per SUITE-ARCH under $FCACHE/apt-foreign/: own sources,
# lists, cache and an empty dpkg status, APT::Architecture=ARCH (and no other
# architecture), so the host's apt configuration and dpkg database stay as they are.
FDEBIAN_URI=http://deb.debian.org/debian
FDEBIAN_SEC_URI=http://deb.debian.org/debian-security
FKEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

fapt_dir() { echo "$FCACHE/apt-foreign/$1-$2"; }

# fapt SUITE ARCH apt-get-ARGS...
fapt() {
    local suite=$1 arch=$2 d; shift 2; d=$(fapt_dir "$suite" "$arch")
    apt-get -q -o APT::Sandbox::User=root -o APT::Architecture="$arch" -o APT::Architectures="$arch" \
        -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$d/parts" \
        -o Dir::State::Lists="$d/lists" -o Dir::Cache="$d/cache" -o Dir::State::status="$d/status" \
        -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts="$d/prefs" "$@"
}
# fapt_cache SUITE ARCH apt-cache-ARGS...
fapt_cache() {
    local suite=$1 arch=$2 d; shift 2; d=$(fapt_dir "$suite" "$arch")
    apt-cache -o APT::Architecture="$arch" -o APT::Architectures="$arch" \
        -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$d/parts" \
        -o Dir::State::Lists="$d/lists" -o Dir::Cache="$d/cache" -o Dir::State::status="$d/status" \
        -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts="$d/prefs" "$@"
}

# fapt_setup SUITE ARCH : write the sources and update (at most once a day).
fapt_setup() {
    local suite=$1 arch=$2 d; d=$(fapt_dir "$suite" "$arch")
    mkdir -p "$d/parts" "$d/lists/partial" "$d/cache/archives/partial" "$d/prefs"
    : > "$d/status"
    cat > "$d/parts/debian.sources" <<EOF
Types: deb
URIs: $FDEBIAN_URI
Suites: $suite $suite-updates
Components: main
Architectures: $arch
Signed-By: $FKEYRING

Types: deb
URIs: $FDEBIAN_SEC_URI
Suites: $suite-security
Components: main
Architectures: $arch
Signed-By: $FKEYRING
EOF
    if [ -z "$(find "$d/lists" -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -1)" ]; then
        flog "apt update ($suite, $arch)"
        # An index that fails (seen: bookworm-security's i386 Packages.xz served with
        # another size than its InRelease names) is left out by apt; go on with the rest.
        if ! fapt "$suite" "$arch" update > "$d/update.log" 2>&1; then
            flog "WARNING: apt update ($suite, $arch) reported errors; those indexes are not used:"
            grep '^E:' "$d/update.log" | head -3 >&2
        fi
    fi
}

# fapt_errors SUITE ARCH : the errors of the last update (for PROVENANCE.md).
fapt_errors() { grep '^E: Failed' "$(fapt_dir "$1" "$2")/update.log" 2>/dev/null || true; }

# fpkg_version SUITE ARCH PKG : candidate version.
fpkg_version() { fapt_cache "$1" "$2" policy "$3" | awk '/Candidate:/ {print $2}'; }

# fnewest_pkg SUITE ARCH REGEX : newest package whose name matches REGEX (whole name).
fnewest_pkg() {
    fapt_cache "$1" "$2" pkgnames | grep -E "^($3)\$" | sort -V | tail -1
}

# fdeb SUITE ARCH PKG : download PKG (once) into $FCACHE/debs-foreign/SUITE-ARCH; print the path.
fdeb() {
    local suite=$1 arch=$2 pkg=$3 dir="$FCACHE/debs-foreign/$1-$2" ver f
    mkdir -p "$dir"
    ver=$(fpkg_version "$suite" "$arch" "$pkg")
    [ -n "$ver" ] && [ "$ver" != "(none)" ] || fdie "no package $pkg ($arch) in $suite"
    f=$(ls "$dir/${pkg}_${ver/:/%3a}_"*.deb 2>/dev/null | head -1 || true)
    if [ -z "$f" ]; then
        flog "downloading $pkg:$arch $ver ($suite)"
        (cd "$dir" && fapt "$suite" "$arch" download "$pkg:$arch=$ver" >/dev/null)
        f=$(ls "$dir/${pkg}_${ver/:/%3a}_"*.deb | head -1)
    fi
    echo "$f"
}

# fdeb_x SUITE ARCH ROOT PKG... : unpack packages into ROOT.
fdeb_x() {
    local suite=$1 arch=$2 root=$3 p; shift 3
    mkdir -p "$root"
    for p in "$@"; do dpkg-deb -x "$(fdeb "$suite" "$arch" "$p")" "$root"; done
}

# ---------------------------------------------------------------- kernel
# fkernel SUITE ARCH RELEASE MODULES... : vmlinuz, config and the named modules
# (with their dependencies from modules.dep, in load order, decompressed) under
# $FCACHE/kernel-foreign/RELEASE. Prints the folder.
fkernel() {
    local suite=$1 arch=$2 rel=$3; shift 3
    local kd="$FCACHE/kernel-foreign/$rel"
    if [ ! -s "$kd/vmlinuz" ] || [ "$(cat "$kd/modules/request" 2>/dev/null)" != "$*" ]; then
        rm -rf "$kd"; mkdir -p "$kd/root" "$kd/modules"
        fdeb_x "$suite" "$arch" "$kd/root" "linux-image-$rel"
        cp "$kd/root/boot/vmlinuz-$rel" "$kd/vmlinuz"
        cp "$kd/root/boot/config-$rel" "$kd/config"
        cp "$kd/root/boot/System.map-$rel" "$kd/System.map" 2>/dev/null || true
        local md="$kd/root/lib/modules/$rel" order="" m
        # depth-first over the modules' own "depends=" fields (the .deb has no
        # modules.dep: depmod runs at install time): dependencies load first
        _fdeps() {
            local name=$1 path dep
            path=$(cd "$md" && find kernel \( -name "$name.ko" -o -name "$name.ko.xz" -o -name "$name.ko.zst" \
                -o -name "${name//_/-}.ko" -o -name "${name//_/-}.ko.xz" -o -name "${name//_/-}.ko.zst" \) | head -1)
            [ -n "$path" ] || { flog "module $name: not a module in $rel (built in or absent)"; return 0; }
            local tmp; tmp=$(mktemp); case $path in
                *.xz) xz -dc "$md/$path" > "$tmp" ;; *.zst) zstd -qdc "$md/$path" > "$tmp" ;; *) cp "$md/$path" "$tmp" ;;
            esac
            for dep in $(tr '\0' '\n' < "$tmp" | grep -a '^depends=' | head -1 | cut -d= -f2 | tr ',' ' '); do _fdeps "$dep"; done
            rm -f "$tmp"
            case " $order " in *" $path "*) ;; *) order="$order $path" ;; esac
        }
        for m in "$@"; do _fdeps "$m"; done
        for m in $order; do
            local base; base=$(basename "$m"); base=${base%%.ko*}.ko
            case $m in
                *.xz) xz -dc "$md/$m" > "$kd/modules/$base" ;;
                *.zst) zstd -qdc "$md/$m" > "$kd/modules/$base" ;;
                *) cp "$md/$m" "$kd/modules/$base" ;;
            esac
            echo "$base" >> "$kd/modules/list"
        done
        touch "$kd/modules/list"
        echo "$*" > "$kd/modules/request"
        rm -rf "$kd/root"
    fi
    echo "$kd"
}

# ---------------------------------------------------------------- initramfs
# fbuild_initramfs BUSYBOX KDIR FIXTURE MARKER OUT.gz [EXTRA_DIR]
#   busybox-static, the modules of KDIR, foreign/init and its settings; EXTRA_DIR
#   (optional) is copied over the tree as is.
fbuild_initramfs() {
    local bb=$1 kd=$2 fixture=$3 marker=$4 out=$5 extra=${6:-}
    local w; w=$(mktemp -d "$FCACHE/initramfs.XXXXXX")
    mkdir -p "$w/bin" "$w/etc" "$w/lib/modules"
    cp "$bb" "$w/bin/busybox"
    cp "$FGEN_DIR/foreign/init" "$w/init"; chmod 755 "$w/init"
    cp "$FGEN_DIR/foreign/workload.sh" "$w/bin/workload.sh"; chmod 755 "$w/bin/workload.sh"
    cp "$kd"/modules/*.ko "$w/lib/modules/" 2>/dev/null || true
    cp "$kd/modules/list" "$w/etc/modules.list"
    echo "$fixture" > "$w/etc/coroner-fixture"
    echo "$marker" > "$w/etc/coroner-marker"
    [ -n "$extra" ] && cp -a "$extra/." "$w/"
    (cd "$w" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -9 > "$out"
    rm -rf "$w"
}

# ---------------------------------------------------------------- QMP
# fqmp SOCKET JSON... : send qmp_capabilities then each JSON command, print the answers.
fqmp() {
    /usr/bin/python3 - "$@" <<'PY'
import json, socket, sys, time
path, cmds = sys.argv[1], sys.argv[2:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
f = s.makefile("rw")
def answer():
    while True:
        line = f.readline()
        if not line:
            raise SystemExit("QMP closed")
        msg = json.loads(line)
        if "event" in msg:
            continue
        return msg
json.loads(f.readline())                      # greeting
for c in ['{"execute":"qmp_capabilities"}'] + cmds:
    f.write(c + "\n"); f.flush()
    a = answer()
    print(json.dumps(a))
    if "error" in a:
        raise SystemExit(1)
PY
}

# fwait_for FILE REGEX TIMEOUT : wait until FILE contains REGEX (returns 1 on timeout).
fwait_for() {
    local file=$1 re=$2 t=$3 i=0
    while [ "$i" -lt "$t" ]; do
        [ -f "$file" ] && tr -d '\r' < "$file" | grep -qE "$re" && return 0
        sleep 1; i=$((i + 1))
    done
    return 1
}

# fqemu_panic_dump OUTDIR TIMEOUT QEMU-BINARY ARGS...
#   starts QEMU (serial to OUTDIR/serial.log, QMP socket OUTDIR/qmp.sock), waits for
#   the kernel panic, then dumps with QMP into OUTDIR/vmcore.elf (and, when
#   $FDUMP_KDUMP=1, OUTDIR/vmcore.kdump-zlib.flat too). Sets FQEMU_CMDLINE.
fqemu_panic_dump() {
    local out=$1 t=$2 qbin=$3; shift 3
    local sock="$out/qmp.sock" pid rc=0
    rm -f "$sock" "$out/serial.log" "$out/vmcore.elf" "$out/vmcore.kdump-zlib.flat"
    local a; FQEMU_CMDLINE=$qbin
    for a in "$@"; do case $a in *' '*) FQEMU_CMDLINE+=" \"$a\"" ;; *) FQEMU_CMDLINE+=" $a" ;; esac; done
    FQEMU_CMDLINE+=" -serial file:serial.log -qmp unix:qmp.sock,server=on,wait=off -monitor none -display none"
    "$qbin" "$@" -serial file:"$out/serial.log" -qmp unix:"$sock",server=on,wait=off \
        -monitor none -display none > "$out/qemu.stdout" 2>&1 &
    pid=$!
    FBOOT_T0=$SECONDS
    if ! fwait_for "$out/serial.log" 'Kernel panic - not syncing' "$t"; then
        flog "no panic within $t s (see $out/serial.log)"
        kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
        return 1
    fi
    FBOOT_SECONDS=$((SECONDS - FBOOT_T0))
    flog "guest panicked after $FBOOT_SECONDS s; waiting 10 s for the console to settle"
    sleep 10
    local t0=$SECONDS
    fqmp "$sock" '{"execute":"query-dump-guest-memory-capability"}' \
        "{\"execute\":\"dump-guest-memory\",\"arguments\":{\"paging\":false,\"protocol\":\"file:$out/vmcore.elf\",\"format\":\"elf\"}}" \
        > "$out/qmp.log" || rc=1
    FDUMP_SECONDS=$((SECONDS - t0))
    if [ "${FDUMP_KDUMP:-0}" = 1 ] && [ $rc = 0 ]; then
        fqmp "$sock" "{\"execute\":\"dump-guest-memory\",\"arguments\":{\"paging\":false,\"protocol\":\"file:$out/vmcore.kdump-zlib.flat\",\"format\":\"kdump-zlib\"}}" \
            >> "$out/qmp.log" || flog "kdump-zlib dump failed (see $out/qmp.log)"
    fi
    fqmp "$sock" '{"execute":"quit"}' >> "$out/qmp.log" 2>&1 || true
    sleep 1; kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
    return $rc
}

# ---------------------------------------------------------------- expected/
# fvmcoreinfo ELF : the VMCOREINFO note's text (empty if none).
fvmcoreinfo() {
    /usr/bin/python3 - "$1" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read(1 << 20)      # headers and notes are at the start
cls, endian = data[4], "<" if data[5] == 1 else ">"
if cls == 2:
    phoff, = struct.unpack_from(endian + "Q", data, 0x20)
    phentsize, phnum = struct.unpack_from(endian + "HH", data, 0x36)
else:
    phoff, = struct.unpack_from(endian + "I", data, 0x1c)
    phentsize, phnum = struct.unpack_from(endian + "HH", data, 0x2a)
f = open(sys.argv[1], "rb")
for i in range(phnum):
    o = phoff + i * phentsize
    if cls == 2:
        ptype, _, off, _, _, filesz = struct.unpack_from(endian + "IIQQQQ", data, o)
    else:
        ptype, off, _, _, filesz = struct.unpack_from(endian + "IIIII", data, o)
    if ptype != 4:
        continue
    f.seek(off); notes = f.read(filesz); p = 0
    while p + 12 <= len(notes):
        nsz, dsz, ntype = struct.unpack_from(endian + "III", notes, p)
        name = notes[p + 12:p + 12 + nsz].rstrip(b"\0")
        d0 = p + 12 + ((nsz + 3) & ~3)
        desc = notes[d0:d0 + dsz]
        if name == b"VMCOREINFO":
            sys.stdout.write(desc.rstrip(b"\0").decode("ascii", "replace"))
        p = d0 + ((dsz + 3) & ~3)
PY
}

# fexpected DUMP OUTDIR ARCH FIXTURE MARKER : readelf.txt, vmcoreinfo.txt and facts.json
fexpected() {
    local dump=$1 ex=$2 arch=$3 fixture=$4 marker=$5
    mkdir -p "$ex"
    LC_ALL=C readelf -h -l -n "$dump" > "$ex/readelf.txt" 2>&1 || true
    fvmcoreinfo "$dump" > "$ex/vmcoreinfo.txt"
    [ -s "$ex/vmcoreinfo.txt" ] || rm -f "$ex/vmcoreinfo.txt"
    /usr/bin/python3 - "$dump" "$ex" "$arch" "$fixture" "$marker" <<'PY'
import json, os, re, subprocess, sys
dump, ex, arch, fixture, marker = sys.argv[1:]
hdr = subprocess.run(["readelf", "-h", "-l", "-n", "-W", dump], capture_output=True, text=True,
                     env={"LC_ALL": "C", "PATH": os.environ["PATH"]}).stdout
vi_path = os.path.join(ex, "vmcoreinfo.txt")
vi = open(vi_path).read() if os.path.exists(vi_path) else ""
kv = dict(l.split("=", 1) for l in vi.splitlines() if "=" in l)
elfclass = 64 if "ELF64" in hdr else 32
prstatus = len(re.findall(r"^\s+CORE\s+0x\S+\s+NT_PRSTATUS", hdr, re.M))
qemu_notes = len(re.findall(r"^\s+QEMU\s+0x\S+", hdr, re.M))
loads = re.findall(r"^\s+LOAD\s+(0x\S+)\s+(0x\S+)\s+(0x\S+)\s+(0x\S+)\s+(0x\S+)", hdr, re.M)
machine = re.search(r"Machine:\s+(.*)", hdr).group(1).strip()
facts = {
    "fixture": fixture,
    "arch": arch,
    "elfClass": elfclass,
    "elfMachine": machine,
    "elfType": re.search(r"Type:\s+(\S+)", hdr).group(1),
    "dumpFormat": "qemu-elf",
    "kernelRelease": kv.get("OSRELEASE"),
    "cpus": prstatus,
    "qemuCpuNotes": qemu_notes,
    "marker": marker,
    "hasVMCOREINFO": bool(vi),
    "pageSize": int(kv["PAGESIZE"]) if "PAGESIZE" in kv else None,
    "ptLoadCount": len(loads),
    "ptLoads": [{"offset": o, "vaddr": v, "paddr": p, "filesz": fs, "memsz": ms} for o, v, p, fs, ms in loads],
    "dumpSize": os.path.getsize(dump),
}
for key, name in (("KERNELOFFSET", "kernelOffset"), ("NUMBER(VA_BITS)", "vaBits"),
                  ("NUMBER(kimage_voffset)", "kimageVoffset"), ("NUMBER(PHYS_OFFSET)", "physOffset"),
                  ("CONFIG_X86_PAE", "x86Pae"), ("CRASHTIME", "crashTime"), ("BUILD-ID", "buildId")):
    if key in kv:
        facts[name] = kv[key]
open(os.path.join(ex, "facts.json"), "w").write(json.dumps(facts, indent=2) + "\n")
PY
}

# ftrim_serial IN OUT : console log from the kernel's first line to the end of the panic.
ftrim_serial() {
    tr -d '\r' < "$1" | awk '
        /Booting Linux|Linux version/ && !started { started = 1 }
        started { print }
        /end Kernel panic - not syncing/ { exit }' > "$2"
}

# fprov_section FILE HEADING : replace the "## HEADING" section of FILE (up to the
# next "## " heading) by stdin, or append it; stdin starts with the heading line.
fprov_section() {
    local file=$1 heading=$2 new; new=$(cat)
    NEW="$new" /usr/bin/python3 - "$file" "## $heading" <<'PY'
import os, sys
path, heading = sys.argv[1], sys.argv[2]
lines = open(path).read().rstrip("\n").split("\n")
out, skip = [], False
for l in lines:
    if l.startswith("## "):
        skip = l.startswith(heading)
    if not skip:
        out.append(l)
while out and out[-1] == "":
    out.pop()
open(path, "w").write("\n".join(out) + "\n\n" + os.environ["NEW"].strip("\n") + "\n")
PY
}

# Files of a fixture folder that these generators write. Others' files in the
# folder (e.g. expected/ files another tool derives from the vmlinux) are kept.
FOWNED="vmcore.elf.xz vmcore.kdump-zlib.flat.xz PROVENANCE.md WHY-NOT.md expected/readelf.txt
expected/facts.json expected/vmcoreinfo.txt expected/serial.log expected/kdump-zlib-head.txt
expected/vmcore-dmesg.txt expected/crash.txt expected/drgn.json expected/qemu-elf-readelf.txt"

# fpublish NEW OUT : a new dump's files from NEW replace ours in OUT (our files that
# NEW lacks were made from the old dump and are removed); other files stay.
fpublish() {
    local new=$1 out=$2 f
    mkdir -p "$out"
    for f in $FOWNED; do [ -e "$new/$f" ] || rm -f "$out/$f"; done
    cp -a "$new/." "$out/"
    rm -rf "$new"
    local others; others=$(cd "$out" && find . -type f | sed 's|^\./||' | grep -vxF -f <(printf '%s\n' $FOWNED) || true)
    [ -z "$others" ] || flog "kept files of others in $out: $(echo $others)"
}
