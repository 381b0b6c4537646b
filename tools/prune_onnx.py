#!/usr/bin/env python3
"""Prunes an ONNX model's MatMul/Gemm weights as `kiln compile --prune SPEC` does.

    tools/prune_onnx.py in.onnx out.onnx --prune 0.8:block1x4 [--prune-exclude fc1,Gemm]

The numpy twin of Kiln's pruning passes (kiln-prune-magnitude and
kiln-prune-n-m; docs/pruning.md has the rules): the same weights are chosen,
scored, thresholded and zeroed, so a model pruned here and compiled without
--prune gives the same outputs as the original compiled with --prune. It is
also how a pruned ONNX file is made for ONNX Runtime or for benchmarks.

The weights: input B of every MatMul and Gemm node that is a float32
initializer (or Constant) of rank 2, or a 2-D Transpose of one, read as
K x N (Gemm's transB=1 weight is stored N x K). A weight shared by several such nodes is pruned once, and
not at all if any of them is excluded or if they read it in different
orientations.

SPEC (the grammar of `kiln compile --prune`):
  S:unstructured[:per-layer|:global]   a fraction S in (0, 1) of the values
  S:blockRxC[:per-layer|:global]       of R x C blocks: R rows of K (input
                                       features) by C columns of N (output
                                       features); 1x4 = four outputs of one input
  N:M                                  keep the N largest of each M along K
  heads=F,ffn=F                        structured: remove a fraction F of each
                                       attention block's heads and FFN's neurons
                                       (tools/prune_structured.py; needs
                                       --blocks, the remarks of kiln compile
                                       --stats, and --calibration-data if Kiln
                                       had it)

Blocks are scored by their squared L2 norm, summed in float64 over the
block's rows then columns (exactly Kiln's sum); per layer, n = round(S x
blocks) of each weight's blocks, globally of all of them; every block whose
score is at or below the n-th smallest is zeroed. Prints one line per pruned
weight and the overall sparsity.
"""

import argparse
import math
import pathlib
import sys

import numpy as np
import onnx
from onnx import numpy_helper

import prune_structured

GRAMMAR = ("it must be S:unstructured or S:blockRxC (S the fraction of weights to zero, in "
           "(0, 1); RxC a block of R rows of K by C columns of N, e.g. 0.8:block1x4), optionally "
           "followed by :per-layer (the default) or :global, or N:M (keep N of every M along K, "
           "e.g. 2:4), or " + prune_structured.STRUCTURED_GRAMMAR)


class SpecError(ValueError):
    pass


def parse_spec(text):
    """{'kind': 'nm', 'n', 'm'} or {'kind': 'magnitude', 'sparsity', 'block', 'global'}."""
    fields = text.split(":")

    def bad(why):
        return SpecError(f"--prune '{text}' {why}; {GRAMMAR}")

    if "=" in text:
        return prune_structured.parse_structured(text, bad)
    if len(fields) == 2 and all(f.isdigit() for f in fields):
        n, m = int(fields[0]), int(fields[1])
        if not (1 <= n < m <= 64):
            raise bad("is not N:M with 1 <= N < M <= 64")
        return {"kind": "nm", "n": n, "m": m}
    if not 2 <= len(fields) <= 3:
        raise bad(f"has {len(fields)} field(s)")
    try:
        sparsity = float(fields[0])
    except ValueError:
        sparsity = math.nan
    if not 0 < sparsity < 1:
        raise bad("does not start with a sparsity in (0, 1)")
    block = (1, 1)
    if fields[1] != "unstructured":
        rows, _, cols = fields[1].removeprefix("block").partition("x")
        if (not fields[1].startswith("block") or not rows.isdigit() or not cols.isdigit()
                or not 1 <= int(rows) <= 4096 or not 1 <= int(cols) <= 4096):
            raise bad(f"has pattern '{fields[1]}', not unstructured or blockRxC")
        block = (int(rows), int(cols))
    scope = fields[2] if len(fields) == 3 else "per-layer"
    if scope not in ("per-layer", "global"):
        raise bad(f"has scope '{scope}', not global or per-layer")
    return {"kind": "magnitude", "sparsity": sparsity, "block": block, "global": scope == "global"}


def spec_text(spec):
    if spec["kind"] == "structured":
        return f"heads={spec['heads']:g},ffn={spec['ffn']:g}"
    if spec["kind"] == "nm":
        return f"{spec['n']}:{spec['m']}"
    r, c = spec["block"]
    pattern = "unstructured" if (r, c) == (1, 1) else f"block{r}x{c}"
    return f"{spec['sparsity']:g}:{pattern}:{'global' if spec['global'] else 'per-layer'}"


def constant_tensors(graph):
    """{name: TensorProto} of initializers and Constant nodes' values."""
    found = {t.name: t for t in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
            for a in node.attribute:
                if a.name == "value":
                    found[node.output[0]] = a.t
    return found


def prunable_weights(model, exclude):
    """[(name, transposed)] in graph order: the weights Kiln's passes prune.
    transposed: the tensor is N x K (Gemm transB=1)."""
    graph = model.graph
    tensors = constant_tensors(graph)
    # B = Transpose(W) of a constant W: Kiln reads W through the transpose.
    transposed_from = {}
    for node in graph.node:
        if (node.op_type == "Transpose" and node.domain in ("", "ai.onnx")
                and node.input[0] in tensors and len(tensors[node.input[0]].dims) == 2
                and all(a.name != "perm" or list(a.ints) == [1, 0] for a in node.attribute)):
            transposed_from[node.output[0]] = node.input[0]
    chosen, rejected = {}, set()
    for node in graph.node:
        if node.domain not in ("", "ai.onnx") or node.op_type not in ("MatMul", "Gemm"):
            continue
        if len(node.input) < 2:
            continue
        name, flipped = node.input[1], False
        if name in transposed_from:
            name, flipped = transposed_from[name], True
        if name not in tensors:
            continue
        tensor = tensors[name]
        if tensor.data_type != onnx.TensorProto.FLOAT or len(tensor.dims) != 2:
            continue
        if node.name in exclude or node.op_type in exclude:
            rejected.add(name)
            continue
        trans_b = node.op_type == "Gemm" and any(
            a.name == "transB" and a.i != 0 for a in node.attribute)
        if chosen.setdefault(name, trans_b != flipped) != (trans_b != flipped):
            rejected.add(name)
    return [(name, t) for name, t in chosen.items() if name not in rejected]


def block_scores(view, block):
    """Squared L2 norms of the (Kb, Nb) blocks of a K x N view, summed in
    float64 over each block's rows then columns, as Kiln sums them."""
    (k, n), (bk, bn) = view.shape, block
    kb, nb = -(-k // bk), -(-n // bn)
    padded = np.zeros((kb * bk, nb * bn), np.float64)
    padded[:k, :n] = view
    squares = (padded * padded).reshape(kb, bk, nb, bn).transpose(0, 2, 1, 3).reshape(kb, nb, bk * bn)
    total = np.zeros((kb, nb), np.float64)
    for e in range(bk * bn):  # one add at a time: the order fixes the rounding
        total = total + squares[:, :, e]
    return total


def nth_smallest(scores, n):
    return np.partition(scores, n - 1)[n - 1]


def prune_magnitude(views, spec):
    """Zeroes blocks of the K x N views in place."""
    block = spec["block"]
    unstructured = block == (1, 1)

    def score(view):
        # One value's square is exact in float64 and orders as |w|: the
        # float32 magnitudes select the same values at half the memory.
        return np.abs(view) if unstructured else block_scores(view, block)

    def count(scores):
        return int(math.floor(spec["sparsity"] * scores.size + 0.5))

    def apply(view, scores, limit):
        mask = scores <= limit
        if not unstructured:
            bk, bn = block
            mask = np.repeat(np.repeat(mask, bk, axis=0), bn, axis=1)[:view.shape[0], :view.shape[1]]
        view[mask] = 0.0

    if spec["global"]:
        all_scores = np.concatenate([score(v).ravel() for v in views]) if views else np.zeros(0)
        n = count(all_scores)
        if n == 0:
            return
        limit = nth_smallest(all_scores, n)
        del all_scores
        for v in views:
            apply(v, score(v), limit)
        return
    for v in views:
        s = score(v)
        n = count(s)
        if n:
            apply(v, s, nth_smallest(s.ravel(), n))


def prune_nm(views, n, m):
    for v in views:
        k, cols = v.shape
        groups = -(-k // m)
        # Padding sorts first (magnitude -1) and is "pruned" harmlessly, so a
        # last group of r < m values loses r - n of them, as in Kiln.
        magnitude = np.full((groups * m, cols), -1.0, np.float64)
        magnitude[:k] = np.abs(v)
        order = np.argsort(magnitude.reshape(groups, m, cols), axis=1, kind="stable")
        drop = np.zeros((groups, m, cols), bool)
        np.put_along_axis(drop, order[:, :m - n, :], True, axis=1)
        v[drop.reshape(groups * m, cols)[:k]] = 0.0


def prune_model(model, spec, exclude=()):
    """Prunes `model` in place; [(name, zeros, K, N)] per pruned weight."""
    tensors = {t.name: t for t in model.graph.initializer}
    constants = constant_tensors(model.graph)
    weights = prunable_weights(model, set(exclude))
    arrays = {name: numpy_helper.to_array(constants[name]).copy() for name, _ in weights}
    views = [arrays[name].T if transposed else arrays[name] for name, transposed in weights]
    if spec["kind"] == "nm":
        prune_nm(views, spec["n"], spec["m"])
    else:
        prune_magnitude(views, spec)
    pruned = []
    for (name, _), view in zip(weights, views):
        new = numpy_helper.from_array(arrays[name], name)
        target = tensors.get(name, constants[name])
        target.Clear()
        target.CopyFrom(new)
        pruned.append((name, int(np.count_nonzero(view == 0)), view.shape[0], view.shape[1]))
    return pruned


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--prune", required=True, help="SPEC, as kiln compile --prune")
    parser.add_argument("--prune-exclude", default="",
                        help="ONNX node names or op types whose weights stay dense, comma-separated")
    parser.add_argument("--blocks", help="structured: a file holding the remarks of kiln compile "
                        "--stats with the same --prune (the blocks, and Kiln's choice to compare)")
    parser.add_argument("--calibration-data", help="structured: input sets (one folder each of "
                        "<input>.npy) to score units on, as kiln compile --calibration-data")
    args = parser.parse_args()
    try:
        spec = parse_spec(args.prune)
    except SpecError as error:
        parser.error(str(error))
    exclude = [n.strip() for n in args.prune_exclude.split(",") if n.strip()]
    model = onnx.load(args.input)
    if spec["kind"] == "structured":
        return main_structured(args, spec, model, parser)
    pruned = prune_model(model, spec, exclude)
    zeros = sum(z for _, z, _, _ in pruned)
    values = sum(k * n for _, _, k, n in pruned)
    for name, z, k, n in pruned:
        print(f"{name}: pruned to sparsity {z / (k * n):.4f} ({z} of {k} x {n} zero)")
    print(f"pruned {len(pruned)} weights ({spec_text(spec)}): sparsity "
          f"{zeros / values if values else 0:.4f} ({zeros} of {values} values zero)")
    large = model.ByteSize() > 1_800_000_000
    onnx.save(model, args.output, save_as_external_data=large)
    return 0


def main_structured(args, spec, model, parser):
    if not args.blocks:
        parser.error(f"--prune {args.prune} needs --blocks FILE: the remarks of "
                     "kiln compile --stats")
    blocks = prune_structured.parse_remarks(pathlib.Path(args.blocks).read_text())
    if not blocks:
        parser.error(f"--blocks {args.blocks} holds no block remark of kiln compile --stats")
    prune_structured.unshare_constants(model)
    done = prune_structured.prune_structured(model, spec, blocks, args.calibration_data,
                                             exclude={n.strip() for n in args.prune_exclude.split(",")
                                                      if n.strip()})
    for node, kind, kept, units, agrees in done:
        print(f"{node}: {kind} block, kept {len(kept)} of {units}"
              f"{'' if agrees else ' (NOT the units Kiln kept)'}: {','.join(map(str, kept))}")
    disagree = sum(not agrees for *_, agrees in done)
    print(f"pruned {len(done)} blocks ({spec_text(spec)}); "
          f"{disagree} choose other units than Kiln")
    onnx.save(model, args.output, save_as_external_data=model.ByteSize() > 1_800_000_000)
    return 1 if disagree else 0


if __name__ == "__main__":
    sys.exit(main())
