#!/usr/bin/env bash
# Installs what coroner needs to build and test on Debian 12, if missing:
# the -dev packages of the C libraries it links (elfutils' libelf and libdw,
# zlib, liblzo2, snappy, libzstd, liblzma) and pkg-config.
set -euo pipefail
needed=(pkg-config libdw-dev libelf-dev zlib1g-dev liblzo2-dev libsnappy-dev
  libzstd-dev liblzma-dev xz-utils tar)
missing=()
for package in "${needed[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "coroner: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
  echo "export PATH=\$PATH:/opt/swift/usr/bin" >&2
fi
