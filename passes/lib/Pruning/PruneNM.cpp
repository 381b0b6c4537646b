//===- PruneNM.cpp - N:M pruning of constant GEMM weights -----------------===//
//
// `kiln compile --prune N:M` (2:4 as sparse tensor cores and some CPU
// kernels take it): in each group of M consecutive values along K of a
// MatMul/Gemm weight's K x N view (one output column), only the N largest
// in magnitude stay. The zeros stay in the fp32 constant.
//
// tools/prune_onnx.py does the same on ONNX initializers, exactly: ties in
// magnitude prune the value earlier along K first, and a last group shorter
// than M (K not a multiple of M) keeps its N largest too.
//
//===----------------------------------------------------------------------===//

#include "PrunableWeights.h"
#include "kiln/Passes/Passes.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNPRUNENM
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::pruning;

namespace {

/// The largest M: groups are sorted in a small array on the stack.
constexpr unsigned kMaxM = 64;

struct PruneNMPass : mlir::kiln::impl::KilnPruneNMBase<PruneNMPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (!(m >= 2 && m <= kMaxM && n >= 1 && n < m)) {
      module.emitError() << "kiln-prune-n-m: needs 1 <= n < m <= " << kMaxM
                         << ", not n = " << int64_t(n) << ", m = " << int64_t(m);
      return signalPassFailure();
    }
    std::vector<PrunableWeight> weights = prunableWeights(module, exclude, keepDense);
    std::string pattern = llvm::formatv("{0}:{1}", unsigned(n), unsigned(m)).str();
    PruningReport summary;
    int64_t counter = 0;
    for (PrunableWeight &w : weights) {
      if (w.keepDense)
        continue;
      std::vector<float> pruned(w.data.begin(), w.data.end());
      const layout::WeightView &v = w.view;
      std::array<int64_t, kMaxM> order;
      for (int64_t j = 0; j < v.n; ++j)
        for (int64_t first = 0; first < v.k; first += m) {
          int64_t size = std::min<int64_t>(m, v.k - first);
          if (size <= n)
            continue;
          auto at = [&](int64_t p) { return size_t(p * v.kStride + j * v.nStride); };
          std::iota(order.begin(), order.begin() + size, first);
          std::stable_sort(order.begin(), order.begin() + size, [&](int64_t a, int64_t b) {
            return std::fabs(w.data[at(a)]) < std::fabs(w.data[at(b)]);
          });
          for (int64_t i = 0; i < size - int64_t(n); ++i)
            pruned[at(order[i])] = 0.0f;
        }
      summary.add(w, countZeros(pruned), pattern, report);
      replaceWeight(module, w, pruned, counter);
    }
    if (report)
      summary.summarize(module, pattern);
  }
};

} // namespace
