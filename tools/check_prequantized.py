#!/usr/bin/env python3
"""Pre-quantized ONNX models (onnxruntime.quantization's) run by Kiln against
onnxruntime on the same file.

Each case is a small model of Linear layers quantized by onnxruntime itself:
quantize_dynamic (QOperator: DynamicQuantizeLinear + MatMulInteger + the
float rescale; per-tensor and per-channel weight scales) and quantize_static
(QDQ: QuantizeLinear/DequantizeLinear around a float MatMul; uint8 and int8
activations). Kiln compiles the file as it is (no --quantize) and must

 * run its int8 MatMuls as int8 GEMMs: the LLVM-dialect MLIR calls
   kiln_rt_qgemm once per MatMul (kiln-fold-integer-matmuls), and not at all
   where the weight's zero point is not 0 (uint8 weights), which stays the
   literal integer arithmetic;
 * give onnxruntime's outputs, at two row counts, within a bound that
   follows from the arithmetic both compute:
   - a MatMul whose input is the model's input gives the same quantized
     activations, the same exact int32 sums and the same rescale in both;
     only the float epilogue (the rescale, the bias add) may round
     differently: 1e-5 of the output's largest magnitude;
   - a later MatMul's activation is quantized from a value that the two
     computed with float rounding differences, which can move an element
     to the neighbouring step: at most one step of its scale `sa` per
     element, so at most sa * sum_p |W(p, j)| in output column j (W
     dequantized, `sa` the layer's activation scale as onnxruntime
     computes it);
   - a QDQ output quantized again (QuantizeLinear then DequantizeLinear on
     the MatMul's result), or QLinearMatMul's own uint8 output
     (quantize_static's QOperator format), can land on the other side of a
     rounding boundary for the same reason, and QLinearMatMul's because
     ONNX's reference scales the sum in double where Kiln (as onnxruntime)
     multiplies in float: one step of that output scale.

Exits non-zero if any case fails.
"""

import argparse
import pathlib
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                      quantize_dynamic, quantize_static)

ROOT = pathlib.Path(__file__).resolve().parent.parent
FLOAT_ROUNDING = 1e-5  # of the output's largest magnitude


def linear_model(path, k, widths, rng, relu_between=True, gemm=False):
    """x [batch, seq, k] -> MatMul + bias (-> ReLU) -> ... as an fp32 ONNX
    file; the activation entering layer i is named a{i}. With `gemm`, x is
    [rows, k] and each layer one Gemm with a transposed weight (transB = 1,
    as exporters write Linear layers) and the bias as C."""
    nodes, inits, current, width = [], [], "x", k
    for i, n in enumerate(widths):
        w = (rng.standard_normal((width, n)) / np.sqrt(width)).astype(np.float32)
        b = (rng.standard_normal(n) * 0.1).astype(np.float32)
        inits += [numpy_helper.from_array(w.T.copy() if gemm else w, f"w{i}"),
                  numpy_helper.from_array(b, f"b{i}")]
        nodes.append(helper.make_node("Identity", [current], [f"a{i}"]))
        if gemm:
            nodes.append(helper.make_node("Gemm", [f"a{i}", f"w{i}", f"b{i}"], [f"y{i}"],
                                          name=f"linear{i}", transB=1))
        else:
            nodes += [helper.make_node("MatMul", [f"a{i}", f"w{i}"], [f"m{i}"], name=f"linear{i}"),
                      helper.make_node("Add", [f"m{i}", f"b{i}"], [f"y{i}"])]
        current, width = f"y{i}", n
        if relu_between and i + 1 < len(widths):
            nodes.append(helper.make_node("Relu", [current], [f"r{i}"]))
            current = f"r{i}"
    nodes.append(helper.make_node("Identity", [current], ["out"]))
    dims = ["rows"] if gemm else ["batch", "seq"]
    graph = helper.make_graph(
        nodes, "linear", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [*dims, k])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [*dims, width])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 9
    onnx.checker.check_model(model)
    onnx.save(model, path)


class Batches(CalibrationDataReader):
    def __init__(self, k, rng, rank=3):
        shape = (1, 16, k)[3 - rank:]
        self.feeds = iter([{"x": (rng.standard_normal(shape) * 2).astype(np.float32)}
                           for _ in range(4)])

    def get_next(self):
        return next(self.feeds, None)


# name, fp32 layer widths (input width first), how onnxruntime quantizes it,
# the kiln_rt_qgemm calls expected.
CASES = [
    ("qoperator", [64, 48, 40], dict(kind="dynamic"), 2),
    ("qoperator_per_channel", [37, 64, 19], dict(kind="dynamic", per_channel=True), 2),
    ("qdq_uint8_per_channel", [64, 48], dict(kind="static", activation_type=QuantType.QUInt8,
                                             per_channel=True), 1),
    ("qdq_int8", [64, 48], dict(kind="static", activation_type=QuantType.QInt8), 1),
    # quantize_static's QOperator format: QLinearMatMul (uint8 in and out).
    ("qlinear_matmul", [64, 48], dict(kind="static", quant_format=QuantFormat.QOperator,
                                      activation_type=QuantType.QUInt8,
                                      op_types_to_quantize=["MatMul"]), 1),
    ("qlinear_matmul_per_channel", [40, 33], dict(kind="static", quant_format=QuantFormat.QOperator,
                                                  activation_type=QuantType.QUInt8, per_channel=True,
                                                  op_types_to_quantize=["MatMul"]), 1),
    # A Gemm layer (transB = 1, the bias as C; BERT's pooler) in QDQ.
    ("qdq_gemm", [64, 40], dict(kind="static", activation_type=QuantType.QUInt8, gemm=True), 1),
    ("qdq_gemm_per_channel", [37, 19], dict(kind="static", activation_type=QuantType.QUInt8,
                                            per_channel=True, gemm=True), 1),
    # uint8 weights have a zero point of 128: not the int8 GEMM's, kept as loops.
    ("qoperator_uint8_weights", [64, 48, 40], dict(kind="dynamic", weight_type=QuantType.QUInt8), 0),
]


def quantize(fp32, out, how, k, rng):
    how = dict(how)
    rank = 2 if how.pop("gemm", False) else 3
    if how.pop("kind") == "dynamic":
        quantize_dynamic(str(fp32), str(out), weight_type=how.pop("weight_type", QuantType.QInt8),
                         **how)
    else:
        quantize_static(str(fp32), str(out), Batches(k, rng, rank),
                        quant_format=how.pop("quant_format", QuantFormat.QDQ),
                        weight_type=QuantType.QInt8, **how)


def initializers(model):
    return {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}


def dequantized_weight(model, inits, name):
    """The float weight of the quantized MatMul whose B is initializer `name`
    (quantize_dynamic: name_quantized/_scale/_zero_point; QDQ: through its
    DequantizeLinear)."""
    q = inits[name + "_quantized"].astype(np.float64)
    zp = inits[name + "_zero_point"].astype(np.float64)
    return (q - zp) * inits[name + "_scale"].astype(np.float64)


def tolerance(model, widths, kind, intermediates):
    """Per output column, beyond the float rounding allowance: one step of
    the second layer's activation scale through its weight (QOperator; the
    models have two layers at most), or one step of every scale that
    quantizes the MatMul's result again on its way out (QDQ, one layer: its
    output m0 and the bias add's y0; a step of m0 moves y0 by m0's scale,
    then y0 itself may round the other way)."""
    inits = initializers(model)
    bound = np.zeros(widths[-1])
    if kind == "dynamic":
        assert len(widths) <= 3, "the bound covers one layer after the first"
        if len(widths) == 3:
            a = intermediates["a1"]
            sa = (max(a.max(), 0.0) - min(a.min(), 0.0)) / 255.0
            bound = np.abs(dequantized_weight(model, inits, "w1")).sum(axis=0) * sa
    else:
        assert len(widths) == 2, "the bound covers one QDQ layer"
        bound += sum(float(inits[n.input[1]]) for n in model.graph.node
                     if n.op_type == "QuantizeLinear" and n.input[0] != "a0")
        # QLinearMatMul's uint8 output: one step of its y_scale.
        bound += sum(float(inits[n.input[6]]) for n in model.graph.node
                     if n.op_type == "QLinearMatMul")
    return bound


def run(cmd):
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({result.returncode}): "
                           f"{result.stderr.strip()[-1500:]}")
    return result


def compare(label, got, want, allowed, problems):
    """Prints how `got` compares with `want` under the bound `allowed` (a
    number or one per column); adds to `problems` if it breaks it."""
    err = np.abs(got - want) if got.shape == want.shape else np.full(1, np.inf)
    worst = float((err / allowed).max())
    if not worst <= 1.0:
        problems.append(f"{label}: error {err.max():.2e}, {worst:.2f} times the bound")
    print(f"  {label}: max abs err {err.max():.1e} ({worst:.2f} of the bound), "
          f"{100 * float((err == 0).mean()):.1f}% of the outputs equal")


def with_outputs(model, names):
    """The model with the values `names` as extra outputs (for onnxruntime
    to report them)."""
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    for name in names:
        copy.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    return copy


def check(name, widths, how, calls_expected, args, tmp, rng):
    fp32, path = tmp / f"{name}.fp32.onnx", tmp / f"{name}.onnx"
    gemm = how.get("gemm", False)
    linear_model(fp32, widths[0], widths[1:], rng, gemm=gemm)
    quantize(fp32, path, how, widths[0], rng)
    model = onnx.load(str(path))
    lib = tmp / f"{name}.so"
    run([args.kiln, "compile", path, "-o", lib])
    run([args.kiln, "compile", path, "-o", tmp / "model.mlir", "--emit=mlir"])
    calls = (tmp / "model.mlir").read_text().count("call @kiln_rt_qgemm(")
    problems = [] if calls == calls_expected else [
        f"{calls} kiln_rt_qgemm calls, expected {calls_expected}"]
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    probe_names = [f"a{i}" for i in range(1, len(widths) - 1)]
    probe = ort.InferenceSession(with_outputs(model, probe_names).SerializeToString(),
                                 providers=["CPUExecutionProvider"])
    for rows in ((1, 5), (3, 33)):
        shape = (rows[0] * rows[1],) if gemm else rows
        x = (rng.standard_normal((*shape, widths[0])) * 2).astype(np.float32)
        x[..., 0] += 3  # an off-centre range: zero points away from the middle
        np.save(tmp / "x.npy", x)
        out = tmp / "out"
        run([args.kiln_run, lib, "--threads", "2", "--output-dir", out, "--input", f"x={tmp / 'x.npy'}"])
        got = np.load(out / "out.npy").astype(np.float64)
        want = session.run(None, {"x": x})[0].astype(np.float64)
        values = dict(zip([o.name for o in probe.get_outputs()], probe.run(None, {"x": x})))
        allowed = FLOAT_ROUNDING * np.abs(want).max() + tolerance(model, widths, how["kind"], values)
        compare(f"{name} rows {rows} ({calls} int8 GEMM calls)", got, want, allowed, problems)
    for p in problems:
        print(f"FAIL {name}: {p}")
    return not problems


def embedding_model(path, rng, vocab=300, width=32, positions=64, out=8):
    """BERT's embedding lookups (word, token type, position: Gather of an
    fp32 table by int64 ids), their sum, a Linear layer of it, and the
    first token's row of that sum through a second Linear layer (the
    pooler's Gather on a run-time sized axis)."""
    tables = {"word": (vocab, width), "token_type": (2, width), "position": (positions, width)}
    inits = [numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)
             for name, shape in tables.items()]
    inits += [numpy_helper.from_array((rng.standard_normal((width, out)) / 4).astype(np.float32), n)
              for n in ("w_all", "w_first")]
    inits.append(numpy_helper.from_array(np.array(0, dtype=np.int64), "first"))
    nodes = [helper.make_node("Gather", [name, f"{name}_ids"], [f"{name}_rows"], name=f"{name}_lookup")
             for name in tables]
    nodes += [helper.make_node("Add", ["word_rows", "token_type_rows"], ["sum0"]),
              helper.make_node("Add", ["sum0", "position_rows"], ["embedded"]),
              helper.make_node("MatMul", ["embedded", "w_all"], ["out"], name="linear_all"),
              helper.make_node("Gather", ["embedded", "first"], ["first_row"], axis=1, name="pick"),
              helper.make_node("MatMul", ["first_row", "w_first"], ["first_out"], name="linear_first")]
    ids = [helper.make_tensor_value_info(f"{name}_ids", TensorProto.INT64, ["batch", "seq"])
           for name in tables]
    outs = [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["batch", "seq", out]),
            helper.make_tensor_value_info("first_out", TensorProto.FLOAT, ["batch", out])]
    model = helper.make_model(helper.make_graph(nodes, "embeddings", ids, outs, inits),
                              opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 9
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return {name: shape[0] for name, shape in tables.items()}


def check_embeddings(args, tmp, rng):
    """onnxruntime's QDQ embedding lookups: quantize_static stores each table
    in uint8 (DequantizeLinear, then Gather). Kiln gathers the uint8 rows
    and dequantizes only those, which is exact: the sum, and the activations
    the Linear layers quantize, equal onnxruntime's reading of the file as
    written (no graph optimizations), so only the MatMul's float rounding
    may move an output to its neighbouring step: one step of every
    QuantizeLinear after the MatMul, plus FLOAT_ROUNDING."""
    fp32, path, lib = tmp / "embeddings.fp32.onnx", tmp / "embeddings.onnx", tmp / "embeddings.so"
    sizes = embedding_model(fp32, rng)

    def ids(batch, seq):
        return {f"{name}_ids": rng.integers(0, size, (batch, seq)) for name, size in sizes.items()}

    class Lookups(CalibrationDataReader):
        feeds = iter([ids(1, 16) for _ in range(4)])

        def get_next(self):
            return next(self.feeds, None)

    quantize_static(str(fp32), str(path), Lookups(), quant_format=QuantFormat.QDQ,
                    weight_type=QuantType.QInt8, activation_type=QuantType.QUInt8)
    model = onnx.load(str(path))
    inits = initializers(model)
    tables = [n.input[0] for n in model.graph.node if n.op_type == "DequantizeLinear"
              and inits.get(n.input[0]) is not None and inits[n.input[0]].dtype == np.uint8
              and inits[n.input[0]].ndim == 2]
    problems = [] if len(tables) == 3 else [f"expected 3 uint8 tables, found {tables}"]
    run([args.kiln, "compile", path, "-o", lib])
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    literal = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    producers = {o: n for n in model.graph.node for o in n.output}
    for batch, seq in ((1, 5), (2, 23)):
        feeds = ids(batch, seq)
        inputs = []
        for name, value in feeds.items():
            np.save(tmp / f"{name}.npy", value)
            inputs += ["--input", f"{name}={tmp / f'{name}.npy'}"]
        out = tmp / "out"
        run([args.kiln_run, lib, "--threads", "2", "--output-dir", out, *inputs])
        for name, want in zip(["out", "first_out"], literal.run(["out", "first_out"], feeds)):
            got = np.load(out / f"{name}.npy").astype(np.float64)
            # The QuantizeLinear nodes between the MatMul and the output.
            steps, value = 0.0, name
            while value in producers and producers[value].op_type != "MatMul":
                node = producers[value]
                if node.op_type == "QuantizeLinear":
                    steps += float(inits[node.input[1]])
                value = node.input[0]
            allowed = FLOAT_ROUNDING * np.abs(want).max() + steps
            compare(f"embeddings {name} {batch}x{seq}", got, want.astype(np.float64), allowed,
                    problems)
    for p in problems:
        print(f"FAIL embeddings: {p}")
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
        for name, widths, how, calls in CASES:
            try:
                failed += not check(name, widths, how, calls, args, pathlib.Path(tmp), rng)
            except RuntimeError as error:
                print(f"FAIL {name}: {error}")
                failed += 1
        try:
            failed += not check_embeddings(args, pathlib.Path(tmp), rng)
        except RuntimeError as error:
            print(f"FAIL embeddings: {error}")
            failed += 1
    total = len(CASES) + 1
    print(f"{total - failed}/{total} pre-quantized cases pass")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
