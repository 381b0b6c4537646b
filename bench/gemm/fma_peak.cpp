//===- fma_peak.cpp - The CPU's measured fp32 FMA peak, in-process --------===//
//
// See fma_peak.h and bench/peak_probe.c (the same chains, as a program).
//
//===----------------------------------------------------------------------===//
#include "fma_peak.h"
#include "peak_common.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define KILN_BENCH_X86 1
#endif

namespace kiln_bench {
namespace {

// 12 chains: FMA latency 4 x 2 ports needs 8; 12 leaves slack and, with a
// and b, fits in 16 vector registers.
constexpr int kChains = 12;

volatile float gA = 0.999999f, gB = 1e-7f;
volatile float gSink;

#ifdef KILN_BENCH_X86
// One body for both ISAs; VEC/SET1/FMA/ADD/STORE/LANES are defined per ISA.
#define KILN_FMA_CHAINS_BODY                                                                  \
  const VEC a = SET1(gA), b = SET1(gB);                                                       \
  VEC c0 = SET1(0.0f), c1 = SET1(0.1f), c2 = SET1(0.2f), c3 = SET1(0.3f);                     \
  VEC c4 = SET1(0.4f), c5 = SET1(0.5f), c6 = SET1(0.6f), c7 = SET1(0.7f);                     \
  VEC c8 = SET1(0.8f), c9 = SET1(0.9f), c10 = SET1(1.0f), c11 = SET1(1.1f);                   \
  for (long i = 0; i < iters; ++i) {                                                          \
    c0 = FMA(c0, a, b);                                                                       \
    c1 = FMA(c1, a, b);                                                                       \
    c2 = FMA(c2, a, b);                                                                       \
    c3 = FMA(c3, a, b);                                                                       \
    c4 = FMA(c4, a, b);                                                                       \
    c5 = FMA(c5, a, b);                                                                       \
    c6 = FMA(c6, a, b);                                                                       \
    c7 = FMA(c7, a, b);                                                                       \
    c8 = FMA(c8, a, b);                                                                       \
    c9 = FMA(c9, a, b);                                                                       \
    c10 = FMA(c10, a, b);                                                                     \
    c11 = FMA(c11, a, b);                                                                     \
    /* Keep the compiler from reasoning across iterations. */                                 \
    __asm__ volatile("" : "+v"(c0), "+v"(c1), "+v"(c2), "+v"(c3), "+v"(c4), "+v"(c5));        \
    __asm__ volatile("" : "+v"(c6), "+v"(c7), "+v"(c8), "+v"(c9), "+v"(c10), "+v"(c11));      \
  }                                                                                           \
  VEC s = ADD(ADD(ADD(c0, c1), ADD(c2, c3)), ADD(ADD(c4, c5), ADD(c6, c7)));                  \
  s = ADD(s, ADD(ADD(c8, c9), ADD(c10, c11)));                                                \
  float out[LANES];                                                                           \
  STORE(out, s);                                                                              \
  float total = 0;                                                                            \
  for (int i = 0; i < LANES; ++i)                                                             \
    total += out[i];                                                                          \
  return total;

__attribute__((target("avx512f"))) float chainsAvx512(long iters) {
#define VEC __m512
#define LANES 16
#define SET1 _mm512_set1_ps
#define FMA _mm512_fmadd_ps
#define ADD _mm512_add_ps
#define STORE _mm512_storeu_ps
  KILN_FMA_CHAINS_BODY
#undef VEC
#undef LANES
#undef SET1
#undef FMA
#undef ADD
#undef STORE
}

__attribute__((target("avx2,fma"))) float chainsAvx2(long iters) {
#define VEC __m256
#define LANES 8
#define SET1 _mm256_set1_ps
#define FMA _mm256_fmadd_ps
#define ADD _mm256_add_ps
#define STORE _mm256_storeu_ps
  KILN_FMA_CHAINS_BODY
#undef VEC
#undef LANES
#undef SET1
#undef FMA
#undef ADD
#undef STORE
}
#endif

using Chains = float (*)(long);

Chains widestChains(int &lanes) {
#ifdef KILN_BENCH_X86
  if (__builtin_cpu_supports("avx512f")) {
    lanes = 16;
    return chainsAvx512;
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    lanes = 8;
    return chainsAvx2;
  }
#endif
  lanes = 0;
  return nullptr;
}

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

} // namespace

const char *widestFmaIsa() {
  int lanes = 0;
  widestChains(lanes);
  return lanes == 16 ? "avx512" : lanes == 8 ? "avx2" : nullptr;
}

double measureFmaPeakGflops(int threads, double seconds, int trials) {
  int lanes = 0;
  const Chains chains = widestChains(lanes);
  if (!chains || threads < 1 || trials < 1 || seconds <= 0)
    return 0;

  // Calibrate on one thread: iterations for about `seconds`.
  const long iters = calibrateIterations(chains, gSink, now, seconds);

  double best = 0;
  for (int t = 0; t < trials; ++t) {
    std::mutex mutex;
    std::condition_variable cv;
    bool go = false;
    std::vector<double> end(static_cast<size_t>(threads), 0.0);
    std::vector<float> result(static_cast<size_t>(threads), 0.0f);
    std::vector<std::thread> pool;
    pool.reserve(static_cast<size_t>(threads));
    for (int i = 0; i < threads; ++i)
      pool.emplace_back([&, i] {
        {
          std::unique_lock<std::mutex> lock(mutex);
          cv.wait(lock, [&] { return go; });
        }
        result[static_cast<size_t>(i)] = chains(iters);
        end[static_cast<size_t>(i)] = now();
      });
    const double t0 = now();
    {
      std::lock_guard<std::mutex> lock(mutex);
      go = true;
    }
    cv.notify_all();
    float sink = 0;
    for (auto &th : pool)
      th.join();
    for (float r : result)
      sink += r;
    gSink = sink;
    const double dt = *std::max_element(end.begin(), end.end()) - t0;
    const double flops = 2.0 * kChains * lanes * static_cast<double>(iters) * threads;
    best = std::max(best, flops / dt * 1e-9);
  }
  return best;
}

double measureFmaPeakGflopsThisThread(double seconds, int trials) {
  int lanes = 0;
  const Chains chains = widestChains(lanes);
  if (!chains || trials < 1 || seconds <= 0)
    return 0;
  return bestRateThisThread(chains, gSink, 2.0 * kChains * lanes, seconds, trials);
}

} // namespace kiln_bench
