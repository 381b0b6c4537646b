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
#include "RuntimeCalls.h"
#include "ShapeOperands.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "mlir/Dialect/Utils/IndexingUtils.h"
#include "mlir/IR/Matchers.h"

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

/// Per component of index tuples known at compile time: the dim of the
/// tuples' grid (the dims of `indices` but the last) whose coordinate the
/// component holds in every tuple, if any: a grid of Range ops that
/// constant folding turned into a tensor (the dynamo mask's
/// [arange(batch), arange(keys)] with fixed shapes).
SmallVector<std::optional<int64_t>> constantTupleCoordinates(Value indices) {
  constexpr int64_t kMaxElements = 1 << 16;
  auto type = cast<RankedTensorType>(indices.getType());
  int64_t q = type.getRank();
  SmallVector<std::optional<int64_t>> coordinates(type.getDimSize(q - 1));
  DenseIntElementsAttr values;
  if (!matchPattern(indices, m_Constant(&values)) || values.getNumElements() > kMaxElements)
    return coordinates;
  SmallVector<int64_t> elements = llvm::map_to_vector(
      values.getValues<APInt>(), [](const APInt &v) { return v.getSExtValue(); });
  ArrayRef<int64_t> shape = type.getShape();
  SmallVector<int64_t> strides = computeStrides(shape);
  for (auto [j, coordinate] : llvm::enumerate(coordinates)) {
    // A dim of extent 1 has coordinate 0 only: one of more is tried first.
    SmallVector<int64_t> dims = llvm::to_vector(llvm::seq<int64_t>(0, q - 1));
    llvm::stable_sort(dims, [&](int64_t a, int64_t b) { return shape[a] > shape[b]; });
    for (int64_t d : dims) {
      bool holds = true;
      for (int64_t at = j; holds && at < (int64_t)elements.size(); at += shape[q - 1])
        holds = elements[at] == (at / strides[d]) % shape[d];
      if (holds) {
        coordinate = d;
        break;
      }
    }
  }
  return coordinates;
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
    // The batch dims are the indices' (the output's) and must be the
    // data's too (ORT fails too; static ones are compared when compiling).
    Value batchDiffers;
    for (int64_t i = 0; i < batch; ++i)
      requireSameDimAtRunTime(rewriter, loc, indices, i, data, i, batchDiffers);
    if (batchDiffers)
      emitRuntimeCheck(rewriter, loc, batchDiffers,
                       describeNode(loc, "GatherND") +
                           ": the indices' and the data's batch dims differ at run time");
    SmallVector<SmallVector<TermValues>> gridScalars;
    // Per component: whether a negative index is counted from the end, and
    // whether the index is clamped into the dim (while a check that comes
    // after the reads fails the run). Neither where a grid is in range by
    // construction; no clamp where its check runs before the reads.
    SmallVector<bool> wrap(tuple, true), clamp(tuple, true);
    if (grids) {
      for (auto [j, terms] : llvm::enumerate(*grids)) {
        SmallVector<TermValues> &values = gridScalars.emplace_back();
        for (const GridTerm &term : terms)
          values.push_back(termValues(rewriter, loc, term));
        SmallVector<Value> extents;
        for (int64_t i = 0; i < q - 1; ++i)
          extents.push_back(dimValue(rewriter, loc, indices, i));
        checkGridExtents(rewriter, loc, terms, values, extents, "GatherND");
        bool inRange = inRangeByConstruction(terms, values, data, j);
        if (!inRange)
          checkAffineGridInRange(rewriter, loc, values, m.dim(data, j), "GatherND");
        clamp[j] = !inRange && !(checkedBeforeGather(values) && canEmitRuntimeCheck(rewriter));
        wrap[j] = !inRange && (clamp[j] || mayBeNegative(values));
      }
    }
    // A component that is a coordinate of the tuples' grid is that loop
    // index; one whose constants all lie in [0, dim) is read as it is.
    SmallVector<std::optional<int64_t>> coordinates(tuple);
    if (!grids) {
      checkIndexTuplesInRange(rewriter, loc, indices, data, batch, "GatherND");
      auto dataType = cast<RankedTensorType>(data.getType());
      coordinates = constantTupleCoordinates(indices);
      for (int64_t j = 0; j < tuple; ++j) {
        int64_t dim = dataType.getDimSize(batch + j);
        wrap[j] = clamp[j] = !constantIndicesInDim(indices, dim, j);
        if (clamp[j])
          coordinates[j].reset();
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
            Value raw;
            if (grids) {
              raw = affineGridIndex(b, l, (*grids)[j], gridScalars[j],
                                    ArrayRef<Value>(loops).take_front(q - 1));
            } else if (coordinates[j]) {
              raw = loops[*coordinates[j]];
            } else {
              tupleIndex.back() = arith::ConstantIndexOp::create(b, l, j);
              raw = toIndex(b, l, tensor::ExtractOp::create(b, l, indices, tupleIndex));
            }
            // Indices out of range (an error in ONNX) fail the run
            // (checked above) and are clamped meanwhile.
            Value dim = tensor::DimOp::create(b, l, data, batch + j);
            if (clamp[j])
              raw = wrapAndClampIndex(b, l, raw, dim);
            else if (wrap[j])
              raw = wrapIndex(b, l, raw, dim);
            dataIndex.push_back(raw);
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
