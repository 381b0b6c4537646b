//===- ScanToLinalg.cpp - cumsum to linalg.generic ------------------------===//
//
// out[..., i, ...] = sum over j of x[..., j, ...] for the j that the mode
// keeps (j <= i; j < i when exclusive; j >= i or j > i when reversed): one
// linalg.generic with an extra reduction loop j over the axis, whose body
// adds x where the predicate holds. That is quadratic in the axis length,
// which is what linalg can say without a loop-carried value; the axes ONNX
// models scan (positions along a sequence) are short.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "kiln/Dialect/Kiln/KilnOps.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

namespace {

struct CumSumToGeneric : OpRewritePattern<CumSumOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(CumSumOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getInput();
    auto type = cast<RankedTensorType>(x.getType());
    Type element = type.getElementType();
    if (!isa<FloatType>(element) && !isa<IntegerType>(element))
      return rewriter.notifyMatchFailure(op, "unsupported element type");
    int64_t rank = type.getRank(), axis = op.getAxis();
    MLIRContext *ctx = op.getContext();
    // Loops: the result's dims, then j.
    SmallVector<AffineExpr> inputExprs, outputExprs;
    for (int64_t d = 0; d < rank; ++d) {
      inputExprs.push_back(getAffineDimExpr(d == axis ? rank : d, ctx));
      outputExprs.push_back(getAffineDimExpr(d, ctx));
    }
    SmallVector<AffineMap> maps{AffineMap::get(rank + 1, 0, inputExprs, ctx),
                                AffineMap::get(rank + 1, 0, outputExprs, ctx)};
    SmallVector<utils::IteratorType> iterators = parallelIterators(rank);
    iterators.push_back(utils::IteratorType::reduction);

    Type body = signless(element);
    Value zero = scalarConstant(rewriter, loc, body, 0);
    Value empty = emptyLike(rewriter, loc, type, ValueRange{x});
    Value init = linalg::FillOp::create(rewriter, loc, reinterpret(rewriter, loc, zero, element),
                                        empty)
                     .getResult(0);
    using P = arith::CmpIPredicate;
    P keep = op.getReverse() ? (op.getExclusive() ? P::sgt : P::sge)
                             : (op.getExclusive() ? P::slt : P::sle);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{type}, ValueRange{x}, ValueRange{init}, maps, iterators,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value i = linalg::IndexOp::create(b, l, axis), j = linalg::IndexOp::create(b, l, rank);
          Value v = reinterpret(b, l, args[0], body), acc = reinterpret(b, l, args[1], body);
          Value sum = isa<FloatType>(body) ? (Value)arith::AddFOp::create(b, l, acc, v)
                                           : (Value)arith::AddIOp::create(b, l, acc, v);
          Value kept = arith::CmpIOp::create(b, l, keep, j, i);
          Value next = arith::SelectOp::create(b, l, kept, sum, acc);
          linalg::YieldOp::create(b, l, reinterpret(b, l, next, element));
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

} // namespace

void mlir::kiln::lowering::populateScanLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<CumSumToGeneric>(patterns.getContext());
}
