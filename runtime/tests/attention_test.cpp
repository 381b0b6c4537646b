//===- attention_test.cpp - kiln_attention_desc against references -------===//
//
// Internals: links libkiln_runtime.a and includes runtime/src. Every fp32
// family the CPU has runs the same cases against the formula in double:
// head sizes around the tile widths, K read as rows (a view of K) or as a
// contiguous K^T, masks per element, per key broadcast over heads and rows,
// or none, strided rows, several heads and threads. With the family the
// runtime picks, the result equals, bit for bit, the gemm, softmax and gemm
// calls it stands for.
//
//===----------------------------------------------------------------------===//

#include "ThreadPool.h"
#include "kernels/Attention.h"
#include "kernels/Gemm.h"
#include "kernels/GemmKernels.h"
#include "kernels/Softmax.h"

#include "gemm_reference.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <tuple>
#include <vector>

using kiln::GemmFamily;
using kiln::ThreadPool;
using kiln_test::familyName;
using kiln_test::fp32FamilyTestName;
using kiln_test::kFp32Families;

namespace {

/// One call: b0 x b1 heads of sq queries and sk keys, head dims d and dv.
struct Case {
  int64_t b0 = 1, b1 = 1, sq = 1, sk = 1, d = 1, dv = 1;
  bool kRows = true; // kt is a view of K's rows (kt_rs = 1), else a contiguous K^T
  // PerElementOverHeads: [b0, 1, sq, sk], a term per query and key that
  // every head shares (BERT's mask expanded to the queries, a causal mask).
  enum Mask { None, PerElement, PerKeyOverHeads, PerElementOverHeads } mask = None;
  int64_t pad = 0; // extra floats at the end of every row of q, K, v and out
  double scale = 0.125;
};

std::string describe(const Case &c) {
  return std::to_string(c.b0) + "x" + std::to_string(c.b1) + " heads, sq " + std::to_string(c.sq) +
         " sk " + std::to_string(c.sk) + " d " + std::to_string(c.d) + " dv " +
         std::to_string(c.dv) + (c.kRows ? " K rows" : " K^T") + " mask " +
         std::to_string(int(c.mask)) + " pad " + std::to_string(c.pad);
}

/// The tensors of a case, random, and the descriptor that reads them.
struct Problem {
  std::vector<float> q, k, v, mask, out;
  kiln_attention_desc desc{};

  explicit Problem(const Case &c) {
    std::mt19937 rng(uint32_t(c.sq * 131 + c.sk * 17 + c.d * 5 + c.dv + int(c.mask)));
    std::uniform_real_distribution<float> values(-1.0f, 1.0f), masks(-4.0f, 4.0f);
    const int64_t heads = c.b0 * c.b1;
    const int64_t qRs = c.d + c.pad, vRs = c.dv + c.pad, oRs = c.dv + c.pad;
    // K as rows (sk x d) or as K^T (d x sk), each row padded.
    const int64_t kMatrix = c.kRows ? c.sk * (c.d + c.pad) : c.d * (c.sk + c.pad);
    q.resize(size_t(heads * c.sq * qRs));
    k.resize(size_t(heads * kMatrix));
    v.resize(size_t(heads * c.sk * vRs));
    out.assign(size_t(heads * c.sq * oRs), -7.0f);
    for (auto *t : {&q, &k, &v})
      for (float &x : *t)
        x = values(rng);
    desc.sq = c.sq, desc.sk = c.sk, desc.d = c.d, desc.dv = c.dv;
    desc.q = q.data(), desc.q_rs = qRs, desc.q_cs = 1;
    desc.kt = k.data();
    if (c.kRows)
      desc.kt_rs = 1, desc.kt_cs = c.d + c.pad;
    else
      desc.kt_rs = c.sk + c.pad, desc.kt_cs = 1;
    desc.v = v.data(), desc.v_rs = vRs, desc.v_cs = 1;
    desc.out = out.data(), desc.out_rs = oRs;
    desc.scale = c.scale;
    desc.batch[0] = c.b0, desc.batch[1] = c.b1;
    desc.batch_stride_q[1] = c.sq * qRs, desc.batch_stride_q[0] = c.b1 * c.sq * qRs;
    desc.batch_stride_kt[1] = kMatrix, desc.batch_stride_kt[0] = c.b1 * kMatrix;
    desc.batch_stride_v[1] = c.sk * vRs, desc.batch_stride_v[0] = c.b1 * c.sk * vRs;
    desc.batch_stride_out[1] = c.sq * oRs, desc.batch_stride_out[0] = c.b1 * c.sq * oRs;
    if (c.mask == Case::PerElement) {
      mask.resize(size_t(heads * c.sq * c.sk));
      desc.addend_rs = c.sk, desc.addend_cs = 1;
      desc.batch_stride_addend[1] = c.sq * c.sk, desc.batch_stride_addend[0] = c.b1 * c.sq * c.sk;
    } else if (c.mask == Case::PerKeyOverHeads) { // BERT's [b0, 1, 1, sk]
      mask.resize(size_t(c.b0 * c.sk));
      desc.addend_rs = 0, desc.addend_cs = 1;
      desc.batch_stride_addend[1] = 0, desc.batch_stride_addend[0] = c.sk;
    } else if (c.mask == Case::PerElementOverHeads) {
      mask.resize(size_t(c.b0 * c.sq * c.sk));
      desc.addend_rs = c.sk, desc.addend_cs = 1;
      desc.batch_stride_addend[1] = 0, desc.batch_stride_addend[0] = c.sq * c.sk;
    }
    for (float &x : mask)
      x = masks(rng);
    if (!mask.empty())
      desc.addend = mask.data();
  }

  /// out(h, i, e) by the formula in double.
  std::vector<double> reference() const {
    const kiln_attention_desc &d = desc;
    std::vector<double> ref(out.size(), 0.0), w(size_t(d.sk));
    for (int64_t b0 = 0; b0 < d.batch[0]; ++b0)
      for (int64_t b1 = 0; b1 < d.batch[1]; ++b1) {
        auto at = [&](const int64_t *s) { return b0 * s[0] + b1 * s[1]; };
        const float *qh = d.q + at(d.batch_stride_q), *kh = d.kt + at(d.batch_stride_kt);
        const float *vh = d.v + at(d.batch_stride_v);
        const int64_t oh = at(d.batch_stride_out);
        for (int64_t i = 0; i < d.sq; ++i) {
          double max = -INFINITY;
          for (int64_t j = 0; j < d.sk; ++j) {
            double s = 0;
            for (int64_t p = 0; p < d.d; ++p)
              s += double(qh[i * d.q_rs + p * d.q_cs]) * kh[p * d.kt_rs + j * d.kt_cs];
            double t = d.scale * s;
            if (d.addend)
              t += d.addend[at(d.batch_stride_addend) + i * d.addend_rs + j * d.addend_cs];
            w[size_t(j)] = t;
            max = std::max(max, t);
          }
          double sum = 0;
          for (double &x : w)
            sum += (x = std::exp(x - max));
          for (int64_t e = 0; e < d.dv; ++e) {
            double o = 0;
            for (int64_t j = 0; j < d.sk; ++j)
              o += w[size_t(j)] / sum * vh[j * d.v_rs + e * d.v_cs];
            ref[size_t(oh + i * d.out_rs + e)] = o;
          }
        }
      }
    return ref;
  }
};

class Attention : public testing::TestWithParam<GemmFamily> {
protected:
  void SetUp() override {
    if (!kiln::gemmFamilySupported(GetParam()))
      GTEST_SKIP() << "this CPU (or build) lacks " << familyName(GetParam())
                   << ": its attention is not tested";
  }

  /// Runs `c` and compares every output with the formula in double: within
  /// 2e-6 (values in [-1, 1], fp32 sums of up to a few hundred terms);
  /// the padding between rows is left as it was.
  void check(const Case &c, ThreadPool *pool = nullptr) {
    Problem problem(c);
    kiln::attentionWith(kiln::gemmMicroKernel(GetParam()), problem.desc, pool);
    const std::vector<double> ref = problem.reference();
    const int64_t oRs = problem.desc.out_rs;
    for (size_t i = 0; i < ref.size(); ++i) {
      if (int64_t(i) % oRs >= c.dv) {
        ASSERT_EQ(problem.out[i], -7.0f) << describe(c) << ": padding written at " << i;
        continue;
      }
      ASSERT_NEAR(problem.out[i], ref[i], 2e-6) << describe(c) << " at " << i;
    }
  }
};

TEST_P(Attention, HeadSizesAroundTheTiles) {
  for (int64_t sq : {1, 5, 12, 13, 40})
    for (int64_t sk : {1, 7, 16, 33, 128})
      for (int64_t d : {1, 8, 32, 64, 65})
        check({1, 1, sq, sk, d, d});
}

TEST_P(Attention, KeyAndValueDimsDiffer) {
  check({1, 2, 9, 20, 16, 48});
  check({1, 2, 9, 20, 48, 3});
}

TEST_P(Attention, KAsRowsOrAsTransposedMatrix) {
  for (bool kRows : {true, false}) {
    Case c{2, 3, 17, 24, 32, 32};
    c.kRows = kRows;
    c.pad = 5;
    check(c);
  }
}

TEST_P(Attention, Masks) {
  // Query counts below, within and past the AVX-512 family's blocks of 32
  // queries by columns (a per-head mask goes by rows).
  for (Case::Mask mask :
       {Case::None, Case::PerElement, Case::PerKeyOverHeads, Case::PerElementOverHeads})
    for (int64_t sq : {5, 30, 70}) {
      Case c{2, 4, sq, 50, 24, 24};
      c.mask = mask;
      check(c);
    }
}

TEST_P(Attention, Threads) {
  ThreadPool pool(3);
  // Many heads (split by heads) and one head (split by rows).
  Case many{2, 12, 64, 64, 32, 32};
  for (Case::Mask mask : {Case::PerKeyOverHeads, Case::PerElementOverHeads}) {
    many.mask = mask;
    check(many, &pool);
  }
  check({1, 1, 100, 64, 64, 64}, &pool);
  Case one{2, 1, 100, 64, 64, 64}; // by blocks of rows, a mask per batch index
  one.mask = Case::PerElementOverHeads;
  check(one, &pool);
}

TEST_P(Attention, EmptySizes) {
  for (int64_t sq : {4, 20}) {  // by rows, and by columns on AVX-512
    check({1, 2, sq, 0, 8, 8}); // no keys: the products are empty sums, 0
    check({1, 2, sq, 6, 0, 8}); // d = 0: every score 0, the mean of the values
  }
  Problem none(Case{1, 1, 0, 4, 4, 4});
  kiln::attentionWith(kiln::gemmMicroKernel(GetParam()), none.desc, nullptr); // nothing to do
}

TEST_P(Attention, RejectsBadDescriptors) {
  Problem problem(Case{1, 1, 2, 2, 2, 2, true, Case::PerElement});
  kiln_attention_desc d = problem.desc;
  d.addend_cs = 2;
  EXPECT_THROW(kiln::attentionWith(kiln::gemmMicroKernel(GetParam()), d, nullptr),
               std::invalid_argument);
  d.addend_cs = 1;
  d.sk = -1;
  EXPECT_THROW(kiln::attentionWith(kiln::gemmMicroKernel(GetParam()), d, nullptr),
               std::invalid_argument);
}

INSTANTIATE_TEST_SUITE_P(Families, Attention, testing::ValuesIn(kFp32Families),
                         fp32FamilyTestName);

TEST_P(Attention, Bf16Products) {
  // q, K^T, V and the probabilities rounded to bf16 (8 bits): each product
  // within ~2^-8 of its value, the output within 4e-3 of the formula's.
  Case c{1, 3, 20, 40, 24, 24};
  c.mask = Case::PerKeyOverHeads;
  Problem problem(c);
  problem.desc.products_type = KILN_DTYPE_BFLOAT16;
  kiln::attentionWith(kiln::gemmMicroKernel(GetParam()), problem.desc, nullptr);
  const std::vector<double> ref = problem.reference();
  for (size_t i = 0; i < ref.size(); ++i)
    ASSERT_NEAR(problem.out[i], ref[i], 4e-3) << "at " << i;
}

/// The runtime's attention against its gemm, softmax and gemm (all with
/// the family it picked) on BERT's head and a long one (k sliced), with
/// query counts whose last strip has each count of rows the row softmax
/// can have left over, by rows (13 queries, or a mask per head) and by
/// columns (AVX-512: a mask per key, or per query and shared by the heads,
/// blocks of 32 queries and a partial one): the same floats, with fp32
/// products and bf16 ones.
class AttentionAsThreeCalls
    : public testing::TestWithParam<std::tuple<int64_t, int64_t, int64_t, Case::Mask>> {};

TEST_P(AttentionAsThreeCalls, SameFloats) {
  auto [sq, sk, productsType, mask] = GetParam();
  Case c{1, 12, sq, sk, 64, 64};
  c.mask = mask;
  Problem problem(c);
  problem.desc.products_type = productsType;
  const kiln_attention_desc &a = problem.desc;
  kiln::attention(a, nullptr);

  std::vector<float> scores(size_t(12 * a.sq * a.sk)), out(problem.out.size(), -7.0f);
  kiln_gemm_desc qk{};
  qk.m = a.sq, qk.n = a.sk, qk.k = a.d;
  qk.a = a.q, qk.a_rs = a.q_rs, qk.a_cs = a.q_cs;
  qk.b = a.kt, qk.b_rs = a.kt_rs, qk.b_cs = a.kt_cs;
  qk.c = scores.data(), qk.ldc = a.sk;
  qk.batch[0] = 1, qk.batch[1] = 12;
  qk.batch_stride_a[1] = a.batch_stride_q[1], qk.batch_stride_b[1] = a.batch_stride_kt[1];
  qk.batch_stride_c[1] = a.sq * a.sk;
  qk.b_type = productsType;
  kiln::gemm(qk, nullptr);
  kiln_softmax_desc sm{};
  sm.m = a.sq, sm.n = a.sk, sm.x = scores.data(), sm.x_rs = a.sk, sm.y = scores.data(),
  sm.y_rs = a.sk;
  sm.addend = a.addend, sm.addend_rs = a.addend_rs, sm.addend_cs = a.addend_cs;
  sm.scale = a.scale, sm.batch[0] = 1, sm.batch[1] = 12;
  sm.batch_stride_x[1] = sm.batch_stride_y[1] = a.sq * a.sk;
  sm.batch_stride_addend[1] = a.batch_stride_addend[1];
  kiln::softmax(sm, nullptr);
  kiln_gemm_desc pv = qk;
  pv.n = a.dv, pv.k = a.sk;
  pv.a = scores.data(), pv.a_rs = a.sk, pv.a_cs = 1;
  pv.b = a.v, pv.b_rs = a.v_rs, pv.b_cs = a.v_cs;
  pv.c = out.data(), pv.ldc = a.out_rs;
  pv.batch_stride_a[1] = a.sq * a.sk, pv.batch_stride_b[1] = a.batch_stride_v[1];
  pv.batch_stride_c[1] = a.batch_stride_out[1];
  kiln::gemm(pv, nullptr);
  for (size_t i = 0; i < out.size(); ++i)
    ASSERT_EQ(problem.out[i], out[i]) << "at " << i;
}

INSTANTIATE_TEST_SUITE_P(Heads, AttentionAsThreeCalls,
                         testing::Combine(testing::Values(int64_t(13), int64_t(61), int64_t(62),
                                                          int64_t(63), int64_t(64)),
                                          testing::Values(int64_t(128), int64_t(700)),
                                          testing::Values(int64_t(KILN_DTYPE_FLOAT32),
                                                          int64_t(KILN_DTYPE_BFLOAT16)),
                                          testing::Values(Case::PerKeyOverHeads,
                                                          Case::PerElementOverHeads,
                                                          Case::PerElement)));

} // namespace
