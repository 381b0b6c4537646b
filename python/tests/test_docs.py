"""docs/python.md's examples are python/examples/*.py, verbatim, and they
run (the MiniLM one when its model is there)."""

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import kiln
from conftest import ROOT

EXAMPLE = ROOT / "python" / "examples" / "quickstart.py"
MINILM_EXAMPLE = ROOT / "python" / "examples" / "minilm_embeddings.py"
MINILM_MODEL = pathlib.Path(os.environ.get("KILN_MODELS_DIR", ROOT / "build" / "models")) / "minilm-l6.onnx"


@pytest.mark.parametrize("example", [EXAMPLE, MINILM_EXAMPLE], ids=lambda p: p.name)
def test_doc_copy_matches(example):
    doc = (ROOT / "docs" / "python.md").read_text()
    begin = f"<!-- example: python/examples/{example.name} -->\n```python\n"
    assert begin in doc, f"docs/python.md lost its {example.name} block"
    block = doc.split(begin, 1)[1].split("```\n", 1)[0]
    assert block == example.read_text(), (
        f"docs/python.md's example differs from python/examples/{example.name}; copy it over")


def test_example_runs(tmp_path):
    (tmp_path / "test").symlink_to(ROOT / "test")  # the example's model path
    env = dict(os.environ, PYTHONPATH=str(pathlib.Path(kiln.__file__).resolve().parent.parent))
    out = subprocess.run([sys.executable, str(EXAMPLE)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == [
        "input_ids ['batch', 'sequence'] tensor(int64)",
        "attention_mask ['batch', 'sequence'] tensor(int64)",
        "token_type_ids ['batch', 'sequence'] tensor(int64)",
        "(1, 4, 128) (1, 128)",
    ]
    assert (tmp_path / "bert-tiny.so").exists()


def test_minilm_example_runs(tmp_path):
    """The ten-line example on the trained all-MiniLM-L6-v2: three eval
    sentences' embeddings (int8) whose cosine similarities are those of
    fp32 onnxruntime to 0.02 (the model is not committed: made by
    tools/models/ensure_minilm.sh, as for the ctest minilm-numerics)."""
    if not MINILM_MODEL.is_file():
        pytest.skip(f"{MINILM_MODEL} not found (tools/models/ensure_minilm.sh makes it)")
    (tmp_path / "build" / "models").mkdir(parents=True)
    (tmp_path / "build" / "models" / "minilm-l6.onnx").symlink_to(MINILM_MODEL)
    (tmp_path / "data").symlink_to(ROOT / "data")
    env = dict(os.environ, PYTHONPATH=str(pathlib.Path(kiln.__file__).resolve().parent.parent))
    out = subprocess.run([sys.executable, str(MINILM_EXAMPLE)], cwd=tmp_path, env=env,
                         capture_output=True, text=True, check=True).stdout
    shape, _, matrix = out.strip().partition(" [")
    assert shape == "(3, 384)"
    got = np.array(eval("[" + matrix))  # the printed list of lists
    import onnxruntime as ort
    ids = [[int(t) for t in line.split()]
           for line in (ROOT / "data/sentences/eval.ids").read_text().splitlines()[:3]]
    input_ids = np.array([s + [0] * (max(map(len, ids)) - len(s)) for s in ids], np.int64)
    feeds = {"input_ids": input_ids, "attention_mask": (input_ids != 0).astype(np.int64),
             "token_type_ids": np.zeros_like(input_ids)}
    session = ort.InferenceSession(str(MINILM_MODEL), providers=["CPUExecutionProvider"])
    (want,) = session.run(["sentence_embedding"], feeds)
    unit = want / np.linalg.norm(want.astype(np.float64), axis=1, keepdims=True)
    assert np.abs(got - unit @ unit.T).max() <= 0.02
