//===- RearrangeOps.cpp - ONNX GatherElements, DepthToSpace, EyeLike, ... -===//
//
// Ops that move elements around: GatherElements is a kiln op; DepthToSpace
// and SpaceToDepth are a reshape, a transpose and a reshape (ONNX defines
// them that way); EyeLike of a static shape is a constant; CenterCropPad is
// one kiln.pad whose negative pads crop; ReverseSequence a GatherElements
// along the time axis with computed indices; Col2Im a ScatterElements (add)
// of the columns to their image positions, a constant table; Compress a
// Gather of the positions of the true conditions (a ScatterElements of each
// position to its rank among them).
//
//===----------------------------------------------------------------------===//

#include "Composer.h"
#include "kiln/Dialect/Kiln/KilnShapeUtils.h"
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

/// The largest position table Col2Im builds (kernel elements x blocks).
static constexpr int64_t kMaxCol2ImTable = int64_t(1) << 24;

/// Col2Im: input [N, C * K, L] holds, for kernel offset k (row-major over
/// block_shape) and block l (row-major over the blocks that fit the padded
/// image), a value added to image position l * strides - pads + k *
/// dilations of channel c. The positions are a constant table (those in
/// the padding go to one extra slot, sliced off) for a ScatterElements with
/// reduction add into zeros [N, C, prod(image_shape) + 1].
static LogicalResult importCol2Im(NodeImporter &n) {
  auto x = n.requiredInput(0);
  auto image = n.constantInts(1, "image_shape"), block = n.constantInts(2, "block_shape");
  if (failed(x) || failed(image) || failed(block))
    return failure();
  int64_t spatial = image->size();
  auto orFill = [&](StringRef name, int64_t count, int64_t value) {
    return n.intsAttr(name).value_or(SmallVector<int64_t>(count, value));
  };
  SmallVector<int64_t> dilations = orFill("dilations", spatial, 1),
                       strides = orFill("strides", spatial, 1), pads = orFill("pads", 2 * spatial, 0);
  auto xType = n.inputType(0);
  if (spatial < 1 || (int64_t)block->size() != spatial ||
      (int64_t)dilations.size() != spatial || (int64_t)strides.size() != spatial ||
      (int64_t)pads.size() != 2 * spatial || xType.getRank() != 3) {
    n.emitError() << "needs input [N, C * K, L], image_shape and block_shape of one length, "
                     "and dilations, strides and pads (twice) of that length";
    return failure();
  }
  // Blocks per spatial dim, and the image position of (kernel offset, block).
  SmallVector<int64_t> blocks;
  int64_t kernelSize = 1, blockCount = 1, imageSize = 1;
  for (int64_t i = 0; i < spatial; ++i) {
    // Validated before the division by the stride; the sizes of a
    // malformed model (near 2^63) must not overflow either.
    bool positive = (*block)[i] >= 1 && (*image)[i] >= 1 && strides[i] >= 1 && dilations[i] >= 1;
    std::optional<int64_t> windows =
        positive ? windowSpan((*image)[i], (*block)[i], dilations[i], pads[i], pads[spatial + i])
                 : std::nullopt;
    int64_t count = windows && *windows >= 0 ? *windows / strides[i] + 1 : 0;
    if (!positive || count < 1) {
      n.emitError() << "image_shape, block_shape, strides and dilations must be positive and "
                       "every block must fit the padded image";
      return failure();
    }
    blocks.push_back(count);
    kernelSize *= (*block)[i];
    blockCount *= count;
    imageSize *= (*image)[i];
  }
  int64_t channels = xType.getDimSize(1), length = xType.getDimSize(2);
  if ((!ShapedType::isDynamic(channels) && channels % kernelSize != 0) || length != blockCount) {
    n.emitError() << "input " << xType << " needs dim 1 a multiple of " << kernelSize
                  << " (the block size) and dim 2 the block count " << blockCount;
    return failure();
  }
  if (kernelSize * blockCount > kMaxCol2ImTable) {
    n.emitError() << "needs a position table of " << kernelSize * blockCount
                  << " entries, more than " << kMaxCol2ImTable;
    return failure();
  }
  SmallVector<int64_t> table;
  table.reserve(kernelSize * blockCount);
  for (int64_t k = 0; k < kernelSize; ++k) {
    for (int64_t l = 0; l < blockCount; ++l) {
      int64_t position = 0, kRest = k, lRest = l, kStride = kernelSize, lStride = blockCount;
      bool inside = true;
      for (int64_t i = 0; i < spatial; ++i) {
        kStride /= (*block)[i];
        lStride /= blocks[i];
        int64_t offset = kRest / kStride, at = lRest / lStride;
        kRest %= kStride;
        lRest %= lStride;
        int64_t coordinate = at * strides[i] - pads[i] + offset * dilations[i];
        inside = inside && coordinate >= 0 && coordinate < (*image)[i];
        position = position * (*image)[i] + coordinate;
      }
      table.push_back(inside ? position : imageSize);
    }
  }
  Composer c(n);
  OpBuilder &b = c.builder();
  int64_t columns = kernelSize * blockCount;
  int64_t imageChannels = ShapedType::isDynamic(channels) ? -1 : channels / kernelSize;
  Value values = c.reshape(*x, {0, imageChannels, columns});
  Value batchAndChannels = c.shape(values, 0, 2);
  Value positions = c.op<ExpandOp>({c.reshape(c.ints(table), {1, 1, columns}),
                                    c.concat({batchAndChannels, c.ints({columns})}, 0)});
  Value zeros = c.op<ConstantOfShapeOp>(
      {c.concat({batchAndChannels, c.ints({imageSize + 1})}, 0)},
      {c.named("value", b.getZeroAttr(xType.getElementType()))});
  Value sums = c.op<ScatterElementsOp>(
      {zeros, positions, values},
      {c.named("axis", b.getI64IntegerAttr(2)), c.named("reduction", b.getStringAttr("add"))});
  Value pixels = c.slice(sums, {0}, {imageSize}, {2});
  return c.output(0, c.reshape(pixels, c.concat({batchAndChannels, c.ints(*image)}, 0)));
}

/// Compress: the slices of x along `axis` (of x flattened without it) whose
/// condition holds. The k-th true condition's position goes to slot k of a
/// [count + 1] tensor (false ones to the last, sliced off), which Gather
/// reads; a true condition past the end of the axis fails the gather's
/// run-time index check.
static LogicalResult importCompress(NodeImporter &n) {
  auto x = n.requiredInput(0), condition = n.requiredInput(1);
  if (failed(x) || failed(condition))
    return failure();
  if (n.inputType(1).getRank() != 1) {
    n.emitError() << "condition must be 1-D, got " << n.inputType(1);
    return failure();
  }
  Composer c(n);
  OpBuilder &b = c.builder();
  Type i64 = b.getI64Type();
  Value data = *x;
  int64_t axis = 0;
  if (n.attribute("axis")) {
    auto normalized = n.axis(n.intAttr("axis", 0), n.inputType(0).getRank());
    if (failed(normalized))
      return failure();
    axis = *normalized;
  } else {
    data = c.reshape(data, {-1});
  }
  Value taken = c.cast(*condition, i64);
  Value count = c.reduce<ReduceSumOp>(taken, {0}, true);
  Value rank = c.op<CumSumOp>(
      {taken}, {c.named("axis", b.getI64IntegerAttr(0)), c.named("exclusive", b.getBoolAttr(true))});
  Value slot = c.where(*condition, rank, count);
  Value length = c.squeeze(c.shape(*condition, 0, 1), {0});
  Value positions = c.op<RangeOp>({c.scalar(i64, 0), length, c.scalar(i64, 1)});
  Value slots = c.op<ConstantOfShapeOp>({c.add(count, c.ints({1}))},
                                        {c.named("value", b.getI64IntegerAttr(0))});
  Value chosen = c.op<ScatterElementsOp>(
      {slots, slot, positions},
      {c.named("axis", b.getI64IntegerAttr(0)), c.named("reduction", b.getStringAttr("none"))});
  chosen = c.op<SliceOp>({chosen, c.ints({0}), count, c.ints({0}), c.ints({1})});
  return c.output(0, c.op<GatherOp>({data, chosen}, {c.named("axis", b.getI64IntegerAttr(axis))}));
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
  t["Col2Im"] = importCol2Im;
  t["Compress"] = importCompress;
}
