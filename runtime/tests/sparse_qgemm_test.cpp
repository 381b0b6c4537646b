//===- sparse_qgemm_test.cpp - The sparse int8 GEMM against the dense one -===//
//
// Internals: links libkiln_runtime.a and includes runtime/src. The sparse
// int8 GEMM (a kiln_qgemm_desc whose b is packed by
// kiln_sparse_qgemm_pack.h) must give the dense int8 GEMM's C bit for bit,
// GELU included: its sums are exact and every float operation is the dense
// family's (SparseQGemmKernels.h). Each test runs for every pair of a
// sparse family and a dense family the CPU has, over odd shapes, both block
// widths, sparsity patterns (all zero, dense, 1x4 blocks, unstructured,
// empty columns and a zero chunk), every epilogue, dynamic, static and
// uint8 A, accumulation, batches and threads. qgemm_test.cpp holds the
// dense GEMM to kiln_abi.h's formula.
//
//===----------------------------------------------------------------------===//

#include "ThreadPool.h"
#include "kernels/QGemmKernels.h"
#include "kernels/SparseQGemm.h"
#include "kernels/SparseQGemmKernels.h"
#include "kiln/kiln_qgemm_pack.h"
#include "kiln/kiln_sparse_qgemm_pack.h"

#include "sparse_patterns.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

using kiln::QGemmFamily;
using kiln::SparseQGemmFamily;
using kiln::ThreadPool;

namespace {

using kiln_test::Pattern;
using kiln_test::patternName;

/// A k x n row-major int8 B with the pattern's zeros (sparse_patterns.h),
/// its kept values over -128..127 (extreme sums).
std::vector<int8_t> makeB(int64_t k, int64_t n, Pattern pattern, std::mt19937 &rng) {
  std::uniform_int_distribution<int> value(-128, 127);
  return kiln_test::makeSparseB<int8_t>(k, n, pattern, rng, [&](std::mt19937 &r) {
    int v = 0;
    while (v == 0)
      v = value(r);
    return int8_t(v);
  });
}

struct Case {
  int64_t m, n, k;
  Pattern pattern = Pattern::Blocks1x4;
  int64_t width = 4;
  int64_t aType = KILN_DTYPE_FLOAT32;
  bool staticScale = false; // float A: one given scale and zero point
  int64_t activation = KILN_GEMM_ACT_NONE;
  bool bias = false, residual = false, accumulate = false;
  int64_t batch0 = 1;
};

std::string describe(const Case &c) {
  return "m=" + std::to_string(c.m) + " n=" + std::to_string(c.n) + " k=" + std::to_string(c.k) +
         " " + patternName(c.pattern) + " W=" + std::to_string(c.width) +
         (c.aType == KILN_DTYPE_UINT8 ? " u8"
          : c.staticScale             ? " static"
                                      : " dynamic") +
         " act=" + std::to_string(c.activation) + (c.bias ? " bias" : "") +
         (c.residual ? " residual" : "") + (c.accumulate ? " accumulate" : "") +
         " batch=" + std::to_string(c.batch0);
}

class SparseQGemm : public testing::TestWithParam<std::tuple<SparseQGemmFamily, QGemmFamily>> {
protected:
  void SetUp() override {
    const auto [sparse, dense] = GetParam();
    if (!kiln::sparseQgemmFamilySupported(sparse) || !kiln::qgemmFamilySupported(dense))
      GTEST_SKIP() << "this CPU lacks the family";
  }
  const kiln::SparseQGemmMicroKernel &sparseKernel() const {
    return kiln::sparseQgemmMicroKernel(std::get<0>(GetParam()));
  }
  const kiln::QGemmMicroKernel &denseKernel() const {
    return kiln::qgemmMicroKernel(std::get<1>(GetParam()));
  }

  /// Runs the case sparse and dense (one B per batch index: the batch
  /// strides of b move between blobs) and compares C bit for bit.
  bool check(const Case &c, ThreadPool *pool = nullptr) {
    std::mt19937 rng(unsigned(c.m * 131 + c.n * 17 + c.k + int(c.pattern) * 7 + c.width));
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    std::uniform_int_distribution<int> u8(0, 255);
    const int64_t lda = c.k + 3, aStride = c.m * lda + 1;
    std::vector<float> af(size_t(c.batch0 * aStride));
    std::vector<uint8_t> au(af.size());
    for (size_t i = 0; i < af.size(); ++i) {
      af[i] = uniform(rng) * (i % 7 == 0 ? 3.0f : 1.0f);
      au[i] = uint8_t(u8(rng));
    }
    const float aScale = 0.0173f;
    const uint8_t aZero = 131;

    const int64_t denseSize = kiln_qgemm_packed_size(c.k, c.n);
    std::vector<std::vector<int8_t>> bs;
    std::vector<std::vector<uint8_t>> sparseBlobs;
    int64_t sparseSize = 0;
    for (int64_t bi = 0; bi < c.batch0; ++bi) {
      bs.push_back(makeB(c.k, c.n, c.pattern, rng));
      int64_t stored, groups;
      kiln_sparse_qgemm_count(bs.back().data(), c.n, 1, c.k, c.n, c.width, &stored, &groups);
      sparseBlobs.emplace_back(size_t(kiln_sparse_qgemm_packed_size(c.n, c.width, groups)));
      kiln_sparse_qgemm_pack_b(bs.back().data(), c.n, 1, c.k, c.n, c.width,
                               sparseBlobs.back().data());
      sparseSize = std::max<int64_t>(sparseSize, int64_t(sparseBlobs.back().size()));
    }
    // The batch's blobs one stride apart, the sparse ones padded to one size.
    std::vector<uint8_t> denseB(size_t(c.batch0 * denseSize)),
        sparseB(size_t(c.batch0 * sparseSize));
    for (int64_t bi = 0; bi < c.batch0; ++bi) {
      kiln_qgemm_pack_b(bs[size_t(bi)].data(), c.n, 1, c.k, c.n, denseB.data() + bi * denseSize);
      std::memcpy(sparseB.data() + bi * sparseSize, sparseBlobs[size_t(bi)].data(),
                  sparseBlobs[size_t(bi)].size());
    }
    std::vector<float> bScale(size_t(c.batch0 * c.n)), bias(size_t(c.n));
    for (float &s : bScale)
      s = 0.001f + 0.01f * (uniform(rng) + 1.0f);
    for (float &v : bias)
      v = uniform(rng);
    const int64_t ldc = c.n + 1, residualRs = c.n + 2;
    std::vector<float> residual(size_t(c.batch0 * c.m * residualRs));
    for (float &v : residual)
      v = uniform(rng);
    std::vector<float> dense(size_t(c.batch0 * c.m * ldc));
    for (float &v : dense)
      v = c.accumulate ? uniform(rng) : NAN;
    std::vector<float> sparse = dense;

    kiln_qgemm_desc d{};
    d.m = c.m;
    d.n = c.n;
    d.k = c.k;
    d.a = c.aType == KILN_DTYPE_FLOAT32 ? static_cast<const void *>(af.data()) : au.data();
    d.a_type = c.aType;
    d.a_rs = lda;
    d.a_cs = 1;
    d.a_scale = c.aType == KILN_DTYPE_UINT8 || c.staticScale ? &aScale : nullptr;
    d.a_zero_point = &aZero;
    d.b_scale = bScale.data();
    d.ldc = ldc;
    d.accumulate = c.accumulate;
    d.bias = c.bias ? bias.data() : nullptr;
    d.activation = c.activation;
    d.residual = c.residual ? residual.data() : nullptr;
    d.residual_rs = residualRs;
    d.batch[0] = c.batch0;
    d.batch[1] = 1;
    d.batch_stride_a[0] = aStride;
    d.batch_stride_b_scale[0] = c.n;
    d.batch_stride_c[0] = c.m * ldc;
    d.batch_stride_residual[0] = c.m * residualRs;
    kiln_qgemm_desc s = d;
    d.b = denseB.data();
    d.batch_stride_b[0] = denseSize;
    d.c = dense.data();
    s.b = sparseB.data();
    s.batch_stride_b[0] = sparseSize;
    s.c = sparse.data();
    kiln::qgemmWith(denseKernel(), d, pool);
    kiln::sparseQgemmWith(sparseKernel(), denseKernel(), s, pool);
    for (size_t i = 0; i < dense.size(); ++i) {
      const bool same = std::isnan(dense[i]) ? std::isnan(sparse[i]) : sparse[i] == dense[i];
      if (!same) {
        ADD_FAILURE() << sparseKernel().name << " with " << denseKernel().name << ", "
                      << describe(c) << ": C[" << i / size_t(ldc) << "][" << i % size_t(ldc)
                      << "] = " << sparse[i] << ", dense " << dense[i];
        return false;
      }
    }
    return true;
  }
};

// Sizes around the strip (64 rows), the chunk (16 columns), the range (128
// columns), the groups (4 stored rows) and A's transposition (16 columns
// of k at a time).
TEST_P(SparseQGemm, ShapesAndPatterns) {
  for (int64_t m : {1, 5, 63, 64, 65, 130})
    for (int64_t n : {1, 3, 16, 17, 33, 130})
      for (int64_t k : {1, 3, 4, 17, 50})
        for (Pattern pattern : {Pattern::Blocks1x4, Pattern::Unstructured, Pattern::ZeroChunk})
          for (int64_t width : {1, 4}) {
            Case c{m, n, k, pattern, width};
            c.bias = true;
            ASSERT_TRUE(check(c));
          }
}

TEST_P(SparseQGemm, AllZeroAndDense) {
  for (Pattern pattern : {Pattern::AllZero, Pattern::Dense})
    for (int64_t width : {1, 4})
      for (bool accumulate : {false, true}) {
        Case c{70, 45, 37, pattern, width};
        c.accumulate = accumulate;
        ASSERT_TRUE(check(c));
      }
}

// Every epilogue (GELU too: the dense family's own), each A type.
TEST_P(SparseQGemm, EpiloguesAndATypes) {
  for (int64_t aType : {KILN_DTYPE_FLOAT32, KILN_DTYPE_UINT8})
    for (bool staticScale : {false, true})
      for (int64_t activation : {KILN_GEMM_ACT_NONE, KILN_GEMM_ACT_GELU_ERF,
                                 KILN_GEMM_ACT_GELU_TANH, KILN_GEMM_ACT_RELU})
        for (int flags = 0; flags < 8; ++flags) {
          if (aType == KILN_DTYPE_UINT8 && staticScale)
            continue;
          Case c{67,    150,         133,       Pattern::Blocks1x4, flags % 2 ? 1 : 4,
                 aType, staticScale, activation};
          c.bias = flags & 1;
          c.residual = flags & 2;
          c.accumulate = flags & 4;
          ASSERT_TRUE(check(c));
        }
}

TEST_P(SparseQGemm, Batches) {
  for (int64_t width : {1, 4}) {
    Case c{20, 40, 30, Pattern::Unstructured, width};
    c.batch0 = 3;
    c.residual = true;
    ASSERT_TRUE(check(c));
  }
}

// Big enough to split over threads (tiles of strips and chunks).
TEST_P(SparseQGemm, Threads) {
  for (unsigned threads : {2u, 3u}) {
    ThreadPool pool(threads);
    for (int64_t width : {1, 4})
      for (const Case &shape : {Case{130, 700, 500}, Case{3, 3000, 700}, Case{300, 40, 900}}) {
        Case c = shape;
        c.width = width;
        c.pattern = width == 1 ? Pattern::Unstructured : Pattern::Blocks1x4;
        c.bias = true;
        c.activation = KILN_GEMM_ACT_GELU_ERF;
        ASSERT_TRUE(check(c, &pool)) << "threads=" << threads;
      }
  }
}

TEST_P(SparseQGemm, RejectsWhatNoGemmRuns) {
  std::vector<int8_t> b = {1, 0, 0, 2};
  int64_t stored, groups;
  kiln_sparse_qgemm_count(b.data(), 2, 1, 2, 2, 4, &stored, &groups);
  std::vector<uint8_t> blob(size_t(kiln_sparse_qgemm_packed_size(2, 4, groups)));
  kiln_sparse_qgemm_pack_b(b.data(), 2, 1, 2, 2, 4, blob.data());
  const uint8_t a[4] = {};
  const float scale[2] = {1.0f, 1.0f};
  float c[4];
  kiln_qgemm_desc d{};
  d.m = d.n = d.k = 2;
  d.a = a;
  d.a_type = KILN_DTYPE_UINT8;
  d.a_rs = 2;
  d.a_cs = 1;
  d.b = blob.data();
  d.b_scale = scale;
  d.c = c;
  d.ldc = 2;
  d.batch[0] = d.batch[1] = 1;
  EXPECT_NO_THROW(kiln::sparseQgemmWith(sparseKernel(), denseKernel(), d, nullptr));
  d.n = 3; // the header says 2
  EXPECT_THROW(kiln::sparseQgemmWith(sparseKernel(), denseKernel(), d, nullptr),
               std::invalid_argument);
  d.n = 2;
  d.activation = 99; // as qgemm
  EXPECT_THROW(kiln::sparseQgemmWith(sparseKernel(), denseKernel(), d, nullptr),
               std::invalid_argument);
  d.activation = KILN_GEMM_ACT_NONE;
  const int64_t width = 2;
  std::memcpy(blob.data() + 16, &width, sizeof width);
  EXPECT_THROW(kiln::sparseQgemmWith(sparseKernel(), denseKernel(), d, nullptr),
               std::invalid_argument);
}

INSTANTIATE_TEST_SUITE_P(
    Families, SparseQGemm,
    testing::Combine(testing::Values(SparseQGemmFamily::Portable, SparseQGemmFamily::Avx512Vnni),
                     testing::Values(QGemmFamily::Portable, QGemmFamily::Avx2, QGemmFamily::AvxVnni,
                                     QGemmFamily::Avx512Vnni)),
    [](const auto &info) {
      return std::string(std::get<0>(info.param) == SparseQGemmFamily::Portable ? "portable"
                                                                                : "avx512vnni") +
             "_with_" + kiln_test::qgemmFamilyName(std::get<1>(info.param));
    });

// The layout kiln_sparse_qgemm_pack.h documents, byte by byte: a 6 x 5 B
// (two block columns of width 4, the second one column wide), column 1's
// 5 stored rows in two groups (the second padded with its last row).
TEST(SparseQGemmPack, Layout) {
  const int64_t k = 6, n = 5;
  std::vector<int8_t> b(size_t(k * n), 0);
  for (int64_t p = 0; p < 5; ++p)
    b[size_t(p * n + 4)] = int8_t(p + 1); // column 4: rows 0..4
  b[size_t(2 * n + 1)] = -7;              // block column 0: row 2 only
  b[size_t(5 * n + 0)] = 127;             // and row 5
  int64_t stored, groups;
  kiln_sparse_qgemm_count(b.data(), n, 1, k, n, 4, &stored, &groups);
  EXPECT_EQ(stored, 7);
  EXPECT_EQ(groups, 3);
  std::vector<uint8_t> blob(size_t(kiln_sparse_qgemm_packed_size(n, 4, groups)), 0xAA);
  kiln_sparse_qgemm_pack_b(b.data(), n, 1, k, n, 4, blob.data());
  int64_t hk, hn, hw, hs, hg;
  kiln_sparse_qgemm_header(blob.data(), &hk, &hn, &hw, &hs, &hg);
  EXPECT_EQ(std::vector<int64_t>({hk, hn, hw, hs, hg}), std::vector<int64_t>({6, 5, 4, 7, 3}));
  int32_t starts[3];
  std::memcpy(starts, blob.data() + KILN_SPARSE_HEADER_BYTES, sizeof starts);
  EXPECT_EQ(std::vector<int32_t>(starts, starts + 3), std::vector<int32_t>({0, 1, 3}));
  uint16_t rows[12];
  std::memcpy(rows, blob.data() + kiln_sparse_qgemm_rows_offset(n, 4), sizeof rows);
  EXPECT_EQ(std::vector<uint16_t>(rows, rows + 12),
            std::vector<uint16_t>({2, 5, 5, 5, 0, 1, 2, 3, 4, 4, 4, 4}));
  const uint8_t *values = blob.data() + kiln_sparse_qgemm_values_offset(n, 4, groups);
  // Group 0 (rows 2, 5, pad, pad), column 0: B(2,0) = 0, B(5,0) = 127.
  EXPECT_EQ(int8_t(values[0]), 0);
  EXPECT_EQ(int8_t(values[1]), 127);
  EXPECT_EQ(int8_t(values[2]), 0);
  EXPECT_EQ(int8_t(values[4 + 0]), -7); // column 1
  // Group 2 (rows 4, pad...), column 0 of block column 1 (column 4): 5.
  EXPECT_EQ(int8_t(values[4 * (2 * 4) + 0]), 5);
  EXPECT_EQ(int8_t(values[4 * (2 * 4) + 1]), 0);
  EXPECT_EQ(int8_t(values[4 * (2 * 4 + 1) + 0]), 0); // column 5: past n
  int32_t sums[16];
  std::memcpy(sums, blob.data() + kiln_sparse_qgemm_colsum_offset(n, 4, groups), sizeof sums);
  EXPECT_EQ(std::vector<int32_t>(sums, sums + 6), std::vector<int32_t>({127, -7, 0, 0, 15, 0}));
  EXPECT_EQ(int64_t(blob.size()), kiln_sparse_qgemm_colsum_offset(n, 4, groups) + 64);
}

// Where the dense int8 GEMM runs its AVX-512 VNNI family, so does the
// sparse one; elsewhere the portable kernel.
TEST(SparseQGemmDispatch, FollowsTheDenseFamily) {
  const bool vnni = std::string(kiln::qgemmSelectedMicroKernel().name) == "avx512vnni";
  EXPECT_STREQ(kiln::sparseQgemmKernelName(), vnni ? "avx512vnni" : "portable");
}

} // namespace
