#!/usr/bin/env bash
# The fuzz targets in the normal build (the fuzz-replay ctest, which CI
# runs): each replays its seed corpus and a few thousand mutations through
# fuzz/ReplayDriver.cpp. A crash, abort or hang fails it.
#   fuzz/replay.sh <bin dir> <python with onnx> <work dir> [runs]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$1" python="$2" work="$3" runs="${4:-20000}"
rm -rf "$work"
mkdir -p "$work"
"$python" "$root/fuzz/make_import_seeds.py" "$work/import-seeds"
export TMPDIR="$work"
"$bin/kiln-fuzz-import-replay" -runs="$runs" -seed=1 "$work/import-seeds"
"$bin/kiln-fuzz-load-replay" -runs="$((runs * 10))" -seed=1 "$root/fuzz/corpus/load"
