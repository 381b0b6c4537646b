//===- ContractionToLinalg.cpp - matmul, gemm and conv to linalg ----------===//
//
// matmul and gemm become one linalg.generic contraction whose indexing maps
// carry numpy batch broadcasting, 1-D promotion and transposition, so no
// operand is copied or transposed first. conv becomes the same contraction
// over patches of its (zero-padded) input (im2col).
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "kiln/Dialect/Kiln/KilnOps.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

namespace {

Value multiplyAdd(OpBuilder &b, Location loc, Value x, Value y, Value acc) {
  if (isa<FloatType>(x.getType()))
    return arith::AddFOp::create(b, loc, acc, arith::MulFOp::create(b, loc, x, y));
  return arith::AddIOp::create(b, loc, acc, arith::MulIOp::create(b, loc, x, y));
}

/// A zero-filled tensor of `type` whose dynamic dims are `dims`.
Value zeros(OpBuilder &b, Location loc, RankedTensorType type, ValueRange dims) {
  Value zero = scalarConstant(b, loc, type.getElementType(), 0);
  return linalg::FillOp::create(b, loc, zero, emptyWithDims(b, loc, type, dims)).getResult(0);
}

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
    Value init = zeros(rewriter, loc, resultType, dynamicDims);
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
    Value init = zeros(rewriter, loc, resultType, dynamicDims);
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

/// 2-D, ungrouped convolution with static channels and spatial dims, as a
/// GEMM over patches (im2col), so that it runs on the runtime's GEMM with
/// its weight packed at compile time like any MatMul's:
///
///   patches[n, oh, ow, c, kh, kw] = X[n, c, oh*sh + kh*dh, ow*sw + kw*dw]
///   product[n, p, f] = sum_q patches[n, p, q] * W[f, q] (+ bias[f])
///   Y[n, f, oh, ow]  = product[n, oh*OW + ow, f]
///
/// with p = (oh, ow) and q = (c, kh, kw) collapsed. W is the GEMM's B read
/// through a (n, k) map, as Gemm's transB is, so kiln-pack-gemm-weights
/// packs a constant W, and the bias is a per-column add that
/// kiln-prepare-gemm-epilogues folds into the GEMM. The patches cost one
/// copy of the input per kernel position that overlaps (none for ViT's
/// patch embedding, whose kernel equals its stride); the product is
/// transposed once into NCHW.
struct ConvToLinalg : OpRewritePattern<ConvOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ConvOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    auto xt = cast<RankedTensorType>(op.getInput().getType());
    auto wt = cast<RankedTensorType>(op.getWeight().getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    if (xt.getRank() != 4 || op.getGroup() != 1)
      return rewriter.notifyMatchFailure(op, "only 2-D convolutions with group 1 are lowered");
    for (int64_t i = 1; i < 4; ++i)
      if (resultType.isDynamicDim(i) || xt.isDynamicDim(i) || wt.isDynamicDim(i))
        return rewriter.notifyMatchFailure(op, "channels and spatial dims must be static");
    if (wt.isDynamicDim(0))
      return rewriter.notifyMatchFailure(op, "the number of filters must be static");
    Type element = xt.getElementType();
    Value input = op.getInput();
    ArrayRef<int64_t> pads = op.getPads();
    if (llvm::any_of(pads, [](int64_t p) { return p != 0; })) {
      SmallVector<OpFoldResult> low{rewriter.getIndexAttr(0), rewriter.getIndexAttr(0),
                                    rewriter.getIndexAttr(pads[0]), rewriter.getIndexAttr(pads[1])};
      SmallVector<OpFoldResult> high{rewriter.getIndexAttr(0), rewriter.getIndexAttr(0),
                                     rewriter.getIndexAttr(pads[2]), rewriter.getIndexAttr(pads[3])};
      SmallVector<int64_t> padded(xt.getShape());
      padded[2] += pads[0] + pads[2];
      padded[3] += pads[1] + pads[3];
      auto paddedType = RankedTensorType::get(padded, element);
      input = tensor::PadOp::create(rewriter, loc, paddedType, input, low, high,
                                    scalarConstant(rewriter, loc, element, 0));
    }
    SmallVector<Value> batchDims;
    if (resultType.isDynamicDim(0))
      batchDims.push_back(tensor::DimOp::create(rewriter, loc, op.getInput(), 0));

    const int64_t batch = resultType.getDimSize(0), filters = resultType.getDimSize(1);
    const int64_t oh = resultType.getDimSize(2), ow = resultType.getDimSize(3);
    const int64_t channels = wt.getDimSize(1), kh = wt.getDimSize(2), kw = wt.getDimSize(3);
    ArrayRef<int64_t> strides = op.getStrides(), dilations = op.getDilations();
    auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };

    // Loops n, oh, ow, c, kh, kw.
    auto patchesType = RankedTensorType::get({batch, oh, ow, channels, kh, kw}, element);
    AffineMap window = AffineMap::get(6, 0,
                                      {d(0), d(3), d(1) * strides[0] + d(4) * dilations[0],
                                       d(2) * strides[1] + d(5) * dilations[1]},
                                      ctx);
    Value patches =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{patchesType}, ValueRange{input},
            ValueRange{emptyWithDims(rewriter, loc, patchesType, batchDims)},
            SmallVector<AffineMap>{window, rewriter.getMultiDimIdentityMap(6)},
            parallelIterators(6),
            [](OpBuilder &b, Location l, ValueRange a) { linalg::YieldOp::create(b, l, a[0]); })
            .getResult(0);
    const int64_t pixels = oh * ow, depth = channels * kh * kw;
    Value lhs = tensor::CollapseShapeOp::create(
        rewriter, loc, RankedTensorType::get({batch, pixels, depth}, element), patches,
        SmallVector<ReassociationIndices>{{0}, {1, 2}, {3, 4, 5}});
    Value rhs = tensor::CollapseShapeOp::create(
        rewriter, loc, RankedTensorType::get({filters, depth}, wt.getElementType()),
        op.getWeight(), SmallVector<ReassociationIndices>{{0}, {1, 2, 3}});

    // Loops n, p, f, q.
    auto productType = RankedTensorType::get({batch, pixels, filters}, element);
    SmallVector<utils::IteratorType> iterators(3, utils::IteratorType::parallel);
    iterators.push_back(utils::IteratorType::reduction);
    Value product =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{productType}, ValueRange{lhs, rhs},
            ValueRange{zeros(rewriter, loc, productType, batchDims)},
            SmallVector<AffineMap>{AffineMap::get(4, 0, {d(0), d(1), d(3)}, ctx),
                                   AffineMap::get(4, 0, {d(2), d(3)}, ctx),
                                   AffineMap::get(4, 0, {d(0), d(1), d(2)}, ctx)},
            iterators,
            [](OpBuilder &b, Location l, ValueRange a) {
              linalg::YieldOp::create(b, l, multiplyAdd(b, l, a[0], a[1], a[2]));
            })
            .getResult(0);
    if (Value bias = op.getBias()) {
      AffineMap id = rewriter.getMultiDimIdentityMap(3);
      AffineMap column = AffineMap::get(3, 0, {d(2)}, ctx);
      product = linalg::GenericOp::create(
                    rewriter, loc, TypeRange{productType}, ValueRange{product, bias},
                    ValueRange{emptyWithDims(rewriter, loc, productType, batchDims)},
                    SmallVector<AffineMap>{id, column, id}, parallelIterators(3),
                    [](OpBuilder &b, Location l, ValueRange a) {
                      Value sum = isa<FloatType>(a[0].getType())
                                      ? (Value)arith::AddFOp::create(b, l, a[0], a[1])
                                      : (Value)arith::AddIOp::create(b, l, a[0], a[1]);
                      linalg::YieldOp::create(b, l, sum);
                    })
                    .getResult(0);
    }
    auto flatType = RankedTensorType::get({batch, filters, pixels}, element);
    Value flat = linalg::TransposeOp::create(rewriter, loc, product,
                                             emptyWithDims(rewriter, loc, flatType, batchDims),
                                             ArrayRef<int64_t>{0, 2, 1})
                     .getResult()[0];
    rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(
        op, resultType, flat, SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});
    return success();
  }
};

} // namespace

void mlir::kiln::lowering::populateContractionLoweringPatterns(RewritePatternSet &patterns,
                                                               BroadcastCopies copies) {
  patterns.add<MatMulToGeneric, ConvToLinalg>(patterns.getContext());
  patterns.add<GemmToGeneric>(patterns.getContext(), copies);
}
