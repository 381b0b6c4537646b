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

namespace kiln {
namespace {

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
  // Usually row-major A, a transposition: MR rows are read side by side, so
  // each cache line fetched serves several steps of p.
  for (int64_t p = 0; p < kc; ++p, dst += MR) {
    int i = 0;
    for (; i < rows; ++i)
      dst[i] = a[i * rs + p * cs];
    for (; i < MR; ++i)
      dst[i] = 0.0f;
  }
}

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
