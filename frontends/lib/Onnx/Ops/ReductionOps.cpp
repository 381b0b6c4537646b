//===- ReductionOps.cpp - ONNX reductions, scans, softmax and norms -------===//

#include "../NodeImporter.h"
#include "../OnnxTensors.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::onnx_import;

/// Opset at which each Reduce* op took its axes as an input, not an attribute.
static int64_t axesBecameInput(StringRef opType) {
  return opType == "ReduceSum" ? 13 : 18;
}

/// The sorted, normalised axes a Reduce* node reduces over, or nullopt when
/// it is the identity (empty axes with noop_with_empty_axes).
static FailureOr<std::optional<SmallVector<int64_t>>> reduceAxes(NodeImporter &n) {
  int64_t rank = n.inputType(0).getRank();
  SmallVector<int64_t> rawAxes;
  if (n.getOpset() >= axesBecameInput(n.getNode().op_type())) {
    if (n.input(1)) {
      auto axes = n.constantInts(1, "axes");
      if (failed(axes))
        return failure();
      rawAxes = *axes;
    }
  } else {
    rawAxes = n.intsAttr("axes").value_or(SmallVector<int64_t>());
  }
  if (rawAxes.empty()) {
    if (n.intAttr("noop_with_empty_axes", 0))
      return std::optional<SmallVector<int64_t>>();
    for (int64_t i = 0; i < rank; ++i)
      rawAxes.push_back(i);
  }
  SmallVector<int64_t> axes;
  for (int64_t a : rawAxes) {
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
  return std::optional(axes);
}

/// Builds reduction OpTy of `x` over `axes`.
template <typename OpTy>
static FailureOr<Value> buildReduce(NodeImporter &n, Value x, ArrayRef<int64_t> axes,
                                    bool keepdims) {
  Builder &b = n.getBuilder();
  return n.create<OpTy>({x}, {n.named("axes", b.getDenseI64ArrayAttr(axes)),
                              n.named("keepdims", b.getBoolAttr(keepdims))});
}

template <typename OpTy>
static LogicalResult importReduce(NodeImporter &n) {
  auto x = n.requiredInput(0);
  if (failed(x))
    return failure();
  auto axes = reduceAxes(n);
  if (failed(axes))
    return failure();
  if (!*axes) {
    n.attributeHasNoEffect("keepdims"); // no axes reduced: x as it is
    n.setOutput(0, *x);
    return success();
  }
  auto result = buildReduce<OpTy>(n, *x, **axes, n.intAttr("keepdims", 1) != 0);
  if (failed(result))
    return failure();
  n.setOutput(0, *result);
  return success();
}

/// A reduction that ONNX defines as `post(ReduceSum(pre(x)))` (ReduceL1,
/// ReduceL2, ReduceSumSquare, ReduceLogSum); with noop_with_empty_axes and
/// no axes the sum is skipped. Both steps are kiln elementwise ops.
using ElementwiseStep = FailureOr<Value> (*)(NodeImporter &, Value);

static FailureOr<Value> squareOf(NodeImporter &n, Value x) { return n.create<MulOp>({x, x}); }
static FailureOr<Value> absOf(NodeImporter &n, Value x) { return n.create<AbsOp>({x}); }
static FailureOr<Value> sqrtOf(NodeImporter &n, Value x) { return n.create<SqrtOp>({x}); }
static FailureOr<Value> logOf(NodeImporter &n, Value x) { return n.create<LogOp>({x}); }

static LogicalResult importSumReduction(NodeImporter &n, ElementwiseStep pre,
                                        ElementwiseStep post) {
  auto x = n.requiredInput(0);
  if (failed(x))
    return failure();
  auto axes = reduceAxes(n);
  if (failed(axes))
    return failure();
  FailureOr<Value> value = *x;
  if (pre)
    value = pre(n, *value);
  if (succeeded(value) && *axes)
    value = buildReduce<ReduceSumOp>(n, *value, **axes, n.intAttr("keepdims", 1) != 0);
  else
    n.attributeHasNoEffect("keepdims"); // no axes reduced: x's shape as it is
  if (succeeded(value) && post)
    value = post(n, *value);
  if (failed(value))
    return failure();
  n.setOutput(0, *value);
  return success();
}

/// ReduceLogSumExp, shifted by the maximum so that large inputs do not
/// overflow: m + log(sum(exp(x - m))) with m = max(x) over the axes.
static LogicalResult importReduceLogSumExp(NodeImporter &n) {
  auto x = n.requiredInput(0);
  if (failed(x))
    return failure();
  auto axes = reduceAxes(n);
  if (failed(axes))
    return failure();
  if (!*axes) {
    n.attributeHasNoEffect("keepdims"); // no axes reduced: x as it is
    n.setOutput(0, *x); // log(exp(x)) = x
    return success();
  }
  bool keepdims = n.intAttr("keepdims", 1) != 0;
  auto max = buildReduce<ReduceMaxOp>(n, *x, **axes, /*keepdims=*/true);
  if (failed(max))
    return failure();
  auto shifted = n.create<SubOp>({*x, *max});
  if (failed(shifted))
    return failure();
  auto exp = n.create<ExpOp>({*shifted});
  if (failed(exp))
    return failure();
  auto sum = buildReduce<ReduceSumOp>(n, *exp, **axes, keepdims);
  if (failed(sum))
    return failure();
  auto log = n.create<LogOp>({*sum});
  if (failed(log))
    return failure();
  Value shift = *max;
  if (!keepdims) {
    auto squeezed = n.create<SqueezeOp>(
        {shift}, {n.named("axes", n.getBuilder().getDenseI64ArrayAttr(**axes))});
    if (failed(squeezed))
      return failure();
    shift = *squeezed;
  }
  return n.createOutput<AddOp>({*log, shift});
}

template <typename OpTy>
static LogicalResult importArgExtremum(NodeImporter &n) {
  auto x = n.requiredInput(0);
  if (failed(x))
    return failure();
  auto axis = n.axis(n.intAttr("axis", 0), n.inputType(0).getRank());
  if (failed(axis))
    return failure();
  Builder &b = n.getBuilder();
  return n.createOutput<OpTy>(
      {*x}, {n.named("axis", b.getI64IntegerAttr(*axis)),
             n.named("keepdims", b.getBoolAttr(n.intAttr("keepdims", 1) != 0)),
             n.named("select_last_index", b.getBoolAttr(n.intAttr("select_last_index", 0) != 0))});
}

static LogicalResult importHardmax(NodeImporter &n) {
  auto x = n.requiredInput(0);
  if (failed(x))
    return failure();
  auto axis = n.axis(n.intAttr("axis", -1), n.inputType(0).getRank());
  if (failed(axis))
    return failure();
  return n.createOutput<HardmaxOp>({*x},
                                   {n.named("axis", n.getBuilder().getI64IntegerAttr(*axis))});
}

/// CumSum takes its axis as a (constant) scalar input.
static LogicalResult importCumSum(NodeImporter &n) {
  auto x = n.requiredInput(0);
  if (failed(x))
    return failure();
  auto axisValues = n.constantInts(1, "axis");
  if (failed(axisValues))
    return failure();
  if (axisValues->size() != 1) {
    n.emitError() << "input 'axis' must hold one value, got " << axisValues->size();
    return failure();
  }
  auto axis = n.axis(axisValues->front(), n.inputType(0).getRank());
  if (failed(axis))
    return failure();
  Builder &b = n.getBuilder();
  return n.createOutput<CumSumOp>(
      {*x}, {n.named("axis", b.getI64IntegerAttr(*axis)),
             n.named("exclusive", b.getBoolAttr(n.intAttr("exclusive", 0) != 0)),
             n.named("reverse", b.getBoolAttr(n.intAttr("reverse", 0) != 0))});
}

static LogicalResult importSoftmax(NodeImporter &n, bool log) {
  auto x = n.requiredInput(0);
  if (failed(x))
    return failure();
  auto axis = n.axis(n.intAttr("axis", -1), n.inputType(0).getRank());
  if (failed(axis))
    return failure();
  Builder &b = n.getBuilder();
  return n.createOutput<SoftmaxOp>({*x}, {n.named("axis", b.getI64IntegerAttr(*axis)),
                                          n.named("log", b.getBoolAttr(log))});
}

/// LayerNormalization's optional Mean and InvStdDev outputs (training
/// statistics), computed in `stash_type` over the dims from `axis` on:
/// mean(x) and 1 / sqrt(mean((x - mean)^2) + epsilon), dims kept.
static LogicalResult importLayerNormStatistics(NodeImporter &n, Value x, int64_t axis,
                                               float epsilon) {
  Builder &b = n.getBuilder();
  int64_t stashType = n.intAttr("stash_type", onnx::TensorProto::FLOAT);
  Type stash = getElementType(n.getContext(), stashType);
  if (!stash || !isa<FloatType>(stash)) {
    n.emitError() << "stash_type " << dataTypeName(stashType) << " is not a float type";
    return failure();
  }
  if (cast<RankedTensorType>(x.getType()).getElementType() != stash) {
    auto converted = n.create<CastOp>({x}, {n.named("to", TypeAttr::get(stash))});
    if (failed(converted))
      return failure();
    x = *converted;
  }
  SmallVector<int64_t> axes;
  for (int64_t i = axis; i < cast<RankedTensorType>(x.getType()).getRank(); ++i)
    axes.push_back(i);
  NamedAttribute reduceAttrs[] = {n.named("axes", b.getDenseI64ArrayAttr(axes)),
                                  n.named("keepdims", b.getBoolAttr(true))};
  auto mean = n.create<ReduceMeanOp>({x}, reduceAttrs);
  if (failed(mean))
    return failure();
  auto centered = n.create<SubOp>({x, *mean});
  if (failed(centered))
    return failure();
  auto squared = n.create<MulOp>({*centered, *centered});
  if (failed(squared))
    return failure();
  auto variance = n.create<ReduceMeanOp>({*squared}, reduceAttrs);
  if (failed(variance))
    return failure();
  auto shifted = n.create<AddOp>({*variance, n.scalarConstant(stash, epsilon)});
  if (failed(shifted))
    return failure();
  auto stdDev = n.create<SqrtOp>({*shifted});
  if (failed(stdDev))
    return failure();
  auto invStdDev = n.create<ReciprocalOp>({*stdDev});
  if (failed(invStdDev))
    return failure();
  n.setOutput(1, *mean);
  n.setOutput(2, *invStdDev);
  return success();
}

static LogicalResult importLayerNorm(NodeImporter &n) {
  auto x = n.requiredInput(0), scale = n.requiredInput(1);
  if (failed(x) || failed(scale))
    return failure();
  auto axis = n.axis(n.intAttr("axis", -1), n.inputType(0).getRank());
  if (failed(axis))
    return failure();
  float epsilon = n.floatAttr("epsilon", 1e-5f);
  SmallVector<Value> operands{*x, *scale};
  if (Value bias = n.input(2))
    operands.push_back(bias);
  Builder &b = n.getBuilder();
  if (failed(n.createOutput<LayerNormOp>(
          operands, {n.named("axis", b.getI64IntegerAttr(*axis)),
                     n.named("epsilon", b.getF32FloatAttr(epsilon))})))
    return failure();
  if (n.isOutputUsed(1) || n.isOutputUsed(2))
    return importLayerNormStatistics(n, *x, *axis, epsilon);
  return success();
}

/// RMSNormalization (opset 23). As for LayerNormalization's main output,
/// Kiln computes in the input's element type whatever float stash_type says.
static LogicalResult importRmsNorm(NodeImporter &n) {
  auto x = n.requiredInput(0), scale = n.requiredInput(1);
  if (failed(x) || failed(scale))
    return failure();
  auto axis = n.axis(n.intAttr("axis", -1), n.inputType(0).getRank());
  if (failed(axis))
    return failure();
  int64_t stashType = n.intAttr("stash_type", onnx::TensorProto::FLOAT);
  if (!isa_and_nonnull<FloatType>(getElementType(n.getContext(), stashType))) {
    n.emitError() << "stash_type " << dataTypeName(stashType) << " is not a float type";
    return failure();
  }
  Builder &b = n.getBuilder();
  return n.createOutput<RmsNormOp>(
      {*x, *scale}, {n.named("axis", b.getI64IntegerAttr(*axis)),
                     n.named("epsilon", b.getF32FloatAttr(n.floatAttr("epsilon", 1e-5f)))});
}

void mlir::kiln::onnx_import::registerReductionOps(llvm::StringMap<OpHandler> &t) {
  t["ReduceSum"] = importReduce<ReduceSumOp>;
  t["ReduceMean"] = importReduce<ReduceMeanOp>;
  t["ReduceMax"] = importReduce<ReduceMaxOp>;
  t["ReduceMin"] = importReduce<ReduceMinOp>;
  t["ReduceProd"] = importReduce<ReduceProdOp>;
  t["ReduceL1"] = [](NodeImporter &n) { return importSumReduction(n, absOf, nullptr); };
  t["ReduceL2"] = [](NodeImporter &n) { return importSumReduction(n, squareOf, sqrtOf); };
  t["ReduceSumSquare"] = [](NodeImporter &n) {
    return importSumReduction(n, squareOf, nullptr);
  };
  t["ReduceLogSum"] = [](NodeImporter &n) { return importSumReduction(n, nullptr, logOf); };
  t["ReduceLogSumExp"] = importReduceLogSumExp;
  t["ArgMax"] = importArgExtremum<ArgMaxOp>;
  t["ArgMin"] = importArgExtremum<ArgMinOp>;
  t["Hardmax"] = importHardmax;
  t["CumSum"] = importCumSum;
  t["RMSNormalization"] = importRmsNorm;
  t["Softmax"] = [](NodeImporter &n) { return importSoftmax(n, /*log=*/false); };
  t["LogSoftmax"] = [](NodeImporter &n) { return importSoftmax(n, /*log=*/true); };
  t["LayerNormalization"] = importLayerNorm;
}
