//===- UnitDimViews.h - Views that only add or drop dims of 1 ---*- C++ -*-===//
//
// Internal to passes/lib/Fusion (FuseElementwise.cpp). Exporters put views
// between a gather and its reader that only add or drop dims of size 1:
// TorchScript's BERT mask is Gather -> [B, 1, 1, S, 1], Reshape to [-1],
// Reshape to Shape(index) = [B, 1, 1, S]. With symbolic dims that last
// view is a tensor.reshape to run-time sizes, which no fusion looks
// through, so the gather stays a loop nest (a GPU kernel) of its own.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_PASSES_FUSION_UNITDIMVIEWS_H
#define KILN_PASSES_FUSION_UNITDIMVIEWS_H

#include "mlir/IR/PatternMatch.h"

namespace mlir::kiln::fusion {

/// * tensor.reshape(x, from_elements(sizes)), and an expand_shape of
///   reshapes of x some of which regroup dims other than 1 ([B, 1, 1, S, 1]
///   collapsed to [B*S], expanded to [B, 1, 1, S]), become collapse_shape +
///   expand_shape of x that only drop and add 1s, where the result's dims
///   other than 1 are x's, in order (the same static size, or the same
///   run-time dim). Reshapes keep the row-major order, so that is the same
///   view.
/// * A linalg.generic that reads, through collapse/expand_shape ops that
///   only drop or add 1s, each value on the way read by the next alone, the
///   result of a generic whose inputs are all constants (a gather, an index
///   grid), reads that result directly: the same expression per dim other
///   than 1, index 0 in the dims of 1. The producer can then fuse into it.
void populateUnitDimViewPatterns(RewritePatternSet &patterns);

} // namespace mlir::kiln::fusion

#endif // KILN_PASSES_FUSION_UNITDIMVIEWS_H
