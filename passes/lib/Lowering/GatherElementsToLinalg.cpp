//===- GatherElementsToLinalg.cpp - kiln.gather_elements to linalg.generic ===//
//
// out[i] = data[i with dim `axis` replaced by indices[i]]: a parallel generic
// over the indices (read through the identity map) whose body reads the
// data element with tensor.extract. Negative indices wrap; out-of-range
// ones (an error in ONNX) fail the run (checkIndicesInRange) and are
// clamped meanwhile so that no read leaves the data, as
// in Gather.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "RuntimeCalls.h"
#include "ShapeOperands.h"
#include "kiln/Dialect/Kiln/KilnOps.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

namespace {
struct GatherElementsToGeneric : OpRewritePattern<GatherElementsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GatherElementsOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    IndexMath m{rewriter, loc};
    Value data = op.getData(), indices = op.getIndices();
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t rank = resultType.getRank(), axis = op.getAxis();
    Value init = emptyLike(rewriter, loc, resultType, ValueRange{indices});
    if (!init)
      return rewriter.notifyMatchFailure(op, "a dynamic result dim has no source");
    Value axisDim = m.dim(data, axis);
    checkIndicesInRange(rewriter, loc, indices, axisDim, "GatherElements");
    // Outside the axis an index reads the data at its own position: the
    // indices' dims there may not exceed the data's (ORT fails too; static
    // ones are compared when compiling).
    Value wider;
    auto dataType = cast<RankedTensorType>(data.getType());
    auto indicesType = cast<RankedTensorType>(indices.getType());
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis && (dataType.isDynamicDim(d) || indicesType.isDynamicDim(d)) &&
          !(traceDim(indices, d) == traceDim(data, d)))
        orInto(rewriter, loc, wider,
               m.cmp(arith::CmpIPredicate::sgt, m.dim(indices, d), m.dim(data, d)));
    if (wider)
      emitRuntimeCheck(rewriter, loc, wider,
                       describeNode(loc, "GatherElements") +
                           ": a dim of the indices other than the axis is longer than the "
                           "data's at run time");
    AffineMap id = rewriter.getMultiDimIdentityMap(rank);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{resultType}, ValueRange{indices}, ValueRange{init},
        ArrayRef<AffineMap>{id, id}, parallelIterators(rank),
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value index = wrapAndClampIndex(b, l, toIndex(b, l, args[0]), axisDim);
          SmallVector<Value> source;
          for (int64_t d = 0; d < rank; ++d)
            source.push_back(d == axis ? index : (Value)linalg::IndexOp::create(b, l, d));
          linalg::YieldOp::create(b, l, extractGathered(b, l, data, source, axisDim,
                                                        dataType.getDimSize(axis) == 0 ||
                                                            dataType.isDynamicDim(axis)));
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};
} // namespace

void mlir::kiln::lowering::populateGatherElementsLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<GatherElementsToGeneric>(patterns.getContext());
}
