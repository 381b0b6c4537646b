//===- SparseQGemmAvx512Vnni.cpp - The sparse int8 kernel for AVX-512 VNNI ===//
//
// Built with -mavx512f -mavx512bw -mavx512vnni; only called when the CPU
// has them. One block column (W columns of C, 64 rows of the strip) lives
// in 4W zmm accumulators of 16 int32 while its groups stream past; each
// group loads its 4 rows of the transposed A (64 bytes each, L2) and
// interleaves them in 8 unpacks into 4 vectors whose int32 lanes hold 4
// bytes A(i, p0..p3), each multiplied by the W broadcast dwords of weights
// (`vpdpbusd`): 4W dot products per 8 shuffles. For W = 1 the even and odd
// groups go to two sets of accumulators (the products' latency).
//
// The unpacks work within 128-bit lanes, so lane e of vector r holds row
// 16(e/4) + 4r + e%4 of the strip, not 16r + e: the sums are dequantized as
// they come, with each lane's row's scale and zero point, and each row of
// C reads its 16 columns from where they lie (rowSlot).
//
//===----------------------------------------------------------------------===//

#include "SparseGemmKernels.h"
#include "SparseQGemmKernels.h"
#include "kiln/kiln_sparse_qgemm_pack.h"

#include <immintrin.h>

#include <cstring>

namespace kiln {
namespace {

constexpr int64_t kRows = kSparseQStripRows;
static_assert(kRows == 64, "4 vectors of 16 rows, a zmm of bytes per row of A");

/// Where row i's sum lies among the 64 a block column stores (the inverse
/// of the unpacks' row order above).
int64_t rowSlot(int64_t i) { return 16 * (i % 16 / 4) + 4 * (i / 16) + i % 4; }

/// Group g's products added to acc.
template <int W> inline void addGroup(const SparseQStrip &s, int64_t g, __m512i (&acc)[W][4]) {
  const uint16_t *rows = s.groupRows + KILN_SPARSE_QGEMM_GROUP * g;
  const __m512i a0 = _mm512_load_si512(s.at + int64_t(rows[0]) * kRows);
  const __m512i a1 = _mm512_load_si512(s.at + int64_t(rows[1]) * kRows);
  const __m512i a2 = _mm512_load_si512(s.at + int64_t(rows[2]) * kRows);
  const __m512i a3 = _mm512_load_si512(s.at + int64_t(rows[3]) * kRows);
  const __m512i lo01 = _mm512_unpacklo_epi8(a0, a1), hi01 = _mm512_unpackhi_epi8(a0, a1);
  const __m512i lo23 = _mm512_unpacklo_epi8(a2, a3), hi23 = _mm512_unpackhi_epi8(a2, a3);
  const __m512i v[4] = {_mm512_unpacklo_epi16(lo01, lo23), _mm512_unpackhi_epi16(lo01, lo23),
                        _mm512_unpacklo_epi16(hi01, hi23), _mm512_unpackhi_epi16(hi01, hi23)};
  const int8_t *b = s.values + KILN_SPARSE_QGEMM_GROUP * W * g;
  for (int c = 0; c < W; ++c) {
    int32_t weights;
    std::memcpy(&weights, b + KILN_SPARSE_QGEMM_GROUP * c, 4);
    const __m512i broadcast = _mm512_set1_epi32(weights);
    for (int r = 0; r < 4; ++r)
      acc[c][r] = _mm512_dpbusd_epi32(acc[c][r], v[r], broadcast);
  }
}

/// Block column q's sums into its W columns at out, out + 64, ... (in the
/// unpacks' row order).
template <int W> void blockColumn(const SparseQStrip &s, int64_t q, int32_t *out) {
  __m512i acc[W][4], odd[W][4];
  for (int c = 0; c < W; ++c)
    for (int r = 0; r < 4; ++r)
      acc[c][r] = odd[c][r] = _mm512_setzero_si512();
  int64_t g = s.starts[q];
  const int64_t end = s.starts[q + 1];
  if constexpr (W == 1)
    for (; g + 1 < end; g += 2) {
      addGroup<W>(s, g, acc);
      addGroup<W>(s, g + 1, odd);
    }
  for (; g < end; ++g)
    addGroup<W>(s, g, acc);
  for (int c = 0; c < W; ++c)
    for (int r = 0; r < 4; ++r)
      _mm512_store_si512(out + c * kRows + 16 * r, _mm512_add_epi32(acc[c][r], odd[c][r]));
}

/// Where the strip's rows lie in the unpacks' order: vector r, lane e.
struct RowLanes {
  __m512i zeroPoint[4];
  __m512 scale[4];
};

/// The rows' quantization in the unpacks' order (rows past the strip's:
/// zero point 0, scale 1; never written).
RowLanes rowLanes(const SparseQStrip &s) {
  alignas(64) int32_t zeroPoints[kRows];
  alignas(64) float scales[kRows];
  for (int64_t i = 0; i < kRows; ++i) {
    const QGemmRow q = i < s.rows ? s.rowQuant[i] : QGemmRow{1.0f, 0};
    zeroPoints[rowSlot(i)] = q.zeroPoint;
    scales[rowSlot(i)] = q.scale;
  }
  RowLanes lanes;
  for (int r = 0; r < 4; ++r) {
    lanes.zeroPoint[r] = _mm512_load_si512(zeroPoints + 16 * r);
    lanes.scale[r] = _mm512_load_ps(scales + 16 * r);
  }
  return lanes;
}

/// SparseQStripFn for blocks of W: per chunk of 16 columns, the sums of
/// its block columns into the scratch block, dequantized there a column
/// (16 rows) at a time, transposed into rows (the fp32 sparse kernel's
/// 16 x 16 transposition) and written to C.
///
/// The dequantization is kiln_qgemm_desc's, float(s - za * colsum) *
/// (sa * b_scale[j]), then C + v when accumulating: the dense families'
/// operations (QGemmDequantizeFn) on the same operands, so the same bits
/// (this file is built without FMA contraction), only along rows instead
/// of columns: a gather and a call of the dense family's per row of 16
/// columns made the kernel 2.2x dense int8 at 90% 1x4 sparsity (768 x 768,
/// kiln-sparse-gemm-bench), this 3.9x.
template <int W> void stripOf(const SparseQStrip &s) {
  const RowLanes lanes = rowLanes(s);
  float *values = reinterpret_cast<float *>(s.scratch);
  float *rows = values + kSparseQChunkColumns * kRows;
  for (int64_t j0 = 0; j0 < s.cols; j0 += kSparseQChunkColumns) {
    const int64_t cols = s.cols - j0 < kSparseQChunkColumns ? s.cols - j0 : kSparseQChunkColumns;
    const int64_t q0 = s.q0 + j0 / W;
    for (int64_t q = q0; q < q0 + (cols + W - 1) / W; ++q)
      blockColumn<W>(s, q, s.scratch + (q - q0) * W * kRows);
    for (int64_t j = 0; j < kSparseQChunkColumns; ++j) {
      int32_t colSum;
      std::memcpy(&colSum, s.colSum + j0 + j, sizeof colSum);
      const __m512i sum = _mm512_set1_epi32(colSum);
      const __m512 bScale = _mm512_set1_ps(j < cols ? s.bScale[j0 + j] : 0.0f);
      for (int r = 0; r < 4; ++r) {
        const __m512i v = _mm512_sub_epi32(_mm512_load_si512(s.scratch + j * kRows + 16 * r),
                                           _mm512_mullo_epi32(lanes.zeroPoint[r], sum));
        _mm512_store_ps(
            values + j * kRows + 16 * r,
            _mm512_mul_ps(_mm512_cvtepi32_ps(v), _mm512_mul_ps(lanes.scale[r], bScale)));
      }
    }
    // rows[slot * 16 + j] = values[j * 64 + slot].
    sparseGemmAvx512Kernel.transposeA(values, kRows, 1, kSparseQChunkColumns, kRows,
                                      kSparseQChunkColumns, rows);
    const __mmask16 mask = __mmask16((1u << cols) - 1);
    for (int64_t i = 0; i < s.rows; ++i) {
      float *c = s.c + i * s.ldc + j0;
      __m512 v = _mm512_load_ps(rows + rowSlot(i) * kSparseQChunkColumns);
      if (s.accumulate)
        v = _mm512_add_ps(_mm512_maskz_loadu_ps(mask, c), v);
      _mm512_mask_storeu_ps(c, mask, v);
    }
  }
}

void run(const SparseQStrip &s) { s.width == 4 ? stripOf<4>(s) : stripOf<1>(s); }

/// 16 columns p0.. of the strip's 64 rows into 16 rows of dst: register i
/// holds rows i, i + 16, i + 32, i + 48 in its 4 lanes, and 4 rounds of the
/// perfect shuffle (each a rotation of the (row, byte) bits within a lane)
/// transpose all four 16 x 16 blocks at once; register i is then dst's row
/// p0 + i.
void transpose16Columns(const uint8_t *a, int64_t lda, uint8_t *dst) {
  __m512i r[16], t[16];
  for (int i = 0; i < 16; ++i) {
    auto row = [&](int64_t at) {
      return _mm_loadu_si128(reinterpret_cast<const __m128i *>(a + at * lda));
    };
    const __m256i low = _mm256_inserti128_si256(_mm256_castsi128_si256(row(i)), row(i + 16), 1);
    const __m256i high =
        _mm256_inserti128_si256(_mm256_castsi128_si256(row(i + 32)), row(i + 48), 1);
    r[i] = _mm512_inserti64x4(_mm512_castsi256_si512(low), high, 1);
  }
  for (int round = 0; round < 4; ++round) {
    for (int i = 0; i < 8; ++i) {
      t[2 * i] = _mm512_unpacklo_epi8(r[i], r[i + 8]);
      t[2 * i + 1] = _mm512_unpackhi_epi8(r[i], r[i + 8]);
    }
    for (int i = 0; i < 16; ++i)
      r[i] = t[i];
  }
  for (int i = 0; i < 16; ++i)
    _mm512_store_si512(dst + i * kRows, r[i]);
}

/// SparseQTransposeFn: 16 columns at a time in registers (a byte at a
/// time is 64 loads and stores per 64 bytes, here 4 loads, 5 shuffles and
/// a store), the rest of k portably.
void transposeA(const uint8_t *a, int64_t lda, int64_t k, uint8_t *dst) {
  const int64_t full = k / 16 * 16;
  for (int64_t p0 = 0; p0 < full; p0 += 16)
    transpose16Columns(a + p0, lda, dst + p0 * kRows);
  if (full < k)
    sparseQTransposePortable(a + full, lda, k - full, dst + full * kRows);
}

} // namespace

const SparseQGemmMicroKernel sparseQgemmAvx512VnniKernel = {"avx512vnni", run, transposeA};

} // namespace kiln
