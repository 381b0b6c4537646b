//===- QuantizationToLinalg.cpp - (de)quantize_linear to linalg.generic ---===//
//
// Each is one elementwise linalg.generic; the scale and zero point are read
// through an indexing map that gives the whole tensor one value (per
// tensor), follows dim `axis` (per axis) or dim `axis` divided by the block
// size (blocked). Where the input's dims are `?`, the parameters' shape is
// checked against them when the model runs (the verifier does it for
// static dims): a shorter scale would be read past its end.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "RuntimeCalls.h"
#include "ShapeOperands.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

namespace {

/// How a scale or zero point of type `param` is read inside loops over an
/// input of rank `rank`.
AffineMap paramMap(MLIRContext *ctx, int64_t rank, RankedTensorType param, int64_t axis,
                   int64_t blockSize) {
  SmallVector<AffineExpr> exprs;
  if (blockSize > 0) {
    for (int64_t d = 0; d < rank; ++d)
      exprs.push_back(d == axis ? getAffineDimExpr(d, ctx).floorDiv(blockSize)
                                : getAffineDimExpr(d, ctx));
  } else if (param.getRank() == 1 && param.getDimSize(0) == 1) {
    exprs.push_back(getAffineConstantExpr(0, ctx));
  } else if (param.getRank() == 1) {
    exprs.push_back(getAffineDimExpr(axis, ctx));
  }
  return AffineMap::get(rank, 0, exprs, ctx);
}

/// Fails the run where a per-axis or blocked parameter `param` does not fit
/// the input's `?` dims: one value per index of dim `axis`, or the input's
/// shape with that dim divided by the block size, rounded up.
void checkParameterShape(PatternRewriter &rewriter, Location loc, Value input, Value param,
                         int64_t axis, int64_t blockSize, Value &failed) {
  auto type = cast<RankedTensorType>(param.getType());
  if (blockSize == 0) {
    if (type.getRank() == 1 && type.getDimSize(0) != 1)
      requireSameDimAtRunTime(rewriter, loc, input, axis, param, 0, failed);
    return;
  }
  auto inputType = cast<RankedTensorType>(input.getType());
  for (int64_t d = 0; d < type.getRank(); ++d) {
    if (d != axis) {
      requireSameDimAtRunTime(rewriter, loc, input, d, param, d, failed);
      continue;
    }
    if (!inputType.isDynamicDim(d) && !type.isDynamicDim(d))
      continue; // verified
    IndexMath m{rewriter, loc};
    Value blocks = m.ceilDiv(dimValue(rewriter, loc, input, d), m.c(blockSize));
    requireEqualAtRunTime(rewriter, loc, blocks, dimValue(rewriter, loc, param, d), failed);
  }
}

/// The integer element `v` (of the possibly unsigned type `type`) as a
/// float of `floatType`.
Value intToFloat(OpBuilder &b, Location loc, Value v, Type type, Type floatType) {
  Value bits = reinterpret(b, loc, v, signless(type));
  if (isUnsignedElement(type))
    return arith::UIToFPOp::create(b, loc, floatType, bits);
  return arith::SIToFPOp::create(b, loc, floatType, bits);
}

/// An elementwise generic over `input`'s shape producing `resultType`, with
/// the scale and optional zero point read through their maps.
template <typename OpTy>
Value buildQuantGeneric(PatternRewriter &rewriter, OpTy op, RankedTensorType resultType,
                        function_ref<Value(OpBuilder &, Location, ValueRange)> body,
                        Value input = nullptr) {
  if (!input)
    input = op.getInput();
  Location loc = op.getLoc();
  MLIRContext *ctx = op.getContext();
  int64_t rank = resultType.getRank();
  // A constant unsigned operand (a zero point; DequantizeLinear's input,
  // e.g. a uint8 scalar of onnxruntime's QDQ models) is read as signless
  // bits (the body converts them as unsigned): upstream folds a splat
  // operand into the body as an arith.constant, which must be signless.
  auto signlessIfUnsignedConstant = [&](Value operand) -> Value {
    auto type = cast<RankedTensorType>(operand.getType());
    DenseIntElementsAttr value;
    if (isUnsignedElement(type.getElementType()) && matchPattern(operand, m_Constant(&value)))
      return arith::ConstantOp::create(rewriter, loc,
                                       value.bitcast(signless(type.getElementType())));
    return operand;
  };
  SmallVector<Value> inputs{signlessIfUnsignedConstant(input), op.getScale()};
  if (Value zeroPoint = op.getZeroPoint())
    inputs.push_back(signlessIfUnsignedConstant(zeroPoint));
  if (!op.isPerTensor()) {
    Value failed;
    for (Value param : ArrayRef(inputs).drop_front())
      checkParameterShape(rewriter, loc, input, param, op.getAxis(), op.getBlockSize(), failed);
    if (failed)
      emitRuntimeCheck(rewriter, loc, failed,
                       describeNode(loc, std::is_same_v<OpTy, DequantizeLinearOp>
                                             ? "DequantizeLinear"
                                             : "QuantizeLinear") +
                           ": the scale's or zero point's shape does not fit the input at run "
                           "time (per axis: one value per index of the axis; blocked: the "
                           "input's shape with the axis divided by the block size)");
  }
  SmallVector<AffineMap> maps{rewriter.getMultiDimIdentityMap(rank)};
  for (Value param : ArrayRef(inputs).drop_front())
    maps.push_back(paramMap(ctx, rank, cast<RankedTensorType>(param.getType()), op.getAxis(),
                            op.getBlockSize()));
  maps.push_back(rewriter.getMultiDimIdentityMap(rank));
  Value init = emptyLike(rewriter, loc, resultType, ValueRange{input});
  auto generic = linalg::GenericOp::create(
      rewriter, loc, TypeRange{resultType}, inputs, ValueRange{init}, maps,
      parallelIterators(rank), [&](OpBuilder &b, Location l, ValueRange args) {
        linalg::YieldOp::create(b, l, body(b, l, args.drop_back()));
      });
  return generic.getResult(0);
}

/// y = (x - zero_point) * scale
struct DequantizeToGeneric : OpRewritePattern<DequantizeLinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DequantizeLinearOp op, PatternRewriter &rewriter) const override {
    auto resultType = cast<RankedTensorType>(op.getType());
    Type floatType = resultType.getElementType();
    Type integer = cast<RankedTensorType>(op.getInput().getType()).getElementType();
    Value result = buildQuantGeneric(
        rewriter, op, resultType, [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value v = intToFloat(b, l, a[0], integer, floatType);
          if (a.size() > 2)
            v = arith::SubFOp::create(b, l, v, intToFloat(b, l, a[2], integer, floatType));
          return arith::MulFOp::create(b, l, v, a[1]);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// y = clamp(round_half_even(x / scale) + zero_point) in the integer type.
/// From f32 to 8- or 16-bit integers the rounding and clamping stay in f32,
/// which is exact: a rounded quotient below 2^24 in magnitude plus the zero
/// point is exact, and a larger one lies far outside the type's range
/// before and after the addition. The clamped value then converts through
/// i32, which vectorizes (a direct f64-to-i8 conversion does not). Other
/// types round and clamp in f64, which holds every integer of the
/// quantized types exactly.
/// The quantized value of x (a[0]) with scale a[1] and zero point a[2] (if
/// given) as a float of `wide`: round_half_even(x / scale) + zero_point,
/// clamped to the range of `to`.
Value quantizedAsFloat(OpBuilder &b, Location l, ValueRange a, IntegerType to, Type wide) {
  unsigned width = to.getWidth();
  double lo = to.isUnsigned() ? 0.0 : -std::ldexp(1.0, width - 1);
  double hi = to.isUnsigned() ? std::ldexp(1.0, width) - 1 : std::ldexp(1.0, width - 1) - 1;
  Value scaled = arith::DivFOp::create(b, l, a[0], a[1]);
  if (scaled.getType() != wide)
    scaled = arith::ExtFOp::create(b, l, wide, scaled);
  Value q = math::RoundEvenOp::create(b, l, scaled);
  if (a.size() > 2)
    q = arith::AddFOp::create(b, l, q, intToFloat(b, l, a[2], to, wide));
  q = arith::MaximumFOp::create(b, l, q, scalarConstant(b, l, wide, lo));
  return arith::MinimumFOp::create(b, l, q, scalarConstant(b, l, wide, hi));
}

struct QuantizeToGeneric : OpRewritePattern<QuantizeLinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(QuantizeLinearOp op, PatternRewriter &rewriter) const override {
    auto resultType = cast<RankedTensorType>(op.getType());
    auto to = cast<IntegerType>(resultType.getElementType());
    bool isUnsigned = to.isUnsigned();
    bool inF32 = cast<RankedTensorType>(op.getInput().getType()).getElementType().isF32() &&
                 to.getWidth() <= 16;
    Value result = buildQuantGeneric(
        rewriter, op, resultType, [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          Type wide = inF32 ? b.getF32Type() : b.getF64Type();
          Value q = quantizedAsFloat(b, l, a, to, wide);
          Type bits = signless(to);
          Value v;
          if (inF32)
            v = arith::TruncIOp::create(
                b, l, bits, arith::FPToSIOp::create(b, l, b.getI32Type(), q).getResult());
          else
            v = isUnsigned ? (Value)arith::FPToUIOp::create(b, l, bits, q)
                           : (Value)arith::FPToSIOp::create(b, l, bits, q);
          return reinterpret(b, l, v, to);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// Whether two scales (or zero points) are the same value: one SSA value,
/// or equal constants.
bool sameParameter(Value a, Value b) {
  if (a == b)
    return true;
  Attribute x, y;
  return a && b && matchPattern(a, m_Constant(&x)) && matchPattern(b, m_Constant(&y)) && x == y;
}

/// dequantize_linear(quantize_linear(x, s, z), s, z), the pair onnxruntime's
/// QDQ models put after every activation ("fake quantization"), as one
/// float body: (clamp(round_half_even(x / s) + z) - z) * s. That is exact,
/// the same bits as the two ops: the clamped value is an integer that f32
/// holds, and so is its difference with z. It spares the float-to-int8 and
/// back conversions of each pair (QDQ BERT-base's GELU alone has seven
/// pairs per element). The pattern is on the quantize_linear, which the
/// top-down lowering meets first: it replaces the matching
/// dequantize_linear users, and the quantize_linear is lowered as usual if
/// others read it.
struct FakeQuantizeToGeneric : OpRewritePattern<QuantizeLinearOp> {
  using OpRewritePattern::OpRewritePattern;

  static bool isInverse(QuantizeLinearOp quantize, DequantizeLinearOp op) {
    if (!sameParameter(op.getScale(), quantize.getScale()) ||
        !sameParameter(op.getZeroPoint(), quantize.getZeroPoint()) ||
        op.getBlockSize() != quantize.getBlockSize() ||
        quantize.getInput().getType() != op.getType())
      return false;
    return op.isPerTensor() || op.getAxis() == quantize.getAxis();
  }

  LogicalResult matchAndRewrite(QuantizeLinearOp quantize,
                                PatternRewriter &rewriter) const override {
    auto to = cast<IntegerType>(cast<RankedTensorType>(quantize.getType()).getElementType());
    auto inputType = cast<RankedTensorType>(quantize.getInput().getType());
    if (!inputType.getElementType().isF32() || to.getWidth() > 16)
      return failure();
    SmallVector<DequantizeLinearOp> inverses;
    for (Operation *user : quantize->getUsers())
      if (auto op = dyn_cast<DequantizeLinearOp>(user); op && isInverse(quantize, op))
        inverses.push_back(op);
    if (inverses.empty())
      return failure();
    for (DequantizeLinearOp op : inverses) {
      rewriter.setInsertionPoint(op);
      Value result = buildQuantGeneric(
          rewriter, op, inputType,
          [&](OpBuilder &b, Location l, ValueRange a) -> Value {
            Type f32 = b.getF32Type();
            Value v = quantizedAsFloat(b, l, a, to, f32);
            if (a.size() > 2)
              v = arith::SubFOp::create(b, l, v, intToFloat(b, l, a[2], to, f32));
            return arith::MulFOp::create(b, l, v, a[1]);
          },
          quantize.getInput());
      rewriter.replaceOp(op, result);
    }
    if (quantize->use_empty())
      rewriter.eraseOp(quantize);
    return success();
  }
};

} // namespace

void mlir::kiln::lowering::populateQuantizationLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<DequantizeToGeneric, QuantizeToGeneric>(patterns.getContext());
  patterns.add<FakeQuantizeToGeneric>(patterns.getContext(), /*benefit=*/2);
}
