#!/usr/bin/env bash
# Configures (once) and builds Kiln into build/ with Ninja, using ccache.
# Extra arguments go to CMake at configure time, e.g. -DKILN_ENABLE_SANITIZERS=ON.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${KILN_BUILD_DIR:-$root/build}"
export CCACHE_BASEDIR="$root"
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/kiln-ccache}"
export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-5G}"
if [ ! -f "$build/build.ninja" ] || [ $# -gt 0 ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
fi
jobs="${KILN_BUILD_JOBS:-$(nproc)}"
cmake --build "$build" -j "$jobs"
