//===- gpu_gemm_test.cpp - GpuGemm's cuBLASLt mapping, on the CPU ---------===//
//
// GpuGemm turns a row-major kiln_gemm_desc (kiln_abi.h) into column-major
// cuBLASLt calls: transposes and leading dims from the strides, strided
// batches from the batch dims, epilogues. That mapping is checked here
// without a GPU: a fake cuBLASLt (fake_cublaslt.cpp: the same entry points,
// computing on host memory exactly as cuBLASLt documents its semantics, and
// rejecting layouts it would reject) runs the calls, and a naive loop over
// the descriptor's own definition is the reference. Operands stored as fp16
// or bf16 (a_type, c_type) are checked against the same loop on their
// values, its fp32 result rounded to C's type.
//
//===----------------------------------------------------------------------===//

#include "gpu/GpuGemm.h"
#include "half_bits.h"
#include "kiln/kiln_bf16_pack.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdlib>
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

bool isSixteenBit(int64_t type) {
  return type == KILN_DTYPE_FLOAT16 || type == KILN_DTYPE_BFLOAT16;
}

/// `x` stored as `type` (a kiln_dtype: FLOAT32, 0, FLOAT16 or BFLOAT16) and
/// read back: rounded to nearest even as the GPU stores it.
uint16_t encoded(int64_t type, float x) {
  return type == KILN_DTYPE_FLOAT16 ? half_bits::halfFromFloat(x) : half_bits::bf16FromFloat(x);
}
float decoded(int64_t type, uint16_t h) {
  return type == KILN_DTYPE_FLOAT16 ? half_bits::halfToFloat(h) : kiln_bf16_to_float(h);
}
float roundedTo(int64_t type, float x) {
  return isSixteenBit(type) ? decoded(type, encoded(type, x)) : x;
}

/// What a descriptor points at for `values` stored as `type`: the floats,
/// or their 16-bit encodings put in `bits` (exact where the values are
/// rounded to the type already).
float *storedAs(int64_t type, std::vector<float> &values, std::vector<uint16_t> &bits) {
  if (!isSixteenBit(type))
    return values.data();
  bits.resize(values.size());
  for (size_t i = 0; i < values.size(); ++i)
    bits[i] = encoded(type, values[i]);
  return reinterpret_cast<float *>(bits.data());
}

/// The descriptor's definition (kiln_abi.h), in double, on operands that
/// are floats holding its storage types' values; the result rounded to
/// fp32, then to c_type.
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
          out[i * g.ldc + j] = roundedTo(g.c_type, float(v));
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
  int64_t aType = 0, cType = 0; // storage (a_type = b_type, c_type)
};

class GpuGemmMapping : public ::testing::Test {
protected:
  void SetUp() override {
    library = fakeLibrary();
    usePrecision(KILN_GPU_PRECISION_FP32);
  }

  /// A GpuGemm for a model of `precision` from now on.
  void usePrecision(int precision) {
    gemm = std::make_unique<GpuGemm>(library, reinterpret_cast<lt::Handle>(1), nullptr, 0,
                                      precision);
  }

  /// Runs `c` both ways; the largest |difference|.
  double check(const Case &t) {
    std::mt19937 rng(unsigned(t.m * 131 + t.n * 17 + t.k));
    std::uniform_real_distribution<float> dist(-1, 1);
    // Values of the operand's storage type.
    auto fill = [&](int64_t type, std::vector<float> &v, size_t size) {
      v.resize(size);
      for (float &x : v)
        x = roundedTo(type, dist(rng));
    };
    int64_t lda = (t.aTransposed ? t.m : t.k) + t.padA;
    int64_t ldb = t.bTransposed ? t.k : t.n;
    int64_t ldc = t.n + t.padC;
    int64_t aSize = (t.aTransposed ? t.k : t.m) * lda, bSize = (t.bTransposed ? t.n : t.k) * ldb,
            cSize = t.m * ldc;
    // Not foldable: the outer dim's stride is not batch1 times the inner one
    // (a gap after each outer block).
    int64_t gap = t.foldable ? 0 : 7;
    fill(t.aType, a, size_t((aSize * t.batch1 + gap) * t.batch0));
    fill(t.aType, b, size_t((bSize * t.batch1 + gap) * t.batch0));
    fill(t.cType, c0, size_t((cSize * t.batch1 + gap) * t.batch0));
    fill(t.cType, bias, size_t(t.n));
    // The residual's own batch strides, unlike C's, so that mixing them up
    // shows.
    int64_t residualSize = cSize + 5;
    fill(t.cType, residual, size_t((residualSize * t.batch1 + gap) * t.batch0));
    kiln_gemm_desc g{};
    g.m = t.m;
    g.n = t.n;
    g.k = t.k;
    g.a_type = g.b_type = t.aType;
    g.c_type = t.cType;
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
    // The GPU's operands: the same values in their storage types.
    std::vector<uint16_t> aBits, bBits, cBits, biasBits, residualBits;
    g.a = storedAs(t.aType, a, aBits);
    g.b = storedAs(t.aType, b, bBits);
    g.c = storedAs(t.cType, actual, cBits);
    if (g.bias)
      g.bias = storedAs(t.cType, bias, biasBits);
    if (g.residual)
      g.residual = storedAs(t.cType, residual, residualBits);
    matmulCalls() = 0;
    std::string problem = gemm->run(g, nullptr);
    EXPECT_EQ(problem, "");
    for (size_t i = 0; i < cBits.size(); ++i)
      actual[i] = decoded(t.cType, cBits[i]);
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

/// `t` with A and B stored as `aType`, C (and bias, residual) as `cType`.
Case storedAs(Case t, int64_t aType, int64_t cType) {
  t.aType = aType;
  t.cType = cType;
  return t;
}

// fp16 and bf16 storage (ABI 16): 16-bit A and B (exact products, summed
// in fp32: COMPUTE_32F), C, bias and residual of C's type, each batch and
// looped batch moved by 16-bit elements. The reference is the same
// arithmetic on the same values, so the results are equal, not close.
TEST_F(GpuGemmMapping, SixteenBitStorage) {
  const Case cases[] = {
      {33, 65, 19, false, false},
      {9, 10, 11, true, true, 1, 1, true, false, false, false, 0, 5, 3}, // padded
      {9, 10, 11, false, true, 2, 2, true, true, false, false, KILN_GEMM_ACT_RELU},
      {9, 10, 11, false, false, 2, 1, true, true, true},                 // bias + residual
      {16, 16, 8, false, true, 2, 3},                                    // folded batch
      {5, 6, 7, false, false, 3, 2, false, true, false, true},           // looped, C +=
      {16, 16, 8, false, true, 6, 3, false, true, true}};                // looped, residual
  for (auto [type, precision] : {std::pair{KILN_DTYPE_FLOAT16, KILN_GPU_PRECISION_FP16},
                                 std::pair{KILN_DTYPE_BFLOAT16, KILN_GPU_PRECISION_BF16}}) {
    usePrecision(precision);
    for (const Case &t : cases) {
      EXPECT_EQ(check(storedAs(t, type, type)), 0.0)
          << "type " << type << " m " << t.m << " n " << t.n << " k " << t.k << " batch "
          << t.batch0 << " x " << t.batch1;
      // cuBLASLt also writes an fp32 C from 16-bit A and B.
      EXPECT_EQ(check(storedAs(t, type, KILN_DTYPE_FLOAT32)), 0.0)
          << "type " << type << " m " << t.m << " n " << t.n << " k " << t.k << " fp32 C";
    }
  }
}

// The rounding to C's type as it is stored: to nearest, ties to even,
// fp16's overflow to infinity and its subnormals (1 x 1 x 1 products: C =
// A * B exactly, then rounded).
TEST_F(GpuGemmMapping, SixteenBitResultsRoundToNearestEven) {
  struct Product {
    int64_t type;
    float a, b, c; // c: a * b as the type holds it
  } products[] = {
      {KILN_DTYPE_FLOAT16, 1 + 0x1p-10f, 1 + 0x1p-10f, 1 + 0x1p-9f}, // + 2^-20: down
      {KILN_DTYPE_FLOAT16, 1 + 0x1p-10f, 1.5f, 1.5f + 0x1p-9f},      // + 2^-11: a tie, up to even
      {KILN_DTYPE_FLOAT16, 431, 152, 65504},                         // 65512: down
      {KILN_DTYPE_FLOAT16, 1365, 48, INFINITY},                      // 65520: a tie, to inf
      {KILN_DTYPE_FLOAT16, 0x1p-12f, 0x1p-12f, 0x1p-24f},            // the least subnormal
      {KILN_DTYPE_FLOAT16, 0x1p-12f, 0x1p-13f, 0},                   // half of it: a tie, to 0
      {KILN_DTYPE_FLOAT16, -0x1p-12f, 0x1.8p-12f, -0x1p-23f},        // 1.5 of it: a tie, to 2
      {KILN_DTYPE_BFLOAT16, 1 + 0x1p-7f, 1 + 0x1p-7f, 1 + 0x1p-6f},  // + 2^-14: down
      {KILN_DTYPE_BFLOAT16, 1 + 0x1p-7f, 1.5f, 1.5f + 0x1p-6f},      // + 2^-8: a tie, up to even
      {KILN_DTYPE_BFLOAT16, 0x1p100f, 0x1p100f, INFINITY}};          // 2^200
  for (const Product &t : products) {
    usePrecision(t.type == KILN_DTYPE_FLOAT16 ? KILN_GPU_PRECISION_FP16
                                              : KILN_GPU_PRECISION_BF16);
    uint16_t a = encoded(t.type, t.a), b = encoded(t.type, t.b), c = 0x7fc0; // NaN
    ASSERT_EQ(decoded(t.type, a), t.a);
    ASSERT_EQ(decoded(t.type, b), t.b);
    kiln_gemm_desc g{};
    g.m = g.n = g.k = 1;
    g.a = reinterpret_cast<const float *>(&a);
    g.b = reinterpret_cast<const float *>(&b);
    g.c = reinterpret_cast<float *>(&c);
    g.a_rs = g.a_cs = g.b_rs = g.b_cs = g.ldc = 1;
    g.a_type = g.b_type = g.c_type = t.type;
    EXPECT_EQ(gemm->run(g, nullptr), "");
    EXPECT_EQ(decoded(t.type, c), t.c) << t.a << " * " << t.b << " as type " << t.type;
  }
}

// A plan is per types too: the same shape, addresses and alignments (256
// bytes, however wide the elements) in fp16, with an fp32 C, then all fp32
// get layouts of their own types.
TEST_F(GpuGemmMapping, PlansPerStorageType) {
  usePrecision(KILN_GPU_PRECISION_FP16);
  constexpr int64_t kSize = 128; // 128 x 128 of ones: C = 128 everywhere
  constexpr size_t kBytes = kSize * kSize * sizeof(float);
  auto buffer = [] { return static_cast<char *>(std::aligned_alloc(256, kBytes)); };
  std::unique_ptr<char, decltype(&std::free)> a(buffer(), std::free), c(buffer(), std::free);
  kiln_gemm_desc g{};
  g.m = g.n = g.k = kSize;
  g.a = g.b = reinterpret_cast<const float *>(a.get());
  g.c = reinterpret_cast<float *>(c.get());
  g.a_rs = g.b_rs = g.ldc = kSize;
  g.a_cs = g.b_cs = 1;
  for (auto [abType, cType] : {std::pair{KILN_DTYPE_FLOAT16, KILN_DTYPE_FLOAT16},
                               {KILN_DTYPE_FLOAT16, KILN_DTYPE_FLOAT32},
                               {KILN_DTYPE_FLOAT32, KILN_DTYPE_FLOAT32}}) {
    for (int64_t i = 0; i < kSize * kSize; ++i)
      if (isSixteenBit(abType))
        reinterpret_cast<uint16_t *>(a.get())[i] = encoded(abType, 1.0f);
      else
        reinterpret_cast<float *>(a.get())[i] = 1.0f;
    g.a_type = g.b_type = abType;
    g.c_type = cType;
    ASSERT_EQ(gemm->run(g, nullptr), "");
    float last = cType == KILN_DTYPE_FLOAT16
                     ? decoded(cType, reinterpret_cast<uint16_t *>(c.get())[kSize * kSize - 1])
                     : reinterpret_cast<float *>(c.get())[kSize * kSize - 1];
    EXPECT_EQ(last, 128.0f) << "A and B of type " << abType << ", C of type " << cType;
  }
}

// The fake runs the type combinations cuBLASLt runs (fake_cublaslt.cpp,
// supportedTypes), and no others: so that a mapping onto others fails here
// as it would on a GPU.
TEST_F(GpuGemmMapping, FakeCublasLtTypeCombinations) {
  using namespace lt;
  struct Combination {
    int compute, a, b, c, d;
    bool runs;
  } combinations[] = {
      {COMPUTE_32F, CUDA_R_32F, CUDA_R_32F, CUDA_R_32F, CUDA_R_32F, true},
      {COMPUTE_32F_FAST_16F, CUDA_R_32F, CUDA_R_32F, CUDA_R_32F, CUDA_R_32F, true},
      {COMPUTE_32F, CUDA_R_16F, CUDA_R_16F, CUDA_R_16F, CUDA_R_16F, true},
      {COMPUTE_32F, CUDA_R_16BF, CUDA_R_16BF, CUDA_R_16BF, CUDA_R_16BF, true},
      {COMPUTE_32F, CUDA_R_16BF, CUDA_R_16BF, CUDA_R_32F, CUDA_R_32F, true},
      {COMPUTE_32F_FAST_16F, CUDA_R_16F, CUDA_R_16F, CUDA_R_16F, CUDA_R_16F, false},
      {COMPUTE_32F_FAST_16BF, CUDA_R_16BF, CUDA_R_16BF, CUDA_R_16BF, CUDA_R_16BF, false},
      {COMPUTE_32F_FAST_TF32, CUDA_R_16F, CUDA_R_16F, CUDA_R_32F, CUDA_R_32F, false},
      {COMPUTE_32F, CUDA_R_16F, CUDA_R_16BF, CUDA_R_16F, CUDA_R_16F, false},
      {COMPUTE_32F, CUDA_R_16F, CUDA_R_16F, CUDA_R_16F, CUDA_R_32F, false},
      {COMPUTE_32F, CUDA_R_16F, CUDA_R_16F, CUDA_R_16BF, CUDA_R_16BF, false},
      {COMPUTE_32F, CUDA_R_32F, CUDA_R_32F, CUDA_R_16F, CUDA_R_16F, false}};
  for (const Combination &t : combinations) {
    MatmulDesc desc = nullptr;
    ASSERT_EQ(library.descCreate(&desc, t.compute, CUDA_R_32F), SUCCESS);
    Layout layouts[4] = {};
    const int types[4] = {t.a, t.b, t.c, t.d};
    for (int i = 0; i < 4; ++i)
      ASSERT_EQ(library.layoutCreate(&layouts[i], types[i], 2, 2, 2), SUCCESS);
    Preference preference = nullptr;
    ASSERT_EQ(library.preferenceCreate(&preference), SUCCESS);
    HeuristicResult result{};
    int returned = 0;
    Status s = library.algoGetHeuristic(nullptr, desc, layouts[0], layouts[1], layouts[2],
                                        layouts[3], preference, 1, &result, &returned);
    EXPECT_EQ(s == SUCCESS, t.runs) << "compute " << t.compute << ", types " << t.a << " "
                                    << t.b << " " << t.c << " " << t.d;
    library.preferenceDestroy(preference);
    for (Layout layout : layouts)
      library.layoutDestroy(layout);
    library.descDestroy(desc);
  }
}

// Types cuBLASLt has no kernels for, and 16-bit operands in a model of
// another precision, are errors that say so, before any call.
TEST_F(GpuGemmMapping, StorageTypesThatCannotRun) {
  std::vector<uint16_t> x(16, 0x3c00), y(16);
  kiln_gemm_desc g{};
  g.m = g.n = g.k = 4;
  g.a = g.b = reinterpret_cast<const float *>(x.data());
  g.c = reinterpret_cast<float *>(y.data());
  g.a_rs = g.b_rs = g.ldc = 4;
  g.a_cs = g.b_cs = 1;
  g.a_type = g.c_type = KILN_DTYPE_FLOAT16; // b_type 0: fp32
  auto problem = [&] {
    matmulCalls() = 0;
    std::string text = gemm->run(g, nullptr);
    EXPECT_EQ(matmulCalls(), text.empty() ? 1 : 0) << text;
    return text;
  };
  usePrecision(KILN_GPU_PRECISION_FP16);
  EXPECT_EQ(problem(), "a GEMM with a_type 10 and b_type 0: A and B must have one type on the GPU");
  g.b_type = KILN_DTYPE_BFLOAT16;
  EXPECT_EQ(problem(),
            "a GEMM with a_type 10 and b_type 16: A and B must have one type on the GPU");
  g.b_type = KILN_DTYPE_FLOAT16;
  g.c_type = KILN_DTYPE_BFLOAT16;
  EXPECT_EQ(problem(),
            "a GEMM with a_type 10 and c_type 16: C must be fp32 or of A's type on the GPU");
  g.a_type = g.b_type = KILN_DTYPE_FLOAT32;
  EXPECT_EQ(problem(),
            "a GEMM with a_type 1 and c_type 16: C must be fp32 or of A's type on the GPU");
  g.a_type = g.b_type = g.c_type = KILN_DTYPE_INT8;
  EXPECT_EQ(problem(), "a GEMM with a_type 3 and c_type 3: the GPU stores FLOAT32, FLOAT16 or "
                       "BFLOAT16");
  g.a_type = g.b_type = g.c_type = KILN_DTYPE_FLOAT16;
  EXPECT_EQ(problem(), "");
  usePrecision(KILN_GPU_PRECISION_FP32);
  EXPECT_EQ(problem(), "a GEMM with a_type 10 (fp16 storage) in a model of fp32 precision: "
                       "16-bit operands need --precision fp16");
  usePrecision(KILN_GPU_PRECISION_FP16);
  g.a_type = g.b_type = g.c_type = KILN_DTYPE_BFLOAT16;
  EXPECT_EQ(problem(), "a GEMM with a_type 16 (bf16 storage) in a model of fp16 precision: "
                       "16-bit operands need --precision bf16");
}

} // namespace
