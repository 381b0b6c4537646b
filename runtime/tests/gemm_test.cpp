//===- gemm_test.cpp - kiln::sgemm against a naive reference --------------===//
//
// Internals: links libkiln_runtime.a and includes runtime/src. Every test
// runs once per micro-kernel family and skips those this CPU lacks.
//
//===----------------------------------------------------------------------===//

#include "ThreadPool.h"
#include "kernels/Gemm.h"
#include "kernels/GemmKernels.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <ostream>
#include <random>
#include <string>
#include <vector>

using kiln::GemmArgs;
using kiln::GemmFamily;
using kiln::ThreadPool;

namespace {
/// The family as sgemmKernelName spells it.
const char *familyName(GemmFamily f) {
  switch (f) {
  case GemmFamily::Portable:
    return "portable";
  case GemmFamily::Avx2:
    return "avx2";
  case GemmFamily::Avx512:
    return "avx512";
  }
  return "unknown";
}
} // namespace

// For GoogleTest's messages (found by argument-dependent lookup).
namespace kiln {
void PrintTo(GemmFamily f, std::ostream *os) { *os << familyName(f); }
} // namespace kiln

namespace {

/// One GEMM to check: shapes, layouts (strides), and how C starts.
struct Case {
  int64_t m, n, k;
  bool transA = false, transB = false;
  bool broadcastA = false, broadcastB = false; // stride 0 across rows of A / columns of B
  int64_t cPad = 0;                            // cRowStride = n + cPad
  bool accumulate = false;
};

std::string describe(const Case &c) {
  return "m=" + std::to_string(c.m) + " n=" + std::to_string(c.n) + " k=" + std::to_string(c.k) +
         (c.transA ? " A^T" : "") + (c.transB ? " B^T" : "") + (c.broadcastA ? " A-bcast" : "") +
         (c.broadcastB ? " B-bcast" : "") + " ldc=n+" + std::to_string(c.cPad) +
         (c.accumulate ? " accumulate" : "");
}

/// Strided storage for a rows x cols operand, filled with values in [-1, 1].
struct Operand {
  std::vector<float> data;
  int64_t rowStride, colStride;

  Operand(int64_t rows, int64_t cols, bool transposed, int64_t broadcastDim, std::mt19937 &rng) {
    // Transposed storage is column-major with a padded leading dimension,
    // so a wrong stride cannot pass by accident.
    rowStride = transposed ? 1 : cols + 3;
    colStride = transposed ? rows + 2 : 1;
    if (broadcastDim == 0)
      rowStride = 0;
    if (broadcastDim == 1)
      colStride = 0;
    int64_t size =
        1 + std::max<int64_t>(rows - 1, 0) * rowStride + std::max<int64_t>(cols - 1, 0) * colStride;
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    data.resize(size_t(size));
    for (float &x : data)
      x = dist(rng);
  }
  float at(int64_t i, int64_t j) const { return data[size_t(i * rowStride + j * colStride)]; }
};

class Gemm : public testing::TestWithParam<GemmFamily> {
protected:
  void SetUp() override {
    if (!kiln::gemmFamilySupported(GetParam()))
      GTEST_SKIP() << "this CPU (or build) lacks " << familyName(GetParam())
                   << ": its micro-kernel is not tested";
    ASSERT_STREQ(kernel().name, familyName(GetParam()));
  }

  const kiln::GemmMicroKernel &kernel() const { return kiln::gemmMicroKernel(GetParam()); }

  /// Runs `c` through sgemm and the reference; false (after reporting the
  /// first bad element) when they differ.
  bool check(const Case &c, ThreadPool *pool = nullptr) {
    std::mt19937 rng(uint32_t(c.m * 7919 + c.n * 104729 + c.k * 31 + c.transA * 2 + c.transB));
    Operand a(c.m, c.k, c.transA, c.broadcastA ? 0 : -1, rng);
    Operand b(c.k, c.n, c.transB, c.broadcastB ? 1 : -1, rng);
    const int64_t ldc = c.n + c.cPad;
    // Without accumulate C starts as NaN, which must not leak into the
    // result; the padding after each row, and a tail after the last one,
    // must stay as they were.
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float guard = 12345.0f;
    const int64_t tail = 64;
    std::vector<float> out(size_t(c.m * ldc + tail), guard);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    for (int64_t i = 0; i < c.m; ++i)
      for (int64_t j = 0; j < c.n; ++j)
        out[size_t(i * ldc + j)] = c.accumulate ? dist(rng) : nan;
    const std::vector<float> before = out;

    GemmArgs args{c.m,         c.n,         c.k,           a.data.data(),
                  a.rowStride, a.colStride, b.data.data(), b.rowStride,
                  b.colStride, out.data(),  ldc,           c.accumulate};
    kiln::sgemmWith(kernel(), args, pool);

    for (int64_t i = 0; i < c.m; ++i) {
      for (int64_t j = 0; j < ldc; ++j) {
        float got = out[size_t(i * ldc + j)];
        if (j >= c.n) {
          if (got != guard) {
            ADD_FAILURE() << describe(c) << ": wrote C[" << i << "][" << j << "] past n";
            return false;
          }
          continue;
        }
        double start = c.accumulate ? before[size_t(i * ldc + j)] : 0.0;
        double sum = start, magnitude = std::fabs(start);
        for (int64_t p = 0; p < c.k; ++p) {
          double term = double(a.at(i, p)) * double(b.at(p, j));
          sum += term;
          magnitude += std::fabs(term);
        }
        // Rounding error of a float sum of k + 1 terms, with slack for the
        // order the blocked kernel adds them in.
        double tolerance = double(c.k + 2) * FLT_EPSILON * magnitude + 1e-30;
        if (!(std::fabs(got - sum) <= tolerance)) {
          ADD_FAILURE() << describe(c) << ": C[" << i << "][" << j << "] = " << got << ", expected "
                        << sum << " (tolerance " << tolerance << ")";
          return false;
        }
      }
    }
    for (int64_t t = 0; t < tail; ++t)
      if (out[size_t(c.m * ldc + t)] != guard) {
        ADD_FAILURE() << describe(c) << ": wrote " << t << " floats past the end of C";
        return false;
      }
    return true;
  }
};

// Sizes around the tiles of every family (4x8, 6x16, 12x32), primes and
// non-multiples, all combined.
const int64_t kSizes[] = {1,  2,  3,  4,  5,  6,  7,  8,  11, 12, 13,
                          16, 17, 24, 29, 31, 32, 33, 47, 53, 64, 67};

TEST_P(Gemm, ShapeGrid) {
  for (int64_t m : kSizes)
    for (int64_t n : kSizes)
      for (int64_t k : kSizes)
        ASSERT_TRUE(check({m, n, k}));
}

TEST_P(Gemm, EverySizeUpTo67) {
  for (int64_t d = 1; d <= 67; ++d) {
    ASSERT_TRUE(check({d, 37, 29}));
    ASSERT_TRUE(check({29, d, 37}));
    ASSERT_TRUE(check({37, 29, d}));
  }
}

TEST_P(Gemm, TransposedOperands) {
  for (int64_t m : {1, 7, 13, 33})
    for (int64_t n : {1, 9, 31, 67})
      for (int64_t k : {1, 5, 64, 67})
        for (bool transA : {false, true})
          for (bool transB : {false, true})
            ASSERT_TRUE(check({m, n, k, transA, transB}));
}

TEST_P(Gemm, BroadcastOperands) {
  for (int64_t m : {1, 5, 13, 40})
    for (int64_t n : {1, 17, 50})
      for (int64_t k : {1, 3, 33}) {
        ASSERT_TRUE(check({m, n, k, false, false, true, false}));
        ASSERT_TRUE(check({m, n, k, false, false, false, true}));
        ASSERT_TRUE(check({m, n, k, true, true, true, true}));
      }
}

TEST_P(Gemm, PaddedRowsOfC) {
  for (int64_t pad : {1, 5, 16, 33})
    for (bool accumulate : {false, true})
      for (int64_t m : {3, 13, 29})
        for (int64_t n : {1, 15, 33})
          ASSERT_TRUE(check({m, n, 19, false, false, false, false, pad, accumulate}));
}

TEST_P(Gemm, Accumulate) {
  for (int64_t m : {1, 6, 13, 67})
    for (int64_t n : {2, 16, 47})
      for (int64_t k : {1, 8, 61})
        for (bool transB : {false, true})
          ASSERT_TRUE(check({m, n, k, false, transB, false, false, 0, true}));
}

// Sizes past the cache blocks (kc = 256, nc = 1024), with uneven blocks in
// every dimension and with both values of accumulate, which only the first
// slice of K honours.
TEST_P(Gemm, SeveralBlocks) {
  ASSERT_TRUE(check({200, 1100, 600}));
  ASSERT_TRUE(check({197, 1031, 513, true, true, false, false, 7, true}));
  ASSERT_TRUE(check({1, 2100, 300, false, true}));
}

// sgemm splits C over the threads only past 2^23 multiply-adds per thread,
// so all but the last two cases are big enough for 2 or 3 tiles: split
// across N, down M, or both.
TEST_P(Gemm, Threads) {
  for (unsigned threads : {1u, 2u, 3u}) {
    ThreadPool pool(threads);
    for (const Case &c : {Case{260, 300, 257}, Case{13, 2000, 1000}, Case{2000, 13, 1000},
                          Case{301, 300, 333, true, false, false, false, 3, true}, Case{67, 67, 67},
                          Case{8, 64, 64}})
      ASSERT_TRUE(check(c, &pool)) << "threads=" << threads;
  }
}

TEST_P(Gemm, EmptyK) {
  for (bool accumulate : {false, true}) {
    Case c{5, 7, 0, false, false, false, false, 2, accumulate};
    ASSERT_TRUE(check(c));
  }
}

TEST_P(Gemm, EmptyMOrN) {
  float c = 1.0f;
  for (int64_t m : {0, 3})
    for (int64_t n : {0, 3}) {
      if (m && n)
        continue;
      GemmArgs args{m, n, 4, nullptr, 4, 1, nullptr, 1, 1, &c, 1, false};
      kiln::sgemmWith(kernel(), args, nullptr);
      EXPECT_EQ(c, 1.0f);
    }
}

INSTANTIATE_TEST_SUITE_P(Families, Gemm,
                         testing::Values(GemmFamily::Portable, GemmFamily::Avx2,
                                         GemmFamily::Avx512),
                         [](const testing::TestParamInfo<GemmFamily> &info) {
                           return std::string(familyName(info.param));
                         });

// sgemm uses the best family this CPU has, or the one KILN_GEMM_KERNEL
// names when the CPU has it; a family it lacks falls back to the best below.
TEST(GemmDispatch, PicksBestAvailable) {
  const bool avx512 = kiln::gemmFamilySupported(GemmFamily::Avx512);
  const bool avx2 = kiln::gemmFamilySupported(GemmFamily::Avx2);
  const char *best = avx512 ? "avx512" : avx2 ? "avx2" : "portable";
  EXPECT_STREQ(kiln::gemmMicroKernel(GemmFamily::Avx512).name, best);
  EXPECT_STREQ(kiln::gemmMicroKernel(GemmFamily::Avx2).name, avx2 ? "avx2" : "portable");
  EXPECT_STREQ(kiln::gemmMicroKernel(GemmFamily::Portable).name, "portable");

  const char *forced = std::getenv("KILN_GEMM_KERNEL");
  std::string expected = best;
  if (forced && !std::strcmp(forced, "avx2"))
    expected = kiln::gemmMicroKernel(GemmFamily::Avx2).name;
  else if (forced && !std::strcmp(forced, "portable"))
    expected = "portable";
  EXPECT_EQ(kiln::sgemmKernelName(), expected);
}

// The public entry point, on the kernel it picked.
TEST(GemmDispatch, Sgemm) {
  const float a[] = {1, 2, 3, 4, 5, 6}; // 2 x 3
  const float b[] = {1, 0, 0, 1, 1, 1}; // 3 x 2
  float c[4] = {NAN, NAN, NAN, NAN};
  kiln::sgemm({2, 2, 3, a, 3, 1, b, 2, 1, c, 2, false}, nullptr);
  EXPECT_EQ(c[0], 4.0f);
  EXPECT_EQ(c[1], 5.0f);
  EXPECT_EQ(c[2], 10.0f);
  EXPECT_EQ(c[3], 11.0f);
}

} // namespace
