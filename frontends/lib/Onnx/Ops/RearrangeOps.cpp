//===- RearrangeOps.cpp - ONNX GatherElements, DepthToSpace, EyeLike, ... -===//
//
// Ops that move elements around: GatherElements is a kiln op; DepthToSpace
// and SpaceToDepth are a reshape, a transpose and a reshape (ONNX defines
// them that way); EyeLike of a static shape is a constant; CenterCropPad is
// one kiln.pad whose negative pads crop; ReverseSequence a GatherElements
// along the time axis with computed indices.
//
//===----------------------------------------------------------------------===//

#include "Composer.h"
#include "../OnnxTensors.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::onnx_import;

static LogicalResult importGatherElements(NodeImporter &n) {
  auto data = n.requiredInput(0), indices = n.requiredInput(1);
  if (failed(data) || failed(indices))
    return failure();
  auto axis = n.axis(n.intAttr("axis", 0), n.inputType(0).getRank());
  if (failed(axis))
    return failure();
  return n.createOutput<GatherElementsOp>(
      {*data, *indices}, {n.named("axis", n.getBuilder().getI64IntegerAttr(*axis))});
}

/// reshape(x, first) -> transpose(perm) -> reshape(second); a 0 in a shape
/// keeps dim 0 (N) as it is, so N may be computed at run time.
static LogicalResult rearrange(NodeImporter &n, Value x, ArrayRef<int64_t> first,
                               ArrayRef<int64_t> perm, ArrayRef<int64_t> second) {
  auto split = n.create<ReshapeOp>({x, n.i64Constant(first)});
  if (failed(split))
    return failure();
  auto moved = n.create<TransposeOp>(
      {*split}, {n.named("perm", n.getBuilder().getDenseI64ArrayAttr(perm))});
  if (failed(moved))
    return failure();
  return n.createOutput<ReshapeOp>({*moved, n.i64Constant(second)});
}

/// The static C, H and W of a DepthToSpace/SpaceToDepth input, and its
/// blocksize, checked.
static FailureOr<std::array<int64_t, 4>> blockedDims(NodeImporter &n) {
  auto xt = n.inputType(0);
  int64_t b = n.intAttr("blocksize", 0);
  if (xt.getRank() != 4) {
    n.emitError() << "input must have rank 4 (N, C, H, W), got " << xt;
    return failure();
  }
  if (b < 1) {
    n.emitError() << "blocksize must be positive, got " << b;
    return failure();
  }
  int64_t c = xt.getDimSize(1), h = xt.getDimSize(2), w = xt.getDimSize(3);
  if (ShapedType::isDynamic(c) || ShapedType::isDynamic(h) || ShapedType::isDynamic(w)) {
    n.emitError() << "needs static C, H and W; specialise the input with --input-shape";
    return failure();
  }
  return std::array<int64_t, 4>{c, h, w, b};
}

/// ReverseSequence: output[t, b] = input[t < len[b] ? len[b] - 1 - t : t, b]
/// along time_axis, for each b along batch_axis: a GatherElements, whose
/// run-time index check fails a run with a length above the time dim. A
/// negative length is made one past the time dim so that it fails too, as
/// onnxruntime rejects it.
static LogicalResult importReverseSequence(NodeImporter &n) {
  auto data = n.requiredInput(0), lens = n.requiredInput(1);
  if (failed(data) || failed(lens))
    return failure();
  auto dataType = n.inputType(0), lensType = n.inputType(1);
  int64_t rank = dataType.getRank();
  int64_t timeAxis = n.intAttr("time_axis", 0), batchAxis = n.intAttr("batch_axis", 1);
  if (rank < 2 || !((timeAxis == 0 && batchAxis == 1) || (timeAxis == 1 && batchAxis == 0))) {
    n.emitError() << "needs input of rank >= 2 and time_axis, batch_axis 0 and 1 in some order, "
                     "got rank "
                  << rank << ", time_axis " << timeAxis << ", batch_axis " << batchAxis;
    return failure();
  }
  int64_t batch = dataType.getDimSize(batchAxis);
  if (lensType.getRank() != 1 || (!ShapedType::isDynamic(batch) &&
                                  !ShapedType::isDynamic(lensType.getDimSize(0)) &&
                                  lensType.getDimSize(0) != batch)) {
    n.emitError() << "sequence_lens must be 1-D with one length per batch entry (" << batch
                  << "), got " << lensType;
    return failure();
  }
  Composer c(n);
  Type i64 = c.builder().getI64Type();
  Value time = c.shape(*data, timeAxis, timeAxis + 1);
  Value length = c.cast(*lens, i64);
  length = c.where(c.op<LessOp>({length, c.scalar(i64, 0)}), c.add(time, c.scalar(i64, 1)),
                   length);
  Value steps = c.op<RangeOp>({c.scalar(i64, 0), c.squeeze(time, {0}), c.scalar(i64, 1)});
  // [T, 1] against [1, B] (or [1, T] against [B, 1]): the index of each (t, b).
  Value t = c.unsqueeze(steps, {1 - timeAxis});
  Value len = c.unsqueeze(length, {1 - batchAxis});
  Value reversed = c.sub(c.sub(len, c.scalar(i64, 1)), t);
  Value index = c.where(c.op<LessOp>({t, len}), reversed, t);
  SmallVector<int64_t> trailing;
  for (int64_t i = 2; i < rank; ++i)
    trailing.push_back(i);
  if (!trailing.empty())
    index = c.unsqueeze(index, trailing);
  index = c.op<ExpandOp>({index, c.shape(*data, 0, rank)});
  return c.output(0, c.op<GatherElementsOp>(
                         {*data, index}, {c.named("axis", c.builder().getI64IntegerAttr(timeAxis))}));
}

static LogicalResult importDepthToSpace(NodeImporter &n) {
  auto x = n.requiredInput(0);
  if (failed(x))
    return failure();
  auto dims = blockedDims(n);
  if (failed(dims))
    return failure();
  auto [c, h, w, b] = *dims;
  if (c % (b * b) != 0) {
    n.emitError() << "channels " << c << " are not divisible by blocksize^2 = " << b * b;
    return failure();
  }
  std::string mode = n.stringAttr("mode", "DCR");
  SmallVector<int64_t> out{0, c / (b * b), h * b, w * b};
  if (mode == "DCR")
    return rearrange(n, *x, {0, b, b, c / (b * b), h, w}, {0, 3, 4, 1, 5, 2}, out);
  if (mode == "CRD")
    return rearrange(n, *x, {0, c / (b * b), b, b, h, w}, {0, 1, 4, 2, 5, 3}, out);
  n.emitError() << "mode must be 'DCR' or 'CRD', got '" << mode << "'";
  return failure();
}

static LogicalResult importSpaceToDepth(NodeImporter &n) {
  auto x = n.requiredInput(0);
  if (failed(x))
    return failure();
  auto dims = blockedDims(n);
  if (failed(dims))
    return failure();
  auto [c, h, w, b] = *dims;
  if (h % b != 0 || w % b != 0) {
    n.emitError() << "H and W (" << h << ", " << w << ") are not divisible by blocksize " << b;
    return failure();
  }
  return rearrange(n, *x, {0, c, h / b, b, w / b, b}, {0, 3, 5, 1, 2, 4},
                   {0, c * b * b, h / b, w / b});
}

static constexpr int64_t kMaxEyeLikeElements = int64_t(1) << 24;

/// EyeLike: ones on diagonal k of the input's (static, 2-D) shape, in
/// `dtype` or the input's element type.
static LogicalResult importEyeLike(NodeImporter &n) {
  if (failed(n.requiredInput(0)))
    return failure();
  auto xt = n.inputType(0);
  if (xt.getRank() != 2 || !xt.hasStaticShape()) {
    n.emitError() << "needs a 2-D input of static shape, got " << xt;
    return failure();
  }
  Type element = xt.getElementType();
  if (n.attribute("dtype")) {
    int64_t dtype = n.intAttr("dtype", 0);
    element = getElementType(n.getContext(), dtype);
    if (!element) {
      n.emitError() << "dtype " << dataTypeName(dtype) << " is not supported";
      return failure();
    }
  }
  int64_t rows = xt.getDimSize(0), cols = xt.getDimSize(1), k = n.intAttr("k", 0);
  // The constant is built element by element: bound it well below memory.
  if (xt.getNumElements() > kMaxEyeLikeElements) {
    n.emitError() << "a " << rows << "x" << cols << " result is too large to build as a "
                  << "constant (at most " << kMaxEyeLikeElements << " elements)";
    return failure();
  }
  auto type = RankedTensorType::get({rows, cols}, element);
  auto value = [&](bool one) -> Attribute {
    if (auto f = dyn_cast<FloatType>(element))
      return FloatAttr::get(f, one ? 1.0 : 0.0);
    return IntegerAttr::get(element, APInt(element.getIntOrFloatBitWidth(), one ? 1 : 0));
  };
  SmallVector<Attribute> values;
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      values.push_back(value(j - i == k));
  n.setOutput(0, ConstantOp::create(n.getBuilder(), n.getLoc(),
                                    DenseElementsAttr::get(type, values)));
  return success();
}

/// CenterCropPad: each of `axes` (default all) is cropped or zero-padded to
/// the constant target size, centred; an odd difference puts the extra
/// element at the end (floor of half the difference at the start).
static LogicalResult importCenterCropPad(NodeImporter &n) {
  auto x = n.requiredInput(0);
  auto target = n.constantInts(1, "shape");
  if (failed(x) || failed(target))
    return failure();
  auto type = n.inputType(0);
  int64_t rank = type.getRank();
  auto axes = n.axesOrAll(n.intsAttr("axes"), rank);
  if (failed(axes))
    return failure();
  if (target->size() != axes->size()) {
    n.emitError() << "input 'shape' needs one size per axis (" << axes->size() << "), got "
                  << target->size();
    return failure();
  }
  SmallVector<int64_t> pads(2 * rank, 0);
  for (auto [axis, size] : llvm::zip(*axes, *target)) {
    int64_t dim = type.getDimSize(axis);
    if (dim == ShapedType::kDynamic || size < 0) {
      n.emitError() << "needs a static input dim " << axis << " and a size >= 0, got " << type
                    << " and " << size;
      return failure();
    }
    int64_t diff = size - dim;
    int64_t begin = diff >= 0 ? diff / 2 : -((-diff) / 2);
    pads[axis] = begin;
    pads[axis + rank] = diff - begin;
  }
  return n.createOutput<PadOp>({*x}, {n.named("pads", n.getBuilder().getDenseI64ArrayAttr(pads))});
}

void mlir::kiln::onnx_import::registerRearrangeOps(llvm::StringMap<OpHandler> &t) {
  t["GatherElements"] = importGatherElements;
  t["DepthToSpace"] = importDepthToSpace;
  t["SpaceToDepth"] = importSpaceToDepth;
  t["EyeLike"] = importEyeLike;
  t["CenterCropPad"] = importCenterCropPad;
  t["ReverseSequence"] = importReverseSequence;
}
