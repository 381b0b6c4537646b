//===- PruneMagnitude.cpp - Magnitude pruning of constant GEMM weights ----===//
//
// `kiln compile --prune S:<pattern>`: zeroes the smallest blocks of the
// MatMul/Gemm weights (PrunableWeights.h) until a fraction S of each
// weight's blocks (per layer) or of all their blocks together (global) is
// zero. A block is bk rows of K by bn consecutive columns of N in the
// weight's K x N view; its score is its squared L2 norm. The zeros stay in
// the fp32 constant: the layout passes downstream decide how to store and
// multiply them.
//
// tools/prune_onnx.py does the same on ONNX initializers, and a model it
// pruned must compile to the same outputs as the model pruned here, so
// every choice is exact: scores are sums of squares in double (a float's
// square is exact in double, so the sum depends only on its order: rows of
// the block, then columns), and the threshold is the n-th smallest score
// itself, every block at or below it pruned (ties all go; a rule that does
// not depend on the order weights are visited in).
//
//===----------------------------------------------------------------------===//

#include "PrunableWeights.h"
#include "kiln/Passes/Passes.h"
#include "llvm/ADT/bit.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNPRUNEMAGNITUDE
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::pruning;

namespace {

/// The block grid of one weight: blocks of bk x bn over its K x N view,
/// the last row and column of blocks partial when bk or bn does not divide
/// K or N (scored as if zero-padded: over the values they have).
struct BlockGrid {
  const PrunableWeight &weight;
  int64_t bk, bn;

  int64_t rows() const { return (weight.view.k + bk - 1) / bk; }
  int64_t cols() const { return (weight.view.n + bn - 1) / bn; }
  int64_t count() const { return rows() * cols(); }

  template <typename Fn> void forEachValue(int64_t bi, int64_t bj, Fn fn) const {
    const layout::WeightView &v = weight.view;
    for (int64_t p = bi * bk, pEnd = std::min(v.k, p + bk); p < pEnd; ++p)
      for (int64_t j = bj * bn, jEnd = std::min(v.n, j + bn); j < jEnd; ++j)
        fn(size_t(p * v.kStride + j * v.nStride));
  }

  double score(int64_t bi, int64_t bj) const {
    double sum = 0;
    forEachValue(bi, bj, [&](size_t at) {
      double x = weight.data[at];
      sum += x * x;
    });
    return sum;
  }

  template <typename Fn> void forEachScore(Fn fn) const {
    for (int64_t bi = 0, r = rows(); bi < r; ++bi)
      for (int64_t bj = 0, c = cols(); bj < c; ++bj)
        fn(score(bi, bj));
  }
};

/// The n-th smallest (1 <= n <= count) of the scores `forEachScore` visits:
/// a radix select on their bit patterns (non-negative doubles order as
/// their bits), 16 bits a pass, collecting the candidates once they are
/// few. BERT-base's 85M weights need not have their scores held at once.
double nthSmallest(function_ref<void(function_ref<void(double)>)> forEachScore, uint64_t n) {
  constexpr uint64_t kFewEnough = 1 << 20;
  uint64_t prefix = 0; // the answer's top `fixed` bits
  int fixed = 0;
  auto matches = [&](uint64_t bits) { return fixed == 0 || (bits >> (64 - fixed)) == prefix; };
  while (true) {
    const int width = 16, shift = 64 - fixed - width;
    std::vector<uint64_t> counts(size_t(1) << width);
    forEachScore([&](double score) {
      uint64_t bits = llvm::bit_cast<uint64_t>(score);
      if (matches(bits))
        ++counts[(bits >> shift) & 0xffff];
    });
    uint64_t digit = 0;
    for (; n > counts[digit]; ++digit)
      n -= counts[digit];
    prefix = (prefix << width) | digit;
    fixed += width;
    if (fixed == 64)
      return llvm::bit_cast<double>(prefix);
    if (counts[digit] <= kFewEnough) {
      std::vector<double> candidates;
      candidates.reserve(counts[digit]);
      forEachScore([&](double score) {
        if (matches(llvm::bit_cast<uint64_t>(score)))
          candidates.push_back(score);
      });
      std::nth_element(candidates.begin(), candidates.begin() + (n - 1), candidates.end());
      return candidates[n - 1];
    }
  }
}

struct PruneMagnitudePass : mlir::kiln::impl::KilnPruneMagnitudeBase<PruneMagnitudePass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (!(sparsity > 0 && sparsity < 1)) {
      module.emitError() << "kiln-prune-magnitude: sparsity must be in (0, 1), not "
                         << double(sparsity);
      return signalPassFailure();
    }
    if (blockK < 1 || blockN < 1) {
      module.emitError() << "kiln-prune-magnitude: block-k and block-n must be at least 1, not "
                         << int64_t(blockK) << " and " << int64_t(blockN);
      return signalPassFailure();
    }
    if (scope != "per-layer" && scope != "global") {
      module.emitError() << "kiln-prune-magnitude: scope must be per-layer or global, not '"
                         << scope << "'";
      return signalPassFailure();
    }
    std::vector<PrunableWeight> weights = prunableWeights(module, exclude, keepDense);
    std::string pattern =
        llvm::formatv("{0} {1}x{2} blocks", scope.getValue(), int64_t(blockK), int64_t(blockN))
            .str();
    PruningReport summary;
    int64_t counter = 0;
    auto grid = [&](const PrunableWeight &w) { return BlockGrid{w, blockK, blockN}; };
    std::optional<double> globalThreshold;
    if (scope == "global") {
      // Kept-dense weights count: they are measured against the same
      // threshold as in the build where they are pruned.
      uint64_t blocks = 0;
      for (const PrunableWeight &w : weights)
        blocks += grid(w).count();
      globalThreshold = threshold(blocks, [&](function_ref<void(double)> fn) {
        for (const PrunableWeight &w : weights)
          grid(w).forEachScore(fn);
      });
    }
    for (PrunableWeight &w : weights) {
      if (w.keepDense)
        continue;
      BlockGrid g = grid(w);
      std::optional<double> limit =
          globalThreshold
              ? globalThreshold
              : threshold(g.count(), [&](function_ref<void(double)> fn) { g.forEachScore(fn); });
      std::vector<float> pruned(w.data.begin(), w.data.end());
      if (limit)
        for (int64_t bi = 0, r = g.rows(); bi < r; ++bi)
          for (int64_t bj = 0, c = g.cols(); bj < c; ++bj)
            if (g.score(bi, bj) <= *limit)
              g.forEachValue(bi, bj, [&](size_t at) { pruned[at] = 0.0f; });
      summary.add(w, countZeros(pruned), pattern, report);
      replaceWeight(module, w, pruned, counter);
    }
    if (report)
      summary.summarize(module, pattern);
  }

  /// The score at or below which blocks are pruned: the n-th smallest of
  /// `blocks` scores, n = round(sparsity * blocks); none when n is 0.
  std::optional<double> threshold(uint64_t blocks,
                                  function_ref<void(function_ref<void(double)>)> scores) const {
    auto n = uint64_t(std::floor(double(sparsity) * double(blocks) + 0.5));
    if (n == 0)
      return std::nullopt;
    return nthSmallest(scores, n);
  }
};

} // namespace
