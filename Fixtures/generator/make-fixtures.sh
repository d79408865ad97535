#!/bin/bash
# Entry point of the coroner fixture generator. Run by hand, as root, on Debian 12:
#   Fixtures/generator/make-fixtures.sh [TARGET...]      (default: all)
# Targets: linux-6.1 qemu-6.1 linux-6.12-la57 linux-5.10 (committed; `all`),
#          linux-6.12 qemu-6.1-novmcoreinfo (not committed; `uncommitted`), `full` (both)
# Big files go to ${CORONER_FIXTURE_CACHE:-/var/tmp/coroner-fixture-cache}.
set -Eeuo pipefail
trap 'echo "make-fixtures: FAILED at ${BASH_SOURCE[0]}:$LINENO: $BASH_COMMAND" >&2' ERR
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/common.sh"
source "$here/lib/guest.sh"
source "$here/lib/tools.sh"
source "$here/lib/reference.sh"
source "$here/lib/fixture.sh"
source "$here/targets/kdump-sysrq.sh"
source "$here/targets/qemu-panic.sh"

# Host packages the generator needs (the rest is downloaded into the cache).
host_setup() {
    local need=()
    for p in qemu-system-x86 cpio kexec-tools makedumpfile python3-snappy python3-venv xz-utils zstd gcc libc6-dev; do
        dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || need+=("$p")
    done
    [ ${#need[@]} -eq 0 ] || { apt-get update -q; apt-get install -y -q "${need[@]}"; }
}

# Committed fixtures (target `all`) and the ones kept out of the repository
# (target `uncommitted`, written to $CACHE/uncommitted/ID). See Fixtures/README.md.
COMMITTED_TARGETS="linux-6.1 qemu-6.1 linux-6.12-la57 linux-5.10"
UNCOMMITTED_TARGETS="linux-6.12 qemu-6.1-novmcoreinfo"
K61='^linux-image-6\.1\.0-[0-9]+-amd64$'
K612='^linux-image-6\.12\.[0-9]+\+deb13-amd64$'
K510='^linux-image-5\.10\.0-[0-9]+-amd64$'

run_target() {
    local x
    case $1 in
        # kdump_fixture ID SUITE KERNEL MEM CRASHKERNEL FILTER "COMMITTED" "CACHE-ONLY" [QEMU ARGS]
        linux-6.1|linux-6.1-sysrq)  kdump_fixture linux-6.1-sysrq bookworm "$K61" 384 160M mdf172 "tar split" "zlib lzo zstd snappy zlib-flat" ;;
        linux-6.12-la57|linux-6.12-la57-sysrq) kdump_fixture linux-6.12-la57-sysrq trixie "$K612" 384 160M mdf178 "elf" "zlib" -cpu qemu64,+la57 ;;
        linux-5.10|linux-5.10-sysrq) kdump_fixture linux-5.10-sysrq bullseye "$K510" 384 160M mdf172 "elf" "zlib" ;;
        qemu-6.1|qemu-6.1-panic)   qemu_fixture qemu-6.1-panic bookworm "$K61" vmcoreinfo ;;
        # not committed (their folders go to $CACHE/uncommitted/)
        linux-6.12|linux-6.12-sysrq) ( export UNCOMMITTED=1; kdump_fixture linux-6.12-sysrq trixie "$K612" 384 160M mdf178 "elf zlib" "" ) ;;
        qemu-6.1-novmcoreinfo|qemu-6.1-panic-novmcoreinfo) ( export UNCOMMITTED=1; qemu_fixture qemu-6.1-panic-novmcoreinfo bookworm "$K61" novmcoreinfo ) ;;
        all) for x in $COMMITTED_TARGETS; do run_target "$x"; done ;;
        uncommitted) for x in $UNCOMMITTED_TARGETS; do run_target "$x"; done ;;
        full) for x in $COMMITTED_TARGETS $UNCOMMITTED_TARGETS; do run_target "$x"; done ;;
        *) die "unknown target $1 ($COMMITTED_TARGETS $UNCOMMITTED_TARGETS all uncommitted full)" ;;
    esac
}

[ "$(id -u)" = 0 ] || die "run as root (apt-get, QEMU images in the cache)"
host_setup
for t in "${@:-all}"; do
    t0=$SECONDS
    run_target "$t"
    log "target $t took $((SECONDS - t0)) s"
done
