//===- QGemmAvxVnni.cpp - int8 micro-kernel for AVX-VNNI ------------------===//
//
// Built with -mavx2 -mfma -mavxvnni; only called when the CPU has them (the
// VEX `vpdpbusd` of Alder Lake and later without AVX-512). A 6 x 16 tile,
// one panel of B: 12 ymm accumulators, 2 loads of B and 6 broadcasts of A
// per group of k, in 16 registers. Dequantization and row quantization are
// the AVX2 family's.
//
//===----------------------------------------------------------------------===//

#include "GemmKernels.h"
#include "QGemmTile.h"

#include <immintrin.h>

namespace kiln {
namespace {

constexpr int MR = 6;

struct Vec {
  static constexpr int kLanes = 8;
  static constexpr int kAGroupBytes = 4;
  using Acc = __m256i;
  using A = __m256i;
  using B = __m256i;
  static Acc zero() { return _mm256_setzero_si256(); }
  static B loadB(const int8_t *p) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p));
  }
  static A broadcastA(const uint8_t *p) {
    int32_t x;
    std::memcpy(&x, p, 4);
    return _mm256_set1_epi32(x);
  }
  static Acc dot(Acc acc, A a, B b) { return _mm256_dpbusd_avx_epi32(acc, a, b); }
  static void store(int32_t *p, Acc acc) {
    _mm256_store_si256(reinterpret_cast<__m256i *>(p), acc);
  }
  static void dequantize(const int32_t *s, const int32_t *colSum, QGemmRow q, const float *bScale,
                         float *c, int64_t count, bool accumulate) {
    qgemmDequantizeAvx2(s, colSum, q, bScale, c, count, accumulate);
  }
};

void kernel(const QGemmTile &t) { qgemmRows<Vec, MR, 2>(t); }

} // namespace

const QGemmMicroKernel qgemmAvxVnniKernel = {
    "avxvnni", MR,      16, kernel, qgemmQuantizeAvx2, nullptr, &gemmAvx2Kernel,
    qgemmDequantize16Avx2};

} // namespace kiln
