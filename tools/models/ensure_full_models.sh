#!/usr/bin/env bash
# Prints the paths of the full-size generated models (BERT-base, DistilBERT,
# GPT-2 small, ViT-base; both exporter forms), generating them first with
# tools/models/generate_models.py (torch, in its own venv .venv-export) when
# they are missing. They go to $KILN_MODELS_DIR (default build/models).
# Arguments restrict the families: ensure_full_models.sh bert gpt2
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir="${KILN_MODELS_DIR:-$root/build/models}"
families=("$@")
[ ${#families[@]} -gt 0 ] || families=(bert distilbert gpt2 vit)
missing=()
for family in "${families[@]}"; do
  for form in dynamo torchscript; do
    [ -f "$dir/$family-full.$form.onnx" ] || { missing+=("$family"); break; }
  done
done
if [ ${#missing[@]} -gt 0 ]; then
  venv="$root/.venv-export"
  if [ ! -x "$venv/bin/python" ]; then
    echo "generating ${missing[*]}: installing torch into .venv-export (several GB)" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q -r "$root/tools/models/requirements-export.txt" >&2
  fi
  "$venv/bin/python" "$root/tools/models/generate_models.py" --size full \
    --families "${missing[@]}" --out "$dir" >&2
fi
for family in "${families[@]}"; do
  for form in dynamo torchscript; do
    echo "$dir/$family-full.$form.onnx"
  done
done
