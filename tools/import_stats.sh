#!/usr/bin/env bash
# Prints the import time and peak memory of BERT-base (both exporter forms)
# or of the models given, generating BERT-base when it is missing
# (tools/models/ensure_full_models.sh).
# Targets from the foundation issue: <= 10 s and <= 2 GB for BERT-base.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${KILN_BUILD_DIR:-$root/build}/bin"
models=("$@")
if [ ${#models[@]} -eq 0 ]; then
  mapfile -t models < <("$root/tools/models/ensure_full_models.sh" bert)
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
