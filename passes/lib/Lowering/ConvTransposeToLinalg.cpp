//===- ConvTransposeToLinalg.cpp - conv_transpose to linalg.generic -------===//
//
// out[n, co, o...] = bias[co] + sum over c, k... of
//   x[n, g * Cg + c, i...] * w[g * Cg + c, co mod Mg, k...]
// where g = co floordiv Mg (the group) and o = i * stride - pad + k *
// dilation: one linalg.generic over (n, g, co mod Mg, o..., c, k...) that reads the
// weight through its indexing map and, in the body, the input element the
// output position comes from, when one does (o + pad - k * dilation is a
// non-negative multiple of the stride within the input), else adds 0. This
// gathers instead of scattering, so every output is written once; the
// positions without an input (stride - 1 in stride per dim) cost a test.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "kiln/Dialect/Kiln/KilnOps.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

namespace {

struct ConvTransposeToGeneric : OpRewritePattern<ConvTransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConvTransposeOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    Value x = op.getInput();
    auto xt = cast<RankedTensorType>(x.getType());
    auto wt = cast<RankedTensorType>(op.getWeight().getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t rank = xt.getRank(), spatial = rank - 2;
    for (int64_t d = 1; d < rank; ++d)
      if (xt.isDynamicDim(d) || wt.isDynamicDim(d) || resultType.isDynamicDim(d))
        return rewriter.notifyMatchFailure(op, "channels and spatial dims must be static");
    int64_t group = op.getGroup(), perGroupIn = xt.getDimSize(1) / group,
            perGroupOut = wt.getDimSize(1);
    ArrayRef<int64_t> strides = op.getStrides(), dilations = op.getDilations(), pads = op.getPads();
    Type element = resultType.getElementType();

    // The channels split by group, so that every loop is a dim of some
    // operand (linalg needs its maps invertible): the weight as
    // (G, Cg, Mg, k...), the result as (N, G, Mg, o...), collapsed at the end.
    SmallVector<ReassociationIndices> splitChannels{{0, 1}};
    for (int64_t i = 1; i < rank; ++i)
      splitChannels.push_back({i + 1});
    SmallVector<int64_t> weightShape{group, perGroupIn};
    llvm::append_range(weightShape, wt.getShape().drop_front());
    Value weight = tensor::ExpandShapeOp::create(
        rewriter, loc, RankedTensorType::get(weightShape, element), op.getWeight(), splitChannels);
    SmallVector<int64_t> groupedShape{resultType.getDimSize(0), group, perGroupOut};
    llvm::append_range(groupedShape, resultType.getShape().drop_front(2));
    auto groupedType = RankedTensorType::get(groupedShape, element);

    // Loops: n, g, mg, o... (parallel), then c, k... (reduction).
    int64_t parallel = rank + 1, loops = parallel + 1 + spatial;
    auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
    auto kernelLoop = [&](int64_t i) { return parallel + 1 + i; };
    SmallVector<AffineExpr> weightExprs{d(1), d(parallel), d(2)}, outExprs;
    for (int64_t i = 0; i < spatial; ++i)
      weightExprs.push_back(d(kernelLoop(i)));
    for (int64_t i = 0; i < parallel; ++i)
      outExprs.push_back(d(i));
    SmallVector<utils::IteratorType> iterators = parallelIterators(parallel);
    iterators.append(1 + spatial, utils::IteratorType::reduction);

    // The accumulator starts as the bias (broadcast) or zero.
    SmallVector<Value> batchDims;
    if (resultType.isDynamicDim(0))
      batchDims.push_back(tensor::DimOp::create(rewriter, loc, x, 0));
    Value init = emptyWithDims(rewriter, loc, groupedType, batchDims);
    if (Value bias = op.getBias()) {
      Value grouped = tensor::ExpandShapeOp::create(
          rewriter, loc, RankedTensorType::get({group, perGroupOut}, element), bias,
          SmallVector<ReassociationIndices>{{0, 1}});
      AffineMap id = rewriter.getMultiDimIdentityMap(parallel);
      AffineMap channel = AffineMap::get(parallel, 0, {d(1), d(2)}, ctx);
      init =
          linalg::GenericOp::create(
              rewriter, loc, TypeRange{groupedType}, ValueRange{grouped}, ValueRange{init},
              SmallVector<AffineMap>{channel, id}, parallelIterators(parallel),
              [](OpBuilder &b, Location l, ValueRange a) { linalg::YieldOp::create(b, l, a[0]); })
              .getResult(0);
    } else {
      init = linalg::FillOp::create(rewriter, loc, scalarConstant(rewriter, loc, element, 0), init)
                 .getResult(0);
    }

    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{groupedType}, ValueRange{weight}, ValueRange{init},
        SmallVector<AffineMap>{AffineMap::get(loops, 0, weightExprs, ctx),
                               AffineMap::get(loops, 0, outExprs, ctx)},
        iterators, [&](OpBuilder &b, Location l, ValueRange a) {
          IndexMath m{b, l};
          auto loop = [&](int64_t i) { return linalg::IndexOp::create(b, l, i).getResult(); };
          Value channel = m.add(m.mul(loop(1), m.c(perGroupIn)), loop(parallel));
          SmallVector<Value> at{loop(0), channel};
          Value valid = arith::ConstantOp::create(b, l, b.getBoolAttr(true));
          for (int64_t i = 0; i < spatial; ++i) {
            // t = o + pad - k * dilation must be stride * (an input index).
            Value t = m.sub(m.add(loop(3 + i), m.c(pads[i])),
                            m.mul(loop(kernelLoop(i)), m.c(dilations[i])));
            Value in = m.floorDiv(t, m.c(strides[i]));
            Value onGrid = m.cmp(arith::CmpIPredicate::eq, m.mul(in, m.c(strides[i])), t);
            Value inside = arith::AndIOp::create(
                b, l, m.cmp(arith::CmpIPredicate::sge, in, m.c(0)),
                m.cmp(arith::CmpIPredicate::slt, in, m.c(xt.getDimSize(2 + i))));
            valid = arith::AndIOp::create(b, l, valid, arith::AndIOp::create(b, l, onGrid, inside));
            at.push_back(m.min(m.max(in, m.c(0)), m.c(xt.getDimSize(2 + i) - 1)));
          }
          Value xv = tensor::ExtractOp::create(b, l, x, at);
          Value product = arith::MulFOp::create(b, l, xv, a[0]);
          Value term =
              arith::SelectOp::create(b, l, valid, product, scalarConstant(b, l, element, 0));
          linalg::YieldOp::create(b, l, arith::AddFOp::create(b, l, a[1], term).getResult());
        });
    SmallVector<ReassociationIndices> mergeChannels{{0}, {1, 2}};
    for (int64_t i = 3; i < parallel; ++i)
      mergeChannels.push_back({i});
    rewriter.replaceOpWithNewOp<tensor::CollapseShapeOp>(op, resultType, generic.getResult(0),
                                                         mergeChannels);
    return success();
  }
};

} // namespace

void mlir::kiln::lowering::populateConvTransposeLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<ConvTransposeToGeneric>(patterns.getContext());
}
