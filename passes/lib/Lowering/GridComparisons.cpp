//===- GridComparisons.cpp - Comparisons a Range grid decides -------------===//
//
// The dynamo exports build the attention mask's query-side term as
// arange(S) >= 0, a test that never fails. With S symbolic that was a Range
// in memory and a compare per element, a kernel of its own on the GPU. A
// comparison of a Range grid (IndexGrids.h) with a constant that holds at
// the grid's first value, in the direction the grid never leaves (x >= c
// for x from s >= c, never decreasing), holds everywhere: it becomes a
// generic that yields true, which folds into its consumers. Lowered first,
// with the grid gathers, while the grid is still kiln ops.
//
//===----------------------------------------------------------------------===//

#include "IndexGrids.h"
#include "LoweringUtils.h"
#include "ShapeOperands.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "kiln/Dialect/Kiln/KilnShapeUtils.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

namespace {

/// grid REL c, for the grid on the left.
enum class Relation { AtLeast, Above, AtMost, Below };

Relation flipped(Relation r) {
  switch (r) {
  case Relation::AtLeast: return Relation::AtMost;
  case Relation::Above: return Relation::Below;
  case Relation::AtMost: return Relation::AtLeast;
  case Relation::Below: return Relation::Above;
  }
  llvm_unreachable("unknown relation");
}

/// The single value of a one-element integer constant.
std::optional<int64_t> scalarConstant(Value v) {
  std::optional<SmallVector<int64_t>> values = getConstantIntValues(v);
  if (!values || values->size() != 1)
    return std::nullopt;
  return values->front();
}

/// Whether `grid REL c` holds for every element of the grid: its values
/// are start + delta * i, so the first is the least where delta >= 0 (or no
/// dim carries the coordinate: every value is start) and the greatest
/// where delta <= 0.
bool holdsEverywhere(const GridTerm &term, Relation relation, int64_t c) {
  RangeOp range = term.grid.range;
  std::optional<int64_t> start = scalarConstant(range.getStart());
  std::optional<int64_t> delta = scalarConstant(range.getDelta());
  if (!start || !delta)
    return false;
  bool constant = term.grid.dim < 0;
  switch (relation) {
  case Relation::AtLeast: return (constant || *delta >= 0) && *start >= c;
  case Relation::Above: return (constant || *delta >= 0) && *start > c;
  case Relation::AtMost: return (constant || *delta <= 0) && *start <= c;
  case Relation::Below: return (constant || *delta <= 0) && *start < c;
  }
  return false;
}

template <typename OpTy, Relation kRelation>
struct GridComparisonToTrue : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(OpTy op, PatternRewriter &rewriter) const override {
    Value grid = op.getLhs(), other = op.getRhs();
    Relation relation = kRelation;
    std::optional<SmallVector<GridTerm>> terms = affineGridOf(grid);
    if (!terms) {
      std::swap(grid, other);
      relation = flipped(relation);
      terms = affineGridOf(grid);
    }
    std::optional<int64_t> c = scalarConstant(other);
    if (!terms || terms->size() != 1 || !terms->front().scales.empty() || !c ||
        !holdsEverywhere(terms->front(), relation, *c))
      return rewriter.notifyMatchFailure(op, "no comparison of a grid that always holds");
    // The result has the grid's dims (the constant has one element); the
    // one the Range's coordinate runs along is its length (the symbol of
    // an arange(x.size(d))), unless an Expand may have broadcast it.
    Location loc = op.getLoc();
    const IndexGrid &indexGrid = terms->front().grid;
    auto resultType = cast<RankedTensorType>(op.getType());
    auto gridType = cast<RankedTensorType>(grid.getType());
    int64_t rank = resultType.getRank(), offset = rank - gridType.getRank();
    SmallVector<Value> dims;
    for (int64_t p = 0; p < rank; ++p) {
      if (!resultType.isDynamicDim(p))
        continue;
      if (p - offset == indexGrid.dim && !indexGrid.mayBroadcast)
        dims.push_back(gridValues(rewriter, loc, indexGrid).length);
      else
        dims.push_back(dimValue(rewriter, loc, grid, p - offset));
    }
    Value init = emptyWithDims(rewriter, loc, resultType, dims);
    Value yes = arith::ConstantIntOp::create(rewriter, loc, 1, 1);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{resultType}, ValueRange{}, ValueRange{init},
        SmallVector<AffineMap>{rewriter.getMultiDimIdentityMap(rank)}, parallelIterators(rank),
        [&](OpBuilder &b, Location l, ValueRange) { linalg::YieldOp::create(b, l, yes); });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};
} // namespace

void mlir::kiln::lowering::populateGridComparisonLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<GridComparisonToTrue<GreaterEqualOp, Relation::AtLeast>,
               GridComparisonToTrue<GreaterOp, Relation::Above>,
               GridComparisonToTrue<LessEqualOp, Relation::AtMost>,
               GridComparisonToTrue<LessOp, Relation::Below>>(patterns.getContext());
}
