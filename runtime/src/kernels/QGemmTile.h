//===- QGemmTile.h - The int8 tile loop, quantization, dequantization -*- C++ -*-===//
//
// Included only by the int8 micro-kernel files (QGemm*.cpp but QGemm.cpp),
// each of which instantiates these with its own vector type V and builds
// them with its own -m flags; internal linkage throughout, as in
// GemmPack.h. V, a struct of static functions, supplies:
//
//   kLanes            int32 sums per accumulator: columns of C per register
//   kAGroupBytes      bytes of a row of A per group of k: 4 (8 widened)
//   Acc, A, B         an accumulator, a group of A broadcast, a load of B
//   zero()            an accumulator of zeros
//   loadB(p)          kLanes columns x 4 steps of k of packed B at p
//   broadcastA(p)     the group of A at p, for every column
//   dot(acc, a, b)    acc + the 4-term dot products, exact in int32
//   store(p, acc)     the kLanes sums to p
//   dequantize(...)   one row of the tile into C, a vector at a time
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_KERNELS_QGEMMTILE_H
#define KILN_RUNTIME_KERNELS_QGEMMTILE_H

#include "QGemmKernels.h"

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace kiln {
namespace {

/// The scale and zero point of a row whose values span [lo, hi] with
/// lo <= 0 <= hi (kiln_qgemm_desc: ONNX DynamicQuantizeLinear).
QGemmRow rowQuant(float lo, float hi) {
  const float scale = (hi - lo) / 255.0f;
  if (!(scale >= FLT_MIN)) // all zeros (or not finite)
    return {1.0f, 0};
  const float zeroPoint = std::nearbyint(-lo / scale);
  return {scale, zeroPoint > 255.0f ? 255 : int32_t(zeroPoint)};
}

/// One value of a row quantized with `q`. The clamp comes before the
/// conversion, so even a NaN or a value far outside a static range
/// converts defined (to 0 or 255).
uint8_t quantizeValue(float x, QGemmRow q) {
  const float v = std::nearbyint(x / q.scale) + float(q.zeroPoint);
  return uint8_t(std::fmin(std::fmax(v, 0.0f), 255.0f));
}

/// QGemmQuantizeFn one float at a time, for any strides.
[[maybe_unused]] void quantizeRowsScalar(const float *a, int64_t rs, int64_t cs, int64_t rows,
                                         int64_t k, const QGemmRow *fixed, uint8_t *dst,
                                         int64_t lda, QGemmRow *rowQuant_) {
  for (int64_t i = 0; i < rows; ++i, dst += lda) {
    const float *row = a + i * rs;
    float lo = 0.0f, hi = 0.0f;
    for (int64_t p = 0; !fixed && p < k; ++p) {
      lo = std::fmin(lo, row[p * cs]);
      hi = std::fmax(hi, row[p * cs]);
    }
    const QGemmRow q = fixed ? *fixed : rowQuant(lo, hi);
    rowQuant_[i] = q;
    int64_t p = 0;
    for (; p < k; ++p)
      dst[p] = quantizeValue(row[p * cs], q);
    for (; p % 4; ++p)
      dst[p] = 0;
  }
}

/// How far ahead (in bytes of a panel: 16 groups of k) the tile loop asks
/// for B, which streams from L2: 1024 measured 2-5% faster than none on
/// BERT's shapes at M = 128 and 512, 512 and 2048 less.
constexpr int64_t kPrefetchB = 1024;

/// A ROWS x NREG*V::kLanes tile of C over all of k, then dequantized:
/// the rows of A broadcast 4 bytes at a time against NREG loads of B per
/// group of k. Register r holds columns r*kLanes.., in panel r*kLanes/16.
template <class V, int ROWS, int NREG> void qgemmTile(const QGemmTile &t) {
  constexpr int kLanes = V::kLanes;
  typename V::Acc acc[ROWS][NREG];
#pragma GCC unroll 8
  for (int i = 0; i < ROWS; ++i)
#pragma GCC unroll 4
    for (int r = 0; r < NREG; ++r)
      acc[i][r] = V::zero();

  const uint8_t *a = t.a;
  const int8_t *b = t.b;
  const int64_t lda = t.lda, panelStride = t.panelStride;
  for (int64_t g = 0; g < t.groups; ++g, a += V::kAGroupBytes, b += 64) {
    typename V::B bv[NREG];
#pragma GCC unroll 4
    for (int r = 0; r < NREG; ++r) {
      const int8_t *at = b + r * kLanes / 16 * panelStride + r * kLanes % 16 * 4;
      if (r * kLanes % 16 == 0) // one per cache line of B
        __builtin_prefetch(at + kPrefetchB);
      bv[r] = V::loadB(at);
    }
#pragma GCC unroll 8
    for (int i = 0; i < ROWS; ++i) {
      const typename V::A ai = V::broadcastA(a + i * lda);
#pragma GCC unroll 4
      for (int r = 0; r < NREG; ++r)
        acc[i][r] = V::dot(acc[i][r], ai, bv[r]);
    }
  }

  // The sums go through memory so that the dequantization is one loop per
  // family, not one per tile shape (the library's size).
  constexpr int kCols = NREG * kLanes;
  alignas(64) int32_t sums[ROWS * kCols];
#pragma GCC unroll 8
  for (int i = 0; i < ROWS; ++i)
#pragma GCC unroll 4
    for (int r = 0; r < NREG; ++r)
      V::store(sums + i * kCols + r * kLanes, acc[i][r]);
  for (int64_t i = 0; i < t.rows; ++i)
    for (int64_t j = 0; j < t.cols; j += kLanes)
      V::dequantize(sums + i * kCols + j, t.colSum + j, t.rowQuant[i], t.bScale + j,
                    t.c + i * t.ldc + j, t.cols - j < kLanes ? t.cols - j : kLanes, t.accumulate);
}

/// The tile of t.rows <= MR rows by the smallest instantiation that covers
/// them (QGemmTile::a has readable rows up to MR): ROWS of 1, 2, 4 or MR.
template <class V, int MR, int NREG> void qgemmRows(const QGemmTile &t) {
  if (t.rows <= 1)
    qgemmTile<V, 1, NREG>(t);
  else if (t.rows <= 2)
    qgemmTile<V, 2, NREG>(t);
  else if (t.rows <= 4)
    qgemmTile<V, 4, NREG>(t);
  else
    qgemmTile<V, MR, NREG>(t);
}

} // namespace
} // namespace kiln

#endif // KILN_RUNTIME_KERNELS_QGEMMTILE_H
