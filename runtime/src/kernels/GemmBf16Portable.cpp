//===- GemmBf16Portable.cpp - bf16 GEMM micro-kernel in plain C++ ---------===//
//
// For CPUs without AVX512_BF16, and the definition of the bf16 kernels'
// arithmetic: each packed pair of bf16 products is added to the fp32 sum as
// `vdpbf16ps` adds it (Intel's pseudocode, and what AMD Zen 5 measures to
// the bit), the second step of the pair first, then the first:
//
//   s = ftz(s + A(i, p+1) * B(p+1, j));  s = ftz(s + A(i, p) * B(p, j))
//
// each a single rounding to nearest of the exact value (a product of two
// bf16 values has 16 significant bits, exact in fp32 and double alike), and
// ftz() flushes a subnormal result to zero of its sign. Here the exact sum
// is formed in double, then rounded once to float: exact whenever the two
// terms are within double's reach of each other, and otherwise the smaller
// is far below half a float ulp of the larger, so that the rounding is
// still the correctly rounded one. So a model's sums are the same bits
// on every CPU; only the speed differs: scalar double arithmetic, about 4
// GFLOP/s on a Zen 5 core (AVX512_BF16: 475). A compatibility path; an
// AVX-512F or AVX2 kernel with the same bits (two FMAs per pair, each
// result flushed when subnormal) would be the fast one for older CPUs.
//
// A 4 x 32 tile: the panel width of the AVX512_BF16 kernel, so that B
// prepacked for it (KILN_BF16_PANEL) is read in place here too.
//
//===----------------------------------------------------------------------===//

#include "GemmBf16Pack.h"
#include "GemmKernels.h"
#include "kiln/kiln_bf16_pack.h"

namespace kiln {
namespace {

constexpr int MR = 4;
constexpr int NR = 32;

/// One product of bf16 values `a` and `b` added to s as vdpbf16ps adds it.
inline float addProduct(float s, uint16_t a, uint16_t b) {
  const float r = float(double(s) + double(kiln_bf16_to_float(a)) * double(kiln_bf16_to_float(b)));
  return __builtin_fabsf(r) < 1.17549435e-38f ? __builtin_copysignf(0.0f, r) : r;
}

/// `next` (a panel to prefetch) is not used: this kernel is not tuned for
/// any cache.
void kernel(int64_t kc, const uint16_t *a, const uint16_t *b, float *c, int64_t ldc, int64_t rows,
            int64_t cols, bool accumulate, const uint16_t * /*next*/) {
  float acc[MR][NR] = {};
  for (int64_t p = 0; p < kc; p += 2, a += 2 * MR, b += 2 * NR)
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NR; ++j)
        acc[i][j] = addProduct(addProduct(acc[i][j], a[2 * i + 1], b[2 * j + 1]), a[2 * i], b[2 * j]);

  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      c[i * ldc + j] = accumulate ? c[i * ldc + j] + acc[i][j] : acc[i][j];
}

/// Two packed fp32 rows of W values (a panel of A, W = MR, or of B, W =
/// NR) to W bf16 pairs (GemmBf16Pack.h).
template <int W> struct Pairs {
  static void convert(const float *even, const float *odd, uint16_t *dst) {
    for (int i = 0; i < W; ++i) {
      dst[2 * i] = kiln_bf16_from_float(even[i]);
      dst[2 * i + 1] = kiln_bf16_from_float(odd[i]);
    }
  }
};

} // namespace

const GemmBf16MicroKernel gemmBf16PortableKernel = {
    "portable-bf16",  MR, NR, kGemmBf16Depth, 1024, kernel, packABf16Panel<MR, Pairs<MR>>,
    packBBf16Panels<NR, packABf16Panel<NR, Pairs<NR>>>, nullptr, nullptr};

} // namespace kiln
