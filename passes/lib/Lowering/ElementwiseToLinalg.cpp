//===- ElementwiseToLinalg.cpp - Elementwise kiln ops to linalg.generic ---===//
//
// One pattern template serves every elementwise op: it builds a parallel
// linalg.generic whose indexing maps broadcast each operand the ONNX way, and
// asks `scalarFor(op, ...)` for the body's arithmetic.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

namespace {

/// Scalar arithmetic on the element values `a` (one per operand); `result`
/// is the result element type.
struct Scalar {
  OpBuilder &b;
  Location loc;
  Type result;
  bool isFloat(Value v) const { return isa<FloatType>(v.getType()); }
  Value constant(Type type, double v) const { return scalarConstant(b, loc, type, v); }
};

Value scalarFor(AddOp, Scalar s, ValueRange a) {
  return s.isFloat(a[0]) ? (Value)arith::AddFOp::create(s.b, s.loc, a[0], a[1])
                         : (Value)arith::AddIOp::create(s.b, s.loc, a[0], a[1]);
}
Value scalarFor(SubOp, Scalar s, ValueRange a) {
  return s.isFloat(a[0]) ? (Value)arith::SubFOp::create(s.b, s.loc, a[0], a[1])
                         : (Value)arith::SubIOp::create(s.b, s.loc, a[0], a[1]);
}
Value scalarFor(MulOp, Scalar s, ValueRange a) {
  return s.isFloat(a[0]) ? (Value)arith::MulFOp::create(s.b, s.loc, a[0], a[1])
                         : (Value)arith::MulIOp::create(s.b, s.loc, a[0], a[1]);
}
Value scalarFor(DivOp, Scalar s, ValueRange a) {
  return s.isFloat(a[0]) ? (Value)arith::DivFOp::create(s.b, s.loc, a[0], a[1])
                         : (Value)arith::DivSIOp::create(s.b, s.loc, a[0], a[1]);
}
Value scalarFor(ModOp op, Scalar s, ValueRange a) {
  if (s.isFloat(a[0]))
    return arith::RemFOp::create(s.b, s.loc, a[0], a[1]);
  Value r = arith::RemSIOp::create(s.b, s.loc, a[0], a[1]);
  if (op.getFmod())
    return r;
  // Python-style: a non-zero remainder takes the divisor's sign.
  Value zero = s.constant(r.getType(), 0);
  Value nonZero = arith::CmpIOp::create(s.b, s.loc, arith::CmpIPredicate::ne, r, zero);
  Value rNeg = arith::CmpIOp::create(s.b, s.loc, arith::CmpIPredicate::slt, r, zero);
  Value dNeg = arith::CmpIOp::create(s.b, s.loc, arith::CmpIPredicate::slt, a[1], zero);
  Value differ = arith::XOrIOp::create(s.b, s.loc, rNeg, dNeg);
  Value fix = arith::AndIOp::create(s.b, s.loc, nonZero, differ);
  Value adjusted = arith::AddIOp::create(s.b, s.loc, r, a[1]);
  return arith::SelectOp::create(s.b, s.loc, fix, adjusted, r);
}
Value scalarFor(PowOp, Scalar s, ValueRange a) {
  return s.isFloat(a[0]) ? (Value)math::PowFOp::create(s.b, s.loc, a[0], a[1])
                         : (Value)math::IPowIOp::create(s.b, s.loc, a[0], a[1]);
}
Value scalarFor(MaxOp, Scalar s, ValueRange a) {
  return s.isFloat(a[0]) ? (Value)arith::MaximumFOp::create(s.b, s.loc, a[0], a[1])
                         : (Value)arith::MaxSIOp::create(s.b, s.loc, a[0], a[1]);
}
Value scalarFor(MinOp, Scalar s, ValueRange a) {
  return s.isFloat(a[0]) ? (Value)arith::MinimumFOp::create(s.b, s.loc, a[0], a[1])
                         : (Value)arith::MinSIOp::create(s.b, s.loc, a[0], a[1]);
}

/// Comparisons: the ordered float predicate (false on NaN) or the signed
/// integer one (i1 compares as unsigned so that true > false).
Value compare(Scalar s, ValueRange a, arith::CmpFPredicate f, arith::CmpIPredicate si,
              arith::CmpIPredicate ui) {
  if (s.isFloat(a[0]))
    return arith::CmpFOp::create(s.b, s.loc, f, a[0], a[1]);
  bool isBool = a[0].getType().isInteger(1);
  return arith::CmpIOp::create(s.b, s.loc, isBool ? ui : si, a[0], a[1]);
}
Value scalarFor(EqualOp, Scalar s, ValueRange a) {
  return compare(s, a, arith::CmpFPredicate::OEQ, arith::CmpIPredicate::eq,
                 arith::CmpIPredicate::eq);
}
Value scalarFor(LessOp, Scalar s, ValueRange a) {
  return compare(s, a, arith::CmpFPredicate::OLT, arith::CmpIPredicate::slt,
                 arith::CmpIPredicate::ult);
}
Value scalarFor(LessEqualOp, Scalar s, ValueRange a) {
  return compare(s, a, arith::CmpFPredicate::OLE, arith::CmpIPredicate::sle,
                 arith::CmpIPredicate::ule);
}
Value scalarFor(GreaterOp, Scalar s, ValueRange a) {
  return compare(s, a, arith::CmpFPredicate::OGT, arith::CmpIPredicate::sgt,
                 arith::CmpIPredicate::ugt);
}
Value scalarFor(GreaterEqualOp, Scalar s, ValueRange a) {
  return compare(s, a, arith::CmpFPredicate::OGE, arith::CmpIPredicate::sge,
                 arith::CmpIPredicate::uge);
}
Value scalarFor(AndOp, Scalar s, ValueRange a) {
  return arith::AndIOp::create(s.b, s.loc, a[0], a[1]);
}
Value scalarFor(OrOp, Scalar s, ValueRange a) {
  return arith::OrIOp::create(s.b, s.loc, a[0], a[1]);
}
Value scalarFor(XorOp, Scalar s, ValueRange a) {
  return arith::XOrIOp::create(s.b, s.loc, a[0], a[1]);
}
Value scalarFor(WhereOp, Scalar s, ValueRange a) {
  return arith::SelectOp::create(s.b, s.loc, a[0], a[1], a[2]);
}

Value scalarFor(NegOp, Scalar s, ValueRange a) {
  if (s.isFloat(a[0]))
    return arith::NegFOp::create(s.b, s.loc, a[0]);
  return arith::SubIOp::create(s.b, s.loc, s.constant(a[0].getType(), 0), a[0]);
}
Value scalarFor(AbsOp, Scalar s, ValueRange a) {
  return s.isFloat(a[0]) ? (Value)math::AbsFOp::create(s.b, s.loc, a[0])
                         : (Value)math::AbsIOp::create(s.b, s.loc, a[0]);
}
Value scalarFor(SignOp, Scalar s, ValueRange a) {
  Type t = a[0].getType();
  Value zero = s.constant(t, 0), one = s.constant(t, 1), minusOne = s.constant(t, -1);
  Value pos, neg;
  if (s.isFloat(a[0])) {
    pos = arith::CmpFOp::create(s.b, s.loc, arith::CmpFPredicate::OGT, a[0], zero);
    neg = arith::CmpFOp::create(s.b, s.loc, arith::CmpFPredicate::OLT, a[0], zero);
  } else {
    pos = arith::CmpIOp::create(s.b, s.loc, arith::CmpIPredicate::sgt, a[0], zero);
    neg = arith::CmpIOp::create(s.b, s.loc, arith::CmpIPredicate::slt, a[0], zero);
  }
  Value r = arith::SelectOp::create(s.b, s.loc, neg, minusOne, zero);
  return arith::SelectOp::create(s.b, s.loc, pos, one, r);
}
Value scalarFor(ExpOp, Scalar s, ValueRange a) { return math::ExpOp::create(s.b, s.loc, a[0]); }
Value scalarFor(LogOp, Scalar s, ValueRange a) { return math::LogOp::create(s.b, s.loc, a[0]); }
Value scalarFor(SqrtOp, Scalar s, ValueRange a) { return math::SqrtOp::create(s.b, s.loc, a[0]); }
Value scalarFor(ErfOp, Scalar s, ValueRange a) { return math::ErfOp::create(s.b, s.loc, a[0]); }
Value scalarFor(TanhOp, Scalar s, ValueRange a) { return math::TanhOp::create(s.b, s.loc, a[0]); }
Value scalarFor(SinOp, Scalar s, ValueRange a) { return math::SinOp::create(s.b, s.loc, a[0]); }
Value scalarFor(CosOp, Scalar s, ValueRange a) { return math::CosOp::create(s.b, s.loc, a[0]); }
Value scalarFor(FloorOp, Scalar s, ValueRange a) { return math::FloorOp::create(s.b, s.loc, a[0]); }
Value scalarFor(CeilOp, Scalar s, ValueRange a) { return math::CeilOp::create(s.b, s.loc, a[0]); }
Value scalarFor(RoundOp, Scalar s, ValueRange a) {
  return math::RoundEvenOp::create(s.b, s.loc, a[0]);
}
Value scalarFor(ReciprocalOp, Scalar s, ValueRange a) {
  return arith::DivFOp::create(s.b, s.loc, s.constant(a[0].getType(), 1), a[0]);
}
Value scalarFor(SigmoidOp, Scalar s, ValueRange a) {
  Type t = a[0].getType();
  Value e = math::ExpOp::create(s.b, s.loc, arith::NegFOp::create(s.b, s.loc, a[0]));
  Value d = arith::AddFOp::create(s.b, s.loc, s.constant(t, 1), e);
  return arith::DivFOp::create(s.b, s.loc, s.constant(t, 1), d);
}
Value scalarFor(ReluOp, Scalar s, ValueRange a) {
  Value zero = s.constant(a[0].getType(), 0);
  return s.isFloat(a[0]) ? (Value)arith::MaximumFOp::create(s.b, s.loc, a[0], zero)
                         : (Value)arith::MaxSIOp::create(s.b, s.loc, a[0], zero);
}
Value scalarFor(NotOp, Scalar s, ValueRange a) {
  return arith::XOrIOp::create(s.b, s.loc, a[0], s.constant(a[0].getType(), 1));
}
Value scalarFor(LeakyReluOp op, Scalar s, ValueRange a) {
  Type t = a[0].getType();
  Value scaled = arith::MulFOp::create(
      s.b, s.loc, a[0], s.constant(t, op.getAlpha().convertToDouble()));
  Value neg = arith::CmpFOp::create(s.b, s.loc, arith::CmpFPredicate::OLT, a[0],
                                    s.constant(t, 0));
  return arith::SelectOp::create(s.b, s.loc, neg, scaled, a[0]);
}
Value scalarFor(GeluOp op, Scalar s, ValueRange a) {
  Type t = a[0].getType();
  Value x = a[0], half = s.constant(t, 0.5), one = s.constant(t, 1);
  Value inner;
  if (op.getApproximate() == "tanh") {
    // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    Value x3 = arith::MulFOp::create(s.b, s.loc, x, arith::MulFOp::create(s.b, s.loc, x, x));
    Value poly = arith::AddFOp::create(
        s.b, s.loc, x, arith::MulFOp::create(s.b, s.loc, s.constant(t, 0.044715), x3));
    Value scaled = arith::MulFOp::create(s.b, s.loc, s.constant(t, 0.7978845608028654), poly);
    inner = math::TanhOp::create(s.b, s.loc, scaled);
  } else {
    // 0.5 x (1 + erf(x / sqrt(2)))
    Value scaled = arith::MulFOp::create(s.b, s.loc, x, s.constant(t, 0.7071067811865476));
    inner = math::ErfOp::create(s.b, s.loc, scaled);
  }
  Value sum = arith::AddFOp::create(s.b, s.loc, one, inner);
  return arith::MulFOp::create(s.b, s.loc, arith::MulFOp::create(s.b, s.loc, half, x), sum);
}
Value scalarFor(ClipOp op, Scalar s, ValueRange a) {
  Value v = a[0];
  Type t = v.getType();
  if (auto lo = op.getMin()) {
    Value bound = s.constant(t, lo->convertToDouble());
    v = s.isFloat(v) ? (Value)arith::MaximumFOp::create(s.b, s.loc, v, bound)
                     : (Value)arith::MaxSIOp::create(s.b, s.loc, v, bound);
  }
  if (auto hi = op.getMax()) {
    Value bound = s.constant(t, hi->convertToDouble());
    v = s.isFloat(v) ? (Value)arith::MinimumFOp::create(s.b, s.loc, v, bound)
                     : (Value)arith::MinSIOp::create(s.b, s.loc, v, bound);
  }
  return v;
}
Value scalarFor(CastOp, Scalar s, ValueRange a) {
  Value v = a[0];
  Type from = v.getType(), to = s.result;
  if (from == to)
    return v;
  auto fromInt = dyn_cast<IntegerType>(from), toInt = dyn_cast<IntegerType>(to);
  if (toInt && toInt.getWidth() == 1) {
    // Anything non-zero is true.
    Value zero = s.constant(from, 0);
    if (fromInt)
      return arith::CmpIOp::create(s.b, s.loc, arith::CmpIPredicate::ne, v, zero);
    return arith::CmpFOp::create(s.b, s.loc, arith::CmpFPredicate::UNE, v, zero);
  }
  if (fromInt && toInt) {
    if (fromInt.getWidth() < toInt.getWidth())
      return fromInt.getWidth() == 1 ? (Value)arith::ExtUIOp::create(s.b, s.loc, to, v)
                                     : (Value)arith::ExtSIOp::create(s.b, s.loc, to, v);
    return arith::TruncIOp::create(s.b, s.loc, to, v);
  }
  if (fromInt)
    return fromInt.getWidth() == 1 ? (Value)arith::UIToFPOp::create(s.b, s.loc, to, v)
                                   : (Value)arith::SIToFPOp::create(s.b, s.loc, to, v);
  if (toInt)
    return arith::FPToSIOp::create(s.b, s.loc, to, v);
  if (from.getIntOrFloatBitWidth() < to.getIntOrFloatBitWidth())
    return arith::ExtFOp::create(s.b, s.loc, to, v);
  return arith::TruncFOp::create(s.b, s.loc, to, v);
}

/// Signless integers and floats only: arith has no unsigned integer types.
bool isLowerableElement(Type type) {
  auto intType = dyn_cast<IntegerType>(type);
  return isa<FloatType>(type) || (intType && intType.isSignless());
}

template <typename OpTy>
struct ElementwiseToGeneric : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(OpTy op, PatternRewriter &rewriter) const override {
    auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
    for (Value v : op->getOperands())
      if (!isLowerableElement(cast<RankedTensorType>(v.getType()).getElementType()))
        return rewriter.notifyMatchFailure(op, "unsigned element types are not lowered yet");
    if (!isLowerableElement(resultType.getElementType()))
      return rewriter.notifyMatchFailure(op, "unsigned element types are not lowered yet");
    Location loc = op.getLoc();
    Value init = emptyLike(rewriter, loc, resultType, op->getOperands());
    if (!init)
      return rewriter.notifyMatchFailure(op, "a dynamic result dim has no source");
    SmallVector<AffineMap> maps;
    for (Value v : op->getOperands())
      maps.push_back(broadcastMap(op.getContext(), cast<RankedTensorType>(v.getType()),
                                  resultType));
    maps.push_back(rewriter.getMultiDimIdentityMap(resultType.getRank()));
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{resultType}, op->getOperands(), ValueRange{init}, maps,
        parallelIterators(resultType.getRank()),
        [&](OpBuilder &b, Location nested, ValueRange args) {
          Scalar s{b, nested, resultType.getElementType()};
          Value v = scalarFor(op, s, args.drop_back());
          linalg::YieldOp::create(b, nested, v);
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

} // namespace

void mlir::kiln::lowering::populateElementwiseLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<ElementwiseToGeneric<AddOp>, ElementwiseToGeneric<SubOp>,
               ElementwiseToGeneric<MulOp>, ElementwiseToGeneric<DivOp>,
               ElementwiseToGeneric<ModOp>, ElementwiseToGeneric<PowOp>,
               ElementwiseToGeneric<MaxOp>, ElementwiseToGeneric<MinOp>,
               ElementwiseToGeneric<EqualOp>, ElementwiseToGeneric<LessOp>,
               ElementwiseToGeneric<LessEqualOp>, ElementwiseToGeneric<GreaterOp>,
               ElementwiseToGeneric<GreaterEqualOp>, ElementwiseToGeneric<AndOp>,
               ElementwiseToGeneric<OrOp>, ElementwiseToGeneric<XorOp>,
               ElementwiseToGeneric<WhereOp>, ElementwiseToGeneric<NegOp>,
               ElementwiseToGeneric<AbsOp>, ElementwiseToGeneric<SignOp>,
               ElementwiseToGeneric<ExpOp>, ElementwiseToGeneric<LogOp>,
               ElementwiseToGeneric<SqrtOp>, ElementwiseToGeneric<ErfOp>,
               ElementwiseToGeneric<TanhOp>, ElementwiseToGeneric<SinOp>,
               ElementwiseToGeneric<CosOp>, ElementwiseToGeneric<FloorOp>,
               ElementwiseToGeneric<CeilOp>, ElementwiseToGeneric<RoundOp>,
               ElementwiseToGeneric<ReciprocalOp>, ElementwiseToGeneric<SigmoidOp>,
               ElementwiseToGeneric<ReluOp>, ElementwiseToGeneric<NotOp>,
               ElementwiseToGeneric<LeakyReluOp>, ElementwiseToGeneric<GeluOp>,
               ElementwiseToGeneric<ClipOp>, ElementwiseToGeneric<CastOp>>(
      patterns.getContext());
}
