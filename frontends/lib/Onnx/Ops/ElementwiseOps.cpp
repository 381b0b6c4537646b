//===- ElementwiseOps.cpp - ONNX elementwise ops --------------------------===//

#include "../NodeImporter.h"
#include "../OnnxTensors.h"
#include "Composer.h"
#include "kiln/Dialect/Kiln/KilnShapeUtils.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::onnx_import;

/// A node whose single output is `op(input 0)`.
template <typename OpTy>
static LogicalResult importUnary(NodeImporter &n) {
  auto x = n.requiredInput(0);
  if (failed(x))
    return failure();
  return n.createOutput<OpTy>({*x});
}

/// A node whose single output is `op(input 0, input 1)`, broadcast.
template <typename OpTy>
static LogicalResult importBinary(NodeImporter &n) {
  auto lhs = n.requiredInput(0), rhs = n.requiredInput(1);
  if (failed(lhs) || failed(rhs))
    return failure();
  return n.createOutput<OpTy>({*lhs, *rhs});
}

/// Max, Min and Sum take one or more inputs: a left fold of the binary op.
template <typename OpTy>
static FailureOr<Value> foldVariadic(NodeImporter &n) {
  auto acc = n.requiredInput(0);
  if (failed(acc))
    return failure();
  Value result = *acc;
  for (size_t i = 1; i < n.numInputs(); ++i) {
    auto next = n.requiredInput(i);
    if (failed(next))
      return failure();
    auto combined = n.create<OpTy>({result, *next});
    if (failed(combined))
      return failure();
    result = *combined;
  }
  return result;
}

template <typename OpTy>
static LogicalResult importVariadic(NodeImporter &n) {
  auto result = foldVariadic<OpTy>(n);
  if (failed(result))
    return failure();
  n.setOutput(0, *result);
  return success();
}

static LogicalResult importMean(NodeImporter &n) {
  auto sum = foldVariadic<AddOp>(n);
  if (failed(sum))
    return failure();
  Type element = cast<RankedTensorType>(sum->getType()).getElementType();
  Value count = n.scalarConstant(element, (double)n.numInputs());
  auto mean = n.create<DivOp>({*sum, count});
  if (failed(mean))
    return failure();
  n.setOutput(0, *mean);
  return success();
}

static LogicalResult importMod(NodeImporter &n) {
  auto lhs = n.requiredInput(0), rhs = n.requiredInput(1);
  if (failed(lhs) || failed(rhs))
    return failure();
  bool fmod = n.intAttr("fmod", 0) != 0;
  if (!fmod && isa<FloatType>(n.inputType(0).getElementType())) {
    n.emitError() << "fmod=0 is only defined for integer inputs";
    return failure();
  }
  return n.createOutput<ModOp>({*lhs, *rhs}, {n.named("fmod", n.getBuilder().getBoolAttr(fmod))});
}

/// ONNX Pow allows an exponent of another type; kiln.pow wants one type.
static LogicalResult importPow(NodeImporter &n) {
  auto base = n.requiredInput(0), exponent = n.requiredInput(1);
  if (failed(base) || failed(exponent))
    return failure();
  Type element = n.inputType(0).getElementType();
  Value e = *exponent;
  if (n.inputType(1).getElementType() != element) {
    auto converted = n.create<CastOp>({e}, {n.named("to", TypeAttr::get(element))});
    if (failed(converted))
      return failure();
    e = *converted;
  }
  return n.createOutput<PowOp>({*base, e});
}

static LogicalResult importWhere(NodeImporter &n) {
  auto c = n.requiredInput(0), x = n.requiredInput(1), y = n.requiredInput(2);
  if (failed(c) || failed(x) || failed(y))
    return failure();
  return n.createOutput<WhereOp>({*c, *x, *y});
}

static LogicalResult importIdentity(NodeImporter &n) {
  auto x = n.requiredInput(0);
  if (failed(x))
    return failure();
  n.setOutput(0, *x);
  return success();
}

/// Dropout at inference: the identity, with an all-true mask. Kiln compiles
/// inference graphs, so training_mode must be absent or a constant false,
/// or true with a constant ratio of 0 (which drops nothing).
static LogicalResult importDropout(NodeImporter &n) {
  auto x = n.requiredInput(0);
  if (failed(x))
    return failure();
  if (Value training = n.input(2)) {
    DenseElementsAttr mode;
    if (!matchPattern(training, m_Constant(&mode)) || mode.getNumElements() != 1 ||
        !mode.getElementType().isInteger(1)) {
      n.emitError() << "input 'training_mode' must be a constant bool; Kiln "
                       "compiles inference graphs";
      return failure();
    }
    if (*mode.getValues<bool>().begin()) {
      // ratio defaults to 0.5.
      std::optional<SmallVector<double>> ratio;
      if (Value r = n.input(1))
        ratio = getConstantFloatValues(r);
      if (!ratio || ratio->size() != 1 || (*ratio)[0] != 0.0) {
        n.emitError() << "training_mode is true and ratio is not a constant 0; Kiln "
                         "compiles inference graphs (no random dropout)";
        return failure();
      }
    }
  }
  // Nothing is dropped, so the random seed draws nothing.
  n.attributeHasNoEffect("seed");
  n.setOutput(0, *x);
  if (!n.isOutputUsed(1))
    return success();
  Builder &b = n.getBuilder();
  auto shape = n.create<ShapeOp>(
      {*x}, {n.named("start", b.getI64IntegerAttr(0)),
             n.named("end", b.getI64IntegerAttr(n.inputType(0).getRank()))});
  if (failed(shape))
    return failure();
  auto mask = n.create<ConstantOfShapeOp>({*shape}, {n.named("value", b.getBoolAttr(true))});
  if (failed(mask))
    return failure();
  n.setOutput(1, *mask);
  return success();
}

static LogicalResult importBitShift(NodeImporter &n) {
  auto x = n.requiredInput(0), y = n.requiredInput(1);
  if (failed(x) || failed(y))
    return failure();
  std::string direction = n.stringAttr("direction", "");
  if (direction != "LEFT" && direction != "RIGHT") {
    n.emitError() << "direction must be LEFT or RIGHT, not '" << direction << "'";
    return failure();
  }
  if (!n.inputType(0).getElementType().isUnsignedInteger()) {
    n.emitError() << "shifts unsigned integers only, not " << n.inputType(0).getElementType();
    return failure();
  }
  return n.createOutput<BitShiftOp>(
      {*x, *y}, {n.named("left", n.getBuilder().getBoolAttr(direction == "LEFT"))});
}

static LogicalResult importLeakyRelu(NodeImporter &n) {
  auto x = n.requiredInput(0);
  if (failed(x))
    return failure();
  return n.createOutput<LeakyReluOp>(
      {*x}, {n.named("alpha", n.getBuilder().getF32FloatAttr(n.floatAttr("alpha", 0.01f)))});
}

/// A unary op whose float attributes `names` default to `defaults` (Elu's
/// alpha, Selu's alpha and gamma, HardSigmoid's alpha and beta, ...).
template <typename OpTy>
static LogicalResult importUnaryWithFloats(NodeImporter &n, ArrayRef<StringRef> names,
                                           ArrayRef<float> defaults) {
  auto x = n.requiredInput(0);
  if (failed(x))
    return failure();
  SmallVector<NamedAttribute> attrs;
  for (auto [name, value] : llvm::zip(names, defaults))
    attrs.push_back(n.named(name, n.getBuilder().getF32FloatAttr(n.floatAttr(name, value))));
  return n.createOutput<OpTy>({*x}, attrs);
}

/// Celu(x) = max(0, x) + min(0, alpha * (exp(x / alpha) - 1)), which is
/// alpha * Elu(x / alpha) with Elu's alpha 1.
static LogicalResult importCelu(NodeImporter &n) {
  auto x = n.requiredInput(0);
  if (failed(x))
    return failure();
  float alpha = n.floatAttr("alpha", 1.0f);
  if (alpha == 0.0f) {
    n.emitError() << "alpha must not be 0";
    return failure();
  }
  Composer c(n);
  Value scale = c.scalarLike(*x, alpha);
  Value elu = c.op<EluOp>({c.div(*x, scale)},
                          {c.named("alpha", c.builder().getF32FloatAttr(1.0f))});
  return c.output(0, c.mul(elu, scale));
}

/// Shrink: x + bias below -lambd, x - bias above lambd, 0 in between.
static LogicalResult importShrink(NodeImporter &n) {
  auto x = n.requiredInput(0);
  if (failed(x))
    return failure();
  float lambd = n.floatAttr("lambd", 0.5f), bias = n.floatAttr("bias", 0.0f);
  Composer c(n);
  Value below = c.op<LessOp>({*x, c.scalarLike(*x, -lambd)});
  Value above = c.op<GreaterOp>({*x, c.scalarLike(*x, lambd)});
  Value shifted = c.where(above, c.sub(*x, c.scalarLike(*x, bias)), c.scalarLike(*x, 0));
  return c.output(0, c.where(below, c.add(*x, c.scalarLike(*x, bias)), shifted));
}

static LogicalResult importIsInf(NodeImporter &n) {
  auto x = n.requiredInput(0);
  if (failed(x))
    return failure();
  Builder &b = n.getBuilder();
  return n.createOutput<IsInfOp>(
      {*x}, {n.named("detect_negative", b.getBoolAttr(n.intAttr("detect_negative", 1) != 0)),
             n.named("detect_positive", b.getBoolAttr(n.intAttr("detect_positive", 1) != 0))});
}

static LogicalResult importGelu(NodeImporter &n) {
  auto x = n.requiredInput(0);
  if (failed(x))
    return failure();
  std::string approximate = n.stringAttr("approximate", "none");
  if (approximate != "none" && approximate != "tanh") {
    n.emitError() << "approximate must be 'none' or 'tanh', got '" << approximate << "'";
    return failure();
  }
  return n.createOutput<GeluOp>(
      {*x}, {n.named("approximate", n.getBuilder().getStringAttr(approximate))});
}

/// The kiln.clip attribute `name` for Clip's constant bound input i, if given.
static FailureOr<std::optional<NamedAttribute>> clipBound(NodeImporter &n, size_t i,
                                                          StringRef name) {
  auto value = n.constantScalar(i, name);
  if (failed(value))
    return failure();
  if (!*value)
    return std::optional<NamedAttribute>();
  return std::optional(n.named(name, n.getBuilder().getF64FloatAttr(**value)));
}

/// Applies Clip's bound input i to `x`: OpTy (kiln.max for the lower bound,
/// kiln.min for the upper) when it is computed at run time, else kiln.clip.
template <typename OpTy>
static FailureOr<Value> applyClipBound(NodeImporter &n, Value x, size_t i, StringRef name) {
  Value limit = n.input(i);
  if (!limit)
    return x;
  if (!matchPattern(limit, m_Constant()))
    return n.create<OpTy>({x, limit});
  auto attr = clipBound(n, i, name);
  if (failed(attr))
    return failure();
  return n.create<ClipOp>({x}, {**attr});
}

/// Clip: bounds are optional inputs (attributes before opset 11). Constant
/// bounds become kiln.clip attributes. With a bound computed at run time the
/// lower bound is applied first, so that min > max gives max, as in ONNX.
static LogicalResult importClip(NodeImporter &n) {
  auto x = n.requiredInput(0);
  if (failed(x))
    return failure();
  auto isConstant = [&](size_t i) {
    return !n.input(i) || matchPattern(n.input(i), m_Constant());
  };
  if (isConstant(1) && isConstant(2)) {
    auto lower = clipBound(n, 1, "min"), upper = clipBound(n, 2, "max");
    if (failed(lower) || failed(upper))
      return failure();
    SmallVector<NamedAttribute> attrs;
    for (const std::optional<NamedAttribute> &attr : {*lower, *upper})
      if (attr)
        attrs.push_back(*attr);
    return n.createOutput<ClipOp>({*x}, attrs);
  }
  auto lower = applyClipBound<MaxOp>(n, *x, 1, "min");
  if (failed(lower))
    return failure();
  auto upper = applyClipBound<MinOp>(n, *lower, 2, "max");
  if (failed(upper))
    return failure();
  n.setOutput(0, *upper);
  return success();
}

static LogicalResult castTo(NodeImporter &n, Type to) {
  auto x = n.requiredInput(0);
  if (failed(x))
    return failure();
  // saturate (opset 19) only governs conversions to float8 types, which
  // Kiln does not have (getElementType has no such type).
  n.attributeHasNoEffect("saturate");
  return n.createOutput<CastOp>({*x}, {n.named("to", TypeAttr::get(to))});
}

static LogicalResult importCast(NodeImporter &n) {
  int64_t to = n.intAttr("to", 0);
  Type element = getElementType(n.getContext(), to);
  if (!element) {
    n.emitError() << "cannot cast to " << dataTypeName(to);
    return failure();
  }
  return castTo(n, element);
}

static LogicalResult importCastLike(NodeImporter &n) {
  if (!n.input(1)) {
    n.emitError() << "input 'target_type' is required";
    return failure();
  }
  return castTo(n, n.inputType(1).getElementType());
}

void mlir::kiln::onnx_import::registerElementwiseOps(llvm::StringMap<OpHandler> &t) {
  t["BitShift"] = importBitShift;
  t["Add"] = importBinary<AddOp>;
  t["Sub"] = importBinary<SubOp>;
  t["Mul"] = importBinary<MulOp>;
  t["Div"] = importBinary<DivOp>;
  t["Pow"] = importPow;
  t["Mod"] = importMod;
  t["Max"] = importVariadic<MaxOp>;
  t["Min"] = importVariadic<MinOp>;
  t["Sum"] = importVariadic<AddOp>;
  t["Mean"] = importMean;
  t["Equal"] = importBinary<EqualOp>;
  t["Less"] = importBinary<LessOp>;
  t["LessOrEqual"] = importBinary<LessEqualOp>;
  t["Greater"] = importBinary<GreaterOp>;
  t["GreaterOrEqual"] = importBinary<GreaterEqualOp>;
  t["And"] = importBinary<AndOp>;
  t["Or"] = importBinary<OrOp>;
  t["Xor"] = importBinary<XorOp>;
  t["Where"] = importWhere;
  t["PRelu"] = importBinary<PReluOp>;
  t["BitwiseAnd"] = importBinary<BitwiseAndOp>;
  t["BitwiseOr"] = importBinary<BitwiseOrOp>;
  t["BitwiseXor"] = importBinary<BitwiseXorOp>;
  t["BitwiseNot"] = importUnary<BitwiseNotOp>;

  t["Neg"] = importUnary<NegOp>;
  t["Abs"] = importUnary<AbsOp>;
  t["Sign"] = importUnary<SignOp>;
  t["Exp"] = importUnary<ExpOp>;
  t["Log"] = importUnary<LogOp>;
  t["Sqrt"] = importUnary<SqrtOp>;
  t["Reciprocal"] = importUnary<ReciprocalOp>;
  t["Erf"] = importUnary<ErfOp>;
  t["Tanh"] = importUnary<TanhOp>;
  t["Sigmoid"] = importUnary<SigmoidOp>;
  t["Sin"] = importUnary<SinOp>;
  t["Cos"] = importUnary<CosOp>;
  t["Floor"] = importUnary<FloorOp>;
  t["Ceil"] = importUnary<CeilOp>;
  t["Round"] = importUnary<RoundOp>;
  t["Relu"] = importUnary<ReluOp>;
  t["Not"] = importUnary<NotOp>;
  t["Tan"] = importUnary<TanOp>;
  t["Asin"] = importUnary<AsinOp>;
  t["Acos"] = importUnary<AcosOp>;
  t["Atan"] = importUnary<AtanOp>;
  t["Sinh"] = importUnary<SinhOp>;
  t["Cosh"] = importUnary<CoshOp>;
  t["Asinh"] = importUnary<AsinhOp>;
  t["Acosh"] = importUnary<AcoshOp>;
  t["Atanh"] = importUnary<AtanhOp>;
  t["Softsign"] = importUnary<SoftsignOp>;
  t["Softplus"] = importUnary<SoftplusOp>;
  t["Mish"] = importUnary<MishOp>;
  t["HardSwish"] = importUnary<HardSwishOp>;
  t["IsNaN"] = importUnary<IsNaNOp>;
  t["IsInf"] = importIsInf;
  t["HardSigmoid"] = [](NodeImporter &n) {
    return importUnaryWithFloats<HardSigmoidOp>(n, {"alpha", "beta"}, {0.2f, 0.5f});
  };
  t["Elu"] = [](NodeImporter &n) { return importUnaryWithFloats<EluOp>(n, {"alpha"}, {1.0f}); };
  t["Selu"] = [](NodeImporter &n) {
    return importUnaryWithFloats<SeluOp>(n, {"alpha", "gamma"},
                                         {1.67326319217681884765625f, 1.05070102214813232421875f});
  };
  t["ThresholdedRelu"] = [](NodeImporter &n) {
    return importUnaryWithFloats<ThresholdedReluOp>(n, {"alpha"}, {1.0f});
  };
  t["LeakyRelu"] = importLeakyRelu;
  t["Celu"] = importCelu;
  t["Shrink"] = importShrink;
  t["Gelu"] = importGelu;
  t["Clip"] = importClip;
  t["Identity"] = importIdentity;
  t["Dropout"] = importDropout;
  t["Cast"] = importCast;
  t["CastLike"] = importCastLike;
}
