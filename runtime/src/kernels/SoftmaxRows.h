//===- SoftmaxRows.h - kiln_softmax_desc's rows, one ISA at a time -*- C++ -*-===//
//
// Included only by the fp32 micro-kernel files (GemmPortable.cpp,
// GemmAvx2.cpp, GemmAvx512.cpp), each of which instantiates softmaxRows
// with the vector type of its epilogue (GemmEpilogue.h) and builds it with
// its own -m flags; internal linkage throughout, as there. V also supplies:
//
//   loadOr(p, count, fill)   the first `count` floats at p, `fill` after
//   roundNearest(x)          to the nearest integer, ties to even
//   scaleByPowerOf2(x, n)    x * 2^n for an integer-valued n in [-125, 0]
//                            and x in [0.7, 1.5] (or NaN: stays NaN)
//   reduceMax(x), reduceAdd(x)  over the lanes
//
// Each row takes three passes over memory that stays in L1 (a row of
// attention scores is 128 to 4096 floats): t = scale x + addend into y
// while the maximum is kept; exp(t - max) into y while the sum is kept; y
// times 1 / sum. The generated loops it replaces (scale and mask, max, exp,
// sum, quotient) wrote the row three times and read it five.
//
// exp(d), d <= 0: d = n ln2 + r with n = round(d / ln2) and ln2 in two
// parts (Cody and Waite), so r in [-ln2/2, ln2/2] is exact to a few ulp;
// exp(r) by Cephes' expf polynomial (degree 7 in r, 1 ulp on that range);
// times 2^n. Below -125 ln2 (-86.64) the result is 0: normal floats only
// (2^n by the exponent bits on AVX2), the same on every ISA, and
// masked-out scores (-1e4, -FLT_MAX) weigh exactly nothing, as in
// onnxruntime.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_KERNELS_SOFTMAXROWS_H
#define KILN_RUNTIME_KERNELS_SOFTMAXROWS_H

#include "GemmKernels.h"

#include <cstdint>

namespace kiln {
namespace {

constexpr float kExpLowest = -86.64339757f; // -125 ln 2
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2High = 0.693359375f;    // ln 2 = kLn2High + kLn2Low, kLn2High
constexpr float kLn2Low = -2.12194440e-4f;  // with 11 bits: n * kLn2High is exact
// exp(r) = 1 + r + r^2 P(r) on [-ln2/2, ln2/2] (Cephes expf).
constexpr float kExpP[] = {5.0000001201e-1f, 1.6666665459e-1f, 4.1665795894e-2f,
                           8.3334519073e-3f, 1.3981999507e-3f, 1.9875691500e-4f};

/// exp(d) for d <= 0 or NaN (NaN stays NaN; d < kExpLowest gives 0).
template <class V> typename V::Reg expNonPositive(typename V::Reg d) {
  using Reg = typename V::Reg;
  // max(lowest, d) is d when d is NaN (V::max returns its second operand).
  const Reg clamped = V::max(V::set1(kExpLowest), d);
  const Reg n = V::roundNearest(V::mul(clamped, V::set1(kLog2e)));
  const Reg r =
      V::fma(n, V::set1(-kLn2Low), V::fma(n, V::set1(-kLn2High), clamped));
  Reg p = V::set1(kExpP[5]);
  for (int i = 4; i >= 0; --i)
    p = V::fma(p, r, V::set1(kExpP[i]));
  const Reg e = V::add(V::fma(p, V::mul(r, r), r), V::set1(1.0f));
  return V::select(V::less(d, V::set1(kExpLowest)), V::set1(0.0f), V::scaleByPowerOf2(e, n));
}

/// `rows` rows of kiln_softmax_desc: x, y and addend at their first row,
/// strides in elements.
template <class V>
void softmaxRows(const float *x, int64_t xRowStride, float *y, int64_t yRowStride,
                 const float *addend, int64_t addendRowStride, int64_t addendColStride,
                 int64_t rows, int64_t n, float scale) {
  using Reg = typename V::Reg;
  constexpr int64_t w = V::kWidth;
  const float inf = __builtin_inff();
  for (int64_t i = 0; i < rows; ++i) {
    const float *xr = x + i * xRowStride;
    float *yr = y + i * yRowStride;
    const float *ar = addend ? addend + i * addendRowStride : nullptr;
    Reg max = V::set1(-inf);
    for (int64_t j = 0; j < n; j += w) {
      const int64_t count = n - j < w ? n - j : w;
      Reg t = V::mul(V::loadOr(xr + j, count, 0.0f), V::set1(scale));
      if (ar)
        t = V::add(t, addendColStride ? V::loadOr(ar + j, count, 0.0f) : V::set1(*ar));
      V::store(yr + j, t, count);
      // Past the row, lanes hold -inf for the maximum (t there is 0).
      max = V::max(max, count == w ? t : V::loadOr(yr + j, count, -inf));
    }
    // A NaN t may or may not reach the maximum (V::max returns its second
    // operand when either is NaN), but its exp is NaN either way, and the
    // sum carries it into the whole row, as the formula does; so does
    // +inf (inf - inf) and a row of -inf.
    const float rowMax = V::reduceMax(max);
    const Reg m = V::set1(rowMax);
    Reg sum = V::set1(0.0f);
    for (int64_t j = 0; j < n; j += w) {
      const int64_t count = n - j < w ? n - j : w;
      const Reg e = expNonPositive<V>(V::sub(V::loadOr(yr + j, count, -inf), m));
      V::store(yr + j, e, count);
      sum = V::add(sum, e);
    }
    const Reg inverse = V::set1(1.0f / V::reduceAdd(sum));
    for (int64_t j = 0; j < n; j += w) {
      const int64_t count = n - j < w ? n - j : w;
      V::store(yr + j, V::mul(V::loadOr(yr + j, count, 0.0f), inverse), count);
    }
  }
}

} // namespace
} // namespace kiln

#endif // KILN_RUNTIME_KERNELS_SOFTMAXROWS_H
