#!/usr/bin/env bash
# Prints the import time and peak memory of BERT-base (and any other model
# given), generating BERT-base with tools/models/generate_models.py (torch,
# in its own venv .venv-export) when build/models lacks it.
# Targets from the foundation issue: <= 10 s and <= 2 GB for BERT-base.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${KILN_BUILD_DIR:-$root/build}/bin"
models=("$@")
if [ ${#models[@]} -eq 0 ]; then
  for form in dynamo torchscript; do
    models+=("$root/build/models/bert-full.$form.onnx")
  done
  if [ ! -f "${models[0]}" ] || [ ! -f "${models[1]}" ]; then
    venv="$root/.venv-export"
    if [ ! -x "$venv/bin/python" ]; then
      python3 -m venv "$venv"
      "$venv/bin/pip" install -q -r "$root/tools/models/requirements-export.txt"
    fi
    "$venv/bin/python" "$root/tools/models/generate_models.py" --size full \
      --families bert --out "$root/build/models"
  fi
fi
printf '%-45s %10s %12s %s\n' model "time (s)" "peak RSS" "ops"
for model in "${models[@]}"; do
  stats=$("$bin/kiln" import "$model" --summary --stats 2>&1 >/tmp/kiln-summary.$$) || {
    echo "$model: import failed:"; echo "$stats"; exit 1; }
  ops=$(grep -m1 '^  ops:' /tmp/kiln-summary.$$ | sed 's/^  ops: //')
  rm -f /tmp/kiln-summary.$$
  t=$(echo "$stats" | sed -n 's/.*import time: \([0-9.]*\) s.*/\1/p')
  rss=$(echo "$stats" | sed -n 's/.*peak RSS: \([0-9]*\) MiB.*/\1/p')
  printf '%-45s %10s %9s MiB %s\n' "$(basename "$model")" "$t" "$rss" "$ops"
done
