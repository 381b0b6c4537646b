//===- gemm_bench.cpp - Kiln's fp32 GEMM against OpenBLAS and the FMA peak ===//
//
// A Google Benchmark micro-benchmark of the runtime's GEMM on the shapes of
// Transformer inference (M = tokens: 32, 128, 197, 384; K, N = 192, 768,
// 3072: the hidden and MLP sizes of BERT-tiny..base and ViT) and on squares
// (256..2048), at 1 and 2 threads, row-major, no transposes:
//
//   C (M x N) = A (M x K) * B (K x N), fp32, inputs uniform in [-1, 1].
//
// Variants:
//   openblas        cblas_sgemm(RowMajor, NoTrans, NoTrans), threads set with
//                   openblas_set_num_threads(T)
//   kiln            kiln::sgemm on a kiln::ThreadPool(T): B is packed into
//                   panels inside every call (what a weight that the
//                   compiler did not prepack costs)
//   kiln_prepacked  kiln::gemm with b_panel set: B prepacked once, outside
//                   the timed loop, with kiln::prepackB(..., gemmPanelWidth())
//
// Counters: GFLOPS (2*M*N*K per iteration over wall time) and pct_peak (the
// same as a percentage of the machine's fp32 FMA peak at T threads, measured
// at start-up by fma_peak.cpp). Every (variant, shape, threads) is checked
// once, outside the timing, against OpenBLAS's result (max |C - ref| over
// max |ref| at most 1e-4); a mismatch fails that benchmark (SkipWithError).
//
// Extra flags, after Google Benchmark's own:
//   --threads=1,2        thread counts (default 1,2)
//   --shapes=all         all | transformer | minilm | square
//   --peak_seconds=0.2   length of one FMA-peak trial
//   --peak_trials=5      trials per thread count (the best one is the peak)
//   --tolerance=1e-4     of the check against OpenBLAS
//
// The peak at T threads is the best trial; if that is under 90% of T times
// the 1-thread peak (another job had a core during the trials: the machines
// are shared), T times the 1-thread peak is used instead, and the context
// says so (fma_peak_note).
//
// bench/gemm/gemm_table.py runs this with repetitions and writes the table;
// bench/README.md describes it.
//
//===----------------------------------------------------------------------===//
#include "ThreadPool.h"
#include "kernels/Gemm.h"

#include "fma_peak.h"

#include <benchmark/benchmark.h>
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "kiln/kiln_abi.h"

// kiln_prepacked needs kiln::gemm, gemmPanelWidth and prepackB (runtime ABI
// 5); CMakeLists.txt sets this to 0 for a runtime without them.
#ifndef KILN_BENCH_PREPACKED
#define KILN_BENCH_PREPACKED 1
#endif

namespace {

double gRelTolerance = 1e-4; // --tolerance

struct Shape {
  int64_t m, k, n;
};

enum class Variant { OpenBlas, Kiln, KilnPrepacked };

const char *variantName(Variant v) {
  switch (v) {
  case Variant::OpenBlas:
    return "openblas";
  case Variant::Kiln:
    return "kiln";
  case Variant::KilnPrepacked:
    return "kiln_prepacked";
  }
  return "?";
}

// 64-byte aligned floats (the start of every operand on a cache line, for
// all three variants alike).
struct FloatBuffer {
  struct Free {
    void operator()(float *p) const { std::free(p); }
  };
  std::unique_ptr<float, Free> data;
  size_t size = 0;

  FloatBuffer() = default;
  explicit FloatBuffer(size_t n) : size(n) {
    const size_t bytes = (std::max<size_t>(n, 1) * sizeof(float) + 63) / 64 * 64;
    data.reset(static_cast<float *>(std::aligned_alloc(64, bytes)));
    if (!data) {
      std::fprintf(stderr, "kiln-gemm-bench: error: out of memory (%zu bytes)\n", bytes);
      std::exit(1);
    }
  }
  float *get() const { return data.get(); }
};

// The operands of one shape: A, B, OpenBLAS's C (the reference), B
// prepacked for kiln::gemm, and the C the benchmarks write. Benchmarks are
// registered shape by shape, so only the latest shape is kept.
struct Operands {
  Shape shape{0, 0, 0};
  FloatBuffer a, b, ref, c;
  FloatBuffer bPacked; // empty until a kiln_prepacked benchmark needs it
  int64_t panel = 0;
};

void fillUniform(float *p, size_t n, uint64_t seed) {
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13; // xorshift64
    x ^= x >> 7;
    x ^= x << 17;
    // 24 random bits -> [-1, 1)
    p[i] = static_cast<float>(static_cast<double>(x >> 40) * (2.0 / 16777216.0) - 1.0);
  }
}

int gMaxThreads = 2;

void openblasGemm(const Shape &s, const float *a, const float *b, float *c) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, static_cast<blasint>(s.m),
              static_cast<blasint>(s.n), static_cast<blasint>(s.k), 1.0f, a,
              static_cast<blasint>(s.k), b, static_cast<blasint>(s.n), 0.0f, c,
              static_cast<blasint>(s.n));
}

Operands &operandsFor(const Shape &s) {
  static Operands op;
  if (op.shape.m == s.m && op.shape.k == s.k && op.shape.n == s.n)
    return op;
  op = Operands();
  op.shape = s;
  op.a = FloatBuffer(size_t(s.m * s.k));
  op.b = FloatBuffer(size_t(s.k * s.n));
  op.ref = FloatBuffer(size_t(s.m * s.n));
  op.c = FloatBuffer(size_t(s.m * s.n));
  const uint64_t seed = uint64_t(s.m) * 1000003u + uint64_t(s.k) * 1009u + uint64_t(s.n);
  fillUniform(op.a.get(), op.a.size, seed);
  fillUniform(op.b.get(), op.b.size, seed + 1);
  std::fill_n(op.c.get(), op.c.size, 0.0f);
  openblas_set_num_threads(gMaxThreads);
  openblasGemm(s, op.a.get(), op.b.get(), op.ref.get());
  return op;
}

#if KILN_BENCH_PREPACKED
void ensurePrepacked(Operands &op) {
  if (op.bPacked.get())
    return;
  const Shape &s = op.shape;
  op.panel = kiln::gemmPanelWidth();
  const int64_t panels = (s.n + op.panel - 1) / op.panel;
  op.bPacked = FloatBuffer(size_t(panels * s.k * op.panel));
  kiln::prepackB(op.b.get(), s.n, 1, s.k, s.n, op.panel, op.bPacked.get());
}
#endif

// max |c - ref| / max |ref|; +inf if c has a NaN or an infinity.
double relativeError(const float *c, const float *ref, size_t n) {
  double maxDiff = 0, maxRef = 0;
  for (size_t i = 0; i < n; ++i) {
    const double d = std::fabs(double(c[i]) - double(ref[i]));
    if (!std::isfinite(c[i]))
      return INFINITY;
    maxDiff = std::max(maxDiff, d);
    maxRef = std::max(maxRef, std::fabs(double(ref[i])));
  }
  return maxDiff / std::max(maxRef, 1e-30);
}

kiln::ThreadPool &kilnPool(int threads) {
  static std::map<int, std::unique_ptr<kiln::ThreadPool>> pools;
  auto &p = pools[threads];
  if (!p)
    p = std::make_unique<kiln::ThreadPool>(unsigned(threads));
  return *p;
}

std::vector<double> gPeakGflops; // by thread count; 0: not measured

// OpenBLAS's idle workers spin (yielding) for about 0.1 s after a
// multi-threaded call before they sleep; on a 2-core machine that steals
// time from whatever runs next. Kiln's benchmarks wait this out, untimed.
std::chrono::steady_clock::time_point gOpenBlasWorkersBusyUntil;

void waitForOpenBlasWorkers() {
  std::this_thread::sleep_until(gOpenBlasWorkersBusyUntil);
}

// Verified (variant, shape, threads): the first run checks the result and
// doubles as the warm-up; later runs (the repetitions) reuse its verdict.
std::map<std::tuple<int, int64_t, int64_t, int64_t, int>, std::string> gVerdicts;

void benchGemm(benchmark::State &state, Variant variant, Shape s, int threads) {
  Operands &op = operandsFor(s);
  float *c = op.c.get();
  const float *a = op.a.get(), *b = op.b.get();

  kiln::GemmArgs args{};
  args.m = s.m;
  args.n = s.n;
  args.k = s.k;
  args.a = a;
  args.aRowStride = s.k;
  args.aColStride = 1;
  args.b = b;
  args.bRowStride = s.n;
  args.bColStride = 1;
  args.c = c;
  args.cRowStride = s.n;
  args.accumulate = false;
  kiln::ThreadPool *pool = variant == Variant::OpenBlas ? nullptr : &kilnPool(threads);

#if KILN_BENCH_PREPACKED
  kiln_gemm_desc desc{};
  if (variant == Variant::KilnPrepacked) {
    ensurePrepacked(op);
    desc.m = s.m;
    desc.n = s.n;
    desc.k = s.k;
    desc.a = a;
    desc.a_rs = s.k;
    desc.a_cs = 1;
    desc.b = op.bPacked.get();
    desc.b_rs = 0; // unused with b_panel
    desc.b_cs = 0;
    desc.b_panel = op.panel;
    desc.c = c;
    desc.ldc = s.n;
    desc.accumulate = 0;
    desc.bias = nullptr;
    desc.activation = KILN_GEMM_ACT_NONE;
    desc.residual = nullptr;
    desc.residual_rs = 0;
    desc.batch[0] = desc.batch[1] = 1;
  }
#endif

  auto run = [&] {
    switch (variant) {
    case Variant::OpenBlas:
      openblasGemm(s, a, b, c);
      break;
    case Variant::Kiln:
      kiln::sgemm(args, pool);
      break;
    case Variant::KilnPrepacked:
#if KILN_BENCH_PREPACKED
      kiln::gemm(desc, pool);
#endif
      break;
    }
  };

  if (variant == Variant::OpenBlas)
    openblas_set_num_threads(threads);
  else
    waitForOpenBlasWorkers();

  const auto key = std::make_tuple(int(variant), s.m, s.k, s.n, threads);
  auto verdict = gVerdicts.find(key);
  if (verdict == gVerdicts.end()) {
    std::fill_n(c, op.c.size, NAN);
    run();
    const double err = relativeError(c, op.ref.get(), op.c.size);
    std::string message;
    if (!(err <= gRelTolerance)) {
      char buf[256];
      std::snprintf(buf, sizeof buf,
                    "%s result differs from the reference (OpenBLAS's): max|C-ref|/max|ref| = "
                    "%.3g > %.1g",
                    variantName(variant), err, gRelTolerance);
      message = buf;
    }
    verdict = gVerdicts.emplace(key, message).first;
  }
  if (!verdict->second.empty()) {
    state.SkipWithError(verdict->second.c_str());
    return;
  }

  for (auto _ : state) {
    run();
    benchmark::ClobberMemory();
  }

  if (variant == Variant::OpenBlas && threads > 1)
    gOpenBlasWorkersBusyUntil = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);

  const double flops = 2.0 * double(s.m) * double(s.n) * double(s.k);
  state.counters["GFLOPS"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  const double peak = size_t(threads) < gPeakGflops.size() ? gPeakGflops[size_t(threads)] : 0;
  if (peak > 0)
    state.counters["pct_peak"] =
        benchmark::Counter(flops * 1e-9 * 100.0 / peak, benchmark::Counter::kIsIterationInvariantRate);
}

std::vector<Shape> shapesFor(const std::string &which) {
  std::vector<Shape> shapes;
  if (which == "all" || which == "transformer")
    for (int64_t m : {32, 128, 197, 384})
      for (int64_t k : {192, 768, 3072})
        for (int64_t n : {192, 768, 3072})
          shapes.push_back({m, k, n});
  if (which == "all" || which == "minilm")
    for (const Shape &s : {Shape{128, 384, 1152}, Shape{128, 384, 384}, Shape{128, 384, 1536},
                           Shape{128, 1536, 384}})
      shapes.push_back(s);
  if (which == "all" || which == "square")
    for (int64_t d : {256, 512, 1024, 2048})
      shapes.push_back({d, d, d});
  return shapes;
}

bool startsWith(const char *s, const char *prefix, const char **rest) {
  const size_t n = std::strlen(prefix);
  if (std::strncmp(s, prefix, n) != 0)
    return false;
  *rest = s + n;
  return true;
}

std::string cpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      return colon == std::string::npos ? line : line.substr(colon + 2);
    }
  return "unknown";
}

std::string fmt(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

} // namespace

int main(int argc, char **argv) {
  benchmark::Initialize(&argc, argv);

  std::vector<int> threadCounts = {1, 2};
  std::string shapes = "all";
  double peakSeconds = 0.2;
  int peakTrials = 5;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    const char *rest = nullptr;
    if (startsWith(argv[i], "--threads=", &rest)) {
      threadCounts.clear();
      for (const char *p = rest; *p;) {
        char *end = nullptr;
        const long t = std::strtol(p, &end, 10);
        if (end == p || t < 1 || t > 1024) {
          std::fprintf(stderr, "kiln-gemm-bench: error: bad --threads=%s\n", rest);
          return 2;
        }
        threadCounts.push_back(int(t));
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') {
          std::fprintf(stderr, "kiln-gemm-bench: error: bad --threads=%s\n", rest);
          return 2;
        }
      }
    } else if (startsWith(argv[i], "--shapes=", &rest)) {
      shapes = rest;
      if (shapesFor(shapes).empty()) {
        std::fprintf(stderr, "kiln-gemm-bench: error: --shapes is all, transformer, minilm or square\n");
        return 2;
      }
    } else if (startsWith(argv[i], "--peak_seconds=", &rest)) {
      peakSeconds = std::atof(rest);
    } else if (startsWith(argv[i], "--peak_trials=", &rest)) {
      peakTrials = std::atoi(rest);
    } else if (startsWith(argv[i], "--tolerance=", &rest)) {
      gRelTolerance = std::atof(rest);
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 2;
  if (threadCounts.empty())
    threadCounts = {1};
  gMaxThreads = *std::max_element(threadCounts.begin(), threadCounts.end());

  // The FMA peak at every thread count, before anything else runs.
  gPeakGflops.assign(size_t(gMaxThreads) + 1, 0.0);
  const char *isa = kiln_bench::widestFmaIsa();
  benchmark::AddCustomContext("cpu_model", cpuModel());
  benchmark::AddCustomContext("fma_peak_isa", isa ? isa : "none");
  benchmark::AddCustomContext("kiln_gemm_kernel", kiln::sgemmKernelName());
#if KILN_BENCH_PREPACKED
  benchmark::AddCustomContext("kiln_gemm_panel_width", std::to_string(kiln::gemmPanelWidth()));
#else
  benchmark::AddCustomContext("kiln_gemm_panel_width", "none: no kiln_prepacked (no kiln::prepackB in this build)");
#endif
  benchmark::AddCustomContext("openblas_config", openblas_get_config());
  benchmark::AddCustomContext("openblas_corename", openblas_get_corename());
  if (isa && peakTrials > 0 && peakSeconds > 0) {
    std::vector<int> counts = threadCounts;
    counts.push_back(1); // the yardstick for the others
    std::sort(counts.begin(), counts.end());
    counts.erase(std::unique(counts.begin(), counts.end()), counts.end());
    std::string note;
    for (int t : counts) {
      const double measured = kiln_bench::measureFmaPeakGflops(t, peakSeconds, peakTrials);
      double peak = measured;
      if (t > 1 && measured < 0.9 * t * gPeakGflops[1]) {
        peak = t * gPeakGflops[1];
        char buf[200];
        std::snprintf(buf, sizeof buf,
                      "%sT%d measured %.1f GFLOP/s (< 90%% of %d x T1: cores busy), using %d x T1",
                      note.empty() ? "" : "; ", t, measured, t, t);
        note += buf;
      }
      gPeakGflops[size_t(t)] = peak;
      benchmark::AddCustomContext("fma_peak_gflops_T" + std::to_string(t), fmt(peak));
      benchmark::AddCustomContext("fma_peak_measured_gflops_T" + std::to_string(t), fmt(measured));
      std::fprintf(stderr, "FMA peak (%s, %d thread%s): %.1f GFLOP/s measured, %.1f used\n", isa,
                   t, t == 1 ? "" : "s", measured, peak);
    }
    if (!note.empty())
      benchmark::AddCustomContext("fma_peak_note", note);
  }

  for (const Shape &s : shapesFor(shapes))
    for (int t : threadCounts)
      for (Variant v : {Variant::OpenBlas, Variant::Kiln, Variant::KilnPrepacked}) {
        if (v == Variant::KilnPrepacked && !KILN_BENCH_PREPACKED)
          continue;
        const std::string name = std::string(variantName(v)) + "/M:" + std::to_string(s.m) +
                                 "/K:" + std::to_string(s.k) + "/N:" + std::to_string(s.n) +
                                 "/T:" + std::to_string(t);
        benchmark::RegisterBenchmark(name.c_str(),
                                     [v, s, t](benchmark::State &st) { benchGemm(st, v, s, t); })
            ->MinTime(0.1)
            ->UseRealTime()
            ->Unit(benchmark::kMicrosecond);
      }

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
