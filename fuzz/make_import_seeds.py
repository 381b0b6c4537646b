#!/usr/bin/env python3
"""Writes kiln-fuzz-import's seed corpus into a directory.

The seeds: every ONNX model of the lit tests (test/frontend/onnx, parsed as
test/scripts/onnxtext_to_onnx.py parses them, without the per-RUN
post-processing) and the difftest regressions (test/difftest/regressions).
The committed models of test/models (1-2 MB each, mostly weights) are left
out: the fuzzer should spend its time on graph structure, not on weights.

  python fuzz/make_import_seeds.py <dir>      (a Python with onnx)
"""

import pathlib
import shutil
import sys

import onnx
import onnx.parser

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "test" / "scripts"))
from onnxtext_to_onnx import model_text  # noqa: E402


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = pathlib.Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    regressions = sorted((ROOT / "test" / "difftest" / "regressions").glob("*.onnx"))
    for path in regressions:
        shutil.copy(path, out / path.name)
    lit = 0
    tests = ROOT / "test" / "frontend" / "onnx"
    for test in sorted(tests.rglob("*.test")):
        try:
            model = onnx.parser.parse_model(model_text(str(test)))
        except Exception:  # a test of text the parser refuses
            continue
        name = "-".join(test.relative_to(tests).with_suffix(".onnx").parts)
        onnx.save(model, str(out / name))
        lit += 1
    print(f"make_import_seeds.py: {lit} lit models and {len(regressions)} regressions in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
