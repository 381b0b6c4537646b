//===- gpu_gemm_test.cpp - GpuGemm's cuBLASLt mapping, on the CPU ---------===//
//
// GpuGemm turns a row-major kiln_gemm_desc (kiln_abi.h) into column-major
// cuBLASLt calls: transposes and leading dims from the strides, strided
// batches from the batch dims, epilogues. That mapping is checked here
// without a GPU: a fake cuBLASLt (fake_cublaslt.cpp: the same entry points,
// computing on host memory exactly as cuBLASLt documents its semantics, and
// rejecting layouts it would reject) runs the calls, and a naive loop over
// the descriptor's own definition is the reference.
//
//===----------------------------------------------------------------------===//

#include "gpu/GpuGemm.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstring>
#include <dlfcn.h>
#include <memory>
#include <random>
#include <vector>

using namespace kiln;
namespace lt = kiln::cublaslt;

namespace {

/// The fake cuBLASLt of the test driver's library (fake_cublaslt.cpp),
/// loaded as the runtime loads cuBLASLt.
lt::Library fakeLibrary() {
  setenv("KILN_CUBLASLT", KILN_FAKE_CUDA, 1);
  std::string problem;
  const lt::Library *library = lt::library(problem);
  EXPECT_NE(library, nullptr) << problem;
  return library ? *library : lt::Library{};
}

/// The fake's count of matmul calls.
int &matmulCalls() {
  void *library = dlopen(KILN_FAKE_CUDA, RTLD_NOW | RTLD_NOLOAD);
  EXPECT_NE(library, nullptr) << KILN_FAKE_CUDA << " should be loaded";
  auto calls = reinterpret_cast<int *(*)()>(dlsym(library, "fake_cublaslt_matmul_calls"));
  return *calls();
}

/// The descriptor's definition (kiln_abi.h), in double.
void reference(const kiln_gemm_desc &g, float *c) {
  int64_t b0 = std::max<int64_t>(g.batch[0], 1), b1 = std::max<int64_t>(g.batch[1], 1);
  for (int64_t x = 0; x < b0; ++x)
    for (int64_t y = 0; y < b1; ++y) {
      auto offset = [&](const int64_t *s) { return x * s[0] + y * s[1]; };
      const float *a = g.a + offset(g.batch_stride_a), *b = g.b + offset(g.batch_stride_b);
      const float *r = g.residual ? g.residual + offset(g.batch_stride_residual) : nullptr;
      float *out = c + offset(g.batch_stride_c);
      for (int64_t i = 0; i < g.m; ++i)
        for (int64_t j = 0; j < g.n; ++j) {
          double v = g.accumulate ? out[i * g.ldc + j] : 0.0;
          for (int64_t p = 0; p < g.k; ++p)
            v += double(a[i * g.a_rs + p * g.a_cs]) * b[p * g.b_rs + j * g.b_cs];
          if (g.bias)
            v += g.bias[j];
          if (g.activation == KILN_GEMM_ACT_RELU)
            v = std::max(v, 0.0);
          if (g.activation == KILN_GEMM_ACT_GELU_TANH)
            v = 0.5 * v * (1 + std::tanh(0.7978845608028654 * (v + 0.044715 * v * v * v)));
          if (r)
            v += r[i * g.residual_rs + j];
          out[i * g.ldc + j] = float(v);
        }
    }
}

struct Case {
  int64_t m, n, k;
  bool aTransposed, bTransposed;
  int64_t batch0 = 1, batch1 = 1;
  bool foldable = true; // batch strides that fold into one strided batch
  bool bias = false, residual = false, accumulate = false;
  int64_t activation = KILN_GEMM_ACT_NONE;
  int64_t padA = 0, padC = 0; // leading dims beyond the minimum
};

class GpuGemmMapping : public ::testing::Test {
protected:
  void SetUp() override {
    library = fakeLibrary();
    gemm = std::make_unique<GpuGemm>(library, reinterpret_cast<lt::Handle>(1), nullptr, 0,
                                      KILN_GPU_PRECISION_FP32);
  }

  /// Runs `c` both ways; the largest |difference|.
  double check(const Case &t) {
    std::mt19937 rng(unsigned(t.m * 131 + t.n * 17 + t.k));
    std::uniform_real_distribution<float> dist(-1, 1);
    auto fill = [&](std::vector<float> &v, size_t size) {
      v.resize(size);
      for (float &x : v)
        x = dist(rng);
    };
    int64_t lda = (t.aTransposed ? t.m : t.k) + t.padA;
    int64_t ldb = t.bTransposed ? t.k : t.n;
    int64_t ldc = t.n + t.padC;
    int64_t aSize = (t.aTransposed ? t.k : t.m) * lda, bSize = (t.bTransposed ? t.n : t.k) * ldb,
            cSize = t.m * ldc;
    // Not foldable: the outer dim's stride is not batch1 times the inner one
    // (a gap after each outer block).
    int64_t gap = t.foldable ? 0 : 7;
    fill(a, size_t((aSize * t.batch1 + gap) * t.batch0));
    fill(b, size_t((bSize * t.batch1 + gap) * t.batch0));
    fill(c0, size_t((cSize * t.batch1 + gap) * t.batch0));
    fill(bias, size_t(t.n));
    // The residual's own batch strides, unlike C's, so that mixing them up
    // shows.
    int64_t residualSize = cSize + 5;
    fill(residual, size_t((residualSize * t.batch1 + gap) * t.batch0));
    kiln_gemm_desc g{};
    g.m = t.m;
    g.n = t.n;
    g.k = t.k;
    g.a = a.data();
    g.a_rs = t.aTransposed ? 1 : lda;
    g.a_cs = t.aTransposed ? lda : 1;
    g.b = b.data();
    g.b_rs = t.bTransposed ? 1 : ldb;
    g.b_cs = t.bTransposed ? ldb : 1;
    g.ldc = ldc;
    g.accumulate = t.accumulate;
    g.bias = t.bias ? bias.data() : nullptr;
    g.activation = t.activation;
    g.residual = t.residual ? residual.data() : nullptr;
    g.residual_rs = ldc;
    g.batch[0] = t.batch0;
    g.batch[1] = t.batch1;
    int64_t sizes[4] = {aSize, bSize, cSize, residualSize};
    int64_t *strides[4] = {g.batch_stride_a, g.batch_stride_b, g.batch_stride_c,
                           g.batch_stride_residual};
    for (int i = 0; i < 4; ++i) {
      int64_t size = sizes[i];
      strides[i][1] = size;
      strides[i][0] = size * t.batch1 + gap;
    }
    std::vector<float> expected = c0, actual = c0;
    g.c = expected.data();
    reference(g, expected.data());
    g.c = actual.data();
    matmulCalls() = 0;
    std::string problem = gemm->run(g, nullptr);
    EXPECT_EQ(problem, "");
    // One call, or when the dims do not fold one per entry of the shorter
    // (the longer is cuBLASLt's strided batch).
    EXPECT_EQ(matmulCalls(), t.foldable || t.batch0 == 1 || t.batch1 == 1
                               ? 1
                               : std::min(t.batch0, t.batch1));
    double worst = 0;
    for (size_t i = 0; i < actual.size(); ++i)
      worst = std::max(worst, double(std::fabs(actual[i] - expected[i])));
    return worst;
  }

  lt::Library library;
  std::unique_ptr<GpuGemm> gemm;
  std::vector<float> a, b, c0, bias, residual;
};

TEST_F(GpuGemmMapping, EveryTransposeAndOddShapes) {
  for (bool at : {false, true})
    for (bool bt : {false, true})
      for (auto [m, n, k] : {std::array<int64_t, 3>{1, 1, 1}, {1, 17, 5}, {13, 1, 9},
                             {7, 11, 1}, {33, 65, 19}, {64, 3, 128}})
        EXPECT_LT(check({m, n, k, at, bt}), 1e-5)
            << "m " << m << " n " << n << " k " << k << " A^T " << at << " B^T " << bt;
}

TEST_F(GpuGemmMapping, LeadingDimsBeyondTheShape) {
  EXPECT_LT(check({9, 10, 11, false, false, 1, 1, true, false, false, false, 0, 5, 3}), 1e-5);
  EXPECT_LT(check({9, 10, 11, true, true, 1, 1, true, false, false, false, 0, 2, 6}), 1e-5);
}

TEST_F(GpuGemmMapping, Batches) {
  // Attention's shape: batch x heads, folded into one strided batch.
  EXPECT_LT(check({16, 16, 8, false, true, 2, 3}), 1e-5);
  EXPECT_LT(check({16, 8, 16, false, false, 2, 3}), 1e-5);
  // One batch dim only, either of the two.
  EXPECT_LT(check({5, 6, 7, true, false, 4, 1}), 1e-5);
  EXPECT_LT(check({5, 6, 7, false, true, 1, 4}), 1e-5);
  // Strides that do not fold: the shorter dim loops, the outer one or the
  // inner (attention at batch 32 with 12 heads: 12 calls, not 32).
  EXPECT_LT(check({5, 6, 7, false, false, 3, 2, false}), 1e-5);
  EXPECT_LT(check({5, 6, 7, false, true, 2, 5, false}), 1e-5);
  EXPECT_LT(check({16, 16, 8, false, true, 6, 3, false, true, false, true}), 1e-5);
}

TEST_F(GpuGemmMapping, Epilogues) {
  EXPECT_LT(check({9, 10, 11, false, false, 1, 1, true, true}), 1e-5);          // bias
  EXPECT_LT(check({9, 10, 11, false, true, 2, 2, true, true, false, false,      // bias+relu
                   KILN_GEMM_ACT_RELU}),
            1e-5);
  EXPECT_LT(check({9, 10, 11, true, false, 1, 1, true, true, false, false,      // GELU tanh
                   KILN_GEMM_ACT_GELU_TANH}),
            1e-5);
  EXPECT_LT(check({9, 10, 11, false, false, 2, 1, true, true, true}), 1e-5);    // + residual
  EXPECT_LT(check({9, 10, 11, false, false, 1, 1, true, false, false, true}), 1e-5); // C +=
  EXPECT_LT(check({5, 6, 7, false, false, 2, 3, true, false, false, true}), 1e-5);   // batched
  EXPECT_LT(check({5, 6, 7, true, false, 2, 3, true, true, true}), 1e-5);
}

TEST_F(GpuGemmMapping, UnsupportedCasesAreErrorsNotWrongNumbers) {
  std::vector<float> x(64, 1.0f), y(64);
  kiln_gemm_desc g{};
  g.m = 4;
  g.n = 4;
  g.k = 4;
  g.a = x.data();
  g.a_rs = 8; // no unit stride in A: cuBLASLt cannot read it
  g.a_cs = 2;
  g.b = x.data();
  g.b_rs = 4;
  g.b_cs = 1;
  g.c = y.data();
  g.ldc = 4;
  EXPECT_NE(gemm->run(g, nullptr).find("layout cuBLASLt cannot read"), std::string::npos);
  g.a_rs = 4;
  g.a_cs = 1;
  g.activation = KILN_GEMM_ACT_GELU_ERF; // cuBLASLt's GELU is the tanh form
  EXPECT_NE(gemm->run(g, nullptr).find("not supported on the GPU"), std::string::npos);
}

} // namespace
