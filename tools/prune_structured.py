"""Structured pruning of an ONNX model: the numpy twin of kiln-prune-structured.

Used by tools/prune_onnx.py for `--prune heads=F,ffn=F`. The blocks (each
named by its last Linear layer's ONNX node, Wo or the FFN's down-projection,
and its number of units) come from `kiln compile --stats`, whose remarks the
caller passes in: finding attention and FFN blocks is the compiler's pattern
matching, and this twin checks what follows from it independently:

  * the importance of each unit (head or neuron): the sum over its features
    j of s_j * ||W[j, :]||_2, W the last layer's weight, s_j = E|x_j| of
    that layer's input x on calibration data run through onnxruntime, or 1
    without data; the round(F x units) least important go (the lower index
    first among equals), one at least stays;
  * the rewrite: the units' columns of every Linear layer feeding the block
    (found by walking back from the last layer's input, through data inputs
    only, to MatMul nodes with constant weights) and of their bias Adds, the
    units' rows of the last layer. The Reshape shapes of the exports are
    computed at run time with -1 for the head count, so the initializers
    are all that changes. A constant Reshape shape naming the old head
    count is not rewritten here (Kiln rewrites those): onnxruntime then
    fails on the element count, never silently.
"""

import math
import pathlib
import re

import numpy as np
import onnx
from onnx import numpy_helper

STRUCTURED_GRAMMAR = ("heads=F,ffn=F (the fractions of attention heads and FFN neurons to remove, "
                      "in [0, 1), either or both, e.g. heads=0.5,ffn=0.5)")

REMARK = re.compile(r"node '([^']+)': (attention|FFN) block, kept (\d+) of (\d+) (?:heads|neurons) "
                    r"\(([a-z-]+) importance\): ([0-9,-]+)")


def parse_structured(text, bad):
    """{'kind': 'structured', 'heads', 'ffn'} from heads=F,ffn=F."""
    spec = {"kind": "structured", "heads": 0.0, "ffn": 0.0}
    seen = set()
    for field in text.split(","):
        key, _, value = field.partition("=")
        if key not in ("heads", "ffn") or key in seen:
            raise bad(f"has '{field}', not one heads=F and one ffn=F")
        seen.add(key)
        try:
            fraction = float(value)
        except ValueError:
            fraction = math.nan
        if not 0 <= fraction < 1:
            raise bad(f"has {key}='{value}', not a fraction in [0, 1)")
        spec[key] = fraction
    return spec


def expand_ranges(text):
    """[0, 1, 2, 3, 5] from "0-3,5"."""
    units = []
    for part in text.split(","):
        first, _, last = part.partition("-")
        units.extend(range(int(first), int(last or first) + 1))
    return units


def parse_remarks(text):
    """[{'node', 'attention', 'units', 'kept', 'calibrated'}] from kiln's --stats."""
    blocks = []
    for m in REMARK.finditer(text):
        blocks.append({"node": m.group(1), "attention": m.group(2) == "attention",
                       "units": int(m.group(4)), "kept": expand_ranges(m.group(6)),
                       "calibrated": m.group(5) == "calibration"})
    return blocks


def kept_units(importance, fraction):
    units = len(importance)
    drop = min(units - 1, int(math.floor(fraction * units + 0.5)))
    order = sorted(range(units), key=lambda u: (importance[u], u))
    return sorted(order[drop:])


class Graph:
    """Producers, readers and constants of an ONNX graph."""

    def __init__(self, model):
        self.model = model
        graph = model.graph
        self.initializers = {t.name: t for t in graph.initializer}
        self.constants = dict(self.initializers)
        for node in graph.node:
            if node.op_type == "Constant":
                for a in node.attribute:
                    if a.name == "value":
                        self.constants[node.output[0]] = a.t
        self.producer = {out: node for node in graph.node for out in node.output}
        self.by_name = {node.name: node for node in graph.node}
        self.readers = {}
        for node in graph.node:
            for name in node.input:
                self.readers.setdefault(name, []).append(node)

    def array(self, name):
        return numpy_helper.to_array(self.constants[name])

    def is_linear(self, node):
        return (node.op_type == "MatMul" and node.input[1] in self.constants
                and len(self.constants[node.input[1]].dims) == 2)

    def bias_add(self, node):
        """(Add node, bias name) reading this Linear's output, or None."""
        readers = self.readers.get(node.output[0], [])
        if len(readers) != 1 or readers[0].op_type != "Add":
            return None
        add = readers[0]
        other = [i for i in add.input if i != node.output[0]]
        if (len(other) == 1 and other[0] in self.constants
                and len(self.constants[other[0]].dims) == 1):
            return add, other[0]
        return None

    def producers(self, value):
        """The Linear nodes feeding `value` through data inputs (not Reshape
        shapes, not through Shape nodes), nearest first."""
        found, seen, stack = [], set(), [value]
        while stack:
            name = stack.pop()
            node = self.producer.get(name)
            if name in seen or node is None or node.op_type in ("Shape", "Constant"):
                continue
            seen.add(name)
            if self.is_linear(node):
                found.append(node)
                continue
            inputs = node.input[:1] if node.op_type in ("Reshape", "Expand") else node.input
            stack.extend(i for i in inputs if i and i not in self.constants)
        return found

    def set_constant(self, name, array):
        target = self.constants[name]
        target.CopyFrom(numpy_helper.from_array(array.astype(np.float32), name))


def input_magnitudes(model, nodes, data):
    """{node: E|x_j|} of each node's input A, over every set of `data` run
    through onnxruntime (float64 sums)."""
    import onnxruntime as ort

    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    graph = Graph(probe)
    names = [graph.by_name[n].input[0] for n in nodes]
    for name in names:
        probe.graph.output.append(
            onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    session = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    inputs = [i.name for i in session.get_inputs()]
    sums, rows = [None] * len(nodes), [0] * len(nodes)
    for folder in sorted(p for p in pathlib.Path(data).iterdir() if p.is_dir()):
        feeds = {name: np.load(folder / f"{name}.npy") for name in inputs}
        for i, value in enumerate(session.run(names, feeds)):
            flat = np.abs(value.astype(np.float64)).reshape(-1, value.shape[-1])
            sums[i] = flat.sum(axis=0) if sums[i] is None else sums[i] + flat.sum(axis=0)
            rows[i] += flat.shape[0]
    return {n: (s / r).astype(np.float32) for n, s, r in zip(nodes, sums, rows)}


def importance_of(weight, units, magnitudes):
    norms = np.sqrt(np.sum(weight.astype(np.float64) ** 2, axis=1))
    scale = np.ones(weight.shape[0]) if magnitudes is None else magnitudes.astype(np.float64)
    return list((scale * norms).reshape(units, -1).sum(axis=1))


def prune_structured(model, spec, blocks, data=None, exclude=frozenset()):
    """Removes the units of `blocks` (parse_remarks) from `model` in place,
    chosen here, but for blocks one of whose Linear layers `exclude` names
    (kept whole, as kiln compile --prune-exclude keeps them); [(node, kind,
    kept, units, agrees)] where `agrees` says whether the choice is Kiln's."""
    graph = Graph(model)
    magnitudes = input_magnitudes(model, [b["node"] for b in blocks], data) if data else {}
    done = []
    for block in blocks:
        consumer = graph.by_name[block["node"]]
        if consumer.name in exclude or any(
                p.name in exclude for p in graph.producers(consumer.input[0])):
            continue
        w_name = consumer.input[1]
        w = graph.array(w_name)
        units, features = block["units"], w.shape[0]
        size = features // units
        fraction = spec["heads"] if block["attention"] else spec["ffn"]
        kept = kept_units(importance_of(w, units, magnitudes.get(block["node"])), fraction)
        columns = np.array([u * size + j for u in kept for j in range(size)], np.int64)
        for producer in graph.producers(consumer.input[0]):
            p = graph.array(producer.input[1])
            if p.shape[1] != features:
                raise ValueError(f"block '{block['node']}': layer '{producer.name}' is "
                                 f"{p.shape[1]} wide, not {features}")
            graph.set_constant(producer.input[1], p[:, columns])
            bias = graph.bias_add(producer)
            if bias:
                graph.set_constant(bias[1], graph.array(bias[1])[columns])
        graph.set_constant(w_name, w[columns, :])
        done.append((block["node"], "attention" if block["attention"] else "FFN", kept, units,
                     kept == block["kept"]))
    # The exporters' intermediate shapes name the old widths.
    del model.graph.value_info[:]
    return done


def unshare_constants(model):
    """Gives every node its own copy of a constant that several read (the
    exporters share equal initializers, directly or through Identity nodes;
    shrinking one reader's must not shrink another's)."""
    graph = model.graph
    initializers = {t.name: t for t in graph.initializer}
    for node in list(graph.node):
        if node.op_type == "Identity" and node.input[0] in initializers:
            copy = onnx.TensorProto()
            copy.CopyFrom(initializers[node.input[0]])
            copy.name = node.output[0]
            graph.initializer.append(copy)
            initializers[copy.name] = copy
            graph.node.remove(node)
    uses = {}
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name in initializers:
                uses.setdefault(name, []).append((node, i))
    for name, readers in uses.items():
        for n, (node, i) in enumerate(readers[1:], 1):
            copy = onnx.TensorProto()
            copy.CopyFrom(initializers[name])
            copy.name = f"{name}__use{n}"
            graph.initializer.append(copy)
            node.input[i] = copy.name
