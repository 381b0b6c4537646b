//===- QGemmAvx2.cpp - int8 micro-kernel for AVX2 without VNNI ------------===//
//
// Built with -mavx2 -mfma; only called when the CPU has them. Exact, unlike
// the usual `vpmaddubsw` kernel: that one adds two u8 x s8 products into an
// int16 with saturation, and 255 * 127 * 2 does not fit. Here both operands
// are widened to int16 and `vpmaddwd` adds pairs of products into int32,
// which cannot overflow. A 4 x 8 tile: each accumulator is two registers
// (pairs of partial sums per column), folded together after the loop. A
// is widened once, before the tiles (QGemmMicroKernel::widen), B per group
// (once for the tile's 4 rows).
//
// Also the dequantization and row quantization of the AVX-VNNI family.
//
//===----------------------------------------------------------------------===//

#include "GemmKernels.h"
#include "QGemmTile.h"

#include <immintrin.h>

namespace kiln {
namespace {

constexpr int MR = 4;

struct Vec {
  static constexpr int kLanes = 8;
  static constexpr int kAGroupBytes = 8; // A widened to int16 (widen below)
  /// Columns 0..3 and 4..7 of the 8, two int32 partial sums per column
  /// (of steps 0-1 and 2-3 of each group), in the order vpmaddwd leaves.
  struct Pair {
    __m256i lo, hi;
  };
  using Acc = Pair;
  using B = Pair;    // 8 columns x 4 steps of k, as int16
  using A = __m256i; // the 4 int16 of a group, 4 times over
  static Acc zero() { return {_mm256_setzero_si256(), _mm256_setzero_si256()}; }
  static B loadB(const int8_t *p) {
    const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p));
    return {_mm256_cvtepi8_epi16(_mm256_castsi256_si128(bytes)),
            _mm256_cvtepi8_epi16(_mm256_extracti128_si256(bytes, 1))};
  }
  /// A pure load (vpbroadcastq), where widening here would cost each row
  /// two shuffles per group.
  static A broadcastA(const uint8_t *p) {
    int64_t x;
    std::memcpy(&x, p, 8);
    return _mm256_set1_epi64x(x);
  }
  static Acc dot(Acc acc, A a, B b) {
    return {_mm256_add_epi32(acc.lo, _mm256_madd_epi16(a, b.lo)),
            _mm256_add_epi32(acc.hi, _mm256_madd_epi16(a, b.hi))};
  }
  /// Per 128-bit lane, lo holds columns (0 0 1 1 | 2 2 3 3) and hi
  /// (4 4 5 5 | 6 6 7 7); hadd makes (0 1 4 5 | 2 3 6 7), the permutation
  /// puts the pairs of columns in order.
  static void store(int32_t *p, Acc acc) {
    _mm256_store_si256(reinterpret_cast<__m256i *>(p),
                       _mm256_permute4x64_epi64(_mm256_hadd_epi32(acc.lo, acc.hi), 0xD8));
  }
  static void dequantize(const int32_t *s, const int32_t *colSum, QGemmRow q, const float *bScale,
                         float *c, int64_t count, bool accumulate) {
    qgemmDequantizeAvx2(s, colSum, q, bScale, c, count, accumulate);
  }
};

/// The first `count` of 8 lanes.
__m256i firstLanes(int64_t count) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(int(count)),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/// 8 floats of a row, 0 past `count`.
__m256 loadRow(const float *p, int64_t count) {
  return count >= 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, firstLanes(count));
}

void kernel(const QGemmTile &t) { qgemmRows<Vec, MR, 1>(t); }

/// QGemmWidenFn: from the end of each row down, so that no byte is
/// overwritten before it is read (value p moves from byte p to 2p).
void widen(uint8_t *a, int64_t rows, int64_t k4, int64_t lda) {
  for (int64_t i = 0; i < rows; ++i, a += lda) {
    int64_t p = k4 / 16 * 16;
    for (int64_t q = k4 - 1; q >= p; --q) {
      const uint16_t v = a[q];
      std::memcpy(a + 2 * q, &v, 2);
    }
    while (p > 0) {
      p -= 16;
      const __m256i v =
          _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i *>(a + p)));
      _mm256_storeu_si256(reinterpret_cast<__m256i *>(a + 2 * p), v);
    }
  }
}

} // namespace

void qgemmDequantizeAvx2(const int32_t *s, const int32_t *colSum, QGemmRow q, const float *bScale,
                         float *c, int64_t count, bool accumulate) {
  const __m256i sum = _mm256_sub_epi32(
      _mm256_loadu_si256(reinterpret_cast<const __m256i *>(s)),
      _mm256_mullo_epi32(_mm256_set1_epi32(q.zeroPoint),
                         _mm256_loadu_si256(reinterpret_cast<const __m256i *>(colSum))));
  const __m256 scale = _mm256_mul_ps(_mm256_set1_ps(q.scale), loadRow(bScale, count));
  __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(sum), scale);
  if (accumulate)
    v = _mm256_add_ps(loadRow(c, count), v);
  if (count >= 8)
    _mm256_storeu_ps(c, v);
  else
    _mm256_maskstore_ps(c, firstLanes(count), v);
}

void qgemmDequantize16Avx2(const int32_t *s, const int32_t *colSum, QGemmRow q,
                           const float *bScale, float *c, int64_t count, bool accumulate) {
  qgemmDequantizeAvx2(s, colSum, q, bScale, c, count < 8 ? count : 8, accumulate);
  if (count > 8)
    qgemmDequantizeAvx2(s + 8, colSum + 8, q, bScale + 8, c + 8, count - 8, accumulate);
}

void qgemmQuantizeAvx2(const float *a, int64_t rs, int64_t cs, int64_t rows, int64_t k,
                       const QGemmRow *fixed, uint8_t *dst, int64_t lda, QGemmRow *rowQuant_) {
  if (cs != 1)
    return quantizeRowsScalar(a, rs, cs, rows, k, fixed, dst, lda, rowQuant_);
  // As in the AVX-512 quantize: a clamped quotient converts in range.
  const __m256 qlo = _mm256_set1_ps(-256.0f), qhi = _mm256_set1_ps(512.0f);
  for (int64_t i = 0; i < rows; ++i, dst += lda) {
    const float *row = a + i * rs;
    // Lanes past k load as 0, which the range includes anyway.
    __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
    for (int64_t p = 0; !fixed && p < k; p += 8) {
      const __m256 x = loadRow(row + p, k - p);
      lo = _mm256_min_ps(lo, x);
      hi = _mm256_max_ps(hi, x);
    }
    alignas(32) float los[8], his[8];
    _mm256_store_ps(los, lo);
    _mm256_store_ps(his, hi);
    float rowLo = 0.0f, rowHi = 0.0f;
    for (int j = 0; j < 8; ++j) {
      rowLo = std::fmin(rowLo, los[j]);
      rowHi = std::fmax(rowHi, his[j]);
    }
    const QGemmRow q = fixed ? *fixed : rowQuant(rowLo, rowHi);
    rowQuant_[i] = q;
    const __m256 scale = _mm256_set1_ps(q.scale);
    const __m256i zeroPoint = _mm256_set1_epi32(q.zeroPoint);
    for (int64_t p = 0; p < k; p += 8) {
      // rint by the rounding mode (nearest even, as std::nearbyint), the
      // zero point, the clamp; then the two packs are exact.
      const __m256 quotient = _mm256_div_ps(loadRow(row + p, k - p), scale);
      __m256i v = _mm256_add_epi32(
          _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(quotient, qlo), qhi)), zeroPoint);
      v = _mm256_min_epi32(_mm256_max_epi32(v, _mm256_setzero_si256()), _mm256_set1_epi32(255));
      const __m256i words = _mm256_packus_epi32(v, v);
      const __m256i packed = _mm256_packus_epi16(words, words);
      // Bytes 0-3 of each 128-bit lane are its 4 values.
      const int32_t parts[2] = {_mm256_extract_epi32(packed, 0), _mm256_extract_epi32(packed, 4)};
      std::memcpy(dst + p, parts, size_t(k - p < 8 ? k - p : 8));
    }
    for (int64_t p = k; p % 4; ++p)
      dst[p] = 0;
  }
}

const QGemmMicroKernel qgemmAvx2Kernel = {"avx2",         MR, 8, kernel, qgemmQuantizeAvx2, widen,
                                          &gemmAvx2Kernel, qgemmDequantize16Avx2};

} // namespace kiln
