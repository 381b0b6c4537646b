//===- qgemm_bench.cpp - Kiln's int8 GEMM against the VNNI peak -----------===//
//
// Times kiln::qgemm (kiln_qgemm_desc, B prepacked by kiln_qgemm_pack_b) on
// BERT-base's projection shapes, M = 128 and 512 tokens by N x K = 768 x 768,
// 3072 x 768 (MLP up) and 768 x 3072 (MLP down), next to the fp32
// kiln::gemm with B prepacked for its kernel on the same shapes:
//
//   int8 dynamic  A float, quantized per row inside the call
//   int8 uint8    A already uint8 (per-tensor scale and zero point)
//   fp32          kiln::gemm, b_panel = gemmPanelWidth()
//
// Rates count a multiply-add as 2 operations: int8 GOP/s against the
// measured `vpdpbusd` peak (vnni_peak.cpp), fp32 GFLOP/s against the
// measured FMA peak (fma_peak.cpp), both measured on one thread by its CPU
// time and multiplied by the thread count. On one thread, calls are timed
// by the thread's CPU time too, on several by wall time. Each
// rate is the best of --trials trials that take --seconds in all, each
// peak the best of --peak_trials trials of --peak_seconds each. Before
// timing, 256 entries of the uint8 variant's C are checked against an int64
// reference (exactly).
//
//   kiln-qgemm-bench [--rows=128,512] [--threads=1] [--seconds=0.5]
//                    [--trials=25] [--peak_seconds=0.02] [--peak_trials=25]
//
// KILN_QGEMM_KERNEL and KILN_GEMM_KERNEL pick the micro-kernels as in the
// runtime. The output is a Markdown table.
//
//===----------------------------------------------------------------------===//
#include "ThreadPool.h"
#include "kernels/Gemm.h"
#include "kernels/QGemm.h"
#include "kiln/kiln_abi.h"
#include "kiln/kiln_qgemm_pack.h"

#include "call_timing.h"
#include "fma_peak.h"
#include "peak_common.h"
#include "vnni_peak.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

struct Options {
  std::vector<int64_t> rows = {128, 512};
  unsigned threads = 1;
  // Many short trials: on a shared machine the best of them is the one
  // nobody else disturbed.
  double seconds = 0.5, peakSeconds = 0.02;
  int trials = 25, peakTrials = 25;
};

using kiln_bench::alignedArray;
using kiln_bench::parseFlag;

Options parse(int argc, char **argv) {
  Options o;
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
    } else if (parseFlag(argv[i], "--peak_seconds", v)) {
      o.peakSeconds = std::atof(v.c_str());
    } else if (parseFlag(argv[i], "--peak_trials", v)) {
      o.peakTrials = std::atoi(v.c_str());
    } else {
      std::fprintf(stderr, "kiln-qgemm-bench: unknown argument '%s'\n", argv[i]);
      std::exit(2);
    }
  }
  return o;
}

/// On one thread, the thread's CPU time: the machines are shared, and time
/// another process had the core is not the GEMM's. On several, wall time.
bool gCpuTime = true;

double now() {
  if (gCpuTime)
    return kiln_bench::threadCpuSeconds();
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// The best, over `trials` trials taking about `seconds` in all, of the
/// mean time of one call.
double bestSeconds(const std::function<void()> &call, double seconds, int trials) {
  call(); // warm-up: buffers, caches, pages
  const double t0 = now();
  call();
  const double once = std::max(now() - t0, 1e-7);
  const long reps = std::max(1L, long(seconds / trials / once));
  double best = 1e30;
  for (int t = 0; t < trials; ++t) {
    const double start = now();
    for (long r = 0; r < reps; ++r)
      call();
    best = std::min(best, (now() - start) / double(reps));
  }
  return best;
}

struct Row {
  int64_t m, n, k;
  double dynamicGops, uint8Gops, fp32Gflops;
  bool checked;
};

Row measure(int64_t m, int64_t n, int64_t k, kiln::ThreadPool *pool, const Options &o) {
  std::mt19937 rng(unsigned(m * 31 + n * 7 + k));
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::uniform_int_distribution<int> u8(0, 255), s8(-128, 127);
  auto af = alignedArray<float>(size_t(m * k));
  auto au = alignedArray<uint8_t>(size_t(m * k));
  auto bf = alignedArray<float>(size_t(k * n));
  std::vector<int8_t> bq(size_t(k * n));
  for (int64_t i = 0; i < m * k; ++i) {
    af[size_t(i)] = uniform(rng);
    au[size_t(i)] = uint8_t(u8(rng));
  }
  for (int64_t i = 0; i < k * n; ++i) {
    bf[size_t(i)] = uniform(rng);
    bq[size_t(i)] = int8_t(s8(rng));
  }
  auto packed = alignedArray<uint8_t>(size_t(kiln_qgemm_packed_size(k, n)));
  kiln_qgemm_pack_b(bq.data(), n, 1, k, n, packed.get());
  std::vector<float> bScale(size_t(n), 0.01f);
  const float aScale = 0.02f;
  const uint8_t aZero = 128;
  auto c = alignedArray<float>(size_t(m * n));

  kiln_qgemm_desc q{};
  q.m = m;
  q.n = n;
  q.k = k;
  q.a_rs = k;
  q.a_cs = 1;
  q.a_scale = &aScale;
  q.a_zero_point = &aZero;
  q.b = packed.get();
  q.b_scale = bScale.data();
  q.c = c.get();
  q.ldc = n;
  q.batch[0] = q.batch[1] = 1;

  // The uint8 variant, checked on a sample of C against int64 sums.
  q.a = au.get();
  q.a_type = KILN_DTYPE_UINT8;
  kiln::qgemm(q, pool);
  bool checked = true;
  for (int s = 0; s < 256; ++s) {
    const int64_t i = rng() % m, j = rng() % n;
    int64_t sum = 0;
    for (int64_t p = 0; p < k; ++p)
      sum += (int64_t(au[size_t(i * k + p)]) - aZero) * bq[size_t(p * n + j)];
    checked = checked && c[size_t(i * n + j)] == float(sum) * (aScale * bScale[size_t(j)]);
  }
  const double ops = 2.0 * double(m) * double(n) * double(k);
  const double uint8Time = bestSeconds([&] { kiln::qgemm(q, pool); }, o.seconds, o.trials);
  q.a = af.get();
  q.a_type = KILN_DTYPE_FLOAT32;
  q.a_scale = nullptr; // per row, at run time (a scale would make it static)
  q.a_zero_point = nullptr;
  const double dynamicTime = bestSeconds([&] { kiln::qgemm(q, pool); }, o.seconds, o.trials);

  const int64_t panel = kiln::gemmPanelWidth();
  auto bPacked = alignedArray<float>(size_t((n + panel - 1) / panel * panel * k));
  kiln::prepackB(bf.get(), n, 1, k, n, panel, bPacked.get());
  kiln_gemm_desc g{};
  g.m = m;
  g.n = n;
  g.k = k;
  g.a = af.get();
  g.a_rs = k;
  g.a_cs = 1;
  g.b = bPacked.get();
  g.b_panel = panel;
  g.c = c.get();
  g.ldc = n;
  g.batch[0] = g.batch[1] = 1;
  const double fp32Time = bestSeconds([&] { kiln::gemm(g, pool); }, o.seconds, o.trials);
  return {m,      n, k, ops / dynamicTime * 1e-9, ops / uint8Time * 1e-9, ops / fp32Time * 1e-9,
          checked};
}

} // namespace

int main(int argc, char **argv) {
  const Options o = parse(argc, argv);
  std::unique_ptr<kiln::ThreadPool> pool;
  if (o.threads > 1)
    pool.reset(new kiln::ThreadPool(o.threads));
  gCpuTime = o.threads == 1;
  // The peaks are per thread; T threads get T times the one-thread peak.
  const double vnniPeak = kiln_bench::measureVnniPeakGops(o.peakSeconds, o.peakTrials) * o.threads;
  const double fmaPeak =
      kiln_bench::measureFmaPeakGflopsThisThread(o.peakSeconds, o.peakTrials) * o.threads;
  std::printf("int8 kernel %s, fp32 kernel %s, %u thread%s, timed by %s\n", kiln::qgemmKernelName(),
              kiln::sgemmKernelName(), o.threads, o.threads == 1 ? "" : "s",
              gCpuTime ? "thread CPU time" : "wall clock");
  std::printf("measured peaks: %s %.1f GOP/s int8, %s %.1f GFLOP/s fp32\n\n",
              kiln_bench::widestVnniIsa() ? kiln_bench::widestVnniIsa() : "no VNNI", vnniPeak,
              kiln_bench::widestFmaIsa() ? kiln_bench::widestFmaIsa() : "no FMA", fmaPeak);
  std::printf("| M | N | K | int8 dynamic GOP/s | %% VNNI peak | int8 uint8-A GOP/s | %% VNNI "
              "peak | fp32 GFLOP/s | %% FMA peak | int8 / fp32 |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
  const int64_t shapes[][2] = {{768, 768}, {3072, 768}, {768, 3072}}; // N, K
  bool ok = true;
  for (int64_t m : o.rows)
    for (const auto &nk : shapes) {
      const Row r = measure(m, nk[0], nk[1], pool.get(), o);
      ok = ok && r.checked;
      auto pct = [](double rate, double peak) { return peak > 0 ? 100.0 * rate / peak : 0.0; };
      std::printf("| %lld | %lld | %lld | %.1f | %.1f%% | %.1f | %.1f%% | %.1f | %.1f%% | "
                  "%.2fx |%s\n",
                  (long long)r.m, (long long)r.n, (long long)r.k, r.dynamicGops,
                  pct(r.dynamicGops, vnniPeak), r.uint8Gops, pct(r.uint8Gops, vnniPeak),
                  r.fp32Gflops, pct(r.fp32Gflops, fmaPeak), r.dynamicGops / r.fp32Gflops,
                  r.checked ? "" : " WRONG RESULT");
      std::fflush(stdout);
    }
  return ok ? 0 : 1;
}
