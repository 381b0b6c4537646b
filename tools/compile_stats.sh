#!/usr/bin/env bash
# Prints the compile time and peak memory of `kiln compile` on BERT-base (both
# exporter forms, generated when missing by tools/models/ensure_full_models.sh)
# or on the models given, each artifact's size, and the stripped size of the
# runtime library that loads them.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${KILN_BUILD_DIR:-$root/build}"
models=("$@")
if [ ${#models[@]} -eq 0 ]; then
  mapfile -t models < <("$root/tools/models/ensure_full_models.sh" bert)
fi
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
printf '%-40s %10s %12s %14s %14s\n' model "time (s)" "peak RSS" "weights" "artifact"
for model in "${models[@]}"; do
  lib="$out/$(basename "$model" .onnx).so"
  /usr/bin/time -f '%e %M' -o "$out/time" "$build/bin/kiln" compile "$model" -o "$lib" || {
    echo "$model: kiln compile failed"; exit 1; }
  read -r seconds kib <"$out/time"
  weights=$("$build/bin/kiln" import "$model" --summary 2>/dev/null |
            sed -n "s/.*constants holding [0-9]* elements, \([0-9.]* MiB\)).*/\1/p" | head -1)
  printf '%-40s %10s %8d MiB %14s %10d MiB\n' "$(basename "$model")" "$seconds" $((kib / 1024)) \
    "${weights:-?}" $(($(stat -c %s "$lib") / 1048576))
  rm -f "$lib"
done
runtime="$(readlink -f "$build/lib/libkiln_runtime.so")"
strip -o "$out/runtime.so" "$runtime"
echo "runtime library: $(basename "$runtime"), $(stat -c %s "$runtime") bytes," \
  "$(stat -c %s "$out/runtime.so") bytes stripped"
