//===- GatherNDToLinalg.cpp - kiln.gather_nd to linalg.generic ------------===//
//
// out[b..., i..., t...] = data[b..., indices[b..., i..., 0..m-1], t...]:
// a parallel generic over the output that reads the index tuple and the data
// element with tensor.extract.
//
// Where each component of the tuples is a grid the graph built from Range
// ops (Unsqueeze and Expand of them, sums and scalings of those; the
// components concatenated along the last axis: IndexGrids.h), the generic
// computes the component from its own loop indices instead of reading it,
// and the range check is a few scalars on the host:
// the dynamo exports' attention mask is such a GatherND (the mask at
// [arange(batch), arange(keys)]), whose grids would otherwise be built in
// memory and scanned for the check with sizes known only at run time.
//
//===----------------------------------------------------------------------===//

#include "IndexGrids.h"
#include "LoweringUtils.h"
#include "kiln/Dialect/Kiln/KilnOps.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

namespace {

/// One affine grid (IndexGrids.h) per component of the index tuples (the
/// last dim of `indices`), when every component is one: a grid of last
/// dim 1, or a concat of such along the last axis.
std::optional<SmallVector<SmallVector<GridTerm>>> tupleGrids(Value indices) {
  auto type = cast<RankedTensorType>(indices.getType());
  int64_t last = type.getRank() - 1;
  SmallVector<Value> parts{indices};
  auto concat = indices.getDefiningOp<ConcatOp>();
  if (concat && concat.getAxis() == uint64_t(last))
    parts = llvm::to_vector(concat.getInputs());
  SmallVector<SmallVector<GridTerm>> grids;
  for (Value part : parts) {
    if (cast<RankedTensorType>(part.getType()).getDimSize(last) != 1)
      return std::nullopt;
    std::optional<SmallVector<GridTerm>> terms = affineGridOf(part);
    if (!terms)
      return std::nullopt;
    for (GridTerm &term : *terms)
      if (term.grid.dim == last)
        term.grid.dim = -1; // the coordinate of a dim of 1
    grids.push_back(std::move(*terms));
  }
  return grids;
}

struct GatherNDToGeneric : OpRewritePattern<GatherNDOp> {
  /// gridsOnly: only a GatherND whose index tuples are grids.
  GatherNDToGeneric(MLIRContext *context, bool gridsOnly)
      : OpRewritePattern(context), gridsOnly(gridsOnly) {}

  LogicalResult matchAndRewrite(GatherNDOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value data = op.getData(), indices = op.getIndices();
    auto indicesType = cast<RankedTensorType>(indices.getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t batch = op.getBatchDims(), q = indicesType.getRank();
    std::optional<SmallVector<SmallVector<GridTerm>>> grids =
        batch == 0 ? tupleGrids(indices) : std::nullopt;
    if (gridsOnly && !grids)
      return rewriter.notifyMatchFailure(op, "its index tuples are no grids");
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
    IndexMath m{rewriter, loc};
    SmallVector<SmallVector<TermValues>> gridScalars;
    SmallVector<bool> inRange(tuple, false); // a component that needs no check nor clamp
    if (grids) {
      for (auto [j, terms] : llvm::enumerate(*grids)) {
        SmallVector<TermValues> &values = gridScalars.emplace_back();
        for (const GridTerm &term : terms)
          values.push_back(termValues(rewriter, loc, term));
        inRange[j] = inRangeByConstruction(terms, values, data, j);
        if (!inRange[j])
          checkAffineGridInRange(rewriter, loc, values, m.dim(data, j), "GatherND");
      }
    } else {
      checkIndexTuplesInRange(rewriter, loc, indices, data, batch, "GatherND");
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
            Value raw;
            if (grids) {
              raw = affineGridIndex(b, l, (*grids)[j], gridScalars[j],
                                    ArrayRef<Value>(loops).take_front(q - 1));
            } else {
              tupleIndex.back() = arith::ConstantIndexOp::create(b, l, j);
              raw = toIndex(b, l, tensor::ExtractOp::create(b, l, indices, tupleIndex));
            }
            // Indices out of range (an error in ONNX) fail the run
            // (checked above) and are clamped meanwhile.
            Value dim = tensor::DimOp::create(b, l, data, batch + j);
            dataIndex.push_back(inRange[j] ? raw : wrapAndClampIndex(b, l, raw, dim));
          }
          dataIndex.append(loops.begin() + (q - 1), loops.end());
          linalg::YieldOp::create(b, l, tensor::ExtractOp::create(b, l, data, dataIndex).getResult());
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }

private:
  bool gridsOnly;
};
} // namespace

void mlir::kiln::lowering::populateGatherNDLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<GatherNDToGeneric>(patterns.getContext(), /*gridsOnly=*/false);
}

void mlir::kiln::lowering::populateGatherNDOfGridsLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<GatherNDToGeneric>(patterns.getContext(), /*gridsOnly=*/true);
}
