#!/usr/bin/env bash
# README command 1: set up, build, and run Kiln's main job on the bundled
# BERT-tiny model: compile it to a shared library (symbolic batch and
# sequence dims kept), run it with the Kiln runtime, and check its outputs
# against ONNX Runtime at two sequence lengths from that one library.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/tools/setup.sh"
"$root/tools/build.sh"
bin="${KILN_BUILD_DIR:-$root/build}/bin"
model="${1:-$root/test/models/bert-tiny.dynamo.onnx}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
echo "== kiln compile $model"
"$bin/kiln" compile "$model" -o "$out/model.so"
echo "   wrote a $(wc -c <"$out/model.so")-byte library"
echo "== kiln run (random inputs, batch 1, sequence 128)"
"$bin/kiln" run "$out/model.so" --random-inputs --input-shape input_ids=1x128,attention_mask=1x128,token_type_ids=1x128 \
  --output-dir "$out/outputs"
echo "== outputs vs ONNX Runtime (atol = rtol = 1e-4)"
"$root/.venv/bin/python" "$root/tools/check_numerics.py" --kiln "$bin/kiln" \
  --kiln-run "$bin/kiln-run" "$model" --seq 8 128
