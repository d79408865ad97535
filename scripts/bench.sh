#!/usr/bin/env bash
# The benchmark harness: builds coroner (release, static stdlib), then
#  1. reads every present page of the zstd and zlib fixtures and compares with
#     decompressing the same page data with the same library (coroner-bench);
#  2. runs coroner dmesg, ps and summary beside vmcore-dmesg, makedumpfile,
#     drgn and crash on the same dumps, printing time and peak-memory ratios.
# Usage: bash scripts/bench.sh [DUMP ...]   (default: the committed 6.1 fixture
# and, when the generator's cache has it, the raw 6.1 kdump)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/opt/swift/usr/bin"
swift build -c release --static-swift-stdlib --product coroner >&2
swift build -c release --static-swift-stdlib --product coroner-bench >&2
cache=${CORONER_FIXTURE_CACHE:-/var/tmp/coroner-fixture-cache}
echo "== page reading: coroner vs the decompression library alone"
for dump in Fixtures/linux-6.1-sysrq/vmcore.d31.zstd*.kdump Fixtures/linux-6.1-sysrq/vmcore.d31.zlib*.kdump; do
  [ -f "$dump" ] && .build/release/coroner-bench "$dump" 5
done
if [ $# -eq 0 ]; then
  set -- Fixtures/linux-6.1-sysrq/vmcore.d31.zlib.kdump
  [ -f "$cache/dumps/linux-6.1-sysrq/vmcore.raw.elf" ] && set -- "$cache/dumps/linux-6.1-sysrq/vmcore.raw.elf" "$@"
fi
python3 Benchmarks/bench.py --coroner .build/release/coroner "$@"
