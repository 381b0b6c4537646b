//===- softmax_test.cpp - kiln_softmax_desc against a double reference ----===//
//
// Internals: links libkiln_runtime.a and includes runtime/src. Every fp32
// family the CPU has runs the same cases: row lengths around the vector
// widths, scales, addends broadcast over rows and batches or per element,
// strided and in-place rows, threads, and the rows whose result is NaN or
// exactly 0 by kiln_abi.h's definition.
//
//===----------------------------------------------------------------------===//

#include "ThreadPool.h"
#include "kernels/GemmKernels.h"
#include "kernels/Softmax.h"

#include "gemm_reference.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>
#include <ostream>
#include <random>
#include <string>
#include <vector>

using kiln::GemmFamily;
using kiln::ThreadPool;
using kiln_test::familyName;
using kiln_test::fp32FamilyTestName;
using kiln_test::kFp32Families;

namespace {

/// One softmax: b0 x b1 matrices of m x n, rows `pad` floats apart beyond
/// n; the addend (if any) is m x n per batch index, or broadcast.
struct Case {
  int64_t b0 = 1, b1 = 1, m = 1, n = 1, pad = 0;
  double scale = 1.0;
  enum Addend { None, PerElement, PerColumnBroadcast, Scalar } addend = None;
  bool addendPerBatch = true; // else one addend for every b1 (a mask over heads)
  bool inPlace = false;
};

std::string describe(const Case &c) {
  return std::to_string(c.b0) + "x" + std::to_string(c.b1) + "x" + std::to_string(c.m) + "x" +
         std::to_string(c.n) + " pad " + std::to_string(c.pad) + " scale " +
         std::to_string(c.scale) + " addend " + std::to_string(int(c.addend)) +
         (c.addendPerBatch ? "" : " (broadcast over b1)") + (c.inPlace ? " in place" : "");
}

class Softmax : public testing::TestWithParam<GemmFamily> {
protected:
  void SetUp() override {
    if (!kiln::gemmFamilySupported(GetParam()))
      GTEST_SKIP() << "this CPU (or build) lacks " << familyName(GetParam())
                   << ": its softmax is not tested";
  }

  void run(kiln_softmax_desc d, ThreadPool *pool = nullptr) {
    kiln::softmaxWith(kiln::gemmMicroKernel(GetParam()), d, pool);
  }

  /// Runs `c` on random scores in [-8, 8] (and addend in [-4, 4]) and
  /// compares every element with the formula in double: within 4e-7
  /// relative to the row's largest value (exp's 2 ulp, the sum's rounding).
  void check(const Case &c, ThreadPool *pool = nullptr) {
    std::mt19937 rng(uint32_t(c.m * 131 + c.n * 7 + c.pad + int(c.addend) * 3));
    std::uniform_real_distribution<float> scores(-8.0f, 8.0f), masks(-4.0f, 4.0f);
    const int64_t rs = c.n + c.pad, matrix = c.m * rs, total = c.b0 * c.b1 * matrix;
    std::vector<float> x(static_cast<size_t>(total)), y(static_cast<size_t>(total), -1.0f);
    for (float &v : x)
      v = scores(rng);
    const int64_t addendMatrices = c.addendPerBatch ? c.b0 * c.b1 : c.b0;
    std::vector<float> addend(size_t(addendMatrices * c.m * c.n));
    for (float &v : addend)
      v = masks(rng);
    const std::vector<float> input = x;

    kiln_softmax_desc d{};
    d.m = c.m;
    d.n = c.n;
    d.x = x.data();
    d.x_rs = rs;
    d.y = c.inPlace ? x.data() : y.data();
    d.y_rs = rs;
    d.scale = c.scale;
    d.batch[0] = c.b0;
    d.batch[1] = c.b1;
    d.batch_stride_x[0] = d.batch_stride_y[0] = c.b1 * matrix;
    d.batch_stride_x[1] = d.batch_stride_y[1] = matrix;
    // Element (b0, b1, i, j) of the addend, by the strides given to it.
    int64_t ars = 0, acs = 0, as0 = 0, as1 = 0;
    if (c.addend != Case::None) {
      d.addend = addend.data();
      ars = c.addend == Case::PerElement ? c.n : 0;
      acs = c.addend == Case::Scalar ? 0 : 1;
      const int64_t per = c.addend == Case::PerElement ? c.m * c.n : c.n;
      as0 = c.addendPerBatch ? c.b1 * per : per;
      as1 = c.addendPerBatch ? per : 0;
      d.addend_rs = ars;
      d.addend_cs = acs;
      d.batch_stride_addend[0] = as0;
      d.batch_stride_addend[1] = as1;
    }
    run(d, pool);

    const std::vector<float> &out = c.inPlace ? x : y;
    for (int64_t b0 = 0; b0 < c.b0; ++b0)
      for (int64_t b1 = 0; b1 < c.b1; ++b1)
        for (int64_t i = 0; i < c.m; ++i) {
          const int64_t row = b0 * c.b1 * matrix + b1 * matrix + i * rs;
          std::vector<double> t(size_t(c.n));
          double max = -INFINITY, sum = 0;
          for (int64_t j = 0; j < c.n; ++j) {
            double v = double(float(c.scale) * input[size_t(row + j)]);
            if (d.addend)
              v += addend[size_t(b0 * as0 + b1 * as1 + i * ars + j * acs)];
            t[size_t(j)] = v;
            max = std::fmax(max, v);
          }
          for (double v : t)
            sum += std::exp(v - max);
          for (int64_t j = 0; j < c.n; ++j) {
            const double expected = std::exp(t[size_t(j)] - max) / sum;
            const float got = out[size_t(row + j)];
            ASSERT_NEAR(got, expected, 4e-7 + 4e-7 * expected)
                << describe(c) << " at (" << b0 << ", " << b1 << ", " << i << ", " << j << ")";
          }
          for (int64_t j = c.n; j < rs && !c.inPlace; ++j)
            ASSERT_EQ(out[size_t(row + j)], -1.0f) << describe(c) << ": wrote past the row";
        }
  }

  /// One row of n values through the softmax (scale 1, no addend).
  std::vector<float> row(std::vector<float> x) {
    std::vector<float> y(x.size());
    kiln_softmax_desc d{};
    d.m = 1;
    d.n = int64_t(x.size());
    d.x = x.data();
    d.x_rs = d.n;
    d.y = y.data();
    d.y_rs = d.n;
    d.scale = 1.0;
    d.batch[0] = d.batch[1] = 1;
    run(d);
    return y;
  }
};

TEST_P(Softmax, RowLengths) {
  for (int64_t n : {1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 64, 128, 129, 1000})
    check({1, 1, 3, n, 0, 1.0, Case::None});
}

// Rows go four at a time, then one at a time (SoftmaxRows.h): every count
// of rows left over, in place and not, with each kind of addend.
TEST_P(Softmax, RowCounts) {
  for (int64_t m : {1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13})
    for (Case::Addend a : {Case::None, Case::PerElement, Case::PerColumnBroadcast})
      for (bool inPlace : {false, true}) {
        Case c{1, 1, m, 33, 3, 0.125, a};
        c.inPlace = inPlace;
        check(c);
      }
}

/// softmaxToPanel (the fused attention's P) against softmaxRows then
/// packA: the same floats, in packA's layout, zeros past the rows; every
/// row count up to the tile's and rows longer than one vector or not.
TEST_P(Softmax, ToPanelIsRowsThenPackA) {
  const kiln::GemmMicroKernel &kernel = kiln::gemmMicroKernel(GetParam());
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> scores(-8.0f, 8.0f);
  for (int64_t rows = 1; rows <= kernel.mr; ++rows)
    for (int64_t n : {1, 7, 16, 33, 128}) {
      const int64_t rs = n + 5;
      std::vector<float> x(static_cast<size_t>(rows * rs)), mask(static_cast<size_t>(n));
      for (float &v : x)
        v = scores(rng);
      for (float &v : mask)
        v = scores(rng) < -6.0f ? -10000.0f : 0.0f;
      std::vector<float> y(x.size()), expected(size_t(kernel.mr * n)), got(expected.size(), -1.0f);
      kernel.softmaxRows(x.data(), rs, y.data(), rs, mask.data(), 0, 1, rows, n, 0.125f);
      kernel.packA(y.data(), rs, 1, rows, n, expected.data());
      kernel.softmaxToPanel(x.data(), rs, mask.data(), 0, 1, rows, n, 0.125f, got.data());
      for (size_t i = 0; i < got.size(); ++i)
        ASSERT_EQ(got[i], expected[i]) << rows << " rows of " << n << ", at " << i;
    }
}

TEST_P(Softmax, ScalesAndAddends) {
  for (double scale : {1.0, 0.125, 0.1767766952966369, -0.5})
    for (Case::Addend a : {Case::None, Case::PerElement, Case::PerColumnBroadcast, Case::Scalar})
      for (int64_t n : {5, 16, 77, 128})
        check({1, 1, 4, n, 0, scale, a});
}

TEST_P(Softmax, AttentionBatches) {
  // Scores [2, 12, 128, 128] with a mask [2, 1, 1, 128] (broadcast over
  // heads and query rows) or [2, 1, 128, 128] (over heads).
  check({2, 12, 128, 128, 0, 0.125, Case::PerColumnBroadcast, false});
  check({2, 3, 19, 21, 0, 0.125, Case::PerElement, false});
  check({2, 3, 19, 21, 5, 0.5, Case::PerElement, true});
}

TEST_P(Softmax, StridedAndInPlace) {
  check({2, 2, 5, 40, 9, 1.0, Case::PerElement});
  check({2, 2, 5, 40, 0, 1.0, Case::PerElement, true, /*inPlace=*/true});
  check({1, 1, 7, 3, 0, 2.0, Case::Scalar, true, /*inPlace=*/true});
}

TEST_P(Softmax, Threads) {
  ThreadPool pool(3);
  check({2, 12, 128, 128, 0, 0.125, Case::PerColumnBroadcast, false}, &pool);
  check({1, 1, 1001, 37, 3, 1.0, Case::PerElement}, &pool); // rows split unevenly
  check({1, 1, 2, 5, 0, 1.0, Case::None}, &pool);           // too small to split
}

TEST_P(Softmax, MaskedValuesWeighNothing) {
  const float lowest = std::numeric_limits<float>::lowest();
  for (float masked : {-1e4f, lowest, -INFINITY}) {
    std::vector<float> x(37, 0.5f);
    x[3] = 2.0f;
    for (size_t j = 20; j < x.size(); ++j)
      x[j] = masked;
    const std::vector<float> y = row(x);
    for (size_t j = 20; j < x.size(); ++j)
      ASSERT_EQ(y[j], 0.0f) << "masked with " << masked << " at " << j;
    const double e = std::exp(1.5);
    EXPECT_NEAR(y[3], e / (e + 19), 4e-7);
  }
}

TEST_P(Softmax, NonFiniteRowsAreNaN) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  // NaN anywhere (also past the first vector, and as the last of a tail),
  // +inf anywhere, or nothing but -inf: the whole row is NaN.
  for (size_t n : {5u, 16u, 37u})
    for (float bad : {nan, INFINITY})
      for (size_t at : {size_t(0), n / 2, n - 1}) {
        std::vector<float> x(n, 1.0f);
        x[at] = bad;
        for (float v : row(x))
          ASSERT_TRUE(std::isnan(v)) << n << " values, " << bad << " at " << at;
      }
  for (float v : row(std::vector<float>(19, -INFINITY)))
    ASSERT_TRUE(std::isnan(v));
  // Large finite values are shifted by the max, so nothing overflows.
  const std::vector<float> y = row({FLT_MAX, FLT_MAX, 0.0f});
  EXPECT_EQ(y[0], 0.5f);
  EXPECT_EQ(y[1], 0.5f);
  EXPECT_EQ(y[2], 0.0f);
}

TEST_P(Softmax, EmptyAndBadDescriptors) {
  kiln_softmax_desc d{};
  d.batch[0] = d.batch[1] = 1;
  run(d); // m = n = 0: nothing to do, nothing read
  d.m = d.n = 4;
  std::vector<float> x(16, 1.0f), a(16);
  d.x = x.data();
  d.y = x.data();
  d.x_rs = d.y_rs = 4;
  d.addend = a.data();
  d.addend_cs = 2;
  EXPECT_THROW(run(d), std::invalid_argument);
  d.addend_cs = 1;
  d.m = -1;
  EXPECT_THROW(run(d), std::invalid_argument);
}

INSTANTIATE_TEST_SUITE_P(Families, Softmax, testing::ValuesIn(kFp32Families),
                         fp32FamilyTestName);

} // namespace
