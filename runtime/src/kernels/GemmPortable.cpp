//===- GemmPortable.cpp - sgemm micro-kernel in plain C++ -----------------===//
//
// For CPUs without a hand-written kernel. A 4 x 8 tile of accumulators is
// small enough to live in 16 SIMD registers once the compiler vectorizes
// the inner loop (SSE2 on any x86-64, NEON on AArch64).
//
//===----------------------------------------------------------------------===//

#include "GemmEpilogue.h"
#include "LayerNormRows.h"
#include "SoftmaxRows.h"
#include "GemmKernels.h"
#include "GemmPack.h"

namespace kiln {
namespace {

constexpr int MR = KILN_GEMM_TILE_PORTABLE_MR;
constexpr int NR = KILN_GEMM_TILE_PORTABLE_NR;

/// `next` (a panel to prefetch) is not used: this kernel is not tuned for
/// any cache.
void kernel(int64_t kc, const float *a, const float *b, float *c, int64_t ldc, int64_t rows,
            int64_t cols, bool accumulate, const float * /*next*/) {
  float acc[MR][NR] = {};
  for (int64_t p = 0; p < kc; ++p, a += MR, b += NR)
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NR; ++j)
        acc[i][j] += a[i] * b[j];

  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      c[i * ldc + j] = accumulate ? c[i * ldc + j] + acc[i][j] : acc[i][j];
}

/// The "vector" type of GemmEpilogue.h: one float, which the compiler may
/// vectorize (SSE2, NEON).
struct Vec {
  using Reg = float;
  using Mask = bool;
  static constexpr int64_t kWidth = 1;
  static Reg load(const float *p, int64_t) { return *p; }
  static void store(float *p, Reg v, int64_t) { *p = v; }
  static Reg set1(float x) { return x; }
  static Reg add(Reg a, Reg b) { return a + b; }
  static Reg sub(Reg a, Reg b) { return a - b; }
  static Reg mul(Reg a, Reg b) { return a * b; }
  static Reg div(Reg a, Reg b) { return a / b; }
  static Reg fma(Reg a, Reg b, Reg c) { return a * b + c; }
  // b when either is NaN, like minps and maxps.
  static Reg min(Reg a, Reg b) { return a < b ? a : b; }
  static Reg max(Reg a, Reg b) { return a > b ? a : b; }
  static Reg abs(Reg a) { return __builtin_fabsf(a); }
  static Reg copySign(Reg mag, Reg sign) { return __builtin_copysignf(mag, sign); }
  static Mask less(Reg a, Reg b) { return a < b; }
  static Reg select(Mask m, Reg a, Reg b) { return m ? a : b; }
  static Reg loadOr(const float *p, int64_t, float) { return *p; }
  static Reg roundNearest(Reg a) { return __builtin_nearbyintf(a); }
  // (int)NaN is undefined: a NaN n leaves a, which is NaN then too.
  static Reg scaleByPowerOf2(Reg a, Reg n) { return n == n ? __builtin_ldexpf(a, int(n)) : a; }
  static float reduceMax(Reg a) { return a; }
  static float reduceAdd(Reg a) { return a; }
};

} // namespace

const GemmMicroKernel gemmPortableKernel = {
    "portable", MR, NR, 256, 1024, kernel, packAPanel<MR>, packBPanels<NR>, epilogueStrip<Vec>,
    softmaxRows<Vec>, softmaxToPanel<Vec, MR>,
    layerNormRows<Vec>, nullptr, nullptr};

} // namespace kiln
