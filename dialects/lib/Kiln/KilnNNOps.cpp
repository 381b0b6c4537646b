//===- KilnNNOps.cpp - Verifiers and type inference of KilnNNOps.td -------===//
//
// pad, batch_norm, the pools, resize and the quantize/dequantize pair: the
// result type each infers from its operands and attributes, and the
// invariants their verifiers check beyond that.
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/KilnOps.h"
#include "kiln/Dialect/Kiln/KilnShapeUtils.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/CheckedArithmetic.h"
#include <limits>

using namespace mlir;
using namespace mlir::kiln;

static constexpr int64_t kDyn = ShapedType::kDynamic;

static RankedTensorType rankedType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

static Type tensorOf(ArrayRef<int64_t> shape, Type elementType) {
  return RankedTensorType::get(shape, elementType);
}

static bool isScalarLike(RankedTensorType t) {
  return t.getRank() == 0 || (t.getRank() == 1 && t.getDimSize(0) == 1);
}

//===----------------------------------------------------------------------===//
// Pad
//===----------------------------------------------------------------------===//

LogicalResult PadOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                      Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  auto input = rankedType(adaptor.getInput());
  int64_t rank = input.getRank();
  ArrayRef<int64_t> pads = adaptor.getPads();
  if ((int64_t)pads.size() != 2 * rank)
    return emitOptionalError(loc, "pad needs ", 2 * rank, " pads for a rank-", rank,
                             " input, got ", pads.size());
  SmallVector<int64_t> shape;
  for (int64_t i = 0; i < rank; ++i) {
    int64_t d = input.getDimSize(i);
    if (d == kDyn) {
      shape.push_back(kDyn);
      continue;
    }
    std::optional<int64_t> sum = checkedSum({d, pads[i], pads[i + rank]});
    if (!sum)
      return emitOptionalError(loc, "pads ", pads[i], " and ", pads[i + rank], " of dim ", i,
                               " overflow int64");
    int64_t padded = *sum;
    if (padded < 0)
      return emitOptionalError(loc, "pads ", pads[i], " and ", pads[i + rank],
                               " remove more than the ", d, " elements of dim ", i);
    shape.push_back(padded);
  }
  inferred.push_back(tensorOf(shape, input.getElementType()));
  return success();
}

LogicalResult PadOp::verify() {
  StringRef mode = getMode();
  if (mode != "constant" && mode != "reflect" && mode != "edge" && mode != "wrap")
    return emitOpError("mode must be constant, reflect, edge or wrap, got \"") << mode << "\"";
  auto input = rankedType(getInput());
  if (Value value = getValue()) {
    if (mode != "constant")
      return emitOpError("only constant mode takes a value");
    auto vt = rankedType(value);
    if (!isScalarLike(vt) || vt.getElementType() != input.getElementType())
      return emitOpError("value must be a scalar of the input's element type, got ") << vt;
  }
  ArrayRef<int64_t> pads = getPads();
  int64_t rank = input.getRank();
  // A wrong pad count is reported by result type inference.
  if ((int64_t)pads.size() != 2 * rank || mode == "constant")
    return success();
  for (int64_t i = 0; i < rank; ++i) {
    int64_t d = input.getDimSize(i);
    bool grows = pads[i] > 0 || pads[i + rank] > 0;
    if (d == kDyn || !grows)
      continue;
    if (d == 0)
      return emitOpError("cannot pad empty dim ") << i << " in " << mode << " mode";
    if (mode == "reflect" && (pads[i] > d - 1 || pads[i + rank] > d - 1))
      return emitOpError("reflect pads of dim ") << i << " must be below its size " << d;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Batch normalisation
//===----------------------------------------------------------------------===//

LogicalResult BatchNormOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &inferred) {
  inferred.push_back(adaptor.getInput().getType());
  return success();
}

LogicalResult BatchNormOp::verify() {
  auto xt = rankedType(getInput());
  if (xt.getRank() < 2)
    return emitOpError("input must have rank >= 2 (N, C, ...), got ") << xt;
  int64_t channels = xt.getDimSize(1);
  for (Value param : {getScale(), getBias(), getMean(), getVariance()}) {
    auto pt = rankedType(param);
    if (pt.getElementType() != xt.getElementType())
      return emitOpError("parameters must have the input's element type, got ") << pt;
    if (pt.getRank() != 1 || failed(verifyCompatibleShape({pt.getDimSize(0)}, {channels})))
      return emitOpError("parameters must be 1-D with one value per channel, got ") << pt;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

std::optional<int64_t> mlir::kiln::pooledSize(int64_t in, int64_t kernel, int64_t stride,
                                              int64_t padBegin, int64_t padEnd,
                                              int64_t dilation, bool ceilMode) {
  std::optional<int64_t> windows = windowSpan(in, kernel, dilation, padBegin, padEnd);
  if (!windows)
    return std::nullopt;
  int64_t span = *windows;
  if (span < 0)
    return -1;
  // ceil_mode rounds the span up by stride - 1, which must not overflow
  // either.
  if (ceilMode && span > std::numeric_limits<int64_t>::max() - stride)
    return std::nullopt;
  int64_t out = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1;
  // A ceil_mode window must start inside the input or its begin padding.
  if (ceilMode && (out - 1) * stride >= in + padBegin)
    --out;
  return out;
}

LogicalResult mlir::kiln::inferPoolType(std::optional<Location> loc, Value input,
                                        ArrayRef<int64_t> kernelShape,
                                        ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
                                        ArrayRef<int64_t> dilations, bool ceilMode,
                                        SmallVectorImpl<Type> &inferred) {
  auto xt = rankedType(input);
  int64_t spatial = xt.getRank() - 2;
  if (spatial < 1)
    return emitOptionalError(loc, "pooling needs an input of rank >= 3 (N, C, spatial...)");
  if ((int64_t)kernelShape.size() != spatial || (int64_t)strides.size() != spatial ||
      (int64_t)dilations.size() != spatial || (int64_t)pads.size() != 2 * spatial)
    return emitOptionalError(loc, "pooling needs ", spatial,
                             " kernel dims, strides and dilations and ", 2 * spatial, " pads");
  SmallVector<int64_t> shape{xt.getDimSize(0), xt.getDimSize(1)};
  for (int64_t i = 0; i < spatial; ++i) {
    int64_t in = xt.getDimSize(i + 2);
    if (kernelShape[i] < 1 || strides[i] < 1 || dilations[i] < 1)
      return emitOptionalError(loc, "kernel dims, strides and dilations must be positive");
    if (in == kDyn) {
      shape.push_back(kDyn);
      continue;
    }
    std::optional<int64_t> pooled = pooledSize(in, kernelShape[i], strides[i], pads[i],
                                               pads[i + spatial], dilations[i], ceilMode);
    if (!pooled)
      return emitOptionalError(loc, "the sizes of dim ", i + 2, " overflow int64");
    int64_t out = *pooled;
    if (out < 0)
      return emitOptionalError(loc, "the window is larger than the padded input in dim ",
                               i + 2);
    shape.push_back(out);
  }
  inferred.push_back(tensorOf(shape, xt.getElementType()));
  return success();
}

LogicalResult mlir::kiln::verifyPool(Operation *op, ArrayRef<int64_t> kernelShape,
                                     ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
                                     ArrayRef<int64_t> dilations) {
  auto positive = [](ArrayRef<int64_t> values) {
    return llvm::all_of(values, [](int64_t v) { return v > 0; });
  };
  if (!positive(kernelShape) || !positive(strides) || !positive(dilations))
    return op->emitOpError("kernel_shape, strides and dilations must be positive");
  if (llvm::any_of(pads, [](int64_t p) { return p < 0; }))
    return op->emitOpError("pads must be non-negative");
  return success();
}

//===----------------------------------------------------------------------===//
// Resize
//===----------------------------------------------------------------------===//

LogicalResult ResizeOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  auto input = rankedType(adaptor.getInput());
  int64_t rank = input.getRank();
  auto st = rankedType(adaptor.getScales());
  if (st.getRank() != 1 || st.getDimSize(0) != rank)
    return emitOptionalError(loc, "resize needs a 1-D scales operand of ", rank,
                             " values, got ", st);
  if (auto sizes = adaptor.getSizes()) {
    if ((int64_t)sizes->size() != rank)
      return emitOptionalError(loc, "resize needs ", rank, " sizes, got ", sizes->size());
    inferred.push_back(tensorOf(*sizes, input.getElementType()));
    return success();
  }
  auto scales = getConstantFloatValues(adaptor.getScales());
  SmallVector<int64_t> shape;
  for (int64_t i = 0; i < rank; ++i) {
    int64_t d = input.getDimSize(i);
    shape.push_back(d == kDyn || !scales ? kDyn : (int64_t)std::floor((double)d * (*scales)[i]));
  }
  inferred.push_back(tensorOf(shape, input.getElementType()));
  return success();
}

LogicalResult ResizeOp::verify() {
  StringRef mode = getMode();
  if (mode != "nearest" && mode != "linear" && mode != "cubic")
    return emitOpError("mode must be nearest, linear or cubic, got \"") << mode << "\"";
  StringRef transform = getCoordinateTransformationMode();
  bool knownTransform = llvm::StringSwitch<bool>(transform)
                            .Cases({"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel",
                                    "align_corners", "asymmetric", "tf_crop_and_resize"},
                                   true)
                            .Default(false);
  if (!knownTransform)
    return emitOpError("unknown coordinate_transformation_mode \"") << transform << "\"";
  StringRef nearest = getNearestMode();
  if (nearest != "round_prefer_floor" && nearest != "round_prefer_ceil" &&
      nearest != "floor" && nearest != "ceil")
    return emitOpError("unknown nearest_mode \"") << nearest << "\"";
  if (auto scales = getConstantFloatValues(getScales());
      scales && llvm::any_of(*scales, [](double s) { return !(s > 0); }))
    return emitOpError("scales must be positive");
  int64_t rank = rankedType(getInput()).getRank();
  if (Value roi = getRoi()) {
    auto rt = rankedType(roi);
    if (rt.getRank() != 1 || rt.getDimSize(0) != 2 * rank)
      return emitOpError("roi must be 1-D with ") << 2 * rank << " values, got " << rt;
  }
  if (transform == "tf_crop_and_resize" && !getRoi())
    return emitOpError("tf_crop_and_resize needs a roi");
  if (getAntialias() && mode == "nearest")
    return emitOpError("antialias needs linear or cubic mode");
  if (mode != "nearest" && !isa<FloatType>(rankedType(getInput()).getElementType()))
    return emitOpError(mode) << " interpolation needs a float input";
  return success();
}

//===----------------------------------------------------------------------===//
// GridSample
//===----------------------------------------------------------------------===//

LogicalResult GridSampleOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                             Adaptor adaptor,
                                             SmallVectorImpl<Type> &inferred) {
  auto input = rankedType(adaptor.getInput());
  auto grid = rankedType(adaptor.getGrid());
  int64_t spatial = input.getRank() - 2;
  if (spatial < 1)
    return emitOptionalError(loc, "grid_sample needs an input of rank >= 3 (N, C, spatial...), ",
                             "got ", input);
  if (grid.getRank() != spatial + 2)
    return emitOptionalError(loc, "grid_sample needs a grid of rank ", spatial + 2,
                             " for a rank-", input.getRank(), " input, got ", grid);
  int64_t last = grid.getDimSize(spatial + 1);
  if (last != kDyn && last != spatial)
    return emitOptionalError(loc, "the grid's last dim must be ", spatial, ", got ", last);
  int64_t n = input.getDimSize(0), gridN = grid.getDimSize(0);
  if (n != kDyn && gridN != kDyn && n != gridN)
    return emitOptionalError(loc, "the input's batch ", n, " differs from the grid's ", gridN);
  SmallVector<int64_t> shape{n == kDyn ? gridN : n, input.getDimSize(1)};
  for (int64_t i = 1; i <= spatial; ++i)
    shape.push_back(grid.getDimSize(i));
  inferred.push_back(tensorOf(shape, input.getElementType()));
  return success();
}

LogicalResult GridSampleOp::verify() {
  StringRef mode = getMode();
  if (mode != "nearest" && mode != "linear" && mode != "cubic")
    return emitOpError("mode must be nearest, linear or cubic, got \"") << mode << "\"";
  StringRef padding = getPaddingMode();
  if (padding != "zeros" && padding != "border" && padding != "reflection")
    return emitOpError("padding_mode must be zeros, border or reflection, got \"")
           << padding << "\"";
  if (mode != "nearest" && !isa<FloatType>(rankedType(getInput()).getElementType()))
    return emitOpError(mode) << " interpolation needs a float input";
  return success();
}

//===----------------------------------------------------------------------===//
// Quantization
//===----------------------------------------------------------------------===//

/// scale and zero_point: a scalar (per tensor), a 1-D tensor of the axis dim
/// (per axis) or, with a block size, the input's shape with the axis dim
/// divided by it (rounded up). The zero point has the scale's shape (or,
/// per tensor, holds one value too) and the integer type `integer`.
static LogicalResult verifyQuantParams(Operation *op, RankedTensorType input, Value scale,
                                       Value zeroPoint, Type integer, int64_t axis,
                                       int64_t blockSize) {
  auto st = rankedType(scale);
  if (zeroPoint) {
    auto zt = rankedType(zeroPoint);
    if (zt.getElementType() != integer)
      return op->emitOpError("zero_point must have element type ") << integer << ", got " << zt;
    // One value each is per tensor, whatever the ranks: onnxruntime's QDQ
    // models quantize a bias with a [1] scale and a scalar int32 zero point.
    bool perTensor = blockSize == 0 && isScalarLike(zt) && isScalarLike(st);
    if (!perTensor && failed(verifyCompatibleShape(zt.getShape(), st.getShape())))
      return op->emitOpError("zero_point ") << zt << " and scale " << st << " differ in shape";
  }
  if (blockSize < 0)
    return op->emitOpError("block_size must be non-negative");
  if (blockSize == 0 && isScalarLike(st))
    return success();
  int64_t rank = input.getRank();
  if (axis < 0 || axis >= rank)
    return op->emitOpError("axis ") << axis << " out of range for rank " << rank;
  int64_t dim = input.getDimSize(axis);
  if (blockSize == 0) {
    if (st.getRank() != 1 || failed(verifyCompatibleShape({st.getDimSize(0)}, {dim})))
      return op->emitOpError("a per-axis scale must be 1-D with one value per index of dim ")
             << axis << ", got " << st;
    return success();
  }
  SmallVector<int64_t> expected(input.getShape());
  expected[axis] = dim == kDyn ? kDyn : (dim + blockSize - 1) / blockSize;
  if (failed(verifyCompatibleShape(st.getShape(), expected)))
    return op->emitOpError("a blocked scale must have shape ")
           << tensorOf(expected, st.getElementType()) << ", got " << st;
  return success();
}

LogicalResult DequantizeLinearOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                                   Adaptor adaptor,
                                                   SmallVectorImpl<Type> &inferred) {
  inferred.push_back(tensorOf(rankedType(adaptor.getInput()).getShape(),
                              rankedType(adaptor.getScale()).getElementType()));
  return success();
}

bool DequantizeLinearOp::isPerTensor() {
  return getBlockSize() == 0 && isScalarLike(rankedType(getScale()));
}

bool QuantizeLinearOp::isPerTensor() {
  return getBlockSize() == 0 && isScalarLike(rankedType(getScale()));
}

LogicalResult DequantizeLinearOp::verify() {
  auto input = rankedType(getInput());
  return verifyQuantParams(*this, input, getScale(), getZeroPoint(), input.getElementType(),
                           getAxis(), getBlockSize());
}

LogicalResult QuantizeLinearOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                                 Adaptor adaptor,
                                                 SmallVectorImpl<Type> &inferred) {
  auto to = dyn_cast<IntegerType>(adaptor.getTo());
  if (!to || to.isSigned() || to.getWidth() == 1)
    return emitOptionalError(loc, "quantize_linear needs a signless or unsigned integer type, got ",
                             adaptor.getTo());
  inferred.push_back(tensorOf(rankedType(adaptor.getInput()).getShape(), to));
  return success();
}

LogicalResult QuantizeLinearOp::verify() {
  auto input = rankedType(getInput());
  if (rankedType(getScale()).getElementType() != input.getElementType())
    return emitOpError("scale must have the input's element type");
  return verifyQuantParams(*this, input, getScale(), getZeroPoint(), getTo(), getAxis(),
                           getBlockSize());
}

//===----------------------------------------------------------------------===//
// Transposed convolution
//===----------------------------------------------------------------------===//

LogicalResult ConvTransposeOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                                Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  auto xt = rankedType(adaptor.getInput()), wt = rankedType(adaptor.getWeight());
  int64_t rank = xt.getRank(), spatial = rank - 2, group = adaptor.getGroup();
  if (rank < 3 || wt.getRank() != rank)
    return emitOptionalError(loc, "conv_transpose needs input and weight of equal rank >= 3");
  for (Value v : {adaptor.getWeight(), adaptor.getBias()})
    if (v && rankedType(v).getElementType() != xt.getElementType())
      return emitOptionalError(loc, "operand element types differ");
  ArrayRef<int64_t> strides = adaptor.getStrides(), dilations = adaptor.getDilations(),
                    pads = adaptor.getPads(), extra = adaptor.getOutputPadding();
  if ((int64_t)strides.size() != spatial || (int64_t)dilations.size() != spatial ||
      (int64_t)extra.size() != spatial || (int64_t)pads.size() != 2 * spatial)
    return emitOptionalError(loc, "conv_transpose needs ", spatial,
                             " strides, dilations and output paddings and ", 2 * spatial, " pads");
  if (llvm::any_of(strides, [](int64_t s) { return s < 1; }) ||
      llvm::any_of(dilations, [](int64_t d) { return d < 1; }) ||
      llvm::any_of(extra, [](int64_t p) { return p < 0; }))
    return emitOptionalError(loc, "strides and dilations must be positive, output paddings "
                                  "non-negative");
  int64_t channels = xt.getDimSize(1), filters = wt.getDimSize(0);
  if (group < 1 || (channels != kDyn && channels % group != 0))
    return emitOptionalError(loc, "group ", group, " must divide the ", channels,
                             " input channels");
  if (channels != kDyn && filters != kDyn && channels != filters)
    return emitOptionalError(loc, "the weight's dim 0 (", filters,
                             ") must be the input's channels (", channels, ")");
  int64_t perGroup = wt.getDimSize(1);
  SmallVector<int64_t> shape{xt.getDimSize(0), perGroup == kDyn ? kDyn : perGroup * group};
  if (Value bias = adaptor.getBias()) {
    auto bt = rankedType(bias);
    if (bt.getRank() != 1 || failed(verifyCompatibleShape({bt.getDimSize(0)}, {shape[1]})))
      return emitOptionalError(loc, "bias must be 1-D with one value per output channel");
  }
  for (int64_t i = 0; i < spatial; ++i) {
    int64_t in = xt.getDimSize(i + 2), k = wt.getDimSize(i + 2);
    if (in == kDyn || k == kDyn) {
      shape.push_back(kDyn);
      continue;
    }
    // in and k are dims (>= 0); the attributes may be anything until the
    // verifier runs, so every step is checked.
    std::optional<int64_t> strided = llvm::checkedMul(strides[i], in - 1),
                           reach = llvm::checkedMul(k - 1, dilations[i]), sum, pads2;
    if (strided && reach)
      sum = checkedSum({*strided, extra[i], *reach, 1});
    pads2 = checkedSum({pads[i], pads[i + spatial]});
    if (sum && pads2)
      sum = llvm::checkedSub(*sum, *pads2);
    else
      sum = std::nullopt;
    if (!sum)
      return emitOptionalError(loc, "the sizes of spatial dim ", i, " overflow int64");
    int64_t out = *sum;
    if (out < 1)
      return emitOptionalError(loc, "spatial dim ", i, " of the output would have size ", out);
    shape.push_back(out);
  }
  inferred.push_back(tensorOf(shape, xt.getElementType()));
  return success();
}
