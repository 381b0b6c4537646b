//===- GemmPack.h - Packing A and B panels for a micro-kernel ---*- C++ -*-===//
//
// Included only by the micro-kernel files, each of which instantiates these
// for its own tile and compiles them with its own ISA flags: with the tile
// known at compile time, the copies become full-width vector moves.
// Everything here has internal linkage (an anonymous namespace), so every
// file keeps its own copy and the linker cannot hand an AVX-512 copy to a
// caller on another CPU.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_KERNELS_GEMMPACK_H
#define KILN_RUNTIME_KERNELS_GEMMPACK_H

#include <cstdint>
#ifdef __SSE2__
#include <immintrin.h>
#endif

namespace kiln {
namespace {

#ifdef __SSE2__
/// Four rows of a row-major A (column stride 1) into a panel of MR rows
/// (dst points at the first of the four; MR is the panel's stride per step
/// of k, so a B panel of NR columns packs the same way): 4 x 4 blocks,
/// transposed in registers, so that each float costs a quarter of a load
/// and a store instead of one of each.
template <int MR> void packFourRows(const float *a, int64_t rs, int64_t kc, float *dst) {
  int64_t p = 0;
  for (; p + 4 <= kc; p += 4) {
    __m128 r0 = _mm_loadu_ps(a + p), r1 = _mm_loadu_ps(a + rs + p);
    __m128 r2 = _mm_loadu_ps(a + 2 * rs + p), r3 = _mm_loadu_ps(a + 3 * rs + p);
    _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
    _mm_storeu_ps(dst + p * MR, r0);
    _mm_storeu_ps(dst + (p + 1) * MR, r1);
    _mm_storeu_ps(dst + (p + 2) * MR, r2);
    _mm_storeu_ps(dst + (p + 3) * MR, r3);
  }
  for (; p < kc; ++p)
    for (int i = 0; i < 4; ++i)
      dst[p * MR + i] = a[i * rs + p];
}
#endif

/// One MR x kc panel of A: dst[p*MR + i] = A(i, p) for i < rows, 0 beyond.
template <int MR>
void packAPanel(const float *a, int64_t rs, int64_t cs, int64_t rows, int64_t kc, float *dst) {
  if (rows == MR && rs == 1) {
    // A is stored transposed: each step of k is MR contiguous floats.
    for (int64_t p = 0; p < kc; ++p, dst += MR)
      for (int i = 0; i < MR; ++i)
        dst[i] = a[p * cs + i];
    return;
  }
#ifdef __SSE2__
  if (cs == 1) {
    // Row-major A, the usual case: a transposition, four rows at a time,
    // then what is left one row at a time (and zeros past `rows`).
    int i = 0;
    for (; i + 4 <= rows; i += 4)
      packFourRows<MR>(a + i * rs, rs, kc, dst + i);
    for (; i < MR; ++i)
      for (int64_t p = 0; p < kc; ++p)
        dst[p * MR + i] = i < rows ? a[i * rs + p] : 0.0f;
    return;
  }
#endif
  // Otherwise a transposition one float at a time: MR rows are read side by
  // side, so each cache line fetched serves several steps of p.
  for (int64_t p = 0; p < kc; ++p, dst += MR) {
    int i = 0;
    for (; i < rows; ++i)
      dst[i] = a[i * rs + p * cs];
    for (; i < MR; ++i)
      dst[i] = 0.0f;
  }
}

#ifdef __SSE2__
/// One kc x NR panel of a B stored transposed, B(p, j) = b[p + j*cs]
/// (attention's K^T, read from K): its columns are contiguous like the rows
/// of a row-major A, so four at a time are packed by packFourRows. w <= NR
/// columns are real; the rest of the panel is zero.
template <int NR>
void packTransposedPanel(const float *b, int64_t cs, int64_t kc, int64_t w, float *dst) {
  int64_t j = 0;
  for (; j + 4 <= w; j += 4)
    packFourRows<NR>(b + j * cs, cs, kc, dst + j);
  for (; j < NR; ++j)
    for (int64_t p = 0; p < kc; ++p)
      dst[p * NR + j] = j < w ? b[j * cs + p] : 0.0f;
}
#endif

/// kc x cols of B as ceil(cols / NR) panels of kc x NR, one after another:
/// dst[panel*kc*NR + p*NR + j] = B(p, panel*NR + j), zero past cols.
template <int NR>
void packBPanels(const float *b, int64_t rs, int64_t cs, int64_t kc, int64_t cols, float *dst) {
  const int64_t full = cols / NR * NR;
  const int64_t panelSize = kc * NR;
  if (cs == 1) {
    // Row-major B, usually from L3 or memory: read each row of the block
    // in one sequential run, which the hardware prefetcher follows, and
    // scatter it over the panels.
    for (int64_t p = 0; p < kc; ++p) {
      const float *src = b + p * rs;
      float *d = dst + p * NR;
      for (int64_t j0 = 0; j0 < full; j0 += NR, d += panelSize)
        for (int j = 0; j < NR; ++j)
          d[j] = src[j0 + j];
      if (full < cols) {
        int64_t j = 0;
        for (; j < cols - full; ++j)
          d[j] = src[full + j];
        for (; j < NR; ++j)
          d[j] = 0.0f;
      }
    }
    return;
  }
  // Transposed (or broadcast) B: panel by panel, so that the NR columns
  // read side by side stay in L1 across steps of p.
  for (int64_t j0 = 0; j0 < cols; j0 += NR, dst += panelSize) {
    const int64_t w = cols - j0 < NR ? cols - j0 : NR;
    const float *src = b + j0 * cs;
#ifdef __SSE2__
    if (rs == 1 && cs != 0) {
      packTransposedPanel<NR>(src, cs, kc, w, dst);
      continue;
    }
#endif
    for (int64_t p = 0; p < kc; ++p) {
      float *d = dst + p * NR;
      int64_t j = 0;
      for (; j < w; ++j)
        d[j] = src[p * rs + j * cs];
      for (; j < NR; ++j)
        d[j] = 0.0f;
    }
  }
}

} // namespace
} // namespace kiln

#endif // KILN_RUNTIME_KERNELS_GEMMPACK_H
