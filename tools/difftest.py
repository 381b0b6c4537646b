#!/usr/bin/env python3
"""Differential tester: random valid ONNX graphs, Kiln against ONNX Runtime.

Each graph chains ops Kiln imports (elementwise ops; MatMul -> Add(bias) ->
Relu, Gelu, GELU written out with Erf or Tanh, Clip, LeakyRelu, Sigmoid or
Tanh, with residual Adds; Gemm, reductions, ArgMax, Softmax,
LayerNormalization, Transpose, Reshape, Concat, Split, Slice, Gather, Where,
comparisons, Cast, QuantizeLinear -> DequantizeLinear pairs and Gathers from
dequantized int8 tables, attention blocks (MatMul, scale, mask, Softmax,
MatMul, Transposes; the mask sometimes ViT's all-true Where of an Expand,
V sometimes K itself),
BERT's position embeddings (a Gather at ids sliced out of a constant arange
up to a dim read by Shape), GatherElements, ScatterElements and ScatterND (with
reductions), TopK and Hardmax of exact values, CumSum, Tile, Expand, Pad
(constant, reflect, edge), Trilu, OneHot, Einsum, Resize (nearest, linear,
cubic), Conv (1-D to 3-D, grouped, depthwise), MaxPool, AveragePool and their Global forms,
InstanceNormalization, BatchNormalization, DepthToSpace, SpaceToDepth,
Reciprocal, Exp and Log on safe ranges, IsNaN, IsInf, variadic Max and Min,
Mod with fmod, ...) on float32, int64, int32 and bool values whose
shapes mix static dims and symbolic ones (dim_params) and broadcast
numpy-style. A graph that onnx.checker (full_check) or ONNX Runtime (CPU, no
graph optimisations) rejects is discarded and counted. The rest are compiled
by `kiln compile` at -O0 and -O3 (symbolic dims kept), run by `kiln-run` at
two bindings of the symbols, and each output compared with ONNX Runtime's:
floats within atol = rtol = 1e-4 (NaN equals NaN), ints and bools exactly.

A finding is a mismatch, a compile error ("unsupported" if the message says
so, else a compile failure; a run that fails because Kiln specialised a node
for one input's `?` dim being the output's size, a documented limit, also
counts as "unsupported"), a crash (kiln or kiln-run killed by a signal),
a run failure (kiln-run exits non-zero) or a timeout. Each is shrunk while
the same kind of finding at the same -O level persists: outputs dropped,
nodes deleted (an output rewired to an input of the node, or cut into a
graph input), symbol values and static sizes lowered. The run ends with a
summary and exits 1 on any finding (or, replaying, a discarded graph).

Usage:
  tools/difftest.py --seed 1 --count 50       # graphs 0..49 of seed 1
  tools/difftest.py --seed 1 --count 10000    # the long run (hours)
  tools/difftest.py --seed 1 --start 17 --count 1 --keep-failures /tmp/f
  tools/difftest.py --replay test/difftest/regressions   # .onnx files or dirs
  tools/difftest.py --seed 2 --count 500 --gpu-compile   # also compile each for the GPU
  tools/difftest.py --seed 2 --count 500 --gpu-run       # ... and run it, emulated on the CPU
  tools/difftest.py --seed 2 --count 500 --gpu-symbolic  # ... symbols kept, every binding
  tools/difftest.py --seed 2 --count 500 --gpu-half --gpu-symbolic  # both, and fp16 symbolic
  tools/difftest.py --seed 2 --count 500 --float16-model  # each graph made float16

A graph depends only on --seed and its index. --keep-failures DIR writes, per
failing graph, model.onnx, shrunk.onnx, the shrunk graph's inputs (.npy) and
repro.txt (commands that show the failure). Input kinds and the symbols'
values are stored in the model (metadata_props "difftest") for --replay.
--dynamic-broadcast lets distinct symbols broadcast against each other (one
of them 1 at run time), a known Kiln bug when this was written.
"""

import argparse
import collections
import concurrent.futures
import json
import math
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto as TP, helper, numpy_helper

from float16_model import float16_model  # tools/, beside this

ROOT = pathlib.Path(__file__).resolve().parent.parent
from gpu_check import BUILT_FAKE_DRIVER, emulation_env  # noqa: E402  (tools/, beside this)
F32, I64, I32, BOOL = TP.FLOAT, TP.INT64, TP.INT32, TP.BOOL
SIZES = [1, 2, 3, 4, 5, 7, 8, 16, 17]
INT_MAX, INT_MIN = 2**63 - 1, -2**63
OPT_LEVELS = ("-O0", "-O3")
# --gpu-compile: also `kiln compile --target cuda` (kernels, and cuBLASLt in
# fp16), the graph's symbols bound as in its first binding; compile only,
# nothing runs (no GPU here). A crash or an unexpected compile error is a
# finding; shapes that depend on input values are the GPU path's
# documented limit, refused with a clear error: not counted.
GPU_TARGETS = {"cuda": ["--target", "cuda"],
               "cuda-cublas-fp16": ["--target", "cuda", "--gpu-gemm=cublas", "--precision", "fp16"],
               "cuda-cublas-fp16-fused": ["--target", "cuda", "--gpu-gemm=cublas", "--precision",
                                          "fp16", "--gpu-attention=fused"]}
# --gpu-run: the GPU path compiled with --gpu-emulation (its kernels compiled
# for this CPU) and run on the test CUDA driver, which is also a fake
# cuBLASLt and checks the kernels for races (docs/gpu.md): the GPU path's
# numerics against onnxruntime, on the first input binding (the one the
# compile fixes the dims to).
GPU_RUN_TARGETS = {"cuda-emulated": ["--target", "cuda", "--gpu-emulation"],
                   "cuda-emulated-cublas": ["--target", "cuda", "--gpu-gemm=cublas",
                                            "--gpu-emulation"]}
# --gpu-half: also cuBLASLt fp16 with half storage (tensors between kernels
# in fp16), fused attention (one tensor-core kernel where the head size
# allows) and GELU in its tanh form (--gpu-gelu=tanh), emulated like
# --gpu-run. Its outputs are held to fp16's
# accuracy: within 5e-2 of onnxruntime's times the output's largest
# magnitude (at least 1); outputs beyond 1e4 (near fp16's range, where
# half storage saturates by design) are not compared, nor are boolean and
# integer outputs (an Equal or a Cast to int of a value rounded to fp16 may
# rightly differ from onnxruntime's of the fp32 value: seed 81, graph 139,
# Equal(Min(a, b), a)). Opt-in, not in ctest.
HALF_TARGET = "cuda-emulated-cublas-fp16-half"
HALF_FLAGS = ["--target", "cuda", "--gpu-gemm=cublas", "--precision", "fp16",
              "--gpu-attention=fused", "--gpu-gelu=tanh", "--gpu-emulation"]
HALF_TOLERANCE, HALF_RANGE = 5e-2, 1e4
# --gpu-symbolic: the GPU path with the graph's symbols kept (no --dim),
# emulated like --gpu-run, and run on every input binding as the CPU
# builds are: one library over all of them.
SYMBOLIC_TARGET = "cuda-emulated-symbolic"
SYMBOLIC_FLAGS = ["--target", "cuda", "--gpu-emulation"]
# --gpu-half with --gpu-symbolic: --gpu-half's build (fused attention over
# symbolic batch, heads and sequence lengths) with the symbols kept, run on
# every binding and held to fp16's accuracy.
HALF_SYMBOLIC_TARGET = "cuda-emulated-cublas-fp16-half-symbolic"
SYMBOLIC_TARGETS = (SYMBOLIC_TARGET, HALF_SYMBOLIC_TARGET)
HALF_TARGETS = (HALF_TARGET, HALF_SYMBOLIC_TARGET)
OPT_IN_TARGETS = (HALF_TARGET, *SYMBOLIC_TARGETS)
GPU_UNSUPPORTED = re.compile(r"the GPU path needs static shapes|cannot run on the GPU: the host "
                             r"would need|cannot place this buffer in device memory|"
                             r"the GPU path needs such shapes known when compiling")
UNSUPPORTED = re.compile(r"unsupported|not supported", re.I)
# The run-time error of a node Kiln specialised for one input's `?` dim being
# the output's size (a documented limit of its dynamic broadcasting).
SPECIALISED = re.compile(r"Kiln compiled this node taking that dim as the output's size")
np_type = helper.tensor_dtype_to_np_dtype
# --float16-model: each graph with its float32 tensors made float16. ORT's
# CPU provider and Kiln both compute such a model in f32 and round its
# outputs, so floats agree within a few fp16 ulps (FLOAT16_TOLERANCE, on
# rtol and atol) and ints and bools exactly. Opt-in, not in ctest.
FLOAT16_TOLERANCE = 4e-3

# A dim is a polynomial in the symbols: a sorted tuple of (monomial, coeff),
# a monomial a sorted tuple of symbol names: 6 is (((), 6),), N is
# ((("N",), 1),). Run-time markers "~k" stand for dims Kiln only knows at
# run time (computed shapes); their value is 1.


def dim(x):
    """The dim of an int or a symbol name."""
    return ((((x,), 1),) if isinstance(x, str) else (((), x),))


ONE = dim(1)


def dim_add(*dims):
    """The sum of dims."""
    acc = collections.Counter()
    for d in dims:
        for m, c in d:
            acc[m] += c
    return tuple(sorted((m, c) for m, c in acc.items() if c))


def dim_mul(a, b):
    """The product of two dims."""
    acc = collections.Counter()
    for ma, ca in a:
        for mb, cb in b:
            acc[tuple(sorted(ma + mb))] += ca * cb
    return tuple(sorted((m, c) for m, c in acc.items() if c))


def dim_value(d, env):
    """d's value once the symbols have values (env)."""
    return sum(c * math.prod(env.get(s, 1) for s in m) for m, c in d)


def dynamic(d, k):
    """d as a dim Kiln only knows at run time: in broadcasts it meets only
    itself or a static 1 (a dynamic dim of 1 broadcast is a known bug)."""
    return dim_add(d, dim(-1), dim(f"~{k}"))


def static(d):
    """A static dim's value, else None."""
    return sum(c for _, c in d) if all(m == () for m, _ in d) else None


def symbol(d):
    """The symbol (dim_param) d is, else None."""
    ok = len(d) == 1 and d[0][1] == 1 and len(d[0][0]) == 1 and d[0][0][0][0] != "~"
    return d[0][0][0] if ok else None


def declarable(d):
    """Whether a graph input can declare d (a dim_value or a dim_param)."""
    return static(d) is not None or symbol(d) is not None


def broadcast(*shapes):
    """The broadcast of shapes whose aligned dims are equal or 1, else None."""
    rank, out = max(len(s) for s in shapes), []
    for i in range(rank):
        dims = {s[len(s) - rank + i] for s in shapes if len(s) - rank + i >= 0} - {ONE}
        if len(dims) > 1:
            return None
        out.append(dims.pop() if dims else ONE)
    return tuple(out)


class Val:
    """A value: name, dtype, shape (dims) and whether it is exact (inputs and
    what only moves, compares or selects them), as only exact values may feed
    discontinuous ops (comparisons, casts to int, Floor, ArgMax, ...)."""

    def __init__(self, name, dtype, shape, exact):
        self.name, self.dtype, self.shape, self.exact = name, dtype, tuple(shape), exact


class Skip(Exception):
    """An op found nothing in the pool to apply to."""


class Gen:
    """Builds one random graph. Each op_* method adds an op (or a chain)
    on values of the pool and returns its result."""

    UNARY = ["Relu", "Sigmoid", "Tanh", "Neg", "Abs", "Erf", "Softplus", "Softsign", "Sin", "Cos",
             "Atan", "HardSwish", "Elu", "LeakyRelu", "HardSigmoid", "Selu", "Clip", "Sqrt",
             "Gelu", "ThresholdedRelu", "Floor", "Round", "Sign"]
    EXACT_UNARY = {"Relu", "Neg", "Abs", "ThresholdedRelu", "Floor", "Round", "Sign"}
    ACTIVATIONS = ["none", "Relu", "Gelu", "gelu_erf", "gelu_tanh", "Clip", "LeakyRelu",
                   "Sigmoid", "Tanh"]
    REDUCE = ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1",
              "ReduceL2", "ReduceSumSquare", "ReduceLogSumExp"]

    def __init__(self, rng, dynamic_broadcast=False):
        self.rng, self.dynamic_broadcast = rng, dynamic_broadcast
        self.opset = int(rng.choice([17, 18, 20], p=[0.4, 0.4, 0.2]))  # 20: Gelu
        self.symbols = [str(s) for s in rng.choice(["N", "S", "B"], rng.integers(1, 3), False)]
        self.sym_min = {s: 1 for s in self.symbols}
        self.bcast = {}  # with --dynamic-broadcast: fresh symbol -> the one it meets
        self.nodes, self.inits, self.inputs, self.kinds = [], [], [], {}
        self.pool, self.used, self.counter = [], set(), 0
        self.kept = []  # values a generator makes besides its result, kept as outputs

    def pick(self, seq):
        return seq[int(self.rng.integers(len(seq)))]

    def chance(self, p):
        return self.rng.random() < p

    def fresh(self, prefix):
        self.counter += 1
        return f"{prefix}{self.counter}"

    def choose(self, pred=lambda v: True):
        cands = [v for v in self.pool if pred(v)]
        if not cands:
            raise Skip
        return self.pick(cands)

    def rand_dim(self):
        return dim(self.pick(self.symbols)) if self.chance(0.35) else dim(self.pick(SIZES))

    def input(self, dtype, shape, kind=None):
        """A new graph input; kind says how make_feeds fills it."""
        name = self.fresh("in")
        dims = [static(d) if static(d) is not None else symbol(d) for d in shape]
        self.inputs.append(helper.make_tensor_value_info(name, dtype, dims))
        self.kinds[name] = kind or {F32: "float", BOOL: "bool"}.get(dtype, "int")
        return Val(name, dtype, shape, True)

    def const(self, array, dtype=None):
        name = self.fresh("c")
        self.inits.append(numpy_helper.from_array(np.asarray(array, dtype=dtype), name))
        return name

    def operand(self, dtype, shape, nonzero=False):
        """An initializer (static shapes, half the time) or a graph input."""
        if any(static(d) is None for d in shape) or self.chance(0.5):
            return self.input(dtype, shape, "nonzero" if nonzero else None)
        shape_ = [static(d) for d in shape]
        if dtype == F32:
            x = self.rng.uniform(-2, 2, shape_)
            x = np.sign(x) * np.maximum(np.abs(x), 0.5) if nonzero else x
        elif dtype == BOOL:
            x = self.rng.random(shape_) < 0.5
        else:
            x = self.rng.integers(1, 4, shape_) if nonzero else self.rng.integers(-5, 6, shape_)
        return Val(self.const(x.astype(np_type(dtype))), dtype, shape, True)

    def node(self, op, inputs, dtype, shape, exact=False, nout=1, **attrs):
        """Adds a node; returns its output value (a list when nout > 1)."""
        if shape is None:
            raise Skip  # operands that do not broadcast together
        names = [x.name if isinstance(x, Val) else x for x in inputs]
        self.used.update(names)
        outs = [self.fresh("t") for _ in range(nout)]
        self.nodes.append(helper.make_node(op, names, outs, **attrs))
        vals = [Val(o, dtype, shape, exact) for o in outs]
        return vals[0] if nout == 1 else vals

    def ints(self, values):
        return self.const(np.array(values, dtype=np.int64))

    def scalar(self, x, dtype=F32):
        return self.const(np.array(x, dtype=np_type(dtype)))

    def partner(self, a, dtype=None, exact=False, nonzero=False):
        """A second operand broadcasting against a: a pool value, or a new one
        whose shape drops leading dims of a's, has 1 where a has a dim (static
        or symbolic), a dim where a has 1, or an extra leading dim."""
        dtype = dtype or a.dtype
        cands = [v for v in self.pool if v.dtype == dtype and v is not a and (v.exact or not exact)
                 and broadcast(a.shape, v.shape) is not None]
        if cands and not nonzero and self.chance(0.4):
            return self.pick(cands)
        shape = []
        for d in a.shape[len(a.shape) - int(self.rng.integers(0, len(a.shape) + 1)):]:
            r = self.rng.random()
            if d == ONE and r < 0.3:
                d = self.rand_dim()
            elif r < 0.3 or not declarable(d):
                d = ONE
            elif self.dynamic_broadcast and symbol(d) and r < 0.6:
                fresh = self.fresh("D")
                self.bcast[fresh] = symbol(d)
                d = dim(fresh)
            shape.append(d)
        if len(shape) == len(a.shape) < 4 and self.chance(0.15):
            shape.insert(0, self.rand_dim())
        return self.operand(dtype, tuple(shape), nonzero)

    def out_shape(self, *vals):
        """The broadcast shape of values (fresh broadcast symbols resolved)."""
        return broadcast(*[tuple(dim(self.bcast[symbol(d)]) if symbol(d) in self.bcast else d
                                 for d in v.shape) for v in vals])

    def clip(self, a, lo, hi):
        """Clip with optional bounds (constant inputs)."""
        ins = [a, "" if lo is None else self.scalar(lo, a.dtype)]
        ins += [] if hi is None else [self.scalar(hi, a.dtype)]
        return self.node("Clip", ins, a.dtype, a.shape, a.exact)

    def clip_bounds(self):
        u = self.rng.uniform
        return self.pick([(0.0, 6.0), (0.0, None), (None, 6.0), (-1.0, 1.0), (0.0, 20.0),
                          (None, 0.5), (float(u(-3, 0)), float(u(0, 3)))])

    def op_unary(self):
        """A unary op (with random attributes) fitting the value's dtype."""
        a = self.choose()
        if a.dtype == BOOL:
            return self.node("Not", [a], BOOL, a.shape, True)
        if a.dtype != F32:
            op = self.pick(["Neg", "Abs", "Sign", "Clip"])
            return self.clip(a, -2, 3) if op == "Clip" else self.node(op, [a], a.dtype, a.shape, True)
        op = self.pick(self.UNARY)
        if op in ("ThresholdedRelu", "Floor", "Round", "Sign") and not a.exact:
            op = "Relu"  # discontinuous: only on exact values
        if op == "Gelu" and self.opset < 20:
            op = "Tanh"
        u = lambda lo, hi: float(self.rng.uniform(lo, hi))  # noqa: E731
        attrs = {"Elu": {"alpha": u(0.1, 2)}, "LeakyRelu": {"alpha": u(-0.5, 1.5)},
                 "HardSigmoid": {"alpha": u(0.05, 0.5), "beta": u(0.2, 0.8)},
                 "Selu": {"alpha": u(1, 2), "gamma": u(0.5, 1.5)},
                 "ThresholdedRelu": {"alpha": u(-1, 1)},
                 "Gelu": {"approximate": self.pick(["none", "tanh"])}}.get(op, {})
        if op == "Clip":
            return self.clip(a, *self.clip_bounds())
        if op == "Sqrt":
            a = self.node("Abs", [a], F32, a.shape, a.exact)
        return self.node(op, [a], F32, a.shape, a.exact and op in self.EXACT_UNARY,
                         **({} if self.chance(0.3) and op != "Gelu" else attrs))

    def op_binary(self):
        """A binary (or variadic) op against a broadcasting partner."""
        a = self.choose()
        if a.dtype == BOOL:
            op = self.pick(["And", "Or", "Xor"])
        elif a.dtype == F32:
            op = self.pick(["Add", "Sub", "Mul", "Div", "Max", "Min", "Pow", "Sum", "Mean"])
        else:
            op = self.pick(["Add", "Sub", "Mul", "Div", "Max", "Min", "Mod"])
        if op == "Pow":
            return self.node("Pow", [a, self.scalar(self.pick([2.0, 3.0]))], F32, a.shape)
        b = self.partner(a, nonzero=op in ("Div", "Mod"))
        args = [a, b] if op in ("Div", "Mod") or self.chance(0.5) else [b, a]
        if op in ("Sum", "Mean"):
            args.append(self.partner(a))
        exact = a.dtype != F32 or (op in ("Max", "Min") and all(v.exact for v in args))
        return self.node(op, args, a.dtype, self.out_shape(*args), exact)

    def activation(self, y, act):
        """act(y) after a GEMM: an op, or GELU written out (with Erf or Tanh)."""
        c = self.scalar
        n = lambda op, *ins: self.node(op, list(ins), F32, y.shape)  # noqa: E731
        if act == "Gelu" and self.opset < 20:
            act = "gelu_erf"
        if act == "none":
            return y
        if act == "gelu_erf":  # 0.5 * x * (1 + erf(x / sqrt(2)))
            e = n("Erf", n("Div", y, c(math.sqrt(2))) if self.chance(0.5)
                  else n("Mul", y, c(1 / math.sqrt(2))))
            return n("Mul", n("Mul", y, n("Add", e, c(1.0))), c(0.5))
        if act == "gelu_tanh":  # 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))
            cube = n("Pow", y, c(3.0)) if self.chance(0.5) else n("Mul", y, n("Mul", y, y))
            inner = n("Mul", c(math.sqrt(2 / math.pi)), n("Add", y, n("Mul", cube, c(0.044715))))
            return n("Mul", c(0.5), n("Mul", y, n("Add", c(1.0), n("Tanh", inner))))
        if act == "Clip":
            return self.clip(y, *self.clip_bounds())
        attrs = {"Gelu": {"approximate": self.pick(["none", "tanh"])},
                 "LeakyRelu": {"alpha": self.pick([0.01, 0.1, 0.2])}}.get(act, {})
        return self.node(act, [y], F32, y.shape, **attrs)

    def op_chain(self):
        """MatMul by weights -> Add(bias) -> activation, maybe a residual Add."""
        a = self.choose(lambda v: v.dtype == F32 and v.shape and static(v.shape[-1]))
        k = static(a.shape[-1])
        n = self.pick(SIZES + [k] * 4 + [32, 48])
        w = self.const((self.rng.uniform(-1, 1, (k, n)) / math.sqrt(k)).astype(np.float32))
        mm = self.node("MatMul", [a, w], F32, a.shape[:-1] + (dim(n),))
        bias_shape = self.pick([(n,), (n,), (1, n)])
        bias = self.const(self.rng.uniform(-1, 1, bias_shape).astype(np.float32))
        y = self.node("Add", [mm, bias] if self.chance(0.7) else [bias, mm], F32,
                      broadcast(mm.shape, tuple(dim(x) for x in bias_shape)))
        y = self.activation(y, "Gelu" if self.opset >= 20 and self.chance(0.4)
                            else self.pick(self.ACTIVATIONS))
        if y.shape == a.shape and self.chance(0.5):
            y = self.node("Add", [y, a] if self.chance(0.5) else [a, y], F32, y.shape)
        return y

    def op_matmul(self):
        """MatMul of two activations: batch dims broadcast, K maybe symbolic;
        or matrix by vector."""
        a = self.choose(lambda v: v.dtype == F32 and len(v.shape) >= 2 and declarable(v.shape[-1]))
        if self.chance(0.2):
            return self.node("MatMul", [a, self.input(F32, a.shape[-1:])], F32, a.shape[:-1])
        batch = tuple(d if declarable(d) and self.chance(0.7) else ONE
                      for d in a.shape[:-2][int(self.rng.integers(0, len(a.shape) - 1)):])
        b = self.input(F32, batch + (a.shape[-1], self.rand_dim()))
        return self.node("MatMul", [a, b], F32,
                         broadcast(a.shape[:-2], batch) + (a.shape[-2], b.shape[-1]))

    def op_gemm(self):
        """Gemm with transA/transB, alpha, beta, maybe C, maybe an activation."""
        ta, tb = int(self.chance(0.3)), int(self.chance(0.5))
        a = self.choose(lambda v: v.dtype == F32 and len(v.shape) == 2 and static(v.shape[1 - ta]))
        m, k, n = a.shape[ta], static(a.shape[1 - ta]), self.pick(SIZES)
        b = self.const((self.rng.uniform(-1, 1, (n, k) if tb else (k, n)) / math.sqrt(k))
                       .astype(np.float32))
        attrs = {"transA": ta, "transB": tb}
        if self.chance(0.5):
            attrs.update(alpha=float(self.rng.uniform(-2, 2)), beta=float(self.rng.uniform(-2, 2)))
        ins = [a, b]
        if self.chance(0.7):
            shapes = [(dim(n),), (ONE, dim(n)), (), (m, ONE), (m, dim(n))]
            ins.append(self.operand(F32, self.pick(shapes[:None if declarable(m) else 3])))
        y = self.node("Gemm", ins, F32, (m, dim(n)), **attrs)
        return self.activation(y, self.pick(self.ACTIVATIONS)) if self.chance(0.5) else y

    def op_reduce(self):
        """A Reduce* op (axes an input or, before opset 18, an attribute), or
        ArgMax/ArgMin of an exact value."""
        a = self.choose(lambda v: v.dtype != BOOL and v.shape)
        r, keep = len(a.shape), int(self.chance(0.5))
        if a.exact and self.chance(0.3):
            axis = int(self.rng.integers(-r, r))
            shape = [ONE if i == axis % r else d for i, d in enumerate(a.shape)
                     if keep or i != axis % r]
            return self.node(self.pick(["ArgMax", "ArgMin"]), [a], I64, shape, True, axis=axis,
                             keepdims=keep, select_last_index=int(self.chance(0.5)))
        op = self.pick(self.REDUCE if a.dtype == F32 else ["ReduceSum", "ReduceMax", "ReduceMin"])
        axes = None
        if self.chance(0.85):
            axes = sorted(self.rng.choice(r, int(self.rng.integers(1, r + 1)), False).tolist())
        attrs, ins = {"keepdims": keep}, [a]
        axes_input = self.opset >= 18 or op == "ReduceSum"
        if axes is None and axes_input and op != "ReduceLogSumExp" and self.chance(0.15):
            attrs.update(noop_with_empty_axes=1, keepdims=1)  # keepdims=0: onnxruntime fails
            return self.node(op, ins, a.dtype, a.shape, a.exact, **attrs)
        if axes is not None:
            coded = [x - r if self.chance(0.3) else x for x in axes]
            if axes_input:
                ins.append(self.ints(coded))
            else:
                attrs["axes"] = coded
        gone = set(range(r)) if axes is None else set(axes)
        shape = [ONE if i in gone else d for i, d in enumerate(a.shape) if keep or i not in gone]
        exact = a.dtype != F32 or (a.exact and op in ("ReduceMax", "ReduceMin"))
        return self.node(op, ins, a.dtype, shape, exact, **attrs)

    def op_softmax(self):
        """Softmax or LogSoftmax along any axis."""
        a = self.choose(lambda v: v.dtype == F32 and v.shape)
        return self.node(self.pick(["Softmax", "LogSoftmax"]), [a], F32, a.shape,
                         axis=int(self.rng.integers(-len(a.shape), len(a.shape))))

    def op_layernorm(self):
        """LayerNormalization over the last dims, with a bias or not."""
        a = self.choose(lambda v: v.dtype == F32 and v.shape)
        axis = int(self.rng.integers(-len(a.shape), len(a.shape)))
        norm = a.shape[axis:]
        if not all(declarable(d) for d in norm) or math.prod(static(d) or 1 for d in norm) < 4:
            raise Skip  # 2 or 3 elements: variances cancel too often for a 1e-4 tolerance
        ins = [a] + [self.operand(F32, norm) for _ in range(int(self.rng.integers(1, 3)))]
        return self.node("LayerNormalization", ins, F32, a.shape, axis=axis,
                         epsilon=self.pick([1e-5, 1e-3, 1e-2]))

    def op_layernorm_spelled(self):
        """A layer norm written out as exporters before opset 17 write it
        (ReduceMean, Sub, Pow or Mul, ReduceMean, Add epsilon, Sqrt, Div,
        maybe Mul scale and Add bias, operands in either order), or a near
        miss that is no layer norm or not only one: the squares' mean over
        other axes, a fourth power, the mean or the deviations read again."""
        a = self.choose(lambda v: v.dtype == F32 and v.shape)
        r = len(a.shape)
        first = int(self.rng.integers(0, r))
        norm = a.shape[first:]
        if not all(declarable(d) for d in norm) or math.prod(static(d) or 1 for d in norm) < 4:
            raise Skip  # as op_layernorm
        miss = self.pick([None] * 5 + ["axes", "power", "mean-used", "deviations-used"])
        axes = list(range(first, r))
        if miss == "axes":
            axes2 = list(range(first - 1, r)) if first > 0 else axes[1:]
            if not axes2:
                raise Skip
        else:
            axes2 = axes

        def mean(v, ax):
            ins, attrs = [v], {"keepdims": 1}
            coded = [x - r if self.chance(0.3) else x for x in ax]
            if self.opset >= 18:
                ins.append(self.ints(coded))
            else:
                attrs["axes"] = coded
            return self.node("ReduceMean", ins, F32,
                             [ONE if i in ax else d for i, d in enumerate(a.shape)], **attrs)

        def either(x, y):
            return [x, y] if self.chance(0.5) else [y, x]

        m = mean(a, axes)
        d = self.node("Sub", [a, m], F32, a.shape)
        if miss == "power" or self.chance(0.5):
            sq = self.node("Pow", [d, self.scalar(4.0 if miss == "power" else 2.0)], F32, a.shape)
        else:
            sq = self.node("Mul", [d, d], F32, a.shape)
        v = mean(sq, axes2)
        eps = np.array(self.pick([1e-5, 1e-3, 1e-2]), dtype=np.float32)
        eps = self.const(eps.reshape([1]) if self.chance(0.3) else eps)
        e = self.node("Add", either(v, eps), F32, v.shape)
        y = self.node("Div", [d, self.node("Sqrt", [e], F32, v.shape)], F32, a.shape)
        if self.chance(0.7):
            y = self.node("Mul", either(y, self.operand(F32, norm)), F32, a.shape)
        if self.chance(0.6):
            y = self.node("Add", either(y, self.operand(F32, norm)), F32, a.shape)
        if miss in ("mean-used", "deviations-used"):
            y = self.node("Add", [y, m if miss == "mean-used" else d], F32, a.shape)
        return y

    def op_transpose(self):
        """Transpose by a random perm, or reversed (no perm)."""
        a = self.choose(lambda v: len(v.shape) >= 2)
        if self.chance(0.2):
            return self.node("Transpose", [a], a.dtype, a.shape[::-1], a.exact)
        perm = [int(p) for p in self.rng.permutation(len(a.shape))]
        return self.node("Transpose", [a], a.dtype, [a.shape[p] for p in perm], a.exact, perm=perm)

    def op_reshape(self):
        """Reshape by a constant shape (dims merged, split, added, dropped; 0
        copies a dim, -1 infers one), or to x.shape[:k] + (-1,) computed
        with Shape and Concat."""
        a = self.choose(lambda v: v.shape)
        if len(a.shape) >= 2 and self.chance(0.25):
            k = int(self.rng.integers(1, len(a.shape)))
            prefix = self.node("Shape", [a], I64, (dim(k),), end=k)
            target = self.node("Concat", [prefix, self.ints([-1])], I64, (dim(k + 1),), axis=0)
            rest = ONE
            for d in a.shape[k:]:
                rest = dim_mul(rest, d)
            return self.node("Reshape", [a, target], a.dtype,
                             a.shape[:k] + (dynamic(rest, self.counter),), a.exact)
        out = list(a.shape)
        for _ in range(int(self.rng.integers(1, 3))):
            i, kind = int(self.rng.integers(len(out) + 1)), self.pick(["merge", "split", "1", "-1"])
            if kind == "merge" and i + 1 < len(out):
                out[i:i + 2] = [dim_mul(out[i], out[i + 1])]
            elif kind == "split" and i < len(out) and (static(out[i]) or 0) > 3:
                n = static(out[i])
                f = [f for f in range(2, n) if n % f == 0]
                out[i:i + 1] = [dim(f[0]), dim(n // f[0])] if f else out[i:i + 1]
            elif kind == "1" and len(out) < 5:
                out.insert(i, ONE)
            elif kind == "-1" and ONE in out and len(out) > 1:
                out.remove(ONE)
        codes = []
        for i, d in enumerate(out):
            if i < len(a.shape) and a.shape[i] == d and (static(d) is None or self.chance(0.2)):
                codes.append(0)
            elif static(d) is not None and (-1 in codes or self.chance(0.8)):
                codes.append(static(d))
            elif -1 in codes:
                raise Skip
            else:  # -1 of a symbolic shape: a size Kiln only knows at run time
                codes.append(-1)
                out[i] = out[i] if all(static(x) for x in a.shape) else dynamic(d, self.counter)
        return self.node("Reshape", [a, self.ints(codes)], a.dtype, out, a.exact)

    def op_concat(self):
        """Concat with new operands (any size on the axis) or the value itself."""
        a = self.choose(lambda v: v.shape)
        r = len(a.shape)
        axis, parts = int(self.rng.integers(r)), [a]
        for _ in range(int(self.rng.integers(1, 3))):
            shape = list(a.shape)
            shape[axis] = self.rand_dim()
            declared = all(declarable(d) for d in shape) and self.chance(0.7)
            parts.append(self.operand(a.dtype, shape) if declared else a)
        shape = list(a.shape)
        shape[axis] = dim_add(*[p.shape[axis] for p in parts])
        return self.node("Concat", parts, a.dtype, shape, all(p.exact for p in parts),
                         axis=axis - r if self.chance(0.3) else axis)

    def op_slice(self):
        """Slice some axes: any bounds (negative, past the ends, INT_MIN/MAX)
        and steps on static dims; all, reversed, a head dropped or a tail
        kept on symbols. Bounds are constants or inputs fed at run time."""
        a = self.choose(lambda v: v.shape)
        r = len(a.shape)
        axes = sorted(self.rng.choice(r, int(self.rng.integers(1, r + 1)), False).tolist())
        starts, ends, steps, shape = [], [], [], list(a.shape)
        for ax in axes:
            d, k = a.shape[ax], int(self.rng.integers(1, 3))
            start, end, step = 0, INT_MAX, 1
            if static(d) is not None:
                n = static(d)
                for _ in range(20):
                    s, e = self.pick([int(self.rng.integers(-n - 2, n + 2)), 0, -1, INT_MIN]), \
                        self.pick([int(self.rng.integers(-n - 2, n + 2)), INT_MAX, INT_MIN])
                    st = self.pick([1, 1, 2, 3, -1, -2])
                    if len(range(n)[s:e:st]):
                        start, end, step = s, e, st
                        break
                shape[ax] = dim(len(range(n)[start:end:step]))
            elif symbol(d):
                case = int(self.rng.integers(4))  # all, reversed, drop k, last k
                start, end, step = [(0, INT_MAX, 1), (-1, INT_MIN, -1), (k, INT_MAX, 1),
                                    (-k, INT_MAX, 1)][case]
                if case >= 2:
                    self.sym_min[symbol(d)] = max(self.sym_min[symbol(d)], k + 1)
                shape[ax] = [d, d, dim_add(d, dim(-k)), dynamic(dim(k), self.counter)][case]
            starts.append(start), ends.append(end), steps.append(step)
        itype = self.pick([np.int64, np.int64, np.int32])
        info = np.iinfo(itype)
        ins = [a]
        for values in (starts, ends):
            values = np.clip(values, info.min, info.max).astype(itype)
            if self.chance(0.25):  # bounds known at run time: dims Kiln cannot know
                ins.append(self.input(helper.np_dtype_to_tensor_dtype(np.dtype(itype)),
                                      (dim(len(values)),), ["value", values.tolist()]))
                shape = [dynamic(d, self.counter) if i in axes else d for i, d in enumerate(shape)]
            else:
                ins.append(self.const(values))
        with_steps = steps != [1] * len(steps) or self.chance(0.3)
        if with_steps or axes != list(range(len(axes))) or self.chance(0.5):
            ins.append(self.const(np.array([x - r if self.chance(0.3) else x for x in axes],
                                           dtype=itype)))
        if with_steps:
            ins.append(self.const(np.array(steps, dtype=itype)))
        return self.node("Slice", ins, a.dtype, shape, a.exact)

    def op_gather(self):
        """Gather with in-range (maybe negative) indices, constant or fed."""
        a = self.choose(lambda v: v.shape and all(declarable(d) for d in v.shape))
        r = len(a.shape)
        axis = int(self.rng.integers(r))
        d, itype = a.shape[axis], self.pick([I64, I64, I32])
        ishape = tuple(dim(self.pick(SIZES[:5])) for _ in range(self.pick([0, 1, 1, 2])))
        if static(d) is not None and self.chance(0.6):
            n = static(d)
            idx = self.const(self.rng.integers(-n, n, [static(x) for x in ishape])
                             .astype(np_type(itype)))
        else:
            idx = self.input(itype, ishape, ["index", d])
        return self.node("Gather", [a, idx], a.dtype, a.shape[:axis] + ishape + a.shape[axis + 1:],
                         a.exact, axis=axis - r if self.chance(0.3) else axis)

    def op_shared_index_gathers(self):
        """Rows of two constant tables at the same fed indices (ONNX
        RotaryEmbedding's cos and sin), the first kept as an output of its
        own: one range check's flag for both Gathers, which the GPU path
        reads at each check (its memory plan must keep the flag until the
        last)."""
        rows, width = self.pick([4, 8, 16]), self.pick([1, 3, 4])
        ishape = tuple(dim(self.pick(SIZES[:5])) for _ in range(self.pick([1, 2])))
        idx = self.input(I64, ishape, ["index", dim(rows)])
        shape = ishape + (dim(width),)
        gathered = [self.node("Gather", [self.const(self.rng.uniform(-2, 2, (rows, width))
                                                    .astype(np.float32)), idx],
                              F32, shape, True, axis=0) for _ in range(2)]
        self.kept.append(gathered[0])
        return gathered[1]

    def op_position_ids(self):
        """BERT's position embeddings: rows of a constant table at ids sliced
        out of a constant arange up to a dim read off a value's Shape (its
        second-to-last, the sequence), added to that value. The slice has
        min(S, 64) ids, which Kiln proves never a broadcasting 1 (read as
        it is); 64 is past every size a run gives a symbol."""
        a = self.choose(lambda v: v.dtype == F32 and len(v.shape) >= 2
                        and static(v.shape[-1]) is not None and declarable(v.shape[-2])
                        and (static(v.shape[-2]) or 0) <= 64)
        r, width = len(a.shape), static(a.shape[-1])
        length = self.node("Shape", [a], I64, [dim(1)], True, start=r - 2, end=r - 1)
        arange = np.arange(64, dtype=np.int64)
        if self.chance(0.5):  # the exports' [1, max_positions] buffer
            arange = arange[None]
            ids = self.node("Slice", [self.const(arange), self.ints([0]), length,
                                      self.ints([1])], I64, (ONE, a.shape[-2]), True)
        else:
            ids = self.node("Slice", [self.const(arange), self.ints([0]), length], I64,
                            (a.shape[-2],), True)
        table = self.const(self.rng.uniform(-2, 2, (64, width)).astype(np.float32))
        rows = self.node("Gather", [table, ids], F32, ids.shape + (a.shape[-1],), True, axis=0)
        return self.node("Add", [a, rows], F32, self.out_shape(a, rows))

    def matrix_dims(self):
        """A 2-D value whose dims inputs can declare, the int64 scalars 0 and
        1, and its row and column counts read off its shape."""
        a = self.choose(lambda v: len(v.shape) == 2 and all(declarable(d) for d in v.shape))
        shape = self.node("Shape", [a], I64, [dim(2)], True)
        zero, one = self.scalar(0, I64), self.scalar(1, I64)
        rows = self.node("Gather", [shape, zero], I64, [], True, axis=0)
        cols = self.node("Gather", [shape, one], I64, [], True, axis=0)
        return a, zero, one, rows, cols

    def descending_range(self, n, one, length):
        """Range(n - 1, -1, -1): n - 1 down to 0, `length` values."""
        last = self.node("Sub", [n, one], I64, [], True)
        return self.node("Range", [last, self.scalar(-1, I64), self.scalar(-1, I64)], I64,
                         [length], True)

    def op_grid_gather(self):
        """GatherND at index grids built from Ranges, as the dynamo exports
        build their attention mask: a[arange(rows), arange(cols)] broadcast
        to [rows, 1, 1, cols]; the column grid sometimes descending, or a
        one-element Range (every column index 0)."""
        a, zero, one, rows, cols = self.matrix_dims()
        rb = self.node("Range", [zero, rows, one], I64, [a.shape[0]], True)
        kind = self.pick(["ascending", "ascending", "descending", "single"])
        if kind == "descending":
            rc = self.descending_range(cols, one, a.shape[1])
        elif kind == "single":
            rc = self.node("Range", [zero, one, one], I64, [ONE], True)
        else:
            rc = self.node("Range", [zero, cols, one], I64, [a.shape[1]], True)
        ub = self.node("Unsqueeze", [rb, self.ints([1, 2, 3])], I64, [a.shape[0], ONE, ONE, ONE],
                       True)
        uc = self.node("Unsqueeze", [rc, self.ints([0, 1, 2])], I64, [ONE, ONE, ONE, a.shape[1]],
                       True)
        out = [a.shape[0], ONE, ONE, a.shape[1]]
        # The Expand target is [rows, 1, 1, cols] whatever the column grid.
        every_col = self.node("Range", [zero, cols, one], I64, [a.shape[1]], True)
        uall = self.node("Unsqueeze", [every_col, self.ints([0, 1, 2])], I64,
                         [ONE, ONE, ONE, a.shape[1]], True)
        grid = self.node("Max", [ub, uall], I64, out, True)
        target = self.node("Shape", [grid], I64, [dim(4)], True)
        parts = [self.node("Unsqueeze", [self.node("Expand", [u, target], I64, out, True),
                                         self.ints([4])], I64, out + [ONE], True)
                 for u in (ub, uc)]
        idx = self.node("Concat", parts, I64, out + [dim(2)], True, axis=4)
        return self.node("GatherND", [a, idx], a.dtype, out, a.exact)

    def op_affine_grid_gather(self):
        """Gather at a sum of scaled Range grids, as TorchScript exports
        build the attention mask (the flattened [rows * cols, 1] value at
        r * cols + c, the Mul's cols read off a shape) and GPT-2's position
        ids (a Range unsqueezed into a table's rows, sometimes descending,
        counted from the end, or scaled by a constant). The mask is at times
        viewed back as TorchScript does (Reshape to [-1], then to the
        index's shape)."""
        a, zero, one, rows, cols = self.matrix_dims()
        if self.chance(0.5):
            # The table's rows at arange(rows): reversed, counted from the
            # end (-rows .. -1), or times a constant 1.
            kind = self.pick(["ascending", "descending", "negative", "scaled"])
            if kind == "descending":
                r = self.descending_range(rows, one, a.shape[0])
            elif kind == "negative":
                first = self.node("Neg", [rows], I64, [], True)
                r = self.node("Range", [first, zero, one], I64, [a.shape[0]], True)
            else:
                r = self.node("Range", [zero, rows, one], I64, [a.shape[0]], True)
            if kind == "scaled":
                r = self.node("Mul", [r, self.scalar(1, I64)], I64, [a.shape[0]], True)
            u = self.node("Unsqueeze", [r, self.ints([0])], I64, [ONE, a.shape[0]], True)
            return self.node("Gather", [a, u], a.dtype, [ONE, a.shape[0], a.shape[1]], a.exact,
                             axis=0)
        rb = self.node("Range", [zero, rows, one], I64, [a.shape[0]], True)
        rc = self.node("Range", [zero, cols, one], I64, [a.shape[1]], True)
        ub = self.node("Unsqueeze", [rb, self.ints([1, 2, 3])], I64, [a.shape[0], ONE, ONE, ONE],
                       True)
        uc = self.node("Unsqueeze", [rc, self.ints([0, 1, 2])], I64, [ONE, ONE, ONE, a.shape[1]],
                       True)
        row = self.node("Mul", [ub, cols] if self.chance(0.5) else [cols, ub], I64,
                        [a.shape[0], ONE, ONE, ONE], True)
        out = [a.shape[0], ONE, ONE, a.shape[1]]
        idx = self.node("Add", [uc, row] if self.chance(0.5) else [row, uc], I64, out, True)
        flat = self.node("Flatten", [a], a.dtype, (dim_mul(a.shape[0], a.shape[1]), ONE), a.exact,
                         axis=2)
        g = self.node("Gather", [flat, idx], a.dtype, out + [ONE], a.exact, axis=0)
        if self.chance(0.5):
            return g
        # TorchScript views the gathered mask back: Reshape to [-1], then to
        # Shape(index) (views that only drop and add dims of 1).
        whole = self.node("Reshape", [g, self.ints([-1])], a.dtype,
                          [dim_mul(a.shape[0], a.shape[1])], a.exact)
        index_shape = self.node("Shape", [idx], I64, [dim(4)], True)
        return self.node("Reshape", [whole, index_shape], a.dtype, out, a.exact)

    def op_grid_compare(self):
        """A Range over a dim (arange(x.size(d)), ascending or descending)
        compared with a small constant, the constant on either side: the
        dynamo mask's arange(S) >= 0, which always holds, and near misses."""
        a = self.choose(lambda v: len(v.shape) >= 1 and declarable(v.shape[-1]))
        shape = self.node("Shape", [a], I64, [dim(len(a.shape))], True)
        zero, one = self.scalar(0, I64), self.scalar(1, I64)
        n = self.node("Gather", [shape, self.scalar(len(a.shape) - 1, I64)], I64, [], True, axis=0)
        if self.chance(0.7):
            r = self.node("Range", [zero, n, one], I64, [a.shape[-1]], True)
        else:
            r = self.descending_range(n, one, a.shape[-1])
        u = self.node("Unsqueeze", [r, self.ints([0, 2])], I64, [ONE, a.shape[-1], ONE], True)
        c = self.scalar(int(self.rng.integers(-2, 3)), I64)
        op = self.pick(["GreaterOrEqual", "Greater", "LessOrEqual", "Less"])
        args = [u, c] if self.chance(0.5) else [c, u]
        return self.node(op, args, BOOL, [ONE, a.shape[-1], ONE], True)

    def op_where(self):
        """Where(cond, x, y): cond a comparison of x with 0 or 1, or a bool value."""
        x = self.choose(lambda v: v.dtype != BOOL)
        if x.exact and self.chance(0.5):
            cond = self.node(self.pick(["Greater", "Less"]),
                             [x, self.scalar(self.pick([0, 1]), x.dtype)], BOOL, x.shape, True)
        else:
            cond = self.partner(x, BOOL)
        y = self.partner(x)
        args = [cond, x, y] if self.chance(0.5) else [cond, y, x]
        return self.node("Where", args, x.dtype, self.out_shape(*args), x.exact and y.exact)

    def op_compare(self):
        """A comparison of two exact values."""
        a = self.choose(lambda v: v.exact and v.dtype != BOOL)
        b = self.partner(a, exact=True)
        op = self.pick(["Less", "Greater", "Equal", "LessOrEqual", "GreaterOrEqual"])
        return self.node(op, [a, b], BOOL, self.out_shape(a, b), True)

    def op_cast(self):
        """Cast of an exact value to another of f32, i64, i32, bool."""
        a = self.choose(lambda v: v.exact)
        # onnxruntime 1.23 runs Cast(float -> int) -> Cast(-> bool) as one
        # float -> bool cast, optimisations off or not: no bool from a Cast.
        cast = any(a.name in n.output for n in self.nodes if n.op_type == "Cast")
        to = self.pick([t for t in (F32, I64, I32) + (() if cast else (BOOL,)) if t != a.dtype])
        return self.node("Cast", [a], to, a.shape, True, to=to)

    def op_reshape_like(self):
        """Unsqueeze, Squeeze, Expand or Flatten."""
        a = self.choose()
        r, op = len(a.shape), self.pick(["Unsqueeze", "Squeeze", "Expand", "Flatten"])
        if op == "Unsqueeze" and r < 4:
            i = int(self.rng.integers(-r - 1, r + 1))
            shape = list(a.shape)
            shape.insert(i % (r + 1), ONE)
            return self.node(op, [a, self.ints([i])], a.dtype, shape, a.exact)
        if op == "Squeeze" and ONE in a.shape:
            ones = [i for i, d in enumerate(a.shape) if d == ONE]
            axes = ones if self.chance(0.5) else [self.pick(ones)]
            shape = [d for i, d in enumerate(a.shape) if i not in axes]
            return self.node(op, [a, self.ints(axes)], a.dtype, shape, a.exact)
        if op == "Expand" and r < 4:
            target = [self.pick([1, 2]) for _ in range(int(self.rng.integers(0, 2)))]
            target += [self.pick([1, 2, 3]) if d == ONE else 1 for d in a.shape]
            shape = broadcast(tuple(dim(t) for t in target), a.shape)
            return self.node(op, [a, self.ints(target)], a.dtype, shape, a.exact)
        if op == "Flatten":
            axis, outer, inner = int(self.rng.integers(0, r + 1)), ONE, ONE
            for i, d in enumerate(a.shape):
                outer, inner = (dim_mul(outer, d), inner) if i < axis else (outer, dim_mul(inner, d))
            return self.node(op, [a], a.dtype, (outer, inner), a.exact, axis=axis)
        raise Skip

    def op_split(self):
        """Split a static dim by sizes or (opset 18) num_outputs."""
        a = self.choose(lambda v: any((static(d) or 0) >= 2 for d in v.shape))
        axis = self.pick([i for i, d in enumerate(a.shape) if (static(d) or 0) >= 2])
        n = static(a.shape[axis])
        parts = int(self.rng.integers(2, min(n, 4) + 1))
        sizes = [min(-(-n // parts), n - i * -(-n // parts)) for i in range(parts)]
        if self.opset >= 18 and min(sizes) > 0 and self.chance(0.4):
            attrs, ins = {"num_outputs": parts}, [a]
        else:
            cut = int(self.rng.integers(1, n))
            sizes, attrs, ins = [cut, n - cut], {}, [a, self.ints([cut, n - cut])]
        outs = self.node("Split", ins, a.dtype, a.shape, a.exact, nout=len(sizes), axis=axis,
                         **attrs)
        for o, s in zip(outs, sizes):
            o.shape = a.shape[:axis] + (dim(s),) + a.shape[axis + 1:]
        self.pool.extend(outs[1:])
        return outs[0]

    def quant_params(self, qtype):
        """A per-tensor scale and a zero point of qtype (for uint8 70% of the
        time: without one, QuantizeLinear's output is uint8)."""
        params = [self.scalar(float(self.rng.uniform(0.01, 0.5)))]
        if qtype == TP.INT8 or self.chance(0.7):
            lo, hi = (0, 255) if qtype == TP.UINT8 else (-128, 127)
            params.append(self.scalar(int(self.rng.integers(lo, hi + 1)), qtype))
        return params

    def op_fake_quantize(self):
        """QuantizeLinear then DequantizeLinear of an exact f32 value, as QDQ
        models wrap every activation: uint8 or int8, read back with the same
        scale and zero point (Kiln's one float body) or other ones. Both
        divide by the scale and round half to even, so exact stays exact."""
        a = self.choose(lambda v: v.exact and v.dtype == F32)
        qtype = self.pick([TP.UINT8, TP.INT8])
        params = self.quant_params(qtype)
        q = self.node("QuantizeLinear", [a, *params], qtype, a.shape, True)
        back = params if self.chance(0.7) else self.quant_params(qtype)
        return self.node("DequantizeLinear", [q, *back], F32, a.shape, True)

    def op_quantized_lookup(self):
        """Gather from a DequantizeLinear'd int8/uint8 table (QDQ embeddings;
        Kiln gathers first), per tensor or per column, indices constant or
        fed."""
        rows, width = self.pick([3, 7, 50]), self.pick([1, 4, 9])
        qtype = self.pick([TP.UINT8, TP.INT8])
        lo, hi = (0, 255) if qtype == TP.UINT8 else (-128, 127)
        table = self.const(self.rng.integers(lo, hi + 1, (rows, width)).astype(np_type(qtype)))
        if self.chance(0.5):
            params, attrs = self.quant_params(qtype), {}
        else:
            params = [self.const(self.rng.uniform(0.01, 0.5, width).astype(np.float32))]
            if self.chance(0.5):
                params.append(self.const(self.rng.integers(lo, hi + 1, width)
                                         .astype(np_type(qtype))))
            attrs = {"axis": 1}
        values = self.node("DequantizeLinear", [table, *params], F32, (dim(rows), dim(width)),
                           True, **attrs)
        ishape = tuple(dim(self.pick(SIZES[:5])) for _ in range(self.pick([1, 1, 2])))
        if self.chance(0.5):
            idx = self.const(self.rng.integers(-rows, rows, [static(x) for x in ishape]))
        else:
            idx = self.input(I64, ishape, ["index", dim(rows)])
        return self.node("Gather", [values, idx], F32, ishape + (dim(width),), True)

    def op_attention(self):
        """Attention's block: MatMul(Q, K^T), maybe a scale (Mul, or Div by a
        power of two) and an additive mask (random, or padding as -inf),
        Softmax on the last axis,
        MatMul by V, maybe the heads interleaved again; Q, K and V as
        graph inputs or sums of two (computed: stored in 16 bits with
        --gpu-half, which the fused GPU kernel copies 16 bytes a thread,
        asynchronously), laid out heads-first or made so by Transposes (K^T
        from K's rows). Kiln runs it as one kiln.attention."""
        # 40 keys: more than one of the fused GPU kernel's steps of 32.
        b, s = self.rand_dim(), self.rand_dim()
        sk = self.pick([self.rand_dim(), None, dim(40)]) or s
        # Head sizes 16 and 32 also fit the GPU's fused attention kernel.
        h, d, dv = dim(self.pick([1, 2, 3])), dim(self.pick([1, 4, 8, 13, 16, 32])), None
        dv = dim(self.pick([1, 5, 8])) if self.chance(0.3) else d

        def source(shape):  # an input, or computed from two
            if self.chance(0.6):
                return self.input(F32, shape)
            return self.node("Add", [self.input(F32, shape), self.input(F32, shape)], F32, shape)

        def heads(rows, cols):  # (b, h, rows, cols), maybe by a Transpose
            if self.chance(0.5):
                return source((b, h, rows, cols))
            x = source((b, rows, h, cols))
            return self.node("Transpose", [x], F32, (b, h, rows, cols), perm=[0, 2, 1, 3])

        q = heads(s, d)
        k = None
        if self.chance(0.5):
            kt = source((ONE if self.chance(0.2) else b, h, d, sk))
        else:
            k = source((b, sk, h, d))
            kt = self.node("Transpose", [k], F32, (b, h, d, sk), perm=[0, 2, 3, 1])
        if k is not None and self.chance(0.2):
            # V is K itself, read through another perm (softmax(Q K^T) K).
            dv = d
            v = self.node("Transpose", [k], F32, (b, h, sk, d), perm=[0, 2, 1, 3])
        else:
            v = heads(sk, dv)
        batch = broadcast(q.shape[:2], kt.shape[:2], v.shape[:2])
        if batch is None:
            raise Skip
        x = self.node("MatMul", [q, kt], F32, broadcast(q.shape[:2], kt.shape[:2]) + (s, sk))
        if self.chance(0.6):
            c = self.scalar(self.pick([0.125, 0.25, float(self.rng.uniform(0.1, 1))]))
            x = self.node(self.pick(["Mul", "Div"]), [x, c], F32, x.shape)
        if self.chance(0.6):
            shape = self.pick([(b, ONE, ONE, sk), (ONE, ONE, s, sk), (sk,)])
            n = static(sk)
            if all(static(d) is not None for d in shape) and self.chance(0.3):
                # Padding masked with -inf: the first (or the last) keys, up
                # to all of them (a row of NaN on both sides, then).
                edge = self.pick([n, n - 1, int(self.rng.integers(0, n + 1))])
                m = np.zeros([static(d) for d in shape], np.float32)
                if self.chance(0.5):
                    m[..., :edge] = -np.inf
                else:
                    m[..., n - edge:] = -np.inf
                mask = Val(self.const(m), F32, shape, True)
            elif self.chance(0.25):
                # All true, as ViT's dynamo export spells it: Where of an
                # Expand of true to the scores' shape: zeros (Kiln drops it).
                full = self.node("Shape", [x], I64, [dim(4)], True)
                true = self.const(np.ones((1, 1, 1, 1), bool))
                cond = self.node("Expand", [true, full], BOOL, x.shape, True)
                mask = self.node("Where", [cond, self.scalar(0.0), self.scalar(-np.inf)], F32,
                                 x.shape, True)
            else:
                mask = self.operand(F32, shape)
            x = self.node("Add", [x, mask], F32, self.out_shape(x, mask))
        p = self.node("Softmax", [x], F32, x.shape, axis=self.pick([-1, 3]))
        o = self.node("MatMul", [p, v], F32, batch + (s, dv))
        if self.chance(0.5):
            o = self.node("Transpose", [o], F32, (o.shape[0], s, o.shape[1], dv), perm=[0, 2, 1, 3])
        return o

    def indices(self, shape, d, itype=I64):
        """Indices into a dim d (in range, maybe negative): a constant when
        the shapes are static (60%), else a graph input fed in range."""
        n = static(d)
        if n is not None and all(static(x) is not None for x in shape) and self.chance(0.6):
            return self.const(self.rng.integers(-n, n, [static(x) for x in shape])
                              .astype(np_type(itype)))
        return self.input(itype, shape, ["index", d])

    def op_gather_elements(self):
        """GatherElements along any axis: indices of the data's rank, as many
        or other counts along the axis, the data's dims or fewer elsewhere."""
        a = self.choose(lambda v: v.shape and all(declarable(d) for d in v.shape))
        r = len(a.shape)
        axis = int(self.rng.integers(r))
        ishape = list(a.shape)
        ishape[axis] = self.pick([a.shape[axis], dim(self.pick(SIZES[:5]))])
        for i, d in enumerate(ishape):
            if i != axis and (static(d) or 0) > 1 and self.chance(0.3):
                ishape[i] = dim(int(self.rng.integers(1, static(d))))
        idx = self.indices(tuple(ishape), a.shape[axis], self.pick([I64, I64, I32]))
        return self.node("GatherElements", [a, idx], a.dtype, ishape, a.exact,
                         axis=axis - r if self.chance(0.3) else axis)

    def op_scatter_elements(self):
        """ScatterElements along any axis: without a reduction at distinct
        constant indices (a prefix of a permutation per line, maybe
        negative), with add, mul, max or min (opset 18) at any."""
        a = self.choose(lambda v: v.shape and all(declarable(d) for d in v.shape))
        r = len(a.shape)
        axis = int(self.rng.integers(r))
        d = a.shape[axis]
        reductions = ["none"] if a.dtype == BOOL else \
            ["none", "none", "add", "mul"] + (["max", "min"] if self.opset >= 18 else [])
        red = self.pick(reductions)
        ishape = list(a.shape)
        for i, x in enumerate(ishape):
            if i != axis and (static(x) or 0) > 1 and self.chance(0.3):
                ishape[i] = dim(int(self.rng.integers(1, static(x))))
        if red == "none":
            n = static(d)
            if n is None or any(static(x) is None for x in ishape):
                raise Skip  # distinct indices: constant ones
            k = int(self.rng.integers(1, n + 1))
            full = [static(x) for x in ishape]
            full[axis] = n
            perm = np.argsort(self.rng.random(full), axis=axis)
            perm = np.take(perm, range(k), axis=axis)
            perm = np.where(self.rng.random(perm.shape) < 0.3, perm - n, perm)
            ishape[axis] = dim(k)
            idx = self.const(perm.astype(np_type(self.pick([I64, I32]))))
        else:
            ishape[axis] = self.pick([d, dim(self.pick(SIZES[:5]))])
            idx = self.indices(tuple(ishape), d, self.pick([I64, I32]))
        upd = self.operand(a.dtype, tuple(ishape))
        exact = a.dtype != F32 or (a.exact and upd.exact and red in ("none", "max", "min"))
        return self.node("ScatterElements", [a, idx, upd], a.dtype, a.shape, exact,
                         axis=axis - r if self.chance(0.3) else axis,
                         **({} if red == "none" and self.chance(0.5) else {"reduction": red}))

    def op_scatter_nd(self):
        """ScatterND at constant index tuples into the leading 1 or 2 static
        dims: distinct ones without a reduction, any with add, mul, max or
        min (opset 18); indices maybe negative, in a batch of 1 or 2 dims."""
        a = self.choose(lambda v: v.shape and static(v.shape[0]) is not None and
                        all(declarable(d) for d in v.shape))
        q = 2 if len(a.shape) >= 2 and static(a.shape[1]) is not None and self.chance(0.4) else 1
        lead = [static(d) for d in a.shape[:q]]
        total = math.prod(lead)
        reductions = ["none"] if a.dtype == BOOL else \
            ["none", "none", "add", "mul"] + (["max", "min"] if self.opset >= 18 else [])
        red = self.pick(reductions)
        k = int(self.rng.integers(1, total + 1))
        flat = self.rng.choice(total, k, replace=False) if red == "none" \
            else self.rng.integers(0, total, k)
        tuples = np.stack(np.unravel_index(flat, lead), axis=-1)
        if self.chance(0.3):
            tuples = np.where(self.rng.random(tuples.shape) < 0.5, tuples - lead, tuples)
        batch = (k,)
        if k % 2 == 0 and self.chance(0.3):
            batch = (2, k // 2)
        idx = self.const(tuples.reshape(batch + (q,)).astype(np.int64))
        upd = self.operand(a.dtype, tuple(dim(b) for b in batch) + a.shape[q:])
        exact = a.dtype != F32 or (a.exact and upd.exact and red in ("none", "max", "min"))
        return self.node("ScatterND", [a, idx, upd], a.dtype, a.shape, exact,
                         **({} if red == "none" and self.chance(0.5) else {"reduction": red}))

    def op_topk(self):
        """TopK of an exact value (ties go to the lower index) along any
        axis, largest or smallest, k up to a static dim or a symbol's least
        value; both outputs."""
        a = self.choose(lambda v: v.exact and v.dtype != BOOL and v.shape)
        r = len(a.shape)
        axis = int(self.rng.integers(r))
        d = a.shape[axis]
        if static(d) is not None:
            k = int(self.rng.integers(1, static(d) + 1))
        elif symbol(d):
            k = self.pick([1, 1, 2, 3])
            self.sym_min[symbol(d)] = max(self.sym_min[symbol(d)], k)
        else:
            raise Skip
        shape = list(a.shape)
        shape[axis] = dim(k)
        attrs = {"axis": axis - r if self.chance(0.3) else axis}
        if self.chance(0.5):
            attrs["largest"] = int(self.chance(0.5))
        if k == 1 and self.chance(0.5):
            attrs["sorted"] = 0  # the order of more than one is unspecified then
        vals, idx = self.node("TopK", [a, self.ints([k])], a.dtype, shape, True, nout=2, **attrs)
        idx.dtype = I64
        first, second = (vals, idx) if self.chance(0.5) else (idx, vals)
        self.pool.append(second)
        return first

    def op_cumsum(self):
        """CumSum along any axis (an int32 or int64 scalar), exclusive or
        reversed."""
        a = self.choose(lambda v: v.dtype != BOOL and v.shape)
        r = len(a.shape)
        axis = self.scalar(int(self.rng.integers(-r, r)), self.pick([I64, I32]))
        attrs = {k: int(self.chance(0.5)) for k in ("exclusive", "reverse") if self.chance(0.5)}
        return self.node("CumSum", [a, axis], a.dtype, a.shape, a.dtype != F32, **attrs)

    def op_tile(self):
        """Tile by constant repeats (1, 2 or 3 per dim)."""
        a = self.choose(lambda v: v.shape and len(v.shape) <= 4)
        reps = [self.pick([1, 1, 2, 3]) for _ in a.shape]
        shape = [d if n == 1 else dim_mul(d, dim(n)) for d, n in zip(a.shape, reps)]
        return self.node("Tile", [a, self.ints(reps)], a.dtype, shape, a.exact)

    def op_expand(self):
        """Expand to the shape of a value it broadcasts with (read by Shape,
        as exports write expand_as), or to a constant shape giving its dims
        of 1 a size, its static dims kept or written as 1, new leading dims."""
        a = self.choose(lambda v: v.shape)
        others = [v for v in self.pool if v is not a and v.shape and len(v.shape) <= 4
                  and self.out_shape(a, v) is not None]
        if others and self.chance(0.5):
            b = self.pick(others)
            target = self.node("Shape", [b], I64, [dim(len(b.shape))], True)
            return self.node("Expand", [a, target], a.dtype, self.out_shape(a, b), a.exact)
        if len(a.shape) > 4:
            raise Skip
        lead = [self.pick([1, 2, 3]) for _ in range(int(self.rng.integers(0, 3)))]
        body = [self.pick([1, 2, 5, 16]) if d == ONE else
                (static(d) if static(d) is not None and self.chance(0.6) else 1) for d in a.shape]
        shape = broadcast(tuple(dim(t) for t in lead + body), a.shape)
        return self.node("Expand", [a, self.ints(lead + body)], a.dtype, shape, a.exact)

    def op_pad(self):
        """Pad some axes (all of them, or before opset 18's axes input):
        constant (a value or 0; negative pads crop static dims), reflect
        (pads under the dim) or edge."""
        a = self.choose(lambda v: v.shape and len(v.shape) <= 4)
        r = len(a.shape)
        mode = self.pick(["constant", "constant", "reflect", "edge"])
        axes = list(range(r))
        if self.opset >= 18 and self.chance(0.4):
            axes = sorted(self.rng.choice(r, int(self.rng.integers(1, r + 1)), False).tolist())
        before, after, shape = [], [], list(a.shape)
        for ax in axes:
            d, n = a.shape[ax], static(a.shape[ax])
            if mode == "reflect":
                if n is not None:
                    hi = min(n - 1, 2)
                elif symbol(d):
                    hi = 2
                else:
                    hi = 0
                p = [int(self.rng.integers(0, hi + 1)) for _ in range(2)]
                if n is None and symbol(d):
                    self.sym_min[symbol(d)] = max(self.sym_min[symbol(d)], max(p) + 1)
            elif mode == "constant" and n is not None and n >= 3 and self.chance(0.3):
                p = [int(self.rng.integers(-1, 3)) for _ in range(2)]
            else:
                p = [int(self.rng.integers(0, 3)) for _ in range(2)]
            before.append(p[0]), after.append(p[1])
            shape[ax] = dim_add(d, dim(p[0] + p[1]))
        ins = [a, self.ints(before + after)]
        if mode == "constant" and self.chance(0.5):
            value = {F32: float(self.rng.uniform(-2, 2)), BOOL: True}.get(a.dtype, 3)
            ins.append(self.scalar(value, a.dtype))
        if axes != list(range(r)) or (self.opset >= 18 and self.chance(0.2)):
            ins += [""] * (3 - len(ins)) + [self.ints([x - r if self.chance(0.3) else x
                                                      for x in axes])]
        return self.node("Pad", ins, a.dtype, shape, a.exact,
                         **({} if mode == "constant" and self.chance(0.5) else {"mode": mode}))

    def op_trilu(self):
        """Trilu (upper or lower) of the last two dims, k a constant or none."""
        a = self.choose(lambda v: len(v.shape) >= 2 and v.dtype != I32)
        ins = [a] + ([self.scalar(int(self.rng.integers(-3, 4)), I64)] if self.chance(0.6) else [])
        return self.node("Trilu", ins, a.dtype, a.shape, a.exact,
                         **({"upper": int(self.chance(0.5))} if self.chance(0.7) else {}))

    def op_onehot(self):
        """OneHot of fed in-range indices (maybe negative) on any axis, float
        or int64 values."""
        depth = self.pick([2, 3, 5, 8, 17])
        ishape = tuple(self.rand_dim() for _ in range(self.pick([1, 1, 2, 3])))
        idx = self.input(I64, ishape, ["index", dim(depth)])
        r = len(ishape)
        axis = int(self.rng.integers(-r - 1, r + 1))
        dtype = self.pick([F32, F32, I64])
        values = self.const(np.array(self.pick([[0, 1], [-1, 3], [2, -5]]), np_type(dtype)))
        shape = list(ishape)
        shape.insert(axis % (r + 1), dim(depth))
        return self.node("OneHot", [idx, self.scalar(depth, I64), values], dtype, shape, True,
                         **({"axis": axis} if axis != -1 or self.chance(0.5) else {}))

    def op_einsum(self):
        """Einsum as exports write it: a batched matmul (by a new input, maybe
        transposed: q.k), a transpose, a sum over axes, an elementwise
        product."""
        a = self.choose(lambda v: v.dtype == F32 and 2 <= len(v.shape) <= 4 and
                        all(declarable(d) for d in v.shape))
        r = len(a.shape)
        ls = "bhijk"[:r - 2] + "mn"
        kind = self.pick(["matmul", "qk", "transpose", "sum", "mul"])
        if kind in ("matmul", "qk"):
            n = self.rand_dim()
            bshape = a.shape[:-2] + ((a.shape[-1], n) if kind == "matmul" else (n, a.shape[-1]))
            b = self.input(F32, bshape)
            lb = ls[:-2] + ("nc" if kind == "matmul" else "cn")
            eq = f"{ls[:-1]}n,{lb}->{ls[:-2]}mc"
            return self.node("Einsum", [a, b], F32, a.shape[:-1] + (n,), equation=eq)
        if kind == "transpose":
            perm = [int(p) for p in self.rng.permutation(r)]
            return self.node("Einsum", [a], F32, [a.shape[p] for p in perm], a.exact,
                             equation=f"{ls}->{''.join(ls[p] for p in perm)}")
        if kind == "sum":
            keep = sorted(self.rng.choice(r, int(self.rng.integers(0, r)), False).tolist())
            return self.node("Einsum", [a], F32, [a.shape[i] for i in keep],
                             equation=f"{ls}->{''.join(ls[i] for i in keep)}")
        b = self.input(F32, a.shape)
        return self.node("Einsum", [a, b], F32, a.shape, equation=f"{ls},{ls}->{ls}")

    def image(self, ranks=(3, 4), channels=16, fixed=False):
        """A value laid out N, C, spatial dims for the vision ops: a pool f32
        value of one of `ranks` whose dims inputs can declare (C static, at
        most `channels`), or a new input (spatial dims static or symbols;
        with `fixed`, C and spatial dims static)."""
        cands = [v for v in self.pool if v.dtype == F32 and len(v.shape) in ranks and
                 all(declarable(d) for d in v.shape) and 0 < (static(v.shape[1]) or 99) <= channels
                 and not (fixed and any(static(d) is None for d in v.shape[1:]))]
        if cands and self.chance(0.5):
            return self.pick(cands)
        c = self.pick([c for c in (1, 2, 3, 4, 8, 16) if c <= channels])
        spatial = [dim(self.pick(SIZES)) if fixed else self.rand_dim()
                   for _ in range(self.pick(ranks) - 2)]
        return self.input(F32, (self.rand_dim(), dim(c), *spatial))

    def window(self, d, k, stride, dil, pads, ceil=0):
        """The output dim of a window of k (dilation dil) over d with pads,
        or None where that cannot be: on a symbol only stride 1 (the
        symbol's least value raised so that a window fits)."""
        eff = dil * (k - 1) + 1
        if symbol(d):
            if stride != 1:
                return None
            self.sym_min[symbol(d)] = max(self.sym_min[symbol(d)], eff - sum(pads))
            return dim_add(d, dim(sum(pads) - eff + 1))
        n = static(d)
        if n is None or n + sum(pads) < eff:
            return None
        span = n + sum(pads) - eff
        out = (-(-span // stride) if ceil else span // stride) + 1
        if ceil and (out - 1) * stride >= n + pads[0]:
            return None  # the last window would start in the end padding
        return dim(out)

    def op_conv(self):
        """Conv 1-D, 2-D or 3-D: kernel 1 to 3, strides, dilations, pads (or
        auto_pad), groups (depthwise too), a bias or not; the batch and the
        spatial dims static or symbols (stride 1 on a symbol, whose least
        value lets a window fit)."""
        x = self.image(ranks=(3, 4, 4, 5) if self.chance(0.2) else (3, 4))
        c = static(x.shape[1])
        divisors = [g for g in range(2, c + 1) if c % g == 0]
        group = self.pick([1, 1, 1, c] + divisors) if divisors else 1
        m = group * self.pick([1, 1, 2, 3, 8, 9])  # 8 or more a group: a GEMM a group
        spatial, ks, strides, dils, pads, out = x.shape[2:], [], [], [], [[], []], []
        auto = self.pick(["NOTSET"] * 4 + ["SAME_UPPER", "SAME_LOWER", "VALID"])
        for d in spatial:
            k, s, dl = self.pick([1, 2, 3, 3]), self.pick([1, 1, 2]), self.pick([1, 1, 2])
            if symbol(d):
                s = 1
            if auto.startswith("SAME"):
                dl = 1
            p = [int(self.rng.integers(0, k)) for _ in range(2)] if auto == "NOTSET" else [0, 0]
            if auto.startswith("SAME"):
                o = d if s == 1 else (dim(-(-static(d) // s)) if static(d) else None)
            else:
                o = self.window(d, k, s, dl, p)
            if o is None:
                raise Skip
            ks.append(k), strides.append(s), dils.append(dl), out.append(o)
            pads[0].append(p[0]), pads[1].append(p[1])
        fan = (c // group) * math.prod(ks)
        w = self.const((self.rng.uniform(-1, 1, (m, c // group, *ks)) / math.sqrt(fan))
                       .astype(np.float32))
        ins = [x, w] + ([self.const(self.rng.uniform(-1, 1, m).astype(np.float32))]
                        if self.chance(0.6) else [])
        attrs = {"kernel_shape": ks} if self.chance(0.7) else {}
        if any(s != 1 for s in strides) or self.chance(0.3):
            attrs["strides"] = strides
        if any(dl != 1 for dl in dils) or self.chance(0.3):
            attrs["dilations"] = dils
        if group != 1 or self.chance(0.3):
            attrs["group"] = group
        if auto != "NOTSET":
            attrs["auto_pad"] = auto
        elif any(pads[0] + pads[1]) or self.chance(0.3):
            attrs["pads"] = pads[0] + pads[1]
        return self.node("Conv", ins, F32, (x.shape[0], dim(m), *out), **attrs)

    def op_pool(self):
        """MaxPool (dilations, of exact values exact) or AveragePool (pads
        counted or not), 1-D or 2-D, strides, pads under the kernel,
        ceil_mode on static dims; or GlobalMaxPool, GlobalAveragePool."""
        x = self.image(channels=99)
        op = self.pick(["MaxPool", "MaxPool", "AveragePool", "AveragePool", "GlobalMaxPool",
                        "GlobalAveragePool"])
        if op.startswith("Global"):
            return self.node(op, [x], F32, x.shape[:2] + (ONE,) * (len(x.shape) - 2),
                             x.exact and op == "GlobalMaxPool")
        ceil = int(all(static(d) for d in x.shape[2:]) and self.chance(0.3))
        ks, strides, dils, pads, out = [], [], [], [[], []], []
        for d in x.shape[2:]:
            k = self.pick([1, 2, 2, 3])
            s = 1 if symbol(d) else self.pick([1, 2, 2, 3])
            dl = self.pick([1, 1, 2]) if op == "MaxPool" else 1
            p = [int(self.rng.integers(0, k)) for _ in range(2)] if self.chance(0.5) else [0, 0]
            o = self.window(d, k, s, dl, p, ceil)
            if o is None:
                raise Skip
            ks.append(k), strides.append(s), dils.append(dl), out.append(o)
            pads[0].append(p[0]), pads[1].append(p[1])
        attrs = {"kernel_shape": ks}
        if any(s != 1 for s in strides) or self.chance(0.3):
            attrs["strides"] = strides
        if any(pads[0] + pads[1]) or self.chance(0.2):
            attrs["pads"] = pads[0] + pads[1]
        if ceil:
            attrs["ceil_mode"] = 1
        if op == "MaxPool" and (any(dl != 1 for dl in dils) or self.chance(0.2)):
            attrs["dilations"] = dils
        if op == "AveragePool" and self.chance(0.5):
            # Not with ceil_mode before opset 19: there onnxruntime's kernel
            # also counts the part of the last window past the padded input
            # (seed 154, graph 60); its opset-19 kernel, the ONNX reference
            # and PyTorch do not, nor Kiln. Nor at opset 19+ with pads that
            # are not all equal: that kernel then leaves some padding out of
            # the count (a [1, 1, 1, 3] input, kernel [2, 3], pads
            # [0, 0, 1, 0] gives the sum / 3, seed 168 graph 189; pads
            # [1, 0, 1, 0] on [1, 1, 2, 5], seed 174 graph 1499), as neither
            # the ONNX reference nor its opset-17 kernel do.
            uneven = len(set(pads[0] + pads[1])) > 1
            attrs["count_include_pad"] = int(self.chance(0.5) and (not ceil or self.opset >= 19)
                                             and not (uneven and self.opset >= 19))
        return self.node(op, [x], F32, x.shape[:2] + tuple(out), x.exact and op == "MaxPool",
                         **attrs)

    def op_norm(self):
        """InstanceNormalization (at least 4 static elements a channel, as
        op_layernorm) or BatchNormalization (inference: constant mean and
        positive variance), scale and bias constant or fed."""
        x = self.image(ranks=(2, 3, 4) if self.chance(0.5) else (3, 4))
        c = static(x.shape[1])
        eps = {"epsilon": self.pick([1e-5, 1e-3, 1e-2])} if self.chance(0.6) else {}
        params = [self.operand(F32, (dim(c),)) for _ in range(2)]
        if len(x.shape) >= 3 and self.chance(0.5):
            if math.prod(static(d) or 1 for d in x.shape[2:]) < 4:
                raise Skip  # 2 or 3 elements: variances cancel too often for a 1e-4 tolerance
            return self.node("InstanceNormalization", [x, *params], F32, x.shape, **eps)
        mean = self.const(self.rng.uniform(-1, 1, c).astype(np.float32))
        var = self.const(self.rng.uniform(0.2, 2, c).astype(np.float32))
        if self.chance(0.3):
            eps["momentum"] = 0.9
        return self.node("BatchNormalization", [x, *params, mean, var], F32, x.shape, **eps)

    def op_resize(self):
        """Resize of the last two dims of a 4-D value by constant scales (1,
        2 or 3 on symbols; also 0.5 and 1.5 on static dims, with
        align_corners and pytorch_half_pixel where they give whole
        elements) or, linear and
        cubic, to constant sizes: nearest (its rounding modes), linear or
        cubic, under the usual coordinate transformations."""
        x = self.image(ranks=(4,), channels=99)
        mode = self.pick(["nearest", "nearest", "linear", "linear", "cubic"])
        attrs = {"mode": mode}
        ctms = {"nearest": ["half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel"],
                "linear": ["half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel"],
                "cubic": ["half_pixel", "asymmetric", "align_corners"]}[mode]
        if self.chance(0.8):
            attrs["coordinate_transformation_mode"] = self.pick(ctms)
        # align_corners divides by length_resized - 1, pytorch_half_pixel
        # asks whether it is > 1: onnxruntime takes the output's (integer)
        # length, the ONNX reference (and Kiln) the input's times the scale,
        # so scales that give a fraction of an element differ (seed 504).
        whole = attrs.get("coordinate_transformation_mode") in ("align_corners",
                                                                "pytorch_half_pixel")
        if mode == "nearest" and self.chance(0.8):
            attrs["nearest_mode"] = self.pick(["round_prefer_floor", "round_prefer_ceil",
                                               "floor", "ceil"])
        if mode == "cubic":
            attrs.update(cubic_coeff_a=self.pick([-0.75, -0.5]),
                         exclude_outside=int(self.chance(0.3)))
        spatial = x.shape[2:]
        if mode != "nearest" and all(static(d) for d in spatial) and self.chance(0.3):
            sizes = [self.pick([1, 2, 3, 5, 8, 2 * static(d)]) for d in spatial]
            out = [dim(s) for s in sizes]
            if self.opset >= 18 and self.chance(0.6):
                attrs["axes"] = [2, 3]  # [-2, -1]: onnxruntime 1.23 crashes (SIGSEGV)
                ins = [x, "", "", self.ints(sizes)]
            elif all(static(d) for d in x.shape[:2]):
                ins = [x, "", "", self.ints([static(d) for d in x.shape[:2]] + sizes)]
            else:
                raise Skip
        else:
            scales, out = [], []
            for d in spatial:
                s = self.pick([1.0, 2.0, 3.0] + [f for f in (0.5, 1.5) if (static(d) or 0) >= 2
                                                 and not (whole and static(d) * f % 1)])
                scales.append(s)
                out.append(dim(int(static(d) * s)) if static(d) else
                           d if s == 1 else dim_mul(d, dim(int(s))))
            ins = [x, "", self.const(np.array([1.0, 1.0] + scales, np.float32))]
        return self.node("Resize", ins, F32, x.shape[:2] + tuple(out),
                         x.exact and mode == "nearest", **attrs)

    def op_depth_space(self):
        """DepthToSpace (DCR or CRD; channels a multiple of b*b) or
        SpaceToDepth (spatial dims multiples of b), b 2 or 3; the batch
        static or a symbol, the rest static (Kiln's import needs them so)."""
        b = self.pick([2, 2, 3])
        four = [v for v in self.pool if len(v.shape) == 4 and v.dtype == F32 and
                declarable(v.shape[0]) and all(static(d) for d in v.shape[1:])]
        if self.chance(0.5):
            cands = [v for v in four if static(v.shape[1]) and static(v.shape[1]) % (b * b) == 0]
            x = self.pick(cands) if cands and self.chance(0.5) else \
                self.input(F32, (self.rand_dim(), dim(b * b * self.pick([1, 2, 3])),
                                 dim(self.pick(SIZES[:6])), dim(self.pick(SIZES[:6]))))
            n, c, h, w = x.shape
            return self.node("DepthToSpace", [x], F32,
                             (n, dim(static(c) // (b * b)), dim_mul(h, dim(b)), dim_mul(w, dim(b))),
                             x.exact, blocksize=b,
                             **({"mode": self.pick(["DCR", "CRD"])} if self.chance(0.7) else {}))
        cands = [v for v in four if all(static(d) and static(d) % b == 0 for d in v.shape[2:])]
        x = self.pick(cands) if cands and self.chance(0.5) else \
            self.input(F32, (self.rand_dim(), dim(self.pick([1, 2, 3])),
                             dim(b * self.pick([1, 2, 3])), dim(b * self.pick([1, 2, 4]))))
        n, c, h, w = x.shape
        return self.node("SpaceToDepth", [x], F32, (n, dim_mul(c, dim(b * b)),
                                                   dim(static(h) // b), dim(static(w) // b)),
                         x.exact, blocksize=b)

    def op_hardmax(self):
        """Hardmax of an exact value (ties go to the first) along any axis."""
        a = self.choose(lambda v: v.exact and v.dtype == F32 and v.shape)
        r = len(a.shape)
        return self.node("Hardmax", [a], F32, a.shape, True,
                         **({"axis": int(self.rng.integers(-r, r))} if self.chance(0.8) else {}))

    def op_elementwise(self):
        """Ops kept off unsafe inputs: Reciprocal (of |x| + c), Exp (of x
        clipped to [-10, 10]), Log (of |x| + c), IsNaN and IsInf (of x plus a
        constant holding NaNs and infinities), Max or Min of 3 or 4, Mod with
        fmod=1 of exact values (by a nonzero divisor)."""
        a = self.choose(lambda v: v.dtype != BOOL)
        op = self.pick(["Reciprocal", "Exp", "Log", "Special", "Variadic", "Mod"])
        if op == "Variadic":
            args = [a] + [self.partner(a) for _ in range(int(self.rng.integers(2, 4)))]
            return self.node(self.pick(["Max", "Min"]), args, a.dtype, self.out_shape(*args),
                             all(v.exact for v in args))
        if op == "Mod":
            a = self.choose(lambda v: v.dtype != BOOL and v.exact)
            b = self.partner(a, exact=True, nonzero=True)
            return self.node("Mod", [a, b], a.dtype, self.out_shape(a, b), True, fmod=1)
        a = self.choose(lambda v: v.dtype == F32)
        if op == "Exp":
            return self.node("Exp", [self.clip(a, -10.0, 10.0)], F32, a.shape)
        if op in ("Reciprocal", "Log"):
            pos = self.node("Add", [self.node("Abs", [a], F32, a.shape, a.exact),
                                    self.scalar(self.pick([0.1, 0.5, 1.0]))], F32, a.shape)
            return self.node(op, [pos], F32, a.shape)
        shape = tuple(d if static(d) is not None else ONE for d in a.shape[-2:])
        special = self.rng.choice([0.0, 0.0, np.inf, -np.inf, np.nan], [static(d) for d in shape])
        b = Val(self.const(special.astype(np.float32)), F32, shape, True)
        s = self.node("Add", [a, b], F32, self.out_shape(a, b))
        if self.chance(0.5):
            return self.node("IsNaN", [s], BOOL, s.shape, True)
        attrs = {k: int(self.chance(0.5)) for k in ("detect_negative", "detect_positive")
                 if self.chance(0.5)}
        return self.node("IsInf", [s], BOOL, s.shape, True, **attrs)

    OPS = [(op_chain, 4), (op_unary, 3), (op_binary, 4), (op_matmul, 1), (op_gemm, 1),
           (op_reduce, 3), (op_softmax, 1), (op_layernorm, 1), (op_layernorm_spelled, 1),
           (op_transpose, 1), (op_reshape, 2), (op_grid_gather, 1), (op_affine_grid_gather, 1), (op_grid_compare, 1),
           (op_concat, 1), (op_slice, 2), (op_gather, 2), (op_where, 1), (op_compare, 1),
           (op_cast, 1), (op_reshape_like, 1), (op_split, 1), (op_fake_quantize, 1),
           (op_quantized_lookup, 1), (op_attention, 1), (op_gather_elements, 1),
           (op_scatter_elements, 1), (op_scatter_nd, 1), (op_topk, 1), (op_cumsum, 1),
           (op_tile, 1), (op_expand, 1), (op_pad, 1), (op_trilu, 1), (op_onehot, 1),
           (op_einsum, 1), (op_resize, 1), (op_conv, 1), (op_pool, 1), (op_norm, 1),
           (op_position_ids, 1), (op_shared_index_gathers, 1),
           (op_depth_space, 1), (op_hardmax, 1), (op_elementwise, 1)]

    def build(self):
        """The model, with its feed spec (input kinds and two bindings of the
        symbols) in metadata_props "difftest"."""
        for dtype, p in ((F32, 1), (F32, 0.5), (self.pick([I64, I32]), 0.3), (BOOL, 0.15)):
            if self.chance(p):
                shape = [self.rand_dim() for _ in range(self.pick([1, 2, 2, 3, 3, 4]))]
                self.pool.append(self.input(dtype, shape))
        weights = np.array([w for _, w in self.OPS], dtype=float)
        made, want = [], int(self.rng.integers(2, 8))
        for _ in range(40):
            if len(made) >= want:
                break
            try:
                v = self.OPS[self.rng.choice(len(self.OPS), p=weights / weights.sum())][0](self)
            except Skip:
                continue
            if 0 < math.prod(dim_value(d, {s: 8 for s in self.symbols}) for d in v.shape) < 1 << 16:
                self.pool.append(v)
                made.append(v)
        made = made or [self.op_unary()]
        outs = [made[-1]] + [v for v in made[:-1] if v.name not in self.used][:2]
        outs += [v for v in self.kept if v.name not in self.used and v not in outs]
        graph = helper.make_graph(self.nodes, "difftest", self.inputs,
                                  [helper.make_tensor_value_info(v.name, v.dtype, None)
                                   for v in outs], self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", self.opset)],
                                  producer_name="kiln-difftest", ir_version=9)
        prune(model)  # what Skip left behind
        inferred = onnx.shape_inference.infer_shapes(model)
        model.graph.ClearField("output")
        model.graph.output.extend(inferred.graph.output)
        if self.chance(0.5):  # exporters often leave intermediate shapes in
            model.graph.value_info.extend(inferred.graph.value_info)
        envs = []
        for hi in (3, 8):
            env = {s: int(self.rng.integers(lo, lo + hi)) for s, lo in self.sym_min.items()}
            envs.append({**env, **{f: self.pick([1, env[s]]) for f, s in self.bcast.items()}})
        helper.set_model_props(model, {"difftest": json.dumps({"kinds": self.kinds,
                                                               "envs": envs})})
        return model


# -- checking --------------------------------------------------------------
def spec_of(model):
    """The feed spec stored in a model, or a default one."""
    props = {p.key: p.value for p in model.metadata_props}
    return json.loads(props.get("difftest", '{"kinds": {}, "envs": [{}]}'))


def make_feeds(model, spec, env, rng):
    """Random inputs at a binding of the symbols (unbound ones are 3)."""
    feeds, inits = {}, {i.name for i in model.graph.initializer}
    for info in (i for i in model.graph.input if i.name not in inits):
        t = info.type.tensor_type
        shape = [d.dim_value if d.HasField("dim_value") else env.get(d.dim_param, 3)
                 for d in t.shape.dim]
        dtype = np_type(t.elem_type)
        floating = dtype in (np.float32, np.float16)
        kind = spec["kinds"].get(info.name, "float" if floating else "int")
        if kind[:1] == ["index"]:  # in range for the dim it indexes
            bound = dim_value(tuple((tuple(m), c) for m, c in kind[1]), env)
            x = rng.integers(-bound, bound, shape)
        elif kind[:1] == ["value"]:
            x = np.array(kind[1])
        elif dtype == np.bool_:
            x = rng.random(shape) < 0.5
        elif kind == "nonzero":
            x = rng.integers(1, 4, shape) * rng.choice([-1, 1], shape)
            x = x * rng.uniform(0.5, 0.7, shape) if floating else x
        elif floating:
            x = rng.uniform(-2, 2, shape)
        else:
            x = rng.integers(-5, 6, shape)
        feeds[info.name] = np.asarray(x).astype(dtype)
    return feeds


def compare(want, got, half=False):
    """None if got matches want (floats within 1e-4, FLOAT16_TOLERANCE for
    float16 outputs, or with `half` within fp16's accuracy, see
    HALF_TOLERANCE; others exactly, but with `half` not at all: a comparison
    or a cast to an integer of a value stored in fp16 may rightly differ
    from onnxruntime's of the fp32 value), else why not."""
    if got is None:
        return "missing output"
    if got.shape != want.shape or got.dtype != want.dtype:
        return f"got {got.dtype}{list(got.shape)}, want {want.dtype}{list(want.shape)}"
    if half and want.dtype.kind != "f":
        return None
    if half:
        largest = float(np.abs(want[np.isfinite(want)]).max(initial=0))
        if largest > HALF_RANGE:
            return None
        bad = ~np.isclose(got, want, rtol=0, atol=HALF_TOLERANCE * max(1.0, largest),
                          equal_nan=True)
    else:
        tolerance = FLOAT16_TOLERANCE if want.dtype == np.float16 else 1e-4
        bad = ~np.isclose(got, want, rtol=tolerance, atol=tolerance, equal_nan=True) \
            if want.dtype.kind == "f" else got != want
    if not bad.any():
        return None
    i = tuple(int(x) for x in np.argwhere(bad)[0])
    return f"{int(bad.sum())}/{bad.size} differ, e.g. at {list(i)}: got {got[i]}, want {want[i]}"


def run_tool(cmd, timeout, env=None):
    """(kind, message): kind None on success, else crash, timeout or error."""
    tool = pathlib.Path(cmd[0]).name
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return "timeout", f"{tool} timed out after {timeout} s"
    if r.returncode < 0:
        return "crash", f"{tool} killed by signal {-r.returncode}: {r.stderr.strip()[-300:]}"
    return ("error", r.stderr.strip() or r.stdout.strip()) if r.returncode else (None, "")


def gpu_dims(model, env):
    """--dim for a GPU compile: every symbol of the graph's inputs at its
    value in `env` (3 where unbound)."""
    inits = {t.name for t in model.graph.initializer}
    names = sorted({d.dim_param for i in model.graph.input if i.name not in inits
                    for d in i.type.tensor_type.shape.dim if d.dim_param})
    return ["--dim", ",".join(f"{n}={env.get(n, 3)}" for n in names)] if names else []


def fixed_dims(opt, model, spec):
    """The --dim a GPU build of `model` gets: its first binding's, but for
    --gpu-symbolic's, which keeps the symbols."""
    return [] if opt in SYMBOLIC_TARGETS else gpu_dims(model, spec["envs"][0])


def check(args, model, spec, tmp, opts=None):
    """("discard", reason) if onnx.checker or ONNX Runtime rejects the model,
    else ("ran", findings): dicts of kind, opt, detail (and output)."""
    if opts is None:
        opts = OPT_LEVELS + (tuple(GPU_TARGETS) if args.gpu_compile else ()) + \
            (tuple(t for t in GPU_RUN_TARGETS if t not in OPT_IN_TARGETS)
             if args.gpu_run else ()) + \
            ((HALF_TARGET,) if args.gpu_half else ()) + \
            ((SYMBOLIC_TARGET,) if args.gpu_symbolic else ()) + \
            ((HALF_SYMBOLIC_TARGET,) if args.gpu_half and args.gpu_symbolic else ())
    gpu = {**GPU_TARGETS, **GPU_RUN_TARGETS}
    if args.float16_model:
        model = float16_model(model)
        if any(n.op_type == "QuantizeLinear" for n in model.graph.node):
            return "discard", ("onnxruntime: its float16 QuantizeLinear truncates x / scale "
                               "(0.76 / 0.5 gives 1) where ONNX rounds it")
        if any(n.op_type.startswith("Reduce") and len(n.input) < 2 and
               any(a.name == "noop_with_empty_axes" and a.i for a in n.attribute)
               for n in model.graph.node):
            return "discard", ("onnxruntime: its float16 reductions reduce every axis where "
                               "noop_with_empty_axes and no axes make them an identity")
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as e:  # noqa: BLE001 -- any complaint discards the graph
        return "discard", f"checker: {str(e).splitlines()[0][:200]}"
    data, runs = model.SerializeToString(), []
    try:
        so = ort.SessionOptions()
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        so.intra_op_num_threads, so.log_severity_level = 1, 4
        sess = ort.InferenceSession(data, so, providers=["CPUExecutionProvider"])
        names = [o.name for o in sess.get_outputs()]
        for i, env in enumerate(spec["envs"]):
            feeds = make_feeds(model, spec, env, np.random.default_rng(i))
            runs.append((feeds, dict(zip(names, sess.run(None, feeds)))))
    except Exception as e:  # noqa: BLE001
        return "discard", f"onnxruntime: {str(e).splitlines()[0][:200]}"
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "model.onnx").write_bytes(data)
    findings = []
    for opt in opts:
        lib = tmp / f"model{opt}.so"
        flags = gpu[opt] + fixed_dims(opt, model, spec) if opt in gpu else [opt]
        if opt in GPU_RUN_TARGETS and args.gpu_opt:
            flags.append(args.gpu_opt)
        kind, msg = run_tool([args.kiln, "compile", str(tmp / "model.onnx"), "-o", str(lib),
                              *flags], args.timeout)
        if kind == "error" and opt in gpu and GPU_UNSUPPORTED.search(msg):
            continue  # the GPU path's documented limit, refused with a clear error
        if kind:
            kind = ("unsupported" if UNSUPPORTED.search(msg) else "compile-failure") \
                if kind == "error" else kind
            findings.append({"kind": kind, "opt": opt, "detail": msg.splitlines()[0][:300]})
            continue
        if opt in GPU_TARGETS:
            continue  # compiled; there is no GPU to run it on
        env = dict(os.environ, **emulation_env(args.fake_cuda)) if opt in GPU_RUN_TARGETS \
            else None
        for i, (feeds, want) in enumerate(runs[:1] if env and opt not in SYMBOLIC_TARGETS else runs):
            out, cmd = tmp / f"out{opt}.{i}", [args.kiln_run, str(lib), "--threads",
                                                str(args.threads)]
            for name, value in feeds.items():
                np.save(tmp / f"{name}.{i}.npy", value)
                cmd += ["--input", f"{name}={tmp / f'{name}.{i}.npy'}"]
            kind, msg = run_tool(cmd + ["--output-dir", str(out)], args.timeout, env)
            if kind:
                if kind == "error":
                    kind = "unsupported" if SPECIALISED.search(msg or "") else "run-failure"
                findings.append({"kind": kind, "opt": opt,
                                 "detail": f"env {i}: {(msg or '?').splitlines()[0][:300]}"})
                break
            bad = [(n, why) for n, v in want.items() if (why := compare(
                v, np.load(out / f"{n}.npy") if (out / f"{n}.npy").exists() else None,
                half=opt in HALF_TARGETS))]
            if bad:
                findings.append({"kind": "mismatch", "opt": opt, "output": bad[0][0],
                                 "detail": f"env {i} {spec['envs'][i]} {bad[0][0]}: {bad[0][1]}"})
                break
    return "ran", findings


# -- shrinking -------------------------------------------------------------
def copy(model):
    m = onnx.ModelProto()
    m.CopyFrom(model)
    return m


def retyped(model):
    """The model with value_info dropped and its outputs' types inferred anew."""
    del model.graph.value_info[:]
    for o in model.graph.output:
        o.type.tensor_type.ClearField("shape")
    outputs = onnx.shape_inference.infer_shapes(model).graph.output
    model.graph.ClearField("output")
    model.graph.output.extend(outputs)
    return model


def resized(model, old, new):
    """The model with every input dim and initializer dim of size old made
    new (initializers sliced)."""
    m = copy(model)
    for d in (d for i in m.graph.input for d in i.type.tensor_type.shape.dim):
        if d.HasField("dim_value") and d.dim_value == old:
            d.dim_value = new
    for init in m.graph.initializer:
        a = numpy_helper.to_array(init)
        if old in a.shape:
            a = a[tuple(slice(0, new) if n == old else slice(None) for n in a.shape)]
            init.CopyFrom(numpy_helper.from_array(np.ascontiguousarray(a), init.name))
    return retyped(m)


def prune(model):
    """Drops the nodes, initializers, inputs and value_info nothing needs."""
    g, keep = model.graph, []
    live = {o.name for o in g.output}
    for n in reversed(list(g.node)):
        if live.intersection(n.output):
            keep.append(n)
            live.update(i for i in n.input if i)
    g.ClearField("node")
    g.node.extend(reversed(keep))
    for field in (g.initializer, g.input, g.value_info):
        kept = [x for x in field if x.name in live]
        del field[:]
        field.extend(kept)
    return model


def candidates(model):
    """Smaller graphs: one output dropped; or one node deleted, its output
    rewired to one of its inputs (of the same type, unless the output is a
    graph output) or cut into a graph input (when its shape is known)."""
    g = model.graph
    for i in range(len(g.output) if len(g.output) > 1 else 0):
        m = copy(model)
        del m.graph.output[i]
        yield prune(m)
    inferred = onnx.shape_inference.infer_shapes(model).graph
    types = {v.name: v.type for v in [*inferred.value_info, *inferred.input, *inferred.output]}
    outputs = {o.name for o in g.output}
    produced = {o for n in g.node for o in n.output}
    for idx in reversed(range(len(g.node))):
        node = g.node[idx]
        for src in dict.fromkeys(i for i in node.input if i):
            out = node.output[0]
            same = src in types and types[src] == types.get(out)
            if len(node.output) == 1 and (same or (out in outputs and src in produced)) and \
                    src not in outputs:
                m = copy(model)
                del m.graph.node[idx]
                for n in m.graph.node:
                    n.input[:] = [src if i == out else i for i in n.input]
                for o in m.graph.output:
                    o.name = src if o.name == out else o.name
                yield retyped(prune(m))
        shaped = [types.get(o) for o in node.output]
        if all(t and t.tensor_type.HasField("shape") and all(
                d.HasField("dim_value") or d.dim_param for d in t.tensor_type.shape.dim)
               for t in shaped) and not outputs.intersection(node.output):
            m = copy(model)
            del m.graph.node[idx]
            m.graph.input.extend(helper.make_value_info(o, t) for o, t in zip(node.output, shaped))
            yield prune(m)


def shrink(args, model, spec, finding, tmp):
    """Greedily smaller graphs, symbol values and input dims that still show
    finding's kind at its -O level. Returns the model (spec inside)."""
    deadline, trials = time.time() + args.shrink_time, [0]

    def still(m, sp):
        trials[0] += 1
        status, found = check(args, m, sp, tmp / f"s{trials[0]}", [finding["opt"]])
        return status == "ran" and any(f["kind"] == finding["kind"] for f in found)

    spec = json.loads(json.dumps(spec))
    env = re.match(r"env (\d+)", finding["detail"])
    spec["envs"] = [spec["envs"][int(env.group(1))]] if env else spec["envs"][:1]
    progress = True
    while progress and time.time() < deadline:
        progress = False
        for cand in candidates(model):
            if time.time() > deadline:
                break
            if still(cand, spec):
                model, progress = cand, True
                break
    env = spec["envs"][0]
    for s in sorted(env):  # lower the symbols' values
        for v in (1, 2, env[s] // 2):
            if 1 <= v < env[s] and time.time() < deadline:
                old, env[s] = env[s], v
                if still(model, spec):
                    break
                env[s] = old
    sizes = {d.dim_value for i in model.graph.input for d in i.type.tensor_type.shape.dim}
    sizes.update(n for i in model.graph.initializer for n in i.dims)
    for old in sorted(sizes - {0, 1}, reverse=True):  # lower a static size everywhere
        for new in sorted({1, old // 2}):
            if time.time() < deadline and still(m := resized(model, old, new), spec):
                model = m
                break
    names = {i.name for i in model.graph.input}
    params = {d.dim_param for i in model.graph.input for d in i.type.tensor_type.shape.dim}
    spec = {"kinds": {k: v for k, v in spec["kinds"].items() if k in names},
            "envs": [{s: v for s, v in env.items() if s in params}]}
    del model.metadata_props[:]
    helper.set_model_props(model, {"difftest": json.dumps(spec)})
    return model, trials[0]


# -- driver ----------------------------------------------------------------
def ops_of(model):
    return sorted({n.op_type for n in model.graph.node})


def report(args, label, model, tmp, keep, repro):
    """Checks a graph, shrinks its first finding and keeps the failure.
    Returns (status, discard reason or findings, lines to print, ops)."""
    status, found = check(args, model, spec_of(model), tmp)
    if status == "discard":
        return "discard", found, [f"{label}: discarded ({found})"], []
    if not found:
        return "pass", [], [f"{label}: ok {' '.join(ops_of(model))}"], ops_of(model)
    lines = [f"{label}: {f['kind'].upper()} {f['opt']} {f['detail']}" for f in found]
    shrunk = model
    if args.shrink_time > 0:
        shrunk, trials = shrink(args, model, spec_of(model), found[0], tmp / "shrink")
        lines.append(f"    shrunk in {trials} trials to {len(shrunk.graph.node)} nodes: "
                     f"{' '.join(n.op_type for n in shrunk.graph.node)}")
    if keep:
        keep.mkdir(parents=True, exist_ok=True)
        if args.float16_model:  # the graphs that were checked
            model, shrunk = float16_model(model), float16_model(shrunk)
        onnx.save(model, keep / "model.onnx")
        onnx.save(shrunk, keep / "shrunk.onnx")
        spec = spec_of(shrunk)
        cmd = [args.kiln_run, "/tmp/shrunk.so", "--threads", str(args.threads)]
        for name, value in make_feeds(shrunk, spec, spec["envs"][0],
                                      np.random.default_rng(0)).items():
            np.save(keep / f"{name}.npy", value)
            cmd += ["--input", f"{name}={keep / name}.npy"]
        opt = found[0]["opt"]
        gpu = {**GPU_TARGETS, **GPU_RUN_TARGETS}
        flags = " ".join(gpu[opt] + fixed_dims(opt, shrunk, spec)) if opt in gpu else opt
        if opt in GPU_RUN_TARGETS and args.gpu_opt:
            flags += " " + args.gpu_opt
        driver = "".join(f"{k}={v} " for k, v in emulation_env(args.fake_cuda).items()) \
            if opt in GPU_RUN_TARGETS else ""
        (keep / "repro.txt").write_text(
            f"# {found[0]['kind']} {opt}: {found[0]['detail']}\n{repro}"
            f"{ROOT}/tools/difftest.py --replay {keep}/shrunk.onnx"
            f"{' --gpu-half' if opt in HALF_TARGETS else ''}"
            f"{' --float16-model' if args.float16_model else ''}"
            f"{' --gpu-symbolic' if opt in SYMBOLIC_TARGETS else ''}"
            f"{' --gpu-run' if opt in GPU_RUN_TARGETS and opt not in OPT_IN_TARGETS else ''}"
            f"{' --gpu-opt=' + args.gpu_opt if opt in GPU_RUN_TARGETS and args.gpu_opt else ''}"
            f"{' --gpu-compile' if opt in GPU_TARGETS else ''}\n"
            f"{args.kiln} compile {keep}/shrunk.onnx -o /tmp/shrunk.so {flags} && "
            f"{driver}{' '.join(cmd)} --output-dir /tmp/shrunk-out\n")
        lines.append(f"    kept in {keep}")
    return "finding", found, lines, ops_of(shrunk)


def summary(results, wall):
    """Summary lines for (status, findings or reason, ops) per graph."""
    count, kinds, per_op = collections.Counter(s for s, _, _ in results), collections.Counter(), \
        collections.Counter()
    for status, found, ops in results:
        if status == "finding":
            kinds.update({f["kind"] for f in found})
            per_op.update(ops if any(f["kind"] == "mismatch" for f in found) else [])
    why = collections.Counter(f.split(":")[0] for s, f, _ in results if s == "discard")
    return [f"generated {len(results)}, discarded {count['discard']} "
            f"({', '.join(f'{k} {v}' for k, v in why.items()) or 'none'}), "
            f"passed {count['pass']}, with findings {count['finding']}",
            f"  mismatches {kinds['mismatch']}" + (" (ops involved: " + ", ".join(
                f"{k} {v}" for k, v in per_op.most_common()) + ")" if per_op else ""),
            f"  compile failures {kinds['compile-failure']}, unsupported {kinds['unsupported']}, "
            f"crashes {kinds['crash']}, run failures {kinds['run-failure']}, "
            f"timeouts {kinds['timeout']}",
            f"  wall time {wall:.1f} s"]


def main():
    """Generates (or replays) graphs, checks them and prints the summary."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--count", type=int, default=20, help="graphs to generate")
    parser.add_argument("--start", type=int, default=0, help="index of the first graph")
    parser.add_argument("--skip", default="", metavar="I,J,...",
                        help="indices of graphs not to check (known failures)")
    parser.add_argument("--jobs", type=int, default=1, help="graphs checked at once")
    parser.add_argument("--replay", nargs="+", type=pathlib.Path,
                        help="check these .onnx files (every .onnx of a dir) instead")
    parser.add_argument("--keep-failures", type=pathlib.Path, metavar="DIR")
    parser.add_argument("--shrink-time", type=float, default=120,
                        help="seconds to shrink each failing graph (0: do not shrink)")
    parser.add_argument("--dynamic-broadcast", action="store_true",
                        help="let distinct symbolic dims broadcast (known bug)")
    parser.add_argument("--threads", type=int, default=1, help="kiln-run --threads")
    parser.add_argument("--gpu-compile", action="store_true",
                        help="also compile each graph for the GPU (--target cuda, kernels and "
                             "cuBLASLt fp16; compile only): crashes and unexpected errors are "
                             "findings")
    parser.add_argument("--gpu-run", action="store_true",
                        help="also compile each graph for the GPU with --gpu-emulation (kernels "
                             "and cuBLASLt fp32) and run it on the test CUDA driver (--fake-cuda), "
                             "on the first input binding: mismatches are findings")
    parser.add_argument("--gpu-half", action="store_true",
                        help="also run each graph emulated with cuBLASLt fp16, half storage "
                             "(tensors between kernels in fp16), fused attention and tanh GELU, "
                             "held to fp16's accuracy (HALF_TOLERANCE): mismatches are findings")
    parser.add_argument("--gpu-symbolic", action="store_true",
                        help="also compile each graph for the GPU with its symbolic dims kept "
                             "(--gpu-emulation) and run it on every input binding on the test "
                             "CUDA driver: mismatches are findings (with --gpu-half, also "
                             "--gpu-half's build with the symbols kept)")
    parser.add_argument("--float16-model", action="store_true",
                        help="check each graph with its float32 tensors made float16 (Kiln and "
                             "ORT both compute it in f32), floats held to FLOAT16_TOLERANCE; "
                             "--replay needs it again for the graphs it found")
    parser.add_argument("--fake-cuda",
                        default=str(BUILT_FAKE_DRIVER),
                        help="the test CUDA driver for --gpu-run")
    parser.add_argument("--gpu-opt", choices=["-O0", "-O1", "-O2", "-O3"],
                        help="--gpu-run's optimization level, e.g. --gpu-opt=-O0 (default: "
                             "kiln's, -O2)")
    parser.add_argument("--timeout", type=int, default=120, help="seconds per kiln command")
    parser.add_argument("--kiln", default=str(ROOT / "build/bin/kiln"))
    parser.add_argument("--kiln-run", default=str(ROOT / "build/bin/kiln-run"))
    parser.add_argument("-v", "--verbose", action="store_true", help="list passing graphs too")
    args = parser.parse_args()
    if args.gpu_half:
        GPU_RUN_TARGETS[HALF_TARGET] = HALF_FLAGS
    if args.gpu_symbolic:
        GPU_RUN_TARGETS[SYMBOLIC_TARGET] = SYMBOLIC_FLAGS
    if args.gpu_half and args.gpu_symbolic:
        GPU_RUN_TARGETS[HALF_SYMBOLIC_TARGET] = HALF_FLAGS
    if args.gpu_compile:
        toolkit = pathlib.Path(os.environ.get("CUDA_HOME") or "/usr/local/cuda")
        if not (toolkit / "nvvm/libdevice/libdevice.10.bc").exists():
            print(f"difftest: --gpu-compile: no CUDA toolkit at {toolkit} (its "
                  f"nvvm/libdevice); the GPU compiles are skipped", flush=True)
            args.gpu_compile = False
    start = time.time()
    if args.replay:
        files = sorted(f for p in args.replay for f in ([p] if p.is_file() else p.glob("*.onnx")))
        jobs = [(str(f), lambda f=f: onnx.load(str(f)), "") for f in files]
    else:
        jobs = [(f"graph {i}", lambda i=i: Gen(np.random.default_rng([args.seed, i]),
                                               args.dynamic_broadcast).build(),
                 f"{ROOT}/tools/difftest.py --seed {args.seed} --start {i} --count 1"
                 + " --dynamic-broadcast" * args.dynamic_broadcast + "\n")
                for i in range(args.start, args.start + args.count)
                if str(i) not in args.skip.split(",")]

    def work(job):
        label, make, repro = job
        keep = args.keep_failures / re.sub(r"\W+", "-", label).strip("-") \
            if args.keep_failures else None
        with tempfile.TemporaryDirectory(prefix="difftest-") as tmp:
            return report(args, label, make(), pathlib.Path(tmp), keep, repro)

    results = []
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for status, found, lines, ops in pool.map(work, jobs):
            for line in lines if status != "pass" or args.verbose else []:
                print(line, flush=True)
            results.append((status, found, ops))
    print(f"difftest {'replay' if args.replay else f'--seed {args.seed}'}: "
          + "\n".join(summary(results, time.time() - start)))
    bad = {"finding", "discard"} if args.replay else {"finding"}  # reproducers must stay valid
    return 1 if any(s in bad for s, _, _ in results) else 0


if __name__ == "__main__":
    sys.exit(main())
