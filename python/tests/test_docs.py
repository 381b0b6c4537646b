"""docs/python.md's example is python/examples/quickstart.py, verbatim, and
it runs."""

import os
import pathlib
import subprocess
import sys

import kiln
from conftest import ROOT

EXAMPLE = ROOT / "python" / "examples" / "quickstart.py"
BEGIN = "<!-- example: python/examples/quickstart.py -->\n```python\n"


def test_doc_copy_matches():
    doc = (ROOT / "docs" / "python.md").read_text()
    assert BEGIN in doc, "docs/python.md lost its example block"
    block = doc.split(BEGIN, 1)[1].split("```\n", 1)[0]
    assert block == EXAMPLE.read_text(), (
        "docs/python.md's example differs from python/examples/quickstart.py; copy it over")


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
