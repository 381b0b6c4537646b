//===- sparse_gemm_test.cpp - The sparse GEMM against a dense reference ---===//
//
// Internals: links libkiln_runtime.a and includes runtime/src. The sparse
// GEMM (kiln_sparse_gemm_desc, B packed by kiln_sparse_pack.h) against a
// dense double reference of kiln_abi.h's formula over odd shapes, both block
// widths, sparsity patterns (all zero, dense, 1x4 blocks, unstructured, a
// whole zero chunk of columns), every epilogue, accumulation, batches and
// threads. Every test runs once per family and skips those the CPU lacks.
//
//===----------------------------------------------------------------------===//

#include "ThreadPool.h"
#include "kernels/GemmKernels.h"
#include "kernels/SparseGemm.h"
#include "kernels/SparseGemmKernels.h"
#include "kiln/kiln_sparse_pack.h"

#include "gemm_reference.h"
#include "sparse_patterns.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

using kiln::SparseGemmFamily;

namespace {
const char *familyName(SparseGemmFamily f) {
  return f == SparseGemmFamily::Portable ? "portable" : "avx512";
}
} // namespace

namespace kiln {
void PrintTo(SparseGemmFamily f, std::ostream *os) { *os << familyName(f); }
} // namespace kiln

namespace {

using kiln_test::Pattern;
using kiln_test::patternName;

/// A k x n row-major B with the pattern's zeros (sparse_patterns.h).
std::vector<float> makeB(int64_t k, int64_t n, Pattern pattern, std::mt19937 &rng) {
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  return kiln_test::makeSparseB<float>(k, n, pattern, rng, [&](std::mt19937 &r) {
    float v = 0.0f;
    while (v == 0.0f)
      v = value(r);
    return v;
  });
}

/// A blob of kiln_sparse_pack.h, 64-byte aligned.
struct Blob {
  std::vector<uint8_t> storage;
  size_t offset = 0;
  const void *data() const { return storage.data() + offset; }
};

Blob pack(const std::vector<float> &b, int64_t k, int64_t n, int64_t w) {
  const int64_t stored = kiln_sparse_count_blocks(b.data(), n, 1, k, n, w);
  Blob blob;
  blob.storage.resize(size_t(kiln_sparse_packed_size(n, w, stored)) + 64);
  blob.offset = (64 - reinterpret_cast<uintptr_t>(blob.storage.data()) % 64) % 64;
  kiln_sparse_pack_b(b.data(), n, 1, k, n, w, blob.storage.data() + blob.offset);
  return blob;
}

using kiln_test::activate;

struct Case {
  int64_t m, n, k, w;
  Pattern pattern = Pattern::Unstructured;
  bool accumulate = false, bias = false, residual = false;
  int64_t activation = KILN_GEMM_ACT_NONE;
  int64_t batch = 1;
  unsigned threads = 1;
};

std::string describe(const Case &c) {
  return std::to_string(c.m) + "x" + std::to_string(c.n) + "x" + std::to_string(c.k) + " W=" +
         std::to_string(c.w) + " " + patternName(c.pattern) + (c.accumulate ? " acc" : "") +
         (c.bias ? " bias" : "") + (c.residual ? " residual" : "") + " act=" +
         std::to_string(c.activation) + " batch=" + std::to_string(c.batch) +
         " threads=" + std::to_string(c.threads);
}

class SparseGemm : public ::testing::TestWithParam<SparseGemmFamily> {
protected:
  void SetUp() override {
    if (!kiln::sparseGemmFamilySupported(GetParam()))
      GTEST_SKIP() << "this CPU (or build) lacks " << familyName(GetParam());
  }

  const kiln::SparseGemmMicroKernel &kernel() { return kiln::sparseGemmMicroKernel(GetParam()); }
  kiln::GemmEpilogueFn epilogue() {
    return kiln::gemmMicroKernel(GetParam() == SparseGemmFamily::Portable
                                     ? kiln::GemmFamily::Portable
                                     : kiln::GemmFamily::Avx512)
        .epilogue;
  }

  /// Runs `c` (A row-major, C with 3 guard columns past n) and compares
  /// every element with the reference; false after the first mismatch.
  bool check(const Case &c) {
    std::mt19937 rng(unsigned(c.m * 1009 + c.n * 31 + c.k * 7 + c.w));
    std::uniform_real_distribution<float> value(-1.0f, 1.0f);
    const int64_t ldc = c.n + 3, rrs = c.n + 1;
    const float guard = 12345.0f;
    std::vector<std::vector<float>> bs;
    std::vector<Blob> blobs;
    for (int64_t g = 0; g < c.batch; ++g) {
      bs.push_back(makeB(c.k, c.n, c.pattern, rng));
      blobs.push_back(pack(bs.back(), c.k, c.n, c.w));
    }
    // The batch's blobs (their sizes differ) as one buffer, `stride` bytes
    // apart (batch_stride_b).
    int64_t largest = 0;
    for (const Blob &b : blobs)
      largest = std::max<int64_t>(largest, int64_t(b.storage.size()));
    const int64_t stride = (largest + 63) / 64 * 64;
    std::vector<uint8_t> joined(size_t(stride * c.batch + 64), 0);
    const size_t base = (64 - reinterpret_cast<uintptr_t>(joined.data()) % 64) % 64;
    for (int64_t g = 0; g < c.batch; ++g)
      std::memcpy(joined.data() + base + size_t(g * stride), blobs[size_t(g)].data(),
                  blobs[size_t(g)].storage.size() - blobs[size_t(g)].offset);

    std::vector<float> a(size_t(c.batch * c.m * c.k)), out(size_t(c.batch * c.m * ldc), guard);
    std::vector<float> residual(size_t(c.batch * c.m * rrs)), bias(size_t(c.n));
    for (float &x : a)
      x = value(rng);
    for (float &x : residual)
      x = value(rng);
    for (float &x : bias)
      x = value(rng);
    if (c.accumulate)
      for (int64_t g = 0; g < c.batch; ++g)
        for (int64_t i = 0; i < c.m; ++i)
          for (int64_t j = 0; j < c.n; ++j)
            out[size_t((g * c.m + i) * ldc + j)] = value(rng);
    const std::vector<float> before = out;

    kiln_sparse_gemm_desc d{};
    d.m = c.m;
    d.n = c.n;
    d.k = c.k;
    d.a = a.data();
    d.a_rs = c.k;
    d.a_cs = 1;
    d.b = joined.data() + base;
    d.c = out.data();
    d.ldc = ldc;
    d.accumulate = c.accumulate;
    d.bias = c.bias ? bias.data() : nullptr;
    d.activation = c.activation;
    d.residual = c.residual ? residual.data() : nullptr;
    d.residual_rs = rrs;
    // A batch of 1 x batch: the second batch dim strides.
    d.batch[0] = 1;
    d.batch[1] = c.batch;
    d.batch_stride_a[1] = c.m * c.k;
    d.batch_stride_b[1] = stride;
    d.batch_stride_c[1] = c.m * ldc;
    d.batch_stride_residual[1] = c.m * rrs;
    std::unique_ptr<kiln::ThreadPool> pool;
    if (c.threads > 1)
      pool.reset(new kiln::ThreadPool(c.threads));
    kiln::sparseGemmWith(kernel(), epilogue(), d, pool.get());

    const bool gelu = c.activation == KILN_GEMM_ACT_GELU_ERF ||
                      c.activation == KILN_GEMM_ACT_GELU_TANH;
    for (int64_t g = 0; g < c.batch; ++g)
      for (int64_t i = 0; i < c.m; ++i)
        for (int64_t j = 0; j < ldc; ++j) {
          const size_t where = size_t((g * c.m + i) * ldc + j);
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
            const double term = double(a[size_t((g * c.m + i) * c.k + p)]) *
                                double(bs[size_t(g)][size_t(p * c.n + j)]);
            sum += term;
            magnitude += std::fabs(term);
          }
          double expected = sum;
          if (c.bias) {
            expected += bias[size_t(j)];
            magnitude += std::fabs(bias[size_t(j)]);
          }
          expected = activate(c.activation, expected);
          const double r = c.residual ? residual[size_t((g * c.m + i) * rrs + j)] : 0.0;
          expected += r;
          magnitude += std::fabs(r) + std::fabs(expected);
          const double tolerance =
              1.2 * double(c.k + 3) * FLT_EPSILON * magnitude + (gelu ? 1e-5 : 0.0) + 1e-30;
          if (!(std::fabs(got - expected) <= tolerance)) {
            ADD_FAILURE() << describe(c) << ": C[" << g << "][" << i << "][" << j << "] = " << got
                          << ", expected " << expected << " (tolerance " << tolerance << ")";
            return false;
          }
        }
    return true;
  }
};

constexpr int64_t kRows[] = {1, 2, 3, 4, 7, 128, 129};
constexpr Pattern kPatterns[] = {Pattern::AllZero, Pattern::Dense, Pattern::Blocks1x4,
                                 Pattern::Unstructured, Pattern::ZeroChunk};

TEST_P(SparseGemm, ShapesWidthsAndPatterns) {
  const int64_t nk[][2] = {{1, 1}, {3, 5}, {19, 37}, {45, 70}, {67, 130}, {150, 33}};
  for (int64_t w : {1, 4})
    for (Pattern pattern : kPatterns)
      for (int64_t m : kRows)
        for (const auto &s : nk) {
          Case c{m, s[0], s[1], w};
          c.pattern = pattern;
          ASSERT_TRUE(check(c));
        }
}

TEST_P(SparseGemm, Epilogues) {
  for (int64_t w : {1, 4})
    for (int64_t act = KILN_GEMM_ACT_NONE; act <= KILN_GEMM_ACT_RELU; ++act)
      for (int flags = 0; flags < 8; ++flags)
        for (int64_t m : {3, 129}) {
          Case c{m, 45, 70, w};
          c.pattern = Pattern::Blocks1x4;
          c.activation = act;
          c.bias = flags & 1;
          c.residual = flags & 2;
          c.accumulate = flags & 4;
          ASSERT_TRUE(check(c));
        }
}

TEST_P(SparseGemm, EpilogueOfAnAllZeroB) {
  for (int64_t w : {1, 4}) {
    Case c{7, 21, 9, w};
    c.pattern = Pattern::AllZero;
    c.bias = c.residual = true;
    c.activation = KILN_GEMM_ACT_GELU_ERF;
    ASSERT_TRUE(check(c));
  }
}

TEST_P(SparseGemm, Batches) {
  for (int64_t w : {1, 4})
    for (Pattern pattern : {Pattern::Blocks1x4, Pattern::Unstructured}) {
      Case c{7, 33, 40, w};
      c.pattern = pattern;
      c.batch = 3;
      c.bias = c.residual = true;
      c.activation = KILN_GEMM_ACT_RELU;
      ASSERT_TRUE(check(c));
    }
}

TEST_P(SparseGemm, Threads) {
  for (int64_t w : {1, 4})
    for (int64_t m : {4, 129, 200}) {
      Case c{m, 300, 96, w};
      c.pattern = Pattern::Blocks1x4;
      c.threads = 3;
      c.batch = m == 4 ? 5 : 1;
      c.bias = true;
      c.activation = KILN_GEMM_ACT_GELU_TANH;
      ASSERT_TRUE(check(c));
    }
}

TEST_P(SparseGemm, EmptyK) {
  for (int64_t w : {1, 4}) {
    Case c{5, 9, 0, w};
    c.accumulate = c.bias = true;
    ASSERT_TRUE(check(c));
  }
}

INSTANTIATE_TEST_SUITE_P(Families, SparseGemm,
                         ::testing::Values(SparseGemmFamily::Portable, SparseGemmFamily::Avx512),
                         [](const ::testing::TestParamInfo<SparseGemmFamily> &info) {
                           return std::string(familyName(info.param));
                         });

TEST(SparsePack, Layout) {
  // B (3 x 6): block column 0 (cols 0-3) has rows 0 and 2, block column 1
  // (cols 4-5, padded to 4) has row 1.
  const float b[3][6] = {{1, 0, 0, 2, 0, 0}, {0, 0, 0, 0, 0, 3}, {0, -4, 0, 0, 0, 0}};
  const int64_t stored = kiln_sparse_count_blocks(&b[0][0], 6, 1, 3, 6, 4);
  ASSERT_EQ(stored, 3);
  std::vector<uint8_t> blob(size_t(kiln_sparse_packed_size(6, 4, stored)));
  kiln_sparse_pack_b(&b[0][0], 6, 1, 3, 6, 4, blob.data());
  int64_t k, n, w, s;
  kiln_sparse_header(blob.data(), &k, &n, &w, &s);
  EXPECT_EQ(k, 3);
  EXPECT_EQ(n, 6);
  EXPECT_EQ(w, 4);
  EXPECT_EQ(s, 3);
  int32_t starts[3], rows[3];
  std::memcpy(starts, blob.data() + KILN_SPARSE_HEADER_BYTES, sizeof starts);
  std::memcpy(rows, blob.data() + kiln_sparse_rows_offset(6, 4), sizeof rows);
  EXPECT_EQ(starts[0], 0);
  EXPECT_EQ(starts[1], 2);
  EXPECT_EQ(starts[2], 3);
  EXPECT_EQ(rows[0], 0);
  EXPECT_EQ(rows[1], 2);
  EXPECT_EQ(rows[2], 1);
  float values[12];
  std::memcpy(values, blob.data() + kiln_sparse_values_offset(6, 4, 3), sizeof values);
  const float expected[12] = {1, 0, 0, 2, 0, -4, 0, 0, 0, 3, 0, 0};
  for (int i = 0; i < 12; ++i)
    EXPECT_EQ(values[i], expected[i]) << i;
  EXPECT_EQ(kiln_sparse_rows_offset(6, 4) % 64, 0);
  EXPECT_EQ(kiln_sparse_values_offset(6, 4, 3) % 64, 0);
}

TEST(SparseGemmDispatch, RejectsAMismatchedB) {
  const float b[2][3] = {{1, 0, 2}, {0, 0, 3}};
  std::vector<uint8_t> blob(size_t(kiln_sparse_packed_size(3, 1, 3)));
  kiln_sparse_pack_b(&b[0][0], 3, 1, 2, 3, 1, blob.data());
  float a[2] = {1, 2}, c[3];
  kiln_sparse_gemm_desc d{};
  d.m = 1;
  d.n = 3;
  d.k = 3; // the blob says 2
  d.a = a;
  d.a_rs = 2;
  d.a_cs = 1;
  d.b = blob.data();
  d.c = c;
  d.ldc = 3;
  d.batch[0] = d.batch[1] = 1;
  EXPECT_THROW(kiln::sparseGemm(d, nullptr), std::invalid_argument);
  d.k = 2;
  d.activation = 9;
  EXPECT_THROW(kiln::sparseGemm(d, nullptr), std::invalid_argument);
  d.activation = KILN_GEMM_ACT_NONE;
  kiln::sparseGemm(d, nullptr);
  EXPECT_EQ(c[0], 1.0f);
  EXPECT_EQ(c[1], 0.0f);
  EXPECT_EQ(c[2], 8.0f);
}

} // namespace
