//===- LayerNormToUkernel.cpp - Layer norm over the last axis as one call -===//
//
// As linalg loops a layer norm is four passes over the tensor (the sum,
// the deviations, the sum of their squares, the result), each its own
// parallel loop: four hand-offs to the threads, and at BERT's sizes each
// pass reads the whole tensor from L2. The runtime's row layer norm
// (kiln_layer_norm_desc) does a row's three passes while it stays in L1,
// the rows split once over the threads. This pass hands it the op while it
// is still one graph op, before the lowering splits it.
//
//===----------------------------------------------------------------------===//

#include "../Lowering/LoweringUtils.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNLAYERNORMTOUKERNEL
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// Whether `value` (the scale or bias) is 1-D f32 of the normalized dim's
/// static size `n`, as the runtime reads it (n floats, no check at run
/// time).
bool isRowParameter(Value value, int64_t n) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  return type && type.getRank() == 1 && type.getElementType().isF32() &&
         type.getDimSize(0) == n;
}

/// Whether the runtime's row layer norm computes `op`.
bool runsAsRows(LayerNormOp op) {
  auto type = dyn_cast<RankedTensorType>(op.getInput().getType());
  if (!type || !type.getElementType().isF32() || type.getRank() < 1 ||
      type.getRank() > LayerNormRowsOp::kMaxRank || op.getAxis() != type.getRank() - 1)
    return false;
  const int64_t n = type.getDimSize(type.getRank() - 1);
  if (ShapedType::isDynamic(n))
    return false;
  return isRowParameter(op.getScale(), n) && (!op.getBias() || isRowParameter(op.getBias(), n));
}

void rewrite(LayerNormOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  auto type = cast<RankedTensorType>(op.getType());
  SmallVector<Value> dims;
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (type.isDynamicDim(d))
      dims.push_back(tensor::DimOp::create(b, loc, op.getInput(), d));
  Value init = lowering::emptyWithDims(b, loc, type, dims);
  auto rows = LayerNormRowsOp::create(b, loc, type, op.getInput(), op.getScale(), op.getBias(),
                                      init, op.getEpsilonAttr());
  op.replaceAllUsesWith(rows.getResult());
  op.erase();
}

struct LayerNormToUkernelPass
    : mlir::kiln::impl::KilnLayerNormToUkernelBase<LayerNormToUkernelPass> {
  void runOnOperation() override {
    SmallVector<LayerNormOp> layerNorms;
    getOperation().walk([&](LayerNormOp op) {
      if (runsAsRows(op))
        layerNorms.push_back(op);
    });
    for (LayerNormOp op : layerNorms)
      rewrite(op);
  }
};

} // namespace
