//===- ElementwiseToLinalg.cpp - Elementwise kiln ops to linalg.generic ---===//
//
// One pattern template serves every elementwise op: it builds a parallel
// linalg.generic whose indexing maps broadcast each operand the ONNX way, and
// asks `scalarFor(op, ...)` for the body's arithmetic.
//
// arith works on signless integers only. Unsigned tensors (ONNX uint8 ..
// uint64) keep their types (the function signature and buffers carry them);
// the body casts each unsigned element to the signless integer of its width
// and back (builtin.unrealized_conversion_cast: both sides become the same
// LLVM integer, and reconcile-unrealized-casts removes the pair), and uses
// the unsigned forms (divui, remui, maxui, ult, uitofp, extui, ...) where
// signedness matters. tensor.bitcast would say the same at the tensor level
// but has no bufferization.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/APSInt.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

namespace {

/// Scalar arithmetic on the element values `a` (one per operand, signless);
/// `result` is the (signless) result element type. `unsignedOperands` and
/// `unsignedResult` say the kiln op's operands (result) were unsigned.
struct Scalar {
  OpBuilder &b;
  Location loc;
  Type result;
  bool unsignedOperands = false;
  bool unsignedResult = false;
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
/// An integer divisor that does not trap: 1 where `y` is 0 (the run fails
/// its division-by-zero check then, see ElementwiseToGeneric) and, signed,
/// where x / y overflows (INT_MIN / -1: the quotient is INT_MIN, as numpy's,
/// and the remainder 0).
Value nonTrappingDivisor(Scalar s, Value x, Value y) {
  Type type = y.getType();
  Value one = s.constant(type, 1);
  auto eq = [&](Value l, Value r) {
    return arith::CmpIOp::create(s.b, s.loc, arith::CmpIPredicate::eq, l, r).getResult();
  };
  Value replace = eq(y, s.constant(type, 0));
  if (!s.unsignedOperands) {
    unsigned width = type.getIntOrFloatBitWidth();
    Value minimum = arith::ConstantOp::create(
        s.b, s.loc, IntegerAttr::get(type, APInt::getSignedMinValue(width)));
    Value overflows =
        arith::AndIOp::create(s.b, s.loc, eq(x, minimum), eq(y, s.constant(type, -1)));
    replace = arith::OrIOp::create(s.b, s.loc, replace, overflows);
  }
  return arith::SelectOp::create(s.b, s.loc, replace, one, y);
}

Value scalarFor(DivOp, Scalar s, ValueRange a) {
  if (s.isFloat(a[0]))
    return arith::DivFOp::create(s.b, s.loc, a[0], a[1]);
  Value y = nonTrappingDivisor(s, a[0], a[1]);
  return s.unsignedOperands ? (Value)arith::DivUIOp::create(s.b, s.loc, a[0], y)
                            : (Value)arith::DivSIOp::create(s.b, s.loc, a[0], y);
}
Value scalarFor(ModOp op, Scalar s, ValueRange a) {
  if (s.isFloat(a[0]))
    return arith::RemFOp::create(s.b, s.loc, a[0], a[1]);
  Value y = nonTrappingDivisor(s, a[0], a[1]);
  // Unsigned remainders are never negative: fmod or not, the same value.
  if (s.unsignedOperands)
    return arith::RemUIOp::create(s.b, s.loc, a[0], y);
  Value r = arith::RemSIOp::create(s.b, s.loc, a[0], y);
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
/// max and min: NaN-propagating for floats, by signedness for integers.
Value maximum(Scalar s, Value x, Value y) {
  if (s.isFloat(x))
    return arith::MaximumFOp::create(s.b, s.loc, x, y);
  return s.unsignedOperands ? (Value)arith::MaxUIOp::create(s.b, s.loc, x, y)
                            : (Value)arith::MaxSIOp::create(s.b, s.loc, x, y);
}
Value minimum(Scalar s, Value x, Value y) {
  if (s.isFloat(x))
    return arith::MinimumFOp::create(s.b, s.loc, x, y);
  return s.unsignedOperands ? (Value)arith::MinUIOp::create(s.b, s.loc, x, y)
                            : (Value)arith::MinSIOp::create(s.b, s.loc, x, y);
}
Value scalarFor(MaxOp, Scalar s, ValueRange a) { return maximum(s, a[0], a[1]); }
Value scalarFor(MinOp, Scalar s, ValueRange a) { return minimum(s, a[0], a[1]); }

/// Comparisons: the ordered float predicate (false on NaN) or the signed
/// integer one (unsigned integers and i1 compare as unsigned, so that
/// true > false).
Value compare(Scalar s, ValueRange a, arith::CmpFPredicate f, arith::CmpIPredicate si,
              arith::CmpIPredicate ui) {
  if (s.isFloat(a[0]))
    return arith::CmpFOp::create(s.b, s.loc, f, a[0], a[1]);
  bool asUnsigned = s.unsignedOperands || a[0].getType().isInteger(1);
  return arith::CmpIOp::create(s.b, s.loc, asUnsigned ? ui : si, a[0], a[1]);
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
  if (s.unsignedOperands)
    return a[0];
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
    // Neither: 0 for either zero, NaN for NaN (numpy's, onnxruntime's).
    Value isNaN = arith::CmpFOp::create(s.b, s.loc, arith::CmpFPredicate::UNO, a[0], a[0]);
    zero = arith::SelectOp::create(s.b, s.loc, isNaN, a[0], zero);
  } else if (s.unsignedOperands) {
    pos = arith::CmpIOp::create(s.b, s.loc, arith::CmpIPredicate::ne, a[0], zero);
    return arith::SelectOp::create(s.b, s.loc, pos, one, zero);
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
Value scalarFor(TanOp, Scalar s, ValueRange a) { return math::TanOp::create(s.b, s.loc, a[0]); }
Value scalarFor(AsinOp, Scalar s, ValueRange a) { return math::AsinOp::create(s.b, s.loc, a[0]); }
Value scalarFor(AcosOp, Scalar s, ValueRange a) { return math::AcosOp::create(s.b, s.loc, a[0]); }
Value scalarFor(AtanOp, Scalar s, ValueRange a) { return math::AtanOp::create(s.b, s.loc, a[0]); }
Value scalarFor(SinhOp, Scalar s, ValueRange a) { return math::SinhOp::create(s.b, s.loc, a[0]); }
Value scalarFor(CoshOp, Scalar s, ValueRange a) { return math::CoshOp::create(s.b, s.loc, a[0]); }
Value scalarFor(AsinhOp, Scalar s, ValueRange a) { return math::AsinhOp::create(s.b, s.loc, a[0]); }
Value scalarFor(AcoshOp, Scalar s, ValueRange a) { return math::AcoshOp::create(s.b, s.loc, a[0]); }
Value scalarFor(AtanhOp, Scalar s, ValueRange a) { return math::AtanhOp::create(s.b, s.loc, a[0]); }
Value scalarFor(SoftsignOp, Scalar s, ValueRange a) {
  Value d = arith::AddFOp::create(s.b, s.loc, s.constant(a[0].getType(), 1),
                                  math::AbsFOp::create(s.b, s.loc, a[0]));
  return arith::DivFOp::create(s.b, s.loc, a[0], d);
}
/// log(1 + e^x) as max(x, 0) + log1p(e^-|x|), which neither overflows nor
/// loses small values.
Value softplus(Scalar s, Value x) {
  Type t = x.getType();
  Value negAbs = arith::NegFOp::create(s.b, s.loc, math::AbsFOp::create(s.b, s.loc, x));
  Value tail = math::Log1pOp::create(s.b, s.loc, math::ExpOp::create(s.b, s.loc, negAbs));
  return arith::AddFOp::create(s.b, s.loc,
                               arith::MaximumFOp::create(s.b, s.loc, x, s.constant(t, 0)), tail);
}
Value scalarFor(SoftplusOp, Scalar s, ValueRange a) { return softplus(s, a[0]); }
Value scalarFor(MishOp, Scalar s, ValueRange a) {
  return arith::MulFOp::create(s.b, s.loc, a[0],
                               math::TanhOp::create(s.b, s.loc, softplus(s, a[0])));
}
/// max(0, min(1, alpha * x + beta))
Value hardSigmoid(Scalar s, Value x, double alpha, double beta) {
  Type t = x.getType();
  Value y = arith::AddFOp::create(
      s.b, s.loc, arith::MulFOp::create(s.b, s.loc, x, s.constant(t, alpha)), s.constant(t, beta));
  y = arith::MinimumFOp::create(s.b, s.loc, y, s.constant(t, 1));
  return arith::MaximumFOp::create(s.b, s.loc, y, s.constant(t, 0));
}
Value scalarFor(HardSigmoidOp op, Scalar s, ValueRange a) {
  return hardSigmoid(s, a[0], op.getAlpha().convertToDouble(), op.getBeta().convertToDouble());
}
Value scalarFor(HardSwishOp, Scalar s, ValueRange a) {
  return arith::MulFOp::create(s.b, s.loc, a[0], hardSigmoid(s, a[0], 1.0 / 6.0, 0.5));
}
/// x < 0 ? alpha * (e^x - 1) : x (Selu uses x <= 0; the same at 0).
Value elu(Scalar s, Value x, double alpha) {
  Type t = x.getType();
  Value em1 = math::ExpM1Op::create(s.b, s.loc, x);
  Value neg = arith::CmpFOp::create(s.b, s.loc, arith::CmpFPredicate::OLT, x, s.constant(t, 0));
  return arith::SelectOp::create(s.b, s.loc, neg,
                                 arith::MulFOp::create(s.b, s.loc, em1, s.constant(t, alpha)), x);
}
Value scalarFor(EluOp op, Scalar s, ValueRange a) {
  return elu(s, a[0], op.getAlpha().convertToDouble());
}
Value scalarFor(SeluOp op, Scalar s, ValueRange a) {
  Value e = elu(s, a[0], op.getAlpha().convertToDouble());
  return arith::MulFOp::create(s.b, s.loc, e,
                               s.constant(a[0].getType(), op.getGamma().convertToDouble()));
}
Value scalarFor(ThresholdedReluOp op, Scalar s, ValueRange a) {
  Type t = a[0].getType();
  Value above = arith::CmpFOp::create(s.b, s.loc, arith::CmpFPredicate::OGT, a[0],
                                      s.constant(t, op.getAlpha().convertToDouble()));
  return arith::SelectOp::create(s.b, s.loc, above, a[0], s.constant(t, 0));
}
Value scalarFor(PReluOp, Scalar s, ValueRange a) {
  Type t = a[0].getType();
  Value zero = s.constant(t, 0), neg, scaled;
  if (s.isFloat(a[0])) {
    neg = arith::CmpFOp::create(s.b, s.loc, arith::CmpFPredicate::OLT, a[0], zero);
    scaled = arith::MulFOp::create(s.b, s.loc, a[0], a[1]);
  } else {
    // Unsigned inputs are never negative.
    neg = arith::CmpIOp::create(s.b, s.loc,
                                s.unsignedOperands ? arith::CmpIPredicate::ult
                                                   : arith::CmpIPredicate::slt,
                                a[0], zero);
    scaled = arith::MulIOp::create(s.b, s.loc, a[0], a[1]);
  }
  return arith::SelectOp::create(s.b, s.loc, neg, scaled, a[0]);
}
Value scalarFor(BitwiseAndOp, Scalar s, ValueRange a) {
  return arith::AndIOp::create(s.b, s.loc, a[0], a[1]);
}
Value scalarFor(BitwiseOrOp, Scalar s, ValueRange a) {
  return arith::OrIOp::create(s.b, s.loc, a[0], a[1]);
}
Value scalarFor(BitwiseXorOp, Scalar s, ValueRange a) {
  return arith::XOrIOp::create(s.b, s.loc, a[0], a[1]);
}
/// x << y or x >> y (logical: ONNX shifts unsigned integers only); a
/// shift by the bit width or more gives 0, where arith's would be poison.
Value scalarFor(BitShiftOp op, Scalar s, ValueRange a) {
  Value shifted = op.getLeft() ? (Value)arith::ShLIOp::create(s.b, s.loc, a[0], a[1])
                               : (Value)arith::ShRUIOp::create(s.b, s.loc, a[0], a[1]);
  Type type = a[0].getType();
  Value width = s.constant(type, type.getIntOrFloatBitWidth());
  Value tooFar = arith::CmpIOp::create(s.b, s.loc, arith::CmpIPredicate::uge, a[1], width);
  return arith::SelectOp::create(s.b, s.loc, tooFar, s.constant(type, 0), shifted);
}
Value scalarFor(BitwiseNotOp, Scalar s, ValueRange a) {
  return arith::XOrIOp::create(s.b, s.loc, a[0], s.constant(a[0].getType(), -1));
}
Value scalarFor(IsNaNOp, Scalar s, ValueRange a) {
  return arith::CmpFOp::create(s.b, s.loc, arith::CmpFPredicate::UNO, a[0], a[0]);
}
Value scalarFor(IsInfOp op, Scalar s, ValueRange a) {
  auto type = cast<FloatType>(a[0].getType());
  auto inf = [&](bool negative) -> Value {
    return arith::ConstantOp::create(
        s.b, s.loc, FloatAttr::get(type, APFloat::getInf(type.getFloatSemantics(), negative)));
  };
  auto equals = [&](Value v) {
    return arith::CmpFOp::create(s.b, s.loc, arith::CmpFPredicate::OEQ, a[0], v);
  };
  Value result = s.constant(s.b.getI1Type(), 0);
  if (op.getDetectPositive())
    result = arith::OrIOp::create(s.b, s.loc, result, equals(inf(false)));
  if (op.getDetectNegative())
    result = arith::OrIOp::create(s.b, s.loc, result, equals(inf(true)));
  return result;
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
  return maximum(s, a[0], s.constant(a[0].getType(), 0));
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
/// A clip bound as a constant of the element type `t`; integer bounds
/// saturate to the type's range (so that uint64 bounds above 2^63 and
/// negative bounds of unsigned types keep their meaning).
Value clipBound(Scalar s, Type t, double bound) {
  auto intType = dyn_cast<IntegerType>(t);
  if (!intType)
    return s.constant(t, bound);
  unsigned width = intType.getWidth();
  APSInt value(width, /*isUnsigned=*/s.unsignedOperands);
  bool exact;
  APFloat(bound).convertToInteger(value, APFloat::rmTowardZero, &exact);
  return arith::ConstantOp::create(s.b, s.loc, IntegerAttr::get(t, value));
}
Value scalarFor(ClipOp op, Scalar s, ValueRange a) {
  Value v = a[0];
  Type t = v.getType();
  if (auto lo = op.getMin())
    v = maximum(s, v, clipBound(s, t, lo->convertToDouble()));
  if (auto hi = op.getMax())
    v = minimum(s, v, clipBound(s, t, hi->convertToDouble()));
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
  // Bools and unsigned sources extend with zeros, signed ones with the sign.
  bool fromUnsigned = fromInt && (fromInt.getWidth() == 1 || s.unsignedOperands);
  if (fromInt && toInt) {
    if (fromInt.getWidth() == toInt.getWidth())
      return v; // a signedness change only: the same bits
    if (fromInt.getWidth() < toInt.getWidth())
      return fromUnsigned ? (Value)arith::ExtUIOp::create(s.b, s.loc, to, v)
                          : (Value)arith::ExtSIOp::create(s.b, s.loc, to, v);
    return arith::TruncIOp::create(s.b, s.loc, to, v);
  }
  if (fromInt)
    return fromUnsigned ? (Value)arith::UIToFPOp::create(s.b, s.loc, to, v)
                        : (Value)arith::SIToFPOp::create(s.b, s.loc, to, v);
  if (toInt)
    return s.unsignedResult ? (Value)arith::FPToUIOp::create(s.b, s.loc, to, v)
                            : (Value)arith::FPToSIOp::create(s.b, s.loc, to, v);
  if (from.getIntOrFloatBitWidth() < to.getIntOrFloatBitWidth())
    return arith::ExtFOp::create(s.b, s.loc, to, v);
  return arith::TruncFOp::create(s.b, s.loc, to, v);
}

/// Floats and signless or unsigned integers (ONNX has no `si` types).
bool isLowerableElement(Type type) {
  auto intType = dyn_cast<IntegerType>(type);
  return isa<FloatType>(type) || (intType && !intType.isSigned());
}


/// Integer Div and Mod by zero fail the run (ONNX leaves them undefined;
/// the hardware traps): one reduction over the divisor, which in the graphs
/// Kiln targets is a shape computation's few elements.
void checkNonZeroDivisor(PatternRewriter &rewriter, Location loc, Operation *op) {
  Value divisor = op->getOperand(1);
  auto type = cast<RankedTensorType>(divisor.getType());
  if (!isa<IntegerType>(type.getElementType()))
    return;
  if (type.hasStaticShape() && type.getNumElements() == 0)
    return;
  Value failed =
      anyElement(rewriter, loc, divisor, [&](OpBuilder &b, Location l, Value element) {
        Value v = reinterpret(b, l, element, signless(element.getType()));
        Value zero = arith::ConstantOp::create(b, l, b.getZeroAttr(v.getType()));
        return arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, v, zero).getResult();
      });
  emitRuntimeCheck(rewriter, loc, failed,
                   describeNode(loc, op->getName().stripDialect()) +
                       ": integer division by zero");
}

template <typename OpTy>
struct ElementwiseToGeneric : OpRewritePattern<OpTy> {
  ElementwiseToGeneric(MLIRContext *context, BroadcastCopies copies)
      : OpRewritePattern<OpTy>(context), copies(copies) {}

  LogicalResult matchAndRewrite(OpTy op, PatternRewriter &rewriter) const override {
    auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
    for (Value v : op->getOperands())
      if (!isLowerableElement(cast<RankedTensorType>(v.getType()).getElementType()))
        return rewriter.notifyMatchFailure(op, "signed (si) element types are not lowered");
    if (!isLowerableElement(resultType.getElementType()))
      return rewriter.notifyMatchFailure(op, "signed (si) element types are not lowered");
    Location loc = op.getLoc();
    bool unsignedOperands = llvm::any_of(op->getOperandTypes(), isUnsignedElement);
    RunTimeBroadcast broadcast =
        broadcastAtRunTime(rewriter, loc, op->getName().stripDialect(), op->getOperands(),
                           resultType, /*firstIsOutputSize=*/false, copies);
    if constexpr (std::is_same_v<OpTy, DivOp> || std::is_same_v<OpTy, ModOp>)
      checkNonZeroDivisor(rewriter, loc, op);
    Value init = emptyWithDims(rewriter, loc, resultType, broadcast.resultDims);
    SmallVector<AffineMap> maps;
    for (Value v : broadcast.operands)
      maps.push_back(broadcastMap(op.getContext(), cast<RankedTensorType>(v.getType()),
                                  resultType));
    maps.push_back(rewriter.getMultiDimIdentityMap(resultType.getRank()));
    Type element = resultType.getElementType();
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{resultType}, broadcast.operands, ValueRange{init}, maps,
        parallelIterators(resultType.getRank()),
        [&](OpBuilder &b, Location nested, ValueRange args) {
          SmallVector<Value> elements;
          for (Value arg : args.drop_back())
            elements.push_back(reinterpret(b, nested, arg, signless(arg.getType())));
          Scalar s{b, nested, signless(element), unsignedOperands, isUnsignedElement(element)};
          Value v = scalarFor(op, s, elements);
          linalg::YieldOp::create(b, nested, reinterpret(b, nested, v, element));
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }

  BroadcastCopies copies;
};

} // namespace

void mlir::kiln::lowering::populateElementwiseLoweringPatterns(RewritePatternSet &patterns,
                                                               BroadcastCopies copies) {
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
               ElementwiseToGeneric<ClipOp>, ElementwiseToGeneric<CastOp>,
               ElementwiseToGeneric<TanOp>, ElementwiseToGeneric<AsinOp>,
               ElementwiseToGeneric<AcosOp>, ElementwiseToGeneric<AtanOp>,
               ElementwiseToGeneric<SinhOp>, ElementwiseToGeneric<CoshOp>,
               ElementwiseToGeneric<AsinhOp>, ElementwiseToGeneric<AcoshOp>,
               ElementwiseToGeneric<AtanhOp>, ElementwiseToGeneric<SoftsignOp>,
               ElementwiseToGeneric<SoftplusOp>, ElementwiseToGeneric<MishOp>,
               ElementwiseToGeneric<HardSigmoidOp>, ElementwiseToGeneric<HardSwishOp>,
               ElementwiseToGeneric<EluOp>, ElementwiseToGeneric<SeluOp>,
               ElementwiseToGeneric<ThresholdedReluOp>, ElementwiseToGeneric<PReluOp>,
               ElementwiseToGeneric<BitwiseAndOp>, ElementwiseToGeneric<BitwiseOrOp>,
               ElementwiseToGeneric<BitwiseXorOp>, ElementwiseToGeneric<BitwiseNotOp>,
               ElementwiseToGeneric<BitShiftOp>,
               ElementwiseToGeneric<IsNaNOp>, ElementwiseToGeneric<IsInfOp>>(
      patterns.getContext(), copies);
}
