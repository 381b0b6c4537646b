#!/usr/bin/env python3
"""Magnitude-prunes an ONNX model's MatMul and Gemm weights with NumPy.

Every MatMul whose second input, and every Gemm whose B, is a 2-D float
initializer gets the `--sparsity` fraction of its groups of `--block`
consecutive output columns (1 x block blocks of B as the GEMM reads it,
K x N; --block 1: single values) of least L1 norm set to zero, per layer.
The result is an ordinary dense ONNX file (same graph, same names), so any
runtime can run it: onnxruntime multiplies the zeros, `kiln compile` runs
the weights on its sparse GEMM where that pays (--sparse-weights).

    tools/prune_weights.py bert.onnx bert-80.onnx --sparsity 0.8 --block 4

Weights stay inline in the output; a model over 2 GB is written with its
tensors in one external data file beside it.
"""

import argparse
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def prune_matrix(w: np.ndarray, sparsity: float, block: int) -> np.ndarray:
    """w (K x N) with the `sparsity` fraction of its 1 x block groups of
    columns (the last group padded with zeros) of least L1 norm zeroed."""
    k, n = w.shape
    padded = np.zeros((k, -(-n // block) * block), np.float32)
    padded[:, :n] = w
    norms = np.abs(padded).reshape(k, -1, block).sum(axis=2)
    count = int(round(sparsity * norms.size))
    keep = np.ones(norms.size, bool)
    keep[np.argsort(norms, axis=None, kind="stable")[:count]] = False
    keep = np.repeat(keep.reshape(norms.shape), block, axis=1)[:, :n]
    return np.where(keep, w, 0.0).astype(w.dtype)


def gemm_weights(model: onnx.ModelProto):
    """(initializer name, whether it is stored transposed, N x K) of each
    GEMM weight."""
    initializers = {i.name: i for i in model.graph.initializer}
    found = {}
    for node in model.graph.node:
        if node.op_type == "MatMul" and len(node.input) == 2:
            name, transposed = node.input[1], False
        elif node.op_type == "Gemm" and len(node.input) >= 2:
            attrs = {a.name: a.i for a in node.attribute}
            name, transposed = node.input[1], bool(attrs.get("transB", 0))
        else:
            continue
        init = initializers.get(name)
        if init is not None and len(init.dims) == 2 and \
                init.data_type == onnx.TensorProto.FLOAT:
            found[name] = transposed
    return found


def prune_model(model: onnx.ModelProto, sparsity: float, block: int) -> int:
    """Prunes in place; returns the number of weights pruned."""
    weights = gemm_weights(model)
    for init in model.graph.initializer:
        if init.name not in weights:
            continue
        w = numpy_helper.to_array(init)
        transposed = weights[init.name]
        pruned = prune_matrix(w.T if transposed else w, sparsity, block)
        init.CopyFrom(numpy_helper.from_array(
            np.ascontiguousarray(pruned.T if transposed else pruned), init.name))
    return len(weights)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("output")
    parser.add_argument("--sparsity", type=float, required=True,
                        help="fraction of each weight's blocks set to zero, e.g. 0.8")
    parser.add_argument("--block", type=int, default=4,
                        help="columns per block (4: 1x4 blocks; 1: unstructured)")
    args = parser.parse_args()
    if not 0.0 <= args.sparsity <= 1.0 or args.block < 1:
        parser.error("--sparsity must be in [0, 1] and --block at least 1")
    model = onnx.load(args.model)
    count = prune_model(model, args.sparsity, args.block)
    large = model.ByteSize() > 2_000_000_000 if hasattr(model, "ByteSize") else False
    onnx.save(model, args.output, save_as_external_data=large)
    print(f"pruned {count} weights to {args.sparsity:.0%} sparsity in 1x{args.block} blocks: "
          f"{args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
