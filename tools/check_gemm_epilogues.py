#!/usr/bin/env python3
"""GEMM epilogues against ONNX Runtime: MatMul -> Add(bias) -> activation.

kiln-prepare-gemm-epilogues folds act(x + bias) into the runtime GEMM call
when act is one the GEMM applies (none, GELU erf, GELU tanh, ReLU). Each
case here is a small model, x[n, 64] @ W[64, 48] + b then an activation,
that `kiln compile` builds and `kiln-run` runs at two row counts; every
output must match onnxruntime within atol = rtol = 1e-4. The inputs make
x @ W + b spread over about +-40, so a clamp at 6, 20 or +-1 and the slope
of LeakyReLU change the result: an activation taken for another (ReLU6 for
ReLU, say) shows.

The activations the GEMM has must still be folded into it: for those
cases the LLVM-dialect MLIR (`kiln compile --emit=mlir`) must have a
kiln_rt_gemm call whose descriptor carries that activation.

Exits non-zero if any case fails.
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

ROOT = pathlib.Path(__file__).resolve().parent.parent
K, N = 64, 48
ROWS = (5, 64)

# kiln_gemm_desc (runtime/include/kiln/kiln_abi.h): the index of the
# activation field among its int64 fields, and the values of
# enum kiln_gemm_activation.
DESC_ACTIVATION = 14
ACT_NONE, ACT_GELU_ERF, ACT_GELU_TANH, ACT_RELU = 0, 1, 2, 3


class Graph:
    """Nodes after y = x @ W + b; each op returns its output's name."""

    def __init__(self):
        self.nodes, self.constants = [], []

    def const(self, value):
        name = f"c{len(self.constants)}"
        self.constants.append(numpy_helper.from_array(np.array(value, dtype=np.float32), name))
        return name

    def op(self, op_type, *inputs, **attrs):
        out = f"t{len(self.nodes)}"
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], **attrs))
        return out


def relu6(g, y):
    return g.op("Clip", y, g.const(0.0), g.const(6.0))


def clip_minus1_1(g, y):
    return g.op("Clip", y, g.const(-1.0), g.const(1.0))


def clip_0_20(g, y):
    return g.op("Clip", y, g.const(0.0), g.const(20.0))


def leaky_relu(g, y):
    return g.op("LeakyRelu", y, alpha=0.1)


def relu(g, y):
    return g.op("Relu", y)


def gelu_erf(g, y, scale=1 / math.sqrt(2)):
    """y * 0.5 * (1 + erf(y * scale)): GELU for scale = 1/sqrt 2."""
    e = g.op("Erf", g.op("Mul", y, g.const(scale)))
    return g.op("Mul", g.op("Mul", y, g.const(0.5)), g.op("Add", e, g.const(1.0)))


def gelu_erf_bert(g, y):
    """As BERT exports it: (y * (erf(y / 1.4142135) + 1)) * 0.5."""
    e = g.op("Erf", g.op("Div", y, g.const(math.sqrt(2))))
    return g.op("Mul", g.op("Mul", y, g.op("Add", e, g.const(1.0))), g.const(0.5))


def not_gelu_erf(g, y):
    return gelu_erf(g, y, scale=0.6)


def gelu_tanh(g, y, cubic=0.044715):
    """As GPT-2 exports it: 0.5 y (1 + tanh(sqrt(2/pi) (y + cubic * y^3)));
    GELU for cubic = 0.044715."""
    inner = g.op("Add", y, g.op("Mul", g.op("Pow", y, g.const(3.0)), g.const(cubic)))
    t = g.op("Tanh", g.op("Mul", inner, g.const(math.sqrt(2 / math.pi))))
    return g.op("Mul", g.op("Mul", y, g.const(0.5)), g.op("Add", t, g.const(1.0)))


def not_gelu_tanh(g, y):
    return gelu_tanh(g, y, cubic=0.05)


def relu_then_bias_again(g, y):
    """relu(x @ W + b) + b: the bias twice, the second after the activation."""
    return g.op("Add", g.op("Relu", y), "b")


# (name, activation after the bias, the activation the GEMM call must carry
# or None where nothing need be folded).
CASES = [
    ("relu6", relu6, None),
    ("clip_minus1_1", clip_minus1_1, None),
    ("clip_0_20", clip_0_20, None),
    ("leaky_relu", leaky_relu, None),
    ("not_gelu_erf", not_gelu_erf, None),
    ("not_gelu_tanh", not_gelu_tanh, None),
    ("relu_then_bias_again", relu_then_bias_again, None),
    ("relu", relu, ACT_RELU),
    ("gelu_erf", gelu_erf, ACT_GELU_ERF),
    ("gelu_erf_bert", gelu_erf_bert, ACT_GELU_ERF),
    ("gelu_tanh", gelu_tanh, ACT_GELU_TANH),
]


def make_model(activation, rng) -> onnx.ModelProto:
    g = Graph()
    w = numpy_helper.from_array(rng.normal(0, 1, (K, N)).astype(np.float32), "W")
    b = numpy_helper.from_array(rng.uniform(-3, 3, N).astype(np.float32), "b")
    y = g.op("Add", g.op("MatMul", "x", "W"), "b")
    assert activation(g, y) == g.nodes[-1].output[0]
    g.nodes[-1].output[0] = "y"
    graph = helper.make_graph(
        g.nodes, "epilogue",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", K])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", N])],
        initializer=[w, b, *g.constants])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def gemm_activations(llvm_mlir: str) -> list:
    """The activation field of each kiln_rt_gemm call's descriptor in
    LLVM-dialect MLIR (None where it is not a constant). The fields are
    stored one by one through getelementptrs of the descriptor just before
    the call."""
    calls = []
    constants, slots, fields = {}, {}, {}
    for line in llvm_mlir.splitlines():
        if re.match(r"\s*llvm\.func ", line):
            constants, slots, fields = {}, {}, {}
        elif m := re.match(r"\s*(%\S+) = llvm\.mlir\.constant\((-?\d+) : (?:index|i64)\)", line):
            constants[m[1]] = int(m[2])
        elif m := re.match(r"\s*(%\S+) = llvm\.getelementptr (?:[\w|]+ )?\S+\[(%\S+)\] : "
                           r"\(!llvm\.ptr, i64\) -> !llvm\.ptr, i64$", line):
            slots[m[1]] = m[2]
        elif m := re.match(r"\s*llvm\.store (%\S+), (%\S+) : i64, !llvm\.ptr$", line):
            if m[2] in slots and slots[m[2]] in constants:
                fields[constants[slots[m[2]]]] = m[1]
        elif "llvm.call @kiln_rt_gemm(" in line:
            calls.append(constants.get(fields.get(DESC_ACTIVATION)))
            fields = {}
    return calls


def run(cmd):
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed:\n{result.stderr}")
    return result.stdout


def check(name, activation, fused, args, tmp: pathlib.Path, seed: int) -> bool:
    rng = np.random.default_rng(seed)
    model = make_model(activation, rng)
    path = tmp / f"{name}.onnx"
    onnx.save(model, path)
    library = tmp / f"{name}.so"
    try:
        run([args.kiln, "compile", path, "-o", library])
        run([args.kiln, "compile", path, "--emit=mlir", "-o", tmp / f"{name}.mlir"])
    except RuntimeError as error:
        print(f"FAILED {name}: {error}")
        return False
    ok = True
    calls = gemm_activations((tmp / f"{name}.mlir").read_text())
    if fused is not None and fused not in calls:
        print(f"FAILED {name}: no kiln_rt_gemm call with activation {fused} "
              f"(calls' activations: {calls})")
        ok = False
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    w = numpy_helper.to_array(next(i for i in model.graph.initializer if i.name == "W"))
    b = numpy_helper.to_array(next(i for i in model.graph.initializer if i.name == "b"))
    for rows in ROWS:
        x = rng.uniform(-3, 3, (rows, K)).astype(np.float32)
        # The test means something only if the activation's input goes far
        # past every bound in CASES (6, 20, +-1).
        pre = x @ w + b
        assert pre.max() > 25 and pre.min() < -25, (pre.min(), pre.max())
        want = session.run(None, {"x": x})[0]
        run_dir = tmp / f"{name}.{rows}"
        run_dir.mkdir()
        np.save(run_dir / "x.npy", x)
        try:
            run([args.kiln_run, library, "--input", f"x={run_dir / 'x.npy'}",
                 "--output-dir", run_dir / "out"])
        except RuntimeError as error:
            print(f"FAILED {name} n={rows}: {error}")
            ok = False
            continue
        got = np.load(run_dir / "out" / "y.npy")
        if got.shape != want.shape:
            print(f"FAILED {name} n={rows}: shape {got.shape} vs {want.shape}")
            ok = False
            continue
        diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
        bad = diff > args.atol + args.rtol * np.abs(want)
        status = "ok" if not bad.any() else "FAILED"
        print(f"{status:6} {name} n={rows} max|diff|={diff.max():.2e} "
              f"max ort={want.max():.4g} kiln={got.max():.4g} "
              f"min ort={want.min():.4g} kiln={got.min():.4g} gemm activations={calls}")
        ok &= not bad.any()
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cases", nargs="*", help="run only these cases")
    parser.add_argument("--kiln", default=str(ROOT / "build/bin/kiln"))
    parser.add_argument("--kiln-run", default=str(ROOT / "build/bin/kiln-run"))
    parser.add_argument("--atol", type=float, default=1e-4)
    parser.add_argument("--rtol", type=float, default=1e-4)
    args = parser.parse_args()
    cases = [c for c in CASES if not args.cases or c[0] in args.cases]
    with tempfile.TemporaryDirectory() as tmp:
        results = [check(name, act, fused, args, pathlib.Path(tmp), seed)
                   for seed, (name, act, fused) in enumerate(cases)]
    print(f"{sum(results)}/{len(results)} cases match onnxruntime "
          f"(atol={args.atol}, rtol={args.rtol})")
    return 0 if results and all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
