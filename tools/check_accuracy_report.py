#!/usr/bin/env python3
"""`kiln compile --accuracy-report / --accuracy-budget` against numbers
recomputed here, from libraries compiled and run separately.

The model: three Linear layers (fc1 -> ReLU -> fc2 -> ReLU -> fc3) with two
outputs, `hidden` (fc2's, [batch, 32]) and `y` ([batch, 8]). fc1 has one
output channel 200 times the others, so every row fc2 reads has an outlier
that sets its per-row int8 scale, and fc2's weights barely use that
channel: fc2 is built to be the worst layer by far.

Checks:
  * the report's per-output table (mean/min cosine per item, max abs diff,
    SQNR) equals NumPy's on the outputs of `kiln run` of an fp32 and an int8
    library compiled with plain `kiln compile`, to the digits printed;
  * each layer's row equals the score of a build with only that layer
    quantized (`--quantize-exclude` the others), layers worst first, fc2
    first; -o is the int8 build;
  * --accuracy-budget just above the int8 score keeps exactly fc2 in fp32,
    and -o is then the build without fc2 quantized; budget 1 keeps all three;
  * bad eval data (missing input file, wrong dtype, wrong static dim, no
    sets) and flags that need each other fail with a message naming the
    file or flag, and leave neither the library nor the report behind;
  * the multi-option budget (--prune with --quantize int8) on BERT-tiny:
    tools/check_budget_options.py.

Exits non-zero on any failure.
"""

import argparse
import math
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from check_budget_options import check_budget_options  # noqa: E402

LAYERS = ("fc1", "fc2", "fc3")
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAIL:", message)


def make_model(path: pathlib.Path):
    rng = np.random.default_rng(7)
    w1 = rng.standard_normal((16, 32)).astype(np.float32) * 0.25
    w1[:, 5] *= 200  # one outlier channel in fc2's input
    w2 = rng.standard_normal((32, 32)).astype(np.float32) * 0.2
    w2[5, :] *= 0.005  # which fc2 barely uses: its output rests on the coarse rest
    w3 = rng.standard_normal((32, 8)).astype(np.float32) * 0.2
    inits = [numpy_helper.from_array(w, n) for w, n in ((w1, "w1"), (w2, "w2"), (w3, "w3"))]
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["a1"], name="fc1"),
        helper.make_node("Relu", ["a1"], ["r1"], name="relu1"),
        helper.make_node("MatMul", ["r1", "w2"], ["hidden"], name="fc2"),
        helper.make_node("Relu", ["hidden"], ["r2"], name="relu2"),
        helper.make_node("MatMul", ["r2", "w3"], ["y"], name="fc3"),
    ]
    graph = helper.make_graph(
        nodes, "three_linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 16])],
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", 32]),
         helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 8])],
        inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def make_eval(directory: pathlib.Path, batches=(4, 2, 5)):
    rng = np.random.default_rng(11)
    for i, batch in enumerate(batches):
        (directory / f"{i:03d}").mkdir(parents=True)
        np.save(directory / f"{i:03d}" / "x.npy", rng.standard_normal((batch, 16)).astype(np.float32))
    (directory / "README.txt").write_text("files at the top are ignored\n")


def run(cmd, expect=0, env=None):
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=env)
    if expect is not None and result.returncode != expect:
        print(result.stdout, result.stderr)
        raise SystemExit(f"{' '.join(map(str, cmd))}: exit {result.returncode}, expected {expect}")
    return result


class Kiln:
    def __init__(self, args, tmp: pathlib.Path, model: pathlib.Path, eval_dir: pathlib.Path):
        self.args, self.tmp, self.model, self.eval_dir = args, tmp, model, eval_dir
        self.count = 0

    def compile(self, *flags):
        self.count += 1
        lib = self.tmp / f"lib{self.count}.so"
        run([self.args.kiln, "compile", self.model, "-o", lib, *flags])
        return lib

    def outputs(self, lib):
        """[(hidden, y) per set]"""
        found = []
        for s in sorted(p for p in self.eval_dir.iterdir() if p.is_dir()):
            out = self.tmp / f"out-{lib.stem}-{s.name}"
            run([self.args.kiln_run, lib, "--threads", "1", "--output-dir", out, "--input", f"x={s / 'x.npy'}"])
            found.append({n: np.load(out / f"{n}.npy").astype(np.float64) for n in ("hidden", "y")})
        return found


def metrics(reference, candidate):
    """{output: (mean cos, min cos, max abs, sqnr)} and the score."""
    found = {}
    for name in ("hidden", "y"):
        cosines, max_abs, ref_sq, err_sq = [], 0.0, 0.0, 0.0
        for r, c in zip(reference, candidate):
            a, b = r[name], c[name]
            max_abs = max(max_abs, float(np.abs(a - b).max()))
            ref_sq += float((a * a).sum())
            err_sq += float(((a - b) ** 2).sum())
            for ra, cb in zip(a.reshape(a.shape[0], -1), b.reshape(b.shape[0], -1)):
                cosines.append(float(ra @ cb / math.sqrt((ra @ ra) * (cb @ cb))))
        sqnr = math.inf if err_sq == 0 else 10 * math.log10(ref_sq / err_sq)
        found[name] = (float(np.mean(cosines)), min(cosines), max_abs, sqnr)
    return found, min(v[0] for v in found.values())


def table_rows(text, heading):
    """The rows of the first table after `heading`, as lists of cells."""
    section = text.split(heading, 1)[1]
    rows = []
    for line in section.splitlines():
        if line.startswith("|"):
            rows.append([c.strip().strip("`") for c in line.strip("|").split("|")])
        elif rows:
            break
    return rows[2:]


def close(a, b, tolerance):
    return abs(a - b) <= tolerance or (math.isinf(a) and math.isinf(b))


def check_output_table(rows, expected, what):
    check(sorted(r[0] for r in rows) == sorted(expected), f"{what}: outputs {[r[0] for r in rows]}")
    for name, items, mean, low, max_abs, sqnr in rows:
        e = expected[name]
        print(f"  {what} {name}: report mean {mean} min {low} max {max_abs} sqnr {sqnr}; "
              f"numpy {e[0]:.7f} {e[1]:.7f} {e[2]:.3e} {e[3]:.2f}")
        check(close(float(mean), e[0], 1.5e-7), f"{what} {name}: mean cosine {mean} vs {e[0]:.8f}")
        check(close(float(low), e[1], 1.5e-7), f"{what} {name}: min cosine {low} vs {e[1]:.8f}")
        check(close(float(max_abs), e[2], 1e-3 * e[2] + 1e-9), f"{what} {name}: max abs {max_abs} vs {e[2]}")
        check(close(float(sqnr), e[3], 0.011), f"{what} {name}: SQNR {sqnr} vs {e[3]:.3f}")
        check(int(items) == 11, f"{what} {name}: {items} items, expected 11 (4 + 2 + 5 rows)")


def same_outputs(a, b):
    return all(np.array_equal(x[n], y[n]) for x, y in zip(a, b) for n in ("hidden", "y"))


def check_reports(args, tmp, model, eval_dir):
    kiln = Kiln(args, tmp, model, eval_dir)
    reference = kiln.outputs(kiln.compile())
    int8 = kiln.outputs(kiln.compile("--quantize", "int8"))
    expected, int8_score = metrics(reference, int8)

    report, lib = tmp / "report.md", tmp / "reported.so"
    result = run([args.kiln, "compile", model, "-o", lib, "--quantize", "int8",
                  "--eval-data", eval_dir, "--accuracy-report", report])
    print(result.stdout.strip())
    text = report.read_text()
    check_output_table(table_rows(text, "## int8"), expected, "int8")
    check(same_outputs(kiln.outputs(lib), int8), "-o of the report run is not the int8 build")

    # Each layer alone: recomputed from a build excluding the others.
    layers = table_rows(text, "## Layers, worst first")
    check([r[1] for r in layers][:1] == ["fc2"] and sorted(r[1] for r in layers) == sorted(LAYERS),
          f"layers {[r[1] for r in layers]}: expected fc2 first, then fc1 and fc3")
    shapes = {"fc1": "MatMul 16 x 32", "fc2": "MatMul 32 x 32", "fc3": "MatMul 32 x 8"}
    scores = []
    for row in layers:
        check(row[2] == shapes.get(row[1]), f"layer {row[1]}: '{row[2]}', expected '{shapes.get(row[1])}'")
        others = ",".join(n for n in LAYERS if n != row[1])
        _, score = metrics(reference, kiln.outputs(kiln.compile("--quantize", "int8", "--quantize-exclude", others)))
        print(f"  layer {row[1]}: report {row[3]}, numpy {score:.7f}")
        check(close(float(row[3]), score, 1.5e-7), f"layer {row[1]}: score {row[3]} vs {score:.8f}")
        scores.append(float(row[3]))
    check(scores == sorted(scores), f"layers not worst first: {scores}")

    # A budget that excluding fc2 meets and int8 does not.
    without_fc2 = kiln.outputs(kiln.compile("--quantize", "int8", "--quantize-exclude", "fc2"))
    _, fc2_score = metrics(reference, without_fc2)
    check(fc2_score > int8_score + 1e-6, f"fc2 in fp32 ({fc2_score}) should beat int8 ({int8_score})")
    budget = f"{(int8_score + fc2_score) / 2:.9f}"
    result = run([args.kiln, "compile", model, "-o", lib, "--quantize", "int8", "--eval-data", eval_dir,
                  "--accuracy-budget", budget, "--accuracy-report", report])
    print(result.stdout.strip())
    text = report.read_text()
    check("Met with the worst 1 of 3 layers kept in fp32" in text, "budget: not met with 1 layer kept in fp32")
    kept = re.findall(r"^- `(.*)`$", text, re.M)
    check(kept == ["fc2"], f"budget {budget}: kept {kept} in fp32, expected ['fc2']")
    check(same_outputs(kiln.outputs(lib), without_fc2), "budget: -o is not the build with fc2 in fp32")
    budget_expected, budget_score = metrics(reference, without_fc2)
    check(budget_score >= float(budget), f"budget {budget} not met: {budget_score}")
    check_output_table(table_rows(text, "## Accuracy budget"), budget_expected, "budget")

    # Budget 1: only all layers in fp32 (bit-identical to the reference) meet it.
    result = run([args.kiln, "compile", model, "-o", lib, "--quantize", "int8", "--eval-data", eval_dir,
                  "--accuracy-budget", "1"])
    check("met with 3 of 3" in result.stdout, f"budget 1: {result.stdout.strip()}")
    check(same_outputs(kiln.outputs(lib), reference), "budget 1: -o is not the fp32 build")


def check_errors(args, tmp, model, eval_dir):
    scratch = tmp / "scratch"  # the TMPDIR of these runs, to be left empty
    scratch.mkdir()

    def expect_error(name, flags, patterns, code=1, data=None):
        lib, report = tmp / f"{name}.so", tmp / f"{name}.md"
        eval_flags = ["--eval-data", data] if data is not None else []
        result = run([args.kiln, "compile", model, "-o", lib, *flags, *eval_flags], expect=None,
                     env={**os.environ, "TMPDIR": str(scratch)})
        print(f"  {name}: exit {result.returncode}: {result.stderr.strip().splitlines()[-1:]}")
        check(result.returncode == code, f"{name}: exit {result.returncode}, expected {code}")
        for pattern in patterns:
            check(pattern in result.stderr, f"{name}: '{pattern}' not in: {result.stderr.strip()}")
        check(not lib.exists() and not report.exists(), f"{name}: left {lib} or {report} behind")
        check(not list(scratch.iterdir()), f"{name}: left {list(scratch.iterdir())} in the temporary folder")

    def bad_set(name, mutate):
        data = tmp / name
        shutil.copytree(eval_dir, data)
        mutate(data / "001")
        return data

    report = lambda name: ["--quantize", "int8", "--accuracy-report", tmp / f"{name}.md"]
    expect_error("missing", report("missing"), ["set '001'", "x.npy", "input 'x'"],
                 data=bad_set("missing", lambda d: (d / "x.npy").unlink()))
    expect_error("dtype", report("dtype"), ["001/x.npy", "float64", "input 'x'", "float32"],
                 data=bad_set("dtype", lambda d: np.save(d / "x.npy", np.zeros((2, 16)))))
    expect_error("dim", report("dim"), ["001/x.npy", "[2, 15]", "input 'x'", "[batch, 16]"],
                 data=bad_set("dim", lambda d: np.save(d / "x.npy", np.zeros((2, 15), np.float32))))
    empty = tmp / "empty"
    empty.mkdir()
    expect_error("empty", report("empty"), ["has no input sets"], data=empty)
    expect_error("no-quantize", ["--accuracy-report", tmp / "no-quantize.md"], ["add --quantize int8"],
                 code=2, data=eval_dir)
    expect_error("no-eval-data", report("no-eval-data"), ["needs --eval-data"], code=2)
    expect_error("eval-data-alone", ["--quantize", "int8"], ["--eval-data is read by"], code=2, data=eval_dir)
    expect_error("budget-word", ["--quantize", "int8", "--accuracy-budget", "high"], ["must be a number"],
                 code=2, data=eval_dir)
    expect_error("budget-above-1", ["--quantize", "int8", "--accuracy-budget", "1.5"], ["in (0, 1]"],
                 code=2, data=eval_dir)


def main() -> int:
    root = pathlib.Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kiln", default=str(root / "build/bin/kiln"))
    parser.add_argument("--kiln-run", default=str(root / "build/bin/kiln-run"))
    parser.add_argument("--bert-tiny", default=str(root / "test/models/bert-tiny.dynamo.onnx"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kiln-accuracy-test") as name:
        tmp = pathlib.Path(name)
        model, eval_dir = tmp / "model.onnx", tmp / "eval"
        make_model(model)
        make_eval(eval_dir)
        print("report and budget:")
        check_reports(args, tmp, model, eval_dir)
        print("errors:")
        check_errors(args, tmp, model, eval_dir)
        print("fastest options within a budget (BERT-tiny):")
        check_budget_options(args, tmp, check)
    print(f"{len(failures)} failure(s)" if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
