//===- ReductionOps.cpp - ONNX reductions, softmax and layer norm ---------===//

#include "../NodeImporter.h"
#include "../OnnxTensors.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::onnx_import;

/// Opset at which each Reduce* op took its axes as an input, not an attribute.
static int64_t axesBecameInput(StringRef opType) {
  return opType == "ReduceSum" ? 13 : 18;
}

template <typename OpTy>
static LogicalResult importReduce(NodeImporter &n) {
  auto x = n.requiredInput(0);
  if (failed(x))
    return failure();
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
    if (n.intAttr("noop_with_empty_axes", 0)) {
      n.setOutput(0, *x);
      return success();
    }
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
  Builder &b = n.getBuilder();
  return n.createOutput<OpTy>(
      {*x}, {n.named("axes", b.getDenseI64ArrayAttr(axes)),
             n.named("keepdims", b.getBoolAttr(n.intAttr("keepdims", 1) != 0))});
}

static LogicalResult importArgMax(NodeImporter &n) {
  auto x = n.requiredInput(0);
  if (failed(x))
    return failure();
  auto axis = n.axis(n.intAttr("axis", 0), n.inputType(0).getRank());
  if (failed(axis))
    return failure();
  Builder &b = n.getBuilder();
  return n.createOutput<ArgMaxOp>(
      {*x}, {n.named("axis", b.getI64IntegerAttr(*axis)),
             n.named("keepdims", b.getBoolAttr(n.intAttr("keepdims", 1) != 0)),
             n.named("select_last_index", b.getBoolAttr(n.intAttr("select_last_index", 0) != 0))});
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

void mlir::kiln::onnx_import::registerReductionOps(llvm::StringMap<OpHandler> &t) {
  t["ReduceSum"] = importReduce<ReduceSumOp>;
  t["ReduceMean"] = importReduce<ReduceMeanOp>;
  t["ReduceMax"] = importReduce<ReduceMaxOp>;
  t["ReduceMin"] = importReduce<ReduceMinOp>;
  t["ReduceProd"] = importReduce<ReduceProdOp>;
  t["ArgMax"] = importArgMax;
  t["Softmax"] = [](NodeImporter &n) { return importSoftmax(n, /*log=*/false); };
  t["LogSoftmax"] = [](NodeImporter &n) { return importSoftmax(n, /*log=*/true); };
  t["LayerNormalization"] = importLayerNorm;
}
