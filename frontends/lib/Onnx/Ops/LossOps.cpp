//===- LossOps.cpp - ONNX NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss ===//
//
// Both follow their ONNX function bodies: the loss of each sample is
// -input[n, target[n, d...], d...] times the weight of its class, zero where
// the target is ignore_index; `mean` divides the sum by the sum of the
// applied weights (the count of non-ignored targets without weights).
// SoftmaxCrossEntropyLoss is that loss of LogSoftmax(scores) over dim 1.
//
//===----------------------------------------------------------------------===//

#include "Composer.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::onnx_import;

/// The loss of `logProb` [N, C, d...] for `target` [N, d...]; null on
/// failure (reported).
static Value negativeLogLikelihood(NodeImporter &n, Value logProb, Value target, Value weight) {
  auto inputType = cast<RankedTensorType>(logProb.getType());
  auto targetType = cast<RankedTensorType>(target.getType());
  if (inputType.getRank() < 2 || targetType.getRank() != inputType.getRank() - 1) {
    n.emitError() << "needs an input [N, C, d...] and a target [N, d...], got " << inputType
                  << " and " << targetType;
    return {};
  }
  std::string reduction = n.stringAttr("reduction", "mean");
  if (reduction != "none" && reduction != "sum" && reduction != "mean") {
    n.emitError() << "reduction must be 'none', 'sum' or 'mean', got '" << reduction << "'";
    return {};
  }
  Composer c(n);
  Type element = inputType.getElementType();
  // Ignored targets may hold any value: they read class 0 instead. Negative
  // targets, which GatherElements would count from the end, are moved past
  // the last class so that its index check fails the run.
  Value valid;
  Value index = target;
  if (n.attribute("ignore_index")) {
    Value ignored = c.op<EqualOp>({target, c.scalarLike(target, n.intAttr("ignore_index", 0))});
    valid = c.op<NotOp>({ignored});
    index = c.where(ignored, c.scalarLike(target, 0), target);
  }
  Value classes = c.cast(c.shape(logProb, 1, 2), targetType.getElementType());
  index = c.where(c.op<LessOp>({index, c.scalarLike(target, 0)}), classes, index);
  Value picked =
      c.squeeze(c.op<GatherElementsOp>({logProb, c.unsqueeze(index, {1})},
                                       {c.named("axis", c.builder().getI64IntegerAttr(1))}),
                {1});
  Value loss = c.op<NegOp>({picked});

  Value weights;
  if (weight)
    weights = c.op<GatherOp>({weight, index}, {c.named("axis", c.builder().getI64IntegerAttr(0))});
  if (valid)
    weights = c.where(valid, weights ? weights : c.scalar(element, 1.0), c.scalar(element, 0.0));
  if (weights)
    loss = c.mul(loss, weights);
  if (reduction == "none")
    return loss;

  SmallVector<int64_t> all;
  for (int64_t i = 0; i < targetType.getRank(); ++i)
    all.push_back(i);
  Value sum = c.reduce<ReduceSumOp>(loss, all, /*keepdims=*/false);
  if (reduction == "mean")
    sum = weights ? c.div(sum, c.reduce<ReduceSumOp>(weights, all, false))
                  : c.reduce<ReduceMeanOp>(loss, all, false);
  return sum;
}

static LogicalResult importNegativeLogLikelihoodLoss(NodeImporter &n) {
  auto input = n.requiredInput(0), target = n.requiredInput(1);
  if (failed(input) || failed(target))
    return failure();
  return Composer(n).output(0, negativeLogLikelihood(n, *input, *target, n.input(2)));
}

static LogicalResult importSoftmaxCrossEntropyLoss(NodeImporter &n) {
  auto scores = n.requiredInput(0), labels = n.requiredInput(1);
  if (failed(scores) || failed(labels))
    return failure();
  if (n.inputType(0).getRank() < 2) {
    n.emitError() << "scores must be [N, C, d...], got " << n.inputType(0);
    return failure();
  }
  Composer c(n);
  Value logProb = c.softmax(*scores, 1, /*log=*/true);
  if (!logProb)
    return failure();
  n.setOutput(1, logProb);
  return c.output(0, negativeLogLikelihood(n, logProb, *labels, n.input(2)));
}

void mlir::kiln::onnx_import::registerLossOps(llvm::StringMap<OpHandler> &t) {
  t["NegativeLogLikelihoodLoss"] = importNegativeLogLikelihoodLoss;
  t["SoftmaxCrossEntropyLoss"] = importSoftmaxCrossEntropyLoss;
}
