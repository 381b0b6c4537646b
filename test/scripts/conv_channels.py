"""Checks conv-channels.test's outputs against numpy convolutions."""
import sys

import numpy as np

W = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, -1, -2, -3, -4, -5, -6, -7, -8, -9],
             np.float32).reshape(2, 3, 3)
WG = np.array([1, 0, -1, 2, 0, -2, 1, 1, 1, 0, 1, 0, 3, 2, 1, -1, -1, -1, 2, 2, 2, 0, 0, 1],
              np.float32).reshape(4, 2, 3)
WD = np.array([1, 2, 1, -1, 0, 1, 0.5, 0.5, 0.5], np.float32).reshape(3, 1, 3)


def conv1d(x, w, group):
    """ONNX Conv over one spatial dim, no pads, stride 1."""
    n, c, length = x.shape
    filters, per_group, k = w.shape
    out = np.zeros((n, filters, length - k + 1), np.float64)
    per_out = filters // group
    for f in range(filters):
        first = (f // per_out) * per_group
        for t in range(length - k + 1):
            out[:, f, t] = np.einsum("ncj,cj->n", x[:, first:first + per_group, t:t + k], w[f])
    return out


def main():
    *libs, x3, x4 = sys.argv[1:]
    x3, x4 = np.load(x3), np.load(x4)
    for lib in libs:
        for name, want in (("plain_y", conv1d(x3, W, 1)), ("grouped_y", conv1d(x4, WG, 2)),
                           ("depthwise_y", conv1d(x3, WD, 3)),
                           ("biased_y", conv1d(x3, W, 1) + np.arange(2).reshape(2, 1))):
            np.testing.assert_allclose(np.load(f"{lib}/{name}.npy"), want, rtol=1e-5, atol=1e-5)
        print(lib.rsplit("/", 1)[-1] + ": as numpy")


if __name__ == "__main__":
    main()
