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
    {
      SmallVector<OpFoldResult> offsets(q, rewriter.getIndexAttr(0)), sizes,
          strides(q, rewriter.getIndexAttr(1));
      for (int64_t i = 0; i < q - 1; ++i)
        sizes.push_back(indicesType.isDynamicDim(i)
                            ? OpFoldResult(tensor::DimOp::create(rewriter, loc, indices, i))
                            : rewriter.getIndexAttr(indicesType.getDimSize(i)));
      sizes.push_back(rewriter.getIndexAttr(1));
      for (int64_t j = 0; j < tuple; ++j) {
        offsets.back() = rewriter.getIndexAttr(j);
        Value component =
            tensor::ExtractSliceOp::create(rewriter, loc, indices, offsets, sizes, strides);
        checkIndicesInRange(rewriter, loc, component,
                            tensor::DimOp::create(rewriter, loc, data, batch + j), "GatherND");
      }
    }
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
            // Negative indices count from the end of their dim; indices out
            // of range (an error in ONNX) fail the run (checked above) and
            // are clamped meanwhile so that no read leaves the data.
            Value dim = tensor::DimOp::create(b, l, data, batch + j);
            Value zero = arith::ConstantIndexOp::create(b, l, 0);
            Value negative = arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, raw, zero);
            Value wrapped = arith::AddIOp::create(b, l, raw, dim);
            Value index = arith::SelectOp::create(b, l, negative, wrapped, raw);
            Value last = arith::SubIOp::create(b, l, dim, arith::ConstantIndexOp::create(b, l, 1));
            index = arith::MaxSIOp::create(b, l, index, zero);
            dataIndex.push_back(arith::MinSIOp::create(b, l, index, last));
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
