"""docs/python.md's examples are python/examples/*.py, verbatim, and the
BERT-tiny one runs (the MiniLM one runs in the ctest python-minilm-example,
run_minilm_example.py, which reports SKIPPED without the model)."""

import os
import pathlib
import subprocess
import sys

import pytest

import kiln
from conftest import ROOT

EXAMPLE = ROOT / "python" / "examples" / "quickstart.py"
MINILM_EXAMPLE = ROOT / "python" / "examples" / "minilm_embeddings.py"


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

