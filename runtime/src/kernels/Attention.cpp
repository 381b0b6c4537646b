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
};

/// Where the kernel reads a slice of A: a packed panel, or (fp32 families
/// with runStridedA) A itself, row-major with rows `rowStride` apart.
template <class Packed> struct ASlice {
  const Packed *packed;
  const float *inPlace;
  int64_t rowStride;
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
          kernel.runStridedA(kc, a.inPlace, a.rowStride, 1, panel, c + j, ldc, rows,
                             std::min(nr, n - j), pc > 0, nullptr);
          continue;
        }
      kernel.run(kc, a.packed, panel, c + j, ldc, rows, std::min(nr, n - j), pc > 0, nullptr);
    }
  }
}

/// productBySlices with A as it lies: read in place where it is row-major
/// and the family can (as gemm does), else each slice packed into aPacked.
template <class Packed>
void product(const GemmMicroKernelOf<Packed> &kernel, const float *a, int64_t aRowStride,
             int64_t aColStride, int64_t rows, int64_t k, const Packed *b, int64_t n, float *c,
             int64_t ldc, Packed *aPacked) {
  bool inPlace = false;
  if constexpr (std::is_same_v<Packed, float>)
    inPlace = kernel.runStridedA && aColStride == 1;
  productBySlices(kernel, rows, k, b, n, c, ldc, [&](int64_t pc, int64_t kc) {
    if (inPlace)
      return ASlice<Packed>{nullptr, a + pc, aRowStride};
    kernel.packA(a + pc * aColStride, aRowStride, aColStride, rows, kc, aPacked);
    return ASlice<Packed>{aPacked, nullptr, 0};
  });
}

/// Rows [i0, i1) of head `index` (b0 * batch[1] + b1).
template <class Packed>
void attentionRows(const Products<Packed> &with, const kiln_attention_desc &d, int64_t index,
                   int64_t i0, int64_t i1) {
  const GemmMicroKernelOf<Packed> &kernel = with.kernel;
  const int64_t b0 = index / d.batch[1], b1 = index % d.batch[1];
  auto at = [&](const int64_t *stride) { return b0 * stride[0] + b1 * stride[1]; };
  const float *q = d.q + at(d.batch_stride_q);
  const float *kt = d.kt + at(d.batch_stride_kt);
  const float *v = d.v + at(d.batch_stride_v);
  float *out = d.out + at(d.batch_stride_out);
  const float *addend = d.addend ? d.addend + at(d.batch_stride_addend) : nullptr;

  const int64_t mr = kernel.mr, nr = kernel.nr;
  const int64_t dPacked = roundUp(d.d, kGroup<Packed>), skPacked = roundUp(d.sk, kGroup<Packed>);
  // Rows of S 16 floats apart at least (whole vectors).
  const int64_t lds = std::max<int64_t>(roundUp(d.sk, 16), 16);
  // In floats, each buffer at a 64-byte boundary.
  auto floats = [](int64_t elements) {
    return size_t(roundUp(elements * int64_t(sizeof(Packed)), 64) / int64_t(sizeof(float)));
  };
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
                        return ASlice<Packed>{aPacked + pc * mr, nullptr, 0};
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
  const int64_t mr = with.kernel.mr;
  // Threads where the multiply-adds pay for them, as for the GEMM.
  const int64_t threads = gemmThreads(pool, heads * d.sq * d.sk * (d.d + d.dv));
  // Whole heads when there are enough of them to share out (four per
  // thread), else each head in strips of rows.
  const int64_t strips = ceilDiv(d.sq, mr);
  const int64_t parts = std::min(strips, std::max<int64_t>(1, ceilDiv(4 * threads, heads)));
  const int64_t rowsPerPart = roundUp(ceilDiv(d.sq, parts), mr);
  const int64_t partsPerHead = ceilDiv(d.sq, rowsPerPart);
  auto items = [&](size_t begin, size_t end) {
    for (size_t item = begin; item < end; ++item) {
      const int64_t head = int64_t(item) / partsPerHead, part = int64_t(item) % partsPerHead;
      const int64_t i0 = part * rowsPerPart;
      attentionRows(with, d, head, i0, std::min(d.sq, i0 + rowsPerPart));
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
    return runHeads(Products<uint16_t>{bf16, kernel.softmaxRows, nullptr}, d, pool);
  }
  runHeads(Products<float>{kernel, kernel.softmaxRows, kernel.softmaxToPanel}, d, pool);
}

void attention(const kiln_attention_desc &desc, ThreadPool *pool) {
  attentionWith(selectedGemmKernel(), desc, pool);
}

} // namespace kiln
