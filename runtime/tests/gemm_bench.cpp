//===- gemm_bench.cpp - kiln::gemm throughput ------------------------------===//
//
// Not a test: prints the median GFLOP/s of the GEMM on transformer-like
// shapes for each kernel family this CPU has, on 1 and 2 threads, with B
// packed at run time (row-major B, as sgemm gets it) and prepacked for the
// kernel (kiln_gemm_desc::b_panel = nr, as the layout pass leaves weights).
//
//   kiln_gemm_bench [portable|avx2|avx512 ...] [--quick]
//
// --quick: only the shapes of the performance goal (M in 128, 197, 384).
//
//===----------------------------------------------------------------------===//

#include "ThreadPool.h"
#include "kernels/Gemm.h"
#include "kernels/GemmKernels.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

using kiln::GemmFamily;

namespace {

/// batch GEMMs of M x K times K x N (B shared when it is a weight).
struct Shape {
  int64_t m, k, n;
  int64_t batch = 1;
  bool sharedB = true;
};

/// Median GFLOP/s of C = A B (all row-major, or B prepacked) over several
/// runs after a warm-up that also sizes the pack buffers.
double measure(const kiln::GemmMicroKernel &kernel, const Shape &s, kiln::ThreadPool *pool,
               bool prepacked) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  const int64_t bBatches = s.sharedB ? 1 : s.batch;
  const int64_t nr = kernel.nr, panels = (s.n + nr - 1) / nr;
  const int64_t bSize = prepacked ? panels * s.k * nr : s.k * s.n;
  std::vector<float> a(size_t(s.batch * s.m * s.k)), b(size_t(bBatches * bSize)),
      c(size_t(s.batch * s.m * s.n));
  for (float &x : a)
    x = dist(rng);
  std::vector<float> rowMajor(size_t(s.k * s.n));
  for (int64_t g = 0; g < bBatches; ++g) {
    for (float &x : rowMajor)
      x = dist(rng);
    if (prepacked)
      kiln::prepackB(rowMajor.data(), s.n, 1, s.k, s.n, nr, b.data() + g * bSize);
    else
      std::copy(rowMajor.begin(), rowMajor.end(), b.begin() + g * bSize);
  }
  kiln_gemm_desc d{};
  d.m = s.m;
  d.n = s.n;
  d.k = s.k;
  d.a = a.data();
  d.a_rs = s.k;
  d.a_cs = 1;
  d.b = b.data();
  d.b_rs = prepacked ? 0 : s.n;
  d.b_cs = prepacked ? 0 : 1;
  d.b_panel = prepacked ? nr : 0;
  d.c = c.data();
  d.ldc = s.n;
  d.batch[0] = 1;
  d.batch[1] = s.batch;
  d.batch_stride_a[1] = s.m * s.k;
  d.batch_stride_b[1] = s.sharedB ? 0 : bSize;
  d.batch_stride_c[1] = s.m * s.n;
  kiln::gemmWith(kernel, d, pool);

  const double flops = 2.0 * double(s.batch * s.m) * double(s.n) * double(s.k);
  std::vector<double> rates;
  auto start = std::chrono::steady_clock::now();
  // At least 7 runs and 0.3 s, so that the median shrugs off interruptions.
  while (rates.size() < 7 ||
         std::chrono::steady_clock::now() - start < std::chrono::milliseconds(300)) {
    auto t0 = std::chrono::steady_clock::now();
    kiln::gemmWith(kernel, d, pool);
    auto t1 = std::chrono::steady_clock::now();
    rates.push_back(flops / std::chrono::duration<double>(t1 - t0).count() * 1e-9);
  }
  std::nth_element(rates.begin(), rates.begin() + rates.size() / 2, rates.end());
  return rates[rates.size() / 2];
}

} // namespace

int main(int argc, char **argv) {
  std::vector<GemmFamily> families;
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "portable"))
      families.push_back(GemmFamily::Portable);
    else if (!std::strcmp(argv[i], "avx2"))
      families.push_back(GemmFamily::Avx2);
    else if (!std::strcmp(argv[i], "avx512"))
      families.push_back(GemmFamily::Avx512);
    else if (!std::strcmp(argv[i], "--quick"))
      quick = true;
    else {
      std::fprintf(stderr, "usage: %s [portable|avx2|avx512 ...] [--quick]\n", argv[0]);
      return 2;
    }
  }
  if (families.empty())
    families = {GemmFamily::Avx512, GemmFamily::Avx2, GemmFamily::Portable};

  std::vector<Shape> shapes;
  for (int64_t m : {32, 128, 197, 384}) {
    if (quick && m == 32)
      continue;
    for (auto [k, n] :
         {std::pair<int64_t, int64_t>{768, 768}, {768, 3072}, {3072, 768}, {3072, 3072}})
      if (!quick || k != n || k == 768)
        shapes.push_back({m, k, n});
  }
  if (!quick) {
    shapes.push_back({1024, 1024, 1024});
    // Attention's Q K^T and P V: 12 heads, B differs per head.
    shapes.push_back({128, 64, 128, 12, false});
    shapes.push_back({128, 128, 64, 12, false});
  }

  kiln::ThreadPool pool2(2);
  for (GemmFamily family : families) {
    if (!kiln::gemmFamilySupported(family))
      continue;
    const kiln::GemmMicroKernel &kernel = kiln::gemmMicroKernel(family);
    std::printf("%s (%lldx%lld tiles)   GFLOP/s, B packed at run time | prepacked\n"
                "%5s %6s %6s %6s %9s %9s %9s %9s\n",
                kernel.name, (long long)kernel.mr, (long long)kernel.nr, "batch", "M", "K", "N",
                "1 thread", "2 threads", "1 thread", "2 threads");
    for (const Shape &s : shapes) {
      double r[4];
      for (int i = 0; i < 4; ++i)
        r[i] = measure(kernel, s, i % 2 ? &pool2 : nullptr, i >= 2);
      std::printf("%5lld %6lld %6lld %6lld %9.1f %9.1f %9.1f %9.1f\n", (long long)s.batch,
                  (long long)s.m, (long long)s.k, (long long)s.n, r[0], r[1], r[2], r[3]);
      std::fflush(stdout);
    }
  }
  return 0;
}
