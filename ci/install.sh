#!/usr/bin/env bash
# Installs every Debian package weft's build, tests, benchmarks and main job
# need, skipping what is already there. Safe to run again.
#   ci/install.sh            # everything
#   WEFT_NO_GO=1 ci/install.sh   # without the Go toolchain (benchmark baselines only)
set -euo pipefail

packages=(
  g++ clang cmake ninja-build pkg-config
  libgtest-dev libgmock-dev librapidcheck-dev
  libbenchmark-dev libbenchmark-tools python3 python3-scipy
  libboost-context-dev libboost-fiber-dev libboost-stacktrace-dev
)
[[ "${WEFT_NO_GO:-0}" == 1 ]] || packages+=(golang-go)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "ci/install.sh: all ${#packages[@]} packages already installed"
  exit 0
fi

echo "ci/install.sh: installing ${missing[*]}"
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "ci/install.sh: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
