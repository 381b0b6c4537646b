//===- ShapeOps.cpp - ONNX data movement, shape and constant ops ----------===//
//
// Shape-computing inputs (reshape's shape, slice bounds, expand's shape)
// stay operands so that symbolic dims survive; they fold to constants as
// soon as the importer knows them. Inputs kiln keeps as attributes (axes,
// split sizes) must be compile-time constants.
//
//===----------------------------------------------------------------------===//

#include "../NodeImporter.h"
#include "../OnnxTensors.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::onnx_import;

static LogicalResult importConstant(NodeImporter &n) {
  Builder &b = n.getBuilder();
  Location loc = n.getLoc();
  Attribute value;
  if (n.attribute("value")) {
    const onnx::TensorProto *given = n.tensorAttr("value");
    if (!given)
      return failure();
    onnx::TensorProto tensor = *given;
    std::string name = n.getNode().output(0);
    if (tensor.name().empty())
      tensor.set_name(name); // for error messages
    value = convertTensor(tensor, name, n.modelDir, loc);
    if (!value)
      return failure();
  } else if (n.attribute("value_float")) {
    value = DenseElementsAttr::get(RankedTensorType::get({}, b.getF32Type()),
                                   n.floatAttr("value_float", 0));
  } else if (n.attribute("value_int")) {
    value = DenseElementsAttr::get(RankedTensorType::get({}, b.getI64Type()),
                                   n.intAttr("value_int", 0));
  } else if (n.attribute("value_floats")) {
    SmallVector<float> v = n.floatsAttr("value_floats").value_or(SmallVector<float>());
    value = DenseElementsAttr::get(
        RankedTensorType::get({(int64_t)v.size()}, b.getF32Type()), ArrayRef(v));
  } else if (n.attribute("value_ints")) {
    SmallVector<int64_t> v = n.intsAttr("value_ints").value_or(SmallVector<int64_t>());
    value = DenseElementsAttr::get(
        RankedTensorType::get({(int64_t)v.size()}, b.getI64Type()), ArrayRef(v));
  } else {
    n.emitError() << "only tensor, float(s) and int(s) constants are supported "
                     "(not sparse or string values)";
    return failure();
  }
  n.setOutput(0, ConstantOp::create(n.getBuilder(), loc, cast<ElementsAttr>(value)));
  return success();
}

static LogicalResult importShape(NodeImporter &n) {
  auto x = n.requiredInput(0);
  if (failed(x))
    return failure();
  int64_t rank = n.inputType(0).getRank();
  // ONNX clamps start and end into [0, rank] after adding rank to negatives.
  auto clampDim = [&](int64_t v) {
    return std::clamp<int64_t>(v < 0 ? v + rank : v, 0, rank);
  };
  int64_t start = clampDim(n.intAttr("start", 0));
  int64_t end = std::max(start, clampDim(n.intAttr("end", rank)));
  Builder &b = n.getBuilder();
  return n.createOutput<ShapeOp>({*x}, {n.named("start", b.getI64IntegerAttr(start)),
                                        n.named("end", b.getI64IntegerAttr(end))});
}

static LogicalResult importSize(NodeImporter &n) {
  auto x = n.requiredInput(0);
  if (failed(x))
    return failure();
  return n.createOutput<SizeOp>({*x});
}

static LogicalResult importGather(NodeImporter &n) {
  auto data = n.requiredInput(0), indices = n.requiredInput(1);
  if (failed(data) || failed(indices))
    return failure();
  auto axis = n.axis(n.intAttr("axis", 0), n.inputType(0).getRank());
  if (failed(axis))
    return failure();
  return n.createOutput<GatherOp>({*data, *indices},
                                  {n.named("axis", n.getBuilder().getI64IntegerAttr(*axis))});
}

static LogicalResult importGatherND(NodeImporter &n) {
  auto data = n.requiredInput(0), indices = n.requiredInput(1);
  if (failed(data) || failed(indices))
    return failure();
  return n.createOutput<GatherNDOp>(
      {*data, *indices},
      {n.named("batch_dims", n.getBuilder().getI64IntegerAttr(n.intAttr("batch_dims", 0)))});
}

static LogicalResult importReshape(NodeImporter &n) {
  auto data = n.requiredInput(0), shape = n.requiredInput(1);
  if (failed(data) || failed(shape))
    return failure();
  return n.createOutput<ReshapeOp>(
      {*data, *shape},
      {n.named("allowzero", n.getBuilder().getBoolAttr(n.intAttr("allowzero", 0) != 0))});
}

static LogicalResult importTranspose(NodeImporter &n) {
  auto x = n.requiredInput(0);
  if (failed(x))
    return failure();
  int64_t rank = n.inputType(0).getRank();
  SmallVector<int64_t> perm;
  for (int64_t i = rank - 1; i >= 0; --i)
    perm.push_back(i);
  perm = n.intsAttr("perm").value_or(perm);
  return n.createOutput<TransposeOp>(
      {*x}, {n.named("perm", n.getBuilder().getDenseI64ArrayAttr(perm))});
}

static LogicalResult importSlice(NodeImporter &n) {
  auto data = n.requiredInput(0), starts = n.requiredInput(1), ends = n.requiredInput(2);
  if (failed(data) || failed(starts) || failed(ends))
    return failure();
  auto startsType = n.inputType(1);
  if (startsType.getRank() != 1 || startsType.isDynamicDim(0)) {
    n.emitError() << "starts must be 1-D with a static length";
    return failure();
  }
  int64_t count = startsType.getDimSize(0);
  if (count > n.inputType(0).getRank()) {
    n.emitError() << "starts has " << count << " entries for an input of rank "
                  << n.inputType(0).getRank();
    return failure();
  }
  Value axes = n.input(3), steps = n.input(4);
  // kiln.slice needs ends, axes and steps as long as starts.
  static const char *const names[] = {"ends", "axes", "steps"};
  for (size_t i = 2; i <= 4; ++i) {
    if (!n.input(i))
      continue;
    RankedTensorType type = n.inputType(i);
    if (type.getRank() != 1 || type.getDimSize(0) != count) {
      n.emitError() << names[i - 2] << " must be 1-D with as many entries as starts (" << count
                    << ")";
      return failure();
    }
  }
  if (!axes) {
    SmallVector<int64_t> all;
    for (int64_t i = 0; i < count; ++i)
      all.push_back(i);
    axes = n.i64Constant(all);
  }
  if (!steps)
    steps = n.i64Constant(SmallVector<int64_t>(count, 1));
  return n.createOutput<SliceOp>({*data, *starts, *ends, axes, steps});
}

static LogicalResult importConcat(NodeImporter &n) {
  SmallVector<Value> inputs;
  for (size_t i = 0; i < n.numInputs(); ++i) {
    auto v = n.requiredInput(i);
    if (failed(v))
      return failure();
    inputs.push_back(*v);
  }
  if (inputs.empty()) {
    n.emitError() << "needs at least one input";
    return failure();
  }
  if (!n.attribute("axis")) {
    n.emitError() << "attribute 'axis' is required";
    return failure();
  }
  auto axis = n.axis(n.intAttr("axis", 0), n.inputType(0).getRank());
  if (failed(axis))
    return failure();
  return n.createOutput<ConcatOp>(inputs,
                                  {n.named("axis", n.getBuilder().getI64IntegerAttr(*axis))});
}

static LogicalResult importSplit(NodeImporter &n) {
  auto x = n.requiredInput(0);
  if (failed(x))
    return failure();
  auto axis = n.axis(n.intAttr("axis", 0), n.inputType(0).getRank());
  if (failed(axis))
    return failure();
  SmallVector<int64_t> sizes;
  if (n.input(1)) {
    auto given = n.constantInts(1, "split");
    if (failed(given))
      return failure();
    sizes = *given;
  } else if (auto attr = n.intsAttr("split"); attr && n.getOpset() < 13) {
    sizes = *attr;
  } else {
    int64_t dim = n.inputType(0).getDimSize(*axis);
    int64_t parts = n.getOpset() >= 18 ? n.intAttr("num_outputs", 0) : n.numOutputs();
    if (parts <= 0) {
      n.emitError() << "needs 'split' sizes or 'num_outputs'";
      return failure();
    }
    if (parts != (int64_t)n.numOutputs()) {
      n.emitError() << "has " << n.numOutputs() << " outputs for num_outputs " << parts;
      return failure();
    }
    if (ShapedType::isDynamic(dim)) {
      n.emitError() << "an even split needs a static dim " << *axis
                    << "; specialise the input with --input-shape";
      return failure();
    }
    // Before opset 18 the parts are equal; from 18 the last may be
    // smaller, but not empty (onnxruntime rejects both, as the spec's
    // "evenly splittable" and "smaller" read).
    int64_t chunk = (dim + parts - 1) / parts;
    if (n.getOpset() < 18 && dim % parts != 0) {
      n.emitError() << "dim " << *axis << " (" << dim << ") does not split evenly into "
                    << parts << " outputs";
      return failure();
    }
    if (dim - (parts - 1) * chunk <= 0) {
      n.emitError() << "num_outputs " << parts << " leaves the last output empty: dim "
                    << *axis << " (" << dim << ") splits into parts of " << chunk;
      return failure();
    }
    for (int64_t i = 0; i < parts; ++i)
      sizes.push_back(std::min(chunk, dim - i * chunk));
  }
  if (sizes.size() != n.numOutputs()) {
    n.emitError() << "has " << n.numOutputs() << " outputs for " << sizes.size()
                  << " split sizes";
    return failure();
  }
  Builder &b = n.getBuilder();
  auto results = n.createMulti<SplitOp>({*x},
                                        {n.named("axis", b.getI64IntegerAttr(*axis)),
                                         n.named("sizes", b.getDenseI64ArrayAttr(sizes))},
                                        sizes.size());
  if (failed(results))
    return failure();
  for (auto [i, v] : llvm::enumerate(*results))
    n.setOutput(i, v);
  return success();
}

/// Sorted, normalised axes from input 1 (or the `axes` attribute before
/// opset 13) for a result of rank `rank`.
static FailureOr<SmallVector<int64_t>> squeezeAxes(NodeImporter &n, int64_t rank) {
  SmallVector<int64_t> raw;
  if (n.input(1)) {
    auto given = n.constantInts(1, "axes");
    if (failed(given))
      return failure();
    raw = *given;
  }
  SmallVector<int64_t> axes;
  for (int64_t a : raw) {
    auto axis = n.axis(a, rank);
    if (failed(axis))
      return failure();
    axes.push_back(*axis);
  }
  llvm::sort(axes);
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end()) {
    n.emitError() << "axes are repeated";
    return failure();
  }
  return axes;
}

static LogicalResult importUnsqueeze(NodeImporter &n) {
  auto x = n.requiredInput(0);
  if (failed(x))
    return failure();
  if (!n.input(1)) {
    n.emitError() << "input 'axes' is required";
    return failure();
  }
  auto count = n.constantInts(1, "axes");
  if (failed(count))
    return failure();
  auto axes = squeezeAxes(n, n.inputType(0).getRank() + count->size());
  if (failed(axes))
    return failure();
  return n.createOutput<UnsqueezeOp>(
      {*x}, {n.named("axes", n.getBuilder().getDenseI64ArrayAttr(*axes))});
}

static LogicalResult importSqueeze(NodeImporter &n) {
  auto x = n.requiredInput(0);
  if (failed(x))
    return failure();
  auto type = n.inputType(0);
  auto axes = squeezeAxes(n, type.getRank());
  if (failed(axes))
    return failure();
  if (!n.input(1)) {
    // No axes: squeeze every size-1 dim, which must then be known.
    for (int64_t i = 0; i < type.getRank(); ++i) {
      if (type.isDynamicDim(i)) {
        n.emitError() << "squeeze without axes needs static dims; dim " << i
                      << " is symbolic";
        return failure();
      }
      if (type.getDimSize(i) == 1)
        axes->push_back(i);
    }
  }
  return n.createOutput<SqueezeOp>(
      {*x}, {n.named("axes", n.getBuilder().getDenseI64ArrayAttr(*axes))});
}

static LogicalResult importExpand(NodeImporter &n) {
  auto x = n.requiredInput(0), shape = n.requiredInput(1);
  if (failed(x) || failed(shape))
    return failure();
  return n.createOutput<ExpandOp>({*x, *shape});
}

static LogicalResult importTile(NodeImporter &n) {
  auto x = n.requiredInput(0), repeats = n.requiredInput(1);
  if (failed(x) || failed(repeats))
    return failure();
  return n.createOutput<TileOp>({*x, *repeats});
}

/// Flatten(x, axis) = reshape to [prod(dims before axis), prod(the rest)].
static LogicalResult importFlatten(NodeImporter &n) {
  auto x = n.requiredInput(0);
  if (failed(x))
    return failure();
  auto type = n.inputType(0);
  int64_t rank = type.getRank(), axis = n.intAttr("axis", 1);
  if (axis < -rank || axis > rank) {
    n.emitError() << "axis " << axis << " is out of range for rank " << rank;
    return failure();
  }
  if (axis < 0)
    axis += rank;
  auto product = [](ArrayRef<int64_t> dims) -> int64_t {
    int64_t p = 1;
    for (int64_t d : dims) {
      if (ShapedType::isDynamic(d))
        return -1;
      p *= d;
    }
    return p;
  };
  int64_t outer = product(type.getShape().take_front(axis));
  int64_t inner = product(type.getShape().drop_front(axis));
  Value shape;
  if (outer >= 0 || inner >= 0) {
    shape = n.i64Constant({outer, inner}); // at most one of them is -1
  } else {
    Builder &b = n.getBuilder();
    auto prefix = n.create<ShapeOp>({*x}, {n.named("start", b.getI64IntegerAttr(0)),
                                           n.named("end", b.getI64IntegerAttr(axis))});
    if (failed(prefix))
      return failure();
    auto outerDim = n.create<ReduceProdOp>(
        {*prefix}, {n.named("axes", b.getDenseI64ArrayAttr({0})),
                    n.named("keepdims", b.getBoolAttr(true))});
    if (failed(outerDim))
      return failure();
    auto full = n.create<ConcatOp>({*outerDim, n.i64Constant({-1})},
                                   {n.named("axis", b.getI64IntegerAttr(0))});
    if (failed(full))
      return failure();
    shape = *full;
  }
  return n.createOutput<ReshapeOp>({*x, shape});
}

static LogicalResult importRange(NodeImporter &n) {
  auto start = n.requiredInput(0), limit = n.requiredInput(1), delta = n.requiredInput(2);
  if (failed(start) || failed(limit) || failed(delta))
    return failure();
  return n.createOutput<RangeOp>({*start, *limit, *delta});
}

static LogicalResult importConstantOfShape(NodeImporter &n) {
  auto shape = n.requiredInput(0);
  if (failed(shape))
    return failure();
  Attribute value = FloatAttr::get(n.getBuilder().getF32Type(), 0.0);
  if (n.attribute("value")) {
    const onnx::TensorProto *given = n.tensorAttr("value");
    if (!given)
      return failure();
    onnx::TensorProto tensor = *given;
    ElementsAttr elements = convertTensor(tensor, "value", n.modelDir, n.getLoc());
    if (!elements)
      return failure();
    if (elements.getNumElements() != 1) {
      n.emitError() << "'value' must hold exactly one element";
      return failure();
    }
    value = *elements.getValues<Attribute>().begin();
  }
  return n.createOutput<ConstantOfShapeOp>({*shape}, {n.named("value", value)});
}

static LogicalResult importTrilu(NodeImporter &n) {
  auto x = n.requiredInput(0);
  if (failed(x))
    return failure();
  Value k = n.input(1);
  if (!k)
    k = n.scalarConstant(n.getBuilder().getI64Type(), 0);
  return n.createOutput<TriluOp>(
      {*x, k}, {n.named("upper", n.getBuilder().getBoolAttr(n.intAttr("upper", 1) != 0))});
}

void mlir::kiln::onnx_import::registerShapeOps(llvm::StringMap<OpHandler> &t) {
  t["Constant"] = importConstant;
  t["ConstantOfShape"] = importConstantOfShape;
  t["Range"] = importRange;
  t["Shape"] = importShape;
  t["Size"] = importSize;
  t["Gather"] = importGather;
  t["GatherND"] = importGatherND;
  t["Reshape"] = importReshape;
  t["Flatten"] = importFlatten;
  t["Transpose"] = importTranspose;
  t["Slice"] = importSlice;
  t["Concat"] = importConcat;
  t["Split"] = importSplit;
  t["Unsqueeze"] = importUnsqueeze;
  t["Squeeze"] = importSqueeze;
  t["Expand"] = importExpand;
  t["Tile"] = importTile;
  t["Trilu"] = importTrilu;
}
