#!/usr/bin/env bash
# coroner's main job on a bundled real dump: installs what is missing, builds
# a release binary, unpacks the kdump of a Debian 6.1 kernel that crashed
# (Fixtures/linux-6.1-sysrq) and prints its crash summary.
# Usage: bash scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
export PATH="$PATH:/opt/swift/usr/bin"
swift build -c release --static-swift-stdlib --product coroner >&2
mkdir -p .build/demo
dump=.build/demo/vmcore.d31.kdump
[ -f "$dump" ] || tar -xJf Fixtures/linux-6.1-sysrq/vmcores.tar.xz -C .build/demo vmcore.d31.kdump
status=0
.build/release/coroner summary "$dump" || status=$?
# 2 means a partial answer (the report says what is missing): still a report.
[ "$status" -eq 0 ] || [ "$status" -eq 2 ]
