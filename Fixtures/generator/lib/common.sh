# Shared helpers for the coroner fixture generator. Source this file; do not run it.
# Everything big lives in $CACHE, outside the repository.
set -euo pipefail

GEN_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)       # Fixtures/generator
FIXTURES_DIR=$(cd "$GEN_DIR/.." && pwd)                         # Fixtures
CACHE=${CORONER_FIXTURE_CACHE:-/var/tmp/coroner-fixture-cache}
mkdir -p "$CACHE"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- private apt
# Each Debian suite gets its own apt state under $CACHE/apt/SUITE (sources,
# lists, cache, empty dpkg status), so the system's apt is never touched.
DEBIAN_URI=http://deb.debian.org/debian
DEBIAN_SEC_URI=http://deb.debian.org/debian-security
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

apt_state_dir() { echo "$CACHE/apt/$1"; }

# apt_private SUITE ARGS... : run apt-get with SUITE's private state.
apt_private() {
    local suite=$1; shift
    local d; d=$(apt_state_dir "$suite")
    apt-get -q -o APT::Sandbox::User=root -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$d/parts" \
        -o Dir::State::Lists="$d/lists" -o Dir::Cache="$d/cache" \
        -o Dir::State::status="$d/status" -o Dir::Etc::Preferences=/dev/null \
        -o Dir::Etc::PreferencesParts="$d/prefs" "$@"
}
apt_cache_private() {
    local suite=$1; shift
    local d; d=$(apt_state_dir "$suite")
    apt-cache -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$d/parts" \
        -o Dir::State::Lists="$d/lists" -o Dir::Cache="$d/cache" \
        -o Dir::State::status="$d/status" -o Dir::Etc::Preferences=/dev/null \
        -o Dir::Etc::PreferencesParts="$d/prefs" "$@"
}

# apt_setup SUITE : write the sources for SUITE and run `update` (once a day).
apt_setup() {
    local suite=$1 d; d=$(apt_state_dir "$suite")
    mkdir -p "$d/parts" "$d/lists/partial" "$d/cache/archives/partial" "$d/prefs"
    touch "$d/status"
    local suites="$suite $suite-updates" sec="$suite-security"
    [ "$suite" = sid ] && { suites=sid; sec=; }
    {
        printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: %s\n' \
            "$DEBIAN_URI" "$suites" "$KEYRING"
        [ -n "$sec" ] && printf '\nTypes: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: %s\n' \
            "$DEBIAN_SEC_URI" "$sec" "$KEYRING"
    } > "$d/parts/debian.sources"
    if [ -z "$(find "$d/lists" -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -1)" ]; then
        log "apt update ($suite)"
        apt_private "$suite" update >/dev/null
    fi
}

# pkg_version SUITE PKG : candidate version of PKG in SUITE.
pkg_version() {
    apt_cache_private "$1" policy "$2" | awk '/Candidate:/ {print $2}'
}

# newest_pkg SUITE REGEX : newest package name matching REGEX (sorted by version).
newest_pkg() {
    apt_cache_private "$1" search --names-only "$2" | awk '{print $1}' | grep -E "$2" | sort -V | tail -1
}

# deb_fetch SUITE PKG : download PKG's .deb into $CACHE/debs/SUITE (reused if
# present) and print its path.
deb_fetch() {
    local suite=$1 pkg=$2 dir="$CACHE/debs/$1" ver f
    mkdir -p "$dir"
    ver=$(pkg_version "$suite" "$pkg")
    [ -n "$ver" ] && [ "$ver" != "(none)" ] || die "no package $pkg in $suite"
    f=$(ls "$dir/${pkg}_${ver/:/%3a}_"*.deb 2>/dev/null | head -1 || true)
    if [ -z "$f" ]; then
        log "downloading $pkg $ver ($suite)"
        (cd "$dir" && apt_private "$suite" download "$pkg=$ver" >/dev/null)
        f=$(ls "$dir/${pkg}_${ver/:/%3a}_"*.deb | head -1)
    fi
    echo "$f"
}

# deb_extract SUITE ROOT PKG... : fetch and unpack packages into ROOT.
deb_extract() {
    local suite=$1 root=$2; shift 2
    mkdir -p "$root"
    local p
    for p in "$@"; do dpkg-deb -x "$(deb_fetch "$suite" "$p")" "$root"; done
}

# run_unpacked ROOT BIN ARGS... : run an unpacked binary with ROOT's loader and libraries.
run_unpacked() {
    local root=$1 bin=$2; shift 2
    "$root/usr/lib64/ld-linux-x86-64.so.2" --library-path \
        "$root/usr/lib/x86_64-linux-gnu:$root/lib/x86_64-linux-gnu" "$root$bin" "$@"
}

# ---------------------------------------------------------------- initramfs
# copy_with_libs DEST BIN... : copy host binaries and every library ldd lists.
copy_with_libs() {
    local dest=$1; shift
    local b l
    for b in "$@"; do
        mkdir -p "$dest$(dirname "$b")"; cp -L "$b" "$dest$b"
        for l in $(ldd "$b" 2>/dev/null | grep -oE '/[^ ]+\.so[^ ]*'); do
            mkdir -p "$dest$(dirname "$l")"; cp -Ln "$l" "$dest$l"
        done
    done
}

# pack_initramfs DIR OUT.gz : newc cpio of DIR, gzipped.
pack_initramfs() {
    (cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | gzip -9 > "$2"
}

# ---------------------------------------------------------------- QEMU
# qemu_run TIMEOUT_SECONDS ARGS... : qemu-system-x86_64 under TCG with a hard timeout.
qemu_run() {
    local t=$1; shift
    timeout --kill-after=10 "$t" qemu-system-x86_64 -accel tcg "$@"
}

# ---------------------------------------------------------------- misc
sha256() { sha256sum "$1" | awk '{print $1}'; }
fsize() { stat -c %s "$1"; }
xz_big() { xz -T1 -k -f --lzma2=preset=9e,dict=256MiB "$1"; }   # keeps the input

# timed NAME CMD... : run CMD and append "NAME: Ns" to $TIMINGS (if set).
timed() {
    local name=$1 t0=$SECONDS; shift
    "$@"
    [ -n "${TIMINGS:-}" ] && echo "$name: $((SECONDS - t0)) s" >> "$TIMINGS"
    return 0
}

# dbg_vmlinux SUITE RELEASE : DWARF vmlinux of linux-image-RELEASE from its -dbg
# package, extracted alone into $CACHE/vmlinux/ (the .deb stays in the cache).
dbg_vmlinux() {
    local suite=$1 rel=$2 out="$CACHE/vmlinux/vmlinux-$2"
    if [ ! -s "$out" ]; then
        local deb; deb=$(deb_fetch "$suite" "linux-image-$rel-dbg")
        mkdir -p "$CACHE/vmlinux/tmp.$$"
        dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$CACHE/vmlinux/tmp.$$" "./usr/lib/debug/boot/vmlinux-$rel"
        mv "$CACHE/vmlinux/tmp.$$/usr/lib/debug/boot/vmlinux-$rel" "$out"
        rm -rf "$CACHE/vmlinux/tmp.$$"
    fi
    echo "$out"
}
