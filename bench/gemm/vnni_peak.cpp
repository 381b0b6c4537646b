//===- vnni_peak.cpp - The CPU's measured int8 dot-product peak -----------===//
//
// See vnni_peak.h.
//
//===----------------------------------------------------------------------===//
#include "vnni_peak.h"
#include "peak_common.h"

#include <algorithm>
#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define KILN_BENCH_X86 1
#endif

namespace kiln_bench {
namespace {

// 16 chains: vpdpbusd's latency (4-5 cycles) times 2 per cycle needs ~10.
constexpr int kChains = 16;

volatile int gA = 0x01020304, gB = 0x01FF01FF;
volatile int64_t gSink;

#ifdef KILN_BENCH_X86
// Applies OP to all 16 chains, then an empty asm so that the compiler keeps
// every one (the accumulators stay in registers).
#define KILN_VNNI_STEP(OP)                                                                         \
  c0 = OP(c0, a, b);                                                                               \
  c1 = OP(c1, a, b);                                                                               \
  c2 = OP(c2, a, b);                                                                               \
  c3 = OP(c3, a, b);                                                                               \
  c4 = OP(c4, a, b);                                                                               \
  c5 = OP(c5, a, b);                                                                               \
  c6 = OP(c6, a, b);                                                                               \
  c7 = OP(c7, a, b);                                                                               \
  c8 = OP(c8, a, b);                                                                               \
  c9 = OP(c9, a, b);                                                                               \
  c10 = OP(c10, a, b);                                                                             \
  c11 = OP(c11, a, b);                                                                             \
  c12 = OP(c12, a, b);                                                                             \
  c13 = OP(c13, a, b);                                                                             \
  c14 = OP(c14, a, b);                                                                             \
  c15 = OP(c15, a, b);                                                                             \
  __asm__ volatile("" : "+v"(c0), "+v"(c1), "+v"(c2), "+v"(c3), "+v"(c4), "+v"(c5));               \
  __asm__ volatile("" : "+v"(c6), "+v"(c7), "+v"(c8), "+v"(c9), "+v"(c10), "+v"(c11));             \
  __asm__ volatile("" : "+v"(c12), "+v"(c13), "+v"(c14), "+v"(c15));

#define KILN_VNNI_BODY(VEC, SET1, OP, ADD, LANES)                                                  \
  const VEC a = SET1(gA), b = SET1(gB);                                                            \
  VEC c0 = SET1(0), c1 = SET1(1), c2 = SET1(2), c3 = SET1(3), c4 = SET1(4), c5 = SET1(5);          \
  VEC c6 = SET1(6), c7 = SET1(7), c8 = SET1(8), c9 = SET1(9), c10 = SET1(10);                      \
  VEC c11 = SET1(11), c12 = SET1(12), c13 = SET1(13), c14 = SET1(14), c15 = SET1(15);              \
  for (long i = 0; i < iters; ++i) {                                                               \
    KILN_VNNI_STEP(OP)                                                                             \
  }                                                                                                \
  VEC s = ADD(ADD(ADD(c0, c1), ADD(c2, c3)), ADD(ADD(c4, c5), ADD(c6, c7)));                       \
  s = ADD(s, ADD(ADD(ADD(c8, c9), ADD(c10, c11)), ADD(ADD(c12, c13), ADD(c14, c15))));             \
  alignas(64) int32_t out[LANES];                                                                  \
  std::copy_n(reinterpret_cast<const int32_t *>(&s), LANES, out);                                  \
  int64_t total = 0;                                                                               \
  for (int i = 0; i < LANES; ++i)                                                                  \
    total += out[i];                                                                               \
  return total;

__attribute__((target("avx512f,avx512vnni"))) int64_t chainsAvx512(long iters) {
  KILN_VNNI_BODY(__m512i, _mm512_set1_epi32, _mm512_dpbusd_epi32, _mm512_add_epi32, 16)
}

__attribute__((target("avx2,avxvnni"))) int64_t chainsAvxVnni(long iters) {
  KILN_VNNI_BODY(__m256i, _mm256_set1_epi32, _mm256_dpbusd_avx_epi32, _mm256_add_epi32, 8)
}
#endif

using Chains = int64_t (*)(long);

Chains widestChains(int &lanes) {
#ifdef KILN_BENCH_X86
  if (__builtin_cpu_supports("avx512vnni")) {
    lanes = 16;
    return chainsAvx512;
  }
  if (__builtin_cpu_supports("avxvnni")) {
    lanes = 8;
    return chainsAvxVnni;
  }
#endif
  lanes = 0;
  return nullptr;
}

} // namespace

const char *widestVnniIsa() {
  int lanes = 0;
  widestChains(lanes);
  return lanes == 16 ? "avx512vnni" : lanes == 8 ? "avxvnni" : nullptr;
}

double measureVnniPeakGops(double seconds, int trials) {
  int lanes = 0;
  const Chains chains = widestChains(lanes);
  if (!chains || trials < 1 || seconds <= 0)
    return 0;
  // Each instruction: `lanes` int32 lanes x 4 multiply-adds x 2 ops.
  return bestRateThisThread(chains, gSink, 8.0 * lanes * kChains, seconds, trials);
}

} // namespace kiln_bench
