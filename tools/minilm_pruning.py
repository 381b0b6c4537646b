#!/usr/bin/env python3
"""Sparsity vs accuracy of magnitude pruning on the trained all-MiniLM-L6-v2.

For each --prune spec (default: unstructured and 1x4 blocks, per layer, at
10 to 90%, some global, 4x1 and 2:4), compiles the model with `kiln compile
--prune SPEC` (plus --quantize int8 with --int8) and measures, on the eval
sentences (as tools/minilm_accuracy.py: data/sentences/eval.ids, 8 a set,
or --eval-data), the per-sentence cosine of `sentence_embedding` to
onnxruntime fp32 on the unpruned model. No fine-tuning after pruning: the
figures are what pruning a trained model costs as is.

Structured specs (heads=F,ffn=F) are scored on --calibration-data when it
is given (else weight magnitude); their "sparsity" column is the fraction of
units (heads and neurons together) removed.

With --check-twin, the first spec is also applied by tools/prune_onnx.py and
the pruned file run by onnxruntime: its embeddings must be Kiln's within
1e-4 (the numpy twin, on a real model).

Prints a markdown table (and --json the numbers).

  .venv/bin/python tools/minilm_pruning.py                 # build/models/minilm-l6.onnx
  .venv/bin/python tools/minilm_pruning.py --spec 0.8:block1x4 --spec 2:4 --int8
"""

from __future__ import annotations

import argparse
import json
import pathlib
import re
import subprocess
import sys
import tempfile

import numpy as np
import onnx

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import minilm_accuracy  # noqa: E402
import prune_onnx  # noqa: E402
from check_numerics import run_kiln  # noqa: E402

DEFAULT_SPECS = ["0.1:unstructured", "0.2:unstructured", "0.3:unstructured", "0.5:unstructured",
                 "0.7:unstructured", "0.9:unstructured", "0.5:unstructured:global",
                 "0.9:unstructured:global", "0.1:block1x4", "0.2:block1x4", "0.3:block1x4",
                 "0.5:block1x4", "0.7:block1x4", "0.8:block1x4", "0.9:block1x4",
                 "0.8:block1x4:global", "0.5:block4x1", "2:4"]


def embeddings(args, library, sets, tmp, tag):
    found = []
    for name, feeds in sets:
        run_dir = tmp / f"set-{name}-{tag}"
        run_dir.mkdir()
        found.append(run_kiln(args.kiln_run, library, feeds, run_dir)["sentence_embedding"])
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=pathlib.Path, default=ROOT / "build/models/minilm-l6.onnx")
    parser.add_argument("--kiln", default=str(ROOT / "build/bin/kiln"))
    parser.add_argument("--kiln-run", default=str(ROOT / "build/bin/kiln-run"))
    parser.add_argument("--eval-ids", type=pathlib.Path, default=ROOT / "data/sentences/eval.ids")
    parser.add_argument("--eval-data", type=pathlib.Path, help="a directory of input sets instead of --eval-ids")
    parser.add_argument("--spec", action="append", help="a --prune spec (repeatable)")
    parser.add_argument("--int8", action="store_true", help="also --quantize int8 each pruned build")
    parser.add_argument("--calibration-data", type=pathlib.Path,
                        help="structured specs (heads=F,ffn=F): score heads and neurons on these "
                             "sets (kiln compile --calibration-data); without it, weight magnitude")
    parser.add_argument("--check-twin", action="store_true",
                        help="check the first spec against tools/prune_onnx.py + onnxruntime")
    parser.add_argument("--json", type=pathlib.Path, help="write the numbers here")
    args = parser.parse_args()
    if not args.model.exists():
        raise SystemExit(f"{args.model} is missing: run tools/models/ensure_minilm.sh")
    specs = args.spec or DEFAULT_SPECS
    sets = minilm_accuracy.load_sets(args)
    reference = minilm_accuracy.ort_outputs(minilm_accuracy.ort_session(args.model), sets)
    rows = []
    failed = False
    with tempfile.TemporaryDirectory(prefix="kiln-minilm-pruning") as name:
        tmp = pathlib.Path(name)
        def flags_of(spec):
            calibrated = "=" in spec and args.calibration_data
            return ["--prune", spec] + (["--calibration-data", str(args.calibration_data)]
                                        if calibrated else [])

        builds = [("none", [])] + [(spec, flags_of(spec)) for spec in specs]
        for index, (spec, flags) in enumerate(builds):
            for int8 in ([False, True] if args.int8 else [False]):
                library = tmp / f"b{index}{'-int8' if int8 else ''}.so"
                cmd = [args.kiln, "compile", str(args.model), "-o", str(library), "--stats", *flags,
                       *(["--quantize", "int8"] if int8 else [])]
                result = subprocess.run(cmd, capture_output=True, text=True)
                if result.returncode != 0:
                    raise SystemExit(f"{' '.join(cmd)} failed:\n{result.stderr}")
                total = re.search(r"sparsity ([0-9.]+) \((\d+) of (\d+) values zero\)", result.stderr)
                # Structured: the fraction of units removed stands for sparsity.
                units = re.search(r"(\d+) of (\d+) units removed", result.stderr)
                if units and not total:
                    total = [None, f"{int(units[1]) / int(units[2]):.4f}"]
                got = embeddings(args, library, sets, tmp, library.stem)
                cos = np.concatenate([minilm_accuracy.cosines(g, r["sentence_embedding"])
                                      for g, r in zip(got, reference)])
                row = {"spec": spec, "int8": int8, "sparsity": float(total[1]) if total else 0.0,
                       "cosine": minilm_accuracy.summary(cos)}
                rows.append(row)
                print(f"{spec}{' + int8' if int8 else ''}: sparsity {row['sparsity']:.4f}, "
                      f"cosine mean {np.mean(cos):.6f} min {np.min(cos):.6f}", flush=True)
                if args.check_twin and index == 1 and not int8 and "=" not in spec:
                    model = onnx.load(args.model)
                    prune_onnx.prune_model(model, prune_onnx.parse_spec(spec))
                    onnx.save(model, tmp / "twin.onnx")
                    twin = minilm_accuracy.ort_outputs(minilm_accuracy.ort_session(tmp / "twin.onnx"), sets)
                    diff = max(float(np.abs(g - t["sentence_embedding"]).max()) for g, t in zip(got, twin))
                    print(f"{spec}: Kiln --prune vs onnxruntime on prune_onnx.py's file: max abs diff {diff:.3g}")
                    row["max_abs_diff_vs_ort_on_numpy_pruned"] = diff
                    failed |= diff > 1e-4
    print("\n| --prune | int8 | sparsity | mean cosine | min cosine |\n|---|---|--:|--:|--:|")
    for r in rows:
        print(f"| `{r['spec']}` | {'yes' if r['int8'] else 'no'} | {r['sparsity']:.3f} | "
              f"{r['cosine']['mean']:.5f} | {r['cosine']['min']:.5f} |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
