//===- qgemm_test.cpp - kiln::qgemm against a naive int64 reference -------===//
//
// Internals: links libkiln_runtime.a and includes runtime/src. Every test
// runs once per int8 micro-kernel family and skips those this CPU lacks.
// The reference is written from kiln_abi.h's formulas alone: int64 sums of
// the unpacked B, the same row quantization for a float A, then the same
// float operations in the same order, so every result without a GELU must
// match bit for bit (GELU is a polynomial in the kernels).
//
//===----------------------------------------------------------------------===//

#include "ThreadPool.h"
#include "kernels/QGemm.h"
#include "kernels/QGemmKernels.h"
#include "kiln/kiln_qgemm_pack.h"

#include "sparse_patterns.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

using kiln::QGemmFamily;
using kiln::ThreadPool;

namespace {
const char *familyName(QGemmFamily f) { return kiln_test::qgemmFamilyName(f); }
} // namespace

namespace kiln {
void PrintTo(QGemmFamily f, std::ostream *os) { *os << familyName(f); }
} // namespace kiln

namespace {

/// One qgemm call to check.
struct Case {
  int64_t m, n, k;
  bool dynamic = false; // A as float, quantized per row; else uint8
  bool staticScale = false; // with dynamic: the float A quantized with one
                            // given scale and zero point (int8-static)
  bool transA = false;  // A stored column-major
  int64_t activation = KILN_GEMM_ACT_NONE;
  bool bias = false, residual = false, accumulate = false;
  int64_t batch0 = 1, batch1 = 1;
  bool batchedB = false; // a B per batch index, else one shared (stride 0)
  int64_t cPad = 0;
};

std::string describe(const Case &c) {
  return "m=" + std::to_string(c.m) + " n=" + std::to_string(c.n) + " k=" + std::to_string(c.k) +
         (c.dynamic ? (c.staticScale ? " f32-A-static" : " f32-A") : " u8-A") + (c.transA ? " A^T" : "") +
         " act=" + std::to_string(c.activation) + (c.bias ? " bias" : "") +
         (c.residual ? " residual" : "") + (c.accumulate ? " accumulate" : "") +
         " batch=" + std::to_string(c.batch0) + "x" + std::to_string(c.batch1) +
         (c.batchedB ? " batched-B" : "") + " ldc=n+" + std::to_string(c.cPad);
}

/// kiln_abi.h's row quantization, written out again.
struct RowQuant {
  float scale;
  int64_t zeroPoint;
};

RowQuant referenceRowQuant(const float *row, int64_t stride, int64_t k) {
  float lo = 0.0f, hi = 0.0f;
  for (int64_t p = 0; p < k; ++p) {
    lo = std::min(lo, row[p * stride]);
    hi = std::max(hi, row[p * stride]);
  }
  const float scale = (hi - lo) / 255.0f;
  if (!(scale >= FLT_MIN))
    return {1.0f, 0};
  return {scale, std::min<int64_t>(255, int64_t(std::nearbyint(-lo / scale)))};
}

int64_t referenceQuantize(float x, RowQuant q) {
  const float v = std::nearbyint(x / q.scale) + float(q.zeroPoint);
  return v < 0.0f ? 0 : v > 255.0f ? 255 : int64_t(v);
}

float referenceActivation(float x, int64_t act) {
  switch (act) {
  case KILN_GEMM_ACT_RELU:
    return std::max(0.0f, x);
  case KILN_GEMM_ACT_GELU_ERF:
    return float(0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))));
  case KILN_GEMM_ACT_GELU_TANH:
    return float(0.5 * x *
                 (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * double(x) * x * x))));
  default:
    return x;
  }
}

class QGemm : public testing::TestWithParam<QGemmFamily> {
protected:
  void SetUp() override {
    if (!kiln::qgemmFamilySupported(GetParam()))
      GTEST_SKIP() << familyName(GetParam()) << " is not available on this CPU";
  }

  const kiln::QGemmMicroKernel &kernel() const { return kiln::qgemmMicroKernel(GetParam()); }

  /// Runs `c` with random operands (or A and B filled with aFill / bFill
  /// when given, for the extremes) and compares with the reference.
  bool check(const Case &c, ThreadPool *pool = nullptr, int aFill = -1, int bFill = 1000) {
    std::mt19937 rng(unsigned(c.m * 7919 + c.n * 104729 + c.k * 13 + c.activation));
    std::uniform_int_distribution<int> u8(0, 255), s8(-128, 127);
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    const int64_t batches = c.batch0 * c.batch1;
    const int64_t bCount = c.batchedB ? batches : 1;

    // A: m x k per batch, row-major with a padded row or column-major.
    const int64_t aRs = c.transA ? 1 : c.k + 3, aCs = c.transA ? c.m + 2 : 1;
    const int64_t aStride = c.transA ? (c.k - 1) * aCs + c.m + 5 : c.m * aRs + 1;
    std::vector<float> af(size_t(batches * aStride));
    std::vector<uint8_t> au(af.size());
    for (size_t i = 0; i < af.size(); ++i) {
      // Some rows entirely one sign, to cover zero points of 0 and 255.
      af[i] = uniform(rng) * (i % 7 == 0 ? 3.0f : 1.0f);
      au[i] = uint8_t(aFill >= 0 ? aFill : u8(rng));
    }
    if (c.dynamic && c.m > 2 && c.k > 0)
      for (int64_t p = 0; p < c.k; ++p) {
        af[size_t(1 * aRs + p * aCs)] = std::fabs(af[size_t(1 * aRs + p * aCs)]) + 0.5f;
        af[size_t(2 * aRs + p * aCs)] = -std::fabs(af[size_t(2 * aRs + p * aCs)]);
      }
    const float aScale = 0.0173f;
    const uint8_t aZero = uint8_t(aFill >= 0 ? 255 - aFill : u8(rng));

    // B: k x n int8 per B, row-major, then packed.
    std::vector<int8_t> b(size_t(bCount * c.k * c.n));
    for (int8_t &v : b)
      v = int8_t(bFill != 1000 ? bFill : s8(rng));
    const int64_t packedSize = kiln_qgemm_packed_size(c.k, c.n);
    std::vector<uint8_t> packed(size_t(bCount * packedSize + 1));
    // Off by one byte: B at any alignment must work (loadu throughout).
    uint8_t *packedB = packed.data() + 1;
    for (int64_t bi = 0; bi < bCount; ++bi)
      kiln_qgemm_pack_b(b.data() + bi * c.k * c.n, c.n, 1, c.k, c.n, packedB + bi * packedSize);
    std::vector<float> bScale(size_t(bCount * c.n));
    for (float &s : bScale)
      s = 0.001f + 0.01f * (uniform(rng) + 1.0f);

    std::vector<float> bias(size_t(c.n));
    for (float &v : bias)
      v = uniform(rng);
    const int64_t ldc = c.n + c.cPad, residualRs = c.n + 2;
    std::vector<float> residual(size_t(batches * c.m * residualRs));
    for (float &v : residual)
      v = uniform(rng);
    std::vector<float> out(size_t(batches * c.m * ldc));
    for (float &v : out)
      v = c.accumulate ? uniform(rng) : NAN;
    std::vector<float> expected = out;
    // GELU's tolerance, by the size of its argument: the kernels' erf and
    // tanh are within 3e-7 absolute, times |x| / 2.
    std::vector<float> tolerance(out.size(), 0.0f);

    kiln_qgemm_desc d{};
    d.m = c.m;
    d.n = c.n;
    d.k = c.k;
    d.a = c.dynamic ? static_cast<const void *>(af.data()) : au.data();
    d.a_type = c.dynamic ? KILN_DTYPE_FLOAT32 : KILN_DTYPE_UINT8;
    d.a_rs = aRs;
    d.a_cs = aCs;
    // A float A is dynamic without a scale, static with one.
    d.a_scale = !c.dynamic || c.staticScale ? &aScale : nullptr;
    d.a_zero_point = &aZero;
    d.b = packedB;
    d.b_scale = bScale.data();
    d.c = out.data();
    d.ldc = ldc;
    d.accumulate = c.accumulate;
    d.bias = c.bias ? bias.data() : nullptr;
    d.activation = c.activation;
    d.residual = c.residual ? residual.data() : nullptr;
    d.residual_rs = residualRs;
    d.batch[0] = c.batch0;
    d.batch[1] = c.batch1;
    // Batch strides in both dimensions: b0 moves by batch1 GEMMs.
    d.batch_stride_a[0] = c.batch1 * aStride;
    d.batch_stride_a[1] = aStride;
    d.batch_stride_b[0] = c.batchedB ? c.batch1 * packedSize : 0;
    d.batch_stride_b[1] = c.batchedB ? packedSize : 0;
    d.batch_stride_b_scale[0] = c.batchedB ? c.batch1 * c.n : 0;
    d.batch_stride_b_scale[1] = c.batchedB ? c.n : 0;
    d.batch_stride_c[0] = c.batch1 * c.m * ldc;
    d.batch_stride_c[1] = c.m * ldc;
    d.batch_stride_residual[0] = c.batch1 * c.m * residualRs;
    d.batch_stride_residual[1] = c.m * residualRs;
    kiln::qgemmWith(kernel(), d, pool);

    const bool exact =
        c.activation != KILN_GEMM_ACT_GELU_ERF && c.activation != KILN_GEMM_ACT_GELU_TANH;
    for (int64_t bi = 0; bi < batches; ++bi) {
      const int64_t bb = c.batchedB ? bi : 0;
      for (int64_t i = 0; i < c.m; ++i) {
        const int64_t rowAt = bi * aStride + i * aRs;
        RowQuant q{aScale, aZero};
        if (c.dynamic && !c.staticScale)
          q = referenceRowQuant(af.data() + rowAt, aCs, c.k);
        std::vector<int64_t> aq(size_t(c.k));
        for (int64_t p = 0; p < c.k; ++p)
          aq[size_t(p)] = c.dynamic ? referenceQuantize(af[size_t(rowAt + p * aCs)], q)
                                    : au[size_t(rowAt + p * aCs)];
        for (int64_t j = 0; j < c.n; ++j) {
          int64_t s = 0;
          for (int64_t p = 0; p < c.k; ++p)
            s += (aq[size_t(p)] - q.zeroPoint) * b[size_t(bb * c.k * c.n + p * c.n + j)];
          if (s < INT32_MIN || s > INT32_MAX) {
            ADD_FAILURE() << "the reference sum overflows int32: " << describe(c);
            return false;
          }
          float &e = expected[size_t(bi * c.m * ldc + i * ldc + j)];
          const float v = float(s) * (q.scale * bScale[size_t(bb * c.n + j)]);
          float x = c.accumulate ? e + v : v;
          if (c.bias)
            x = x + bias[size_t(j)];
          tolerance[size_t(bi * c.m * ldc + i * ldc + j)] = 1e-6f * std::max(1.0f, std::fabs(x));
          x = referenceActivation(x, c.activation);
          if (c.residual)
            x = x + residual[size_t(bi * c.m * residualRs + i * residualRs + j)];
          e = x;
        }
      }
    }
    for (size_t i = 0; i < out.size(); ++i) {
      const float got = out[i], want = expected[i];
      const bool padding = int64_t(i) % ldc >= c.n;
      const bool same =
          padding ? std::isnan(got) == std::isnan(want) && (std::isnan(got) || got == want)
          : exact ? got == want
                  : std::fabs(got - want) <= tolerance[i];
      if (!same) {
        ADD_FAILURE() << familyName(GetParam()) << " " << describe(c) << ": C[" << i / ldc << "]["
                      << i % ldc << "] = " << got << ", expected " << want;
        return false;
      }
    }
    return true;
  }
};

// Sizes around every family's tile (4x16, 4x8, 6x16, 8x48) and its row
// classes (1, 2, 4, MR), and k around the groups of 4.
const int64_t kRows[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 17};
const int64_t kCols[] = {1, 7, 8, 15, 16, 17, 31, 33, 47, 48, 49, 64, 97};
const int64_t kDepths[] = {1, 2, 3, 4, 5, 7, 8, 17, 64, 131};

TEST_P(QGemm, ShapeGridUint8) {
  for (int64_t m : kRows)
    for (int64_t n : kCols)
      for (int64_t k : kDepths)
        ASSERT_TRUE(check({m, n, k}));
}

TEST_P(QGemm, ShapeGridDynamic) {
  for (int64_t m : kRows)
    for (int64_t n : kCols)
      for (int64_t k : kDepths) {
        Case c{m, n, k};
        c.dynamic = true;
        ASSERT_TRUE(check(c));
      }
}

// A static scale (0.0173) against A in [-3, 3) and a random zero point:
// many values saturate at 0 or 255.
TEST_P(QGemm, ShapeGridStatic) {
  for (int64_t m : kRows)
    for (int64_t n : kCols)
      for (int64_t k : kDepths) {
        Case c{m, n, k};
        c.dynamic = c.staticScale = true;
        ASSERT_TRUE(check(c));
      }
}

TEST_P(QGemm, DeepSums) {
  for (bool dynamic : {false, true})
    for (const Case &shape :
         {Case{5, 40, 3072}, Case{37, 130, 768}, Case{1, 769, 3071}, Case{3, 17, 4099}}) {
      Case c = shape;
      c.dynamic = dynamic;
      ASSERT_TRUE(check(c));
    }
}

// The largest sums there are: every product 255 * -128 or 255 * 127, up to
// KILN_QGEMM_MAX_K of them, and A = 0 less a zero point of 255.
TEST_P(QGemm, ExtremeSums) {
  ASSERT_TRUE(check({3, 20, 4096}, nullptr, 255, -128));
  ASSERT_TRUE(check({2, 17, KILN_QGEMM_MAX_K}, nullptr, 255, -128));
  ASSERT_TRUE(check({2, 17, KILN_QGEMM_MAX_K}, nullptr, 255, 127));
  ASSERT_TRUE(check({2, 33, 1000}, nullptr, 0, 127));
}

TEST_P(QGemm, TransposedA) {
  for (bool dynamic : {false, true})
    for (int64_t m : {1, 5, 12})
      for (int64_t n : {3, 48, 70})
        for (int64_t k : {1, 6, 77}) {
          Case c{m, n, k};
          c.dynamic = dynamic;
          c.transA = true;
          ASSERT_TRUE(check(c));
        }
}

TEST_P(QGemm, Epilogues) {
  for (int aKind = 0; aKind < 3; ++aKind)
    for (int64_t act :
         {KILN_GEMM_ACT_NONE, KILN_GEMM_ACT_RELU, KILN_GEMM_ACT_GELU_ERF, KILN_GEMM_ACT_GELU_TANH})
      for (int flags = 0; flags < 8; ++flags)
        for (const Case &shape : {Case{1, 33, 70}, Case{9, 50, 19}, Case{17, 100, 256}}) {
          Case c = shape;
          c.dynamic = aKind > 0;
          c.staticScale = aKind == 2;
          c.activation = act;
          c.bias = flags & 1;
          c.residual = flags & 2;
          c.accumulate = flags & 4;
          c.cPad = flags & 4 ? 3 : 0;
          ASSERT_TRUE(check(c));
        }
}

TEST_P(QGemm, Batches) {
  for (bool dynamic : {false, true})
    for (bool batchedB : {false, true}) {
      Case c{7, 20, 33};
      c.dynamic = dynamic;
      c.batch0 = 2;
      c.batch1 = 3;
      c.batchedB = batchedB;
      c.bias = true;
      c.residual = true;
      c.activation = KILN_GEMM_ACT_RELU;
      ASSERT_TRUE(check(c));
    }
}

// Big enough for several tiles per thread (qgemm splits past 2^22 int8
// multiply-adds per thread): down M, across N (small M), and a batch.
TEST_P(QGemm, Threads) {
  for (unsigned threads : {2u, 3u}) {
    ThreadPool pool(threads);
    for (bool dynamic : {false, true})
      for (const Case &shape :
           {Case{130, 300, 257}, Case{2, 4000, 3000}, Case{4, 2001, 2000}, Case{300, 33, 1000}}) {
        Case c = shape;
        c.dynamic = dynamic;
        c.bias = true;
        ASSERT_TRUE(check(c, &pool)) << "threads=" << threads;
      }
    Case c{50, 200, 300};
    c.batch0 = 4;
    c.dynamic = true;
    ASSERT_TRUE(check(c, &pool)) << "threads=" << threads;
    c.staticScale = true;
    ASSERT_TRUE(check(c, &pool)) << "threads=" << threads;
  }
}

// k = 0: C is 0 (or stays), then the epilogue.
TEST_P(QGemm, EmptyK) {
  for (bool dynamic : {false, true})
    for (bool accumulate : {false, true}) {
      Case c{5, 20, 0};
      c.dynamic = dynamic;
      c.accumulate = accumulate;
      c.bias = true;
      c.activation = KILN_GEMM_ACT_RELU;
      ASSERT_TRUE(check(c));
    }
}

// The row quantization's edge cases: an all-zero row (scale 1, zero point
// 0), a constant row, values on the rounding ties.
TEST_P(QGemm, QuantizationEdges) {
  const int64_t k = 19, n = 16;
  std::vector<float> a(size_t(4 * k));
  for (int64_t p = 0; p < k; ++p) {
    a[size_t(0 * k + p)] = 0.0f;
    a[size_t(1 * k + p)] = -2.5f;
    a[size_t(2 * k + p)] = float(p) - 8.5f;        // ties at every half step
    a[size_t(3 * k + p)] = p == 3 ? 1e-37f : 0.0f; // range / 255 < FLT_MIN
  }
  std::vector<int8_t> b(size_t(k * n));
  for (size_t i = 0; i < b.size(); ++i)
    b[i] = int8_t(int(i * 37 % 255) - 127);
  std::vector<uint8_t> packed(size_t(kiln_qgemm_packed_size(k, n)));
  kiln_qgemm_pack_b(b.data(), n, 1, k, n, packed.data());
  std::vector<float> bScale(size_t(n), 1.0f), c(size_t(4 * n));
  kiln_qgemm_desc d{};
  d.m = 4;
  d.n = n;
  d.k = k;
  d.a = a.data();
  d.a_type = KILN_DTYPE_FLOAT32;
  d.a_rs = k;
  d.a_cs = 1;
  d.b = packed.data();
  d.b_scale = bScale.data();
  d.c = c.data();
  d.ldc = n;
  d.batch[0] = d.batch[1] = 1;
  kiln::qgemmWith(kernel(), d, nullptr);
  for (int64_t i = 0; i < 4; ++i) {
    const RowQuant q = referenceRowQuant(a.data() + i * k, 1, k);
    for (int64_t j = 0; j < n; ++j) {
      int64_t s = 0;
      for (int64_t p = 0; p < k; ++p)
        s += (referenceQuantize(a[size_t(i * k + p)], q) - q.zeroPoint) * b[size_t(p * n + j)];
      EXPECT_EQ(c[size_t(i * n + j)], float(s) * q.scale) << "row " << i << " column " << j;
    }
  }
  // The all-zero row and the one whose range is below FLT_MIN give 0.
  for (int64_t j = 0; j < n; ++j) {
    EXPECT_EQ(c[size_t(j)], 0.0f);
    EXPECT_EQ(c[size_t(3 * n + j)], 0.0f);
  }
}

// A static scale: values far outside the range saturate (the quotient
// would not fit int32), NaN quantizes to 0, ties round to even.
TEST_P(QGemm, StaticQuantizationEdges) {
  const int64_t k = 21, n = 16;
  std::vector<float> a(static_cast<size_t>(k));
  const float big[] = {1e30f, -1e30f, INFINITY, -INFINITY, NAN, 3e9f, -3e9f};
  for (int64_t p = 0; p < k; ++p)
    a[size_t(p)] = p < 7 ? big[p] : (float(p) - 14.0f) * 0.5f; // ties at 0.5 steps
  std::vector<int8_t> b(size_t(k * n));
  for (size_t i = 0; i < b.size(); ++i)
    b[i] = int8_t(int(i * 53 % 255) - 127);
  std::vector<uint8_t> packed(size_t(kiln_qgemm_packed_size(k, n)));
  kiln_qgemm_pack_b(b.data(), n, 1, k, n, packed.data());
  std::vector<float> bScale(static_cast<size_t>(n), 1.0f), c(static_cast<size_t>(n));
  const float scale = 1.0f;
  const uint8_t zero = 100;
  kiln_qgemm_desc d{};
  d.m = 1;
  d.n = n;
  d.k = k;
  d.a = a.data();
  d.a_type = KILN_DTYPE_FLOAT32;
  d.a_rs = k;
  d.a_cs = 1;
  d.a_scale = &scale;
  d.a_zero_point = &zero;
  d.b = packed.data();
  d.b_scale = bScale.data();
  d.c = c.data();
  d.ldc = n;
  d.batch[0] = d.batch[1] = 1;
  kiln::qgemmWith(kernel(), d, nullptr);
  const int64_t expectedAq[] = {255, 0, 255, 0, 0, 255, 0};
  for (int64_t j = 0; j < n; ++j) {
    int64_t s = 0;
    for (int64_t p = 0; p < k; ++p) {
      const int64_t aq = p < 7 ? expectedAq[p] : int64_t(std::nearbyint(a[size_t(p)])) + zero;
      s += (aq - zero) * b[size_t(p * n + j)];
    }
    EXPECT_EQ(c[size_t(j)], float(s)) << "column " << j;
  }
  // A scale that is not a positive normal float is refused.
  for (float bad : {0.0f, -1.0f, NAN, INFINITY, 1e-40f}) {
    d.a_scale = &bad;
    EXPECT_THROW(kiln::qgemmWith(kernel(), d, nullptr), std::invalid_argument) << bad;
  }
}

TEST_P(QGemm, RejectsWhatNoGemmRuns) {
  kiln_qgemm_desc d{};
  d.m = d.n = d.k = 1;
  d.batch[0] = d.batch[1] = 1;
  d.a_type = KILN_DTYPE_UINT8;
  d.activation = 99;
  EXPECT_THROW(kiln::qgemmWith(kernel(), d, nullptr), std::invalid_argument);
  d.activation = KILN_GEMM_ACT_NONE;
  d.a_type = KILN_DTYPE_INT8;
  EXPECT_THROW(kiln::qgemmWith(kernel(), d, nullptr), std::invalid_argument);
  d.a_type = KILN_DTYPE_UINT8;
  d.k = KILN_QGEMM_MAX_K + 1;
  EXPECT_THROW(kiln::qgemmWith(kernel(), d, nullptr), std::invalid_argument);
  d.k = -1;
  EXPECT_THROW(kiln::qgemmWith(kernel(), d, nullptr), std::invalid_argument);
  // Nothing to do: no operand is read.
  d.k = 5;
  d.m = 0;
  EXPECT_NO_THROW(kiln::qgemmWith(kernel(), d, nullptr));
}

INSTANTIATE_TEST_SUITE_P(Families, QGemm,
                         testing::Values(QGemmFamily::Portable, QGemmFamily::Avx2,
                                         QGemmFamily::AvxVnni, QGemmFamily::Avx512Vnni),
                         [](const testing::TestParamInfo<QGemmFamily> &info) {
                           return std::string(familyName(info.param));
                         });

// The layout kiln_qgemm_pack.h documents, byte by byte, from a row-major
// and a column-major B alike.
TEST(QGemmPack, Layout) {
  for (int64_t k : {1, 4, 5, 11})
    for (int64_t n : {1, 16, 17, 35}) {
      std::vector<int8_t> rowMajor(size_t(k * n)), colMajor(size_t(k * n));
      for (int64_t p = 0; p < k; ++p)
        for (int64_t j = 0; j < n; ++j)
          rowMajor[size_t(p * n + j)] = colMajor[size_t(j * k + p)] =
              int8_t(int((p * 31 + j * 7) % 256) - 128);
      const int64_t k4 = (k + 3) / 4 * 4, n16 = (n + 15) / 16 * 16;
      ASSERT_EQ(kiln_qgemm_packed_size(k, n), n16 * k4 + 4 * n16);
      std::vector<uint8_t> fromRows(size_t(kiln_qgemm_packed_size(k, n)), 0xAA);
      std::vector<uint8_t> fromCols(fromRows.size(), 0x55);
      kiln_qgemm_pack_b(rowMajor.data(), n, 1, k, n, fromRows.data());
      kiln_qgemm_pack_b(colMajor.data(), 1, k, k, n, fromCols.data());
      EXPECT_EQ(fromRows, fromCols);
      for (int64_t j = 0; j < n16; ++j) {
        int32_t sum = 0;
        for (int64_t p = 0; p < k4; ++p) {
          const int8_t want = p < k && j < n ? rowMajor[size_t(p * n + j)] : 0;
          const size_t at = size_t(j / 16 * k4 * 16 + p / 4 * 64 + j % 16 * 4 + p % 4);
          ASSERT_EQ(at, size_t(kiln_qgemm_packed_offset(k, p, j)));
          ASSERT_EQ(int8_t(fromRows[at]), want) << "k=" << k << " n=" << n;
          sum += want;
        }
        const size_t at = size_t(n16 * k4 + 4 * j);
        ASSERT_EQ(at, size_t(kiln_qgemm_colsum_offset(k, n) + 4 * j));
        const uint32_t stored = uint32_t(fromRows[at]) | uint32_t(fromRows[at + 1]) << 8 |
                                uint32_t(fromRows[at + 2]) << 16 | uint32_t(fromRows[at + 3]) << 24;
        EXPECT_EQ(int32_t(stored), sum) << "column " << j;
      }
    }
}

// qgemm uses the best family this CPU has, or the one KILN_QGEMM_KERNEL
// names; a family the CPU lacks falls back to the best below it.
TEST(QGemmDispatch, PicksBestAvailable) {
  const QGemmFamily all[] = {QGemmFamily::Portable, QGemmFamily::Avx2, QGemmFamily::AvxVnni,
                             QGemmFamily::Avx512Vnni};
  for (QGemmFamily f : all) {
    QGemmFamily expected = QGemmFamily::Portable;
    for (QGemmFamily g : all)
      if (g <= f && kiln::qgemmFamilySupported(g))
        expected = g;
    EXPECT_STREQ(kiln::qgemmMicroKernel(f).name, familyName(expected));
  }
  const char *forced = std::getenv("KILN_QGEMM_KERNEL");
  QGemmFamily want = QGemmFamily::Avx512Vnni;
  for (QGemmFamily f : all)
    if (forced && !std::strcmp(forced, familyName(f)))
      want = f;
  EXPECT_STREQ(kiln::qgemmKernelName(), kiln::qgemmMicroKernel(want).name);
}

// The public entry point, on the kernel it picked: 2 x 3 times 3 x 2.
TEST(QGemmDispatch, Qgemm) {
  const uint8_t a[] = {1, 2, 3, 4, 5, 6};
  const int8_t b[] = {1, 0, 0, -1, 1, 1};
  std::vector<uint8_t> packed(size_t(kiln_qgemm_packed_size(3, 2)));
  kiln_qgemm_pack_b(b, 2, 1, 3, 2, packed.data());
  const float bScale[] = {1.0f, 0.5f}, aScale = 2.0f;
  const uint8_t aZero = 1;
  float c[4] = {NAN, NAN, NAN, NAN};
  kiln_qgemm_desc d{};
  d.m = d.n = 2;
  d.k = 3;
  d.a = a;
  d.a_type = KILN_DTYPE_UINT8;
  d.a_rs = 3;
  d.a_cs = 1;
  d.a_scale = &aScale;
  d.a_zero_point = &aZero;
  d.b = packed.data();
  d.b_scale = bScale;
  d.c = c;
  d.ldc = 2;
  d.batch[0] = d.batch[1] = 1;
  kiln::qgemm(d, nullptr);
  // (A - 1) = [0 1 2; 3 4 5]; times B = [2 1; 8 1]; scaled by 2 * (1, 0.5).
  EXPECT_EQ(c[0], 4.0f);
  EXPECT_EQ(c[1], 1.0f);
  EXPECT_EQ(c[2], 16.0f);
  EXPECT_EQ(c[3], 1.0f);
}

} // namespace
