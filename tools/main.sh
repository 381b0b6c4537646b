#!/usr/bin/env bash
# README command 1: set up, build, and run Kiln's main job on the bundled
# BERT-tiny model. Today that job is the import: the model becomes kiln IR,
# which kiln-opt verifies, and a summary is printed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/tools/setup.sh"
"$root/tools/build.sh"
bin="${KILN_BUILD_DIR:-$root/build}/bin"
model="${1:-$root/test/models/bert-tiny.dynamo.onnx}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
echo "== kiln import $model"
"$bin/kiln" import "$model" -o "$out/model.mlir" --summary --stats
"$bin/kiln-opt" "$out/model.mlir" --verify-each -o /dev/null
echo "== the imported IR verifies ($(wc -c <"$out/model.mlir") bytes of MLIR)"
