#!/usr/bin/env python3
"""Fits the piecewise erf of the runtime's AVX-512 GELU epilogue.

runtime/src/kernels/GemmEpilogue.h evaluates erf(|x| / sqrt(2)) on AVX-512
as one of 16 polynomials of degree 5, picked per lane by vpermps: with
s = min(|x| * 2 sqrt(2), the float below 16), piece i = floor(s) covers
|x| / sqrt(2) in [i/4, (i+1)/4) and is a polynomial in t = s - i in [0, 1).
Beyond |x| / sqrt(2) = 4, erf is 1 to within 1.6e-8, what the last piece
gives there. Each piece is a minimax fit (Lawson's iteration on a weighted
least-squares fit) in double, rounded to float.

The script prints kErfPieces for the header and the error of the whole
evaluation as the kernel does it (float arithmetic, fused multiply-adds,
the scaling and clamp included) over every 61st float in [0, 8], against
math.erf in double: max abs error 7.3e-8 in erf, 1.5e-7 in GELU (x <= 8).

  .venv/bin/python tools/fit_erf_pieces.py
"""

from __future__ import annotations

import math

import numpy as np

PIECES = 16
DEGREE = 5
erf = np.vectorize(math.erf)


def lawson(f, degree: int, iterations: int = 200) -> np.ndarray:
    """Near-minimax coefficients of f on [0, 1], lowest power first."""
    t = (1 - np.cos(np.linspace(0, np.pi, 4000))) / 2
    y = f(t)
    vander = np.vander(t, degree + 1, increasing=True)
    weights = np.full_like(t, 1 / len(t))
    for _ in range(iterations):
        root = np.sqrt(weights)
        coefficients, *_ = np.linalg.lstsq(vander * root[:, None], y * root, rcond=None)
        weights = weights * np.abs(vander @ coefficients - y)
        weights /= weights.sum()
    return coefficients


def fit() -> np.ndarray:
    """table[k][i]: the coefficient of t^k in piece i, as float32."""
    table = np.zeros((DEGREE + 1, PIECES), dtype=np.float32)
    for i in range(PIECES):
        table[:, i] = lawson(lambda t, i=i: erf((i + t) / 4.0), DEGREE).astype(np.float32)
    return table


def fma32(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    # float32 products are exact in double; one rounding of the sum (then a
    # second to float, which can differ from a true FMA only in rare ties).
    return (a.astype(np.float64) * b.astype(np.float64) + c.astype(np.float64)).astype(np.float32)


def evaluate(table: np.ndarray, x: np.ndarray) -> np.ndarray:
    """erf(|x| / sqrt 2) as the kernel computes it."""
    below16 = np.nextafter(np.float32(16), np.float32(0))
    s = np.minimum(np.abs(x) * np.float32(2 * math.sqrt(2)), below16).astype(np.float32)
    floor = np.floor(s)
    piece = floor.astype(np.int32)
    t = (s - floor).astype(np.float32)
    p = table[DEGREE][piece]
    for k in range(DEGREE - 1, -1, -1):
        p = fma32(p, t, table[k][piece])
    return p


def main() -> None:
    table = fit()
    x = np.arange(0, 2**31, 61, dtype=np.uint32).view(np.float32)
    x = x[(x >= 0) & (x <= 8)]
    exact = erf(x.astype(np.float64) / math.sqrt(2))
    got = evaluate(table, x).astype(np.float64)
    xd = x.astype(np.float64)
    gelu_error = np.abs(0.5 * xd * (1 + got) - 0.5 * xd * (1 + exact))
    print(f"// max abs error: erf {np.abs(got - exact).max():.2e}, GELU {gelu_error.max():.2e}")
    print("constexpr float kErfPieces[%d][%d] = {" % (DEGREE + 1, PIECES))
    for row in table:
        print("    {" + ", ".join(f"{v:.9e}f" for v in row) + "},")
    print("};")


if __name__ == "__main__":
    main()
