//===- FuseElementwise.cpp - One loop nest for chains of elementwise ops --===//
//
// Lowered one by one, a chain such as GELU's div/erf/add/mul/mul or
// softmax's sub/exp/sum/div is a loop nest and a full intermediate buffer
// per op: memory traffic, not arithmetic, sets its time. Upstream's linalg
// elementwise fusion folds a producer into its consumer's loop nest; Kiln
// steers it so that
//
//  * a producer is only fused into its single user (fusing into several
//    would recompute it, e.g. softmax's exp, once per user), and
//  * nothing is fused into a contraction (two inputs and a reduction): its
//    body must stay `out + a * b` for kiln-contraction-to-runtime-gemm,
//    which turns it into a call of the runtime's GEMM.
//
// A linalg.transpose feeding a contraction is the exception that is folded:
// it only permutes indices, so the contraction reads the transpose's input
// through the permuted map and its body stays as it is. The GEMM then reads
// attention's Q and V through strides, with no copy of each.
//
// An elementwise op that reads a contraction's result through a
// tensor.expand_shape (GPT-2's Conv1D computes [B*S, N] and views it as
// [B, S, N] before its GELU or residual add) is rewritten to run on the
// collapsed shape, with the expand after it, so that it meets the
// contraction directly: then it fuses with the rest of the chain and
// kiln-prepare-gemm-epilogues can fold it into the GEMM.
//
//===----------------------------------------------------------------------===//

#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNFUSEELEMENTWISE
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

bool isContraction(Operation *op) {
  auto generic = dyn_cast<linalg::GenericOp>(op);
  return generic && generic.getNumReductionLoops() > 0 && generic.getNumDpsInputs() > 1;
}

/// contraction(transpose(x)) -> contraction(x) with the input's map
/// permuted: the transpose's result dim i is its input's dim perm[i], so
/// input dim perm[i] is read at what the map gave for result dim i.
struct FoldTransposeIntoContraction : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp op, PatternRewriter &rewriter) const override {
    if (!isContraction(op) || !op.hasPureTensorSemantics())
      return failure();
    for (OpOperand *input : op.getDpsInputOperands()) {
      auto transpose = input->get().getDefiningOp<linalg::TransposeOp>();
      if (!transpose || !transpose.hasPureTensorSemantics())
        continue;
      ArrayRef<int64_t> perm = transpose.getPermutation();
      // Only transposes that keep the innermost dim: the GEMM packs an
      // operand whose rows stay contiguous a vector at a time, but gathers
      // one float at a time from one transposed in its last dim (attention's
      // K^T), which measured slower than the copy.
      if (perm.empty() || perm.back() != int64_t(perm.size()) - 1)
        continue;
      AffineMap map = op.getMatchingIndexingMap(input);
      SmallVector<AffineExpr> results(perm.size());
      for (auto [i, source] : llvm::enumerate(perm))
        results[source] = map.getResult(i);
      SmallVector<AffineMap> maps = op.getIndexingMapsArray();
      maps[input->getOperandNumber()] =
          AffineMap::get(map.getNumDims(), map.getNumSymbols(), results, op.getContext());
      rewriter.modifyOpInPlace(op, [&] {
        input->set(transpose.getInput());
        op.setIndexingMapsAttr(rewriter.getAffineMapArrayAttr(maps));
      });
      return success();
    }
    return failure();
  }
};

/// Whether `fused` is an elementwise op's operand that views a
/// contraction's result through a tensor.expand_shape.
bool readsExpandedContraction(OpOperand *fused) {
  auto expand = fused->get().getDefiningOp<tensor::ExpandShapeOp>();
  auto consumer = dyn_cast<linalg::GenericOp>(fused->getOwner());
  return expand && consumer && !isContraction(consumer) &&
         consumer.getNumReductionLoops() == 0 && expand.getSrc().getDefiningOp() &&
         isContraction(expand.getSrc().getDefiningOp());
}

struct FuseElementwisePass : mlir::kiln::impl::KilnFuseElementwiseBase<FuseElementwisePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldTransposeIntoContraction>(&getContext());
    linalg::populateFoldReshapeOpsByCollapsingPatterns(patterns, readsExpandedContraction);
    linalg::populateElementwiseOpsFusionPatterns(patterns, [](OpOperand *fused) {
      Operation *producer = fused->get().getDefiningOp();
      return producer && producer->hasOneUse() && !isContraction(fused->getOwner());
    });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
