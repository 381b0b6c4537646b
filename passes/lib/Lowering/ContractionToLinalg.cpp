//===- ContractionToLinalg.cpp - matmul and gemm to linalg ----------------===//
//
// matmul and gemm become one linalg.generic contraction whose indexing maps
// carry numpy batch broadcasting, 1-D promotion and transposition, so no
// operand is copied or transposed first. (conv: ConvToLinalg.cpp.)
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "RuntimeCalls.h"
#include "ShapeOperands.h"
#include "kiln/Dialect/Kiln/KilnOps.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

namespace {

/// Fails the run where the contraction dims of `a` (dim `ak`) and `b` (dim
/// `bk`) differ (ONNX; ORT fails too): the loop would take its size from
/// one of them and read past the other's end. Dims proven equal cost
/// nothing; static ones were compared when compiling.
void checkContractionDims(PatternRewriter &rewriter, Location loc, StringRef opType, Value a,
                          int64_t ak, Value b, int64_t bk) {
  Value failed;
  requireSameDimAtRunTime(rewriter, loc, a, ak, b, bk, failed);
  if (failed)
    emitRuntimeCheck(rewriter, loc, failed,
                     describeNode(loc, opType) +
                         ": the operands' contraction dims differ at run time");
}

struct MatMulToGeneric : OpRewritePattern<MatMulOp> {
  MatMulToGeneric(MLIRContext *context, BroadcastCopies copies)
      : OpRewritePattern(context), copies(copies) {}
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
    // A `?` result batch dim takes its size from an operand's `?` dim there
    // (decided before any IR is made).
    for (int64_t i = 0; i < batch; ++i) {
      int64_t li = i - (batch - lb), ri = i - (batch - rb);
      if (resultType.isDynamicDim(i) && !(li >= 0 && lt.isDynamicDim(li)) &&
          !(ri >= 0 && rt.isDynamicDim(ri)))
        return rewriter.notifyMatchFailure(op, "a dynamic result dim has no source");
    }
    checkContractionDims(rewriter, loc, "MatMul", lhs, lt.getRank() - 1, rhs,
                         rhsVector ? 0 : rt.getRank() - 2);
    lhs = broadcastBatchDims(rewriter, loc, lhs, lb, batch, resultType);
    rhs = broadcastBatchDims(rewriter, loc, rhs, rb, batch, resultType);
    checkDynamicBatchDims(rewriter, loc, lhs, lb, rhs, rb, batch, resultType);
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
      assert(source && "checked above");
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

private:
  /// `operand` (whose `own` batch dims end at the result's `batch`) with
  /// each `?` batch dim where the result's is static copied out to it in
  /// the runs where it is a 1 that broadcasts (numpy: an activation
  /// [B, M, K] by a constant [H, K, N] at B = 1), and checked to be 1 or
  /// that size.
  Value broadcastBatchDims(PatternRewriter &rewriter, Location loc, Value operand, int64_t own,
                           int64_t batch, RankedTensorType resultType) const {
    auto type = cast<RankedTensorType>(operand.getType());
    SmallVector<int64_t> target(type.getShape());
    bool broadcasts = false;
    for (int64_t i = 0; i < own; ++i) {
      int64_t loop = batch - own + i;
      if (type.isDynamicDim(i) && !resultType.isDynamicDim(loop)) {
        target[i] = resultType.getDimSize(loop);
        broadcasts = true;
      }
    }
    if (!broadcasts)
      return operand;
    return broadcastAtRunTime(rewriter, loc, "MatMul", {operand}, type.clone(target),
                              /*firstIsOutputSize=*/false, copies)
        .operands.front();
  }

  /// Fails the run where both operands have a `?` batch dim of a `?` result
  /// dim (its size taken from one of them) and they differ. One of them
  /// being a 1 that broadcasts is among those: a documented limit, as
  /// elementwise ops' where Kiln specialised for one input's `?` dim.
  static void checkDynamicBatchDims(PatternRewriter &rewriter, Location loc, Value lhs,
                                    int64_t lb, Value rhs, int64_t rb, int64_t batch,
                                    RankedTensorType resultType) {
    auto lt = cast<RankedTensorType>(lhs.getType()), rt = cast<RankedTensorType>(rhs.getType());
    Value failed;
    for (int64_t p = 0; p < batch; ++p) {
      int64_t li = p - (batch - lb), ri = p - (batch - rb);
      if (resultType.isDynamicDim(p) && li >= 0 && ri >= 0 && lt.isDynamicDim(li) &&
          rt.isDynamicDim(ri))
        requireSameDimAtRunTime(rewriter, loc, lhs, li, rhs, ri, failed);
    }
    if (failed)
      emitRuntimeCheck(rewriter, loc, failed,
                       describeNode(loc, "MatMul") +
                           ": the operands' batch dims differ at run time (Kiln broadcasts a "
                           "batch dim that is 1 at run time only against a fixed size; give "
                           "the model's inputs fixed sizes with --input-shape)");
  }

  BroadcastCopies copies;
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
    checkContractionDims(rewriter, loc, "Gemm", op.getA(), op.getTransA() ? 0 : 1, op.getB(),
                         op.getTransB() ? 1 : 0);
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
  patterns.add<MatMulToGeneric, GemmToGeneric>(patterns.getContext(), copies);
}
