//===- bf16_bench.cpp - Kiln's bf16 GEMM against its fp32 GEMM ------------===//
//
// Times kiln::gemm with a bf16 B (kiln_gemm_desc::b_type, B packed by
// kiln_bf16_pack_b, A fp32 and rounded inside the call) next to the same
// call with an fp32 B prepacked for the fp32 kernel, on BERT-base's
// projection shapes: M = 128 (and --rows) tokens by N x K = 768 x 768,
// 3072 x 768 (MLP up) and 768 x 3072 (MLP down). A multiply-add counts as
// 2 operations. Each rate is from --trials trials taking --seconds in all:
// the median trial (the machines are shared) and the best one. On one
// thread calls are timed by the thread's CPU time, on several by wall time.
// Before timing, a sample of the bf16 C is checked against the fp32 one
// (relative 1e-2: bf16 inputs keep 8 bits).
//
//   kiln-bf16-bench [--rows=128] [--threads=1] [--seconds=1] [--trials=21]
//
// KILN_GEMM_KERNEL picks the kernels as in the runtime (portable: the
// portable bf16 kernel too). The output is a Markdown table.
//
//===----------------------------------------------------------------------===//
#include "ThreadPool.h"
#include "kernels/Gemm.h"
#include "kiln/kiln_abi.h"
#include "kiln/kiln_bf16_pack.h"

#include "call_timing.h"

#include <algorithm>
#include <chrono>
#include <cmath>
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

using kiln_bench::alignedArray;

bool gCpuTime = true;

std::pair<double, double> timeCalls(const std::function<void()> &call, double seconds,
                                    int trials) {
  return kiln_bench::timeCalls(call, seconds, trials, gCpuTime);
}

struct Row {
  double fp32Median, fp32Best, bf16Median, bf16Best;
  bool checked;
};

Row measure(int64_t m, int64_t n, int64_t k, kiln::ThreadPool *pool, const kiln_bench::CallOptions &o) {
  std::mt19937 rng(unsigned(m * 31 + n * 7 + k));
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  auto a = alignedArray<float>(size_t(m * k));
  auto b = alignedArray<float>(size_t(k * n));
  for (int64_t i = 0; i < m * k; ++i)
    a[size_t(i)] = uniform(rng);
  for (int64_t i = 0; i < k * n; ++i)
    b[size_t(i)] = uniform(rng);
  auto c32 = alignedArray<float>(size_t(m * n)), c16 = alignedArray<float>(size_t(m * n));

  const int64_t panel = kiln::gemmPanelWidth();
  auto b32 = alignedArray<float>(size_t((n + panel - 1) / panel * panel * k));
  kiln::prepackB(b.get(), n, 1, k, n, panel, b32.get());
  auto b16 = alignedArray<uint16_t>(size_t(kiln_bf16_packed_size(k, n, KILN_BF16_PANEL)));
  kiln_bf16_pack_b(b.get(), n, 1, k, n, KILN_BF16_PANEL, b16.get());

  kiln_gemm_desc g{};
  g.m = m;
  g.n = n;
  g.k = k;
  g.a = a.get();
  g.a_rs = k;
  g.a_cs = 1;
  g.ldc = n;
  g.batch[0] = g.batch[1] = 1;
  kiln_gemm_desc g32 = g, g16 = g;
  g32.b = b32.get();
  g32.b_panel = panel;
  g32.c = c32.get();
  g16.b = reinterpret_cast<const float *>(b16.get());
  g16.b_panel = KILN_BF16_PANEL;
  g16.b_type = KILN_DTYPE_BFLOAT16;
  g16.c = c16.get();

  kiln::gemm(g32, pool);
  kiln::gemm(g16, pool);
  bool checked = true;
  for (int s = 0; s < 256; ++s) {
    const size_t at = size_t(rng() % uint64_t(m * n));
    checked = checked && std::fabs(c16[at] - c32[at]) <= 1e-2 * std::sqrt(double(k));
  }
  const double ops = 2.0 * double(m) * double(n) * double(k) * 1e-9;
  const auto t32 = timeCalls([&] { kiln::gemm(g32, pool); }, o.seconds, o.trials);
  const auto t16 = timeCalls([&] { kiln::gemm(g16, pool); }, o.seconds, o.trials);
  return {ops / t32.first, ops / t32.second, ops / t16.first, ops / t16.second, checked};
}

} // namespace

int main(int argc, char **argv) {
  const kiln_bench::CallOptions o = kiln_bench::parseCallOptions(argc, argv, "kiln-bf16-bench");
  std::unique_ptr<kiln::ThreadPool> pool;
  if (o.threads > 1)
    pool.reset(new kiln::ThreadPool(o.threads));
  gCpuTime = o.threads == 1;
  std::printf("bf16 kernel %s, fp32 kernel %s, %u thread%s, timed by %s; GFLOP/s median (best) "
              "of %d trials\n\n",
              kiln::gemmBf16KernelName(), kiln::sgemmKernelName(), o.threads,
              o.threads == 1 ? "" : "s", gCpuTime ? "thread CPU time" : "wall clock", o.trials);
  std::printf("| M | N | K | fp32 GFLOP/s | bf16 GFLOP/s | bf16 / fp32 |\n");
  std::printf("|---|---|---|--:|--:|--:|\n");
  const int64_t shapes[][2] = {{768, 768}, {3072, 768}, {768, 3072}}; // N, K
  bool ok = true;
  for (int64_t m : o.rows)
    for (const auto &nk : shapes) {
      const Row r = measure(m, nk[0], nk[1], pool.get(), o);
      ok = ok && r.checked;
      std::printf("| %lld | %lld | %lld | %.1f (%.1f) | %.1f (%.1f) | %.2fx |%s\n", (long long)m,
                  (long long)nk[0], (long long)nk[1], r.fp32Median, r.fp32Best, r.bf16Median,
                  r.bf16Best, r.bf16Median / r.fp32Median, r.checked ? "" : " WRONG RESULT");
      std::fflush(stdout);
    }
  return ok ? 0 : 1;
}
