#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, and runs every test
# on the committed real-dump fixtures. Usage: bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
export PATH="$PATH:/opt/swift/usr/bin"
swift build -c release --build-tests -Xswiftc -enable-testing
swift test -c release --skip-build -Xswiftc -enable-testing
