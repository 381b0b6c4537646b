//===- call_timing.h - What the GEMM-call benchmarks share ------*- C++ -*-===//
//
// Shared by bf16_bench.cpp and sparse_gemm_bench.cpp: their flags
// (--rows, --threads, --seconds, --trials), the timing of one call (the
// median and the best of several trials; on one thread by the thread's CPU
// time, which leaves out what other processes took, on several by wall
// time) and 64-byte aligned arrays.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_BENCH_GEMM_CALL_TIMING_H
#define KILN_BENCH_GEMM_CALL_TIMING_H

#include "peak_common.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace kiln_bench {

struct CallOptions {
  std::vector<int64_t> rows = {128};
  unsigned threads = 1;
  double seconds = 1.0;
  int trials = 21;
};

inline bool parseFlag(const char *arg, const char *name, std::string &value) {
  const size_t len = std::strlen(name);
  if (std::strncmp(arg, name, len) != 0 || arg[len] != '=')
    return false;
  value = arg + len + 1;
  return true;
}

/// The flags above; anything else ends the program (status 2), naming `tool`.
inline CallOptions parseCallOptions(int argc, char **argv, const char *tool) {
  CallOptions o;
  for (int i = 1; i < argc; ++i) {
    std::string v;
    if (parseFlag(argv[i], "--rows", v)) {
      o.rows.clear();
      for (size_t at = 0; at <= v.size();) {
        const size_t comma = std::min(v.find(',', at), v.size());
        o.rows.push_back(std::atoll(v.substr(at, comma - at).c_str()));
        at = comma + 1;
      }
    } else if (parseFlag(argv[i], "--threads", v)) {
      o.threads = unsigned(std::atoi(v.c_str()));
    } else if (parseFlag(argv[i], "--seconds", v)) {
      o.seconds = std::atof(v.c_str());
    } else if (parseFlag(argv[i], "--trials", v)) {
      o.trials = std::atoi(v.c_str());
    } else {
      std::fprintf(stderr, "%s: unknown argument '%s'\n", tool, argv[i]);
      std::exit(2);
    }
  }
  return o;
}

/// Seconds by the thread's CPU time (cpuTime) or the wall clock.
inline double callClock(bool cpuTime) {
  if (cpuTime)
    return threadCpuSeconds();
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// The median and the best, over `trials` trials taking about `seconds`
/// in all, of the mean time of one call.
inline std::pair<double, double> timeCalls(const std::function<void()> &call, double seconds,
                                           int trials, bool cpuTime) {
  call(); // warm-up: buffers, caches, pages
  const double t0 = callClock(cpuTime);
  call();
  const double once = std::max(callClock(cpuTime) - t0, 1e-7);
  const long reps = std::max(1L, long(seconds / trials / once));
  std::vector<double> times;
  for (int t = 0; t < trials; ++t) {
    const double start = callClock(cpuTime);
    for (long r = 0; r < reps; ++r)
      call();
    times.push_back((callClock(cpuTime) - start) / double(reps));
  }
  std::sort(times.begin(), times.end());
  return {times[times.size() / 2], times.front()};
}

template <class T> std::unique_ptr<T[], void (*)(T *)> alignedArray(size_t count) {
  void *p = std::aligned_alloc(64, (count * sizeof(T) + 63) / 64 * 64);
  return {static_cast<T *>(p), [](T *q) { std::free(q); }};
}

} // namespace kiln_bench

#endif // KILN_BENCH_GEMM_CALL_TIMING_H
