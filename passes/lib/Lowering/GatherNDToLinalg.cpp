//===- GatherNDToLinalg.cpp - kiln.gather_nd to linalg.generic ------------===//
//
// out[b..., i..., t...] = data[b..., indices[b..., i..., 0..m-1], t...]:
// a parallel generic over the output that reads the index tuple and the data
// element with tensor.extract.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "kiln/Dialect/Kiln/KilnOps.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

namespace {
struct GatherNDToGeneric : OpRewritePattern<GatherNDOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GatherNDOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value data = op.getData(), indices = op.getIndices();
    auto indicesType = cast<RankedTensorType>(indices.getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t batch = op.getBatchDims(), q = indicesType.getRank();
    int64_t tuple = indicesType.getDimSize(q - 1);
    // Output dims [0, q-1) come from indices, the rest from data's trailing dims.
    SmallVector<Value> dynamicDims;
    for (int64_t i = 0; i < resultType.getRank(); ++i) {
      if (!resultType.isDynamicDim(i))
        continue;
      if (i < q - 1)
        dynamicDims.push_back(tensor::DimOp::create(rewriter, loc, indices, i));
      else
        dynamicDims.push_back(
            tensor::DimOp::create(rewriter, loc, data, batch + tuple + (i - (q - 1))));
    }
    Value init = emptyWithDims(rewriter, loc, resultType, dynamicDims);
    int64_t rank = resultType.getRank();
    // Component j of every index tuple indexes data dim batch + j.
    checkIndexTuplesInRange(rewriter, loc, indices, data, batch, "GatherND");
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{resultType}, ValueRange{}, ValueRange{init},
        SmallVector<AffineMap>{rewriter.getMultiDimIdentityMap(rank)}, parallelIterators(rank),
        [&](OpBuilder &b, Location l, ValueRange) {
          SmallVector<Value> loops;
          for (int64_t i = 0; i < rank; ++i)
            loops.push_back(linalg::IndexOp::create(b, l, i));
          SmallVector<Value> dataIndex(loops.begin(), loops.begin() + batch);
          SmallVector<Value> tupleIndex(loops.begin(), loops.begin() + (q - 1));
          tupleIndex.push_back(Value());
          for (int64_t j = 0; j < tuple; ++j) {
            tupleIndex.back() = arith::ConstantIndexOp::create(b, l, j);
            Value raw = toIndex(b, l, tensor::ExtractOp::create(b, l, indices, tupleIndex));
            // Indices out of range (an error in ONNX) fail the run
            // (checked above) and are clamped meanwhile.
            Value dim = tensor::DimOp::create(b, l, data, batch + j);
            dataIndex.push_back(wrapAndClampIndex(b, l, raw, dim));
          }
          dataIndex.append(loops.begin() + (q - 1), loops.end());
          linalg::YieldOp::create(b, l, tensor::ExtractOp::create(b, l, data, dataIndex).getResult());
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};
} // namespace

void mlir::kiln::lowering::populateGatherNDLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<GatherNDToGeneric>(patterns.getContext());
}
