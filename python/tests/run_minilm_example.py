#!/usr/bin/env python3
"""Runs python/examples/minilm_embeddings.py (docs/python.md's ten-line
example) on the trained all-MiniLM-L6-v2 and checks what it prints: three
eval sentences' int8 embeddings whose cosine similarities are onnxruntime
fp32's to 0.02. The model is not committed (tools/models/ensure_minilm.sh
makes it in $KILN_MODELS_DIR or build/models); without it this exits 77,
which the ctest python-minilm-example reports as SKIPPED.
"""

import os
import pathlib
import subprocess
import sys
import tempfile

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
EXAMPLE = ROOT / "python" / "examples" / "minilm_embeddings.py"
MODEL = pathlib.Path(os.environ.get("KILN_MODELS_DIR", ROOT / "build" / "models")) / "minilm-l6.onnx"


def main():
    if not MODEL.is_file():
        print(f"SKIP: {MODEL} not found (tools/models/ensure_minilm.sh makes it)")
        return 77
    import onnxruntime as ort
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        (tmp / "build" / "models").mkdir(parents=True)
        (tmp / "build" / "models" / "minilm-l6.onnx").symlink_to(MODEL)
        (tmp / "data").symlink_to(ROOT / "data")
        out = subprocess.run([sys.executable, str(EXAMPLE)], cwd=tmp, capture_output=True,
                             text=True, check=True).stdout
    print(out, end="")
    shape, _, matrix = out.strip().partition(" [")
    got = np.array(eval("[" + matrix))  # the printed list of lists
    ids = [[int(t) for t in line.split()]
           for line in (ROOT / "data/sentences/eval.ids").read_text().splitlines()[:3]]
    input_ids = np.array([s + [0] * (max(map(len, ids)) - len(s)) for s in ids], np.int64)
    feeds = {"input_ids": input_ids, "attention_mask": (input_ids != 0).astype(np.int64),
             "token_type_ids": np.zeros_like(input_ids)}
    session = ort.InferenceSession(str(MODEL), providers=["CPUExecutionProvider"])
    (want,) = session.run(["sentence_embedding"], feeds)
    unit = want / np.linalg.norm(want.astype(np.float64), axis=1, keepdims=True)
    error = float(np.abs(got - unit @ unit.T).max())
    ok = shape == "(3, 384)" and error <= 0.02
    print(f"{'ok' if ok else 'FAILED'}: shape {shape}, cosine similarities within {error:.3f} "
          f"of onnxruntime fp32's (<= 0.02)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
