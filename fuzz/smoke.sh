#!/usr/bin/env bash
# The fuzzers' smoke run (the fuzz-smoke ctest of a -DKILN_FUZZ=ON build):
# each target replays its seed corpus, then mutates it for a few thousand
# executions. Any crash, sanitizer report, leak or timeout fails it.
#   fuzz/smoke.sh <bin dir> <python with onnx> <work dir> [runs]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$1" python="$2" work="$3" runs="${4:-2000}"
rm -rf "$work"
mkdir -p "$work/import" "$work/load"
"$python" "$root/fuzz/make_import_seeds.py" "$work/import-seeds"
cp "$root"/fuzz/corpus/load/*.bin "$work/load/"
export TMPDIR="$work"
# -max_total_time bounds each run; both stop early after `runs` executions.
"$bin/kiln-fuzz-import" -runs="$runs" -max_total_time=30 -timeout=10 -rss_limit_mb=4096 \
  -max_len=65536 "$work/import" "$work/import-seeds"
"$bin/kiln-fuzz-load" -runs="$((runs * 10))" -max_total_time=20 -timeout=10 \
  -max_len=65536 "$work/load"
