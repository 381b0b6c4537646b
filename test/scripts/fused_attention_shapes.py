#!/usr/bin/env python3
"""Fused GPU attention over computed Q, K and V, shape by shape, against the
CPU build: for lit (test/compiler/gpu/fused-attention-shapes.test).

Each case is an ONNX attention block (MatMul, scale, maybe a [b, 1, 1, sk]
mask, Softmax, MatMul) whose Q, K and V are sums of two inputs, so that with
`--precision fp16` they are stored in 16 bits: the fused kernel then copies
them 16 bytes a thread (cp.async into two stages where they fit). Heads are
laid out heads-first or interleaved ([b, s, h, d], transposed), K may be
broadcast over the batch. The case is compiled for the CPU and for the GPU
with --gpu-attention=fused (emulated), run on the same inputs by kiln-run
(lit runs this script under %emulated_gpu: the test driver, its race
check) and compared: max |gpu - cpu| / max(1, max |cpu|) < 5e-3.
Prints one line per case and whether the GPU build fused the attention and
copied asynchronously (the emulated image calls kiln_emu_cp_async_wait).
"""
import argparse
import pathlib
import subprocess
import sys

import numpy as np
from onnx import TensorProto, helper, save


def block(b, h, sq, sk, d, dv, kb, mask, interleaved):
    """The case's model and its inputs' names and shapes."""
    nodes, inputs = [], []

    def summed(name, shape):  # name = name_a + name_b
        for part in ("_a", "_b"):
            inputs.append((name + part, shape))
        nodes.append(helper.make_node("Add", [name + "_a", name + "_b"], [name]))

    if interleaved:  # [b, s, h, d], as a projection's output
        summed("q0", [b, sq, h, d])
        summed("k0", [kb, sk, h, d])
        summed("v0", [b, sk, h, dv])
        nodes += [helper.make_node("Transpose", ["q0"], ["q"], perm=[0, 2, 1, 3]),
                  helper.make_node("Transpose", ["k0"], ["kt"], perm=[0, 2, 3, 1]),
                  helper.make_node("Transpose", ["v0"], ["v"], perm=[0, 2, 1, 3])]
    else:
        summed("q", [b, h, sq, d])
        summed("k0", [kb, h, sk, d])
        summed("v", [b, h, sk, dv])
        nodes.append(helper.make_node("Transpose", ["k0"], ["kt"], perm=[0, 1, 3, 2]))
    nodes += [helper.make_node("MatMul", ["q", "kt"], ["s0"]),
              helper.make_node("Mul", ["s0", "scale"], ["s1"])]
    scores = "s1"
    if mask:
        inputs.append(("m", [b, 1, 1, sk]))
        nodes.append(helper.make_node("Add", ["s1", "m"], ["s2"]))
        scores = "s2"
    nodes += [helper.make_node("Softmax", [scores], ["p"], axis=-1),
              helper.make_node("MatMul", ["p", "v"], ["y"])]
    graph = helper.make_graph(
        nodes, "attention",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [helper.make_tensor("scale", TensorProto.FLOAT, [], [float(1 / np.sqrt(d))])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 9
    return model, inputs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", help="a folder for the models, inputs and outputs")
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(11)
    # (b, h, sq, sk, d, dv, K's batch, mask, interleaved): head sizes 16 to
    # 256 (256: one stage, copies between barriers), v's 8 and 40, keys
    # within one step, over several (97: a partial last one) and one key.
    cases = [(2, 2, 17, 31, 16, 16, 1, True, True), (2, 2, 130, 97, 32, 40, 2, False, True),
             (2, 2, 70, 45, 64, 64, 2, True, False), (2, 2, 33, 128, 64, 8, 1, False, True),
             (2, 2, 130, 97, 128, 128, 2, True, False), (1, 2, 33, 70, 256, 256, 1, True, True),
             (2, 2, 1, 1, 64, 64, 2, True, True)]
    worst = 0.0
    for i, case in enumerate(cases):
        model, inputs = block(*case)
        base = out / f"case{i}"
        save(model, str(base) + ".onnx")
        feeds = []
        for name, shape in inputs:
            x = rng.standard_normal(shape).astype(np.float32)
            if name == "m":  # padding-like: some keys pushed far down
                x = np.where(rng.random(shape) < 0.3, -10000.0, 0.0).astype(np.float32)
            np.save(f"{base}.{name}.npy", x)
            feeds += ["--input", f"{name}={base}.{name}.npy"]
        builds = {"cpu": [], "gpu": ["--target", "cuda", "--gpu-emulation", "--gpu-gemm=cublas",
                                     "--precision", "fp16", "--gpu-attention=fused"]}
        for tag, flags in builds.items():
            subprocess.run(["kiln", "compile", f"{base}.onnx", *flags, "-o", f"{base}.{tag}.so"],
                           check=True)
            run = subprocess.run(["kiln-run", f"{base}.{tag}.so", *feeds, "--output-dir",
                                  f"{base}.{tag}"], capture_output=True, text=True)
            if run.returncode != 0:
                print(f"case {i} {case}: the {tag} run failed: {run.stderr.strip()[-600:]}")
                return 1
        image = pathlib.Path(f"{base}.gpu.so").read_bytes()
        fused = b"kiln_emu_mma" in image
        asynchronous = b"kiln_emu_cp_async_wait" in image
        cpu, gpu = np.load(f"{base}.cpu/y.npy"), np.load(f"{base}.gpu/y.npy")
        error = float(np.abs(gpu - cpu).max() / max(1.0, float(np.abs(cpu).max())))
        worst = max(worst, error)
        b, h, sq, sk, d, dv, kb, mask, interleaved = case
        print(f"case {i}: b {b} h {h} sq {sq} sk {sk} d {d} dv {dv} K batch {kb} "
              f"mask {int(mask)} interleaved {int(interleaved)}: fused {int(fused)} "
              f"cp.async {int(asynchronous)} relative max |diff| {error:.1e}", flush=True)
        if not fused or error >= 5e-3:
            return 1
    print(f"worst {worst:.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
