//===- QGemmAvx512Vnni.cpp - int8 micro-kernel for AVX-512 VNNI -----------===//
//
// Built with -mavx512f -mavx512bw -mavx512vnni; only called when the CPU has
// them. An 8 x 48 tile: 24 zmm accumulators, 3 loads of B (one 64-byte
// group of each of 3 panels) and 8 broadcasts of 4 bytes of A per group of
// k, each feeding 3 `vpdpbusd` (64 multiply-adds apiece).
//
//===----------------------------------------------------------------------===//

#include "GemmKernels.h"
#include "QGemmTile.h"

#include <immintrin.h>

namespace kiln {
namespace {

constexpr int MR = 8;
constexpr int NREG = 3;

struct Vec {
  static constexpr int kLanes = 16;
  static constexpr int kAGroupBytes = 4;
  using Acc = __m512i;
  using A = __m512i;
  using B = __m512i;
  static Acc zero() { return _mm512_setzero_si512(); }
  static B loadB(const int8_t *p) { return _mm512_loadu_si512(p); }
  static A broadcastA(const uint8_t *p) {
    int32_t x;
    std::memcpy(&x, p, 4);
    return _mm512_set1_epi32(x);
  }
  static Acc dot(Acc acc, A a, B b) { return _mm512_dpbusd_epi32(acc, a, b); }
  static void store(int32_t *p, Acc acc) { _mm512_store_si512(p, acc); }

  /// c[j] = (accumulate ? c[j] : 0) + float(s[j] - zp*colSum[j]) *
  /// (scale * bScale[j]) for j < count; s and colSum hold a full vector.
  static void dequantize(const int32_t *s, const int32_t *colSum, QGemmRow q, const float *bScale,
                         float *c, int64_t count, bool accumulate) {
    const __mmask16 mask = count >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << count) - 1);
    const __m512i sum =
        _mm512_sub_epi32(_mm512_loadu_si512(s), _mm512_mullo_epi32(_mm512_set1_epi32(q.zeroPoint),
                                                                   _mm512_loadu_si512(colSum)));
    const __m512 scale =
        _mm512_mul_ps(_mm512_set1_ps(q.scale), _mm512_maskz_loadu_ps(mask, bScale));
    __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(sum), scale);
    if (accumulate)
      v = _mm512_add_ps(_mm512_maskz_loadu_ps(mask, c), v);
    _mm512_mask_storeu_ps(c, mask, v);
  }
};

/// QGemmMicroKernelFn: 48 columns at once, an edge of 16 or 32 a panel at
/// a time (panels past the edge of B may not exist).
void kernel(const QGemmTile &t) {
  if (t.cols > 32)
    return qgemmRows<Vec, MR, NREG>(t);
  QGemmTile panel = t;
  for (int64_t j = 0; j < t.cols; j += 16) {
    panel.b = t.b + j / 16 * t.panelStride;
    panel.colSum = t.colSum + j;
    panel.bScale = t.bScale + j;
    panel.c = t.c + j;
    panel.cols = t.cols - j < 16 ? t.cols - j : 16;
    qgemmRows<Vec, MR, 1>(panel);
  }
}

void quantize(const float *a, int64_t rs, int64_t cs, int64_t rows, int64_t k,
              const QGemmRow *fixed, uint8_t *dst, int64_t lda, QGemmRow *rowQuant_) {
  if (cs != 1)
    return quantizeRowsScalar(a, rs, cs, rows, k, fixed, dst, lda, rowQuant_);
  // A quotient outside [-256, 512] quantizes to 0 or 255 whatever the zero
  // point; clamping it first keeps the conversion in range (and maps NaN
  // to 0, as quantizeValue does). Only a static range can be exceeded.
  const __m512 qlo = _mm512_set1_ps(-256.0f), qhi = _mm512_set1_ps(512.0f);
  for (int64_t i = 0; i < rows; ++i, dst += lda) {
    const float *row = a + i * rs;
    // Lanes past k load as 0, which the range includes anyway.
    __m512 lo = _mm512_setzero_ps(), hi = _mm512_setzero_ps();
    for (int64_t p = 0; !fixed && p < k; p += 16) {
      const __mmask16 mask = k - p >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (k - p)) - 1);
      const __m512 x = _mm512_maskz_loadu_ps(mask, row + p);
      lo = _mm512_min_ps(lo, x);
      hi = _mm512_max_ps(hi, x);
    }
    const QGemmRow q =
        fixed ? *fixed : rowQuant(_mm512_reduce_min_ps(lo), _mm512_reduce_max_ps(hi));
    rowQuant_[i] = q;
    const __m512 scale = _mm512_set1_ps(q.scale);
    const __m512i zeroPoint = _mm512_set1_epi32(q.zeroPoint);
    for (int64_t p = 0; p < k; p += 16) {
      const __mmask16 mask = k - p >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (k - p)) - 1);
      // rint by the rounding mode (nearest even, as std::nearbyint), then
      // the zero point; vpmovusdb saturates at 255, the max at 0.
      const __m512 quotient = _mm512_div_ps(_mm512_maskz_loadu_ps(mask, row + p), scale);
      const __m512i v = _mm512_add_epi32(
          _mm512_cvtps_epi32(_mm512_min_ps(_mm512_max_ps(quotient, qlo), qhi)), zeroPoint);
      const __m512i clamped = _mm512_max_epi32(v, _mm512_setzero_si512());
      // The narrowing store with a mask is slow (microcoded on Zen); use it
      // only for the tail.
      if (mask == 0xFFFF)
        _mm_storeu_si128(reinterpret_cast<__m128i *>(dst + p), _mm512_cvtusepi32_epi8(clamped));
      else
        _mm512_mask_cvtusepi32_storeu_epi8(dst + p, mask, clamped);
    }
    for (int64_t p = k; p % 4; ++p)
      dst[p] = 0;
  }
}

} // namespace

const QGemmMicroKernel qgemmAvx512VnniKernel = {
    "avx512vnni", MR, 16 * NREG, kernel, quantize, nullptr, &gemmAvx512Kernel, Vec::dequantize};

} // namespace kiln
