//===- LoweringUtils.h - Shared helpers of the kiln-to-linalg lowering -*- C++ -*-===//
//
// Internal to passes/lib/Lowering: the pattern files share how they build
// result tensors with run-time dims and broadcasting indexing maps.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_PASSES_LOWERING_LOWERINGUTILS_H
#define KILN_PASSES_LOWERING_LOWERINGUTILS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::kiln::lowering {

/// The run-time size of every dim of `type` that is dynamic, taken from
/// `sources`: the first source value with a dynamic dim at the same
/// (right-aligned) position supplies it.
SmallVector<Value> dynamicDimsFrom(OpBuilder &b, Location loc, RankedTensorType type,
                                   ValueRange sources);

/// tensor.empty of `type` with its dynamic dims taken from `sources`.
Value emptyLike(OpBuilder &b, Location loc, RankedTensorType type, ValueRange sources);

/// tensor.empty of `type` whose dynamic dims are `dynamicDims` (in order).
Value emptyWithDims(OpBuilder &b, Location loc, RankedTensorType type,
                    ValueRange dynamicDims);

/// The indexing map that reads `operand` (right-aligned numpy broadcasting)
/// inside loops over `resultRank` dims: static size-1 dims that the result
/// broadcasts read index 0.
AffineMap broadcastMap(MLIRContext *context, RankedTensorType operand,
                       RankedTensorType result);

/// A zero/identity-like scalar constant of `type` (float or integer).
Value scalarConstant(OpBuilder &b, Location loc, Type type, double value);

/// All-parallel iterator types for `rank` loops.
SmallVector<utils::IteratorType> parallelIterators(int64_t rank);

/// Casts an integer or index scalar to `index`.
Value toIndex(OpBuilder &b, Location loc, Value v);

/// Patterns of each op family (one file each).
void populateElementwiseLoweringPatterns(RewritePatternSet &patterns);
void populateContractionLoweringPatterns(RewritePatternSet &patterns);
void populateReductionLoweringPatterns(RewritePatternSet &patterns);
void populateDataMovementLoweringPatterns(RewritePatternSet &patterns);
void populateShapeLoweringPatterns(RewritePatternSet &patterns);
void populateGatherNDLoweringPatterns(RewritePatternSet &patterns);

} // namespace mlir::kiln::lowering

#endif // KILN_PASSES_LOWERING_LOWERINGUTILS_H
