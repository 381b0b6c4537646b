//===- peak_common.h - What the peak probes share ---------------*- C++ -*-===//
//
// Shared by fma_peak.cpp, vnni_peak.cpp and qgemm_bench.cpp: a clock that
// leaves out the time other processes had the core, and how many
// iterations of a chain function take about a given time.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_BENCH_GEMM_PEAK_COMMON_H
#define KILN_BENCH_GEMM_PEAK_COMMON_H

#include <chrono>
#include <ctime>

namespace kiln_bench {

/// The calling thread's CPU time in seconds (wall time if the system has
/// no such clock): on a shared machine, what another job took is not ours.
inline double threadCpuSeconds() {
  timespec t;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) == 0)
    return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// Runs `chains` on 4x more iterations until a run takes over 20 ms, then
/// scales the count to `seconds`; each result goes to `sink`.
template <class Chains, class Sink, class Clock>
long calibrateIterations(Chains chains, Sink &sink, Clock now, double seconds) {
  long iters = 1 << 16;
  for (;;) {
    const double t0 = now();
    sink = chains(iters);
    const double dt = now() - t0;
    if (dt > 0.02 || iters > (1L << 40))
      return static_cast<long>(static_cast<double>(iters) * seconds / dt) + 1;
    iters *= 4;
  }
}

/// The best of `trials` runs of about `seconds` each of `chains` on the
/// calling thread, by its CPU time, in G per second of `opsPerIteration`.
template <class Chains, class Sink>
double bestRateThisThread(Chains chains, Sink &sink, double opsPerIteration, double seconds,
                          int trials) {
  const long iters = calibrateIterations(chains, sink, threadCpuSeconds, seconds);
  double best = 0;
  for (int t = 0; t < trials; ++t) {
    const double t0 = threadCpuSeconds();
    sink = chains(iters);
    const double rate =
        opsPerIteration * static_cast<double>(iters) / (threadCpuSeconds() - t0) * 1e-9;
    best = rate > best ? rate : best;
  }
  return best;
}

} // namespace kiln_bench

#endif // KILN_BENCH_GEMM_PEAK_COMMON_H
