//===- TopKToLinalg.cpp - top_k as k selection passes ---------------------===//
//
// The elements of a slice along the axis are totally ordered: by value
// (NaN above every number) and, among equal values, by the lower index
// first. Output position j holds the first element (in that order) that
// comes after the one at position j - 1, so an scf.for over j runs one
// linalg.generic reduction over the axis per position, for every slice at
// once: O(k * n) work per slice, vectorisable, with no sort and no
// data-dependent writes. A k larger than the axis's run-time size fails the
// run.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

namespace {

/// The order top_k emits elements in, on signless scalars.
struct Order {
  OpBuilder &b;
  Location loc;
  bool largest, isUnsigned;

  /// a > b; a NaN is above every number.
  Value greater(Value x, Value y) const {
    if (isa<FloatType>(x.getType())) {
      Value above = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UGT, x, y);
      Value yIsNumber = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::ORD, y, y);
      return arith::AndIOp::create(b, loc, above, yIsNumber);
    }
    return arith::CmpIOp::create(
        b, loc, isUnsigned ? arith::CmpIPredicate::ugt : arith::CmpIPredicate::sgt, x, y);
  }
  /// a == b; NaNs equal one another.
  Value equal(Value x, Value y) const {
    if (isa<FloatType>(x.getType())) {
      Value same = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ, x, y);
      Value xNaN = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO, x, x);
      Value yNaN = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO, y, y);
      return arith::OrIOp::create(b, loc, same, arith::AndIOp::create(b, loc, xNaN, yNaN));
    }
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, x, y);
  }
  /// Whether element (x, i) comes before element (y, j).
  Value before(Value x, Value i, Value y, Value j) const {
    Value better = largest ? greater(x, y) : greater(y, x);
    Value lowerIndex = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, i, j);
    Value tie = arith::AndIOp::create(b, loc, equal(x, y), lowerIndex);
    return arith::OrIOp::create(b, loc, better, tie);
  }
};

struct TopKToLoops : OpRewritePattern<TopKOp> {
  using OpRewritePattern::OpRewritePattern;

  /// The groups of a collapse_shape that drops dim `axis` (a 1) of a
  /// rank-`rank` shape: it joins the group of a neighbour (none at rank 1).
  static SmallVector<ReassociationIndices> dropDimGroups(int64_t rank, int64_t axis) {
    SmallVector<ReassociationIndices> groups;
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis)
        groups.push_back({d});
    if (groups.empty())
      return groups;
    if (axis == 0)
      groups.front().insert(groups.front().begin(), 0);
    else
      groups[axis - 1].push_back(axis);
    return groups;
  }

  LogicalResult matchAndRewrite(TopKOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    IndexMath m{rewriter, loc};
    Value x = op.getInput();
    auto type = cast<RankedTensorType>(x.getType());
    auto valuesType = cast<RankedTensorType>(op.getValues().getType());
    auto indicesType = cast<RankedTensorType>(op.getIndices().getType());
    int64_t rank = type.getRank(), axis = op.getAxis(), k = op.getK();
    Type element = type.getElementType(), body = signless(element);
    Value axisDim = m.dim(x, axis);
    emitRuntimeCheck(rewriter, loc, m.cmp(arith::CmpIPredicate::slt, axisDim, m.c(k)),
                     describeNode(loc, "TopK") + ": k = " + std::to_string(k) +
                         " exceeds the size of the axis");

    // One slice of the results: their shape without the axis.
    SmallVector<int64_t> sliceShape(type.getShape());
    sliceShape.erase(sliceShape.begin() + axis);
    SmallVector<Value> sliceDims;
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis && type.isDynamicDim(d))
        sliceDims.push_back(m.dim(x, d));
    auto sliceValues = RankedTensorType::get(sliceShape, element);
    auto sliceIndices = RankedTensorType::get(sliceShape, indicesType.getElementType());
    SmallVector<AffineExpr> sliceExprs;
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis)
        sliceExprs.push_back(rewriter.getAffineDimExpr(d));
    AffineMap id = rewriter.getMultiDimIdentityMap(rank);
    AffineMap slice = AffineMap::get(rank, 0, sliceExprs, rewriter.getContext());
    SmallVector<utils::IteratorType> iterators = parallelIterators(rank);
    iterators[axis] = utils::IteratorType::reduction;
    bool largest = op.getLargest(), isUnsigned = isUnsignedElement(element);

    auto pick = [&](OpBuilder &b, Location l, Value j, Value values, Value indices) {
      IndexMath bm{b, l};
      Value first = bm.cmp(arith::CmpIPredicate::eq, j, bm.c(0));
      // The element at position j - 1 (position 0's own at j = 0, unused).
      auto previous = [&](Value result, RankedTensorType sliceType) -> Value {
        SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0)),
            strides(rank, b.getIndexAttr(1));
        SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, l, result);
        offsets[axis] = bm.max(bm.sub(j, bm.c(1)), bm.c(0));
        sizes[axis] = b.getIndexAttr(1);
        // A slice of full rank, then the axis (now 1) dropped by a
        // collapse_shape: MLIR 22's canonicalization of a rank-reducing
        // extract_slice whose offset folds to a constant permutes its sizes
        // when the shape has other dims of 1 (1x2x1 to 1x2 becomes sizes
        // [1, 1, 2], which its verifier rejects).
        Value row = tensor::ExtractSliceOp::create(b, l, result, offsets, sizes, strides);
        return tensor::CollapseShapeOp::create(b, l, sliceType, row, dropDimGroups(rank, axis));
      };
      Value none = scalarConstant(b, l, b.getI64Type(), -1);
      Value zero = reinterpret(b, l, scalarConstant(b, l, body, 0), element);
      Value bestValue =
          linalg::FillOp::create(b, l, zero, emptyWithDims(b, l, sliceValues, sliceDims))
              .getResult(0);
      Value bestIndex =
          linalg::FillOp::create(b, l, none, emptyWithDims(b, l, sliceIndices, sliceDims))
              .getResult(0);
      auto generic = linalg::GenericOp::create(
          b, l, TypeRange{sliceValues, sliceIndices},
          ValueRange{x, previous(values, sliceValues), previous(indices, sliceIndices)},
          ValueRange{bestValue, bestIndex}, SmallVector<AffineMap>{id, slice, slice, slice, slice},
          iterators, [&](OpBuilder &gb, Location gl, ValueRange a) {
            Order o{gb, gl, largest, isUnsigned};
            Value v = reinterpret(gb, gl, a[0], body), prev = reinterpret(gb, gl, a[1], body),
                  best = reinterpret(gb, gl, a[3], body);
            Value i = arith::IndexCastOp::create(gb, gl, gb.getI64Type(),
                                                 linalg::IndexOp::create(gb, gl, axis));
            Value candidate = arith::OrIOp::create(gb, gl, first, o.before(prev, a[2], v, i));
            Value noBest = arith::CmpIOp::create(gb, gl, arith::CmpIPredicate::slt, a[4],
                                                 scalarConstant(gb, gl, gb.getI64Type(), 0));
            Value better = arith::OrIOp::create(gb, gl, noBest, o.before(v, i, best, a[4]));
            Value take = arith::AndIOp::create(gb, gl, candidate, better);
            linalg::YieldOp::create(
                gb, gl,
                ValueRange{arith::SelectOp::create(gb, gl, take, a[0], a[3]).getResult(),
                           arith::SelectOp::create(gb, gl, take, i, a[4]).getResult()});
          });
      // The slice given the axis back (a 1) by an expand_shape, then put at
      // j by a full-rank insert_slice: a rank-reducing one meets the same
      // canonicalization as `previous` (1x?x3 put into 1x?x3x1 became a
      // cast to ?x3x1, which its verifier rejects).
      auto place = [&](Value part, Value result) -> Value {
        SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0)),
            strides(rank, b.getIndexAttr(1));
        SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, l, result);
        offsets[axis] = j;
        sizes[axis] = b.getIndexAttr(1);
        auto partType = cast<RankedTensorType>(part.getType());
        SmallVector<int64_t> rowShape(partType.getShape());
        rowShape.insert(rowShape.begin() + axis, 1);
        Value row = tensor::ExpandShapeOp::create(b, l, partType.clone(rowShape), part,
                                                  dropDimGroups(rank, axis));
        return tensor::InsertSliceOp::create(b, l, row, result, offsets, sizes, strides);
      };
      return scf::ValueVector{place(generic.getResult(0), values),
                              place(generic.getResult(1), indices)};
    };

    Value values = emptyLike(rewriter, loc, valuesType, ValueRange{x});
    Value indices = emptyLike(rewriter, loc, indicesType, ValueRange{x});
    scf::LoopNest nest = scf::buildLoopNest(
        rewriter, loc, ValueRange{m.c(0)}, ValueRange{m.c(k)}, ValueRange{m.c(1)},
        ValueRange{values, indices}, [&](OpBuilder &b, Location l, ValueRange ivs, ValueRange acc) {
          return pick(b, l, ivs[0], acc[0], acc[1]);
        });
    rewriter.replaceOp(op, nest.results);
    return success();
  }
};

} // namespace

void mlir::kiln::lowering::populateTopKLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<TopKToLoops>(patterns.getContext());
}
