#!/usr/bin/env python3
"""Pruned weights on the sparse GEMM, against ONNX Runtime on the same file.

Each case is a small model whose MatMul or Gemm weights were pruned with
NumPy (by magnitude, tools/prune_weights.py: 1x4 blocks of columns, or
single values) and saved as
an ordinary dense ONNX file. `kiln compile` (from -O1,
--sparse-weights=auto by default) should run them on the runtime's sparse
GEMM (kiln-pack-sparse-gemm-weights, kiln_rt_sparse_gemm) and keep dense
weights dense; `kiln-run` runs each at two row counts, and every output
must match onnxruntime on the same file within atol = rtol = 1e-4.

So that the sparse path cannot be skipped silently, each case also says how
many kiln_rt_sparse_gemm calls the LLVM-dialect MLIR (`kiln compile
--emit=mlir`) must hold, with the flags it is compiled with
(--sparse-weights=always makes a dense weight sparse, =off none).

The int8 cases (`--quantize int8`: the pruned zeros quantize to exactly 0)
count kiln_rt_sparse_qgemm calls instead (kiln-pack-sparse-qgemm-weights)
and must give the outputs of the same model compiled with
`--sparse-weights=off`, whose GEMMs are the dense int8 ones, bit for bit:
the sparse int8 GEMM's sums are exact and its float operations the dense
one's (onnxruntime's fp32 is no reference for int8).

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

from prune_weights import prune_matrix

ROOT = pathlib.Path(__file__).resolve().parent.parent
K, N = 100, 76  # neither a multiple of 16 nor of 64 rows' worth
ROWS = (5, 130)


class Graph:
    def __init__(self, rng):
        self.rng, self.nodes, self.initializers = rng, [], []

    def weight(self, shape, sparsity=None, block=1, transposed=False):
        name = f"w{len(self.initializers)}"
        w = self.rng.normal(0, 1, shape).astype(np.float32)
        if sparsity is not None:
            w = prune_matrix(w.T if transposed else w, sparsity, block)
            w = w.T if transposed else w
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(w), name))
        return name

    def op(self, op_type, *inputs, **attrs):
        out = f"t{len(self.nodes)}"
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], **attrs))
        return out


def const(g, value):
    name = f"c{len(g.initializers)}"
    g.initializers.append(numpy_helper.from_array(np.array(value, np.float32), name))
    return name



def gelu(g, y):
    e = g.op("Erf", g.op("Div", y, const(g, math.sqrt(2))))
    return g.op("Mul", g.op("Mul", y, g.op("Add", e, const(g, 1.0))), const(g, 0.5))


def matmul(g, x, sparsity, block):
    return g.op("MatMul", x, g.weight((K, N), sparsity, block))


def build(kind, g):
    """The graph of case `kind` on input x; its output's name."""
    if kind == "matmul_1x4":
        return matmul(g, "x", 0.8, 4)
    if kind == "matmul_unstructured":
        return matmul(g, "x", 0.9, 1)
    if kind == "gemm_transb_bias_relu":
        # Gemm with transB: the weight is N x K in the file, pruned in 1x4
        # blocks of B's columns (N), i.e. of the file's rows.
        w = g.weight((N, K), 0.8, 4, transposed=True)
        y = g.op("Gemm", "x", w, const(g, g.rng.uniform(-1, 1, N)), transB=1)
        return g.op("Relu", y)
    if kind == "linear_gelu_residual":
        y = g.op("Add", matmul(g, "x", 0.85, 4), const(g, g.rng.uniform(-1, 1, N)))
        r = g.op("MatMul", "x", g.weight((K, N)))  # dense: stays on the dense GEMM
        return g.op("Add", gelu(g, y), r)
    if kind == "two_layers":
        h = g.op("Relu", matmul(g, "x", 0.9, 1))
        return g.op("MatMul", h, g.weight((N, K), 0.8, 4))
    if kind in ("dense", "dense_always"):
        return matmul(g, "x", None, 1)
    if kind == "sparse_off":
        return matmul(g, "x", 0.8, 4)
    raise ValueError(kind)


# (case, input dims, kiln compile flags, kiln_rt_sparse_gemm calls expected)
CASES = [
    ("matmul_1x4", ["n", K], [], 1),
    ("matmul_unstructured", ["n", K], [], 1),
    ("gemm_transb_bias_relu", ["n", K], [], 1),
    ("linear_gelu_residual", ["b", "n", K], [], 1),
    ("two_layers", ["n", K], [], 2),
    ("dense", ["n", K], [], 0),
    ("dense_always", ["n", K], ["--sparse-weights=always"], 1),
    ("sparse_off", ["n", K], ["--sparse-weights=off"], 0),
    ("matmul_1x4", ["n", K], ["--quantize", "int8"], 1),
    ("matmul_unstructured", ["n", K], ["--quantize", "int8"], 1),
    ("gemm_transb_bias_relu", ["n", K], ["--quantize", "int8"], 1),
    ("linear_gelu_residual", ["b", "n", K], ["--quantize", "int8"], 1),
    ("two_layers", ["n", K], ["--quantize", "int8"], 2),
    ("dense", ["n", K], ["--quantize", "int8"], 0),
    ("dense_always", ["n", K], ["--quantize", "int8", "--sparse-weights=always"], 1),
]


def run(cmd):
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed:\n{result.stderr}")
    return result.stdout


def compile_counting(args, path, library, flags, call):
    """Compiles `path` to `library` with `flags`; the `call`s in its MLIR."""
    mlir = library.with_suffix(".mlir")
    run([args.kiln, "compile", path, "-o", library, *flags])
    run([args.kiln, "compile", path, "--emit=mlir", "-o", mlir, *flags])
    return mlir.read_text().count(f"llvm.call @{call}(")


def check(name, dims, flags, calls, args, tmp: pathlib.Path, seed: int) -> bool:
    rng = np.random.default_rng(seed)
    g = Graph(rng)
    out = build(name, g)
    g.nodes[-1].output[0] = "y"
    out_dims = dims[:-1] + [N if name != "two_layers" else K]
    graph = helper.make_graph(
        g.nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_dims)],
        initializer=g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    int8 = "--quantize" in flags
    tag = name + ("-int8" if int8 else "") + ("-always" if "--sparse-weights=always" in flags else "")
    path = tmp / f"{tag}.onnx"
    onnx.save(model, path)
    library = tmp / f"{tag}.so"
    call = "kiln_rt_sparse_qgemm" if int8 else "kiln_rt_sparse_gemm"
    try:
        found = compile_counting(args, path, library, flags, call)
        # int8: the reference is the dense int8 build of the same file.
        if int8:
            dense = tmp / f"{tag}.dense.so"
            compile_counting(args, path, dense, [*flags, "--sparse-weights=off"], call)
    except RuntimeError as error:
        print(f"FAILED {tag}: {error}")
        return False
    ok = found == calls
    if not ok:
        print(f"FAILED {tag}: {found} {call} calls, expected {calls}")
    session = None if int8 else ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for rows in ROWS:
        shape = [rows, K] if len(dims) == 2 else [2, rows, K]
        x = rng.uniform(-1, 1, shape).astype(np.float32)
        run_dir = tmp / f"{tag}.{rows}"
        run_dir.mkdir()
        np.save(run_dir / "x.npy", x)
        try:
            got = kiln_run(args, library, run_dir, "out")
            want = kiln_run(args, dense, run_dir, "dense") if int8 else session.run(None, {"x": x})[0]
        except RuntimeError as error:
            print(f"FAILED {tag} n={rows}: {error}")
            ok = False
            continue
        if got.shape != want.shape:
            print(f"FAILED {tag} n={rows}: shape {got.shape} vs {want.shape}")
            ok = False
            continue
        diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
        bad = (got != want) if int8 else diff > args.atol + args.rtol * np.abs(want)
        status = "ok" if not bad.any() else "FAILED"
        against = "dense int8, bit for bit" if int8 else "onnxruntime"
        print(f"{status:6} {tag} n={rows} max|diff|={diff.max():.2e} vs {against} "
              f"max|y|={np.abs(want).max():.3g} sparse calls={found}")
        ok &= not bad.any()
    return ok


def kiln_run(args, library, run_dir, out):
    """The output y of `library` on run_dir/x.npy."""
    run([args.kiln_run, library, "--input", f"x={run_dir / 'x.npy'}",
         "--output-dir", run_dir / out])
    return np.load(run_dir / out / "y.npy")


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
        results = [check(*case, args, pathlib.Path(tmp), seed)
                   for seed, case in enumerate(cases)]
    print(f"{sum(results)}/{len(results)} cases match onnxruntime "
          f"(atol={args.atol}, rtol={args.rtol}; int8: the dense int8 build, bit for bit) "
          f"with the expected sparse GEMM calls")
    return 0 if results and all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
