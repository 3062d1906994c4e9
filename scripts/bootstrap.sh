#!/usr/bin/env bash
# Installs the Debian packages orderlog builds with, only when one is missing.
# Idempotent and silent when everything is present; safe to call from every script.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  liburing-dev libxxhash-dev robin-map-dev flatbuffers-compiler libflatbuffers-dev
  libasio-dev libcli11-dev libfmt-dev libtomlplusplus-dev libjemalloc-dev
  libgtest-dev libgmock-dev libbenchmark-dev
)
# Optional extras for the benchmark harness (fio measures the disk baseline).
if [[ "${ORDERLOG_BENCH_DEPS:-0}" == "1" ]]; then
  packages+=(fio redis-server redis-tools)
fi

missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "bootstrap: installing ${missing[*]}" >&2
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq >/dev/null
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
