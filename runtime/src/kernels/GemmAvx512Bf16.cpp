//===- GemmAvx512Bf16.cpp - bf16 GEMM micro-kernel for AVX512_BF16 --------===//
//
// Built with -mavx512f -mavx512bf16; only called when the CPU has both. The
// 12 x 32 tile of GemmAvx512.cpp, with `vdpbf16ps` in place of the FMA:
// each instruction adds two products per lane (a pair of steps of k), so
// one step of the loop covers twice the k of the fp32 kernel's at the same
// count of instructions and loads, and B is half the bytes. The sums are
// those of GemmBf16Portable.cpp, bit for bit (kiln_gemm_test checks).
//
//===----------------------------------------------------------------------===//

#include "GemmBf16Pack.h"
#include "GemmKernels.h"

#include <immintrin.h>
#include <type_traits>

namespace kiln {
namespace {

constexpr int MR = 12;
constexpr int NR = 32;
constexpr int NV = NR / 16; // vectors per row of the tile

/// How far ahead (in bf16 values of the B panel: 16 pairs of steps of k)
/// the loop asks for B: the same bytes ahead as the fp32 kernel's.
constexpr int kPrefetchB = 1024;

/// The tile's first ROWS rows; with FETCH_NEXT, each pair of steps of k
/// also asks L2 for one row of `next` (GemmMicroKernelFnOf).
template <int ROWS, bool FETCH_NEXT>
void tile(int64_t kc, const uint16_t *a, const uint16_t *b, float *c, int64_t ldc, int64_t cols,
          bool accumulate, const uint16_t *next) {
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

  // A pair of A is one 32-bit word of the packed panel, broadcast.
  const int32_t *pairs = reinterpret_cast<const int32_t *>(a);
#pragma GCC unroll 2
  for (int64_t p = 0; p < kc; p += 2, pairs += MR, b += 2 * NR) {
    _mm_prefetch(reinterpret_cast<const char *>(b + kPrefetchB), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char *>(b + kPrefetchB + 32), _MM_HINT_T0);
    if (FETCH_NEXT) {
      _mm_prefetch(reinterpret_cast<const char *>(next + p * NR), _MM_HINT_T1);
      _mm_prefetch(reinterpret_cast<const char *>(next + p * NR + 32), _MM_HINT_T1);
    }
    __m512bh bv[NV];
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v)
      bv[v] = (__m512bh)_mm512_loadu_si512(b + 32 * v);
#pragma GCC unroll 12
    for (int i = 0; i < ROWS; ++i) {
      const __m512bh ai = (__m512bh)_mm512_set1_epi32(pairs[i]);
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v)
        acc[i][v] = _mm512_dpbf16_ps(acc[i][v], ai, bv[v]);
    }
  }

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

using Tile = void (*)(int64_t, const uint16_t *, const uint16_t *, float *, int64_t, int64_t, bool,
                      const uint16_t *);

template <bool FETCH_NEXT> struct Tiles {
  static constexpr Tile byRows[MR] = {
      tile<1, FETCH_NEXT>, tile<2, FETCH_NEXT>, tile<3, FETCH_NEXT>,  tile<4, FETCH_NEXT>,
      tile<5, FETCH_NEXT>, tile<6, FETCH_NEXT>, tile<7, FETCH_NEXT>,  tile<8, FETCH_NEXT>,
      tile<9, FETCH_NEXT>, tile<10, FETCH_NEXT>, tile<11, FETCH_NEXT>, tile<12, FETCH_NEXT>};
};

void kernel(int64_t kc, const uint16_t *a, const uint16_t *b, float *c, int64_t ldc, int64_t rows,
            int64_t cols, bool accumulate, const uint16_t *next) {
  const Tile run = next ? Tiles<true>::byRows[rows - 1] : Tiles<false>::byRows[rows - 1];
  run(kc, a, b, c, ldc, cols, accumulate, next);
}

/// Two packed fp32 rows of W values (a panel of A, W = MR, or of B, W =
/// NR) to W bf16 pairs (GemmBf16Pack.h): vcvtneps2bf16 rounds as
/// kiln_bf16_from_float does, and the two halves of each pair are
/// interleaved as 32-bit words, 16 at a time.
template <int W> struct Pairs {
  static void convert(const float *even, const float *odd, uint16_t *dst) {
#pragma GCC unroll 2
    for (int h = 0; h < W; h += 16) {
      const __mmask16 lanes = W - h >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (W - h)) - 1);
      const __m256i lo = (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(lanes, even + h));
      const __m256i hi = (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(lanes, odd + h));
      const __m512i words = _mm512_or_si512(_mm512_cvtepu16_epi32(lo),
                                            _mm512_slli_epi32(_mm512_cvtepu16_epi32(hi), 16));
      _mm512_mask_storeu_epi32(dst + 2 * h, lanes, words);
    }
  }
};

/// packABf16Panel<W, Pairs<W>> for a row-major A (column stride 1), the
/// same bf16 pairs: each row's 32 steps of k go through one vcvtne2ps2bf16
/// (the rounding of vcvtneps2bf16) into 16 pairs, the even step in the low
/// half as the panel has it, and four rows' pairs are transposed into place
/// a 128-bit lane at a time. The generic packing transposed A as fp32 first
/// and paired the rows after: ~5% of all-MiniLM-L6-v2 int8, whose attention
/// products pack Q, P and K^T so. Other layouts go to it still.
template <int W>
void packABf16PanelRows(const float *a, int64_t rs, int64_t cs, int64_t rows, int64_t kc,
                        uint16_t *dst) {
  static_assert(W % 4 == 0, "four rows at a time");
  if (cs != 1)
    return packABf16Panel<W, Pairs<W>>(a, rs, cs, rows, kc, dst);
  auto lanes = [](int64_t count) {
    return count >= 16  ? __mmask16(0xFFFF)
           : count <= 0 ? __mmask16(0)
                        : __mmask16((1u << count) - 1);
  };
  for (int i = 0; i < W; i += 4)
    for (int64_t p = 0; p < kc; p += 32) {
      // Steps past kc load as zeros: an odd kc's last pair has a zero second.
      const __mmask16 low = lanes(kc - p), high = lanes(kc - p - 16);
      __m512i r[4];
#pragma GCC unroll 4
      for (int q = 0; q < 4; ++q) {
        const float *row = a + (i + q) * rs + p;
        r[q] = i + q < rows ? (__m512i)_mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(high, row + 16),
                                                           _mm512_maskz_loadu_ps(low, row))
                            : _mm512_setzero_si512();
      }
      const __m512i t0 = _mm512_unpacklo_epi32(r[0], r[1]), t1 = _mm512_unpackhi_epi32(r[0], r[1]);
      const __m512i t2 = _mm512_unpacklo_epi32(r[2], r[3]), t3 = _mm512_unpackhi_epi32(r[2], r[3]);
      // Pair 4 l + m of the four rows is 128-bit lane l of column[m].
      const __m512i column[4] = {
          _mm512_unpacklo_epi64(t0, t2), _mm512_unpackhi_epi64(t0, t2),
          _mm512_unpacklo_epi64(t1, t3), _mm512_unpackhi_epi64(t1, t3)};
      const int64_t pairs = kc - p >= 32 ? 16 : (kc - p + 1) / 2;
      uint16_t *out = dst + (p / 2 * W + i) * 2;
      auto lane = [&](auto l) {
        constexpr int kLane = decltype(l)::value;
#pragma GCC unroll 4
        for (int m = 0; m < 4; ++m)
          if (4 * kLane + m < pairs)
            _mm_storeu_si128(reinterpret_cast<__m128i *>(out + (4 * kLane + m) * 2 * W),
                             _mm512_extracti32x4_epi32(column[m], kLane));
      };
      lane(std::integral_constant<int, 0>());
      lane(std::integral_constant<int, 1>());
      lane(std::integral_constant<int, 2>());
      lane(std::integral_constant<int, 3>());
    }
}

} // namespace

const GemmBf16MicroKernel gemmAvx512Bf16Kernel = {"avx512bf16",
                                                  MR,
                                                  NR,
                                                  kGemmBf16Depth,
                                                  1024,
                                                  kernel,
                                                  packABf16PanelRows<MR>,
                                                  packBBf16Panels<NR, packABf16PanelRows<NR>>,
                                                  nullptr,
                                                  nullptr};

} // namespace kiln
