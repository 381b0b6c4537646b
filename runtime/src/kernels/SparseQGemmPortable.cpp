//===- SparseQGemmPortable.cpp - The sparse int8 GEMM's kernel in plain C++ ===//
//
// For CPUs without AVX-512 VNNI (and KILN_QGEMM_KERNEL below it), and the
// transposition of A every family shares. The sums are exact in any order,
// so this is the AVX-512 kernel's loop without its interleave: each stored
// weight times the strip's 64 bytes of A's column p, into uint32 sums
// (whose wrap-around is defined; they are exact int32 once read, as in
// QGemmPortable.cpp).
//
//===----------------------------------------------------------------------===//

#include "SparseQGemmKernels.h"
#include "kiln/kiln_sparse_qgemm_pack.h"

#include <cstring>

namespace kiln {
namespace {

constexpr int64_t kRows = kSparseQStripRows;

/// Block column q's sums into its W columns at out, out + 64, ...
void blockColumn(const SparseQStrip &s, int64_t q, int32_t *out) {
  const int64_t w = s.width;
  uint32_t acc[4][kRows] = {};
  for (int64_t g = s.starts[q]; g < s.starts[q + 1]; ++g)
    for (int t = 0; t < KILN_SPARSE_QGEMM_GROUP; ++t) {
      const uint8_t *a = s.at + int64_t(s.groupRows[KILN_SPARSE_QGEMM_GROUP * g + t]) * kRows;
      for (int64_t c = 0; c < w; ++c) {
        const uint32_t b = uint32_t(int32_t(s.values[KILN_SPARSE_QGEMM_GROUP * (g * w + c) + t]));
        for (int64_t i = 0; i < kRows; ++i)
          acc[c][i] += uint32_t(a[i]) * b;
      }
    }
  for (int64_t c = 0; c < w; ++c)
    for (int64_t i = 0; i < kRows; ++i)
      out[c * kRows + i] = int32_t(acc[c][i]);
}

/// SparseQStripFn: per chunk of 16 columns, the sums of its block columns
/// into the scratch block (column-major), then each row's 16 into C.
void run(const SparseQStrip &s) {
  for (int64_t j0 = 0; j0 < s.cols; j0 += kSparseQChunkColumns) {
    const int64_t cols = s.cols - j0 < kSparseQChunkColumns ? s.cols - j0 : kSparseQChunkColumns;
    const int64_t q0 = s.q0 + j0 / s.width;
    for (int64_t q = q0; q < q0 + (cols + s.width - 1) / s.width; ++q)
      blockColumn(s, q, s.scratch + (q - q0) * s.width * kRows);
    for (int64_t i = 0; i < s.rows; ++i) {
      int32_t sums[kSparseQChunkColumns] = {};
      for (int64_t j = 0; j < cols; ++j)
        sums[j] = s.scratch[j * kRows + i];
      s.dequantize(sums, s.colSum + j0, s.rowQuant[i], s.bScale + j0, s.c + i * s.ldc + j0, cols,
                   s.accumulate);
    }
  }
}

} // namespace

void sparseQTransposePortable(const uint8_t *a, int64_t lda, int64_t k, uint8_t *dst) {
  // Blocks of 64 x 64 bytes: each read and written while in L1.
  for (int64_t p0 = 0; p0 < k; p0 += 64) {
    const int64_t p1 = p0 + 64 < k ? p0 + 64 : k;
    for (int64_t i = 0; i < kRows; ++i) {
      const uint8_t *row = a + i * lda;
      for (int64_t p = p0; p < p1; ++p)
        dst[p * kRows + i] = row[p];
    }
  }
}

const SparseQGemmMicroKernel sparseQgemmPortableKernel = {"portable", run,
                                                          sparseQTransposePortable};

} // namespace kiln
