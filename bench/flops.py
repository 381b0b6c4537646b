#!/usr/bin/env python3
"""FLOPs of one run of an ONNX model at given input shapes.

Counts what dominates a Transformer: every MatMul and Gemm as 2*M*N*K per
(broadcast) batch element, and every Conv as 2 * (output elements) *
(input channels per group) * (kernel size). Everything else (elementwise
ops, Softmax, LayerNorm, Gemm's bias) is ignored: a few percent for these
models. Shapes come from onnx.shape_inference (with data propagation) run
on a copy of the model whose graph inputs are fixed to the bench shapes.

    flops.py model.onnx input_ids=1x128 attention_mask=1x128 ...

prints the total and a per-op-type breakdown. As a module:
count_flops(model_or_path, {"input_ids": [1, 128], ...}) -> FlopCount.
"""

import argparse
import dataclasses
import math
import sys

import numpy as np
import onnx
from onnx import numpy_helper, shape_inference
from onnx.reference import ReferenceEvaluator


@dataclasses.dataclass
class FlopCount:
    total: int = 0
    by_op: dict = dataclasses.field(default_factory=dict)   # op type -> FLOPs
    nodes: dict = dataclasses.field(default_factory=dict)   # op type -> count
    # Nodes of a counted type whose operand shapes could not be inferred:
    # they contribute nothing, so a non-empty list means the total is low.
    unknown: list = dataclasses.field(default_factory=list)

    def add(self, op, flops):
        self.total += flops
        self.by_op[op] = self.by_op.get(op, 0) + flops
        self.nodes[op] = self.nodes.get(op, 0) + 1


def _fix_inputs(model, shapes):
    """Sets the graph inputs to `shapes` and returns {symbolic dim name:
    size} for the dims that were symbolic ("batch", "sequence")."""
    symbols = {}
    initializers = {i.name for i in model.graph.initializer}
    for value in model.graph.input:
        if value.name in initializers:
            continue
        if value.name not in shapes:
            raise ValueError(f"no shape given for input '{value.name}'")
        dims = value.type.tensor_type.shape.dim
        want = list(shapes[value.name])
        if len(dims) != len(want):
            raise ValueError(f"input '{value.name}' has rank {len(dims)}, "
                             f"but the shape given is {want}")
        for d, size in zip(dims, want):
            if d.HasField("dim_param") and d.dim_param:
                symbols[d.dim_param] = int(size)
            d.Clear()
            d.dim_value = int(size)
    return symbols


def _specialize_value_info(model, symbols):
    """Exporters record intermediate shapes with the inputs' symbolic dims
    ("batch"); inference keeps a recorded dim rather than derive one, so put
    the sizes in, and drop recorded shapes that still have an unknown dim
    (inference then derives them afresh)."""
    for value in list(model.graph.value_info) + list(model.graph.output):
        t = value.type.tensor_type
        if not t.HasField("shape"):
            continue
        known = True
        for d in t.shape.dim:
            if d.HasField("dim_value"):
                continue
            name = d.dim_param if d.HasField("dim_param") else None
            d.Clear()
            if name in symbols:
                d.dim_value = symbols[name]
            else:
                known = False
        if not known:
            t.ClearField("shape")


def _shape_table(model):
    table = {}
    for value in list(model.graph.value_info) + list(model.graph.input) + \
            list(model.graph.output):
        t = value.type.tensor_type
        if not t.HasField("shape"):
            continue
        dims = [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim]
        table[value.name] = dims
    for init in model.graph.initializer:
        table[init.name] = list(init.dims)
    return table


def _known(shape):
    return shape is not None and all(d is not None for d in shape)


def _matmul(a, b):
    """FLOPs of numpy-style matmul of shapes a and b (None if not known)."""
    if not (_known(a) and _known(b)) or not a or not b:
        return None
    a, b = list(a), list(b)
    if len(a) == 1:
        a = [1] + a
    if len(b) == 1:
        b = b + [1]
    m, k = a[-2], a[-1]
    n = b[-1]
    batch_a, batch_b = a[:-2], b[:-2]
    rank = max(len(batch_a), len(batch_b))
    batch_a = [1] * (rank - len(batch_a)) + batch_a
    batch_b = [1] * (rank - len(batch_b)) + batch_b
    batch = math.prod(max(x, y) for x, y in zip(batch_a, batch_b))
    return 2 * batch * m * n * k


def _attr(node, name, default):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


# Ops of the shape arithmetic that exporters emit (Shape -> Gather ->
# Unsqueeze -> Concat -> Reshape, Slice ends from Shape, ...). onnx's data
# propagation misses some of them (a Slice whose end is computed), so they
# are evaluated here once the shapes feeding them are known.
_FOLDABLE = {
    "Add", "Cast", "Ceil", "Concat", "ConstantOfShape", "Div", "Equal", "Expand", "Floor",
    "Gather", "Greater", "Identity", "Less", "Max", "Min", "Mod", "Mul", "Neg", "Not",
    "Range", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceSum", "Reshape", "Slice",
    "Sqrt", "Squeeze", "Sub", "Tile", "Transpose", "Unsqueeze", "Where",
}
_FOLD_LIMIT = 1 << 16  # elements: shape arithmetic, never weights


def _evaluate(node, values, opset):
    graph = onnx.helper.make_graph(
        [node], "fold",
        [onnx.helper.make_tensor_value_info(
            name, onnx.helper.np_dtype_to_tensor_dtype(values[name].dtype), None)
         for name in node.input if name],
        [onnx.helper.make_tensor_value_info(name, onnx.TensorProto.UNDEFINED, None)
         for name in node.output])
    model = onnx.helper.make_model(graph, opset_imports=opset)
    results = ReferenceEvaluator(model).run(
        None, {name: values[name] for name in node.input if name})
    return [np.asarray(r) for r in results]


def _fold_shape_arithmetic(model, table):
    """Replaces the nodes of `model` that compute small tensors from
    constants and known shapes by initializers. Returns how many."""
    values = {}
    for init in model.graph.initializer:
        if math.prod(init.dims) <= _FOLD_LIMIT:
            values[init.name] = numpy_helper.to_array(init)
    kept, folded = [], 0
    for node in model.graph.node:
        outputs = None
        try:
            if node.op_type == "Constant" and not node.domain:
                outputs = _evaluate(node, values, model.opset_import)
            elif node.op_type == "Shape" and _known(table.get(node.input[0])):
                dims = table[node.input[0]]
                start, end = _attr(node, "start", 0), _attr(node, "end", len(dims))
                outputs = [np.array(dims[slice(start, end)], dtype=np.int64)]
            elif node.op_type == "Size" and _known(table.get(node.input[0])):
                outputs = [np.array(math.prod(table[node.input[0]]), dtype=np.int64)]
            elif (node.op_type in _FOLDABLE and not node.domain and
                  all(not name or name in values for name in node.input)):
                outputs = _evaluate(node, values, model.opset_import)
        except Exception:  # not foldable after all: leave it to run time
            outputs = None
        if outputs is None or any(o.size > _FOLD_LIMIT for o in outputs):
            kept.append(node)
            continue
        for name, array in zip(node.output, outputs):
            values[name] = array
            model.graph.initializer.append(numpy_helper.from_array(array, name))
        folded += 1
    del model.graph.node[:]
    model.graph.node.extend(kept)
    constant = {init.name for init in model.graph.initializer}
    stale = [v for v in model.graph.value_info if v.name in constant]
    for v in stale:
        model.graph.value_info.remove(v)
    _specialize_value_info(model, {})
    return folded


def count_flops(model, shapes):
    """FLOPs of one run. `model` is an onnx.ModelProto or a path; `shapes`
    maps every graph input to its dims."""
    if not isinstance(model, onnx.ModelProto):
        model = onnx.load(str(model))
    fixed = onnx.ModelProto()
    fixed.CopyFrom(model)
    _specialize_value_info(fixed, _fix_inputs(fixed, shapes))
    inferred = shape_inference.infer_shapes(fixed, data_prop=True)
    table = _shape_table(inferred)
    for _ in range(8):  # fold what is known, infer again, until nothing moves
        if not any(n.op_type in ("MatMul", "Gemm", "Conv") and
                   not all(_known(table.get(i)) for i in n.input[:2])
                   for n in inferred.graph.node):
            break
        if not _fold_shape_arithmetic(inferred, table):
            break
        inferred = shape_inference.infer_shapes(inferred, data_prop=True)
        table = _shape_table(inferred)
    count = FlopCount()
    for node in inferred.graph.node:
        if node.op_type == "MatMul":
            flops = _matmul(table.get(node.input[0]), table.get(node.input[1]))
        elif node.op_type == "Gemm":
            a, b = table.get(node.input[0]), table.get(node.input[1])
            flops = None
            if _known(a) and _known(b) and len(a) == 2 and len(b) == 2:
                m, k = (a[1], a[0]) if _attr(node, "transA", 0) else (a[0], a[1])
                n = b[0] if _attr(node, "transB", 0) else b[1]
                flops = 2 * m * n * k
        elif node.op_type == "Conv":
            w, y = table.get(node.input[1]), table.get(node.output[0])
            flops = None
            if _known(w) and _known(y) and len(w) >= 3:
                # w: [Cout, Cin/group, k...]; y: [N, Cout, spatial...]
                flops = 2 * math.prod(y) * w[1] * math.prod(w[2:])
        else:
            continue
        if flops is None:
            count.unknown.append(f"{node.op_type} {node.name or node.output[0]}")
            count.nodes[node.op_type] = count.nodes.get(node.op_type, 0) + 1
        else:
            count.add(node.op_type, flops)
    return count


def parse_shape(text):
    name, _, dims = text.partition("=")
    if not name or not dims:
        raise argparse.ArgumentTypeError(f"expected name=DxD..., got '{text}'")
    return name, [int(d) for d in dims.split("x")]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("shapes", nargs="+", type=parse_shape, metavar="name=DxD")
    args = parser.parse_args()
    count = count_flops(args.model, dict(args.shapes))
    print(f"total {count.total:.6g} FLOPs ({count.total / 1e9:.3f} GFLOP)")
    for op, flops in sorted(count.by_op.items()):
        print(f"  {op:8s} {count.nodes[op]:5d} nodes  {flops / 1e9:10.3f} GFLOP")
    for node in count.unknown:
        print(f"  not counted (shape unknown): {node}")
    return 1 if count.unknown else 0


if __name__ == "__main__":
    sys.exit(main())
