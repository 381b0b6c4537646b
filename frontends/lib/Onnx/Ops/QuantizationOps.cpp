//===- QuantizationOps.cpp - ONNX integer and dynamically quantized ops ---===//
//
// Compositions of kiln ops, kept literal so that later passes can match
// them (into an int8 GEMM, say):
//  * MatMulInteger and ConvInteger widen both operands to i32, subtract
//    their zero points and contract in i32 (kiln.matmul, kiln.conv);
//  * QLinearMatMul is MatMulInteger's i32 product times
//    a_scale * b_scale / y_scale, in f64 as ONNX's reference computes it,
//    quantized (round half to even, saturated) to y's zero point type;
//  * DynamicQuantizeLinear is ONNX's own function body: a scale and zero
//    point from the input's range (widened to contain 0), then
//    QuantizeLinear to uint8.
//
//===----------------------------------------------------------------------===//

#include "../NodeImporter.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::onnx_import;

static bool isScalarLike(RankedTensorType t) {
  return t.getRank() == 0 || (t.getRank() == 1 && t.getDimSize(0) == 1);
}

static FailureOr<Value> castTo(NodeImporter &n, Value v, Type element) {
  if (cast<RankedTensorType>(v.getType()).getElementType() == element)
    return v;
  return n.create<CastOp>({v}, {n.named("to", TypeAttr::get(element))});
}

/// A per-row (1-D, one value per row of a matrix) parameter as a column
/// [M, 1] that broadcasts along the rows; others are returned as they are.
static FailureOr<Value> asColumn(NodeImporter &n, Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  if (type.getRank() != 1 || isScalarLike(type))
    return v;
  return n.create<UnsqueezeOp>({v}, {n.named("axes", n.getBuilder().getDenseI64ArrayAttr({1}))});
}

/// i32(x) - i32(zeroPoint), or i32(x) without a zero point.
static FailureOr<Value> widenAndShift(NodeImporter &n, Value x, Value zeroPoint) {
  Type i32 = n.getBuilder().getI32Type();
  auto wide = castTo(n, x, i32);
  if (failed(wide) || !zeroPoint)
    return wide;
  auto zp = castTo(n, zeroPoint, i32);
  if (failed(zp))
    return failure();
  return n.create<SubOp>({*wide, *zp});
}

/// (A - a_zero_point) x (B - b_zero_point) in i32; a 1-D a_zero_point is
/// per row of A.
static FailureOr<Value> integerProduct(NodeImporter &n, Value a, Value aZeroPoint, Value b,
                                       Value bZeroPoint) {
  if (aZeroPoint) {
    auto column = asColumn(n, aZeroPoint);
    if (failed(column))
      return failure();
    aZeroPoint = *column;
  }
  auto lhs = widenAndShift(n, a, aZeroPoint), rhs = widenAndShift(n, b, bZeroPoint);
  if (failed(lhs) || failed(rhs))
    return failure();
  return n.create<MatMulOp>({*lhs, *rhs});
}

static LogicalResult importMatMulInteger(NodeImporter &n) {
  auto a = n.requiredInput(0), b = n.requiredInput(1);
  if (failed(a) || failed(b))
    return failure();
  auto product = integerProduct(n, *a, n.input(2), *b, n.input(3));
  if (failed(product))
    return failure();
  n.setOutput(0, *product);
  return success();
}

static LogicalResult importQLinearMatMul(NodeImporter &n) {
  SmallVector<Value> in;
  for (size_t i = 0; i < 8; ++i) {
    auto v = n.requiredInput(i);
    if (failed(v))
      return failure();
    in.push_back(*v);
  }
  Value a = in[0], aScale = in[1], aZeroPoint = in[2], b = in[3], bScale = in[4],
        bZeroPoint = in[5], yScale = in[6], yZeroPoint = in[7];
  auto product = integerProduct(n, a, aZeroPoint, b, bZeroPoint);
  auto rowScale = asColumn(n, aScale);
  if (failed(product) || failed(rowScale))
    return failure();
  // The multiplier in the scales' type, then the product scaled in f64.
  auto scales = n.create<MulOp>({*rowScale, bScale});
  if (failed(scales))
    return failure();
  auto multiplier = n.create<DivOp>({*scales, yScale});
  if (failed(multiplier))
    return failure();
  Type f64 = n.getBuilder().getF64Type();
  auto wideProduct = castTo(n, *product, f64), wideMultiplier = castTo(n, *multiplier, f64);
  if (failed(wideProduct) || failed(wideMultiplier))
    return failure();
  auto scaled = n.create<MulOp>({*wideProduct, *wideMultiplier});
  if (failed(scaled))
    return failure();
  if (!isScalarLike(n.inputType(7))) {
    n.emitError() << "a per-row or per-column y_zero_point is not supported";
    return failure();
  }
  // Quantized with scale 1 (the multiplier is applied), a scalar as the zero point.
  auto zeroPoint = n.create<ReshapeOp>({yZeroPoint, n.i64Constant({})});
  if (failed(zeroPoint))
    return failure();
  Builder &builder = n.getBuilder();
  return n.createOutput<QuantizeLinearOp>(
      {*scaled, n.scalarConstant(f64, 1.0), *zeroPoint},
      {n.named("to", TypeAttr::get(n.inputType(7).getElementType())),
       n.named("axis", builder.getI64IntegerAttr(0))});
}

static LogicalResult importConvInteger(NodeImporter &n) {
  auto conv = readConvNode(n);
  if (failed(conv))
    return failure();
  // A 1-D w_zero_point holds one value per output channel (dim 0 of w).
  Value wZeroPoint = n.input(3);
  if (wZeroPoint && !isScalarLike(n.inputType(3))) {
    SmallVector<int64_t> trailing;
    for (int64_t d = 1; d < n.inputType(1).getRank(); ++d)
      trailing.push_back(d);
    auto perChannel = n.create<UnsqueezeOp>(
        {wZeroPoint}, {n.named("axes", n.getBuilder().getDenseI64ArrayAttr(trailing))});
    if (failed(perChannel))
      return failure();
    wZeroPoint = *perChannel;
  }
  auto input = widenAndShift(n, conv->input, n.input(2)),
       weight = widenAndShift(n, conv->weight, wZeroPoint);
  if (failed(input) || failed(weight))
    return failure();
  return n.createOutput<ConvOp>({*input, *weight}, conv->attrs);
}

static LogicalResult importDynamicQuantizeLinear(NodeImporter &n) {
  auto x = n.requiredInput(0);
  if (failed(x))
    return failure();
  auto type = n.inputType(0);
  if (!type.getElementType().isF32()) {
    n.emitError() << "input must be float32, got " << type.getElementType();
    return failure();
  }
  Builder &b = n.getBuilder();
  SmallVector<int64_t> all;
  for (int64_t d = 0; d < type.getRank(); ++d)
    all.push_back(d);
  SmallVector<NamedAttribute> whole{n.named("axes", b.getDenseI64ArrayAttr(all)),
                                    n.named("keepdims", b.getBoolAttr(false))};
  Type f32 = b.getF32Type();
  Value zero = n.scalarConstant(f32, 0.0);
  auto lowest = n.create<ReduceMinOp>({*x}, whole), highest = n.create<ReduceMaxOp>({*x}, whole);
  if (failed(lowest) || failed(highest))
    return failure();
  auto low = n.create<MinOp>({*lowest, zero}), high = n.create<MaxOp>({*highest, zero});
  if (failed(low) || failed(high))
    return failure();
  auto span = n.create<SubOp>({*high, *low});
  if (failed(span))
    return failure();
  // An all-zero input has no range: its scale is 1 (onnxruntime's), not 0,
  // which a consumer would divide by.
  Value quantMax = n.scalarConstant(f32, 255.0);
  auto empty = n.create<EqualOp>({*span, zero});
  if (failed(empty))
    return failure();
  auto range = n.create<WhereOp>({*empty, quantMax, *span});
  if (failed(range))
    return failure();
  auto scale = n.create<DivOp>({*range, quantMax});
  if (failed(scale))
    return failure();
  auto lowScaled = n.create<DivOp>({*low, *scale});
  if (failed(lowScaled))
    return failure();
  auto initial = n.create<SubOp>({zero, *lowScaled});
  if (failed(initial))
    return failure();
  auto clipped = n.create<ClipOp>({*initial}, {n.named("min", b.getF64FloatAttr(0.0)),
                                               n.named("max", b.getF64FloatAttr(255.0))});
  if (failed(clipped))
    return failure();
  auto rounded = n.create<RoundOp>({*clipped});
  if (failed(rounded))
    return failure();
  Type u8 = b.getIntegerType(8, /*isSigned=*/false);
  auto zeroPoint = castTo(n, *rounded, u8);
  if (failed(zeroPoint))
    return failure();
  auto y = n.create<QuantizeLinearOp>(
      {*x, *scale, *zeroPoint},
      {n.named("to", TypeAttr::get(u8)), n.named("axis", b.getI64IntegerAttr(0))});
  if (failed(y))
    return failure();
  n.setOutput(0, *y);
  n.setOutput(1, *scale);
  n.setOutput(2, *zeroPoint);
  return success();
}

void mlir::kiln::onnx_import::registerQuantizationOps(llvm::StringMap<OpHandler> &t) {
  t["MatMulInteger"] = importMatMulInteger;
  t["QLinearMatMul"] = importQLinearMatMul;
  t["ConvInteger"] = importConvInteger;
  t["DynamicQuantizeLinear"] = importDynamicQuantizeLinear;
}
