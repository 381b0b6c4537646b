//===- ElementwiseOps.cpp - ONNX elementwise ops --------------------------===//

#include "../NodeImporter.h"
#include "../OnnxTensors.h"

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

/// Identity, and Dropout at inference (its mask output is not computed).
static LogicalResult importIdentity(NodeImporter &n) {
  auto x = n.requiredInput(0);
  if (failed(x))
    return failure();
  n.setOutput(0, *x);
  return success();
}

static LogicalResult importLeakyRelu(NodeImporter &n) {
  auto x = n.requiredInput(0);
  if (failed(x))
    return failure();
  return n.createOutput<LeakyReluOp>(
      {*x}, {n.named("alpha", n.getBuilder().getF32FloatAttr(n.floatAttr("alpha", 0.01f)))});
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

/// Clip: bounds are optional constant inputs (attributes before opset 11).
static LogicalResult importClip(NodeImporter &n) {
  auto x = n.requiredInput(0);
  if (failed(x))
    return failure();
  auto lo = n.constantScalar(1, "min"), hi = n.constantScalar(2, "max");
  if (failed(lo) || failed(hi))
    return failure();
  SmallVector<NamedAttribute> attrs;
  if (*lo)
    attrs.push_back(n.named("min", n.getBuilder().getF64FloatAttr(**lo)));
  if (*hi)
    attrs.push_back(n.named("max", n.getBuilder().getF64FloatAttr(**hi)));
  return n.createOutput<ClipOp>({*x}, attrs);
}

static LogicalResult castTo(NodeImporter &n, Type to) {
  auto x = n.requiredInput(0);
  if (failed(x))
    return failure();
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
  t["LeakyRelu"] = importLeakyRelu;
  t["Gelu"] = importGelu;
  t["Clip"] = importClip;
  t["Identity"] = importIdentity;
  t["Dropout"] = importIdentity;
  t["Cast"] = importCast;
  t["CastLike"] = importCastLike;
}
