//===- UnitDimViews.cpp - Views that only add or drop dims of 1 -----------===//

#include "UnitDimViews.h"
#include "../Lowering/ShapeOperands.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;

namespace {

/// `v` seen through collapse/expand_shape ops: the same elements in the
/// same row-major order.
Value throughReshapes(Value v) {
  while (true) {
    if (auto collapse = v.getDefiningOp<tensor::CollapseShapeOp>())
      v = collapse.getSrc();
    else if (auto expand = v.getDefiningOp<tensor::ExpandShapeOp>())
      v = expand.getSrc();
    else
      return v;
  }
}

bool isStaticOne(RankedTensorType type, int64_t d) { return type.getDimSize(d) == 1; }

/// Groups `rank` dims into one group per dim not a static 1 (`kept`, in
/// order): a dim of 1 joins the group after it, trailing ones the last.
SmallVector<ReassociationIndices> groupAround(ArrayRef<int64_t> kept, int64_t rank) {
  SmallVector<ReassociationIndices> groups(kept.size());
  int64_t next = 0;
  for (int64_t d = 0; d < rank; ++d) {
    groups[std::min<int64_t>(next, kept.size() - 1)].push_back(d);
    if (next < (int64_t)kept.size() && kept[next] == d)
      ++next;
  }
  return groups;
}

/// Whether each group of `groups` over the dims of `type` (the side with
/// more dims) holds at most one dim that is not a static 1.
bool onlyUnitDims(RankedTensorType type, ArrayRef<ReassociationIndices> groups) {
  return llvm::all_of(groups, [&](const ReassociationIndices &group) {
    return llvm::count_if(group, [&](int64_t d) { return !isStaticOne(type, d); }) <= 1;
  });
}

/// Whether `op` is a collapse or expand_shape that only drops or adds 1s.
bool isUnitDimView(Operation *op) {
  if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(op))
    return onlyUnitDims(collapse.getSrcType(), collapse.getReassociationIndices());
  if (auto expand = dyn_cast<tensor::ExpandShapeOp>(op))
    return onlyUnitDims(expand.getResultType(), expand.getReassociationIndices());
  return false;
}

/// `op` (a view of `input` of `resultType`, its dims `sizes`) as a
/// collapse_shape dropping the 1s of the tensor under input's reshapes and
/// an expand_shape adding the result's, where the dims that are not 1 are
/// the same, in order: the same static size, or the same run-time dim.
LogicalResult rewriteAsUnitDimViews(PatternRewriter &rewriter, Operation *op, Value input,
                                    RankedTensorType resultType, ArrayRef<OpFoldResult> sizes) {
  Value source = throughReshapes(input);
  auto sourceType = cast<RankedTensorType>(source.getType());
  SmallVector<int64_t> sourceKept, resultKept;
  for (int64_t d = 0; d < sourceType.getRank(); ++d)
    if (!isStaticOne(sourceType, d))
      sourceKept.push_back(d);
  for (auto [d, size] : llvm::enumerate(sizes)) {
    bool one = getConstantIntValue(size) == 1;
    if (one != isStaticOne(resultType, d))
      return failure(); // a size of 1 only known at run time, or the reverse
    if (!one)
      resultKept.push_back(d);
  }
  if (sourceKept.empty() || sourceKept.size() != resultKept.size())
    return failure();
  for (auto [s, r] : llvm::zip_equal(sourceKept, resultKept)) {
    if (sourceType.isDynamicDim(s) != resultType.isDynamicDim(r))
      return failure();
    auto size = dyn_cast<Value>(sizes[r]);
    if (!sourceType.isDynamicDim(s) ? sourceType.getDimSize(s) != resultType.getDimSize(r)
                                    : !size || !(kiln::lowering::traceIndex(size) ==
                                                 kiln::lowering::traceDim(source, s)))
      return failure();
  }

  Location loc = op->getLoc();
  SmallVector<int64_t> keptShape;
  SmallVector<OpFoldResult> outputShape;
  for (int64_t d : sourceKept)
    keptShape.push_back(sourceType.getDimSize(d));
  for (auto [d, size] : llvm::enumerate(sizes))
    outputShape.push_back(resultType.isDynamicDim(d)
                              ? size
                              : OpFoldResult(rewriter.getIndexAttr(resultType.getDimSize(d))));
  auto keptType = RankedTensorType::get(keptShape, sourceType.getElementType());
  Value kept = source;
  if (keptType != sourceType)
    kept = tensor::CollapseShapeOp::create(rewriter, loc, keptType, source,
                                           groupAround(sourceKept, sourceType.getRank()));
  if (keptType == resultType) {
    rewriter.replaceOp(op, kept);
    return success();
  }
  rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(
      op, resultType, kept, groupAround(resultKept, resultType.getRank()), outputShape);
  return success();
}

struct ReshapeOfUnitDimsAsViews : OpRewritePattern<tensor::ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tensor::ReshapeOp op, PatternRewriter &rewriter) const override {
    auto shape = op.getShape().getDefiningOp<tensor::FromElementsOp>();
    if (!shape)
      return failure();
    return rewriteAsUnitDimViews(rewriter, op, op.getSource(),
                                 cast<RankedTensorType>(op.getResult().getType()),
                                 getAsOpFoldResult(shape.getElements()));
  }
};

/// The same for an expand_shape of reshapes that, one by one, regroup dims
/// other than 1 (a collapse of [B, 1, 1, S, 1] to [B*S], then its expand to
/// [B, 1, 1, S]: TorchScript's flattened mask with fixed shapes). Views
/// that each only drop or add 1s are left to ReadThroughUnitDimViews.
struct ExpandOfUnitDimsAsViews : OpRewritePattern<tensor::ExpandShapeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tensor::ExpandShapeOp op,
                                PatternRewriter &rewriter) const override {
    bool regroups = !isUnitDimView(op);
    Operation *view = op.getSrc().getDefiningOp();
    while (isa_and_nonnull<tensor::CollapseShapeOp, tensor::ExpandShapeOp>(view)) {
      regroups |= !isUnitDimView(view);
      view = view->getOperand(0).getDefiningOp();
    }
    if (!regroups)
      return failure();
    return rewriteAsUnitDimViews(rewriter, op, op.getSrc(), op.getResultType(),
                                 op.getMixedOutputShape());
  }
};


struct ReadThroughUnitDimViews : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp op, PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics())
      return failure();
    for (OpOperand *input : op.getDpsInputOperands()) {
      // Each view read by this op alone, so that the producer then has this
      // one user (and fuses into it, as it did not through the views).
      Value root = input->get();
      while (root.hasOneUse()) {
        Operation *view = root.getDefiningOp();
        if (!view || !isUnitDimView(view))
          break;
        root = view->getOperand(0);
      }
      auto producer = root.getDefiningOp<linalg::GenericOp>();
      if (root == input->get() || !root.hasOneUse() || !producer ||
          !llvm::all_of(producer.getDpsInputs(),
                        [](Value v) { return matchPattern(v, m_Constant()); }))
        continue;
      // The reads' dims that are not 1, in order, are the root's.
      auto viewType = cast<RankedTensorType>(input->get().getType());
      auto rootType = cast<RankedTensorType>(root.getType());
      AffineMap map = op.getMatchingIndexingMap(input);
      SmallVector<AffineExpr> kept;
      for (int64_t d = 0; d < viewType.getRank(); ++d)
        if (!isStaticOne(viewType, d))
          kept.push_back(map.getResult(d));
      SmallVector<AffineExpr> results;
      auto next = kept.begin();
      for (int64_t d = 0; d < rootType.getRank(); ++d) {
        if (isStaticOne(rootType, d)) {
          results.push_back(rewriter.getAffineConstantExpr(0));
        } else {
          if (next == kept.end())
            return failure();
          results.push_back(*next++);
        }
      }
      if (next != kept.end())
        return failure();
      SmallVector<AffineMap> maps = op.getIndexingMapsArray();
      maps[input->getOperandNumber()] =
          AffineMap::get(map.getNumDims(), map.getNumSymbols(), results, op.getContext());
      // Linalg sizes each loop from an operand that reads it. A loop of 1
      // that only this view read (a conv's reduction over one channel, its
      // 1x1 weight folded into the body) would be left with no size.
      if (!inversePermutation(concatAffineMaps(maps, op.getContext())))
        continue;
      rewriter.modifyOpInPlace(op, [&] {
        input->set(root);
        op.setIndexingMapsAttr(rewriter.getAffineMapArrayAttr(maps));
      });
      return success();
    }
    return failure();
  }
};

} // namespace

void mlir::kiln::fusion::populateUnitDimViewPatterns(RewritePatternSet &patterns) {
  patterns.add<ReshapeOfUnitDimsAsViews, ExpandOfUnitDimsAsViews, ReadThroughUnitDimViews>(
      patterns.getContext());
}
