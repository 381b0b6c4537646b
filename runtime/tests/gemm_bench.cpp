//===- gemm_bench.cpp - kiln::sgemm throughput ----------------------------===//
//
// Not a test: prints the median GFLOP/s of sgemm on transformer-like shapes
// for each kernel family this CPU has, on 1 and 2 threads.
//
//   kiln_gemm_bench [portable|avx2|avx512 ...]
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

struct Shape {
  int64_t m, k, n;
};

/// Median GFLOP/s of C = A B (all row-major) over several runs after a
/// warm-up that also sizes the pack buffers.
double measure(const kiln::GemmMicroKernel &kernel, const Shape &s, kiln::ThreadPool *pool) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> a(size_t(s.m * s.k)), b(size_t(s.k * s.n)), c(size_t(s.m * s.n));
  for (float &x : a)
    x = dist(rng);
  for (float &x : b)
    x = dist(rng);
  kiln::GemmArgs args{s.m, s.n, s.k, a.data(), s.k, 1, b.data(), s.n, 1, c.data(), s.n, false};
  kiln::sgemmWith(kernel, args, pool);

  const double flops = 2.0 * double(s.m) * double(s.n) * double(s.k);
  std::vector<double> rates;
  auto start = std::chrono::steady_clock::now();
  // At least 7 runs and 0.3 s, so that the median shrugs off interruptions.
  while (rates.size() < 7 ||
         std::chrono::steady_clock::now() - start < std::chrono::milliseconds(300)) {
    auto t0 = std::chrono::steady_clock::now();
    kiln::sgemmWith(kernel, args, pool);
    auto t1 = std::chrono::steady_clock::now();
    rates.push_back(flops / std::chrono::duration<double>(t1 - t0).count() * 1e-9);
  }
  std::nth_element(rates.begin(), rates.begin() + rates.size() / 2, rates.end());
  return rates[rates.size() / 2];
}

} // namespace

int main(int argc, char **argv) {
  std::vector<GemmFamily> families;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "portable"))
      families.push_back(GemmFamily::Portable);
    else if (!std::strcmp(argv[i], "avx2"))
      families.push_back(GemmFamily::Avx2);
    else if (!std::strcmp(argv[i], "avx512"))
      families.push_back(GemmFamily::Avx512);
    else {
      std::fprintf(stderr, "usage: %s [portable|avx2|avx512 ...]\n", argv[0]);
      return 2;
    }
  }
  if (families.empty())
    families = {GemmFamily::Avx512, GemmFamily::Avx2, GemmFamily::Portable};

  std::vector<Shape> shapes;
  for (int64_t m : {32, 128, 384})
    for (int64_t k : {768, 3072})
      for (int64_t n : {768, 3072})
        shapes.push_back({m, k, n});
  shapes.push_back({1024, 1024, 1024});

  kiln::ThreadPool pool2(2);
  for (GemmFamily family : families) {
    if (!kiln::gemmFamilySupported(family))
      continue;
    const kiln::GemmMicroKernel &kernel = kiln::gemmMicroKernel(family);
    std::printf("%s (%lldx%lld tiles)      GFLOP/s\n%6s %6s %6s %9s %9s\n", kernel.name,
                (long long)kernel.mr, (long long)kernel.nr, "M", "K", "N", "1 thread", "2 threads");
    for (const Shape &s : shapes) {
      double one = measure(kernel, s, nullptr);
      double two = measure(kernel, s, &pool2);
      std::printf("%6lld %6lld %6lld %9.1f %9.1f\n", (long long)s.m, (long long)s.k, (long long)s.n,
                  one, two);
      std::fflush(stdout);
    }
  }
  return 0;
}
