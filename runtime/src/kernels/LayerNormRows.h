//===- LayerNormRows.h - kiln_layer_norm_desc's rows, one ISA at a time -*- C++ -*-===//
//
// Included only by the fp32 micro-kernel files (GemmPortable.cpp,
// GemmAvx2.cpp, GemmAvx512.cpp), each of which instantiates layerNormRows
// with the vector type of its epilogue (GemmEpilogue.h), as SoftmaxRows.h
// is; internal linkage throughout.
//
// Each row takes three passes over memory that stays in L1 (a row is the
// model's hidden size, 1.5 to 16 KiB): the sum of x - x_0 (x_0 the row's
// first value: a shift that keeps the sum small, and exact for values near
// it, when the row sits far from 0), for the mean; the sum of squared
// deviations from the mean, for the variance (two passes, not E[x^2] -
// E[x]^2, which cancels badly when the mean is large); then y = (x - mean)
// * r * scale + bias, r = 1 / sqrt(var + epsilon). Rows go four at a time,
// a vector of each in turn, so that one row's reductions overlap the
// others' (as the row softmax's); each row's operations and their order
// do not depend on that. The generated loops this replaces were four
// loops over the whole tensor, each a hand-off to the threads.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_KERNELS_LAYERNORMROWS_H
#define KILN_RUNTIME_KERNELS_LAYERNORMROWS_H

#include "GemmKernels.h"

#include <cmath>
#include <cstdint>
#include <type_traits>

namespace kiln {
namespace {

/// G rows of kiln_layer_norm_desc: x and y at their first row.
template <class V, int G>
void layerNormRowGroup(const float *x, int64_t xRowStride, float *y, int64_t yRowStride,
                       const float *scale, const float *bias, int64_t n, float epsilon) {
  using Reg = typename V::Reg;
  constexpr int64_t w = V::kWidth;
  Reg acc[G], shift[G];
  float mean[G];
  #pragma GCC unroll 4
  for (int r = 0; r < G; ++r)
    acc[r] = V::set1(0.0f), shift[r] = V::set1(x[r * xRowStride]);
  for (int64_t j = 0; j < n; j += w) {
    const int64_t count = n - j < w ? n - j : w;
    // Past the row, lanes hold the shift: they add 0.
    #pragma GCC unroll 4
    for (int r = 0; r < G; ++r)
      acc[r] = V::add(acc[r], V::sub(V::loadOr(x + r * xRowStride + j, count, x[r * xRowStride]),
                                     shift[r]));
  }
  #pragma GCC unroll 4
  for (int r = 0; r < G; ++r) {
    mean[r] = x[r * xRowStride] + V::reduceAdd(acc[r]) / float(n);
    acc[r] = V::set1(0.0f);
  }
  for (int64_t j = 0; j < n; j += w) {
    const int64_t count = n - j < w ? n - j : w;
    #pragma GCC unroll 4
    for (int r = 0; r < G; ++r) {
      // Past the row, lanes hold the mean: their deviation is 0.
      const Reg d = V::sub(V::loadOr(x + r * xRowStride + j, count, mean[r]), V::set1(mean[r]));
      acc[r] = V::add(acc[r], V::mul(d, d));
    }
  }
  Reg m[G], reciprocal[G];
  #pragma GCC unroll 4
  for (int r = 0; r < G; ++r) {
    const float variance = V::reduceAdd(acc[r]) / float(n);
    m[r] = V::set1(mean[r]);
    reciprocal[r] = V::set1(1.0f / std::sqrt(variance + epsilon));
  }
  for (int64_t j = 0; j < n; j += w) {
    const int64_t count = n - j < w ? n - j : w;
    const Reg s = V::loadOr(scale + j, count, 0.0f);
    const Reg b = bias ? V::loadOr(bias + j, count, 0.0f) : V::set1(0.0f);
    #pragma GCC unroll 4
    for (int r = 0; r < G; ++r) {
      const Reg normalized =
          V::mul(V::sub(V::loadOr(x + r * xRowStride + j, count, 0.0f), m[r]), reciprocal[r]);
      const Reg scaled = V::mul(normalized, s);
      V::store(y + r * yRowStride + j, bias ? V::add(scaled, b) : scaled, count);
    }
  }
}

/// `rows` rows of kiln_layer_norm_desc: x and y at their first row,
/// strides in elements; four at a time (one in the portable family), then
/// one at a time.
template <class V>
void layerNormRows(const float *x, int64_t xRowStride, float *y, int64_t yRowStride,
                   const float *scale, const float *bias, int64_t rows, int64_t n,
                   float epsilon) {
  // One row at a time in the portable (scalar) family: its fallback role
  // is not worth four instances of the code.
  constexpr int kGroup = V::kWidth > 1 ? 4 : 1;
  int64_t i = 0;
  auto group = [&](auto rowsInGroup) {
    constexpr int g = decltype(rowsInGroup)::value;
    layerNormRowGroup<V, g>(x + i * xRowStride, xRowStride, y + i * yRowStride, yRowStride,
                            scale, bias, n, epsilon);
    i += g;
  };
  while (rows - i >= kGroup)
    group(std::integral_constant<int, kGroup>());
  // The one to three left one at a time: instances for 2 and 3 rows would
  // cost more code than they save time.
  while (i < rows)
    group(std::integral_constant<int, 1>());
}

} // namespace
} // namespace kiln

#endif // KILN_RUNTIME_KERNELS_LAYERNORMROWS_H
