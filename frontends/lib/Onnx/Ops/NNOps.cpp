//===- NNOps.cpp - ONNX Pad, BatchNormalization, pooling, Q/DQ -------------===//

#include "Composer.h"
#include "../OnnxTensors.h"
#include "kiln/Dialect/Kiln/KilnShapeUtils.h"
#include "llvm/Support/CheckedArithmetic.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::onnx_import;

FailureOr<SmallVector<int64_t>>
mlir::kiln::onnx_import::windowPads(NodeImporter &n, ArrayRef<int64_t> inputSpatial,
                                    ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
                                    ArrayRef<int64_t> dilations) {
  int64_t spatial = inputSpatial.size();
  SmallVector<int64_t> pads(2 * spatial, 0);
  std::string autoPad = n.stringAttr("auto_pad", "NOTSET");
  if (autoPad == "NOTSET") {
    pads = n.intsAttr("pads").value_or(pads);
    if ((int64_t)pads.size() != 2 * spatial) {
      n.emitError() << "pads needs " << 2 * spatial << " entries, got " << pads.size();
      return failure();
    }
    return pads;
  }
  if (autoPad == "VALID")
    return pads;
  if (autoPad != "SAME_UPPER" && autoPad != "SAME_LOWER") {
    n.emitError() << "unknown auto_pad '" << autoPad << "'";
    return failure();
  }
  // SAME: the output has ceil(in / stride) elements; the padding it needs is
  // split evenly, the odd one at the end (SAME_UPPER) or the beginning.
  // With stride 1 it is (k - 1) * dilation whatever the input's size.
  for (int64_t i = 0; i < spatial; ++i) {
    int64_t in = inputSpatial[i], k = kernel[i];
    if (ShapedType::isDynamic(k) || (ShapedType::isDynamic(in) && strides[i] != 1)) {
      n.emitError() << "auto_pad " << autoPad << " needs a static kernel, and static spatial "
                       "dims where the stride is not 1; specialise the input with --input-shape";
      return failure();
    }
    if (strides[i] < 1 || dilations[i] < 1) {
      n.emitError() << "strides and dilations must be positive";
      return failure();
    }
    // Checked arithmetic: a malformed model's sizes must give an error.
    std::optional<int64_t> total = llvm::checkedMul(k - 1, dilations[i]);
    if (total && !ShapedType::isDynamic(in)) {
      int64_t out = in / strides[i] + (in % strides[i] != 0);
      std::optional<int64_t> covered = llvm::checkedMul(out - 1, strides[i]);
      total = covered ? mlir::kiln::checkedSum({*covered, *total, 1, -in}) : std::nullopt;
      if (total)
        total = std::max<int64_t>(0, *total);
    }
    if (!total) {
      n.emitError() << "the sizes of spatial dim " << i << " overflow int64";
      return failure();
    }
    int64_t small = *total / 2;
    pads[i] = autoPad == "SAME_UPPER" ? small : *total - small;
    pads[i + spatial] = *total - pads[i];
  }
  return pads;
}

//===----------------------------------------------------------------------===//
// Pad
//===----------------------------------------------------------------------===//

/// Pad: pads (and, from opset 18, the axes they apply to) are constant
/// inputs; constant_value is an optional scalar input.
static LogicalResult importPad(NodeImporter &n) {
  auto x = n.requiredInput(0);
  if (failed(x))
    return failure();
  int64_t rank = n.inputType(0).getRank();
  auto rawPads = n.constantInts(1, "pads");
  if (failed(rawPads))
    return failure();
  std::optional<SmallVector<int64_t>> rawAxes;
  if (n.input(3)) {
    auto given = n.constantInts(3, "axes");
    if (failed(given))
      return failure();
    rawAxes = *given;
  }
  auto normalizedAxes = n.axesOrAll(rawAxes, rank);
  if (failed(normalizedAxes))
    return failure();
  SmallVector<int64_t> axes = *normalizedAxes;
  int64_t count = axes.size();
  if ((int64_t)rawPads->size() != 2 * count) {
    n.emitError() << "input 'pads' needs " << 2 * count << " values, got " << rawPads->size();
    return failure();
  }
  SmallVector<int64_t> pads(2 * rank, 0);
  for (auto [i, axis] : llvm::enumerate(axes)) {
    pads[axis] = (*rawPads)[i];
    pads[axis + rank] = (*rawPads)[i + count];
  }
  std::string mode = n.stringAttr("mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge" && mode != "wrap") {
    n.emitError() << "mode must be 'constant', 'reflect', 'edge' or 'wrap', got '" << mode << "'";
    return failure();
  }
  SmallVector<Value> operands{*x};
  if (Value value = n.input(2); value && mode == "constant")
    operands.push_back(value);
  Builder &b = n.getBuilder();
  return n.createOutput<PadOp>(operands, {n.named("pads", b.getDenseI64ArrayAttr(pads)),
                                          n.named("mode", b.getStringAttr(mode))});
}

//===----------------------------------------------------------------------===//
// BatchNormalization
//===----------------------------------------------------------------------===//

/// `v` in element type `element` (ONNX lets the parameters of
/// BatchNormalization, and a QuantizeLinear scale, differ from the input).
static FailureOr<Value> castToElement(NodeImporter &n, Value v, Type element) {
  if (cast<RankedTensorType>(v.getType()).getElementType() == element)
    return v;
  return n.create<CastOp>({v}, {n.named("to", TypeAttr::get(element))});
}

/// BatchNormalization. In training mode (opset 14 on) it normalises with the
/// batch's own statistics, the mean and (population) variance over every
/// dim but the channels, and also outputs the running statistics
/// input * momentum + batch * (1 - momentum); all of it deterministic, built
/// from kiln reductions and elementwise ops around kiln.batch_norm.
static LogicalResult importBatchNorm(NodeImporter &n) {
  SmallVector<Value> operands;
  Type element = n.inputType(0).getElementType();
  for (size_t i = 0; i < 5; ++i) {
    auto v = n.requiredInput(i);
    if (failed(v))
      return failure();
    auto converted = castToElement(n, *v, element);
    if (failed(converted))
      return failure();
    operands.push_back(*converted);
  }
  Builder &b = n.getBuilder();
  NamedAttribute epsilon =
      n.named("epsilon", b.getF32FloatAttr(n.floatAttr("epsilon", 1e-5f)));
  if (n.intAttr("training_mode", 0) == 0) {
    // momentum only updates the running statistics, which inference keeps.
    n.attributeHasNoEffect("momentum");
    return n.createOutput<BatchNormOp>(operands, {epsilon});
  }

  int64_t rank = n.inputType(0).getRank();
  SmallVector<int64_t> axes{0};
  for (int64_t i = 2; i < rank; ++i)
    axes.push_back(i);
  auto reduceMean = [&](Value v, bool keepdims) {
    return n.create<ReduceMeanOp>({v}, {n.named("axes", b.getDenseI64ArrayAttr(axes)),
                                        n.named("keepdims", b.getBoolAttr(keepdims))});
  };
  Value x = operands[0];
  auto keptMean = reduceMean(x, /*keepdims=*/true);
  if (failed(keptMean))
    return failure();
  auto centered = n.create<SubOp>({x, *keptMean});
  if (failed(centered))
    return failure();
  auto squared = n.create<MulOp>({*centered, *centered});
  if (failed(squared))
    return failure();
  auto mean = reduceMean(x, /*keepdims=*/false);
  auto variance = reduceMean(*squared, /*keepdims=*/false);
  if (failed(mean) || failed(variance))
    return failure();
  auto y = n.create<BatchNormOp>({x, operands[1], operands[2], *mean, *variance}, {epsilon});
  if (failed(y))
    return failure();
  n.setOutput(0, *y);
  double momentum = n.floatAttr("momentum", 0.9f);
  Value keep = n.scalarConstant(element, momentum), take = n.scalarConstant(element, 1 - momentum);
  for (auto [output, running, batch] : {std::tuple(1, operands[3], *mean),
                                        std::tuple(2, operands[4], *variance)}) {
    if (!n.isOutputUsed(output))
      continue;
    auto kept = n.create<MulOp>({running, keep});
    auto taken = n.create<MulOp>({batch, take});
    if (failed(kept) || failed(taken))
      return failure();
    auto updated = n.create<AddOp>({*kept, *taken});
    if (failed(updated))
      return failure();
    n.setOutput(output, *updated);
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

/// MaxPool's Indices: the flat position in x (row-major over N, C and the
/// spatial dims; with storage_order 1 the spatial dims column-major) of
/// each window's maximum, the first in the window's row-major order on
/// ties. Composed over the kernel's offsets: each offset's strided slice of
/// x (padded with the lowest value, its indices with -1) replaces the
/// running maximum and its index where it is strictly greater, or where the
/// running one is padding and it is not (padding never wins, even against
/// an element that equals the lowest value). Needs static spatial dims;
/// null on failure (reported).
static Value maxPoolIndices(NodeImporter &n, Value x, Value y, ArrayRef<int64_t> kernel,
                            ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
                            ArrayRef<int64_t> dilations) {
  auto xType = cast<RankedTensorType>(x.getType()), yType = cast<RankedTensorType>(y.getType());
  int64_t rank = xType.getRank(), spatial = rank - 2;
  ArrayRef<int64_t> in = xType.getShape().drop_front(2), out = yType.getShape().drop_front(2);
  if (llvm::any_of(in, ShapedType::isDynamic) || llvm::any_of(out, ShapedType::isDynamic)) {
    n.emitError() << "the Indices output needs static spatial dims; specialise the input with "
                     "--input-shape";
    return {};
  }
  int64_t storageOrder = n.intAttr("storage_order", 0);
  if (storageOrder != 0 && storageOrder != 1) {
    n.emitError() << "storage_order must be 0 or 1, got " << storageOrder;
    return {};
  }
  Composer c(n);
  OpBuilder &b = c.builder();
  Type element = xType.getElementType(), i64 = b.getI64Type();
  // The flat index of every element of x.
  Value total = c.squeeze(c.reduce<ReduceProdOp>(c.shape(x, 0, rank), {0}, true), {0});
  Value flat = c.op<RangeOp>({c.scalar(i64, 0), total, c.scalar(i64, 1)});
  SmallVector<int64_t> dims(in);
  if (storageOrder == 1)
    std::reverse(dims.begin(), dims.end());
  Value index = c.reshape(flat, c.concat({c.shape(x, 0, 2), c.ints(dims)}, 0));
  if (storageOrder == 1) {
    SmallVector<int64_t> perm{0, 1};
    for (int64_t i = rank - 1; i >= 2; --i)
      perm.push_back(i);
    index = c.transpose(index, perm);
  }
  // Pad so that every offset's slice is in bounds (ceil_mode may need more
  // than the end pads).
  SmallVector<int64_t> allPads(2 * rank, 0);
  for (int64_t i = 0; i < spatial; ++i) {
    int64_t needed = (out[i] - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1;
    allPads[2 + i] = pads[i];
    allPads[rank + 2 + i] = std::max(pads[spatial + i], needed - in[i] - pads[i]);
  }
  double lowest = -std::numeric_limits<double>::infinity();
  if (element.isUnsignedInteger())
    lowest = 0;
  else if (!isa<FloatType>(element))
    lowest = -std::ldexp(1.0, element.getIntOrFloatBitWidth() - 1);
  auto padded = [&](Value v, Value value) {
    SmallVector<Value> operands{v};
    if (value)
      operands.push_back(value);
    return c.op<PadOp>(operands, {c.named("pads", b.getDenseI64ArrayAttr(allPads))});
  };
  Value values = padded(x, c.scalar(element, lowest)), indices = padded(index, c.scalar(i64, -1));
  Value best, bestIndex;
  SmallVector<int64_t> offset(spatial, 0), axes, steps(strides);
  for (int64_t i = 0; i < spatial; ++i)
    axes.push_back(i + 2);
  while (true) {
    SmallVector<int64_t> starts, ends;
    for (int64_t i = 0; i < spatial; ++i) {
      starts.push_back(offset[i] * dilations[i]);
      ends.push_back(starts.back() + (out[i] - 1) * strides[i] + 1);
    }
    auto window = [&](Value v) {
      return c.op<SliceOp>({v, c.ints(starts), c.ints(ends), c.ints(axes), c.ints(steps)});
    };
    Value value = window(values), at = window(indices);
    if (!best) {
      best = value;
      bestIndex = at;
    } else {
      Value zero = c.scalar(i64, 0);
      Value overPadding = c.op<AndOp>(
          {c.op<LessOp>({bestIndex, zero}), c.op<GreaterEqualOp>({at, zero})});
      Value greater = c.op<OrOp>({c.op<GreaterOp>({value, best}), overPadding});
      best = c.where(greater, value, best);
      bestIndex = c.where(greater, at, bestIndex);
    }
    // The next offset, the last spatial dim fastest.
    int64_t i = spatial - 1;
    while (i >= 0 && ++offset[i] == kernel[i])
      offset[i--] = 0;
    if (i < 0)
      break;
  }
  return bestIndex;
}

template <typename OpTy>
static LogicalResult importPool(NodeImporter &n) {
  auto x = n.requiredInput(0);
  if (failed(x))
    return failure();
  auto xt = n.inputType(0);
  int64_t spatial = xt.getRank() - 2;
  if (spatial < 1) {
    n.emitError() << "input must have rank >= 3 (N, C, spatial...)";
    return failure();
  }
  auto kernel = n.intsAttr("kernel_shape");
  if (!kernel || (int64_t)kernel->size() != spatial) {
    n.emitError() << "kernel_shape needs " << spatial << " entries";
    return failure();
  }
  auto orOnes = [&](StringRef name) {
    return n.intsAttr(name).value_or(SmallVector<int64_t>(spatial, 1));
  };
  SmallVector<int64_t> strides = orOnes("strides"), dilations = orOnes("dilations");
  if ((int64_t)strides.size() != spatial || (int64_t)dilations.size() != spatial) {
    n.emitError() << "strides and dilations need " << spatial << " entries";
    return failure();
  }
  auto pads = windowPads(n, xt.getShape().drop_front(2), *kernel, strides, dilations);
  if (failed(pads))
    return failure();
  bool ceilMode = n.intAttr("ceil_mode", 0) != 0;
  Builder &b = n.getBuilder();
  SmallVector<NamedAttribute> attrs{n.named("kernel_shape", b.getDenseI64ArrayAttr(*kernel)),
                                    n.named("strides", b.getDenseI64ArrayAttr(strides)),
                                    n.named("pads", b.getDenseI64ArrayAttr(*pads)),
                                    n.named("dilations", b.getDenseI64ArrayAttr(dilations)),
                                    n.named("ceil_mode", b.getBoolAttr(ceilMode))};
  if constexpr (std::is_same_v<OpTy, AveragePoolOp>) {
    attrs.push_back(
        n.named("count_include_pad", b.getBoolAttr(n.intAttr("count_include_pad", 0) != 0)));
  } else if constexpr (std::is_same_v<OpTy, LpPoolOp>) {
    int64_t p = n.intAttr("p", 2);
    if (p < 1) {
      n.emitError() << "p must be at least 1, got " << p;
      return failure();
    }
    attrs.push_back(n.named("p", b.getI64IntegerAttr(p)));
  }
  auto y = n.create<OpTy>({*x}, attrs);
  if (failed(y))
    return failure();
  n.setOutput(0, *y);
  if constexpr (std::is_same_v<OpTy, MaxPoolOp>) {
    if (n.isOutputUsed(1))
      return Composer(n).output(1, maxPoolIndices(n, *x, *y, *kernel, strides, *pads, dilations));
    // It orders the Indices output only, which nothing reads.
    n.attributeHasNoEffect("storage_order");
  }
  return success();
}

/// GlobalAveragePool and GlobalMaxPool reduce all spatial dims, kept.
template <typename OpTy>
static LogicalResult importGlobalPool(NodeImporter &n) {
  auto x = n.requiredInput(0);
  if (failed(x))
    return failure();
  int64_t rank = n.inputType(0).getRank();
  if (rank < 3) {
    n.emitError() << "input must have rank >= 3 (N, C, spatial...)";
    return failure();
  }
  SmallVector<int64_t> axes;
  for (int64_t i = 2; i < rank; ++i)
    axes.push_back(i);
  Builder &b = n.getBuilder();
  return n.createOutput<OpTy>({*x}, {n.named("axes", b.getDenseI64ArrayAttr(axes)),
                                     n.named("keepdims", b.getBoolAttr(true))});
}

//===----------------------------------------------------------------------===//
// DequantizeLinear and QuantizeLinear
//===----------------------------------------------------------------------===//

/// The normalised axis of a per-axis or blocked scale (the attribute's
/// value is irrelevant to a per-tensor scale).
static FailureOr<int64_t> quantAxis(NodeImporter &n) {
  auto st = n.inputType(1);
  int64_t rank = n.inputType(0).getRank(), axis = n.intAttr("axis", 1);
  bool perTensor = n.intAttr("block_size", 0) == 0 &&
                   (st.getRank() == 0 || (st.getRank() == 1 && st.getDimSize(0) == 1));
  if (perTensor)
    return normalizeAxis(axis, rank).value_or(0);
  return n.axis(axis, rank);
}

static LogicalResult importDequantizeLinear(NodeImporter &n) {
  auto x = n.requiredInput(0), scale = n.requiredInput(1);
  if (failed(x) || failed(scale))
    return failure();
  auto axis = quantAxis(n);
  if (failed(axis))
    return failure();
  SmallVector<Value> operands{*x, *scale};
  if (Value zp = n.input(2))
    operands.push_back(zp);
  Builder &b = n.getBuilder();
  auto result = n.create<DequantizeLinearOp>(
      operands, {n.named("axis", b.getI64IntegerAttr(*axis)),
                 n.named("block_size", b.getI64IntegerAttr(n.intAttr("block_size", 0)))});
  if (failed(result))
    return failure();
  Value y = *result;
  if (n.attribute("output_dtype") && n.intAttr("output_dtype", 0) != 0) {
    int64_t dtype = n.intAttr("output_dtype", 0);
    Type to = getElementType(n.getContext(), dtype);
    if (!isa_and_nonnull<FloatType>(to)) {
      n.emitError() << "output_dtype " << dataTypeName(dtype) << " is not a float type";
      return failure();
    }
    auto converted = castToElement(n, y, to);
    if (failed(converted))
      return failure();
    y = *converted;
  }
  n.setOutput(0, y);
  return success();
}

static LogicalResult importQuantizeLinear(NodeImporter &n) {
  auto x = n.requiredInput(0), scale = n.requiredInput(1);
  if (failed(x) || failed(scale))
    return failure();
  auto axis = quantAxis(n);
  if (failed(axis))
    return failure();
  Value zp = n.input(2);
  Type to;
  if (zp) {
    to = n.inputType(2).getElementType();
  } else {
    int64_t dtype = n.intAttr("output_dtype", 0);
    to = dtype ? getElementType(n.getContext(), dtype) : n.getBuilder().getIntegerType(8, false);
    if (!isa_and_nonnull<IntegerType>(to) || to.isInteger(1)) {
      n.emitError() << "output_dtype " << dataTypeName(dtype) << " is not supported";
      return failure();
    }
  }
  auto converted = castToElement(n, *scale, n.inputType(0).getElementType());
  if (failed(converted))
    return failure();
  SmallVector<Value> operands{*x, *converted};
  if (zp)
    operands.push_back(zp);
  Builder &b = n.getBuilder();
  return n.createOutput<QuantizeLinearOp>(
      operands, {n.named("to", TypeAttr::get(to)), n.named("axis", b.getI64IntegerAttr(*axis)),
                 n.named("block_size", b.getI64IntegerAttr(n.intAttr("block_size", 0)))});
}

void mlir::kiln::onnx_import::registerNNOps(llvm::StringMap<OpHandler> &t) {
  t["Pad"] = importPad;
  t["BatchNormalization"] = importBatchNorm;
  t["MaxPool"] = importPool<MaxPoolOp>;
  t["AveragePool"] = importPool<AveragePoolOp>;
  t["LpPool"] = importPool<LpPoolOp>;
  t["GlobalAveragePool"] = importGlobalPool<ReduceMeanOp>;
  t["GlobalMaxPool"] = importGlobalPool<ReduceMaxOp>;
  t["DequantizeLinear"] = importDequantizeLinear;
  t["QuantizeLinear"] = importQuantizeLinear;
}
