//===- SparseGemmStrip.h - The sparse kernel, for any vector type -*- C++ -*-===//
//
// Included only by the sparse kernel files, each of which instantiates
// sparseStrip with its own vector type V of 16 floats and builds it with
// its own -m flags (internal linkage throughout, as GemmEpilogue.h). V has
//   Reg, zero(), load(p) (16 floats), store(p, v) (16 floats),
//   fmaScalar(a, s, acc) = acc + a * s (fused or not: the family's rounding),
//   add(a, b), loadPartial(p, count), storePartial(p, v, count),
//   gather(p, stride, count): lanes c < count = p[c * stride], others 0.
//
// One block column (W columns of C, 16r rows of the strip) lives in W x r
// vector registers while its stored blocks stream past: each block loads
// the r vectors of A's column p (one row of the transposed strip) once and
// multiplies them by each of its W broadcast values. So every vector of A
// loaded serves W fused multiply-adds; with r = 4 and W = 4 that is 16
// accumulators, 4 vectors of A and the broadcasts (memory operands) in 32
// registers, 16 FMAs per 4 + 4 loads. For W = 1 a block column has only r
// accumulators, too few to hide the FMA latency, so the even and the odd
// blocks go to two sets that are added at the end (the summation order
// kiln_abi.h documents; both families keep it).
//
// The accumulators hold columns of C (16 rows of one column per vector),
// C is stored by rows: the 16 columns of a chunk go to a scratch block
// (column-major), then each row of C takes its 16 values at once (a gather
// on AVX-512), adding C's old values when accumulating.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_KERNELS_SPARSEGEMMSTRIP_H
#define KILN_RUNTIME_KERNELS_SPARSEGEMMSTRIP_H

#include "SparseGemmKernels.h"

#include <cstdint>

namespace kiln {
namespace {

/// Block column q of a strip of R vectors of rows into the scratch block,
/// its W columns at out, out + stride, ...
template <class V, int W, int R>
void blockColumn(const SparseStrip &s, int64_t q, float *out) {
  using Reg = typename V::Reg;
  const int64_t begin = s.starts[q], end = s.starts[q + 1];
  const int64_t stride = s.stride;
  if constexpr (W == 1) {
    Reg even[R], odd[R];
    for (int r = 0; r < R; ++r)
      even[r] = odd[r] = V::zero();
    int64_t e = begin;
    for (; e + 1 < end; e += 2) {
      const float *a0 = s.at + s.blockRows[e] * stride, *a1 = s.at + s.blockRows[e + 1] * stride;
      const float b0 = s.values[e], b1 = s.values[e + 1];
      for (int r = 0; r < R; ++r) {
        even[r] = V::fmaScalar(V::load(a0 + 16 * r), b0, even[r]);
        odd[r] = V::fmaScalar(V::load(a1 + 16 * r), b1, odd[r]);
      }
    }
    if (e < end) {
      const float *a0 = s.at + s.blockRows[e] * stride;
      for (int r = 0; r < R; ++r)
        even[r] = V::fmaScalar(V::load(a0 + 16 * r), s.values[e], even[r]);
    }
    for (int r = 0; r < R; ++r)
      V::store(out + 16 * r, V::add(even[r], odd[r]));
  } else {
    Reg acc[W][R];
    for (int c = 0; c < W; ++c)
      for (int r = 0; r < R; ++r)
        acc[c][r] = V::zero();
    for (int64_t e = begin; e < end; ++e) {
      const float *a = s.at + s.blockRows[e] * stride;
      const float *b = s.values + e * W;
      Reg av[R];
      for (int r = 0; r < R; ++r)
        av[r] = V::load(a + 16 * r);
      for (int c = 0; c < W; ++c)
        for (int r = 0; r < R; ++r)
          acc[c][r] = V::fmaScalar(av[r], b[c], acc[c][r]);
    }
    for (int c = 0; c < W; ++c)
      for (int r = 0; r < R; ++r)
        V::store(out + c * stride + 16 * r, acc[c][r]);
  }
}

/// The strip with R vectors of rows and blocks of W.
template <class V, int W, int R> void stripOf(const SparseStrip &s) {
  constexpr int64_t kChunk = kSparseChunkColumns;
  static_assert(kChunk % W == 0, "a chunk holds whole blocks");
  for (int64_t j0 = 0; j0 < s.cols; j0 += kChunk) {
    const int64_t cols = s.cols - j0 < kChunk ? s.cols - j0 : kChunk;
    const int64_t q0 = s.q0 + j0 / W;
    for (int64_t q = q0; q < q0 + (cols + W - 1) / W; ++q)
      blockColumn<V, W, R>(s, q, s.scratch + (q - q0) * W * s.stride);
    for (int64_t i = 0; i < s.rows; ++i) {
      float *row = s.c + i * s.ldc + j0;
      typename V::Reg v = V::gather(s.scratch + i, s.stride, cols);
      if (s.accumulate)
        v = V::add(V::loadPartial(row, cols), v);
      V::storePartial(row, v, cols);
    }
  }
}

/// The part of SparseTransposeFn's work outside the first fullRows rows
/// and fullK steps of k (which a family transposes in blocks), one element
/// at a time: the rest of those rows, and the other rows up to the stride.
inline void transposeRest(const float *a, int64_t rowStride, int64_t colStride, int64_t rows,
                          int64_t k, int64_t stride, float *dst, int64_t fullRows, int64_t fullK) {
  for (int64_t p = 0; p < k; ++p) {
    float *out = dst + p * stride;
    for (int64_t i = p < fullK ? fullRows : 0; i < stride; ++i)
      out[i] = i < rows ? a[i * rowStride + p * colStride] : 0.0f;
  }
}

/// SparseStripFn for the vector type V.
template <class V> void sparseStrip(const SparseStrip &s) {
  using Fn = void (*)(const SparseStrip &);
  static constexpr Fn byWidthAndRows[2][4] = {
      {stripOf<V, 1, 1>, stripOf<V, 1, 2>, stripOf<V, 1, 3>, stripOf<V, 1, 4>},
      {stripOf<V, 4, 1>, stripOf<V, 4, 2>, stripOf<V, 4, 3>, stripOf<V, 4, 4>}};
  static_assert(kSparseStripRows == 4 * 16, "one instance per vector of rows");
  byWidthAndRows[s.width == 4][s.stride / 16 - 1](s);
}

} // namespace
} // namespace kiln

#endif // KILN_RUNTIME_KERNELS_SPARSEGEMMSTRIP_H
