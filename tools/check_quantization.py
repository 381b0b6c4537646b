#!/usr/bin/env python3
"""`kiln compile --quantize int8` against the exact int8 arithmetic it promises.

Each case is a small model of Linear layers (MatMul or Gemm with constant
weights, bias, ReLU / GELU, residual adds; rank-2 and rank-3 activations,
symbolic dims) compiled with --quantize int8 and run by kiln-run at two
row counts. Its output must equal a NumPy model of kiln.qgemm's documented
semantics (dialects/include/kiln/Dialect/Kiln/KilnUkernelOps.td):

  weights:     per output column, scale = max|w| / 127, q = rint(w / scale)
  activations: per row, lo = min(0, min a), hi = max(0, max a),
               sa = (hi - lo) / 255, za = rint(-lo / sa),
               aq = clamp(rint(a / sa) + za, 0, 255)
  output:      float(sum (aq - za) * q) * (sa * scale) + bias, activation,
               + residual

to float32 rounding (the integer sums are exact, so only the epilogue's
float operations and GELU's erf may differ in the last bits); exact equality
is not asked because LLVM may contract a multiply-add. The quantization
error itself is also reported against fp32 (onnxruntime), and every case
must stay within a cosine of 0.999 of it (these weights are random
Gaussian; trained models: tools/minilm_accuracy.py --kiln-int8).

It also checks that each case really runs int8 GEMMs (the LLVM-dialect MLIR
calls kiln_rt_qgemm, as often as the model has quantizable layers) and that
--quantize-exclude keeps the named node in fp32.

Exits non-zero if any case fails.
"""

import argparse
import math
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

ROOT = pathlib.Path(__file__).resolve().parent.parent
TOLERANCE = 2e-5  # relative to the output's max abs value
MIN_COSINE_TO_FP32 = 0.999


def quantize_weight(w):
    amax = np.abs(w).max(axis=0)
    scale = np.where(amax > 0, amax / np.float32(127), np.float32(1)).astype(np.float32)
    return np.clip(np.rint(w / scale), -127, 127).astype(np.int64), scale


def qgemm(a, w, bias=None, activation=None, residual=None):
    """kiln.qgemm on a [rows, K] float32 matrix; float32 where it is."""
    q, scale = quantize_weight(w)
    lo = np.minimum(np.float32(0), a.min(axis=1))
    hi = np.maximum(np.float32(0), a.max(axis=1))
    sa = ((hi - lo) / np.float32(255)).astype(np.float32)
    sa = np.where(sa < np.finfo(np.float32).tiny, np.float32(1), sa).astype(np.float32)
    za = np.rint(-lo / sa).astype(np.float32)
    aq = np.clip(np.rint(a / sa[:, None]) + za[:, None], 0, 255).astype(np.int64)
    sums = (aq - za.astype(np.int64)[:, None]) @ q
    v = sums.astype(np.float32) * (sa[:, None] * scale[None, :])
    if bias is not None:
        v = v + bias
    if activation == "relu":
        v = np.maximum(v, np.float32(0))
    elif activation == "gelu":
        erf = np.vectorize(math.erf)
        v = (0.5 * v * (1 + erf(v / math.sqrt(2)))).astype(np.float32)
    if residual is not None:
        v = v + residual
    return v.astype(np.float32)


class Case:
    """A model of Linear layers, its NumPy int8 reference and fp32 ONNX."""

    def __init__(self, name, k, rank3, layers, exclude=None):
        self.name, self.k, self.rank3, self.layers, self.exclude = name, k, rank3, layers, exclude

    def build(self, rng):
        """layers: list of (kind, n, bias, activation, residual) with kind
        'matmul' or 'gemm' (Gemm with transB = 1, rank-2 only)."""
        nodes, inits, weights = [], [], []
        current, width = "x", self.k
        for i, (kind, n, bias, activation, residual) in enumerate(self.layers):
            w = (rng.standard_normal((width, n)) / math.sqrt(width)).astype(np.float32)
            b = rng.standard_normal(n).astype(np.float32) if bias else None
            name = f"linear{i}"
            if kind == "gemm":
                inits.append(numpy_helper.from_array(np.ascontiguousarray(w.T), f"w{i}"))
                ins = [current, f"w{i}"] + ([f"b{i}"] if bias else [])
                nodes.append(helper.make_node("Gemm", ins, [f"y{i}"], name=name, transB=1))
                out = f"y{i}"
            else:
                inits.append(numpy_helper.from_array(w, f"w{i}"))
                nodes.append(helper.make_node("MatMul", [current, f"w{i}"], [f"m{i}"], name=name))
                out = f"m{i}"
                if bias:
                    nodes.append(helper.make_node("Add", [out, f"b{i}"], [f"y{i}"]))
                    out = f"y{i}"
            if bias:
                inits.append(numpy_helper.from_array(b, f"b{i}"))
            if activation == "relu":
                nodes.append(helper.make_node("Relu", [out], [f"r{i}"]))
                out = f"r{i}"
            elif activation == "gelu":
                nodes.append(helper.make_node("Gelu", [out], [f"g{i}"]))
                out = f"g{i}"
            if residual:
                nodes.append(helper.make_node("Add", [out, current], [f"s{i}"]))
                out = f"s{i}"
            weights.append((kind, w, b, activation, residual, name))
            current, width = out, n
        rows = ["batch", "seq"] if self.rank3 else ["rows"]
        graph = helper.make_graph(
            nodes, self.name,
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, rows + [self.k])],
            [helper.make_tensor_value_info(current, TensorProto.FLOAT, rows + [width])], inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])
        model.ir_version = 9
        onnx.checker.check_model(model)
        self.weights, self.output = weights, current
        return model

    def reference(self, x):
        a = x.reshape(-1, x.shape[-1])
        for kind, w, b, activation, residual, name in self.weights:
            if name == self.exclude:
                v = a @ w + (b if b is not None else 0)
                v = np.maximum(v, 0) if activation == "relu" else v
                a = (v + a if residual else v).astype(np.float32)
                continue
            a = qgemm(a, w, b, activation, a if residual else None)
        return a.reshape(*x.shape[:-1], a.shape[-1])


CASES = [
    Case("matmul", 64, False, [("matmul", 48, False, None, False)]),
    Case("bias_relu", 64, True, [("matmul", 40, True, "relu", False)]),
    Case("bias_gelu_then_residual", 96, True,
         [("matmul", 96, True, "gelu", False), ("matmul", 96, True, None, True)]),
    Case("gemm_transposed", 72, False, [("gemm", 33, True, None, False)]),
    Case("odd_depth", 37, True, [("matmul", 19, True, "relu", False)]),
    Case("exclude_one", 64, True,
         [("matmul", 64, True, "relu", False), ("matmul", 64, True, None, True)],
         exclude="linear1"),
]


def run(cmd):
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({result.returncode}): "
                           f"{result.stderr.strip()[-1500:]}")
    return result


def check(case, args, tmp, rng):
    model = case.build(rng)
    path = tmp / f"{case.name}.onnx"
    onnx.save(model, path)
    flags = ["--quantize", "int8"] + (["--quantize-exclude", case.exclude] if case.exclude else [])
    lib = tmp / f"{case.name}.so"
    run([args.kiln, "compile", path, "-o", lib, *flags])
    run([args.kiln, "compile", path, "-o", tmp / "model.mlir", "--emit=mlir", *flags])
    mlir = (tmp / "model.mlir").read_text()
    expected_calls = len(case.layers) - (1 if case.exclude else 0)
    calls = mlir.count("call @kiln_rt_qgemm(")
    ok = calls == expected_calls
    problems = [] if ok else [f"{calls} kiln_rt_qgemm calls, expected {expected_calls}"]
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for rows in ((1, 5), (3, 64)) if case.rank3 else ((5,), (129,)):
        x = (rng.standard_normal((*rows, case.k)) * 3).astype(np.float32)
        x[..., 0] += 4  # rows with offsets: za != 0
        np.save(tmp / "x.npy", x)
        out = tmp / "out"
        run([args.kiln_run, lib, "--threads", "2", "--output-dir", out, f"--input", f"x={tmp / 'x.npy'}"])
        got = np.load(out / f"{case.output}.npy")
        want = case.reference(x)
        fp32 = session.run(None, {"x": x})[0]
        err = float(np.abs(got - want).max() / max(np.abs(want).max(), 1e-30))
        cosine = float((got * fp32).sum() / (np.linalg.norm(got) * np.linalg.norm(fp32)))
        if not err <= TOLERANCE:
            problems.append(f"rows {rows}: relative error {err:.2e} to the int8 reference")
        if not cosine >= MIN_COSINE_TO_FP32:
            problems.append(f"rows {rows}: cosine {cosine:.6f} to fp32")
        print(f"  {case.name} rows {rows}: rel err to int8 reference {err:.1e}, "
              f"cosine to fp32 {cosine:.6f}")
    for p in problems:
        print(f"FAIL {case.name}: {p}")
    return not problems


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kiln", default=ROOT / "build" / "bin" / "kiln")
    parser.add_argument("--kiln-run", default=ROOT / "build" / "bin" / "kiln-run")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            try:
                failed += not check(case, args, pathlib.Path(tmp), rng)
            except RuntimeError as error:
                print(f"FAIL {case.name}: {error}")
                failed += 1
    print(f"{len(CASES) - failed}/{len(CASES)} quantization cases pass")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
