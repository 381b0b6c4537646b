//===- gemm_bf16_test.cpp - The bf16 GEMM against an exact model of it ----===//
//
// Internals: links libkiln_runtime.a and includes runtime/src. The bf16
// GEMM (kiln_gemm_desc with b_type KILN_DTYPE_BFLOAT16) promises its sums
// bit for bit (kiln_abi.h, GemmBf16Portable.cpp), so the reference here is
// exact: A and B rounded by kiln_bf16_pack.h, each product added by one
// correctly rounded fma with subnormal results flushed, pairs second step
// first, K cut in slices of kGemmBf16Depth whose sums are added to C. The
// epilogue is the fp32 GEMM's, checked in double with gemm_test's margins.
// Every test runs once per bf16 family and skips those this CPU lacks.
//
//===----------------------------------------------------------------------===//

#include "ThreadPool.h"
#include "kernels/Gemm.h"
#include "kernels/GemmKernels.h"
#include "kernels/GemmShared.h"
#include "kiln/kiln_bf16_pack.h"

#include "gemm_reference.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#ifdef __x86_64__
#include <immintrin.h>
#endif

using kiln::GemmBf16Family;
using kiln::ThreadPool;

namespace {
const char *familyName(GemmBf16Family f) {
  return f == GemmBf16Family::Portable ? "portable-bf16" : "avx512bf16";
}
} // namespace

namespace kiln {
void PrintTo(GemmBf16Family f, std::ostream *os) { *os << familyName(f); }
} // namespace kiln

namespace {

uint32_t bitsOf(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}
float floatOf(uint32_t u) {
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

/// s + a*b as vdpbf16ps adds one product: one rounding, subnormals flushed.
float addProduct(float s, float a, float b) {
  const float r = std::fma(a, b, s);
  return std::fabs(r) < FLT_MIN ? std::copysign(0.0f, r) : r;
}

using kiln_test::activate;

struct Bf16Case {
  int64_t m, n, k;
  int64_t panel = KILN_BF16_PANEL; // the b_panel B is packed with; 0: an fp32 B
  bool transB = false;              // panel 0: B stored as B^T (attention's K)
  bool accumulate = false;
  bool bias = false;
  int64_t activation = KILN_GEMM_ACT_NONE;
  bool residual = false;
  int64_t batch0 = 1, batch1 = 1;
  bool sharedB = true; // batch strides of B are 0 (weights)
  bool transA = false;
  float scale = 1.0f;  // of A's values: tiny ones make subnormal sums
};

std::string describe(const Bf16Case &c) {
  static const char *const acts[] = {"", " gelu-erf", " gelu-tanh", " relu"};
  return "m=" + std::to_string(c.m) + " n=" + std::to_string(c.n) + " k=" + std::to_string(c.k) +
         " panel=" + std::to_string(c.panel) + (c.transB ? " B^T" : "") + (c.accumulate ? " accumulate" : "") +
         (c.bias ? " bias" : "") + acts[c.activation] + (c.residual ? " residual" : "") +
         " batch=" + std::to_string(c.batch0) + "x" + std::to_string(c.batch1) +
         (c.sharedB ? "" : " own-B") + (c.transA ? " A^T" : "") +
         (c.scale != 1.0f ? " scale=" + std::to_string(c.scale) : "");
}

std::vector<float> randomFloats(size_t n, float scale, std::mt19937 &rng) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float &x : v)
    x = dist(rng) * scale;
  return v;
}

class GemmBf16 : public testing::TestWithParam<GemmBf16Family> {
protected:
  void SetUp() override {
    if (!kiln::gemmBf16FamilySupported(GetParam()))
      GTEST_SKIP() << "this CPU (or build) lacks " << familyName(GetParam());
    ASSERT_STREQ(kernel().name, familyName(GetParam()));
  }

  kiln::GemmBf16MicroKernel kernel() const {
    return kiln::gemmBf16MicroKernel(GetParam(), kiln::gemmMicroKernel(kiln::GemmFamily::Avx512));
  }

  /// Runs `c` through gemmBf16With; the sums must equal the exact model,
  /// the epilogue the double one within gemm_test's margins. Returns C.
  std::vector<float> check(const Bf16Case &c, ThreadPool *pool = nullptr) {
    std::mt19937 rng(uint32_t(c.m * 7919 + c.n * 104729 + c.k * 31 + c.panel * 3 + c.activation));
    const int64_t batch = c.batch0 * c.batch1, numB = c.sharedB ? 1 : batch;
    // A: per GEMM, m x k with padded rows (or transposed), then a gap.
    const int64_t ars = c.transA ? 1 : c.k + 3, acs = c.transA ? c.m + 2 : 1;
    const int64_t aSize = (c.transA ? c.k * acs : c.m * ars) + 5;
    // B: prepacked bf16 pairs, or (panel 0) fp32 with padded rows (or
    // columns, transposed) that the runtime rounds as it packs.
    const int64_t brs = c.transB ? 1 : c.n + 2, bcs = c.transB ? c.k + 1 : 1;
    const int64_t bSize =
        c.panel ? kiln_bf16_packed_size(c.k, c.n, c.panel) + 32 : (c.transB ? c.n * bcs : c.k * brs) + 3;
    const int64_t ldc = c.n + 3, cSize = c.m * ldc + 7, rrs = c.n + 1, rSize = c.m * rrs + 2;
    std::vector<float> a = randomFloats(size_t(batch * aSize), c.scale, rng);
    std::vector<float> bf = randomFloats(size_t(numB * c.k * c.n), 1.0f, rng);
    std::vector<uint16_t> b(size_t(c.panel ? numB * bSize : 0), 0xFFFF);
    std::vector<float> bFloat(size_t(c.panel ? 0 : numB * bSize), std::nanf(""));
    for (int64_t g = 0; g < numB; ++g) {
      if (c.panel) {
        kiln_bf16_pack_b(bf.data() + g * c.k * c.n, c.n, 1, c.k, c.n, c.panel,
                         b.data() + g * bSize);
        continue;
      }
      for (int64_t p = 0; p < c.k; ++p)
        for (int64_t j = 0; j < c.n; ++j)
          bFloat[size_t(g * bSize + p * brs + j * bcs)] = bf[size_t(g * c.k * c.n + p * c.n + j)];
    }
    std::vector<float> bias = randomFloats(size_t(c.n), 1.0f, rng),
                       residual = randomFloats(size_t(batch * rSize), 1.0f, rng);
    const float nan = std::numeric_limits<float>::quiet_NaN(), guard = 12345.0f;
    std::vector<float> out(size_t(batch * cSize), guard);
    for (int64_t g = 0; g < batch; ++g)
      for (int64_t i = 0; i < c.m; ++i)
        for (int64_t j = 0; j < c.n; ++j)
          out[size_t(g * cSize + i * ldc + j)] =
              c.accumulate ? std::uniform_real_distribution<float>(-1, 1)(rng) : nan;
    const std::vector<float> before = out;

    kiln_gemm_desc d{};
    d.m = c.m;
    d.n = c.n;
    d.k = c.k;
    d.a = a.data();
    d.a_rs = ars;
    d.a_cs = acs;
    d.b = c.panel ? reinterpret_cast<const float *>(b.data()) : bFloat.data();
    d.b_rs = c.panel ? 0 : brs;
    d.b_cs = c.panel ? 0 : bcs;
    d.b_panel = c.panel;
    d.b_type = KILN_DTYPE_BFLOAT16;
    d.c = out.data();
    d.ldc = ldc;
    d.accumulate = c.accumulate;
    d.bias = c.bias ? bias.data() : nullptr;
    d.activation = c.activation;
    d.residual = c.residual ? residual.data() : nullptr;
    d.residual_rs = rrs;
    d.batch[0] = c.batch0;
    d.batch[1] = c.batch1;
    // Batch index (b0, b1) is GEMM b0 * batch1 + b1 of the buffers.
    auto strides = [&](int64_t size, bool shared, int64_t *s) {
      s[0] = shared ? 0 : c.batch1 * size;
      s[1] = shared ? 0 : size;
    };
    strides(aSize, false, d.batch_stride_a);
    strides(bSize, c.sharedB, d.batch_stride_b);
    strides(cSize, false, d.batch_stride_c);
    strides(rSize, false, d.batch_stride_residual);
    kiln::gemmBf16With(kernel(), d, pool);

    const int64_t kc = kiln::balancedBlock(c.k, kiln::kGemmBf16Depth, 2);
    const bool epilogue = c.bias || c.residual || c.activation != KILN_GEMM_ACT_NONE;
    const bool gelu =
        c.activation == KILN_GEMM_ACT_GELU_ERF || c.activation == KILN_GEMM_ACT_GELU_TANH;
    for (int64_t g = 0; g < batch; ++g) {
      const float *ag = a.data() + g * aSize, *bg = bf.data() + (c.sharedB ? 0 : g) * c.k * c.n;
      for (int64_t i = 0; i < c.m; ++i)
        for (int64_t j = 0; j < ldc; ++j) {
          const size_t where = size_t(g * cSize + i * ldc + j);
          const float got = out[where];
          if (j >= c.n) {
            if (bitsOf(got) != bitsOf(guard)) {
              ADD_FAILURE() << describe(c) << ": wrote past n";
              return out;
            }
            continue;
          }
          auto av = [&](int64_t p) {
            return kiln_bf16_to_float(kiln_bf16_from_float(ag[i * ars + p * acs]));
          };
          auto bv = [&](int64_t p) {
            return kiln_bf16_to_float(kiln_bf16_from_float(bg[p * c.n + j]));
          };
          float v = c.accumulate ? before[where] : 0.0f;
          for (int64_t p0 = 0; p0 < c.k; p0 += kc) {
            float s = 0.0f;
            for (int64_t p = p0; p < std::min(c.k, p0 + kc); p += 2) {
              if (p + 1 < c.k)
                s = addProduct(s, av(p + 1), bv(p + 1));
              else
                s = addProduct(s, 0.0f, 0.0f); // the zero pad of an odd k
              s = addProduct(s, av(p), bv(p));
            }
            v = p0 == 0 && !c.accumulate ? s : v + s;
          }
          if (!epilogue) {
            if (bitsOf(got) != bitsOf(v)) {
              ADD_FAILURE() << describe(c) << ": C[" << g << "][" << i << "][" << j << "] = "
                            << got << ", the exact model gives " << v;
              return out;
            }
            continue;
          }
          double expected = v, magnitude = std::fabs(v);
          if (c.bias) {
            expected += bias[size_t(j)];
            magnitude += std::fabs(bias[size_t(j)]);
          }
          expected = activate(c.activation, expected);
          const double r = c.residual ? residual[size_t(g * rSize + i * rrs + j)] : 0.0;
          expected += r;
          magnitude += std::fabs(r) + std::fabs(expected);
          const double tolerance = 4 * FLT_EPSILON * magnitude + (gelu ? 1e-5 : 0.0) + 1e-30;
          if (!(std::fabs(got - expected) <= tolerance)) {
            ADD_FAILURE() << describe(c) << ": C[" << g << "][" << i << "][" << j << "] = " << got
                          << ", expected " << expected << " (tolerance " << tolerance << ")";
            return out;
          }
        }
      for (int64_t t = c.m * ldc; t < cSize; ++t)
        if (bitsOf(out[size_t(g * cSize + t)]) != bitsOf(guard)) {
          ADD_FAILURE() << describe(c) << ": wrote past the end of C[" << g << "]";
          return out;
        }
    }
    return out;
  }
};

const int64_t kSizes[] = {1, 2, 3, 5, 11, 12, 13, 31, 32, 33, 47, 67};

TEST_P(GemmBf16, ShapeGrid) {
  for (int64_t m : kSizes)
    for (int64_t n : kSizes)
      for (int64_t k : {1, 2, 3, 7, 16, 33})
        if (check({m, n, k}); HasFailure())
          return;
}

// K in several slices of kGemmBf16Depth, odd and even, and a slice boundary
// that a wrong rounding of kc to pairs would move.
TEST_P(GemmBf16, DeepSums) {
  for (int64_t k : {255, 256, 257, 511, 513, 768, 1001})
    for (int64_t m : {1, 13, 25})
      check({m, 37, k});
}

// Several blocks of columns on any L2 (nc is at most 4096), where A is
// packed once and each slice of K (cut at even steps) is read from the
// strip packed whole.
TEST_P(GemmBf16, SeveralColumnBlocks) {
  check({25, 4200, 513});
  Bf16Case c{30, 4200, 300};
  c.transA = true;
  c.accumulate = true;
  c.bias = true;
  c.activation = KILN_GEMM_ACT_GELU_ERF;
  check(c);
}

TEST_P(GemmBf16, TransposedA) {
  for (int64_t k : {1, 4, 9, 300}) {
    Bf16Case c{14, 40, k};
    c.transA = true;
    check(c);
  }
}

TEST_P(GemmBf16, Accumulate) {
  for (int64_t k : {3, 64, 600}) {
    Bf16Case c{13, 70, k};
    c.accumulate = true;
    check(c);
  }
}

TEST_P(GemmBf16, Epilogues) {
  for (int64_t act : {KILN_GEMM_ACT_NONE, KILN_GEMM_ACT_GELU_ERF, KILN_GEMM_ACT_GELU_TANH,
                      KILN_GEMM_ACT_RELU})
    for (int bits = 0; bits < 4; ++bits) {
      Bf16Case c{17, 45, 70};
      c.activation = act;
      c.bias = bits & 1;
      c.residual = bits & 2;
      check(c);
      c.accumulate = true;
      check(c);
    }
}

// An fp32 B that is not prepacked (attention's products: K^T and V),
// rounded to bf16 as the runtime packs it: the same bits as the same B
// prepacked, over odd shapes, slices of K, batches with a B each, threads.
TEST_P(GemmBf16, RunTimeB) {
  for (bool transB : {false, true}) {
    for (int64_t m : {1, 5, 12, 13, 40})
      for (int64_t n : {1, 7, 32, 33, 64, 70})
        for (int64_t k : {1, 2, 7, 64, 300}) {
          Bf16Case c{m, n, k};
          c.panel = 0;
          c.transB = transB;
          if (check(c); HasFailure())
            return;
        }
    Bf16Case c{128, 128, 64};
    c.panel = 0;
    c.transB = transB;
    c.batch0 = 2;
    c.batch1 = 3;
    c.sharedB = false;
    c.bias = true;
    c.residual = true;
    check(c);
    ThreadPool pool(3);
    check(c, &pool);
    c.k = 513;
    c.accumulate = true;
    check(c, &pool);
  }
}

// B packed for another width (a model built for another target) is
// repacked; the sums stay the same bits.
TEST_P(GemmBf16, OtherPanelWidths) {
  for (int64_t w : {8, 16, 48})
    for (int64_t k : {5, 300}) {
      Bf16Case c{9, 70, k};
      c.panel = w;
      check(c);
    }
}

TEST_P(GemmBf16, Batches) {
  Bf16Case c{7, 33, 21};
  c.batch0 = 2;
  c.batch1 = 3;
  c.residual = true;
  check(c);
  c.sharedB = false;
  check(c);
}

TEST_P(GemmBf16, Threads) {
  ThreadPool pool(3);
  check({128, 200, 300}, &pool);
  Bf16Case c{24, 96, 64};
  c.batch0 = 4;
  c.bias = true;
  c.activation = KILN_GEMM_ACT_GELU_ERF;
  check(c, &pool);
}

// Sums that pass through the subnormal range: flushed to zero as
// vdpbf16ps flushes them.
TEST_P(GemmBf16, TinySums) {
  Bf16Case c{13, 40, 30};
  c.scale = 1e-37f;
  check(c);
}

INSTANTIATE_TEST_SUITE_P(Families, GemmBf16,
                         testing::Values(GemmBf16Family::Portable, GemmBf16Family::Avx512Bf16),
                         [](const testing::TestParamInfo<GemmBf16Family> &info) {
                           return std::string(info.param == GemmBf16Family::Portable ? "portable"
                                                                                     : "avx512bf16");
                         });

// The portable rounding against the instruction's, over special values and
// random bit patterns.
#ifdef __x86_64__
__attribute__((target("avx512f,avx512bf16"))) void roundByInstruction(const float *x,
                                                                       uint16_t *out) {
  const __m256bh r = _mm512_cvtneps_pbh(_mm512_loadu_ps(x));
  std::memcpy(out, &r, 32);
}

TEST(Bf16Rounding, MatchesTheInstruction) {
  if (!kiln::gemmBf16FamilySupported(GemmBf16Family::Avx512Bf16))
    GTEST_SKIP() << "this CPU lacks AVX512_BF16";
  std::vector<float> xs = {0.0f, -0.0f, 1e-39f, -1e-39f, FLT_MIN, -FLT_MIN, FLT_MAX, -FLT_MAX,
                           INFINITY, -INFINITY, NAN, -NAN, 1.00390625f, 1.01171875f,
                           floatOf(0x7F800001u), floatOf(0xFF800001u), floatOf(0x3F808000u),
                           floatOf(0x3F818000u), floatOf(0x7F7FFFFFu), floatOf(0x00800000u)};
  std::mt19937 rng(7);
  for (int i = 0; i < 160000; ++i)
    xs.push_back(floatOf(uint32_t(rng())));
  while (xs.size() % 16)
    xs.push_back(1.0f);
  for (size_t i = 0; i < xs.size(); i += 16) {
    uint16_t hw[16];
    roundByInstruction(xs.data() + i, hw);
    for (size_t j = 0; j < 16; ++j)
      ASSERT_EQ(kiln_bf16_from_float(xs[i + j]), hw[j])
          << "bits 0x" << std::hex << bitsOf(xs[i + j]);
  }
}
#endif

// The two families give the same bits on the same problem, epilogue
// included (both take it from the same fp32 family here).
TEST(GemmBf16Families, SameBits) {
  if (!kiln::gemmBf16FamilySupported(GemmBf16Family::Avx512Bf16))
    GTEST_SKIP() << "this CPU lacks AVX512_BF16";
  const kiln::GemmMicroKernel &fp32 = kiln::gemmMicroKernel(kiln::GemmFamily::Avx512);
  const int64_t m = 50, n = 130, k = 777;
  std::mt19937 rng(3);
  std::vector<float> a = randomFloats(size_t(m * k), 1.0f, rng), bf = randomFloats(size_t(k * n), 1.0f, rng),
                     bias = randomFloats(size_t(n), 1.0f, rng);
  std::vector<uint16_t> b(size_t(kiln_bf16_packed_size(k, n, KILN_BF16_PANEL)));
  kiln_bf16_pack_b(bf.data(), n, 1, k, n, KILN_BF16_PANEL, b.data());
  std::vector<float> c1(size_t(m * n)), c2(size_t(m * n));
  kiln_gemm_desc d{};
  d.m = m;
  d.n = n;
  d.k = k;
  d.a = a.data();
  d.a_rs = k;
  d.a_cs = 1;
  d.b = reinterpret_cast<const float *>(b.data());
  d.b_panel = KILN_BF16_PANEL;
  d.b_type = KILN_DTYPE_BFLOAT16;
  d.ldc = n;
  d.bias = bias.data();
  d.activation = KILN_GEMM_ACT_GELU_ERF;
  d.batch[0] = d.batch[1] = 1;
  d.c = c1.data();
  kiln::gemmBf16With(kiln::gemmBf16MicroKernel(GemmBf16Family::Portable, fp32), d, nullptr);
  d.c = c2.data();
  kiln::gemmBf16With(kiln::gemmBf16MicroKernel(GemmBf16Family::Avx512Bf16, fp32), d, nullptr);
  for (size_t i = 0; i < c1.size(); ++i)
    ASSERT_EQ(bitsOf(c1[i]), bitsOf(c2[i])) << "element " << i;
}

TEST(GemmBf16Desc, Refused) {
  float a = 1, c = 0;
  uint16_t b[64] = {};
  kiln_gemm_desc d{};
  d.m = d.n = d.k = 1;
  d.a = &a;
  d.a_rs = d.a_cs = 1;
  d.b = reinterpret_cast<const float *>(b);
  d.c = &c;
  d.ldc = 1;
  d.batch[0] = d.batch[1] = 1;
  d.b_type = KILN_DTYPE_FLOAT16;
  d.b_panel = 32;
  EXPECT_THROW(kiln::gemm(d, nullptr), std::invalid_argument);
  d.b_type = KILN_DTYPE_BFLOAT16;
  b[0] = kiln_bf16_from_float(3.0f);
  EXPECT_NO_THROW(kiln::gemm(d, nullptr));
  EXPECT_EQ(c, 3.0f);
}

} // namespace
