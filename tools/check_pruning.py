#!/usr/bin/env python3
"""`kiln compile --prune` against its numpy twin, tools/prune_onnx.py.

For every pattern (unstructured, 1x4, 4x1, 2x2 and 1x16 blocks, per layer and
global, 2:4 and 1:3) and some exclusions, on a model of MatMul and Gemm
layers (2-D and 3-D inputs, Gemm weights transposed and not, a MatMul
weight behind a Transpose node, alpha, biases, dims that blocks and groups
do not divide, one weight read by three nodes):

  * the library compiled with --prune gives the outputs of the numpy-pruned
    model compiled without it, and of ONNX Runtime on that model, within
    1e-4, and differs from the dense model's (pruning did happen);
  * the zeros `kiln compile --stats` reports per layer are those numpy
    made in that layer's weight, and they are what the spec asks: per layer
    round(S x blocks) whole blocks of each weight, globally of all weights,
    N:M exactly N values left per group; excluded layers untouched;
  * with --quantize int8 too, pruning comes first: the same as the
    numpy-pruned model quantized;
  * bad specs are usage errors (exit 2) here and in prune_onnx.py;
  * --accuracy-report with --prune 0.6:block1x4:global: each layer's row is
    the score of the model with only that layer's weight pruned (by numpy,
    with the global threshold), the pruned build is -o, and the layers'
    sparsity is what the global threshold gave them; --accuracy-budget
    keeps the worst layer dense, the others pruned as before.

Exits non-zero on any failure.
"""

import argparse
import math
import pathlib
import re
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import check_accuracy_report as accuracy  # noqa: E402
import prune_onnx  # noqa: E402

failures = []

# node -> its weight's initializer; W1 is read by fc1, fc8 and fc9.
WEIGHT_OF = {"fc1": "W1", "fc2": "W2", "fc3": "W3", "fc4": "W4", "fc5": "W5", "fc6": "W6",
             "fc7": "W7", "fc8": "W1", "fc9": "W1", "fc10": "W8"}


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAIL:", message)
    return condition


def make_model(path):
    rng = np.random.default_rng(3)

    def w(name, shape, scale):
        return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)

    inits = [w("W1", (20, 32), 1.0), w("b1", (32,), 1.0), w("W2", (24, 32), 0.3), w("b2", (24,), 1.0),
             w("W3", (24, 18), 2.0), w("b3", (18,), 1.0), w("W4", (24, 10), 0.5),
             w("W5", (18, 10), 1.0), w("W6", (10, 10), 0.2), w("W7", (32, 20), 0.7),
             w("W8", (10, 24), 0.4)]
    n = helper.make_node
    nodes = [
        n("MatMul", ["x", "W1"], ["m1"], name="fc1"),
        n("Add", ["m1", "b1"], ["a1"], name="bias1"),
        n("Relu", ["a1"], ["h1"], name="relu1"),
        n("Gemm", ["h1", "W2", "b2"], ["g2"], name="fc2", transB=1),
        n("Relu", ["g2"], ["h2"], name="relu2"),
        n("Gemm", ["h2", "W3", "b3"], ["h3"], name="fc3", alpha=0.5, beta=1.0),
        n("MatMul", ["h2", "W4"], ["h4"], name="fc4"),
        n("MatMul", ["h3", "W5"], ["h5"], name="fc5"),
        n("MatMul", ["h4", "W6"], ["h6"], name="fc6"),
        n("Add", ["h5", "h6"], ["s56"], name="sum"),
        # A weight stored N x K and transposed by the graph.
        n("Transpose", ["W8"], ["W8t"], name="transpose8", perm=[1, 0]),
        n("MatMul", ["h2", "W8t"], ["h10"], name="fc10"),
        n("Add", ["s56", "h10"], ["y"], name="sum10"),
        # A 3-D input: batch x sequence rows; W1 again, twice (fc8, fc9).
        n("MatMul", ["x3", "W1"], ["z1"], name="fc8"),
        n("Relu", ["z1"], ["z2"], name="relu8"),
        n("MatMul", ["z2", "W7"], ["z3"], name="fc7"),
        n("MatMul", ["z3", "W1"], ["z"], name="fc9"),
    ]
    graph = helper.make_graph(
        nodes, "layers",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 20]),
         helper.make_tensor_value_info("x3", TensorProto.FLOAT, ["batch3", "seq", 20])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 10]),
         helper.make_tensor_value_info("h2", TensorProto.FLOAT, ["batch", 24]),
         helper.make_tensor_value_info("z", TensorProto.FLOAT, ["batch3", "seq", 32])],
        inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def run(cmd, expect=0):
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if expect is not None and result.returncode != expect:
        print(result.stdout, result.stderr)
        raise SystemExit(f"{' '.join(map(str, cmd))}: exit {result.returncode}, expected {expect}")
    return result


class Runner:
    def __init__(self, args, tmp):
        self.args, self.tmp, self.count = args, tmp, 0
        rng = np.random.default_rng(5)
        self.inputs = {"x": rng.standard_normal((3, 20)).astype(np.float32),
                       "x3": rng.standard_normal((2, 5, 20)).astype(np.float32)}
        for name, value in self.inputs.items():
            np.save(tmp / f"{name}.npy", value)

    def compile(self, model, *flags):
        self.count += 1
        lib = self.tmp / f"lib{self.count}.so"
        result = run([self.args.kiln, "compile", model, "-o", lib, "--stats", *flags])
        return lib, result.stderr

    def outputs(self, lib):
        out = self.tmp / f"out-{lib.stem}"
        run([self.args.kiln_run, lib, "--threads", "1", "--output-dir", out,
             *[a for n in self.inputs for a in ("--input", f"{n}={self.tmp / (n + '.npy')}")]])
        return {n: np.load(out / f"{n}.npy") for n in ("y", "h2", "z")}

    def ort(self, model):
        session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
        return dict(zip(("y", "h2", "z"), session.run(["y", "h2", "z"], self.inputs)))


def max_diff(a, b):
    return max(float(np.abs(a[n].astype(np.float64) - b[n]).max()) for n in a)


def reported_zeros(stderr):
    """{node: zeros} and (zeros, values) from --stats' remarks."""
    layers = {m[0]: int(m[1]) for m in re.findall(
        r"remark: node '([^']+)': pruned to sparsity [0-9.]+ \((\d+) of", stderr)}
    total = re.search(r"remark: .*pruned (\d+) weights .*\((\d+) of (\d+) values zero\)", stderr)
    return layers, (int(total[2]), int(total[3])) if total else None


def views_of(model):
    """{weight: K x N view} of the prunable weights."""
    arrays = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    return {name: arrays[name].T if transposed else arrays[name]
            for name, transposed in prune_onnx.prunable_weights(model, set())}


def zero_blocks(view, block):
    """How many of the view's blocks (partial ones too) are all zero."""
    return int((prune_onnx.block_scores(view, block) == 0).sum())


def check_spec(case, spec, before, after, pruned_names):
    """The numpy-pruned views against the spec itself."""
    if spec["kind"] == "nm":
        n, m = spec["n"], spec["m"]
        for name in pruned_names:
            v = after[name]
            for first in range(0, v.shape[0], m):
                kept = np.count_nonzero(v[first:first + m], axis=0)
                size = min(m, v.shape[0] - first)
                if not check((kept == min(n, size)).all(),
                             f"{case}: {name} rows {first}..: {kept} values kept, expected {min(n, size)}"):
                    return
        return
    block = spec["block"]
    counts = {name: prune_onnx.block_scores(before[name], block).size for name in pruned_names}
    zeros = {name: zero_blocks(after[name], block) for name in pruned_names}
    target = lambda blocks: math.floor(spec["sparsity"] * blocks + 0.5)
    if spec["global"]:
        total = sum(counts.values())
        check(sum(zeros.values()) == target(total),
              f"{case}: {sum(zeros.values())} of {total} blocks zero, expected {target(total)}")
        check(len(set(round(zeros[n] / counts[n], 3) for n in pruned_names)) > 1,
              f"{case}: a global threshold gave every layer the same sparsity {zeros}")
    else:
        for name in pruned_names:
            check(zeros[name] == target(counts[name]),
                  f"{case}: {name}: {zeros[name]} of {counts[name]} blocks zero, "
                  f"expected {target(counts[name])}")
    for name in pruned_names:  # only whole blocks
        v = after[name]
        check(np.count_nonzero(v == 0) == np.count_nonzero(
            np.repeat(np.repeat(prune_onnx.block_scores(v, block) == 0, block[0], 0), block[1], 1)
            [:v.shape[0], :v.shape[1]]), f"{case}: {name} has zeros outside whole zero blocks")


CASES = [
    ("0.5:unstructured", []), ("0.7:unstructured:global", []), ("0.8:block1x4", []),
    ("0.8:block1x4:global", []), ("0.6:block4x1", []), ("0.5:block2x2:global", []),
    ("0.75:block1x16", []), ("2:4", []), ("1:3", []),
    ("0.8:block1x4", ["--prune-exclude", "fc2"]), ("2:4", ["--prune-exclude", "Gemm"]),
    # W1 is read by fc1, fc8 and fc9: excluding one keeps it dense.
    ("0.8:block1x4:global", ["--prune-exclude", "fc8,fc5"]),
]


def check_cases(args, tmp, model_path, runner):
    model = onnx.load(model_path)
    before = views_of(model)
    dense = runner.ort(model_path)
    for number, (text, flags) in enumerate(CASES):
        case = f"--prune {text} {' '.join(flags)}".strip()
        spec = prune_onnx.parse_spec(text)
        exclude = flags[1].split(",") if flags else []
        pruned_model = onnx.load(model_path)
        pruned = prune_onnx.prune_model(pruned_model, spec, exclude)
        pruned_path = tmp / f"pruned-{number}.onnx"
        onnx.save(pruned_model, pruned_path)
        after = views_of(pruned_model)
        pruned_names = [name for name, _, _, _ in pruned]
        excluded = {WEIGHT_OF[n] if n in WEIGHT_OF else None for n in exclude}
        if "Gemm" in exclude:
            excluded |= {"W2", "W3"}
        check(set(pruned_names) == set(before) - excluded,
              f"{case}: numpy pruned {pruned_names}, expected all but {excluded}")
        for name in excluded & set(before):
            check(np.array_equal(after[name], before[name]), f"{case}: excluded {name} changed")
        check_spec(case, spec, before, after, pruned_names)

        lib, stderr = runner.compile(model_path, "--prune", text, *flags)
        layers, total = reported_zeros(stderr)
        numpy_zeros = {name: zeros for name, zeros, _, _ in pruned}
        # A weight is reported once, at its first reader (W1 at fc1).
        expected = {node: numpy_zeros[w] for node, w in WEIGHT_OF.items()
                    if w in numpy_zeros and node not in ("fc8", "fc9")}
        check(layers == expected, f"{case}: kiln reports zeros {layers}, numpy made {expected}")
        check(total == (sum(numpy_zeros.values()), sum(k * n for _, _, k, n in pruned)),
              f"{case}: kiln's summary {total}")

        compiled = runner.outputs(lib)
        twin = runner.outputs(runner.compile(pruned_path)[0])
        reference = runner.ort(pruned_path)
        d_twin, d_ort, d_dense = max_diff(compiled, twin), max_diff(compiled, reference), max_diff(compiled, dense)
        print(f"  {case}: sparsity {total[0] / total[1] if total else 0:.4f}; vs numpy-pruned "
              f"{d_twin:.2e}, vs ORT on it {d_ort:.2e}, vs dense {d_dense:.2e}")
        check(d_twin <= 1e-4, f"{case}: {d_twin} from the numpy-pruned model compiled by Kiln")
        check(d_ort <= 1e-4, f"{case}: {d_ort} from ONNX Runtime on the numpy-pruned model")
        check(d_dense > 1e-2, f"{case}: only {d_dense} from the dense model: nothing pruned?")

    # Pruning first, then int8: the same as quantizing the numpy-pruned model.
    spec = prune_onnx.parse_spec("0.8:block1x4")
    pruned_model = onnx.load(model_path)
    prune_onnx.prune_model(pruned_model, spec)
    onnx.save(pruned_model, tmp / "pruned-int8.onnx")
    both = runner.outputs(runner.compile(model_path, "--prune", "0.8:block1x4", "--quantize", "int8")[0])
    twin = runner.outputs(runner.compile(tmp / "pruned-int8.onnx", "--quantize", "int8")[0])
    d = max_diff(both, twin)
    print(f"  --prune 0.8:block1x4 --quantize int8: {d:.2e} from the numpy-pruned model in int8")
    check(d <= 1e-5, f"prune + int8: {d} from the numpy-pruned model quantized")


def check_errors(args, tmp, model_path):
    bad = ["0.8", "1.2:unstructured", "0:unstructured", "0.8:block0x4", "0.8:blockx4",
           "0.8:block1x4:everywhere", "4:4", "0:4", "2:65", "0.8:unstructured:global:x", "abc"]
    for spec in bad:
        result = run([args.kiln, "compile", model_path, "-o", tmp / "bad.so", "--prune", spec], expect=None)
        check(result.returncode == 2 and f"--prune '{spec}'" in result.stderr,
              f"kiln --prune {spec}: exit {result.returncode}: {result.stderr.strip()}")
        result = run([sys.executable, pathlib.Path(__file__).parent / "prune_onnx.py", model_path,
                      tmp / "bad.onnx", "--prune", spec], expect=None)
        check(result.returncode == 2 and f"--prune '{spec}'" in result.stderr,
              f"prune_onnx.py --prune {spec}: exit {result.returncode}: {result.stderr.strip()}")
    for flags, message in ((["--prune-exclude", "fc1"], "--prune-exclude needs --prune"),
                           (["--prune", "2:4", "--prune-exclude", "a{b"], "is not a node name")):
        result = run([args.kiln, "compile", model_path, "-o", tmp / "bad.so", *flags], expect=None)
        check(result.returncode == 2 and message in result.stderr,
              f"kiln {' '.join(flags)}: exit {result.returncode}: {result.stderr.strip()}")
    check(not (tmp / "bad.so").exists() and not (tmp / "bad.onnx").exists(), "a bad spec left a file")


def check_report(args, tmp):
    """--accuracy-report with global block pruning on the three-layer model
    of check_accuracy_report.py."""
    model, eval_dir = tmp / "three.onnx", tmp / "eval"
    accuracy.make_model(model)
    accuracy.make_eval(eval_dir)
    kiln = accuracy.Kiln(args, tmp, model, eval_dir)
    reference = kiln.outputs(kiln.compile())
    text_spec = "0.6:block1x4:global"
    spec = prune_onnx.parse_spec(text_spec)
    pruned_model = onnx.load(model)
    pruned = {name: zeros for name, zeros, _, _ in prune_onnx.prune_model(pruned_model, spec)}
    check(sorted(pruned) == ["w1", "w2", "w3"], f"numpy pruned {sorted(pruned)}")
    onnx.save(pruned_model, tmp / "three-pruned.onnx")
    whole = kiln.outputs(kiln.compile("--prune", text_spec))
    expected, score = accuracy.metrics(reference, whole)

    report, lib = tmp / "prune-report.md", tmp / "prune-reported.so"
    result = run([args.kiln, "compile", model, "-o", lib, "--prune", text_spec,
                  "--eval-data", eval_dir, "--accuracy-report", report])
    print("  " + result.stdout.strip())
    text = report.read_text()
    accuracy.check_output_table(accuracy.table_rows(text, f"## pruned {text_spec}"), expected, "pruned")
    check(accuracy.same_outputs(kiln.outputs(lib), whole), "-o of the report run is not the pruned build")
    rows = accuracy.table_rows(text, "## Layers, worst first")
    check(sorted(r[1] for r in rows) == sorted(accuracy.LAYERS), f"report layers {[r[1] for r in rows]}")
    sizes = {"fc1": 16 * 32, "fc2": 32 * 32, "fc3": 32 * 8}
    weights = {"fc1": "w1", "fc2": "w2", "fc3": "w3"}
    original = {t.name: t for t in onnx.load(model).graph.initializer}
    for row in rows:
        node, sparsity, layer_score = row[1], float(row[3]), float(row[4])
        numpy_sparsity = pruned[weights[node]] / sizes[node]
        check(abs(sparsity - numpy_sparsity) < 1e-4,
              f"report: {node} sparsity {sparsity}, numpy's global threshold gave {numpy_sparsity:.4f}")
        # Only this layer pruned (by numpy, with the global threshold).
        alone = onnx.load(tmp / "three-pruned.onnx")
        for t in alone.graph.initializer:
            if t.name != weights[node]:
                t.CopyFrom(original[t.name])
        onnx.save(alone, tmp / f"alone-{node}.onnx")
        _, alone_score = accuracy.metrics(reference, kiln.outputs(accuracy.Kiln(
            args, tmp, tmp / f"alone-{node}.onnx", eval_dir).compile()))
        print(f"  report {node}: sparsity {sparsity}, score {layer_score}; numpy alone {alone_score:.7f}")
        check(abs(layer_score - alone_score) <= 1.5e-7, f"report: {node} score {layer_score} vs {alone_score}")
    sparsities = {float(r[3]) for r in rows}
    check(len(sparsities) > 1, f"report: a global threshold gave every layer sparsity {sparsities}")

    # A budget between the pruned build's score and that with the worst
    # layer dense keeps exactly that layer dense (the others pruned with
    # the global threshold): -o is the numpy-pruned model with it restored.
    worst = rows[0][1]
    restored = onnx.load(tmp / "three-pruned.onnx")
    for t in restored.graph.initializer:
        if t.name == weights[worst]:
            t.CopyFrom(original[t.name])
    onnx.save(restored, tmp / "restored.onnx")
    without_worst = kiln.outputs(accuracy.Kiln(args, tmp, tmp / "restored.onnx", eval_dir).compile())
    _, restored_score = accuracy.metrics(reference, without_worst)
    check(restored_score > score + 1e-6, f"budget: {worst} dense ({restored_score}) should beat {score}")
    budget = f"{(score + restored_score) / 2:.9f}"
    result = run([args.kiln, "compile", model, "-o", lib, "--prune", text_spec, "--eval-data", eval_dir,
                  "--accuracy-budget", budget, "--accuracy-report", report])
    print("  " + result.stdout.strip().replace("\n", "\n  "))
    kept = re.findall(r"^- `(.*)`$", report.read_text(), re.M)
    check(kept == [worst], f"budget {budget}: kept {kept} dense, expected [{worst}]")
    check(accuracy.same_outputs(kiln.outputs(lib), without_worst),
          f"budget: -o is not the pruned build with {worst} dense")


def main():
    root = pathlib.Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kiln", default=str(root / "build/bin/kiln"))
    parser.add_argument("--kiln-run", default=str(root / "build/bin/kiln-run"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="kiln-pruning-test") as name:
        tmp = pathlib.Path(name)
        model = tmp / "layers.onnx"
        make_model(model)
        runner = Runner(args, tmp)
        print("patterns:")
        check_cases(args, tmp, model, runner)
        print("errors:")
        check_errors(args, tmp, model)
        print("accuracy report:")
        check_report(args, tmp)
    print(f"{len(failures)} failure(s)" if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
