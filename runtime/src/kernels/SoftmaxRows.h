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
// exp(r) by Cephes' expf polynomial (degree 7 in r, evaluated by Estrin's
// scheme: at most 1.007 ulp over every 64th float of [-86.6, 0]); times
// 2^n. Below -125 ln2 (-86.64) the result is 0: normal floats only
// (2^n by the exponent bits on AVX2), the same on every ISA, and
// masked-out scores (-1e4, -FLT_MAX) weigh exactly nothing, as in
// onnxruntime.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_KERNELS_SOFTMAXROWS_H
#define KILN_RUNTIME_KERNELS_SOFTMAXROWS_H

#include "GemmKernels.h"

#include <cstdint>
#include <type_traits>
#include <utility>

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
  // P(r) by Estrin's scheme: three independent pairs, then two levels in
  // r^2, where Horner's rule chains five FMAs: the same operations with a
  // shorter chain of dependent ones, which the softmax's many exps side by
  // side wait on (attention's softmaxToPanel of 12 x 128 scores in L1:
  // 397 -> 387 ns a call, AVX-512 on Zen 5).
  const Reg r2 = V::mul(r, r);
  const Reg p01 = V::fma(V::set1(kExpP[1]), r, V::set1(kExpP[0]));
  const Reg p23 = V::fma(V::set1(kExpP[3]), r, V::set1(kExpP[2]));
  const Reg p45 = V::fma(V::set1(kExpP[5]), r, V::set1(kExpP[4]));
  const Reg p = V::fma(V::fma(p45, r2, p23), r2, p01);
  const Reg e = V::add(V::fma(p, r2, r), V::set1(1.0f));
  return V::select(V::less(d, V::set1(kExpLowest)), V::set1(0.0f), V::scaleByPowerOf2(e, n));
}

/// Where pass 3 puts a group's G normalized vectors (columns j..j+count of
/// its rows): back into y, rows yRowStride apart (kiln_softmax_desc) ...
template <class V, int G> struct IntoRows {
  float *y;
  int64_t yRowStride;
  void operator()(int64_t j, int64_t count, const typename V::Reg (&p)[G]) const {
    for (int r = 0; r < G; ++r)
      V::store(y + r * yRowStride + j, p[r], count);
  }
};

/// Whether V stores four rows as columns (V::storeColumns4, a transposition
/// in registers).
template <class V, class = void> struct HasStoreColumns4 : std::false_type {};
template <class V>
struct HasStoreColumns4<V, decltype(V::storeColumns4(std::declval<const typename V::Reg (&)[4]>(),
                                                     int64_t(), (float *)nullptr, int64_t()))>
    : std::true_type {};

/// ... or into the packed panel of A that the product by V reads next
/// (GemmPack.h's layout: column p of the rows at panel + p * MR), the group
/// at its first row: the fused attention's P, without a packA pass over it.
template <class V, int G, int MR> struct IntoPanel {
  float *panel;
  void operator()(int64_t j, int64_t count, const typename V::Reg (&p)[G]) const {
    float *dst = panel + j * MR;
    if constexpr (G == 4 && HasStoreColumns4<V>::value) {
      V::storeColumns4(p, count, dst, MR);
    } else {
      float rows[G][V::kWidth];
      for (int r = 0; r < G; ++r)
        V::store(rows[r], p[r], count);
      for (int64_t l = 0; l < count; ++l)
        for (int r = 0; r < G; ++r)
          dst[l * MR + r] = rows[r][l];
    }
  }
};

/// G rows of kiln_softmax_desc at once: each pass runs over the G rows
/// together, a vector of each in turn, so the rows' chains (the running
/// maximum and sum, exp's polynomial, the reductions between the passes)
/// overlap; one row at a time waited on them (a row of 128 scores took
/// ~160 cycles of latency for ~60 of work). Each row's operations and their
/// order are those of one row alone: the floats do not depend on G. Passes
/// 1 and 2 write y; pass 3 hands the result to `out`.
template <class V, int G, class Out>
void softmaxRowGroup(const float *x, int64_t xRowStride, float *y, int64_t yRowStride,
                     const float *addend, int64_t addendRowStride, int64_t addendColStride,
                     int64_t n, float scale, const Out &out) {
  using Reg = typename V::Reg;
  constexpr int64_t w = V::kWidth;
  const float inf = __builtin_inff();
  Reg max[G], sum[G];
  for (int r = 0; r < G; ++r)
    max[r] = V::set1(-inf), sum[r] = V::set1(0.0f);
  for (int64_t j = 0; j < n; j += w) {
    const int64_t count = n - j < w ? n - j : w;
    for (int r = 0; r < G; ++r) {
      Reg t = V::mul(V::loadOr(x + r * xRowStride + j, count, 0.0f), V::set1(scale));
      if (addend) {
        const float *ar = addend + r * addendRowStride;
        t = V::add(t, addendColStride ? V::loadOr(ar + j, count, 0.0f) : V::set1(*ar));
      }
      float *yr = y + r * yRowStride;
      V::store(yr + j, t, count);
      // Past the row, lanes hold -inf for the maximum (t there is 0).
      max[r] = V::max(max[r], count == w ? t : V::loadOr(yr + j, count, -inf));
    }
  }
  // A NaN t may or may not reach the maximum (V::max returns its second
  // operand when either is NaN), but its exp is NaN either way, and the
  // sum carries it into the whole row, as the formula does; so does +inf
  // (inf - inf) and a row of -inf.
  for (int r = 0; r < G; ++r)
    max[r] = V::set1(V::reduceMax(max[r]));
  for (int64_t j = 0; j < n; j += w) {
    const int64_t count = n - j < w ? n - j : w;
    for (int r = 0; r < G; ++r) {
      float *yr = y + r * yRowStride;
      const Reg e = expNonPositive<V>(V::sub(V::loadOr(yr + j, count, -inf), max[r]));
      V::store(yr + j, e, count);
      sum[r] = V::add(sum[r], e);
    }
  }
  for (int r = 0; r < G; ++r)
    sum[r] = V::set1(1.0f / V::reduceAdd(sum[r])); // now the inverse
  for (int64_t j = 0; j < n; j += w) {
    const int64_t count = n - j < w ? n - j : w;
    Reg p[G];
    for (int r = 0; r < G; ++r)
      p[r] = V::mul(V::loadOr(y + r * yRowStride + j, count, 0.0f), sum[r]);
    out(j, count, p);
  }
}

/// Rows [0, rows) in groups of four (softmaxRowGroup; one in the portable
/// family), then one at a time; makeOut(i, G) is where the group at row i
/// puts its result.
template <class V, class MakeOut>
void forRowGroups(const float *x, int64_t xRowStride, float *y, int64_t yRowStride,
                  const float *addend, int64_t addendRowStride, int64_t addendColStride,
                  int64_t rows, int64_t n, float scale, const MakeOut &makeOut) {
  // One row at a time in the portable (scalar) family: its fallback role
  // is not worth four instances of the code.
  constexpr int kGroup = V::kWidth > 1 ? 4 : 1;
  int64_t i = 0;
  auto group = [&](auto rowsInGroup) {
    constexpr int g = decltype(rowsInGroup)::value;
    softmaxRowGroup<V, g>(x + i * xRowStride, xRowStride, y + i * yRowStride, yRowStride,
                          addend ? addend + i * addendRowStride : nullptr, addendRowStride,
                          addendColStride, n, scale, makeOut(i, rowsInGroup));
    i += g;
  };
  while (rows - i >= kGroup)
    group(std::integral_constant<int, kGroup>());
  // The one to three left one at a time: instances for 2 and 3 rows would
  // cost more code than they save time.
  while (i < rows)
    group(std::integral_constant<int, 1>());
}

/// `rows` rows of kiln_softmax_desc: x, y and addend at their first row,
/// strides in elements.
template <class V>
void softmaxRows(const float *x, int64_t xRowStride, float *y, int64_t yRowStride,
                 const float *addend, int64_t addendRowStride, int64_t addendColStride,
                 int64_t rows, int64_t n, float scale) {
  forRowGroups<V>(x, xRowStride, y, yRowStride, addend, addendRowStride, addendColStride, rows,
                  n, scale, [&](int64_t i, auto rowsInGroup) {
                    return IntoRows<V, decltype(rowsInGroup)::value>{y + i * yRowStride,
                                                                     yRowStride};
                  });
}

/// The same softmax of rows <= MR rows of x (overwritten on the way), its
/// result as one packed panel of A, MR x n (rows past `rows` zero): what
/// softmaxRows then packAPanel<MR> give, float for float.
template <class V, int MR>
void softmaxToPanel(float *x, int64_t xRowStride, const float *addend, int64_t addendRowStride,
                    int64_t addendColStride, int64_t rows, int64_t n, float scale,
                    float *panel) {
  forRowGroups<V>(x, xRowStride, x, xRowStride, addend, addendRowStride, addendColStride, rows,
                  n, scale, [&](int64_t i, auto rowsInGroup) {
                    return IntoPanel<V, decltype(rowsInGroup)::value, MR>{panel + i};
                  });
  if (rows < MR)
    for (int64_t p = 0; p < n; ++p)
      for (int64_t i = rows; i < MR; ++i)
        panel[p * MR + i] = 0.0f;
}

} // namespace
} // namespace kiln

#endif // KILN_RUNTIME_KERNELS_SOFTMAXROWS_H
