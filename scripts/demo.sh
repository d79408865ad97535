#!/usr/bin/env bash
# coroner's main job on a bundled real dump: installs what is missing, builds
# a release binary, and reports on a real kdump of a crashed Debian 6.1 kernel.
# Usage: bash scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
export PATH="$PATH:/opt/swift/usr/bin"
swift build -c release --static-swift-stdlib >&2
dump=Fixtures/linux-6.1-sysrq/vmcore.d31.zlib.kdump
.build/release/coroner info "$dump"
