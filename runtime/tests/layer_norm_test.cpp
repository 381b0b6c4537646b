//===- layer_norm_test.cpp - kiln_layer_norm_desc against a double reference ===//
//
// Internals: links libkiln_runtime.a and includes runtime/src. Every fp32
// family the CPU has runs the same cases: row lengths around the vector
// widths, every count of rows the groups of four leave, with and without a
// bias, strided and in-place rows, batches, threads, rows far from zero
// (where one-pass E[x^2] - E[x]^2 would lose the variance), and bad
// descriptors.
//
//===----------------------------------------------------------------------===//

#include "ThreadPool.h"
#include "kernels/GemmKernels.h"
#include "kernels/LayerNorm.h"

#include "gemm_reference.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

using kiln::GemmFamily;
using kiln::ThreadPool;
using kiln_test::familyName;
using kiln_test::fp32FamilyTestName;
using kiln_test::kFp32Families;

namespace {

/// One layer norm: b0 x b1 matrices of m rows of n, rows `pad` floats apart
/// beyond n; x uniform in [offset - 4, offset + 4].
struct Case {
  int64_t b0 = 1, b1 = 1, m = 1, n = 1, pad = 0;
  bool bias = true, inPlace = false;
  float offset = 0.0f;
  double epsilon = 1e-5;
};

std::string describe(const Case &c) {
  return std::to_string(c.b0) + "x" + std::to_string(c.b1) + "x" + std::to_string(c.m) + "x" +
         std::to_string(c.n) + " pad " + std::to_string(c.pad) + (c.bias ? "" : " no bias") +
         (c.inPlace ? " in place" : "") + " offset " + std::to_string(c.offset);
}

class LayerNorm : public testing::TestWithParam<GemmFamily> {
protected:
  void SetUp() override {
    if (!kiln::gemmFamilySupported(GetParam()))
      GTEST_SKIP() << "this CPU (or build) lacks " << familyName(GetParam())
                   << ": its layer norm is not tested";
  }

  void run(const kiln_layer_norm_desc &d, ThreadPool *pool = nullptr) {
    kiln::layerNormWith(kiln::gemmMicroKernel(GetParam()), d, pool);
  }

  /// Runs `c` and compares every element with the formula in double,
  /// within `tolerance` times (1 + |expected|); by default 1e-6 + 4e-7
  /// sqrt(n), the float sums' rounding (the portable family sums a row in
  /// one accumulator, the vector ones in a lane each).
  void check(const Case &c, ThreadPool *pool = nullptr, double tolerance = 0) {
    if (tolerance == 0)
      tolerance = 1e-6 + 4e-7 * std::sqrt(double(c.n));
    std::mt19937 rng(uint32_t(c.m * 131 + c.n * 7 + c.pad + int(c.bias)));
    std::uniform_real_distribution<float> values(c.offset - 4.0f, c.offset + 4.0f),
        params(-2.0f, 2.0f);
    const int64_t rs = c.n + c.pad, matrix = c.m * rs, total = c.b0 * c.b1 * matrix;
    std::vector<float> x(static_cast<size_t>(total)), y(static_cast<size_t>(total), -1.0f);
    for (float &v : x)
      v = values(rng);
    std::vector<float> scale(static_cast<size_t>(c.n)), bias(static_cast<size_t>(c.n));
    for (float &v : scale)
      v = params(rng);
    for (float &v : bias)
      v = params(rng);
    const std::vector<float> input = x;

    kiln_layer_norm_desc d{};
    d.m = c.m;
    d.n = c.n;
    d.x = x.data();
    d.x_rs = rs;
    d.y = c.inPlace ? x.data() : y.data();
    d.y_rs = rs;
    d.scale = scale.data();
    d.bias = c.bias ? bias.data() : nullptr;
    d.epsilon = c.epsilon;
    d.batch[0] = c.b0;
    d.batch[1] = c.b1;
    d.batch_stride_x[0] = d.batch_stride_y[0] = c.b1 * matrix;
    d.batch_stride_x[1] = d.batch_stride_y[1] = matrix;
    run(d, pool);

    const std::vector<float> &out = c.inPlace ? x : y;
    for (int64_t b = 0; b < c.b0 * c.b1; ++b)
      for (int64_t i = 0; i < c.m; ++i) {
        const int64_t row = b * matrix + i * rs;
        double mean = 0, var = 0;
        for (int64_t j = 0; j < c.n; ++j)
          mean += input[size_t(row + j)];
        mean /= double(c.n);
        for (int64_t j = 0; j < c.n; ++j)
          var += (input[size_t(row + j)] - mean) * (input[size_t(row + j)] - mean);
        var /= double(c.n);
        const double r = 1.0 / std::sqrt(var + double(float(c.epsilon)));
        for (int64_t j = 0; j < c.n; ++j) {
          const double expected = (input[size_t(row + j)] - mean) * r * scale[size_t(j)] +
                                  (c.bias ? bias[size_t(j)] : 0.0);
          ASSERT_NEAR(out[size_t(row + j)], expected, tolerance * (1 + std::fabs(expected)))
              << describe(c) << " at (" << b << ", " << i << ", " << j << ")";
        }
        for (int64_t j = c.n; j < rs && !c.inPlace; ++j)
          ASSERT_EQ(out[size_t(row + j)], -1.0f) << describe(c) << ": wrote past the row";
      }
  }
};

TEST_P(LayerNorm, RowLengths) {
  for (int64_t n : {1, 2, 7, 8, 9, 15, 16, 17, 33, 64, 384, 768, 1001})
    check({1, 1, 3, n});
}

TEST_P(LayerNorm, RowCountsBiasAndInPlace) {
  for (int64_t m : {1, 2, 3, 4, 5, 6, 7, 8, 9, 13})
    for (bool bias : {true, false})
      for (bool inPlace : {false, true}) {
        Case c{1, 1, m, 37, 3};
        c.bias = bias;
        c.inPlace = inPlace;
        check(c);
      }
}

TEST_P(LayerNorm, Batches) {
  check({2, 3, 5, 48, 4});
  check({1, 12, 1, 384, 0});
}

TEST_P(LayerNorm, Threads) {
  ThreadPool pool(3);
  check({1, 1, 128, 384, 0}, &pool);
  check({2, 1, 1001, 37, 3}, &pool); // rows split unevenly, across matrices
  check({1, 1, 2, 5, 0}, &pool);     // too small to split
}

// Rows around 1000 with a spread of a few units: the variance comes from
// the deviations (two passes), not from E[x^2] - E[x]^2, which in float
// would be off by ~0.1 of itself here. What is left is the float mean's
// rounding (~1e-5 of the spread).
TEST_P(LayerNorm, RowsFarFromZero) {
  Case c{1, 1, 9, 384, 0};
  c.offset = 1000.0f;
  check(c, nullptr, 2e-4);
}

// A constant row has variance 0: y is bias (x - mean is exactly 0), and
// epsilon keeps the reciprocal finite.
TEST_P(LayerNorm, ConstantRowsGiveTheBias) {
  std::vector<float> x(2 * 20, 3.25f), y(x.size()), scale(20, 2.0f), bias(20);
  for (size_t j = 0; j < bias.size(); ++j)
    bias[j] = float(j) - 7.5f;
  kiln_layer_norm_desc d{};
  d.m = 2, d.n = 20, d.x = x.data(), d.x_rs = 20, d.y = y.data(), d.y_rs = 20;
  d.scale = scale.data(), d.bias = bias.data(), d.epsilon = 1e-12;
  d.batch[0] = d.batch[1] = 1;
  run(d);
  for (size_t i = 0; i < y.size(); ++i)
    ASSERT_EQ(y[i], bias[i % 20]) << "at " << i;
}

TEST_P(LayerNorm, EmptyAndBadDescriptors) {
  kiln_layer_norm_desc d{};
  d.batch[0] = d.batch[1] = 1;
  run(d); // no rows: nothing to do, nothing read
  std::vector<float> x(8, 1.0f);
  d.m = 2, d.n = 4, d.x = x.data(), d.x_rs = 4, d.y = x.data(), d.y_rs = 4;
  EXPECT_THROW(run(d), std::invalid_argument); // no scale
  d.scale = x.data();
  d.m = -1;
  EXPECT_THROW(run(d), std::invalid_argument);
}

INSTANTIATE_TEST_SUITE_P(Families, LayerNorm, testing::ValuesIn(kFp32Families),
                         fp32FamilyTestName);

} // namespace
