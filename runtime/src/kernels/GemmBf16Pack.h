//===- GemmBf16Pack.h - Packing A as bf16 pairs for a bf16 kernel -*- C++ -*-===//
//
// Included only by the bf16 micro-kernel files (GemmBf16Portable.cpp,
// GemmAvx512Bf16.cpp), like GemmPack.h and for the same reason: internal
// linkage throughout, each file compiles its own copy with its own ISA.
//
// A is fp32 in memory and rounded to bf16 while it is packed. The fp32
// packing of GemmPack.h (its 4 x 4 transpositions of a row-major A) runs
// first, a chunk of k at a time into a buffer on the stack that stays in
// L1, and each two of its rows (steps p and p + 1 of k) then become MR
// pairs: 2 MR bf16 values, dst[2i + p % 2] = bf16(A(i, p)).
//
// A B that is not prepacked (attention's products, whose B is computed at
// run time) is fp32 too and packed the same way: a panel of NR columns of B
// is the A panel of B's transpose, B(p, j) = B^T(j, p).
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_KERNELS_GEMMBF16PACK_H
#define KILN_RUNTIME_KERNELS_GEMMBF16PACK_H

#include "GemmPack.h"

#include <cstdint>

namespace kiln {
namespace {

/// One MR x kc panel of A as bf16 pairs (GemmKernels.h): dst[(p/2)*2MR +
/// 2i + p%2] = bf16(A(i, p)), zero past `rows` and past kc (an odd kc
/// gets a zero second step). Pairs::convert(even, odd, dst) writes the MR
/// pairs of two packed fp32 rows of MR floats.
template <int MR, class Pairs>
void packABf16Panel(const float *a, int64_t rs, int64_t cs, int64_t rows, int64_t kc,
                    uint16_t *dst) {
  constexpr int64_t kChunk = 64; // steps of k per fp32 chunk: 3 KiB for MR = 12
  alignas(64) float chunk[(kChunk + 1) * MR];
  for (int64_t p0 = 0; p0 < kc; p0 += kChunk) {
    const int64_t steps = kc - p0 < kChunk ? kc - p0 : kChunk;
    packAPanel<MR>(a + p0 * cs, rs, cs, rows, steps, chunk);
    if (steps % 2)
      for (int i = 0; i < MR; ++i)
        chunk[steps * MR + i] = 0.0f;
    for (int64_t p = 0; p < steps; p += 2)
      Pairs::convert(chunk + p * MR, chunk + (p + 1) * MR, dst + (p0 + p) * MR);
  }
}

/// kc x cols of an fp32 B (strides rs, cs) as ceil(cols / NR) consecutive
/// panels of bf16 pairs (GemmKernels.h), each the A panel of B^T packed by
/// PackPanel (packABf16Panel, or a family's faster one): K^T (rs = 1) is
/// then a row-major A, V (cs = 1) one stored transposed.
template <int NR, auto PackPanel>
void packBBf16Panels(const float *b, int64_t rs, int64_t cs, int64_t kc, int64_t cols,
                     uint16_t *dst) {
  const int64_t panelSize = (kc + 1) / 2 * 2 * NR;
  for (int64_t j0 = 0; j0 < cols; j0 += NR, dst += panelSize)
    PackPanel(b + j0 * cs, cs, rs, cols - j0 < NR ? cols - j0 : NR, kc, dst);
}

} // namespace
} // namespace kiln

#endif // KILN_RUNTIME_KERNELS_GEMMBF16PACK_H
