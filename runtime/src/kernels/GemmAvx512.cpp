//===- GemmAvx512.cpp - sgemm micro-kernel for AVX-512F -------------------===//
//
// Built with -mavx512f; only called when the CPU has it. A 12 x 32 tile:
// 24 zmm accumulators, 2 for the row of B and 1 for broadcasts of A, out of
// 32 registers. Each k step issues 24 FMAs against 2 vector loads and 12
// broadcast loads, which keeps both FMA ports busy without saturating the
// load ports; 12 rows waste little on the usual M (128 -> 132, 384 exact).
//
//===----------------------------------------------------------------------===//

#include "GemmKernels.h"
#include "GemmPack.h"

#include <immintrin.h>

namespace kiln {
namespace {

constexpr int MR = 12;
constexpr int NR = 32;
constexpr int NV = NR / 16; // vectors per row of the tile

void kernel(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, int64_t rows,
            int64_t cols, bool accumulate) {
  __m512 acc[MR][NV];
#pragma GCC unroll 12
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v)
      acc[i][v] = _mm512_setzero_ps();

#pragma GCC unroll 2
  for (int64_t p = 0; p < kc; ++p, a += MR, b += NR) {
    __m512 bv[NV];
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v)
      bv[v] = _mm512_load_ps(b + 16 * v);
#pragma GCC unroll 12
    for (int i = 0; i < MR; ++i) {
      __m512 ai = _mm512_set1_ps(a[i]);
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v)
        acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
    }
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
  for (int i = 0; i < MR; ++i) {
    if (i >= rows)
      break;
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

} // namespace

const GemmMicroKernel gemmAvx512Kernel = {"avx512",       MR, NR, 256, 1024, kernel, packAPanel<MR>,
                                          packBPanels<NR>};

} // namespace kiln
