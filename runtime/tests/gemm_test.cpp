//===- gemm_test.cpp - kiln::sgemm against a naive reference --------------===//
//
// Internals: links libkiln_runtime.a and includes runtime/src. Every test
// runs once per micro-kernel family and skips those this CPU lacks.
//
//===----------------------------------------------------------------------===//

#include "ThreadPool.h"
#include "kernels/Gemm.h"
#include "kernels/GemmKernels.h"

#include "gemm_reference.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

using kiln::GemmArgs;
using kiln::GemmFamily;
using kiln::ThreadPool;
using kiln_test::familyName;
using kiln_test::fp32FamilyTestName;
using kiln_test::kFp32Families;

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
// slice of K honours. N = 4200 is several blocks of columns on any L2 (nc
// is at most 4096), where A is packed once and each slice of K is read
// from the strip packed whole.
TEST_P(Gemm, SeveralBlocks) {
  ASSERT_TRUE(check({200, 1100, 600}));
  ASSERT_TRUE(check({197, 1031, 513, true, true, false, false, 7, true}));
  ASSERT_TRUE(check({1, 2100, 300, false, true}));
  ASSERT_TRUE(check({30, 4200, 300}));
  ASSERT_TRUE(check({25, 4200, 513, true, false, false, false, 5, true}));
}

// sgemm splits C over the threads only past 2^22 multiply-adds per thread,
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

// One column of C (a matrix-vector product, e.g. a mask-weighted sum over
// tokens) runs without the micro-kernel (Gemm.cpp, columnTile): A as rows
// or transposed (its rows contiguous, the vector loop), B broadcast or
// not, C padded, accumulate, K past a cache block, and threads (each
// takes rows).
TEST_P(Gemm, OneColumnOfC) {
  for (int64_t m : {1, 13, 384, 1001})
    for (int64_t k : {1, 128, 700})
      for (bool transA : {false, true})
        for (bool accumulate : {false, true})
          ASSERT_TRUE(check({m, 1, k, transA, false, false, false, accumulate ? 3 : 0,
                             accumulate}));
  ASSERT_TRUE(check({17, 1, 40, false, false, true, true}));
  for (unsigned threads : {2u, 3u}) {
    ThreadPool pool(threads);
    ASSERT_TRUE(check({3000, 1, 700, true}, &pool)) << "threads=" << threads;
    ASSERT_TRUE(check({3001, 1, 701}, &pool)) << "threads=" << threads;
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

//===--- gemm(kiln_gemm_desc): prepacked B, batches, the epilogue -----------===//

using kiln_test::activate;

/// One call of gemm to check: shapes, how B is given, the epilogue and the
/// batch.
struct DescCase {
  int64_t m, n, k;
  int64_t panel = 0; // b_panel: 0 strided B, kKernelPanel: the kernel's nr, else W
  bool accumulate = false;
  bool bias = false;
  int64_t activation = KILN_GEMM_ACT_NONE;
  bool residual = false;
  int64_t batch0 = 1, batch1 = 1;
  bool sharedB = false; // batch strides of B are 0 (weights)
  bool transA = false, transB = false;
};
constexpr int64_t kKernelPanel = -1;

std::string describe(const DescCase &c) {
  static const char *const acts[] = {"", " gelu-erf", " gelu-tanh", " relu"};
  return "m=" + std::to_string(c.m) + " n=" + std::to_string(c.n) + " k=" + std::to_string(c.k) +
         " panel=" + std::to_string(c.panel) + (c.accumulate ? " accumulate" : "") +
         (c.bias ? " bias" : "") + acts[c.activation] + (c.residual ? " residual" : "") +
         " batch=" + std::to_string(c.batch0) + "x" + std::to_string(c.batch1) +
         (c.sharedB ? " shared-B" : "") + (c.transA ? " A^T" : "") + (c.transB ? " B^T" : "");
}

/// Values in [-1, 1].
std::vector<float> randomFloats(size_t n, std::mt19937 &rng) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float &x : v)
    x = dist(rng);
  return v;
}

class GemmDesc : public Gemm {
protected:
  /// Runs `c` through gemmWith and a double reference; false (after
  /// reporting the first bad element) when they differ.
  bool check(const DescCase &c, ThreadPool *pool = nullptr) {
    const int64_t panel = c.panel == kKernelPanel ? kernel().nr : c.panel;
    std::mt19937 rng(uint32_t(c.m * 7919 + c.n * 104729 + c.k * 31 + panel * 3 + c.activation));
    const int64_t batch = c.batch0 * c.batch1;
    // Every GEMM of the batch has its own strided A, B (unless shared), C
    // and residual, some floats apart, and the outer batch stride is padded
    // too, so that a wrong stride cannot pass by accident.
    std::vector<Operand> as, bs;
    for (int64_t g = 0; g < batch; ++g) {
      as.emplace_back(c.m, c.k, c.transA, -1, rng);
      if (g == 0 || !c.sharedB)
        bs.emplace_back(c.k, c.n, c.transB, -1, rng);
    }
    const int64_t aSize = int64_t(as[0].data.size()) + 5;
    const int64_t bSize =
        panel ? ceilDiv(c.n, panel) * c.k * panel + 32 : int64_t(bs[0].data.size()) + 3;
    const int64_t ldc = c.n + 3, cSize = std::max<int64_t>(c.m, 1) * ldc + 7;
    const int64_t rrs = c.n + 1, rSize = c.m * rrs + 2;
    auto strides = [&](int64_t size, bool shared) {
      return shared ? std::vector<int64_t>{0, 0} : std::vector<int64_t>{c.batch1 * size + 11, size};
    };
    const std::vector<int64_t> sa = strides(aSize, false), sb = strides(bSize, c.sharedB),
                               sc = strides(cSize, false), sr = strides(rSize, false);
    auto at = [&](const std::vector<int64_t> &st, int64_t g) {
      return size_t(g / c.batch1 * st[0] + g % c.batch1 * st[1]);
    };
    auto total = [&](const std::vector<int64_t> &st, int64_t size) {
      return at(st, batch - 1) + size_t(size);
    };

    std::vector<float> a(total(sa, aSize)), b(total(sb, bSize)),
        bias = randomFloats(size_t(c.n), rng), residual = randomFloats(total(sr, rSize), rng);
    for (int64_t g = 0; g < batch; ++g) {
      std::copy(as[g].data.begin(), as[g].data.end(), a.begin() + at(sa, g));
      const Operand &bg = bs[c.sharedB ? 0 : g];
      if (panel)
        kiln::prepackB(bg.data.data(), bg.rowStride, bg.colStride, c.k, c.n, panel,
                       b.data() + at(sb, g));
      else
        std::copy(bg.data.begin(), bg.data.end(), b.begin() + at(sb, g));
    }
    // Without accumulate C starts as NaN, which must not leak into the
    // result; the padding after each row and between GEMMs must stay.
    const float nan = std::numeric_limits<float>::quiet_NaN(), guard = 12345.0f;
    std::vector<float> out(total(sc, cSize), guard);
    std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
    for (int64_t g = 0; g < batch; ++g)
      for (int64_t i = 0; i < c.m; ++i)
        for (int64_t j = 0; j < c.n; ++j)
          out[at(sc, g) + size_t(i * ldc + j)] = c.accumulate ? dist(rng) : nan;
    const std::vector<float> before = out;

    kiln_gemm_desc d{};
    d.m = c.m;
    d.n = c.n;
    d.k = c.k;
    d.a = a.data();
    d.a_rs = as[0].rowStride;
    d.a_cs = as[0].colStride;
    d.b = b.data();
    d.b_rs = panel ? 0 : bs[0].rowStride;
    d.b_cs = panel ? 0 : bs[0].colStride;
    d.b_panel = panel;
    d.c = out.data();
    d.ldc = ldc;
    d.accumulate = c.accumulate;
    d.bias = c.bias ? bias.data() : nullptr;
    d.activation = c.activation;
    d.residual = c.residual ? residual.data() : nullptr;
    d.residual_rs = rrs;
    d.batch[0] = c.batch0;
    d.batch[1] = c.batch1;
    for (int i = 0; i < 2; ++i) {
      d.batch_stride_a[i] = sa[i];
      d.batch_stride_b[i] = sb[i];
      d.batch_stride_c[i] = sc[i];
      d.batch_stride_residual[i] = sr[i];
    }
    kiln::gemmWith(kernel(), d, pool);

    const bool gelu =
        c.activation == KILN_GEMM_ACT_GELU_ERF || c.activation == KILN_GEMM_ACT_GELU_TANH;
    for (int64_t g = 0; g < batch; ++g) {
      const Operand &ag = as[g], &bg = bs[c.sharedB ? 0 : g];
      for (int64_t i = 0; i < c.m; ++i)
        for (int64_t j = 0; j < ldc; ++j) {
          const size_t where = at(sc, g) + size_t(i * ldc + j);
          const float got = out[where];
          if (j >= c.n) {
            if (got != guard) {
              ADD_FAILURE() << describe(c) << ": wrote C[" << g << "][" << i << "][" << j
                            << "] past n";
              return false;
            }
            continue;
          }
          const double start = c.accumulate ? before[where] : 0.0;
          double sum = start, magnitude = std::fabs(start);
          for (int64_t p = 0; p < c.k; ++p) {
            const double term = double(ag.at(i, p)) * double(bg.at(p, j));
            sum += term;
            magnitude += std::fabs(term);
          }
          double expected = sum;
          if (c.bias) {
            expected += bias[size_t(j)];
            magnitude += std::fabs(bias[size_t(j)]);
          }
          expected = activate(c.activation, expected);
          const double r = c.residual ? residual[at(sr, g) + size_t(i * rrs + j)] : 0.0;
          expected += r;
          magnitude += std::fabs(r) + std::fabs(expected);
          // The sum's rounding (see Gemm::check), which the activations'
          // slopes (at most 1.13) carry through, and the error of the
          // polynomial activations.
          const double tolerance =
              1.2 * double(c.k + 3) * FLT_EPSILON * magnitude + (gelu ? 1e-5 : 0.0) + 1e-30;
          if (!(std::fabs(got - expected) <= tolerance)) {
            ADD_FAILURE() << describe(c) << ": C[" << g << "][" << i << "][" << j << "] = " << got
                          << ", expected " << expected << " (tolerance " << tolerance << ")";
            return false;
          }
        }
      for (int64_t t = c.m * ldc; t < cSize; ++t)
        if (out[at(sc, g) + size_t(t)] != guard) {
          ADD_FAILURE() << describe(c) << ": wrote past the end of C[" << g << "]";
          return false;
        }
    }
    return true;
  }

  static int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

  /// A prepacked width other than the kernel's.
  int64_t otherPanel() const { return kernel().nr == 16 ? 8 : 16; }
};

// The layout of kiln_abi.h: panel j / W, row p, column j % W, zero past n.
TEST(GemmPrepack, Layout) {
  const int64_t k = 3, n = 7, w = 4;
  std::vector<float> b(size_t(k * n));
  for (size_t i = 0; i < b.size(); ++i)
    b[i] = float(i + 1);
  // Given transposed (column-major), to check the strides as well.
  std::vector<float> bt(size_t(k * n));
  for (int64_t p = 0; p < k; ++p)
    for (int64_t j = 0; j < n; ++j)
      bt[size_t(j * k + p)] = b[size_t(p * n + j)];
  std::vector<float> dst(size_t(2 * k * w), -1.0f);
  kiln::prepackB(bt.data(), 1, k, k, n, w, dst.data());
  for (int64_t j = 0; j < 2 * w; ++j)
    for (int64_t p = 0; p < k; ++p)
      EXPECT_EQ(dst[size_t(j / w * k * w + p * w + j % w)], j < n ? b[size_t(p * n + j)] : 0.0f)
          << "p=" << p << " j=" << j;
}

TEST(GemmPrepack, PanelWidthIsTheKernels) {
  EXPECT_EQ(kiln::gemmPanelWidth(), std::string(kiln::sgemmKernelName()) == "avx512" ? 32
                                    : std::string(kiln::sgemmKernelName()) == "avx2" ? 16
                                                                                     : 8);
}

// B prepacked for this kernel (read in place) and for another width
// (repacked), over odd shapes around every family's tiles.
TEST_P(GemmDesc, PrepackedShapeGrid) {
  for (int64_t panel : {kKernelPanel, otherPanel()})
    for (int64_t m : {1, 3, 12, 13, 31, 67})
      for (int64_t n : kSizes)
        for (int64_t k : kSizes)
          ASSERT_TRUE(check({m, n, k, panel}));
}

TEST_P(GemmDesc, PrepackedOddWidths) {
  for (int64_t panel : {int64_t(1), int64_t(5), int64_t(3 * kernel().nr), int64_t(64)})
    for (int64_t n : {1, 7, 33, 67})
      ASSERT_TRUE(check({29, n, 37, panel}));
}

// Past the cache blocks: prepacked panels read at row pc of panel jc / nr.
TEST_P(GemmDesc, PrepackedSeveralBlocks) {
  for (int64_t panel : {kKernelPanel, otherPanel()}) {
    ASSERT_TRUE(check({200, 1100, 600, panel}));
    DescCase c{197, 1031, 513, panel, true, true, KILN_GEMM_ACT_GELU_ERF, true};
    ASSERT_TRUE(check(c));
    ASSERT_TRUE(check({25, 4200, 513, panel, true, true, KILN_GEMM_ACT_GELU_ERF, true}));
  }
}

TEST_P(GemmDesc, Epilogues) {
  for (int64_t act :
       {KILN_GEMM_ACT_NONE, KILN_GEMM_ACT_GELU_ERF, KILN_GEMM_ACT_GELU_TANH, KILN_GEMM_ACT_RELU})
    for (bool bias : {false, true})
      for (bool residual : {false, true})
        for (bool accumulate : {false, true})
          for (int64_t panel : {int64_t(0), kKernelPanel})
            for (auto [m, n, k] : {std::tuple<int64_t, int64_t, int64_t>{1, 1, 1},
                                   {29, 1, 130},
                                   {13, 33, 29},
                                   {67, 17, 300},
                                   {5, 70, 3}})
              ASSERT_TRUE(check({m, n, k, panel, accumulate, bias, act, residual}));
}

// k = 0: C is 0 (or kept), then the epilogue.
TEST_P(GemmDesc, EpilogueOfAnEmptySum) {
  for (bool accumulate : {false, true})
    for (int64_t panel : {int64_t(0), kKernelPanel})
      ASSERT_TRUE(check({7, 9, 0, panel, accumulate, true, KILN_GEMM_ACT_GELU_TANH, true}));
}

// Batches with their own strides, B shared (stride 0, weights) or not, on
// one thread and two; the last is attention's Q K^T, big enough to split.
TEST_P(GemmDesc, Batches) {
  for (unsigned threads : {1u, 2u}) {
    ThreadPool pool(threads);
    for (bool sharedB : {false, true})
      for (int64_t panel : {int64_t(0), kKernelPanel, otherPanel()}) {
        DescCase c{13, 19, 23, panel};
        c.batch0 = 2;
        c.batch1 = 3;
        c.sharedB = sharedB;
        c.residual = c.bias = true;
        c.activation = KILN_GEMM_ACT_RELU;
        ASSERT_TRUE(check(c, &pool)) << "threads=" << threads;
        c.batch0 = 1;
        c.batch1 = 5;
        c.transA = c.transB = !panel;
        c.accumulate = true;
        ASSERT_TRUE(check(c, &pool)) << "threads=" << threads;
      }
    DescCase attention{128, 128, 64};
    attention.batch1 = 12;
    attention.transB = true;
    ASSERT_TRUE(check(attention, &pool)) << "threads=" << threads;
    DescCase mlp{197, 300, 200, kKernelPanel, false, true, KILN_GEMM_ACT_GELU_ERF};
    mlp.batch0 = 2;
    mlp.sharedB = true;
    ASSERT_TRUE(check(mlp, &pool)) << "threads=" << threads;
  }
}

TEST_P(GemmDesc, NothingToDo) {
  ThreadPool pool(2);
  float c = 1.0f;
  kiln_gemm_desc d{};
  d.m = d.n = d.k = 3;
  d.c = &c;
  d.activation = KILN_GEMM_ACT_GELU_ERF;
  for (auto [b0, b1] : {std::pair<int64_t, int64_t>{0, 1}, {1, 0}, {0, 0}}) {
    d.batch[0] = b0;
    d.batch[1] = b1;
    kiln::gemmWith(kernel(), d, &pool);
  }
  EXPECT_EQ(c, 1.0f);
  d.activation = 17;
  EXPECT_THROW(kiln::gemmWith(kernel(), d, nullptr), std::invalid_argument);
}

/// act(x) through the epilogue: C = 1 x n of A = [1] times B = x.
std::vector<float> activated(const kiln::GemmMicroKernel &kernel, const std::vector<float> &x,
                             int64_t act) {
  const float one = 1.0f;
  std::vector<float> c(x.size());
  kiln_gemm_desc d{};
  d.m = 1;
  d.n = int64_t(x.size());
  d.k = 1;
  d.a = &one;
  d.b = x.data();
  d.b_cs = 1;
  d.c = c.data();
  d.ldc = d.n;
  d.activation = act;
  d.batch[0] = d.batch[1] = 1;
  kiln::gemmWith(kernel, d, nullptr);
  return c;
}

// The erf (max error 1.2e-7 as two polynomials; 7.3e-8 as the 16 pieces of
// AVX-512) and tanh (2.8e-7; 3.1e-7 without FMA, in the portable family)
// of GemmEpilogue.h, densely over [-12, 12]: GELU's error is x/2 times
// theirs, plus rounding.
TEST_P(GemmDesc, GeluAccuracy) {
  std::vector<float> x;
  for (int64_t i = -120000; i <= 120000; ++i)
    x.push_back(float(i) * 1e-4f);
  for (int64_t act : {KILN_GEMM_ACT_GELU_ERF, KILN_GEMM_ACT_GELU_TANH}) {
    const std::vector<float> y = activated(kernel(), x, act);
    const double err = act == KILN_GEMM_ACT_GELU_ERF ? 1.5e-7 : 4e-7; // tanh: 3.1e-7 without FMA
    for (size_t i = 0; i < x.size(); ++i) {
      const double expected = activate(act, x[i]);
      const double tolerance =
          err * std::max(1.0, std::fabs(double(x[i])) / 2) + 2 * FLT_EPSILON * std::fabs(expected);
      ASSERT_LE(std::fabs(y[i] - expected), tolerance)
          << "activation " << act << " at x=" << x[i] << ": " << y[i] << ", expected " << expected;
    }
  }
}

// Like PyTorch, every activation keeps a NaN, +inf and 0.
TEST_P(GemmDesc, ActivationsKeepNaN) {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> x = {std::numeric_limits<float>::quiet_NaN(), inf, -inf, 0.0f};
  for (int64_t act : {KILN_GEMM_ACT_GELU_ERF, KILN_GEMM_ACT_GELU_TANH, KILN_GEMM_ACT_RELU}) {
    const std::vector<float> y = activated(kernel(), x, act);
    EXPECT_TRUE(std::isnan(y[0])) << "activation " << act;
    EXPECT_EQ(y[1], inf) << "activation " << act;
    EXPECT_EQ(y[3], 0.0f) << "activation " << act;
  }
}

INSTANTIATE_TEST_SUITE_P(Families, GemmDesc, testing::ValuesIn(kFp32Families),
                         fp32FamilyTestName);

INSTANTIATE_TEST_SUITE_P(Families, Gemm, testing::ValuesIn(kFp32Families),
                         fp32FamilyTestName);

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

// 16-bit storage (a_type, c_type FLOAT16 or BFLOAT16; ABI 16) is for GPU
// models: the CPU's gemm refuses it, whatever b_type routes it to, and
// writes nothing; FLOAT32 and 0 are the fp32 GEMM.
TEST(GemmDispatch, SixteenBitStorageIsForTheGpu) {
  const uint16_t half[4] = {0x3c00, 0x3c00, 0x3c00, 0x3c00}; // fp16 ones
  float c[4] = {7, 7, 7, 7};
  kiln_gemm_desc d{};
  d.m = d.n = d.k = 2;
  d.a = d.b = reinterpret_cast<const float *>(half);
  d.a_rs = d.b_rs = d.ldc = 2;
  d.a_cs = d.b_cs = 1;
  d.c = c;
  d.batch[0] = d.batch[1] = 1;
  struct Types {
    int64_t a, b, c;
    const char *field;
  };
  for (Types t : {Types{KILN_DTYPE_FLOAT16, KILN_DTYPE_FLOAT16, KILN_DTYPE_FLOAT16, "a_type 10"},
                  {KILN_DTYPE_BFLOAT16, KILN_DTYPE_BFLOAT16, 0, "a_type 16"},
                  {KILN_DTYPE_FLOAT32, 0, KILN_DTYPE_BFLOAT16, "c_type 16"}}) {
    d.a_type = t.a;
    d.b_type = t.b;
    d.c_type = t.c;
    try {
      kiln::gemm(d, nullptr);
      ADD_FAILURE() << t.field << ": no error";
    } catch (const std::invalid_argument &e) {
      EXPECT_EQ(std::string(e.what()),
                std::string("kiln_gemm_desc: ") + t.field +
                    " on the CPU, which reads and writes fp32 only: 16-bit storage GEMMs run "
                    "on the GPU only");
    }
  }
  EXPECT_EQ(c[0], 7.0f);
  const float ones[4] = {1, 1, 1, 1};
  d.a = d.b = ones;
  d.a_type = d.c_type = KILN_DTYPE_FLOAT32;
  d.b_type = 0;
  kiln::gemm(d, nullptr);
  EXPECT_EQ(c[0], 2.0f);
  EXPECT_EQ(c[3], 2.0f);
}

} // namespace
