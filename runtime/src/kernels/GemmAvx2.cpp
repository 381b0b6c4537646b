//===- GemmAvx2.cpp - sgemm micro-kernel for AVX2 + FMA -------------------===//
//
// Built with -mavx2 -mfma; only called when the CPU has both. A 6 x 16
// tile: 12 ymm accumulators, 2 for the row of B and 1 broadcast, out of 16
// registers. Each k step issues 12 FMAs against 2 vector loads and 6
// broadcasts, enough to keep both FMA ports busy. Strips of fewer rows run
// a kernel of their height.
//
//===----------------------------------------------------------------------===//

#include "GemmEpilogue.h"
#include "LayerNormRows.h"
#include "SoftmaxRows.h"
#include "GemmKernels.h"
#include "GemmPack.h"

#include <immintrin.h>

namespace kiln {
namespace {

constexpr int MR = KILN_GEMM_TILE_AVX2_MR;
constexpr int NR = KILN_GEMM_TILE_AVX2_NR;
constexpr int NV = NR / 8; // vectors per row of the tile

/// The tile's first ROWS rows (the packed panel of A still holds MR): edge
/// strips, such as the last 2 rows of M = 128, compute only what they store.
/// With FETCH_NEXT, each step of k also asks L2 for the row of `next`, the
/// panel the caller runs after this one (GemmMicroKernelFn).
template <int ROWS, bool FETCH_NEXT>
void tile(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, int64_t cols,
          bool accumulate, const float *next) {
  __m256 acc[ROWS][NV];
#pragma GCC unroll 6
  for (int i = 0; i < ROWS; ++i)
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v)
      acc[i][v] = _mm256_setzero_ps();

#pragma GCC unroll 4
  for (int64_t p = 0; p < kc; ++p, a += MR, b += NR) {
    if (FETCH_NEXT)
      _mm_prefetch(reinterpret_cast<const char *>(next + p * NR), _MM_HINT_T1);
    __m256 bv[NV];
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v)
      bv[v] = _mm256_loadu_ps(b + 8 * v);
#pragma GCC unroll 6
    for (int i = 0; i < ROWS; ++i) {
      __m256 ai = _mm256_broadcast_ss(a + i);
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v)
        acc[i][v] = _mm256_fmadd_ps(ai, bv[v], acc[i][v]);
    }
  }

  // Masked loads and stores (lane j is on when j < cols - 8v) never touch C
  // outside the tile; a full tile gets all-ones masks.
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  __m256i mask[NV];
#pragma GCC unroll 2
  for (int v = 0; v < NV; ++v) {
    int64_t left = cols - 8 * v;
    mask[v] = _mm256_cmpgt_epi32(_mm256_set1_epi32(int(left < 0 ? 0 : left > 8 ? 8 : left)), lane);
  }
#pragma GCC unroll 6
  for (int i = 0; i < ROWS; ++i) {
    float *row = c + i * ldc;
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) {
      __m256 sum = acc[i][v];
      if (accumulate)
        sum = _mm256_add_ps(sum, _mm256_maskload_ps(row + 8 * v, mask[v]));
      _mm256_maskstore_ps(row + 8 * v, mask[v], sum);
    }
  }
}

using Tile = void (*)(int64_t, const float *, const float *, float *, int64_t, int64_t, bool,
                      const float *);

template <bool FETCH_NEXT> struct Tiles {
  static constexpr Tile byRows[MR] = {tile<1, FETCH_NEXT>, tile<2, FETCH_NEXT>,
                                      tile<3, FETCH_NEXT>, tile<4, FETCH_NEXT>,
                                      tile<5, FETCH_NEXT>, tile<6, FETCH_NEXT>};
};

void kernel(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, int64_t rows,
            int64_t cols, bool accumulate, const float *next) {
  const Tile run = next ? Tiles<true>::byRows[rows - 1] : Tiles<false>::byRows[rows - 1];
  run(kc, a, b, c, ldc, cols, accumulate, next);
}

/// The vector type of GemmEpilogue.h: 8 floats, partial ones masked.
struct Vec {
  using Reg = __m256;
  using Mask = __m256;
  static constexpr int64_t kWidth = 8;
  static __m256i first(int64_t count) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(int(count)),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static Reg load(const float *p, int64_t count) {
    return count == kWidth ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, first(count));
  }
  static void store(float *p, Reg v, int64_t count) {
    if (count == kWidth)
      _mm256_storeu_ps(p, v);
    else
      _mm256_maskstore_ps(p, first(count), v);
  }
  static Reg set1(float x) { return _mm256_set1_ps(x); }
  static Reg add(Reg a, Reg b) { return _mm256_add_ps(a, b); }
  static Reg sub(Reg a, Reg b) { return _mm256_sub_ps(a, b); }
  static Reg mul(Reg a, Reg b) { return _mm256_mul_ps(a, b); }
  static Reg div(Reg a, Reg b) { return _mm256_div_ps(a, b); }
  static Reg fma(Reg a, Reg b, Reg c) { return _mm256_fmadd_ps(a, b, c); }
  static Reg min(Reg a, Reg b) { return _mm256_min_ps(a, b); }
  static Reg max(Reg a, Reg b) { return _mm256_max_ps(a, b); }
  static Reg abs(Reg a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
  /// |mag| with the sign of `sign`; mag >= 0.
  static Reg copySign(Reg mag, Reg sign) {
    return _mm256_or_ps(mag, _mm256_and_ps(sign, _mm256_set1_ps(-0.0f)));
  }
  static Mask less(Reg a, Reg b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
  static Reg select(Mask m, Reg a, Reg b) { return _mm256_blendv_ps(b, a, m); }
  static Reg loadOr(const float *p, int64_t count, float fill) {
    if (count == kWidth)
      return _mm256_loadu_ps(p);
    const __m256i m = first(count);
    return _mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, m),
                            _mm256_castsi256_ps(m));
  }
  static Reg roundNearest(Reg a) {
    return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  }
  /// 2^n added to the exponent bits: a and a * 2^n normal (SoftmaxRows.h);
  /// a NaN n converts to INT_MIN, whose shifted bits are 0.
  static Reg scaleByPowerOf2(Reg a, Reg n) {
    const __m256i bits = _mm256_slli_epi32(_mm256_cvtps_epi32(n), 23);
    return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(a), bits));
  }
  /// Rows r[0..3], columns [0, count), to dst + l * stride (4 floats each):
  /// a 4 x 4 transposition in each 128-bit lane, then a lane per column.
  static void storeColumns4(const Reg (&r)[4], int64_t count, float *dst, int64_t stride) {
    const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    auto pd = [](__m256 x) { return _mm256_castps_pd(x); };
    // Column 4q + m of the rows is 128-bit lane q of column[m].
    const __m256 column[4] = {
        _mm256_castpd_ps(_mm256_unpacklo_pd(pd(t0), pd(t2))),
        _mm256_castpd_ps(_mm256_unpackhi_pd(pd(t0), pd(t2))),
        _mm256_castpd_ps(_mm256_unpacklo_pd(pd(t1), pd(t3))),
        _mm256_castpd_ps(_mm256_unpackhi_pd(pd(t1), pd(t3)))};
    for (int m = 0; m < 4; ++m) {
      if (m < count)
        _mm_storeu_ps(dst + m * stride, _mm256_castps256_ps128(column[m]));
      if (4 + m < count)
        _mm_storeu_ps(dst + (4 + m) * stride, _mm256_extractf128_ps(column[m], 1));
    }
  }
  static float reduceMax(Reg a) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    return _mm_cvtss_f32(_mm_max_ss(m, _mm_movehdup_ps(m)));
  }
  static float reduceAdd(Reg a) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
  }
};

} // namespace

const GemmMicroKernel gemmAvx2Kernel = {
    "avx2", MR, NR, 256, 1024, kernel, packAPanel<MR>, packBPanels<NR>, epilogueStrip<Vec>,
    softmaxRows<Vec>, softmaxToPanel<Vec, MR>,
    layerNormRows<Vec>, nullptr, nullptr};

} // namespace kiln
