# A Xen 4.17 hypervisor with DWARF (xen-syms) for crash's hypervisor mode.
# Debian's xen-hypervisor-4.17-amd64-dbg has symbols but no DWARF (CONFIG_DEBUG_INFO
# unset), so the bookworm `xen` source package is rebuilt with Debian's own
# hypervisor config (debian/xen-kconfig) plus CONFIG_EXPERT=y and
# CONFIG_DEBUG_INFO=y. The host dump must then be made with *that* hypervisor
# (make-xen.sh host-4.17 with XEN_HV=dwarf) so that its xen-syms matches.
# Source after common.sh and xen-common.sh.

XEN_SRC_DIR="$CACHE/xen/src"          # .dsc, tarballs, unpacked tree
XEN_SRC_APT="$CACHE/xen/apt-src"      # private apt state with deb-src lines
XEN_TOOLS_ROOT="$CACHE/xen/build-tools"   # flex, bison, m4 unpacked (not installed)

# xen_src_apt ARGS... : apt-get with the deb-src state.
xen_src_apt() {
    apt-get -q -o APT::Sandbox::User=root -o Dir::Etc::SourceList=/dev/null \
        -o Dir::Etc::SourceParts="$XEN_SRC_APT/parts" -o Dir::State::Lists="$XEN_SRC_APT/lists" \
        -o Dir::Cache="$XEN_SRC_APT/cache" -o Dir::State::status="$XEN_SRC_APT/status" \
        -o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts="$XEN_SRC_APT/prefs" "$@"
}

xen_src_apt_cache() {
    apt-cache -o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$XEN_SRC_APT/parts" \
        -o Dir::State::Lists="$XEN_SRC_APT/lists" -o Dir::Cache="$XEN_SRC_APT/cache" \
        -o Dir::State::status="$XEN_SRC_APT/status" "$@"
}

# xen_src_fetch : download and unpack the source package of the hypervisor
# version in use ($XEN_VERSION, from xen_prepare). Prints the source tree.
xen_src_fetch() {
    mkdir -p "$XEN_SRC_APT/parts" "$XEN_SRC_APT/lists/partial" "$XEN_SRC_APT/cache/archives/partial" \
        "$XEN_SRC_APT/prefs" "$XEN_SRC_DIR"
    touch "$XEN_SRC_APT/status"
    printf 'Types: deb-src\nURIs: %s\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: %s\n\nTypes: deb-src\nURIs: %s\nSuites: bookworm-security\nComponents: main\nSigned-By: %s\n' \
        "$DEBIAN_URI" "$KEYRING" "$DEBIAN_SEC_URI" "$KEYRING" > "$XEN_SRC_APT/parts/debian.sources"
    [ -n "$(ls "$XEN_SRC_APT/lists/"*Sources* 2>/dev/null)" ] || xen_src_apt update >/dev/null
    local tree v
    tree=$(ls -d "$XEN_SRC_DIR"/xen-*/ 2>/dev/null | head -1 || true)
    if [ -z "$tree" ]; then
        # The binary's own version first; the security archive's sources may be
        # missing from the mirror (404), then the newest other version.
        for v in "$XEN_VERSION" $(xen_src_apt_cache showsrc xen | awk '/^Version:/ {print $2}' | sort -rV); do
            log "downloading the xen source package $v"
            rm -f "$XEN_SRC_DIR"/*.dsc "$XEN_SRC_DIR"/*.tar.*
            (cd "$XEN_SRC_DIR" && xen_src_apt source --download-only "xen=$v" >/dev/null 2>&1) && break
            log "xen source $v not downloadable"
        done
        ls "$XEN_SRC_DIR"/*.dsc >/dev/null 2>&1 || die "no xen source package"
        (cd "$XEN_SRC_DIR" && dpkg-source -x --no-check ./*.dsc >/dev/null)
        tree=$(ls -d "$XEN_SRC_DIR"/xen-*/ | head -1)
    fi
    log "xen source tree: $tree"
    echo "${tree%/}"
}

# xen_build_tools : flex, bison and m4 from bookworm, unpacked; sets PATH etc.
xen_build_tools() {
    [ -x "$XEN_TOOLS_ROOT/usr/bin/bison" ] || deb_extract bookworm "$XEN_TOOLS_ROOT" flex bison m4 libfl2 libfl-dev
    export PATH="$XEN_TOOLS_ROOT/usr/bin:$PATH"
    export BISON_PKGDATADIR="$XEN_TOOLS_ROOT/usr/share/bison" M4="$XEN_TOOLS_ROOT/usr/bin/m4"
}

# Added to debian/xen-kconfig. CONFIG_EXPERT (needed for CONFIG_DEBUG_INFO) turns on
# SHADOW_PAGING, TBOOT, GDBSX and UNSUPPORTED by default; they are switched off again
# so that the rebuilt hypervisor has Debian's configuration apart from DWARF
# (SHADOW_PAGING changes struct domain). Compare $CACHE/xen/dwarf/config with
# $XEN_ROOT/boot/xen-4.17-amd64.config.
XEN_DWARF_EXTRA='CONFIG_EXPERT=y
CONFIG_DEBUG_INFO=y
# CONFIG_SHADOW_PAGING is not set
# CONFIG_TBOOT is not set
# CONFIG_GDBSX is not set
# CONFIG_UNSUPPORTED is not set'

# xen_build_dwarf : build the hypervisor with DWARF into $CACHE/xen/dwarf/
# (xen-4.17-amd64 = the ELF32 image QEMU boots, xen-syms = the DWARF ELF64, config).
xen_build_dwarf() {
    local out="$CACHE/xen/dwarf" tree
    if [ -s "$out/xen-syms" ] && [ -s "$out/xen-4.17-amd64" ] \
        && [ "$(cat "$out/extra-config" 2>/dev/null)" = "$XEN_DWARF_EXTRA" ]; then return 0; fi
    tree=$(xen_src_fetch) || die "xen source"
    [ -n "$tree" ] || die "xen source"
    xen_build_tools
    [ -f "$tree/debian/xen-kconfig" ] || die "no debian/xen-kconfig in $tree"
    make -C "$tree/xen" clean >/dev/null 2>&1 || true      # a rebuild with another config
    cp "$tree/debian/xen-kconfig" "$tree/xen/.config"
    printf '%s\n' "$XEN_DWARF_EXTRA" >> "$tree/xen/.config"
    make -C "$tree/xen" olddefconfig >/dev/null
    grep -q '^CONFIG_DEBUG_INFO=y' "$tree/xen/.config" || die "CONFIG_DEBUG_INFO did not stick"
    grep -q '^CONFIG_SHADOW_PAGING=y' "$tree/xen/.config" && die "CONFIG_SHADOW_PAGING came back"
    make -C "$tree/xen" -j2 > "$CACHE/xen/dwarf-build.log" 2>&1 || die "xen build failed (see $CACHE/xen/dwarf-build.log)"
    mkdir -p "$out"
    cp "$tree/xen/xen-syms" "$out/xen-syms"
    cp "$tree/xen/.config" "$out/config"
    printf '%s\n' "$XEN_DWARF_EXTRA" > "$out/extra-config"
    if [ -f "$tree/xen/xen.gz" ]; then gunzip -c "$tree/xen/xen.gz" > "$out/xen-4.17-amd64"; else cp "$tree/xen/xen" "$out/xen-4.17-amd64"; fi
}
