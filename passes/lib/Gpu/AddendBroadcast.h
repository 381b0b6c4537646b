//===- AddendBroadcast.h - A mask's dims broadcast when a kernel runs -*- C++ -*-===//
//
// On the GPU the softmax's and attention's addend (the mask) reaches its
// kernel as the graph has it (kiln-softmax-to-ukernel{mask-broadcast-in-
// kernel}): no copy to the scores' size, which the host would have to make
// in every run. Each kernel reads a dim of 1 at index 0; a `?` dim is 1 or
// the scores' when the model runs, chosen then. What the types leave open
// is checked on the host first, one rule for the row kernels and the
// attention kernel, here.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_PASSES_GPU_ADDENDBROADCAST_H
#define KILN_PASSES_GPU_ADDENDBROADCAST_H

#include "../Lowering/RuntimeCalls.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

namespace mlir::kiln::gpu_addend {

/// For each dim of `addend` (lined up from the right with the scores,
/// whose sizes are `scores`): the host's i1 "it is 1" for a `?` dim (its
/// loads then read index 0), null for a static one. Where a dim is
/// neither 1 nor the scores' at run time (a `?` dim of either side),
/// `failed` (null or an i1) is or-ed with true for the caller's
/// kiln.runtime_check.
inline SmallVector<Value> broadcastAtRunTime(OpBuilder &b, Location loc, Value addend,
                                             ArrayRef<OpFoldResult> scores, Value &failed) {
  auto type = cast<MemRefType>(addend.getType());
  const int64_t rank = type.getRank(), offset = int64_t(scores.size()) - rank;
  SmallVector<Value> isOne;
  for (int64_t d = 0; d < rank; ++d) {
    OpFoldResult size = offset + d < 0 ? OpFoldResult(b.getIndexAttr(1)) : scores[offset + d];
    if (type.isDynamicDim(d)) {
      isOne.push_back(lowering::isBroadcastOne(
          b, loc, addend, d, getValueOrCreateConstantIndexOp(b, loc, size), failed));
      continue;
    }
    isOne.push_back(Value());
    // A static dim other than 1 is the scores' (the graph's Add checked
    // what both types know), but for a `?` dim of theirs.
    if (type.getDimSize(d) != 1 && !getConstantIntValue(size)) {
      Value fixed = arith::ConstantIndexOp::create(b, loc, type.getDimSize(d));
      lowering::requireEqualAtRunTime(b, loc, cast<Value>(size), fixed, failed);
    }
  }
  return isOne;
}

} // namespace mlir::kiln::gpu_addend

#endif // KILN_PASSES_GPU_ADDENDBROADCAST_H
