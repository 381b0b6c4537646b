//===- IndexingOps.cpp - ONNX TopK, ScatterElements, ScatterND, OneHot ----===//
//
// TopK and the scatters are kiln ops (KilnIndexingOps.td); Scatter, the
// deprecated name of ScatterElements, imports as it. OneHot is composed:
// where(unsqueeze(index) == range(depth), on, off). MaxUnpool scatters X to
// the flat positions I of zeros of the unpooled shape ((in - 1) * stride -
// pads + kernel per spatial dim); an output_shape input pads that at the end
// of each dim, as ONNX's reference and its backend tests do (onnxruntime
// reads the indices as flat positions in output_shape instead).
//
//===----------------------------------------------------------------------===//

#include "Composer.h"
#include "mlir/IR/TypeUtilities.h"
#include "kiln/Dialect/Kiln/KilnShapeUtils.h"
#include "llvm/Support/CheckedArithmetic.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::onnx_import;

static LogicalResult importTopK(NodeImporter &n) {
  auto x = n.requiredInput(0);
  auto k = n.constantInts(1, "K");
  if (failed(x) || failed(k))
    return failure();
  if (k->size() != 1) {
    n.emitError() << "input 'K' must hold one value, got " << k->size();
    return failure();
  }
  auto axis = n.axis(n.intAttr("axis", -1), n.inputType(0).getRank());
  if (failed(axis))
    return failure();
  // sorted = 0 leaves the order to the implementation: Kiln sorts anyway.
  n.attributeHasNoEffect("sorted");
  Builder &b = n.getBuilder();
  auto results = n.createMulti<TopKOp>(
      {*x},
      {n.named("axis", b.getI64IntegerAttr(*axis)), n.named("k", b.getI64IntegerAttr((*k)[0])),
       n.named("largest", b.getBoolAttr(n.intAttr("largest", 1) != 0))},
      2);
  if (failed(results))
    return failure();
  n.setOutput(0, (*results)[0]);
  n.setOutput(1, (*results)[1]);
  return success();
}

/// The reduction attribute of ScatterElements and ScatterND.
static FailureOr<NamedAttribute> scatterReduction(NodeImporter &n) {
  std::string reduction = n.stringAttr("reduction", "none");
  if (reduction != "none" && reduction != "add" && reduction != "mul" && reduction != "max" &&
      reduction != "min") {
    n.emitError() << "reduction '" << reduction << "' is not one of none, add, mul, max, min";
    return failure();
  }
  return n.named("reduction", n.getBuilder().getStringAttr(reduction));
}

static LogicalResult importScatterElements(NodeImporter &n) {
  auto data = n.requiredInput(0), indices = n.requiredInput(1), updates = n.requiredInput(2);
  if (failed(data) || failed(indices) || failed(updates))
    return failure();
  auto axis = n.axis(n.intAttr("axis", 0), n.inputType(0).getRank());
  auto reduction = scatterReduction(n);
  if (failed(axis) || failed(reduction))
    return failure();
  return n.createOutput<ScatterElementsOp>(
      {*data, *indices, *updates},
      {n.named("axis", n.getBuilder().getI64IntegerAttr(*axis)), *reduction});
}

static LogicalResult importScatterND(NodeImporter &n) {
  auto data = n.requiredInput(0), indices = n.requiredInput(1), updates = n.requiredInput(2);
  auto reduction = scatterReduction(n);
  if (failed(data) || failed(indices) || failed(updates) || failed(reduction))
    return failure();
  return n.createOutput<ScatterNDOp>({*data, *indices, *updates}, {*reduction});
}

/// `v` as a 0-D tensor of `element` (a scalar or one-element 1-D input).
static FailureOr<Value> scalarOf(NodeImporter &n, Value v, Type element, StringRef what) {
  auto type = cast<RankedTensorType>(v.getType());
  if (!(type.getRank() == 0 || (type.getRank() == 1 && type.getDimSize(0) == 1))) {
    n.emitError() << "input '" << what << "' must hold one value, got " << type;
    return failure();
  }
  if (type.getRank() == 1) {
    auto reshaped = n.create<ReshapeOp>({v, n.i64Constant({})});
    if (failed(reshaped))
      return failure();
    v = *reshaped;
  }
  if (type.getElementType() == element)
    return v;
  return n.create<CastOp>({v}, {n.named("to", TypeAttr::get(element))});
}

static LogicalResult importOneHot(NodeImporter &n) {
  auto indices = n.requiredInput(0), depthInput = n.requiredInput(1), values = n.requiredInput(2);
  if (failed(indices) || failed(depthInput) || failed(values))
    return failure();
  int64_t rank = n.inputType(0).getRank();
  auto axis = n.axis(n.intAttr("axis", -1), rank + 1);
  if (failed(axis))
    return failure();
  auto valuesType = n.inputType(2);
  if (valuesType.getRank() != 1 || valuesType.getDimSize(0) != 2) {
    n.emitError() << "input 'values' must be [off_value, on_value], got " << valuesType;
    return failure();
  }
  Type i64 = n.getBuilder().getI64Type();
  // Float indices and depth are truncated to integers, as ONNX's reference does.
  auto depth = scalarOf(n, *depthInput, i64, "depth");
  FailureOr<Value> index = *indices;
  if (n.inputType(0).getElementType() != i64)
    index = n.create<CastOp>({*indices}, {n.named("to", TypeAttr::get(i64))});
  if (failed(depth) || failed(index))
    return failure();
  // Negative indices count from the end; indices outside [-depth, depth)
  // match no class and give all off_value.
  Value zero = n.scalarConstant(i64, 0);
  auto negative = n.create<LessOp>({*index, zero});
  auto wrapped = n.create<AddOp>({*index, *depth});
  if (failed(negative) || failed(wrapped))
    return failure();
  auto classOf = n.create<WhereOp>({*negative, *wrapped, *index});
  if (failed(classOf))
    return failure();
  auto column = n.create<UnsqueezeOp>(
      {*classOf}, {n.named("axes", n.getBuilder().getDenseI64ArrayAttr({*axis}))});
  auto classes = n.create<RangeOp>({zero, *depth, n.scalarConstant(i64, 1)});
  if (failed(column) || failed(classes))
    return failure();
  SmallVector<int64_t> along(rank + 1, 1);
  along[*axis] = -1;
  auto row = n.create<ReshapeOp>({*classes, n.i64Constant(along)});
  if (failed(row))
    return failure();
  auto hot = n.create<EqualOp>({*column, *row});
  auto off = n.create<GatherOp>({*values, n.scalarConstant(i64, 0)},
                                {n.named("axis", n.getBuilder().getI64IntegerAttr(0))});
  auto on = n.create<GatherOp>({*values, n.scalarConstant(i64, 1)},
                               {n.named("axis", n.getBuilder().getI64IntegerAttr(0))});
  if (failed(hot) || failed(off) || failed(on))
    return failure();
  return n.createOutput<WhereOp>({*hot, *on, *off});
}

static LogicalResult importMaxUnpool(NodeImporter &n) {
  auto x = n.requiredInput(0), indices = n.requiredInput(1);
  if (failed(x) || failed(indices))
    return failure();
  auto xType = n.inputType(0), iType = n.inputType(1);
  int64_t rank = xType.getRank(), spatial = rank - 2;
  if (spatial < 1 || iType.getRank() != rank ||
      failed(verifyCompatibleShape(xType.getShape(), iType.getShape()))) {
    n.emitError() << "needs X [N, C, d...] and indices I of its shape, got " << xType << " and "
                  << iType;
    return failure();
  }
  auto kernel = n.intsAttr("kernel_shape");
  SmallVector<int64_t> strides = n.intsAttr("strides").value_or(SmallVector<int64_t>(spatial, 1));
  SmallVector<int64_t> pads = n.intsAttr("pads").value_or(SmallVector<int64_t>(2 * spatial, 0));
  if (!kernel || (int64_t)kernel->size() != spatial || (int64_t)strides.size() != spatial ||
      (int64_t)pads.size() != 2 * spatial) {
    n.emitError() << "kernel_shape and strides need " << spatial << " entries, pads "
                  << 2 * spatial;
    return failure();
  }
  // The unpooled dim of input dim `in` is in * stride + (kernel - stride - pads).
  SmallVector<int64_t> scale(rank, 1), offset(rank, 0), unpooled(xType.getShape());
  for (int64_t i = 0; i < spatial; ++i) {
    if (strides[i] < 1 || (*kernel)[i] < 1) {
      n.emitError() << "kernel_shape and strides must be positive";
      return failure();
    }
    scale[i + 2] = strides[i];
    // Checked: a malformed model's sizes (near 2^63) give an error.
    std::optional<int64_t> shift = checkedSum({(*kernel)[i], -strides[i]}), padding =
                                       checkedSum({pads[i], pads[i + spatial]});
    std::optional<int64_t> sum = shift && padding ? llvm::checkedSub(*shift, *padding)
                                                  : std::nullopt;
    if (sum && !ShapedType::isDynamic(unpooled[i + 2])) {
      std::optional<int64_t> scaled = llvm::checkedMul(unpooled[i + 2], scale[i + 2]);
      std::optional<int64_t> size = scaled ? checkedSum({*scaled, *sum}) : std::nullopt;
      if (size)
        unpooled[i + 2] = *size;
      else
        sum = std::nullopt;
    }
    if (!sum) {
      n.emitError() << "the sizes of spatial dim " << i << " overflow int64";
      return failure();
    }
    offset[i + 2] = *sum;
  }
  // With output_shape, the unpooled tensor is padded at the end of each dim.
  SmallVector<int64_t> endPads;
  if (n.input(2)) {
    auto outputShape = n.constantInts(2, "output_shape");
    if (failed(outputShape))
      return failure();
    if ((int64_t)outputShape->size() != rank) {
      n.emitError() << "output_shape needs " << rank << " entries, got " << outputShape->size();
      return failure();
    }
    for (int64_t i = 0; i < rank; ++i) {
      int64_t pad = ShapedType::isDynamic(unpooled[i]) ? 0 : (*outputShape)[i] - unpooled[i];
      if (pad < 0 || (i < 2 && pad != 0) || (i >= 2 && ShapedType::isDynamic(unpooled[i]))) {
        n.emitError() << "output_shape [" << llvm::make_range(outputShape->begin(),
                                                               outputShape->end())
                      << "] must keep N and C and be at least the unpooled shape of each "
                         "(static) spatial dim";
        return failure();
      }
      endPads.push_back(pad);
    }
  }
  Composer c(n);
  OpBuilder &b = c.builder();
  Type element = xType.getElementType();
  // The unpooled shape, dim by dim so that its static dims stay known.
  SmallVector<Value> dims;
  for (int64_t i = 0; i < rank; ++i) {
    if (!ShapedType::isDynamic(unpooled[i]))
      dims.push_back(c.ints({unpooled[i]}));
    else if (i < 2)
      dims.push_back(c.shape(*x, i, i + 1));
    else
      dims.push_back(
          c.add(c.mul(c.shape(*x, i, i + 1), c.ints({scale[i]})), c.ints({offset[i]})));
  }
  Value shape = c.concat(dims, 0);
  Value zeros = c.op<ConstantOfShapeOp>({c.reduce<ReduceProdOp>(shape, {0}, true)},
                                        {c.named("value", b.getZeroAttr(element))});
  Value flat = c.op<ScatterElementsOp>(
      {zeros, c.reshape(c.cast(*indices, b.getI64Type()), {-1}), c.reshape(*x, {-1})},
      {c.named("axis", b.getI64IntegerAttr(0)), c.named("reduction", b.getStringAttr("none"))});
  Value y = c.reshape(flat, shape);
  if (!endPads.empty() && llvm::any_of(endPads, [](int64_t p) { return p != 0; })) {
    SmallVector<int64_t> allPads(rank, 0);
    allPads.append(endPads);
    y = c.op<PadOp>({y}, {c.named("pads", b.getDenseI64ArrayAttr(allPads))});
  }
  return c.output(0, y);
}

void mlir::kiln::onnx_import::registerIndexingOps(llvm::StringMap<OpHandler> &t) {
  t["TopK"] = importTopK;
  t["ScatterElements"] = importScatterElements;
  t["Scatter"] = importScatterElements;
  t["ScatterND"] = importScatterND;
  t["OneHot"] = importOneHot;
  t["MaxUnpool"] = importMaxUnpool;
}
