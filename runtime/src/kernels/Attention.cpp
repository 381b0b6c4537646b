//===- Attention.cpp - kiln_attention_desc over the session's threads -----===//
//
// One head (one batch index) at a time on a thread: K^T and V packed once
// for the GEMM's micro-kernel (B panels; fp32, or bf16 pairs with
// products_type BFLOAT16), then for each strip of mr rows of Q
//
//   S = Q_strip K^T      the micro-kernel, into an mr x sk buffer (in L1
//                        at BERT's lengths: 6 KiB at sk = 128)
//   P = softmax(S)       the family's row softmax, scale and mask; fp32 P
//                        is written straight into A's packed panel
//   out_strip = P V      the micro-kernel again, P as its A
//
// which is what the separate gemm, softmax and gemm calls compute, in the
// same order (k sliced as gemm slices it), without writing the head's
// sq x sk scores to memory and reading them back twice, and with one
// hand-off to the threads instead of three. A head is split into several
// items of strips only when there are too few heads for the threads.
//
// Where the family has a column softmax (AVX-512), blocks of nr queries go
// by columns instead (attentionColumns): S^T = K Q^T, the softmax down each
// query's column, P read in place as A; the same floats, without the row
// softmax's reductions across lanes and transposition into the panel.
//
//===----------------------------------------------------------------------===//

#include "Attention.h"

#include "GemmKernels.h"
#include "GemmShared.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace kiln {
namespace {

void checkDesc(const kiln_attention_desc &d) {
  if (d.sq < 0 || d.sk < 0 || d.d < 0 || d.dv < 0 || d.batch[0] < 0 || d.batch[1] < 0)
    throw std::invalid_argument("kiln_attention_desc: a negative size");
  if (d.addend && d.addend_cs != 0 && d.addend_cs != 1)
    throw std::invalid_argument("kiln_attention_desc: addend_cs " + std::to_string(d.addend_cs) +
                                " is neither 0 nor 1");
  if (d.products_type != 0 && d.products_type != KILN_DTYPE_FLOAT32 &&
      d.products_type != KILN_DTYPE_BFLOAT16)
    throw std::invalid_argument("kiln_attention_desc: unknown products_type " +
                                std::to_string(d.products_type));
}

/// Steps of k per packed element group (1 for float, 2 for bf16 pairs).
template <class Packed> constexpr int64_t kGroup = GemmPacking<Packed>::kStepsPerGroup;

/// What one head's products need: the fp32 or bf16 family's packing and
/// micro-kernel, and the fp32 family's row softmax.
template <class Packed> struct Products {
  const GemmMicroKernelOf<Packed> &kernel;
  SoftmaxRowsFn softmaxRows;
  SoftmaxToPanelFn softmaxToPanel;
  SoftmaxColumnsFn softmaxColumns; // (null: the row softmax only)
};

/// Where the kernel reads a slice of A: a packed panel, or (fp32 families
/// with runStridedA) A itself, A(i, p) = inPlace[i * rowStride + p *
/// colStride].
template <class Packed> struct ASlice {
  const Packed *packed;
  const float *inPlace;
  int64_t rowStride, colStride;
};

/// C (rows x n, ldc) = A (rows x k) B (k x n, packed in whole panels),
/// sliced along k as gemm slices it (its sums, bit for bit: the kernel's
/// arithmetic does not depend on where it reads A); slice(pc, kc) gives
/// A's ASlice for k in [pc, pc + kc).
template <class Packed, class Slice>
void productBySlices(const GemmMicroKernelOf<Packed> &kernel, int64_t rows, int64_t k,
                     const Packed *b, int64_t n, float *c, int64_t ldc, const Slice &slice) {
  if (k == 0) { // an empty sum
    for (int64_t i = 0; i < rows; ++i)
      std::fill(c + i * ldc, c + i * ldc + n, 0.0f);
    return;
  }
  const int64_t nr = kernel.nr, kPacked = roundUp(k, kGroup<Packed>);
  const int64_t kcMax = balancedBlock(k, kernel.kc, kGroup<Packed>);
  for (int64_t pc = 0; pc < k; pc += kcMax) {
    const int64_t kc = std::min(kcMax, k - pc);
    const ASlice<Packed> a = slice(pc, kc);
    for (int64_t j = 0; j < n; j += nr) {
      const Packed *panel = b + j / nr * kPacked * nr + pc * nr;
      if constexpr (std::is_same_v<Packed, float>)
        if (a.inPlace) {
          kernel.runStridedA(kc, a.inPlace, a.rowStride, a.colStride, panel, c + j, ldc, rows,
                             std::min(nr, n - j), pc > 0, nullptr, nullptr);
          continue;
        }
      kernel.run(kc, a.packed, panel, c + j, ldc, rows, std::min(nr, n - j), pc > 0, nullptr);
    }
  }
}

/// productBySlices with A read in place (runStridedA), A(i, p) = a[i *
/// rowStride + p * colStride]. Kept out of line: its three callers share
/// one copy of the loops (the runtime's size).
[[gnu::noinline]] void productInPlace(const GemmMicroKernel &kernel, int64_t rows, int64_t k,
                                      const float *b, int64_t n, float *c, int64_t ldc,
                                      const float *a, int64_t rowStride, int64_t colStride) {
  productBySlices(kernel, rows, k, b, n, c, ldc, [&](int64_t pc, int64_t) {
    return ASlice<float>{nullptr, a + pc * colStride, rowStride, colStride};
  });
}

/// productBySlices with A as it lies: read in place where it is row-major
/// and the family can (as gemm does), else each slice packed into aPacked.
template <class Packed>
void product(const GemmMicroKernelOf<Packed> &kernel, const float *a, int64_t aRowStride,
             int64_t aColStride, int64_t rows, int64_t k, const Packed *b, int64_t n, float *c,
             int64_t ldc, Packed *aPacked) {
  if constexpr (std::is_same_v<Packed, float>)
    if (kernel.runStridedA && aColStride == 1)
      return productInPlace(kernel, rows, k, b, n, c, ldc, a, aRowStride, 1);
  productBySlices(kernel, rows, k, b, n, c, ldc, [&](int64_t pc, int64_t kc) {
    kernel.packA(a + pc * aColStride, aRowStride, aColStride, rows, kc, aPacked);
    return ASlice<Packed>{aPacked, nullptr, 0, 0};
  });
}

/// Head `index` (b0 * batch[1] + b1): where its tensors start.
struct Head {
  const float *q, *kt, *v, *addend;
  float *out;
};

Head headAt(const kiln_attention_desc &d, int64_t index) {
  const int64_t b0 = index / d.batch[1], b1 = index % d.batch[1];
  auto at = [&](const int64_t *stride) { return b0 * stride[0] + b1 * stride[1]; };
  return {d.q + at(d.batch_stride_q), d.kt + at(d.batch_stride_kt), d.v + at(d.batch_stride_v),
          d.addend ? d.addend + at(d.batch_stride_addend) : nullptr,
          d.out + at(d.batch_stride_out)};
}

/// In floats, a buffer of `elements` of Packed rounded up to 64 bytes, so
/// that the next one starts at a 64-byte boundary.
template <class Packed> size_t bufferFloats(int64_t elements) {
  return size_t(roundUp(elements * int64_t(sizeof(Packed)), 64) / int64_t(sizeof(float)));
}

/// The most floats of a mask per query that attentionColumns packs as
/// panels (once per batch index, on each thread): 1 MiB, a 512 x 512 mask.
constexpr int64_t kMaskPanelsMax = int64_t(1) << 18;

/// How a call's heads run: by rows (attentionRows) or by columns
/// (attentionColumns), and then whether the mask differs per query and so
/// goes to the softmax as panels of nr queries (the heads share it).
struct Plan {
  bool byColumns = false, maskPanels = false;
};

/// By columns where the family has the column softmax and its kernel reads
/// A in place, there are queries enough to fill most of a block of nr (one
/// query alone would cost a whole block of scores), and the mask (if any)
/// is a term per key, or per query and key but the same for every head
/// (BERT's mask expanded to the queries, a causal mask) and not too large
/// to pack.
Plan planFor(const Products<float> &with, const kiln_attention_desc &d) {
  Plan plan;
  if (!with.softmaxColumns || !with.kernel.runStridedA || 2 * d.sq < with.kernel.nr)
    return plan;
  if (!d.addend || d.addend_rs == 0) {
    plan.byColumns = true;
  } else if (d.batch_stride_addend[1] == 0 &&
             roundUp(d.sq, with.kernel.nr) * d.sk <= kMaskPanelsMax) {
    plan.byColumns = plan.maskPanels = true;
  }
  return plan;
}

/// A thread's buffers for attentionColumns: Q^T's panel, V packed, the
/// scores, and with Plan::maskPanels the mask of one batch index as panels
/// of nr queries (B's layout: term(i, p) at panel i / nr, p * nr + i % nr).
struct ColumnBuffers {
  float *qPanel, *vPacked, *scores, *maskPanels;
};

ColumnBuffers columnBuffers(const kiln_attention_desc &d, int64_t nr, bool maskPanels) {
  const size_t q = bufferFloats<float>(d.d * nr), v = bufferFloats<float>(d.sk * roundUp(d.dv, nr));
  const size_t s = bufferFloats<float>(std::max<int64_t>(d.sk, 1) * nr);
  const size_t m = maskPanels ? bufferFloats<float>(roundUp(d.sq, nr) * d.sk) : 0;
  // The thread's GEMM pack buffer (64-byte aligned): no gemm runs inside.
  auto *base = static_cast<float *>(gemmPackBuffer((q + v + s + m) * sizeof(float)));
  return {base, base + q, base + q + v, maskPanels ? base + q + v + s : nullptr};
}

/// Rows [i0, i1) of a head (i0 a multiple of nr) nr queries at a time,
/// their scores transposed: S^T = K Q^T (keys down the rows, queries
/// across; K read in place, Q^T packed as the kernel's B panel) into an sk
/// x nr buffer, the family's softmax down its columns (SoftmaxColumns.h),
/// then out = P V with P read in place from that buffer (A's row stride 1,
/// column stride nr). The same products, sliced alike, and the same softmax
/// floats as attentionRows: the same result, bit for bit, with no packing
/// of K and no transposition of P: all-MiniLM-L6-v2's attention (12 heads
/// of 128 x 32, its mask expanded to the queries), AVX-512 on Zen 5, 1
/// thread: 154 -> 138 us a layer (kiln run --profile); 134 us with the
/// mask as a term per key.
void attentionColumns(const Products<float> &with, const kiln_attention_desc &d, const Head &h,
                      int64_t i0, int64_t i1, const ColumnBuffers &buf) {
  const GemmMicroKernel &kernel = with.kernel;
  const int64_t mr = kernel.mr, nr = kernel.nr;
  kernel.packB(h.v, d.v_rs, d.v_cs, d.sk, d.dv, buf.vPacked);
  for (int64_t i = i0; i < i1; i += nr) {
    const int64_t queries = std::min(nr, i1 - i);
    kernel.packB(h.q + i * d.q_rs, d.q_cs, d.q_rs, d.d, queries, buf.qPanel);
    // K(p, e) = kt[e * kt_rs + p * kt_cs], mr keys at a time.
    for (int64_t p = 0; p < d.sk; p += mr)
      productInPlace(kernel, std::min(mr, d.sk - p), d.d, buf.qPanel, nr, buf.scores + p * nr, nr,
                     h.kt + p * d.kt_cs, d.kt_cs, d.kt_rs);
    const bool perQuery = buf.maskPanels != nullptr;
    with.softmaxColumns(buf.scores, d.sk, perQuery ? buf.maskPanels + i / nr * d.sk * nr : h.addend,
                        perQuery ? nr : d.addend_cs, perQuery, float(d.scale));
    for (int64_t r = 0; r < queries; r += mr)
      productInPlace(kernel, std::min(mr, queries - r), d.sk, buf.vPacked, d.dv,
                     h.out + (i + r) * d.out_rs, d.out_rs, buf.scores + r, 1, nr);
  }
}

/// Rows [i0, i1) of head `index` (b0 * batch[1] + b1).
template <class Packed>
void attentionRows(const Products<Packed> &with, const kiln_attention_desc &d, int64_t index,
                   int64_t i0, int64_t i1) {
  const Head h = headAt(d, index);
  const GemmMicroKernelOf<Packed> &kernel = with.kernel;
  const float *q = h.q, *kt = h.kt, *v = h.v, *addend = h.addend;
  float *out = h.out;

  const int64_t mr = kernel.mr, nr = kernel.nr;
  const int64_t dPacked = roundUp(d.d, kGroup<Packed>), skPacked = roundUp(d.sk, kGroup<Packed>);
  // Rows of S 16 floats apart at least (whole vectors).
  const int64_t lds = std::max<int64_t>(roundUp(d.sk, 16), 16);
  auto floats = [](int64_t elements) { return bufferFloats<Packed>(elements); };
  const size_t ktSize = floats(dPacked * roundUp(d.sk, nr)), vSize = floats(skPacked * roundUp(d.dv, nr));
  const size_t aSize = floats(mr * std::max<int64_t>(std::max(dPacked, skPacked), 2));
  // The thread's GEMM pack buffer (64-byte aligned): no gemm runs inside.
  auto *base = static_cast<float *>(
      gemmPackBuffer((ktSize + vSize + aSize + size_t(mr * lds)) * sizeof(float)));
  auto *ktPacked = reinterpret_cast<Packed *>(base);
  auto *vPacked = reinterpret_cast<Packed *>(base + ktSize);
  auto *aPacked = reinterpret_cast<Packed *>(base + ktSize + vSize);
  float *s = base + ktSize + vSize + aSize;

  kernel.packB(kt, d.kt_rs, d.kt_cs, d.d, d.sk, ktPacked);
  kernel.packB(v, d.v_rs, d.v_cs, d.sk, d.dv, vPacked);
  const float scale = float(d.scale);
  for (int64_t i = i0; i < i1; i += mr) {
    const int64_t rows = std::min(mr, i1 - i);
    product(kernel, q + i * d.q_rs, d.q_rs, d.q_cs, rows, d.d, ktPacked, d.sk, s, lds, aPacked);
    const float *addendRows = addend ? addend + i * d.addend_rs : nullptr;
    if constexpr (std::is_same_v<Packed, float>) {
      // P straight into one packed panel of A over all of sk: a slice of
      // k in [pc, pc + kc) is the panel from column pc on.
      with.softmaxToPanel(s, lds, addendRows, d.addend_rs, d.addend_cs, rows, d.sk, scale,
                          aPacked);
      productBySlices(kernel, rows, d.sk, vPacked, d.dv, out + i * d.out_rs, d.out_rs,
                      [&](int64_t pc, int64_t) {
                        return ASlice<Packed>{aPacked + pc * mr, nullptr, 0, 0};
                      });
    } else {
      with.softmaxRows(s, lds, s, lds, addendRows, d.addend_rs, d.addend_cs, rows, d.sk, scale);
      product(kernel, s, lds, 1, rows, d.sk, vPacked, d.dv, out + i * d.out_rs, d.out_rs,
              aPacked);
    }
  }
}

/// The heads split into items for the threads.
template <class Packed>
void runHeads(const Products<Packed> &with, const kiln_attention_desc &d, ThreadPool *pool) {
  const int64_t heads = d.batch[0] * d.batch[1];
  const int64_t mr = with.kernel.mr, nr = with.kernel.nr;
  Plan plan;
  if constexpr (std::is_same_v<Packed, float>)
    plan = planFor(with, d);
  // Threads where the multiply-adds pay for them, as for the GEMM.
  const int64_t threads = gemmThreads(pool, heads * d.sq * d.sk * (d.d + d.dv));
  // Whole heads when there are enough of them to share out (four per
  // thread), else each head in parts of whole strips (blocks by columns).
  const int64_t unit = plan.byColumns ? nr : mr;
  const int64_t strips = ceilDiv(d.sq, unit);
  const int64_t parts = std::min(strips, std::max<int64_t>(1, ceilDiv(4 * threads, heads)));
  const int64_t rowsPerPart = roundUp(ceilDiv(d.sq, parts), unit);
  const int64_t partsPerHead = ceilDiv(d.sq, rowsPerPart);
  auto items = [&](size_t begin, size_t end) {
    [[maybe_unused]] ColumnBuffers buf{};
    [[maybe_unused]] int64_t maskFor = -1; // the batch index buf.maskPanels holds
    if constexpr (std::is_same_v<Packed, float>)
      if (plan.byColumns)
        buf = columnBuffers(d, nr, plan.maskPanels);
    for (size_t item = begin; item < end; ++item) {
      const int64_t head = int64_t(item) / partsPerHead, part = int64_t(item) % partsPerHead;
      const int64_t i0 = part * rowsPerPart, i1 = std::min(d.sq, i0 + rowsPerPart);
      if constexpr (std::is_same_v<Packed, float>)
        if (plan.byColumns) {
          const int64_t b0 = head / d.batch[1];
          if (plan.maskPanels && b0 != maskFor) {
            // term(i, p) = addend[i * addend_rs + p * addend_cs]: B of sk x sq.
            with.kernel.packB(d.addend + b0 * d.batch_stride_addend[0], d.addend_cs, d.addend_rs,
                              d.sk, d.sq, buf.maskPanels);
            maskFor = b0;
          }
          attentionColumns(with, d, headAt(d, head), i0, i1, buf);
          continue;
        }
      attentionRows(with, d, head, i0, i1);
    }
  };
  const size_t count = size_t(heads * partsPerHead);
  if (threads == 1)
    items(0, count);
  else
    pool->parallelFor(count, 1, items);
}

} // namespace

void attentionWith(const GemmMicroKernel &kernel, const kiln_attention_desc &d, ThreadPool *pool) {
  checkDesc(d);
  if (d.batch[0] * d.batch[1] == 0 || d.sq == 0 || d.dv == 0)
    return;
  if (d.products_type == KILN_DTYPE_BFLOAT16) {
    const GemmBf16MicroKernel bf16 = gemmBf16KernelFor(kernel);
    return runHeads(Products<uint16_t>{bf16, kernel.softmaxRows, nullptr, nullptr}, d, pool);
  }
  runHeads(Products<float>{kernel, kernel.softmaxRows, kernel.softmaxToPanel,
                           kernel.softmaxColumns},
           d, pool);
}

void attention(const kiln_attention_desc &desc, ThreadPool *pool) {
  attentionWith(selectedGemmKernel(), desc, pool);
}

} // namespace kiln
