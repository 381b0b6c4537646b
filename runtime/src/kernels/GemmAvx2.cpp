//===- GemmAvx2.cpp - sgemm micro-kernel for AVX2 + FMA -------------------===//
//
// Built with -mavx2 -mfma; only called when the CPU has both. A 6 x 16
// tile: 12 ymm accumulators, 2 for the row of B and 1 broadcast, out of 16
// registers. Each k step issues 12 FMAs against 2 vector loads and 6
// broadcasts, enough to keep both FMA ports busy.
//
//===----------------------------------------------------------------------===//

#include "GemmKernels.h"
#include "GemmPack.h"

#include <immintrin.h>

namespace kiln {
namespace {

constexpr int MR = 6;
constexpr int NR = 16;
constexpr int NV = NR / 8; // vectors per row of the tile

void kernel(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, int64_t rows,
            int64_t cols, bool accumulate) {
  __m256 acc[MR][NV];
#pragma GCC unroll 6
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v)
      acc[i][v] = _mm256_setzero_ps();

#pragma GCC unroll 4
  for (int64_t p = 0; p < kc; ++p, a += MR, b += NR) {
    __m256 bv[NV];
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v)
      bv[v] = _mm256_load_ps(b + 8 * v);
#pragma GCC unroll 6
    for (int i = 0; i < MR; ++i) {
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
  for (int i = 0; i < MR; ++i) {
    if (i >= rows)
      break;
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

} // namespace

const GemmMicroKernel gemmAvx2Kernel = {"avx2",         MR, NR, 256, 1024, kernel, packAPanel<MR>,
                                        packBPanels<NR>};

} // namespace kiln
