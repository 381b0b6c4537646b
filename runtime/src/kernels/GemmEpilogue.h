//===- GemmEpilogue.h - The bias/activation/residual epilogue ---*- C++ -*-===//
//
// Included only by the micro-kernel files, like GemmPack.h, each of which
// instantiates epilogueStrip with its own vector type (a struct of static
// functions over one register, see GemmAvx512.cpp) and builds it with its
// own -m flags. Internal linkage throughout, for the same reason as there.
//
// The activations are polynomials and one rational function, so that a
// vector of them costs a few dozen FMAs and no table lookups. The
// coefficients were fitted for this file (minimax, by Lawson's iteration)
// and then checked by evaluating them in fp32 with FMAs over every 7th float
// in [0, 10]:
//   erf:  max abs error 1.2e-7 (erf(x) = x P(x^2) below |x| = 1, where a
//         single rational over [0, 4] loses ~3e-7 to rounding near 1;
//         1 - H(|x| - 2.5) above, a polynomial fit of erfc on [1, 4]).
//   tanh: max abs error 2.8e-7 (x P(x^2) / Q(x^2), clamped at |x| = 9,
//         where tanh is 1 to within half an ulp).
// Vector types that can pick one of 16 floats per lane (AVX-512's vpermps:
// V::lookup16) take GELU's erf from 16 pieces of degree 5 instead, fitted
// and checked by tools/fit_erf_pieces.py: max abs error 7.3e-8, and about
// 20 operations a vector instead of the two polynomials' 35. That is the
// GELU epilogue of every fp32 and int8 FFN layer; it took ~5% of BERT-base
// int8 (1.8 ms of 33, one thread) before.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_KERNELS_GEMMEPILOGUE_H
#define KILN_RUNTIME_KERNELS_GEMMEPILOGUE_H

#include "kiln/kiln_abi.h"

#include <cstdint>
#include <type_traits>

namespace kiln {
namespace {

// erf(x) = x * P(x^2) for |x| < 1.
constexpr float kErfSmall[] = {1.128379107e+00f,  -3.761260509e-01f, 1.128343046e-01f,
                               -2.684859000e-02f, 5.179747473e-03f,  -7.942336961e-04f,
                               7.647052553e-05f};
// erfc(x) = H(x - 2.5) for 1 <= x <= 4 (erfc(4) = 1.5e-8: erf is 1 beyond).
constexpr float kErfcLarge[] = {
    4.069178540e-04f,  -2.178021008e-03f, 5.447186995e-03f,  -8.353904821e-03f, 8.612041362e-03f,
    -6.101184990e-03f, 2.825390780e-03f,  -5.729154218e-04f, -2.935935627e-04f, 2.802542876e-04f,
    -5.871272151e-05f, -2.129927816e-05f, 8.595613508e-06f};
constexpr float kErfcCentre = 2.5f, kErfClamp = 4.0f;
// erf(|x| / sqrt 2) for lookup16 types: piece i = floor(s), s = |x| 2 sqrt 2
// below 16, is kErfPieces[0][i] + kErfPieces[1][i] t + ... + kErfPieces[5][i]
// t^5 with t = s - i (tools/fit_erf_pieces.py prints this table).
constexpr float kErfPieces[6][16] = {
    {2.692376544e-09f, 2.763263881e-01f, 5.204998851e-01f, 7.111556530e-01f,
     8.427007794e-01f, 9.229001403e-01f, 9.661051631e-01f, 9.866716862e-01f,
     9.953222871e-01f, 9.985373020e-01f, 9.995930195e-01f, 9.998993874e-01f,
     9.999778867e-01f, 9.999957085e-01f, 9.999992847e-01f, 9.999998808e-01f},
    {2.820945978e-01f, 2.650031149e-01f, 2.196952850e-01f, 1.607326716e-01f,
     1.037769988e-01f, 5.913047120e-02f, 2.973269857e-02f, 1.319378614e-02f,
     5.166731775e-03f, 1.785553177e-03f, 5.445515271e-04f, 1.465592941e-04f,
     3.480924715e-05f, 7.295944670e-06f, 1.349499257e-06f, 2.202757514e-07f},
    {2.039925903e-06f, -1.655779965e-02f, -2.745772339e-02f, -3.013618477e-02f,
     -2.594566531e-02f, -1.848042570e-02f, -1.115120854e-02f, -5.772725679e-03f,
     -2.583212918e-03f, -1.004078425e-03f, -3.401261929e-04f, -1.006470484e-04f,
     -2.606183443e-05f, -5.913219866e-06f, -1.176799060e-06f, -2.055850672e-07f},
    {-5.885063671e-03f, -4.851604812e-03f, -2.306853188e-03f, 4.129606532e-04f,
     2.167925471e-03f, 2.627198584e-03f, 2.174522495e-03f, 1.410798286e-03f,
     7.528540445e-04f, 3.381230927e-04f, 1.294695248e-04f, 4.260824790e-05f,
     1.211730432e-05f, 2.989304221e-06f, 6.415251619e-07f, 1.200248789e-07f},
    {1.379541209e-05f, 5.355407484e-04f, 7.513951859e-04f, 6.007884513e-04f,
     2.596664999e-04f, -4.229420665e-05f, -1.872141438e-04f, -1.923092641e-04f,
     -1.334998815e-04f, -7.199832180e-05f, -3.170446143e-05f, -1.167829214e-05f,
     -3.648588972e-06f, -9.754164694e-07f, -2.244873798e-07f, -4.466958359e-08f},
    {1.010111955e-04f, 4.424305371e-05f, -2.634892735e-05f, -6.507593935e-05f,
     -5.959364353e-05f, -2.993089402e-05f, -2.272647180e-06f, 1.104382318e-05f,
     1.214545591e-05f, 8.165051440e-06f, 4.139698831e-06f, 1.689228384e-06f,
     5.715888278e-07f, 1.630685915e-07f, 3.963308615e-08f, 8.264026796e-09f},
};
constexpr float kErfPiecesScale = 2.82842712474619009760f; // 4 / sqrt(2)
constexpr float kErfPiecesEnd = 15.999999f;                 // the float below 16
// tanh(x) = x * P(x^2) / Q(x^2) for |x| <= 9.
constexpr float kTanhP[] = {9.999999404e-01f,  1.307914704e-01f, 3.098634304e-03f, 1.110158064e-05f,
                            -2.002838784e-08f, 5.192034302e-11f, -8.289409334e-14f};
constexpr float kTanhQ[] = {1.0f, 4.641246796e-01f, 2.447368577e-02f, 2.538569970e-04f};
constexpr float kTanhClamp = 9.0f;

// V::min(a, b) and V::max(a, b) return b when either is NaN (as x86's
// minps and maxps do), so every clamp below takes x second: a NaN stays NaN
// through every activation.

/// c[0] + c[1] t + ... + c[N-1] t^(N-1), by Horner's rule.
template <class V, int N> typename V::Reg horner(const float (&c)[N], typename V::Reg t) {
  typename V::Reg p = V::set1(c[N - 1]);
  for (int i = N - 2; i >= 0; --i)
    p = V::fma(p, t, V::set1(c[i]));
  return p;
}

template <class V> typename V::Reg erfV(typename V::Reg x) {
  using Reg = typename V::Reg;
  const Reg ax = V::min(V::set1(kErfClamp), V::abs(x));
  const Reg small = V::mul(ax, horner<V>(kErfSmall, V::mul(ax, ax)));
  const Reg large = V::sub(V::set1(1.0f), horner<V>(kErfcLarge, V::sub(ax, V::set1(kErfcCentre))));
  return V::copySign(V::select(V::less(ax, V::set1(1.0f)), small, large), x);
}

/// Whether V has lookup16 (a vpermps) and the floor and index it needs.
template <class V, class = void> struct HasLookup16 : std::false_type {};
template <class V>
struct HasLookup16<V, decltype(void(V::lookup16(kErfPieces[0], V::toIndex(V::floor(V::set1(0.f))))))>
    : std::true_type {};

/// erf(|x| / sqrt 2) from kErfPieces. A NaN x stays NaN (the clamp keeps
/// it; its index is garbage but in range, and t is NaN).
template <class V> typename V::Reg erfPiecesOfAbsHalfSqrt2(typename V::Reg x) {
  using Reg = typename V::Reg;
  const Reg s = V::min(V::set1(kErfPiecesEnd), V::mul(V::abs(x), V::set1(kErfPiecesScale)));
  const Reg floor = V::floor(s);
  const auto piece = V::toIndex(floor);
  const Reg t = V::sub(s, floor);
  Reg p = V::lookup16(kErfPieces[5], piece);
  for (int k = 4; k >= 0; --k)
    p = V::fma(p, t, V::lookup16(kErfPieces[k], piece));
  return p;
}

template <class V> typename V::Reg tanhV(typename V::Reg x) {
  using Reg = typename V::Reg;
  const Reg cx = V::max(V::set1(-kTanhClamp), V::min(V::set1(kTanhClamp), x));
  const Reg t = V::mul(cx, cx);
  const Reg approx = V::div(V::mul(cx, horner<V>(kTanhP, t)), horner<V>(kTanhQ, t));
  // Past the clamp tanh is +-1 exactly, as in libm: the rational's last-ulp
  // error there, times the huge x of GELU's x * (1 + tanh), was a visible
  // error where the result is 0 (difftest seed 6, graph 604). A NaN fails
  // the comparison and stays NaN.
  return V::select(V::less(V::set1(kTanhClamp), V::abs(x)), V::copySign(V::set1(1.0f), x),
                   approx);
}

template <class V, int64_t Act> typename V::Reg activate(typename V::Reg x) {
  using Reg = typename V::Reg;
  const Reg half = V::set1(0.5f);
  if constexpr (Act == KILN_GEMM_ACT_GELU_ERF && HasLookup16<V>::value) {
    // x/2 (1 + erf(x / sqrt 2)) with erf odd: x/2 + x/2 (+-erf(|x| / sqrt 2)).
    const Reg h = V::mul(half, x);
    return V::fma(h, V::copySign(erfPiecesOfAbsHalfSqrt2<V>(x), x), h);
  } else if constexpr (Act == KILN_GEMM_ACT_GELU_ERF) {
    const Reg e = erfV<V>(V::mul(x, V::set1(0.70710678118654752f)));
    return V::mul(V::mul(half, x), V::add(V::set1(1.0f), e));
  } else if constexpr (Act == KILN_GEMM_ACT_GELU_TANH) {
    const Reg x3 = V::mul(V::mul(x, x), x);
    const Reg inner = V::mul(V::set1(0.79788456080286536f), V::fma(V::set1(0.044715f), x3, x));
    return V::mul(V::mul(half, x), V::add(V::set1(1.0f), tanhV<V>(inner)));
  } else if constexpr (Act == KILN_GEMM_ACT_RELU) {
    return V::max(V::set1(0.0f), x);
  } else {
    return x;
  }
}

/// The epilogue over rows x cols of C with one activation: a full vector of
/// V::kWidth floats at a time, then one partial (V::load and V::store touch
/// only the first `count` floats).
template <class V, int64_t Act>
void epilogueRows(float *c, int64_t ldc, int64_t rows, int64_t cols, const float *bias,
                  const float *residual, int64_t residualRowStride) {
  for (int64_t i = 0; i < rows; ++i) {
    float *row = c + i * ldc;
    const float *res = residual ? residual + i * residualRowStride : nullptr;
    for (int64_t j = 0; j < cols; j += V::kWidth) {
      const int64_t count = cols - j < V::kWidth ? cols - j : V::kWidth;
      typename V::Reg v = V::load(row + j, count);
      if (bias)
        v = V::add(v, V::load(bias + j, count));
      v = activate<V, Act>(v);
      if (res)
        v = V::add(v, V::load(res + j, count));
      V::store(row + j, v, count);
    }
  }
}

/// GemmEpilogueFn (GemmKernels.h) for the vector type V.
template <class V>
void epilogueStrip(float *c, int64_t ldc, int64_t rows, int64_t cols, const float *bias,
                   int64_t activation, const float *residual, int64_t residualRowStride) {
  switch (activation) {
  case KILN_GEMM_ACT_GELU_ERF:
    return epilogueRows<V, KILN_GEMM_ACT_GELU_ERF>(c, ldc, rows, cols, bias, residual,
                                                   residualRowStride);
  case KILN_GEMM_ACT_GELU_TANH:
    return epilogueRows<V, KILN_GEMM_ACT_GELU_TANH>(c, ldc, rows, cols, bias, residual,
                                                    residualRowStride);
  case KILN_GEMM_ACT_RELU:
    return epilogueRows<V, KILN_GEMM_ACT_RELU>(c, ldc, rows, cols, bias, residual,
                                               residualRowStride);
  default:
    return epilogueRows<V, KILN_GEMM_ACT_NONE>(c, ldc, rows, cols, bias, residual,
                                               residualRowStride);
  }
}

} // namespace
} // namespace kiln

#endif // KILN_RUNTIME_KERNELS_GEMMEPILOGUE_H
