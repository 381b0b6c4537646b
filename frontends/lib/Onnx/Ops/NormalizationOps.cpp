//===- NormalizationOps.cpp - ONNX Instance/Group/MeanVariance normalization ===//
//
// Built from kiln ops: InstanceNormalization is a layer_norm over the
// spatial dims (scale 1) followed by the per-channel scale and bias;
// GroupNormalization the same over [N, groups, -1], reshaped back; and
// MeanVarianceNormalization follows its ONNX function body. LRN's window
// sums of squares over the channels are an average_pool (count_include_pad)
// over [N, 1, C, d...] with a [size, 1, ...] kernel: alpha/size * sum is
// alpha * mean.
//
//===----------------------------------------------------------------------===//

#include "Composer.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::onnx_import;

/// (x - mean) / sqrt(variance + epsilon) over the dims [axis, rank) of x.
static FailureOr<Value> normalizeFrom(NodeImporter &n, Value x, int64_t axis, float epsilon) {
  Type element = cast<RankedTensorType>(x.getType()).getElementType();
  Builder &b = n.getBuilder();
  return n.create<LayerNormOp>({x, n.scalarConstant(element, 1.0)},
                               {n.named("axis", b.getI64IntegerAttr(axis)),
                                n.named("epsilon", b.getF32FloatAttr(epsilon))});
}

/// y * scale + bias with the 1-D scale and bias per channel (dim 1 of y).
static LogicalResult scaleChannels(NodeImporter &n, Value y, Value scale, Value bias) {
  int64_t rank = cast<RankedTensorType>(y.getType()).getRank();
  SmallVector<int64_t> trailing;
  for (int64_t i = 1; i < rank - 1; ++i)
    trailing.push_back(i);
  auto perChannel = [&](Value v) -> FailureOr<Value> {
    if (trailing.empty())
      return v;
    return n.create<UnsqueezeOp>({v}, {n.named("axes", n.getBuilder().getDenseI64ArrayAttr(trailing))});
  };
  auto s = perChannel(scale), b = perChannel(bias);
  if (failed(s) || failed(b))
    return failure();
  auto scaled = n.create<MulOp>({y, *s});
  if (failed(scaled))
    return failure();
  return n.createOutput<AddOp>({*scaled, *b});
}

static LogicalResult importInstanceNorm(NodeImporter &n) {
  auto x = n.requiredInput(0), scale = n.requiredInput(1), bias = n.requiredInput(2);
  if (failed(x) || failed(scale) || failed(bias))
    return failure();
  if (n.inputType(0).getRank() < 3) {
    n.emitError() << "input must have rank >= 3 (N, C, spatial...)";
    return failure();
  }
  auto normalized = normalizeFrom(n, *x, 2, n.floatAttr("epsilon", 1e-5f));
  if (failed(normalized))
    return failure();
  return scaleChannels(n, *normalized, *scale, *bias);
}

/// GroupNormalization: statistics over each group of num_groups consecutive
/// channel blocks (and the spatial dims). From opset 21 scale and bias are
/// per channel; before, per group, which each channel of the group takes.
static LogicalResult importGroupNorm(NodeImporter &n) {
  auto x = n.requiredInput(0), scale = n.requiredInput(1), bias = n.requiredInput(2);
  if (failed(x) || failed(scale) || failed(bias))
    return failure();
  auto xt = n.inputType(0);
  int64_t groups = n.intAttr("num_groups", 0), channels = xt.getRank() >= 2 ? xt.getDimSize(1) : 0;
  if (xt.getRank() < 3 || groups < 1 || ShapedType::isDynamic(channels) ||
      channels % groups != 0) {
    n.emitError() << "needs an input of rank >= 3 whose static channel count divides into "
                     "num_groups (" << groups << "), got " << xt;
    return failure();
  }
  Builder &b = n.getBuilder();
  auto grouped = n.create<ReshapeOp>({*x, n.i64Constant({0, groups, -1})});
  if (failed(grouped))
    return failure();
  auto normalized = normalizeFrom(n, *grouped, 2, n.floatAttr("epsilon", 1e-5f));
  if (failed(normalized))
    return failure();
  auto shape = n.create<ShapeOp>({*x}, {n.named("start", b.getI64IntegerAttr(0)),
                                        n.named("end", b.getI64IntegerAttr(xt.getRank()))});
  if (failed(shape))
    return failure();
  auto restored = n.create<ReshapeOp>({*normalized, *shape});
  if (failed(restored))
    return failure();
  Value s = *scale, bi = *bias;
  if (n.getOpset() < 21) {
    SmallVector<int64_t> groupOf;
    for (int64_t c = 0; c < channels; ++c)
      groupOf.push_back(c / (channels / groups));
    NamedAttribute axis0 = n.named("axis", b.getI64IntegerAttr(0));
    auto sc = n.create<GatherOp>({s, n.i64Constant(groupOf)}, {axis0});
    auto bc = n.create<GatherOp>({bi, n.i64Constant(groupOf)}, {axis0});
    if (failed(sc) || failed(bc))
      return failure();
    s = *sc;
    bi = *bc;
  }
  return scaleChannels(n, *restored, s, bi);
}

/// MeanVarianceNormalization's function body: (x - E[x]) / (sqrt(E[x^2] -
/// E[x]^2) + 1e-9) over `axes` (default N and the spatial dims of 4-D).
static LogicalResult importMeanVarianceNorm(NodeImporter &n) {
  auto x = n.requiredInput(0);
  if (failed(x))
    return failure();
  int64_t rank = n.inputType(0).getRank();
  SmallVector<int64_t> axes;
  for (int64_t a : n.intsAttr("axes").value_or(SmallVector<int64_t>{0, 2, 3})) {
    auto axis = n.axis(a, rank);
    if (failed(axis))
      return failure();
    axes.push_back(*axis);
  }
  llvm::sort(axes);
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  Builder &b = n.getBuilder();
  auto mean = [&](Value v) {
    return n.create<ReduceMeanOp>({v}, {n.named("axes", b.getDenseI64ArrayAttr(axes)),
                                        n.named("keepdims", b.getBoolAttr(true))});
  };
  auto ex = mean(*x);
  if (failed(ex))
    return failure();
  auto squares = n.create<MulOp>({*x, *x});
  auto exSquared = n.create<MulOp>({*ex, *ex});
  if (failed(squares) || failed(exSquared))
    return failure();
  auto eOfSquares = mean(*squares);
  if (failed(eOfSquares))
    return failure();
  auto variance = n.create<SubOp>({*eOfSquares, *exSquared});
  if (failed(variance))
    return failure();
  auto stdDev = n.create<SqrtOp>({*variance});
  if (failed(stdDev))
    return failure();
  Type element = n.inputType(0).getElementType();
  auto denominator = n.create<AddOp>({*stdDev, n.scalarConstant(element, 1e-9)});
  auto centered = n.create<SubOp>({*x, *ex});
  if (failed(denominator) || failed(centered))
    return failure();
  return n.createOutput<DivOp>({*centered, *denominator});
}

/// LRN: x / (bias + alpha/size * sum of x^2 over the channels
/// [c - floor((size-1)/2), c + ceil((size-1)/2)], clipped)^beta.
static LogicalResult importLRN(NodeImporter &n) {
  auto x = n.requiredInput(0);
  if (failed(x))
    return failure();
  int64_t rank = n.inputType(0).getRank();
  if (rank < 3) {
    n.emitError() << "input must have rank >= 3 (N, C, spatial...), got " << n.inputType(0);
    return failure();
  }
  if (!n.attribute("size")) {
    n.emitError() << "attribute 'size' is required";
    return failure();
  }
  int64_t size = n.intAttr("size", 1);
  if (size < 1) {
    n.emitError() << "size must be at least 1, got " << size;
    return failure();
  }
  Composer c(n);
  OpBuilder &b = c.builder();
  // The pool's spatial dims are C and the input's spatial dims.
  int64_t spatial = rank - 1;
  SmallVector<int64_t> kernel(spatial, 1), ones(spatial, 1), pads(2 * spatial, 0);
  kernel[0] = size;
  pads[0] = (size - 1) / 2;
  pads[spatial] = size / 2;
  Value squares = c.unsqueeze(c.mul(*x, *x), {1});
  Value mean = c.squeeze(
      c.op<AveragePoolOp>({squares}, {c.named("kernel_shape", b.getDenseI64ArrayAttr(kernel)),
                                      c.named("strides", b.getDenseI64ArrayAttr(ones)),
                                      c.named("pads", b.getDenseI64ArrayAttr(pads)),
                                      c.named("dilations", b.getDenseI64ArrayAttr(ones)),
                                      c.named("count_include_pad", b.getBoolAttr(true))}),
      {1});
  Value base = c.add(c.scalarLike(*x, n.floatAttr("bias", 1.0f)),
                     c.mul(c.scalarLike(*x, n.floatAttr("alpha", 1e-4f)), mean));
  Value denominator = c.op<PowOp>({base, c.scalarLike(*x, n.floatAttr("beta", 0.75f))});
  return c.output(0, c.div(*x, denominator));
}

void mlir::kiln::onnx_import::registerNormalizationOps(llvm::StringMap<OpHandler> &t) {
  t["InstanceNormalization"] = importInstanceNorm;
  t["GroupNormalization"] = importGroupNorm;
  t["MeanVarianceNormalization"] = importMeanVarianceNorm;
  t["LRN"] = importLRN;
}
