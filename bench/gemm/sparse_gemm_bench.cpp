//===- sparse_gemm_bench.cpp - Kiln's sparse GEMM against its dense GEMM --===//
//
// Times kiln::sparseGemm (kiln_sparse_gemm_desc, B packed by
// kiln_sparse_pack.h with blocks of 1 x 4 and of 1 x 1) next to the dense
// fp32 kiln::gemm with the same B prepacked for its kernel, on BERT-base's
// projection shapes: M = 128 (and --rows) tokens by N x K = 768 x 768,
// 3072 x 768 (MLP up) and 768 x 3072 (MLP down), for B pruned in 1x4 blocks
// (the whole block zero or kept) and unstructured (each value alone) at
// several sparsities. Rates are GFLOP/s-equivalent: the dense GEMM's
// 2*M*N*K operations over the time taken, so they compare directly. Each
// is the median of --trials trials (call_timing.h; thread CPU time on one
// thread). Before timing, a sample of the sparse C is checked against the
// dense one.
//
// The last columns are the cost model's input (kiln_sparse_cost): the
// sparse time per stored multiply-add (S * W * M of them) over the dense
// time per multiply-add, for W = 4 and W = 1; and the speed-up of the
// width the cost model would pick.
//
// A second table does the same for int8: B quantized per column
// (symmetric, so the pruned zeros stay 0), A float quantized per row in
// the call (`--quantize int8`), the sparse int8 GEMM (kiln::sparseQgemm,
// kiln_sparse_qgemm_pack.h) against the dense one (kiln::qgemm), whose C
// it must equal bit for bit (checked); its costs are per stored
// multiply-add of the groups (4W per group, padding included), the input
// of kiln_sparse_qgemm_cost.
//
//   kiln-sparse-gemm-bench [--rows=128] [--threads=1] [--seconds=1] [--trials=21]
//
// KILN_GEMM_KERNEL=portable runs the portable kernels. The output is a
// Markdown table.
//
//===----------------------------------------------------------------------===//
#include "ThreadPool.h"
#include "kernels/Gemm.h"
#include "kernels/QGemm.h"
#include "kernels/SparseGemm.h"
#include "kernels/SparseQGemm.h"
#include "kiln/kiln_abi.h"
#include "kiln/kiln_qgemm_pack.h"
#include "kiln/kiln_sparse_pack.h"
#include "kiln/kiln_sparse_qgemm_pack.h"

#include "call_timing.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

namespace {

using kiln_bench::alignedArray;

struct Pruning {
  const char *name;
  int64_t block; // 4: 1x4 blocks, 1: unstructured
  double sparsity;
};

/// B (k x n, row-major) with `p.sparsity` of its values zero: whole 1 x
/// p.block blocks at random, as magnitude pruning of random weights would.
std::vector<float> prunedB(int64_t k, int64_t n, const Pruning &p, std::mt19937 &rng) {
  std::uniform_real_distribution<float> value(-1.0f, 1.0f), unit(0.0f, 1.0f);
  std::vector<float> b(size_t(k * n));
  for (int64_t r = 0; r < k; ++r)
    for (int64_t q = 0; q < n; q += p.block) {
      const bool kept = unit(rng) >= p.sparsity;
      for (int64_t j = q; j < q + p.block && j < n; ++j)
        b[size_t(r * n + j)] = kept ? value(rng) : 0.0f;
    }
  return b;
}

struct Row {
  double dense, sparse4, sparse1; // seconds per call, medians
  double stored4, stored1;        // stored multiply-adds / dense ones
  bool checked;
  // int8: the dense and sparse int8 GEMMs, their groups' multiply-adds
  // (4W per group) over the dense ones, and whether C was the same bits.
  double qdense, qsparse4, qsparse1;
  int64_t groups4, groups1;
  double grouped4, grouped1;
  bool qchecked;
};

/// B quantized per column, symmetric (kiln_qgemm_desc's B): zeros stay 0.
std::vector<int8_t> quantizeB(const std::vector<float> &b, int64_t k, int64_t n,
                              std::vector<float> &scales) {
  scales.assign(size_t(n), 1.0f);
  for (int64_t j = 0; j < n; ++j) {
    float most = 0.0f;
    for (int64_t p = 0; p < k; ++p)
      most = std::max(most, std::fabs(b[size_t(p * n + j)]));
    if (most > 0.0f)
      scales[size_t(j)] = most / 127.0f;
  }
  std::vector<int8_t> q(b.size());
  for (int64_t p = 0; p < k; ++p)
    for (int64_t j = 0; j < n; ++j)
      q[size_t(p * n + j)] = int8_t(std::nearbyint(b[size_t(p * n + j)] / scales[size_t(j)]));
  return q;
}

/// The int8 columns of `r`: dense int8 against sparse int8 of both widths.
void measureInt8(int64_t m, int64_t n, int64_t k, const float *a, const std::vector<float> &b,
                 kiln::ThreadPool *pool, const kiln_bench::CallOptions &o, bool cpuTime, Row &r) {
  std::vector<float> scales;
  const std::vector<int8_t> q = quantizeB(b, k, n, scales);
  auto dense = alignedArray<uint8_t>(size_t(kiln_qgemm_packed_size(k, n)));
  kiln_qgemm_pack_b(q.data(), n, 1, k, n, dense.get());
  auto packed = [&](int64_t w, int64_t &groups) {
    int64_t stored;
    kiln_sparse_qgemm_count(q.data(), n, 1, k, n, w, &stored, &groups);
    auto blob = alignedArray<uint8_t>(size_t(kiln_sparse_qgemm_packed_size(n, w, groups)));
    kiln_sparse_qgemm_pack_b(q.data(), n, 1, k, n, w, blob.get());
    return blob;
  };
  auto b4 = packed(4, r.groups4), b1 = packed(1, r.groups1);
  auto cDense = alignedArray<float>(size_t(m * n)), c4 = alignedArray<float>(size_t(m * n)),
       c1 = alignedArray<float>(size_t(m * n));
  kiln_qgemm_desc d{};
  d.m = m;
  d.n = n;
  d.k = k;
  d.a = a;
  d.a_type = KILN_DTYPE_FLOAT32; // quantized per row in the call
  d.a_rs = k;
  d.a_cs = 1;
  d.b_scale = scales.data();
  d.ldc = n;
  d.batch[0] = d.batch[1] = 1;
  kiln_qgemm_desc d4 = d, d1 = d;
  d.b = dense.get();
  d.c = cDense.get();
  d4.b = b4.get();
  d4.c = c4.get();
  d1.b = b1.get();
  d1.c = c1.get();
  kiln::qgemm(d, pool);
  kiln::sparseQgemm(d4, pool);
  kiln::sparseQgemm(d1, pool);
  const size_t bytes = size_t(m * n) * sizeof(float);
  r.qchecked = std::memcmp(c4.get(), cDense.get(), bytes) == 0 &&
               std::memcmp(c1.get(), cDense.get(), bytes) == 0;
  r.qdense = kiln_bench::timeCalls([&] { kiln::qgemm(d, pool); }, o.seconds, o.trials, cpuTime)
                 .first;
  r.qsparse4 =
      kiln_bench::timeCalls([&] { kiln::sparseQgemm(d4, pool); }, o.seconds, o.trials, cpuTime)
          .first;
  r.qsparse1 =
      kiln_bench::timeCalls([&] { kiln::sparseQgemm(d1, pool); }, o.seconds, o.trials, cpuTime)
          .first;
  r.grouped4 = double(r.groups4 * 4 * 4) / double(k * n);
  r.grouped1 = double(r.groups1 * 4) / double(k * n);
}

Row measure(int64_t m, int64_t n, int64_t k, const Pruning &pruning, kiln::ThreadPool *pool,
            const kiln_bench::CallOptions &o, bool cpuTime) {
  std::mt19937 rng(unsigned(m * 31 + n * 7 + k + int(pruning.sparsity * 100) + pruning.block));
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  auto a = alignedArray<float>(size_t(m * k));
  for (int64_t i = 0; i < m * k; ++i)
    a[size_t(i)] = uniform(rng);
  const std::vector<float> b = prunedB(k, n, pruning, rng);
  auto cDense = alignedArray<float>(size_t(m * n)), c4 = alignedArray<float>(size_t(m * n)),
       c1 = alignedArray<float>(size_t(m * n));

  const int64_t panel = kiln::gemmPanelWidth();
  auto bDense = alignedArray<float>(size_t((n + panel - 1) / panel * panel * k));
  kiln::prepackB(b.data(), n, 1, k, n, panel, bDense.get());
  kiln_gemm_desc g{};
  g.m = m;
  g.n = n;
  g.k = k;
  g.a = a.get();
  g.a_rs = k;
  g.a_cs = 1;
  g.b = bDense.get();
  g.b_panel = panel;
  g.c = cDense.get();
  g.ldc = n;
  g.batch[0] = g.batch[1] = 1;

  auto packed = [&](int64_t w, int64_t &stored) {
    stored = kiln_sparse_count_blocks(b.data(), n, 1, k, n, w);
    auto blob = alignedArray<uint8_t>(size_t(kiln_sparse_packed_size(n, w, stored)));
    kiln_sparse_pack_b(b.data(), n, 1, k, n, w, blob.get());
    return blob;
  };
  int64_t stored4 = 0, stored1 = 0;
  auto b4 = packed(4, stored4), b1 = packed(1, stored1);
  kiln_sparse_gemm_desc s{};
  s.m = m;
  s.n = n;
  s.k = k;
  s.a = a.get();
  s.a_rs = k;
  s.a_cs = 1;
  s.ldc = n;
  s.batch[0] = s.batch[1] = 1;
  kiln_sparse_gemm_desc s4 = s, s1 = s;
  s4.b = b4.get();
  s4.c = c4.get();
  s1.b = b1.get();
  s1.c = c1.get();

  kiln::gemm(g, pool);
  kiln::sparseGemm(s4, pool);
  kiln::sparseGemm(s1, pool);
  bool checked = true;
  for (int t = 0; t < 256; ++t) {
    const size_t at = size_t(rng() % uint64_t(m * n));
    const double tolerance = 1e-4 * std::sqrt(double(k));
    checked = checked && std::fabs(c4[at] - cDense[at]) <= tolerance &&
              std::fabs(c1[at] - cDense[at]) <= tolerance;
  }
  Row r;
  r.dense = kiln_bench::timeCalls([&] { kiln::gemm(g, pool); }, o.seconds, o.trials, cpuTime).first;
  r.sparse4 =
      kiln_bench::timeCalls([&] { kiln::sparseGemm(s4, pool); }, o.seconds, o.trials, cpuTime)
          .first;
  r.sparse1 =
      kiln_bench::timeCalls([&] { kiln::sparseGemm(s1, pool); }, o.seconds, o.trials, cpuTime)
          .first;
  r.stored4 = double(stored4 * 4) / double(k * n);
  r.stored1 = double(stored1) / double(k * n);
  r.checked = checked;
  measureInt8(m, n, k, a.get(), b, pool, o, cpuTime, r);
  return r;
}

} // namespace

int main(int argc, char **argv) {
  const kiln_bench::CallOptions o =
      kiln_bench::parseCallOptions(argc, argv, "kiln-sparse-gemm-bench");
  std::unique_ptr<kiln::ThreadPool> pool;
  if (o.threads > 1)
    pool.reset(new kiln::ThreadPool(o.threads));
  const bool cpuTime = o.threads == 1;
  std::printf("sparse kernel %s, dense kernel %s, sparse int8 kernel %s, dense int8 kernel %s, "
              "%u thread%s, timed by %s; GFLOP/s-equivalent (2MNK / time), medians of %d "
              "trials\n\n",
              kiln::sparseGemmKernelName(), kiln::sgemmKernelName(), kiln::sparseQgemmKernelName(),
              kiln::qgemmKernelName(), o.threads, o.threads == 1 ? "" : "s",
              cpuTime ? "thread CPU time" : "wall clock", o.trials);
  std::printf("| M | N | K | pruning | dense | 1x4 | 1x1 | 1x4 / dense | 1x1 / dense | "
              "cost 1x4 | cost 1x1 | model's pick |\n");
  std::printf("|---|---|---|---|--:|--:|--:|--:|--:|--:|--:|---|\n");
  const int64_t shapes[][2] = {{768, 768}, {3072, 768}, {768, 3072}}; // N, K
  const Pruning prunings[] = {
      {"1x4 blocks 30%", 4, 0.3}, {"1x4 blocks 50%", 4, 0.5},   {"1x4 blocks 70%", 4, 0.7},
      {"1x4 blocks 80%", 4, 0.8}, {"1x4 blocks 90%", 4, 0.9},   {"unstructured 50%", 1, 0.5},
      {"unstructured 70%", 1, 0.7}, {"unstructured 80%", 1, 0.8}, {"unstructured 90%", 1, 0.9},
      {"unstructured 95%", 1, 0.95}};
  bool ok = true;
  struct Measured {
    int64_t m, n, k;
    const Pruning *pruning;
    Row row;
  };
  std::vector<Measured> measured;
  for (int64_t m : o.rows)
    for (const auto &nk : shapes)
      for (const Pruning &p : prunings) {
        const int64_t n = nk[0], k = nk[1];
        const Row r = measure(m, n, k, p, pool.get(), o, cpuTime);
        measured.push_back({m, n, k, &p, r});
        ok = ok && r.checked && r.qchecked;
        const double ops = 2.0 * double(m) * double(n) * double(k) * 1e-9;
        const double cost4 = r.sparse4 / (r.dense * r.stored4);
        const double cost1 = r.sparse1 / (r.dense * r.stored1);
        // What the compiler's cost model (kiln_sparse_cost) would choose.
        const double dense = double(m) * double(n) * double(k);
        const double model4 = kiln_sparse_cost(m, 4, int64_t(r.stored4 * double(k * n) / 4));
        const double model1 = kiln_sparse_cost(m, 1, int64_t(r.stored1 * double(k * n)));
        const char *pick = std::min(model4, model1) >= dense ? "dense"
                           : model4 <= model1               ? "1x4"
                                                            : "1x1";
        const double picked = std::min(model4, model1) >= dense ? r.dense
                              : model4 <= model1               ? r.sparse4
                                                               : r.sparse1;
        std::printf("| %lld | %lld | %lld | %s | %.1f | %.1f | %.1f | %.2fx | %.2fx | %.2f | "
                    "%.2f | %s (%.2fx) |%s\n",
                    (long long)m, (long long)n, (long long)k, p.name, ops / r.dense,
                    ops / r.sparse4, ops / r.sparse1, r.dense / r.sparse4, r.dense / r.sparse1,
                    cost4, cost1, pick, r.dense / picked, r.checked ? "" : " WRONG RESULT");
        std::fflush(stdout);
      }
  // int8: the same shapes and prunings, after all fp32 rows.
  std::printf("\n| M | N | K | pruning | int8 dense | int8 1x4 | int8 1x1 | 1x4 / dense | "
              "1x1 / dense | cost 1x4 | cost 1x1 | model's pick |\n");
  std::printf("|---|---|---|---|--:|--:|--:|--:|--:|--:|--:|---|\n");
  for (const Measured &x : measured) {
    const Row &r = x.row;
    const double ops = 2.0 * double(x.m) * double(x.n) * double(x.k) * 1e-9;
    const double cost4 = r.qsparse4 / (r.qdense * r.grouped4);
    const double cost1 = r.qsparse1 / (r.qdense * r.grouped1);
    const double dense = double(x.m) * double(x.n) * double(x.k);
    const double model4 = kiln_sparse_qgemm_cost(x.m, 4, r.groups4);
    const double model1 = kiln_sparse_qgemm_cost(x.m, 1, r.groups1);
    const bool keepDense = std::min(model4, model1) >= dense;
    const char *pick = keepDense ? "dense" : model4 <= model1 ? "1x4" : "1x1";
    const double picked = keepDense ? r.qdense : model4 <= model1 ? r.qsparse4 : r.qsparse1;
    std::printf("| %lld | %lld | %lld | %s | %.1f | %.1f | %.1f | %.2fx | %.2fx | %.2f | %.2f | "
                "%s (%.2fx) |%s\n",
                (long long)x.m, (long long)x.n, (long long)x.k, x.pruning->name, ops / r.qdense,
                ops / r.qsparse4, ops / r.qsparse1, r.qdense / r.qsparse4, r.qdense / r.qsparse1,
                cost4, cost1, pick, r.qdense / picked, r.qchecked ? "" : " WRONG RESULT");
  }
  return ok ? 0 : 1;
}
