//===- ContractionToLinalg.cpp - matmul and gemm to linalg ----------------===//
//
// matmul and gemm become one linalg.generic contraction whose indexing maps
// carry numpy batch broadcasting, 1-D promotion and transposition, so no
// operand is copied or transposed first. (conv: ConvToLinalg.cpp.)
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "kiln/Dialect/Kiln/KilnOps.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

namespace {

struct MatMulToGeneric : OpRewritePattern<MatMulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MatMulOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    Value lhs = op.getLhs(), rhs = op.getRhs();
    auto lt = cast<RankedTensorType>(lhs.getType()), rt = cast<RankedTensorType>(rhs.getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    if (!lt.getElementType().isSignlessIntOrFloat())
      return rewriter.notifyMatchFailure(op, "unsupported element type");
    bool lhsVector = lt.getRank() == 1, rhsVector = rt.getRank() == 1;
    int64_t lb = std::max<int64_t>(0, lt.getRank() - 2);
    int64_t rb = std::max<int64_t>(0, rt.getRank() - 2);
    int64_t batch = std::max(lb, rb);
    // Loops: batch..., m, n, k; a 1-D operand has no m (lhs) or n (rhs) loop
    // (a loop no operand indexes would make the maps non-invertible).
    int64_t loops = batch;
    int64_t m = lhsVector ? -1 : loops++;
    int64_t n = rhsVector ? -1 : loops++;
    int64_t k = loops++;
    auto dim = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
    auto zero = getAffineConstantExpr(0, ctx);

    // Batch dims broadcast right-aligned; a static 1 against a larger dim reads 0.
    auto batchExprs = [&](RankedTensorType t, int64_t own) {
      SmallVector<AffineExpr> exprs;
      for (int64_t i = 0; i < own; ++i) {
        int64_t loop = batch - own + i;
        int64_t other = resultType.getDimSize(loop);
        exprs.push_back(t.getDimSize(i) == 1 && other != 1 ? zero : dim(loop));
      }
      return exprs;
    };
    SmallVector<AffineExpr> lhsExprs = batchExprs(lt, lb), rhsExprs = batchExprs(rt, rb);
    if (!lhsVector)
      lhsExprs.push_back(dim(m));
    lhsExprs.push_back(dim(k));
    rhsExprs.push_back(dim(k));
    if (!rhsVector)
      rhsExprs.push_back(dim(n));
    SmallVector<AffineExpr> outExprs;
    for (int64_t i = 0; i < batch; ++i)
      outExprs.push_back(dim(i));
    if (!lhsVector)
      outExprs.push_back(dim(m));
    if (!rhsVector)
      outExprs.push_back(dim(n));

    // Dynamic result dims: batch from whichever operand has it, m from lhs, n from rhs.
    SmallVector<Value> dynamicDims;
    for (int64_t i = 0; i < resultType.getRank(); ++i) {
      if (!resultType.isDynamicDim(i))
        continue;
      Value source;
      int64_t sourceDim = 0;
      if (i < batch) {
        int64_t li = i - (batch - lb), ri = i - (batch - rb);
        if (li >= 0 && lt.isDynamicDim(li))
          source = lhs, sourceDim = li;
        else if (ri >= 0 && rt.isDynamicDim(ri))
          source = rhs, sourceDim = ri;
      } else if (!lhsVector && i == batch) {
        source = lhs, sourceDim = lt.getRank() - 2;
      } else {
        source = rhs, sourceDim = rt.getRank() - 1;
      }
      if (!source)
        return rewriter.notifyMatchFailure(op, "a dynamic result dim has no source");
      dynamicDims.push_back(tensor::DimOp::create(rewriter, loc, source, sourceDim));
    }
    Value init = zeroFilled(rewriter, loc, resultType, dynamicDims);
    SmallVector<utils::IteratorType> iterators(loops, utils::IteratorType::parallel);
    iterators[k] = utils::IteratorType::reduction;
    SmallVector<AffineMap> maps{AffineMap::get(loops, 0, lhsExprs, ctx),
                                AffineMap::get(loops, 0, rhsExprs, ctx),
                                AffineMap::get(loops, 0, outExprs, ctx)};
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{resultType}, ValueRange{lhs, rhs}, ValueRange{init}, maps,
        iterators, [](OpBuilder &b, Location l, ValueRange a) {
          linalg::YieldOp::create(b, l, multiplyAdd(b, l, a[0], a[1], a[2]));
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

/// Y = alpha * op(A) op(B) + beta * C.
struct GemmToGeneric : OpRewritePattern<GemmOp> {
  GemmToGeneric(MLIRContext *context, BroadcastCopies copies)
      : OpRewritePattern(context), copies(copies) {}
  LogicalResult matchAndRewrite(GemmOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    auto resultType = cast<RankedTensorType>(op.getType());
    Type element = resultType.getElementType();
    auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
    // Loops: m, n, k.
    AffineMap aMap = AffineMap::get(3, 0, op.getTransA() ? SmallVector{d(2), d(0)}
                                                         : SmallVector{d(0), d(2)}, ctx);
    AffineMap bMap = AffineMap::get(3, 0, op.getTransB() ? SmallVector{d(1), d(2)}
                                                         : SmallVector{d(2), d(1)}, ctx);
    AffineMap outMap = AffineMap::get(3, 0, {d(0), d(1)}, ctx);
    SmallVector<Value> dynamicDims;
    if (resultType.isDynamicDim(0))
      dynamicDims.push_back(tensor::DimOp::create(rewriter, loc, op.getA(), op.getTransA() ? 1 : 0));
    if (resultType.isDynamicDim(1))
      dynamicDims.push_back(tensor::DimOp::create(rewriter, loc, op.getB(), op.getTransB() ? 0 : 1));
    Value init = zeroFilled(rewriter, loc, resultType, dynamicDims);
    auto product = linalg::GenericOp::create(
        rewriter, loc, TypeRange{resultType}, ValueRange{op.getA(), op.getB()},
        ValueRange{init}, SmallVector<AffineMap>{aMap, bMap, outMap},
        {utils::IteratorType::parallel, utils::IteratorType::parallel,
         utils::IteratorType::reduction},
        [](OpBuilder &b, Location l, ValueRange a) {
          linalg::YieldOp::create(b, l, multiplyAdd(b, l, a[0], a[1], a[2]));
        });
    Value result = product.getResult(0);
    double alpha = op.getAlpha().convertToDouble(), beta = op.getBeta().convertToDouble();
    if (alpha != 1.0 || (op.getC() && beta != 0.0)) {
      SmallVector<Value> inputs{result};
      SmallVector<AffineMap> maps{rewriter.getMultiDimIdentityMap(2)};
      bool withC = op.getC() && beta != 0.0;
      if (withC) {
        // C broadcasts to the product's [M, N] (unidirectionally), `?`
        // dims of 1 included.
        inputs = broadcastAtRunTime(rewriter, loc, "Gemm", {result, op.getC()}, resultType,
                                    /*firstIsOutputSize=*/true, copies)
                     .operands;
        maps.push_back(broadcastMap(ctx, cast<RankedTensorType>(op.getC().getType()), resultType));
      }
      maps.push_back(rewriter.getMultiDimIdentityMap(2));
      auto epilogue = linalg::GenericOp::create(
          rewriter, loc, TypeRange{resultType}, inputs,
          ValueRange{emptyWithDims(rewriter, loc, resultType, dynamicDims)}, maps,
          parallelIterators(2), [&](OpBuilder &b, Location l, ValueRange a) {
            Value v = arith::MulFOp::create(b, l, a[0], scalarConstant(b, l, element, alpha));
            if (withC)
              v = arith::AddFOp::create(
                  b, l, v, arith::MulFOp::create(b, l, a[1], scalarConstant(b, l, element, beta)));
            linalg::YieldOp::create(b, l, v);
          });
      result = epilogue.getResult(0);
    }
    rewriter.replaceOp(op, result);
    return success();
  }

  BroadcastCopies copies;
};

} // namespace

void mlir::kiln::lowering::populateContractionLoweringPatterns(RewritePatternSet &patterns,
                                                               BroadcastCopies copies) {
  patterns.add<MatMulToGeneric>(patterns.getContext());
  patterns.add<GemmToGeneric>(patterns.getContext(), copies);
}
