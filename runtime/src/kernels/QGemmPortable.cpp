//===- QGemmPortable.cpp - int8 micro-kernel in plain C++ -----------------===//
//
// For CPUs without a hand-written kernel, and the reference the others are
// tested against besides the naive one. A 4 x 16 tile (one panel of B);
// the sums are kept as uint32, whose wrap-around is defined, and are exact
// int32 by the time they are read (k <= KILN_QGEMM_MAX_K).
//
//===----------------------------------------------------------------------===//

#include "GemmKernels.h"
#include "QGemmTile.h"

namespace kiln {
namespace {

constexpr int MR = 4;
constexpr int NR = 16;

/// QGemmDequantizeFn; uint32 arithmetic for a defined wrap-around (the
/// result is exact int32).
void dequantize(const int32_t *s, const int32_t *colSum, QGemmRow q, const float *bScale,
                float *c, int64_t count, bool accumulate) {
  for (int64_t j = 0; j < count; ++j) {
    int32_t sum; // B may lie at any alignment
    std::memcpy(&sum, colSum + j, sizeof sum);
    const uint32_t v32 = uint32_t(s[j]) - uint32_t(q.zeroPoint) * uint32_t(sum);
    const float v = float(int32_t(v32)) * (q.scale * bScale[j]);
    c[j] = accumulate ? c[j] + v : v;
  }
}

void kernel(const QGemmTile &t) {
  uint32_t acc[MR][NR] = {};
  const uint8_t *a = t.a;
  const int8_t *b = t.b;
  for (int64_t g = 0; g < t.groups; ++g, a += 4, b += 64)
    for (int64_t i = 0; i < t.rows; ++i)
      for (int j = 0; j < NR; ++j)
        for (int s = 0; s < 4; ++s)
          acc[i][j] += uint32_t(a[i * t.lda + s]) * uint32_t(int32_t(b[j * 4 + s]));

  for (int64_t i = 0; i < t.rows; ++i) {
    int32_t sums[NR];
    for (int j = 0; j < NR; ++j)
      sums[j] = int32_t(acc[i][j]);
    dequantize(sums, t.colSum, t.rowQuant[i], t.bScale, t.c + i * t.ldc, t.cols, t.accumulate);
  }
}

} // namespace

const QGemmMicroKernel qgemmPortableKernel = {
    "portable", MR, NR, kernel, quantizeRowsScalar, nullptr, &gemmPortableKernel, dequantize};

} // namespace kiln
