//===- GemmAvx512.cpp - sgemm micro-kernel for AVX-512F -------------------===//
//
// Built with -mavx512f; only called when the CPU has it. A 12 x 32 tile:
// 24 zmm accumulators, 2 for the row of B and 1 for broadcasts of A, out of
// 32 registers. Each k step issues 24 FMAs against 2 vector loads and 12
// broadcast loads, which keeps both FMA ports busy without saturating the
// load ports (a 14 x 32 tile, 28 accumulators, measured no faster). Strips
// of fewer rows (the edge of M) run a kernel of their height, so 12 rows
// waste nothing on M = 128 or 197.
//
//===----------------------------------------------------------------------===//

#include "GemmEpilogue.h"
#include "GemmKernels.h"
#include "GemmPack.h"
#include "LayerNormRows.h"
#include "SoftmaxColumns.h"
#include "SoftmaxRows.h"

#include <immintrin.h>

namespace kiln {
namespace {

constexpr int MR = KILN_GEMM_TILE_AVX512_MR;
constexpr int NR = KILN_GEMM_TILE_AVX512_NR;
constexpr int NV = NR / 16; // vectors per row of the tile

/// How far ahead (in floats of the B panel: 16 steps of k) the loop asks
/// for B. The panel streams from L2, or from L3 when B is prepacked and this
/// is its first strip of A, and the hardware prefetcher alone leaves loads
/// waiting: 512 measured ~5% faster at 384 x 768 x 768 than none, 256 less.
constexpr int kPrefetchB = 512;

/// The tile's first ROWS rows: edge strips, such as the last 5 rows of
/// M = 197, compute only what they store. A(i, p) is a[i * rs + p * cs]: a
/// packed panel (rs = 1, cs = MR) or a row-major A read in place (cs = 1,
/// GemmStridedAKernelFn). Rows i and i + 1, i + 2 of each group of three
/// are one base pointer, advanced by cs a step, plus rs and 2 rs: four
/// pointers and one stride in registers address all twelve rows. With
/// FETCH_NEXT, each step of k also asks L2 for one row of `next`, the
/// panel the caller runs after this one (GemmMicroKernelFn); without it, a
/// full-height tile given `warm` asks L1 for that panel's first rows in its
/// last steps (GemmStridedAKernelFn: only the 12-row instances, which do
/// nearly all the work, carry the code).
template <int ROWS, bool FETCH_NEXT>
void tile(int64_t kc, const float *a, int64_t rs, int64_t cs, const float *b, float *c,
          int64_t ldc, int64_t cols, bool accumulate, const float *next, const float *warm) {
  // The tile of C is wanted only after the loop, but its rows are far apart
  // and often not in L1 or L2: fetching them now hides that latency behind
  // the loop instead of stalling the stores on it.
#pragma GCC unroll 12
  for (int i = 0; i < ROWS; ++i) {
    _mm_prefetch(reinterpret_cast<const char *>(c + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char *>(c + i * ldc + NR - 1), _MM_HINT_T0);
  }
  __m512 acc[ROWS][NV];
#pragma GCC unroll 12
  for (int i = 0; i < ROWS; ++i)
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v)
      acc[i][v] = _mm512_setzero_ps();

  // (Only the groups the tile has: no pointer past A's rows is formed.)
  const float *group[4];
#pragma GCC unroll 4
  for (int g = 0; g < 4; ++g)
    group[g] = 3 * g < ROWS ? a + 3 * g * rs : a;
#pragma GCC unroll 1
  for (int64_t p = 0; p < kc; ++p, b += NR) {
    _mm_prefetch(reinterpret_cast<const char *>(b + kPrefetchB), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char *>(b + kPrefetchB + 16), _MM_HINT_T0);
    if (FETCH_NEXT) {
      _mm_prefetch(reinterpret_cast<const char *>(next + p * NR), _MM_HINT_T1);
      _mm_prefetch(reinterpret_cast<const char *>(next + p * NR + 16), _MM_HINT_T1);
    } else if (ROWS == MR && warm && p + kPrefetchB / NR >= kc) {
      const float *line = warm + (p + kPrefetchB / NR - kc) * NR;
      _mm_prefetch(reinterpret_cast<const char *>(line), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char *>(line + 16), _MM_HINT_T0);
    }
    __m512 bv[NV];
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v)
      bv[v] = _mm512_loadu_ps(b + 16 * v);
#pragma GCC unroll 12
    for (int i = 0; i < ROWS; ++i) {
      __m512 ai = _mm512_set1_ps(group[i / 3][(i % 3) * rs]);
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v)
        acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
    }
#pragma GCC unroll 4
    for (int g = 0; g < (ROWS + 2) / 3; ++g)
      group[g] += cs;
  }

  // Masked loads and stores cover edge tiles at no cost for full ones, and
  // never touch C outside the tile.
  __mmask16 mask[NV];
#pragma GCC unroll 2
  for (int v = 0; v < NV; ++v) {
    int64_t left = cols - 16 * v;
    mask[v] = left >= 16  ? __mmask16(0xFFFF)
              : left <= 0 ? __mmask16(0)
                          : __mmask16((1u << left) - 1);
  }
#pragma GCC unroll 12
  for (int i = 0; i < ROWS; ++i) {
    float *row = c + i * ldc;
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) {
      __m512 sum = acc[i][v];
      if (accumulate)
        sum = _mm512_add_ps(sum, _mm512_maskz_loadu_ps(mask[v], row + 16 * v));
      _mm512_mask_storeu_ps(row + 16 * v, mask[v], sum);
    }
  }
}

using Tile = void (*)(int64_t, const float *, int64_t, int64_t, const float *, float *, int64_t,
                      int64_t, bool, const float *, const float *);

template <bool FETCH_NEXT> struct Tiles {
  static constexpr Tile byRows[MR] = {
      tile<1, FETCH_NEXT>, tile<2, FETCH_NEXT>, tile<3, FETCH_NEXT>,  tile<4, FETCH_NEXT>,
      tile<5, FETCH_NEXT>, tile<6, FETCH_NEXT>, tile<7, FETCH_NEXT>,  tile<8, FETCH_NEXT>,
      tile<9, FETCH_NEXT>, tile<10, FETCH_NEXT>, tile<11, FETCH_NEXT>, tile<12, FETCH_NEXT>};
};

void kernelStridedA(int64_t kc, const float *a, int64_t rs, int64_t cs, const float *b, float *c,
                    int64_t ldc, int64_t rows, int64_t cols, bool accumulate, const float *next,
                    const float *warm) {
  const Tile run = next ? Tiles<true>::byRows[rows - 1] : Tiles<false>::byRows[rows - 1];
  run(kc, a, rs, cs, b, c, ldc, cols, accumulate, next, warm);
}

void kernel(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, int64_t rows,
            int64_t cols, bool accumulate, const float *next) {
  kernelStridedA(kc, a, 1, MR, b, c, ldc, rows, cols, accumulate, next, nullptr);
}

/// The vector type of GemmEpilogue.h: 16 floats, partial ones masked.
struct Vec {
  using Reg = __m512;
  using Mask = __mmask16;
  static constexpr int64_t kWidth = 16;
  static Mask first(int64_t count) { return Mask((1u << count) - 1); }
  static Reg load(const float *p, int64_t count) {
    return count == kWidth ? _mm512_loadu_ps(p) : _mm512_maskz_loadu_ps(first(count), p);
  }
  static void store(float *p, Reg v, int64_t count) {
    if (count == kWidth)
      _mm512_storeu_ps(p, v);
    else
      _mm512_mask_storeu_ps(p, first(count), v);
  }
  static Reg set1(float x) { return _mm512_set1_ps(x); }
  static Reg add(Reg a, Reg b) { return _mm512_add_ps(a, b); }
  static Reg sub(Reg a, Reg b) { return _mm512_sub_ps(a, b); }
  static Reg mul(Reg a, Reg b) { return _mm512_mul_ps(a, b); }
  static Reg div(Reg a, Reg b) { return _mm512_div_ps(a, b); }
  static Reg fma(Reg a, Reg b, Reg c) { return _mm512_fmadd_ps(a, b, c); }
  static Reg min(Reg a, Reg b) { return _mm512_min_ps(a, b); }
  static Reg max(Reg a, Reg b) { return _mm512_max_ps(a, b); }
  static Reg abs(Reg a) { return _mm512_abs_ps(a); }
  /// |mag| with the sign of `sign`; mag >= 0. (AVX-512F has no andps.)
  static Reg copySign(Reg mag, Reg sign) {
    const __m512i signBit = _mm512_set1_epi32(int(0x80000000u));
    return _mm512_castsi512_ps(_mm512_or_si512(
        _mm512_castps_si512(mag), _mm512_and_si512(_mm512_castps_si512(sign), signBit)));
  }
  static Mask less(Reg a, Reg b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  static Reg select(Mask m, Reg a, Reg b) { return _mm512_mask_blend_ps(m, b, a); }
  static Reg loadOr(const float *p, int64_t count, float fill) {
    return count == kWidth ? _mm512_loadu_ps(p)
                           : _mm512_mask_loadu_ps(_mm512_set1_ps(fill), first(count), p);
  }
  static Reg roundNearest(Reg a) {
    return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  }
  static Reg scaleByPowerOf2(Reg a, Reg n) { return _mm512_scalef_ps(a, n); }
  /// Rows r[0..3], columns [0, count), to dst + l * stride (4 floats each):
  /// a 4 x 4 transposition in each 128-bit lane, then a lane per column.
  static void storeColumns4(const Reg (&r)[4], int64_t count, float *dst, int64_t stride) {
    const __m512 t0 = _mm512_unpacklo_ps(r[0], r[1]), t1 = _mm512_unpackhi_ps(r[0], r[1]);
    const __m512 t2 = _mm512_unpacklo_ps(r[2], r[3]), t3 = _mm512_unpackhi_ps(r[2], r[3]);
    auto pd = [](__m512 x) { return _mm512_castps_pd(x); };
    // Column 4q + m of the rows is 128-bit lane q of column[m].
    const __m512 column[4] = {
        _mm512_castpd_ps(_mm512_unpacklo_pd(pd(t0), pd(t2))),
        _mm512_castpd_ps(_mm512_unpackhi_pd(pd(t0), pd(t2))),
        _mm512_castpd_ps(_mm512_unpacklo_pd(pd(t1), pd(t3))),
        _mm512_castpd_ps(_mm512_unpackhi_pd(pd(t1), pd(t3)))};
    auto lane = [&](auto q) {
      constexpr int kLane = decltype(q)::value;
      for (int m = 0; m < 4; ++m)
        if (4 * kLane + m < count)
          _mm_storeu_ps(dst + (4 * kLane + m) * stride, _mm512_extractf32x4_ps(column[m], kLane));
    };
    lane(std::integral_constant<int, 0>());
    lane(std::integral_constant<int, 1>());
    lane(std::integral_constant<int, 2>());
    lane(std::integral_constant<int, 3>());
  }
  static float reduceMax(Reg a) { return _mm512_reduce_max_ps(a); }
  /// The lanes' sum by a halving tree, l + (l + 8), then + 4, + 2, + 1:
  /// softmaxColumns (SoftmaxColumns.h) adds its partial sums in this order.
  static float reduceAdd(Reg a) {
    const __m256 high = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1));
    const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(a), high);
    const __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    const __m128 pair = _mm_add_ps(q, _mm_movehl_ps(q, q));
    return _mm_cvtss_f32(_mm_add_ss(pair, _mm_movehdup_ps(pair)));
  }
  static Reg floor(Reg a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
  static __m512i toIndex(Reg a) { return _mm512_cvttps_epi32(a); }
  /// table[index & 15] in each lane (vpermps reads the low 4 bits only).
  static Reg lookup16(const float (&table)[16], __m512i index) {
    return _mm512_permutexvar_ps(index, _mm512_loadu_ps(table));
  }
};

} // namespace

const GemmMicroKernel gemmAvx512Kernel = {
    "avx512", MR, NR, 256, 1024, kernel, packAPanel<MR>, packBPanels<NR>, epilogueStrip<Vec>,
                                     softmaxRows<Vec>, softmaxToPanel<Vec, MR>,
    layerNormRows<Vec>, kernelStridedA, softmaxColumns<Vec, NR>};

} // namespace kiln
