#!/usr/bin/env python3
"""Single Conv nodes, Kiln and ONNX Runtime side by side.

    .venv/bin/python bench/conv_side_by_side.py               # every case
    .venv/bin/python bench/conv_side_by_side.py --cases depthwise-3x3 vit-patch

The convolutions of Transformer and CNN exports, one node each with a bias
and random weights (the numbers do not matter for a timing): ViT's patch
embedding, Whisper's two front-end convs (the first over a symbolic length,
compiled with it symbolic), wav2vec2's grouped positional conv (16 groups of
48 channels), a Conformer-style 1-D depthwise conv, MobileNet's 3x3 and
ConvNeXt's 7x7 depthwise convs, and ResNeXt's 32 groups of 4 channels. They
cover the ways Kiln lowers a Conv (docs/passes.md, kiln-lower-to-linalg): a
GEMM over patches (ungrouped; grouped with 8 or more output channels a
group), or a direct window sum (fewer output channels a group).

For each case: `kiln compile` (symbolic dims kept), then check Kiln's output
against onnxruntime's (atol = rtol = 1e-4) before timing anything; then
--rounds alternating rounds of `kiln-bench --json` (a fresh process: 3
warm-up runs, --runs timed) and an onnxruntime InferenceSession
(ORT_ENABLE_ALL, the same thread count; 3 warm-up runs, --runs timed with
time.perf_counter), the same input, --threads threads each. Prints per case
the median latency of each engine over all timed runs and the Kiln/ORT
ratio of the medians with the per-round spread. Nothing asserts a time; the
exit status is 1 only if a case fails to compile, run or match.
"""

import argparse
import json
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

ROOT = pathlib.Path(__file__).resolve().parent.parent

# name: (input shape, weight shape, Conv attributes, symbol bindings for the run)
CASES = {
    "vit-patch": ([1, 3, 224, 224], [768, 3, 16, 16], {"strides": [16, 16]}, {}),
    "whisper-conv1-symbolic": ([1, 80, "T"], [384, 80, 3], {"pads": [1, 1]}, {"T": 600}),
    "whisper-conv2": ([1, 384, 300], [384, 384, 3], {"strides": [2], "pads": [1, 1]}, {}),
    "wav2vec2-pos-conv": ([1, 768, 200], [768, 48, 128], {"group": 16, "pads": [64, 64]}, {}),
    "depthwise-1d-k31": ([1, 256, 400], [256, 1, 31], {"group": 256, "pads": [15, 15]}, {}),
    "depthwise-3x3": ([1, 256, 56, 56], [256, 1, 3, 3], {"group": 256, "pads": [1, 1, 1, 1]},
                      {}),
    "depthwise-7x7": ([1, 128, 56, 56], [128, 1, 7, 7], {"group": 128, "pads": [3, 3, 3, 3]},
                      {}),
    "resnext-grouped": ([1, 128, 28, 28], [128, 4, 3, 3], {"group": 32, "pads": [1, 1, 1, 1]},
                        {}),
}


def make_model(path, xshape, wshape, attrs, rng):
    w = numpy_helper.from_array(rng.uniform(-0.1, 0.1, wshape).astype(np.float32), "w")
    b = numpy_helper.from_array(rng.uniform(-0.1, 0.1, wshape[0]).astype(np.float32), "b")
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w", "b"], ["y"], name="conv", **attrs)], "conv",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, xshape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [w, b])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES), default=list(CASES))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--build-dir", type=pathlib.Path, default=ROOT / "build")
    args = parser.parse_args()
    kiln = args.build_dir / "bin" / "kiln"
    bench = args.build_dir / "bin" / "kiln-bench"
    run = args.build_dir / "bin" / "kiln-run"
    rng = np.random.default_rng(0)
    failed = False
    print(f"{'case':24s} {'kiln ms':>9s} {'ort ms':>9s} {'kiln/ort':>9s}  rounds")
    with tempfile.TemporaryDirectory(prefix="conv-bench-") as tmp:
        for name in args.cases:
            xshape, wshape, attrs, symbols = CASES[name]
            model, lib = f"{tmp}/{name}.onnx", f"{tmp}/{name}.so"
            make_model(model, xshape, wshape, attrs, rng)
            shape = [symbols[d] if isinstance(d, str) else d for d in xshape]
            x = rng.uniform(-1, 1, shape).astype(np.float32)
            np.save(f"{tmp}/x.npy", x)
            try:
                subprocess.run([kiln, "compile", model, "-o", lib], check=True,
                               capture_output=True, text=True)
                subprocess.run([run, lib, "--input", f"x={tmp}/x.npy", "--output-dir",
                                f"{tmp}/out", "--threads", str(args.threads)], check=True,
                               capture_output=True, text=True)
            except subprocess.CalledProcessError as e:
                print(f"{name:24s} FAILED: {e.stderr.strip()}")
                failed = True
                continue
            options = ort.SessionOptions()
            options.intra_op_num_threads = args.threads
            options.inter_op_num_threads = 1
            session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
            want = session.run(None, {"x": x})[0]
            got = np.load(f"{tmp}/out/y.npy")
            if got.shape != want.shape or not np.allclose(got, want, atol=1e-4, rtol=1e-4):
                print(f"{name:24s} MISMATCH: max |diff| "
                      f"{np.abs(got - want).max() if got.shape == want.shape else got.shape}")
                failed = True
                continue
            kiln_times, ort_times, ratios = [], [], []
            for _ in range(args.rounds):
                out = subprocess.run([bench, lib, "--input", f"x={tmp}/x.npy", "--threads",
                                      str(args.threads), "--runs", str(args.runs), "--json"],
                                     check=True, capture_output=True, text=True).stdout
                round_kiln = json.loads(out)["run_ms"]
                for _ in range(3):
                    session.run(None, {"x": x})
                round_ort = []
                for _ in range(args.runs):
                    start = time_ms()
                    session.run(None, {"x": x})
                    round_ort.append(time_ms() - start)
                kiln_times += round_kiln
                ort_times += round_ort
                ratios.append(np.median(round_kiln) / np.median(round_ort))
            k, o = np.median(kiln_times), np.median(ort_times)
            print(f"{name:24s} {k:9.3f} {o:9.3f} {k / o:9.2f}  "
                  f"{min(ratios):.2f}-{max(ratios):.2f}", flush=True)
    return 1 if failed else 0


def time_ms():
    return time.perf_counter() * 1e3


if __name__ == "__main__":
    sys.exit(main())
