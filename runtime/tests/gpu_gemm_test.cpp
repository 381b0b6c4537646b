//===- gpu_gemm_test.cpp - GpuGemm's cuBLASLt mapping, on the CPU ---------===//
//
// GpuGemm turns a row-major kiln_gemm_desc (kiln_abi.h) into column-major
// cuBLASLt calls: transposes and leading dims from the strides, strided
// batches from the batch dims, epilogues. That mapping is checked here
// without a GPU: a fake cuBLASLt (the same entry points, computing on host
// memory exactly as cuBLASLt documents its semantics, and rejecting layouts
// it would reject) runs the calls, and a naive loop over the descriptor's
// own definition is the reference.
//
//===----------------------------------------------------------------------===//

#include "gpu/GpuGemm.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

using namespace kiln;
namespace lt = kiln::cublaslt;

namespace {

constexpr lt::Status kInvalidValue = 7; // CUBLAS_STATUS_INVALID_VALUE

struct FakeDesc {
  int computeType = 0;
  int32_t transA = lt::OP_N, transB = lt::OP_N;
  uint32_t epilogue = lt::EPILOGUE_DEFAULT;
  const float *bias = nullptr;
};
struct FakeLayout {
  uint64_t rows, cols;
  int64_t ld;
  int32_t batch = 1;
  int64_t stride = 0;
};
int matmulCalls = 0;

lt::MatmulDesc asDesc(FakeDesc *d) { return reinterpret_cast<lt::MatmulDesc>(d); }
FakeDesc &desc(lt::MatmulDesc d) { return *reinterpret_cast<FakeDesc *>(d); }
FakeLayout &layout(lt::Layout l) { return *reinterpret_cast<FakeLayout *>(l); }

template <typename T> void setFrom(T &field, const void *value, size_t bytes) {
  ASSERT_EQ(bytes, sizeof(T));
  std::memcpy(&field, value, bytes);
}

lt::Library fakeLibrary() {
  lt::Library l{};
  l.create = [](lt::Handle *h) { *h = reinterpret_cast<lt::Handle>(1); return lt::SUCCESS; };
  l.destroy = [](lt::Handle) { return lt::SUCCESS; };
  l.statusString = [](lt::Status) { return "fake status"; };
  l.descCreate = [](lt::MatmulDesc *d, int compute, int scale) {
    if (scale != lt::CUDA_R_32F)
      return kInvalidValue;
    auto *fake = new FakeDesc;
    fake->computeType = compute;
    *d = asDesc(fake);
    return lt::SUCCESS;
  };
  l.descDestroy = [](lt::MatmulDesc d) { delete &desc(d); return lt::SUCCESS; };
  l.descSetAttribute = [](lt::MatmulDesc d, int attribute, const void *value, size_t bytes) {
    FakeDesc &f = desc(d);
    if (attribute == lt::DESC_TRANSA)
      setFrom(f.transA, value, bytes);
    else if (attribute == lt::DESC_TRANSB)
      setFrom(f.transB, value, bytes);
    else if (attribute == lt::DESC_EPILOGUE)
      setFrom(f.epilogue, value, bytes);
    else if (attribute == lt::DESC_BIAS_POINTER)
      setFrom(f.bias, value, bytes);
    else
      return kInvalidValue;
    return lt::SUCCESS;
  };
  l.layoutCreate = [](lt::Layout *out, int type, uint64_t rows, uint64_t cols, int64_t ld) {
    // cuBLASLt: column-major, ld >= rows.
    if (type != lt::CUDA_R_32F || ld < int64_t(rows))
      return kInvalidValue;
    *out = reinterpret_cast<lt::Layout>(new FakeLayout{rows, cols, ld});
    return lt::SUCCESS;
  };
  l.layoutDestroy = [](lt::Layout x) { delete &layout(x); return lt::SUCCESS; };
  l.layoutSetAttribute = [](lt::Layout x, int attribute, const void *value, size_t bytes) {
    if (attribute == lt::LAYOUT_BATCH_COUNT)
      setFrom(layout(x).batch, value, bytes);
    else if (attribute == lt::LAYOUT_STRIDED_BATCH_OFFSET)
      setFrom(layout(x).stride, value, bytes);
    else
      return kInvalidValue;
    return lt::SUCCESS;
  };
  l.preferenceCreate = [](lt::Preference *p) {
    *p = reinterpret_cast<lt::Preference>(2);
    return lt::SUCCESS;
  };
  l.preferenceDestroy = [](lt::Preference) { return lt::SUCCESS; };
  l.preferenceSetAttribute = [](lt::Preference, int, const void *, size_t) {
    return lt::SUCCESS;
  };
  l.algoGetHeuristic = [](lt::Handle, lt::MatmulDesc d, lt::Layout a, lt::Layout b, lt::Layout c,
                          lt::Layout dd, lt::Preference, int, lt::HeuristicResult *results,
                          int *returned) {
    // op(A) is m x k, op(B) k x n, C and D m x n (cuBLAS's names).
    FakeDesc &f = desc(d);
    FakeLayout &la = layout(a), &lb = layout(b), &lc = layout(c), &ld = layout(dd);
    uint64_t m = f.transA == lt::OP_N ? la.rows : la.cols;
    uint64_t k = f.transA == lt::OP_N ? la.cols : la.rows;
    uint64_t kb = f.transB == lt::OP_N ? lb.rows : lb.cols;
    uint64_t n = f.transB == lt::OP_N ? lb.cols : lb.rows;
    if (k != kb || lc.rows != m || lc.cols != n || ld.rows != m || ld.cols != n ||
        la.batch != ld.batch || lb.batch != ld.batch || lc.batch != ld.batch)
      return kInvalidValue;
    results[0] = {};
    results[0].state = lt::SUCCESS;
    *returned = 1;
    return lt::SUCCESS;
  };
  l.matmul = [](lt::Handle, lt::MatmulDesc d, const void *alphaP, const void *aP, lt::Layout a,
                const void *bP, lt::Layout b, const void *betaP, const void *cP, lt::Layout c,
                void *dP, lt::Layout dd, const lt::Algo *, void *, size_t, lt::Stream) {
    ++matmulCalls;
    FakeDesc &f = desc(d);
    FakeLayout &la = layout(a), &lb = layout(b), &lc = layout(c), &ld = layout(dd);
    float alpha = *static_cast<const float *>(alphaP), beta = *static_cast<const float *>(betaP);
    int64_t m = ld.rows, n = ld.cols;
    int64_t k = f.transA == lt::OP_N ? la.cols : la.rows;
    for (int32_t batch = 0; batch < ld.batch; ++batch) {
      const float *A = static_cast<const float *>(aP) + batch * la.stride;
      const float *B = static_cast<const float *>(bP) + batch * lb.stride;
      const float *C = static_cast<const float *>(cP) + batch * lc.stride;
      float *D = static_cast<float *>(dP) + batch * ld.stride;
      std::vector<float> out(size_t(m * n));
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
          double sum = 0;
          for (int64_t p = 0; p < k; ++p) {
            float x = f.transA == lt::OP_N ? A[i + p * la.ld] : A[p + i * la.ld];
            float y = f.transB == lt::OP_N ? B[p + j * lb.ld] : B[j + p * lb.ld];
            sum += double(x) * y;
          }
          double v = alpha * sum + (beta != 0 ? beta * C[i + j * lc.ld] : 0.0);
          if (f.epilogue & lt::EPILOGUE_BIAS)
            v += f.bias[i]; // one bias per row of D
          if (f.epilogue & lt::EPILOGUE_RELU)
            v = std::max(v, 0.0);
          if (f.epilogue & lt::EPILOGUE_GELU)
            v = 0.5 * v * (1 + std::tanh(0.7978845608028654 * (v + 0.044715 * v * v * v)));
          out[size_t(i + j * m)] = float(v);
        }
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j)
          D[i + j * ld.ld] = out[size_t(i + j * m)];
    }
    return lt::SUCCESS;
  };
  return l;
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
    matmulCalls = 0;
    std::string problem = gemm->run(g, nullptr);
    EXPECT_EQ(problem, "");
    // One call, or when the dims do not fold one per entry of the shorter
    // (the longer is cuBLASLt's strided batch).
    EXPECT_EQ(matmulCalls, t.foldable || t.batch0 == 1 || t.batch1 == 1
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
