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

With --quantize bf16 the same models are compiled with `--quantize bf16`
and held to a NumPy model of the bf16 GEMM (kiln_abi.h, b_type; the
runtime's GemmBf16Portable.cpp):

  A and W rounded to bf16 (nearest, ties to even; subnormals to zero),
  K cut into slices of 256 (balanced, even), each slice's sum started at 0
  and built pair by pair, p + 1 then p, s = ftz(s + a * w) in float32 (a
  product of two bf16 values is exact in float32, so that is the fma the
  kernel does), then added to the output; then bias, activation, residual.

Layers without GELU must match it bit for bit (the sums' order is the
model's, and bias, ReLU and residual are single float32 operations); GELU
(a polynomial in the kernel) and the excluded fp32 layer get TOLERANCE.
Each case must have as many bf16 weights (packed constants) as layers not
excluded, and a cosine of 0.999 or more to fp32.

With --quantize int8-static (--calibration-method minmax, percentile or
entropy) each model is first calibrated on three sets of inputs: `kiln
compile --stats` prints every layer's calibrated range, scale and zero point,
which must agree with NumPy's calibration on the fp32 model (minmax: the
first layer's exactly, the others to float rounding of the fp32 layers
before; percentile: within two of Kiln's 2048 histogram bins), and the
output must equal the NumPy model of kiln.qgemm with those static scales
(aq = clamp(rint(a / sa) + za, 0, 255) for the whole tensor) as above. The
run inputs reach outside the calibrated range, so some values saturate.

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
TOLERANCE = 2e-5  # relative to the output's max abs value
MIN_COSINE_TO_FP32 = 0.999


def quantize_weight(w):
    amax = np.abs(w).max(axis=0)
    scale = np.where(amax > 0, amax / np.float32(127), np.float32(1)).astype(np.float32)
    return np.clip(np.rint(w / scale), -127, 127).astype(np.int64), scale


def to_bf16(x):
    """float32 rounded to bf16, as float32 (kiln_bf16_from_float)."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) << 16
    subnormal = (u & 0x7F800000) == 0
    rounded = np.where(subnormal, u & 0x80000000, rounded)
    return rounded.astype(np.uint32).view(np.float32).reshape(np.shape(x))


BF16_DEPTH = 256  # kGemmBf16Depth: the runtime's slices of K


def bf16_sums(a, w):
    """The bf16 GEMM's sums of a [rows, K] by w [K, N], bit for bit."""
    a, w = to_bf16(a), to_bf16(w)
    k = a.shape[1]
    slices = -(-k // BF16_DEPTH)
    kc = -(-k // slices)
    kc += kc % 2
    tiny = np.finfo(np.float32).tiny
    v = None
    for p0 in range(0, k, kc):
        s = np.zeros((a.shape[0], w.shape[1]), np.float32)
        for p in range(p0, min(k, p0 + kc), 2):
            for q in (p + 1, p):
                if q < k:
                    s = (s + a[:, q, None] * w[None, q, :]).astype(np.float32)
                else:
                    s = s + np.float32(0)  # the zero pad of an odd K
                s = np.where(np.abs(s) < tiny, np.copysign(np.float32(0), s), s).astype(np.float32)
        v = s if v is None else (v + s).astype(np.float32)
    return v


def bf16gemm(a, w, bias=None, activation=None, residual=None):
    """The bf16 GEMM with its epilogue on a [rows, K] float32 matrix."""
    return epilogue(bf16_sums(a, w), bias, activation, residual)


def epilogue(v, bias, activation, residual):
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


def qgemm(a, w, bias=None, activation=None, residual=None, static=None):
    """kiln.qgemm on a [rows, K] float32 matrix; float32 where it is. With
    `static` = (scale, zero point), A is quantized with those for all rows."""
    q, scale = quantize_weight(w)
    if static is not None:
        sa = np.full(a.shape[0], static[0], dtype=np.float32)
        za = np.full(a.shape[0], static[1], dtype=np.float32)
    else:
        lo = np.minimum(np.float32(0), a.min(axis=1))
        hi = np.maximum(np.float32(0), a.max(axis=1))
        sa = ((hi - lo) / np.float32(255)).astype(np.float32)
        sa = np.where(sa < np.finfo(np.float32).tiny, np.float32(1), sa).astype(np.float32)
        za = np.rint(-lo / sa).astype(np.float32)
    aq = np.clip(np.rint(a / sa[:, None]) + za[:, None], 0, 255).astype(np.int64)
    sums = (aq - za.astype(np.int64)[:, None]) @ q
    v = sums.astype(np.float32) * (sa[:, None] * scale[None, :])
    return epilogue(v, bias, activation, residual)


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

    def exact(self):
        """Whether the bf16 reference is bit for bit (no GELU, no fp32 layer)."""
        return not self.exclude and all(layer[3] != "gelu" for layer in self.layers)

    def layer_inputs(self, x):
        """Each layer's A in the fp32 model (what calibration observes)."""
        a, inputs = x.reshape(-1, x.shape[-1]), {}
        for kind, w, b, activation, residual, name in self.weights:
            inputs[name] = a
            v = epilogue((a @ w).astype(np.float32), b, activation, a if residual else None)
            a = v
        return inputs

    def reference(self, x, gemm, statics=None):
        a = x.reshape(-1, x.shape[-1])
        for kind, w, b, activation, residual, name in self.weights:
            if statics is not None and name != self.exclude:
                a = qgemm(a, w, b, activation, a if residual else None, static=statics[name])
                continue
            if name == self.exclude:
                v = a @ w + (b if b is not None else 0)
                v = np.maximum(v, 0) if activation == "relu" else v
                a = (v + a if residual else v).astype(np.float32)
                continue
            a = gemm(a, w, b, activation, a if residual else None)
        return a.reshape(*x.shape[:-1], a.shape[-1])


CASES = [
    Case("matmul", 64, False, [("matmul", 48, False, None, False)]),
    Case("bias_relu", 64, True, [("matmul", 40, True, "relu", False)]),
    Case("bias_gelu_then_residual", 96, True,
         [("matmul", 96, True, "gelu", False), ("matmul", 96, True, None, True)]),
    Case("gemm_transposed", 72, False, [("gemm", 33, True, None, False)]),
    Case("odd_depth", 37, True, [("matmul", 19, True, "relu", False)]),
    # K in 3 slices of the bf16 GEMM (301, 301, 298 steps): partial sums.
    Case("deep", 900, False, [("matmul", 40, True, None, False)]),
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


CALIBRATED = re.compile(r"calibrated (\S+)\s+seen \[(\S+), (\S+)\], range \[(\S+), (\S+)\]: "
                        r"scale (\S+), zero point (\d+)")


def calibration_sets(case, tmp, rng):
    """Three input sets under tmp/calibration, and the inputs."""
    sets = []
    for i, rows in enumerate(((1, 5), (2, 7), (1, 3)) if case.rank3 else ((4,), (9,), (2,))):
        x = (rng.standard_normal((*rows, case.k)) * 2).astype(np.float32)
        x[..., 0] += 3
        folder = tmp / "calibration" / f"{i:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / "x.npy", x)
        sets.append(x)
    return tmp / "calibration", sets


def check_calibration(case, args, stderr, sets):
    """Kiln's calibrated (scale, zero point) per layer, after checking each
    layer's range against NumPy's; (statics, problems)."""
    found = {m.group(1): [float(v) for v in m.groups()[1:6]] + [int(m.group(7))]
             for m in CALIBRATED.finditer(stderr)}
    statics, problems = {}, []
    for i, (_, _, _, _, _, name) in enumerate(case.weights):
        if name == case.exclude:
            continue
        if name not in found:
            problems.append(f"layer {name} was not calibrated (kiln --stats: {stderr[-300:]})")
            continue
        seen_lo, seen_hi, lo, hi, scale, zero = found[name]
        values = np.concatenate([case.layer_inputs(x)[name].ravel() for x in sets])
        # The first layer's A is the input itself: its extremes are exact.
        tol = 0.0 if i == 0 else 1e-5 * float(np.abs(values).max())
        if abs(seen_lo - values.min()) > tol or abs(seen_hi - values.max()) > tol:
            problems.append(f"layer {name}: Kiln saw [{seen_lo}, {seen_hi}], NumPy "
                            f"[{values.min()}, {values.max()}]")
        if args.calibration_method == "minmax":
            want_lo, want_hi, bins = values.min(), values.max(), tol
        elif args.calibration_method == "percentile":
            # Kiln's percentile is the value where the count below reaches
            # the fraction (the inverted CDF), found in its histogram.
            p = args.calibration_percentile
            want_lo = np.percentile(values, 100 - p, method="inverted_cdf")
            want_hi = np.percentile(values, p, method="inverted_cdf")
            bins = 2 * (seen_hi - seen_lo) / 2048 + tol
        else:  # entropy: a threshold of |A| inside what was seen
            want_lo, want_hi, bins = max(seen_lo, -max(-lo, hi)), min(seen_hi, max(-lo, hi)), 0.0
        if abs(lo - want_lo) > bins or abs(hi - want_hi) > bins:
            problems.append(f"layer {name}: range [{lo}, {hi}], expected [{want_lo}, {want_hi}] "
                            f"within {bins:.3g}")
        low, high = np.float32(min(0.0, lo)), np.float32(max(0.0, hi))
        want_scale = np.float32((high - low) / np.float32(255))
        if abs(scale - want_scale) > 1e-6 * want_scale:
            problems.append(f"layer {name}: scale {scale} for the range, expected {want_scale}")
        statics[name] = (np.float32(scale), zero)
    return statics, problems


def check(case, args, tmp, rng):
    model = case.build(rng)
    path = tmp / f"{case.name}.onnx"
    onnx.save(model, path)
    flags = ["--quantize", args.quantize] + (["--quantize-exclude", case.exclude] if case.exclude else [])
    statics, problems = None, []
    if args.quantize == "int8-static":
        folder, sets = calibration_sets(case, tmp, rng)
        flags += ["--calibration-data", folder, "--calibration-method", args.calibration_method]
        if args.calibration_method == "percentile":
            flags += ["--calibration-percentile", str(args.calibration_percentile)]
    lib = tmp / f"{case.name}.so"
    compiled = run([args.kiln, "compile", path, "-o", lib, "--stats", *flags])
    if args.quantize == "int8-static":
        statics, problems = check_calibration(case, args, compiled.stderr, sets)
    run([args.kiln, "compile", path, "-o", tmp / "model.mlir", "--emit=mlir", *flags])
    mlir = (tmp / "model.mlir").read_text()
    expected_calls = len(case.layers) - (1 if case.exclude else 0)
    if args.quantize == "bf16":
        # One packed bf16 constant per layer: llvm.mlir.global @__constant_...xbf16.
        calls, what = len(set(re.findall(r"@__constant_[0-9x]*xbf16[_0-9]*", mlir))), "bf16 weights"
    else:
        calls, what = mlir.count("call @kiln_rt_qgemm("), "kiln_rt_qgemm calls"
    if calls != expected_calls:
        problems.append(f"{calls} {what}, expected {expected_calls}")
    bf16 = args.quantize == "bf16"
    exact = bf16 and case.exact()
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for rows in ((1, 5), (3, 64)) if case.rank3 else ((5,), (129,)):
        # Wider than the calibration sets: static ranges saturate.
        x = (rng.standard_normal((*rows, case.k)) * 3).astype(np.float32)
        x[..., 0] += 4  # rows with offsets: za != 0
        np.save(tmp / "x.npy", x)
        out = tmp / "out"
        run([args.kiln_run, lib, "--threads", "2", "--output-dir", out, f"--input", f"x={tmp / 'x.npy'}"])
        got = np.load(out / f"{case.output}.npy")
        want = case.reference(x, bf16gemm if bf16 else qgemm, statics)
        fp32 = session.run(None, {"x": x})[0]
        err = float(np.abs(got - want).max() / max(np.abs(want).max(), 1e-30))
        cosine = float((got * fp32).sum() / (np.linalg.norm(got) * np.linalg.norm(fp32)))
        if exact and not np.array_equal(got.view(np.uint32), want.view(np.uint32)):
            problems.append(f"rows {rows}: {int((got != want).sum())} elements differ from "
                            f"the exact bf16 reference (max relative error {err:.2e})")
        # A static scale after a GELU: the kernel's GELU polynomial (within
        # 1.2e-7) may put a value on the other side of a rounding tie of
        # a / sa, which moves that output by one quantization step.
        gelu_before_int8 = statics is not None and any(layer[3] == "gelu" for layer in case.layers[:-1])
        if not err <= (1e-3 if gelu_before_int8 else TOLERANCE):
            problems.append(f"rows {rows}: relative error {err:.2e} to the {args.quantize} reference")
        # Random weights and inputs beyond the calibrated range: the static
        # scales' own error is larger (trained models: minilm_accuracy.py).
        if not cosine >= (0.99 if statics is not None else MIN_COSINE_TO_FP32):
            problems.append(f"rows {rows}: cosine {cosine:.6f} to fp32")
        print(f"  {case.name} rows {rows}: rel err to {args.quantize} reference {err:.1e}"
              f"{' (bit for bit)' if exact else ''}, cosine to fp32 {cosine:.6f}")
    for p in problems:
        print(f"FAIL {case.name}: {p}")
    return not problems


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kiln", default=ROOT / "build" / "bin" / "kiln")
    parser.add_argument("--kiln-run", default=ROOT / "build" / "bin" / "kiln-run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quantize", choices=["int8", "int8-static", "bf16"], default="int8")
    parser.add_argument("--calibration-method", choices=["minmax", "percentile", "entropy"],
                        default="minmax")
    parser.add_argument("--calibration-percentile", type=float, default=99.9)
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
