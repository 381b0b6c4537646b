"""Inputs for half-precision.test, and its check of each library's outputs
against float64 references: the error of each output in units in the last
place (ulp) of float16 at the reference's value. Computed in f32 and
rounded once, as onnxruntime does (Exp reads MatMul's result unrounded),
nearly every element is the reference correctly rounded and none is more
than an ulp off (an ulp at 1/16 at least: a sum that cancels to almost
nothing is as exact as its terms' f32 rounding lets it be); summed in
float16, MatMul's products were 5 ulp off on average.

  half_precision.py inputs DIR        writes DIR/<input>.npy
  half_precision.py check DIR OUT...  prints one line per output directory
"""
import sys

import numpy as np

SHAPES = {"a": (8, 256), "b": (256, 64), "bt": (64, 256), "c": (64,), "x": (8, 512),
          "gamma": (512,), "beta": (512,), "img": (1, 16, 8, 8), "k": (8, 16, 3, 3)}


def write_inputs(folder):
    rng = np.random.default_rng(0)
    for name, shape in SHAPES.items():
        scale = 4.0 if name == "x" else 1.0
        np.save(f"{folder}/{name}.npy", (rng.uniform(-1, 1, shape) * scale).astype(np.float16))


def references(folder):
    v = {name: np.load(f"{folder}/{name}.npy").astype(np.float64) for name in SHAPES}
    x = v["x"]
    exp = np.exp(x - x.max(1, keepdims=True))
    mean = x.mean(1, keepdims=True)
    variance = ((x - mean) ** 2).mean(1, keepdims=True)
    padded = np.pad(v["img"], ((0, 0), (0, 0), (1, 1), (1, 1)))
    conv = np.zeros((1, 8, 8, 8))
    for i in range(8):
        for j in range(8):
            conv[0, :, i, j] = np.einsum("ckl,fckl->f", padded[0, :, i:i + 3, j:j + 3], v["k"])
    return {
        "matmul": v["a"] @ v["b"],
        "gemm": 0.5 * (v["a"] @ v["bt"].T) + 2.0 * v["c"],
        "reduce_sum": x.sum(1),
        "softmax": exp / exp.sum(1, keepdims=True),
        "layer_norm": (x - mean) / np.sqrt(variance + 1e-5) * v["gamma"] + v["beta"],
        "conv": conv,
        "exp": np.exp(0.25 * (v["a"] @ v["b"])),
    }


def check(folder, outputs):
    want = references(folder)
    for out in outputs:
        worst = []
        for name, reference in want.items():
            got = np.load(f"{out}/{name}.npy")
            assert got.dtype == np.float16 and got.shape == reference.shape, (name, got.dtype,
                                                                               got.shape)
            rounded = np.mean(got == reference.astype(np.float16))
            magnitude = np.maximum(np.abs(reference), 1 / 16).astype(np.float16)
            error = np.abs(got.astype(np.float64) - reference) / np.spacing(magnitude)
            good = rounded >= 0.95 and error.max() <= 1
            worst.append(f"{name} {'ok' if good else 'BAD'} ({rounded:.1%} rounded, max "
                         f"{error.max():.2f} ulp)")
        print(out.rstrip("/").rsplit("/", 1)[-1] + ": " + ", ".join(worst))


if __name__ == "__main__":
    if sys.argv[1] == "inputs":
        write_inputs(sys.argv[2])
    else:
        check(sys.argv[2], sys.argv[3:])
