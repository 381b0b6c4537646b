//===- GatherNDToLinalg.cpp - kiln.gather_nd to linalg.generic ------------===//
//
// out[b..., i..., t...] = data[b..., indices[b..., i..., 0..m-1], t...]:
// a parallel generic over the output that reads the index tuple and the data
// element with tensor.extract.
//
// Where each component of the tuples is a grid the graph built from a Range
// (Unsqueeze and Expand of it, the components concatenated along the last
// axis), the generic computes the component from its own loop indices
// instead of reading it, and the range check is a few scalars on the host:
// the dynamo exports' attention mask is such a GatherND (the mask at
// [arange(batch), arange(keys)]), whose grids would otherwise be built in
// memory and scanned for the check with sizes known only at run time.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "kiln/Dialect/Kiln/KilnOps.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

namespace {

/// A tensor whose element at position i is start + delta * i[dim], where
/// start and delta are a Range's, read through Unsqueeze and Expand ops.
/// dim -1: no dim carries the coordinate (a Range of one element, or one
/// an Expand broadcast from a static 1). mayBroadcast: an Expand may have
/// broadcast the Range's dim at run time, which it did where the Range has
/// one element (then every element is start).
struct IndexGrid {
  RangeOp range;
  int64_t dim = -1;
  bool mayBroadcast = false;
};

/// `v` as an IndexGrid, if its producers make it one.
std::optional<IndexGrid> gridOf(Value v) {
  if (auto range = v.getDefiningOp<RangeOp>()) {
    if (!getElementTypeOrSelf(range.getType()).isSignlessInteger())
      return std::nullopt;
    return IndexGrid{range, 0, false};
  }
  if (auto unsqueeze = v.getDefiningOp<UnsqueezeOp>()) {
    std::optional<IndexGrid> grid = gridOf(unsqueeze.getInput());
    if (!grid || grid->dim < 0)
      return grid;
    // The input's dims keep their order among the output's; the axes are
    // the output positions of the new dims.
    int64_t outputRank = cast<RankedTensorType>(unsqueeze.getType()).getRank();
    for (int64_t out = 0, in = 0; out < outputRank; ++out) {
      if (llvm::is_contained(unsqueeze.getAxes(), out))
        continue;
      if (in++ == grid->dim) {
        grid->dim = out;
        return grid;
      }
    }
    return std::nullopt;
  }
  if (auto expand = v.getDefiningOp<ExpandOp>()) {
    std::optional<IndexGrid> grid = gridOf(expand.getInput());
    if (!grid || grid->dim < 0)
      return grid;
    auto inputType = cast<RankedTensorType>(expand.getInput().getType());
    int64_t size = inputType.getDimSize(grid->dim);
    if (size == 1) {
      grid->dim = -1; // broadcast, or a dim of 1 whose coordinate is 0
      return grid;
    }
    grid->mayBroadcast |= ShapedType::isDynamic(size);
    grid->dim += cast<RankedTensorType>(expand.getType()).getRank() - inputType.getRank();
    return grid;
  }
  return std::nullopt;
}

/// One IndexGrid per component of the index tuples (the last dim of
/// `indices`), when every component is one: a grid of last dim 1, or a
/// concat of such along the last axis.
std::optional<SmallVector<IndexGrid>> tupleGrids(Value indices) {
  auto type = cast<RankedTensorType>(indices.getType());
  int64_t last = type.getRank() - 1;
  SmallVector<Value> parts{indices};
  auto concat = indices.getDefiningOp<ConcatOp>();
  if (concat && concat.getAxis() == uint64_t(last))
    parts = llvm::to_vector(concat.getInputs());
  SmallVector<IndexGrid> grids;
  for (Value part : parts) {
    if (cast<RankedTensorType>(part.getType()).getDimSize(last) != 1)
      return std::nullopt;
    std::optional<IndexGrid> grid = gridOf(part);
    if (!grid)
      return std::nullopt;
    if (grid->dim == last)
      grid->dim = -1; // the coordinate of a dim of 1
    grids.push_back(*grid);
  }
  return grids;
}

/// The scalars a grid's elements are made of, read on the host: its first
/// value, its step, whether it is flat (every element the first), and how
/// many values it holds along its dim (the Range's, or one).
struct GridValues {
  Value start, delta, flat, count; // index, index, i1, index
};

GridValues gridValues(OpBuilder &b, Location loc, const IndexGrid &grid) {
  IndexMath m{b, loc};
  RangeOp range = grid.range;
  auto scalar = [&](Value t) { return toIndex(b, loc, tensor::ExtractOp::create(b, loc, t)); };
  Value start = scalar(range.getStart()), delta = scalar(range.getDelta());
  // The Range's length, as its lowering computes it (a step of 0, which
  // ONNX leaves undefined, counts as 1 here rather than divide by 0).
  Value length = m.dim(range, 0);
  if (cast<RankedTensorType>(range.getType()).isDynamicDim(0)) {
    Value step = m.select(m.cmp(arith::CmpIPredicate::eq, delta, m.c(0)), m.c(1), delta);
    length = m.max(m.ceilDiv(m.sub(scalar(range.getLimit()), start), step), m.c(0));
  }
  Value flat = grid.mayBroadcast ? m.cmp(arith::CmpIPredicate::eq, length, m.c(1))
                                 : arith::ConstantIntOp::create(b, loc, 0, 1);
  Value count = grid.dim < 0 ? m.c(1) : m.select(flat, m.c(1), length);
  return {start, delta, flat, count};
}

/// Fails the run where the grid holds an index outside [-bound, bound): its
/// extremes are its first and last values.
void checkGridInRange(OpBuilder &b, Location loc, const GridValues &grid, Value bound) {
  IndexMath m{b, loc};
  Value last = m.add(grid.start, m.mul(grid.delta, m.sub(grid.count, m.c(1))));
  checkIndexSpanInRange(b, loc, m.min(grid.start, last), m.max(grid.start, last),
                        m.cmp(arith::CmpIPredicate::sgt, grid.count, m.c(0)), bound,
                        "GatherND");
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
    std::optional<SmallVector<IndexGrid>> grids =
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
    SmallVector<GridValues> gridScalars;
    if (grids) {
      for (auto [j, grid] : llvm::enumerate(*grids)) {
        gridScalars.push_back(gridValues(rewriter, loc, grid));
        checkGridInRange(rewriter, loc, gridScalars.back(), m.dim(data, j));
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
              // start + delta * the loop index of the grid's dim.
              const GridValues &grid = gridScalars[j];
              IndexMath mb{b, l};
              int64_t d = (*grids)[j].dim;
              raw = d < 0 ? grid.start
                          : mb.add(grid.start,
                                   mb.mul(grid.delta, mb.select(grid.flat, mb.c(0), loops[d])));
            } else {
              tupleIndex.back() = arith::ConstantIndexOp::create(b, l, j);
              raw = toIndex(b, l, tensor::ExtractOp::create(b, l, indices, tupleIndex));
            }
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
