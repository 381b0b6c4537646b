//===- PoolingToLinalg.cpp - max, average and Lp pools to linalg.generic --===//
//
// The input is padded (tensor.pad) with the pooling's neutral value (the
// lowest value for max, 0 for the sums) by the begin pads and by enough end
// padding for every window, ceil_mode's last one included. One
// linalg.generic then folds each window: parallel loops over N, C and the
// output positions, reduction loops over the kernel (a tensor.empty of the
// kernel's shape gives their sizes), reading the padded input at
// o * stride + k * dilation. Averages divide by the number of window
// elements inside the input (or, with count_include_pad, inside the padded
// input), computed from the output position; a constant when every window
// is whole. Lp pools sum |x|^p and take the p-th root.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

namespace {

/// The lowest value of the (signless) element type `type`; `isUnsigned`
/// gives 0 for unsigned integers.
Value lowestValue(OpBuilder &b, Location loc, Type type, bool isUnsigned) {
  if (auto f = dyn_cast<FloatType>(type))
    return arith::ConstantOp::create(
        b, loc, FloatAttr::get(f, APFloat::getInf(f.getFloatSemantics(), /*Negative=*/true)));
  unsigned bits = type.getIntOrFloatBitWidth();
  return arith::ConstantOp::create(
      b, loc,
      IntegerAttr::get(type, isUnsigned ? APInt::getZero(bits) : APInt::getSignedMinValue(bits)));
}

/// |x|^p for the integer power p (a float p-th power beyond 2).
Value absPower(OpBuilder &b, Location loc, Value x, int64_t p) {
  Value a = math::AbsFOp::create(b, loc, x);
  if (p == 1)
    return a;
  if (p == 2)
    return arith::MulFOp::create(b, loc, a, a);
  return math::PowFOp::create(b, loc, a, scalarConstant(b, loc, x.getType(), (double)p));
}

/// The p-th root of the non-negative `x`.
Value root(OpBuilder &b, Location loc, Value x, int64_t p) {
  if (p == 1)
    return x;
  if (p == 2)
    return math::SqrtOp::create(b, loc, x);
  return math::PowFOp::create(b, loc, x, scalarConstant(b, loc, x.getType(), 1.0 / (double)p));
}

template <typename OpTy>
struct PoolToGeneric : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  static constexpr bool isMax = std::is_same_v<OpTy, MaxPoolOp>;
  static constexpr bool isLp = std::is_same_v<OpTy, LpPoolOp>;

  LogicalResult matchAndRewrite(OpTy op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    IndexMath m{rewriter, loc};
    Value x = op.getInput();
    auto type = cast<RankedTensorType>(x.getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank(), spatial = rank - 2;
    ArrayRef<int64_t> kernel = op.getKernelShape(), strides = op.getStrides(),
                      pads = op.getPads(), dilations = op.getDilations();
    Type element = type.getElementType(), body = signless(element);
    bool isUnsigned = isUnsignedElement(element);
    if (!isa<FloatType>(body) && !isa<IntegerType>(body))
      return rewriter.notifyMatchFailure(op, "unsupported element type");

    // Output sizes, the input sizes, and the end padding every window needs.
    SmallVector<Value> in, out;
    SmallVector<OpFoldResult> low(2, rewriter.getIndexAttr(0)), high(2, rewriter.getIndexAttr(0));
    bool wholeWindows = true;
    for (int64_t i = 0; i < spatial; ++i) {
      int64_t s = strides[i], pb = pads[i], pe = pads[i + spatial];
      int64_t extent = dilations[i] * (kernel[i] - 1) + 1;
      in.push_back(m.dim(x, i + 2));
      if (!resultType.isDynamicDim(i + 2)) {
        out.push_back(m.c(resultType.getDimSize(i + 2)));
      } else {
        Value span = m.sub(m.add(in[i], m.c(pb + pe)), m.c(extent));
        Value o = m.add(op.getCeilMode() ? m.ceilDiv(span, m.c(s)) : m.floorDiv(span, m.c(s)),
                        m.c(1));
        if (op.getCeilMode()) {
          Value startsInEndPad =
              m.cmp(arith::CmpIPredicate::sge, m.mul(m.sub(o, m.c(1)), m.c(s)), m.add(in[i], m.c(pb)));
          o = m.select(startsInEndPad, m.sub(o, m.c(1)), o);
        }
        // An input 1 to `stride` short of a window gives no windows (as in
        // onnxruntime); one shorter would give a negative size.
        emitRuntimeCheck(rewriter, loc, m.cmp(arith::CmpIPredicate::slt, o, m.c(0)),
                         describeNode(loc, opName()) + ": dim " + std::to_string(2 + i) +
                             " of the padded input is too short for the window (" +
                             std::to_string(extent) +
                             " wide with its dilation): the output would have a negative size");
        out.push_back(m.max(o, m.c(0)));
      }
      Value needed = m.add(m.mul(m.sub(out[i], m.c(1)), m.c(s)), m.c(extent));
      low.push_back(rewriter.getIndexAttr(pb));
      high.push_back(getAsOpFoldResult(m.max(m.c(pe), m.sub(needed, m.add(in[i], m.c(pb))))));
      // Whole windows: every one lies inside what the average counts.
      auto staticNeeded = getConstantIntValue(needed), staticIn = getConstantIntValue(in[i]);
      bool countsPadding = false;
      if constexpr (std::is_same_v<OpTy, AveragePoolOp>)
        countsPadding = op.getCountIncludePad();
      wholeWindows &= staticNeeded && staticIn &&
                      (countsPadding ? *staticNeeded <= *staticIn + pb + pe
                                     : pb == 0 && *staticNeeded <= *staticIn);
    }

    Value neutral = isMax ? lowestValue(rewriter, loc, body, isUnsigned)
                          : scalarConstant(rewriter, loc, body, 0);
    Value padded = tensor::PadOp::create(rewriter, loc, Type(), x, low, high,
                                         reinterpret(rewriter, loc, neutral, element));
    Value window = tensor::EmptyOp::create(rewriter, loc, kernel, element);
    SmallVector<Value> dynamicDims;
    for (int64_t d = 0; d < rank; ++d)
      if (resultType.isDynamicDim(d))
        dynamicDims.push_back(d < 2 ? m.dim(x, d) : out[d - 2]);
    Value init = linalg::FillOp::create(rewriter, loc, reinterpret(rewriter, loc, neutral, element),
                                        emptyWithDims(rewriter, loc, resultType, dynamicDims))
                     .getResult(0);

    // Loops: N, C, the output positions, then the kernel positions.
    auto dim = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
    int64_t loops = rank + spatial;
    SmallVector<AffineExpr> inputExprs{dim(0), dim(1)}, windowExprs, outputExprs;
    for (int64_t i = 0; i < spatial; ++i) {
      inputExprs.push_back(dim(2 + i) * strides[i] + dim(rank + i) * dilations[i]);
      windowExprs.push_back(dim(rank + i));
    }
    for (int64_t d = 0; d < rank; ++d)
      outputExprs.push_back(dim(d));
    SmallVector<AffineMap> maps{AffineMap::get(loops, 0, inputExprs, ctx),
                                AffineMap::get(loops, 0, windowExprs, ctx),
                                AffineMap::get(loops, 0, outputExprs, ctx)};
    SmallVector<utils::IteratorType> iterators = parallelIterators(rank);
    iterators.append(spatial, utils::IteratorType::reduction);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{resultType}, ValueRange{padded, window}, ValueRange{init},
        maps, iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          Value v = reinterpret(b, l, args[0], body), acc = reinterpret(b, l, args[2], body);
          Value next;
          if constexpr (isLp)
            next = arith::AddFOp::create(b, l, acc, absPower(b, l, v, op.getP()));
          else if (!isMax)
            next = arith::AddFOp::create(b, l, acc, v);
          else if (isa<FloatType>(body))
            next = arith::MaximumFOp::create(b, l, acc, v);
          else if (isUnsigned)
            next = arith::MaxUIOp::create(b, l, acc, v);
          else
            next = arith::MaxSIOp::create(b, l, acc, v);
          linalg::YieldOp::create(b, l, reinterpret(b, l, next, element));
        });
    Value result = generic.getResult(0);
    if constexpr (isLp)
      result = rootOf(rewriter, op, result);
    else if constexpr (!isMax)
      result = divideByCount(rewriter, op, result, in, wholeWindows);
    rewriter.replaceOp(op, result);
    return success();
  }

  /// The ONNX op type, for messages.
  static StringRef opName() {
    return isMax ? "MaxPool" : isLp ? "LpPool" : "AveragePool";
  }

  /// The p-th root of each sum.
  Value rootOf(PatternRewriter &rewriter, OpTy op, Value sums) const {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(sums.getType());
    int64_t p = 2;
    if constexpr (isLp)
      p = op.getP();
    if (p == 1)
      return sums;
    AffineMap id = rewriter.getMultiDimIdentityMap(type.getRank());
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{type}, ValueRange{sums},
        ValueRange{emptyLike(rewriter, loc, type, ValueRange{sums})}, ArrayRef<AffineMap>{id, id},
        parallelIterators(type.getRank()), [&](OpBuilder &b, Location l, ValueRange args) {
          linalg::YieldOp::create(b, l, root(b, l, args[0], p));
        });
    return generic.getResult(0);
  }

  /// sums / the number of elements each window counts.
  Value divideByCount(PatternRewriter &rewriter, OpTy op, Value sums, ArrayRef<Value> in,
                      bool wholeWindows) const {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(sums.getType());
    int64_t rank = type.getRank(), spatial = rank - 2;
    ArrayRef<int64_t> kernel = op.getKernelShape(), strides = op.getStrides(),
                      pads = op.getPads(), dilations = op.getDilations();
    bool countsPadding = false;
    if constexpr (std::is_same_v<OpTy, AveragePoolOp>)
      countsPadding = op.getCountIncludePad();
    Type element = type.getElementType();
    Value init = emptyLike(rewriter, loc, type, ValueRange{sums});
    AffineMap id = rewriter.getMultiDimIdentityMap(rank);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{type}, ValueRange{sums}, ValueRange{init},
        ArrayRef<AffineMap>{id, id}, parallelIterators(rank),
        [&](OpBuilder &b, Location l, ValueRange args) {
          IndexMath bm{b, l};
          Value count = bm.c(1);
          for (int64_t i = 0; i < spatial; ++i) {
            if (wholeWindows) {
              count = bm.mul(count, bm.c(kernel[i]));
              continue;
            }
            // Kernel positions k with lo <= o * s - pb + k * d < hi.
            int64_t pb = pads[i], pe = pads[i + spatial], d = dilations[i];
            Value lo = countsPadding ? bm.c(-pb) : bm.c(0);
            Value hi = countsPadding ? bm.add(in[i], bm.c(pe)) : in[i];
            Value start = bm.sub(bm.mul(linalg::IndexOp::create(b, l, 2 + i), bm.c(strides[i])),
                                 bm.c(pb));
            Value first = bm.max(bm.c(0), bm.ceilDiv(bm.sub(lo, start), bm.c(d)));
            Value last = bm.min(bm.c(kernel[i] - 1),
                                bm.floorDiv(bm.sub(bm.sub(hi, bm.c(1)), start), bm.c(d)));
            Value n = bm.max(bm.c(0), bm.add(bm.sub(last, first), bm.c(1)));
            count = bm.mul(count, n);
          }
          Value asInt = arith::IndexCastOp::create(b, l, b.getI64Type(), count);
          Value asFloat = arith::SIToFPOp::create(b, l, element, asInt);
          linalg::YieldOp::create(b, l, Value(arith::DivFOp::create(b, l, args[0], asFloat)));
        });
    return generic.getResult(0);
  }
};

} // namespace

void mlir::kiln::lowering::populatePoolingLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<PoolToGeneric<MaxPoolOp>, PoolToGeneric<AveragePoolOp>, PoolToGeneric<LpPoolOp>>(
      patterns.getContext());
}
