//===- ReductionKernels.h - What the reduction passes share -----*- C++ -*-===//
//
// kiln-gpu-warp-reductions and kiln-gpu-thread-reductions both rewrite the
// top-level reductions of a function on buffers, and both fold a fill of
// the output right before a reduction into the reduction's kernel.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_PASSES_GPU_REDUCTIONKERNELS_H
#define KILN_PASSES_GPU_REDUCTIONKERNELS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/TypeUtilities.h"

namespace mlir::kiln::gpu_reductions {

/// The linalg.fill of `op`'s output right before `op` (of a value of its
/// element type), whose value can stand for the output's initial one, or
/// null.
inline linalg::FillOp fillOfOutputBefore(linalg::GenericOp op) {
  auto fill = dyn_cast_or_null<linalg::FillOp>(op->getPrevNode());
  Value output = op.getDpsInits().front();
  if (!fill || !fill.hasPureBufferSemantics() || fill.getDpsInitOperand(0)->get() != output ||
      fill.getInputs().front().getType() != getElementTypeOrSelf(output.getType()))
    return nullptr;
  return fill;
}

/// The generics at the top of `func`'s body that `takes` accepts (a
/// generic inside a loop is someone else's loop).
template <typename Predicate>
SmallVector<linalg::GenericOp> topLevelGenerics(func::FuncOp func, Predicate takes) {
  SmallVector<linalg::GenericOp> generics;
  if (func.isExternal())
    return generics;
  for (Operation &op : func.getBody().front())
    if (auto generic = dyn_cast<linalg::GenericOp>(op); generic && takes(generic))
      generics.push_back(generic);
  return generics;
}

} // namespace mlir::kiln::gpu_reductions

#endif // KILN_PASSES_GPU_REDUCTIONKERNELS_H
