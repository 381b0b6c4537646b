//===- FoldOutputTransposes.cpp - A producer writes in transposed order ---===//
//
// Attention's product with V comes out per head, [B, H, S, D], and the model
// transposes it to [B, S, H, D] before merging the heads. On the GPU the
// transpose is a kernel that reads and writes the whole tensor; the product
// could have written its elements there in the first place, since a
// linalg.generic's output map says where each iteration's result goes.
// This pass makes it so: a linalg.transpose whose input is the only result
// of a linalg.generic (used by nothing else), with a zero-or-constant fill
// as its init, becomes that generic with its output map permuted and a fill
// of the transposed shape as its init. What the generic computes per
// element is unchanged, a reduction included; only where it stores moves.
//
// Only permutations that keep the last dim in place: a GEMM's output rows
// stay contiguous, so kiln-contraction-to-runtime-gemm still takes it (with
// a leading dimension and batch strides for the moved dims).
//
//===----------------------------------------------------------------------===//

#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNFOLDOUTPUTTRANSPOSES
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

struct FoldTransposeIntoProducer : OpRewritePattern<linalg::TransposeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::TransposeOp transpose,
                                PatternRewriter &rewriter) const override {
    if (!transpose.hasPureTensorSemantics())
      return rewriter.notifyMatchFailure(transpose, "not on tensors");
    ArrayRef<int64_t> permutation = transpose.getPermutation();
    if (permutation.empty() || permutation.back() != int64_t(permutation.size()) - 1)
      return rewriter.notifyMatchFailure(transpose, "moves the last dim");
    auto producer = transpose.getInput().getDefiningOp<linalg::GenericOp>();
    if (!producer || producer.getNumDpsInits() != 1 || !producer->hasOneUse() ||
        !producer.hasPureTensorSemantics())
      return rewriter.notifyMatchFailure(transpose, "not the only use of a generic's result");
    auto fill = producer.getDpsInits()[0].getDefiningOp<linalg::FillOp>();
    if (!fill)
      return rewriter.notifyMatchFailure(transpose, "the producer's init is not a fill");
    OpOperand *init = producer.getDpsInitOperand(0);
    AffineMap outputMap = producer.getMatchingIndexingMap(init);
    if (!outputMap.isProjectedPermutation())
      return rewriter.notifyMatchFailure(transpose, "the producer's output map is not a "
                                                    "projected permutation");
    // Result dim i of the transpose is dim permutation[i] of the producer's.
    SmallVector<AffineExpr> results;
    for (int64_t dim : permutation)
      results.push_back(outputMap.getResult(unsigned(dim)));
    AffineMap permuted =
        AffineMap::get(outputMap.getNumDims(), outputMap.getNumSymbols(), results,
                       rewriter.getContext());

    Location loc = producer.getLoc();
    Value transposedInit =
        linalg::FillOp::create(rewriter, loc, fill.getDpsInputs()[0], transpose.getInit())
            .getResult(0);
    SmallVector<AffineMap> maps = producer.getIndexingMapsArray();
    maps.back() = permuted;
    auto folded = linalg::GenericOp::create(
        rewriter, loc, TypeRange{transposedInit.getType()}, producer.getDpsInputs(),
        ValueRange{transposedInit}, maps, producer.getIteratorTypesArray());
    rewriter.inlineRegionBefore(producer.getRegion(), folded.getRegion(),
                                folded.getRegion().begin());
    // Attributes beyond the structure (a profile region's name) move along.
    for (NamedAttribute attribute : producer->getDiscardableAttrs())
      folded->setDiscardableAttr(attribute.getName(), attribute.getValue());
    rewriter.replaceOp(transpose, folded.getResults());
    rewriter.eraseOp(producer);
    return success();
  }
};

struct FoldOutputTransposesPass
    : mlir::kiln::impl::KilnFoldOutputTransposesBase<FoldOutputTransposesPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldTransposeIntoProducer>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
