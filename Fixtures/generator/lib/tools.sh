# Reference and conversion tools that are not Debian 12's own: run unpacked from
# Debian 13 (trixie) and unstable (sid), plus drgn from PyPI in a venv.
# Source after common.sh.

TRIXIE_ROOT="$CACHE/tools/trixie-root"
SID_ROOT="$CACHE/tools/sid-root"
DRGN_VENV="$CACHE/tools/drgn-venv"
DRGN_VERSION=0.3.0

# Libraries (by Debian package) that crash and makedumpfile need (readelf -d NEEDED).
TOOL_LIBS="libc6 libncursesw6 libtinfo6 liblzo2-2 libsnappy1v5 libzstd1 libstdc++6 libgcc-s1 zlib1g libdw1t64 libelf1t64 libbz2-1.0 liblzma5"

tools_setup() {
    if [ ! -x "$TRIXIE_ROOT/usr/bin/crash" ]; then
        apt_setup trixie
        deb_extract trixie "$TRIXIE_ROOT" crash makedumpfile $TOOL_LIBS
    fi
    if [ ! -x "$SID_ROOT/usr/bin/makedumpfile" ]; then
        apt_setup sid
        deb_extract sid "$SID_ROOT" makedumpfile libc6 libzstd1 liblzo2-2 libdw1t64 libelf1t64 zlib1g libbz2-1.0 liblzma5
    fi
    if [ ! -x "$DRGN_VENV/bin/drgn" ]; then
        /usr/bin/python3 -m venv "$DRGN_VENV"
        "$DRGN_VENV/bin/pip" install -q "drgn==$DRGN_VERSION"
    fi
}

crash806() { run_unpacked "$TRIXIE_ROOT" /usr/bin/crash "$@"; }          # crash 8.0.6 (trixie)
mdf176()   { run_unpacked "$TRIXIE_ROOT" /usr/bin/makedumpfile "$@"; }   # makedumpfile 1.7.6 (trixie)
mdf178()   { run_unpacked "$SID_ROOT" /usr/bin/makedumpfile "$@"; }      # makedumpfile 1.7.8 (sid)
mdf172()   { /usr/bin/makedumpfile "$@"; }                                # makedumpfile 1.7.2 (bookworm, host)
drgn_py()  { "$DRGN_VENV/bin/python3" "$@"; }

tool_versions() {
    echo "- makedumpfile (host, Debian 12): $(dpkg-query -W -f '${Version}' makedumpfile)"
    echo "- makedumpfile (Debian 13, unpacked): $(pkg_version trixie makedumpfile)"
    echo "- makedumpfile (Debian sid, unpacked): $(pkg_version sid makedumpfile)"
    echo "- crash (Debian 13, unpacked): $(pkg_version trixie crash), libc6 $(pkg_version trixie libc6)"
    echo "- kexec-tools / vmcore-dmesg (host): $(dpkg-query -W -f '${Version}' kexec-tools)"
    echo "- qemu-system-x86 (host): $(dpkg-query -W -f '${Version}' qemu-system-x86)"
    echo "- drgn (PyPI, venv): $("$DRGN_VENV/bin/pip" show drgn 2>/dev/null | awk '/^Version/ {print $2}')"
    echo "- python3-snappy (host): $(dpkg-query -W -f '${Version}' python3-snappy)"
    echo "- xz-utils (host): $(dpkg-query -W -f '${Version}' xz-utils)"
}
