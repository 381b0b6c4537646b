//===- KilnShapeUtils.h - Shape helpers shared by kiln ops ------*- C++ -*-===//
//
// Helpers the op definitions, folders and passes share: reading the values a
// shape-carrying operand is known to hold, and refining an op's result types.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_DIALECT_KILN_KILNSHAPEUTILS_H
#define KILN_DIALECT_KILN_KILNSHAPEUTILS_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/SmallVector.h"
#include <optional>

namespace mlir::kiln {

/// The integer values of a constant int tensor operand, if it is one.
std::optional<SmallVector<int64_t>> getConstantIntValues(Value value);

/// The values of a constant float tensor operand, if it is one.
std::optional<SmallVector<double>> getConstantFloatValues(Value value);

/// What is known about the elements of a 1-D shape-like int operand: one entry
/// per element, ShapedType::kDynamic where the element is computed at run
/// time. Looks through concat, unsqueeze, cast, shape ops and gathers at
/// constant positions so that `concat(shape(x)[0], [12], [64])` is known to
/// end in 12, 64. Empty when
/// even the length is unknown.
std::optional<SmallVector<int64_t>> getPartialShapeValues(Value shape);

/// Normalises an ONNX axis (negative counts from the back) into [0, rank).
/// Returns std::nullopt when it is out of range.
std::optional<int64_t> normalizeAxis(int64_t axis, int64_t rank);

/// The most elements a tensor of static shape may have: 2^40 (4 TiB of f32).
/// Larger shapes come from broken or hostile models (a ConstantOfShape of
/// [2^40, 2^40], a huge --input-shape); they are rejected as errors instead
/// of overflowing element counts or exhausting memory.
inline constexpr int64_t kMaxTensorElements = int64_t(1) << 40;

/// The product of the static dims of `shape` (dynamic dims skipped, zeros
/// counted as ones), or std::nullopt when it exceeds kMaxTensorElements or a
/// dim is negative.
std::optional<int64_t> boundedElementCount(ArrayRef<int64_t> shape);

/// The sum of `terms`, or std::nullopt where it overflows int64: the static
/// sizes of a malformed model (a pad near 2^63) give an error instead of
/// undefined behaviour.
std::optional<int64_t> checkedSum(ArrayRef<int64_t> terms);

/// How far a window `kernel` wide with dilation `dilation` can move along a
/// dim of `in` elements padded by `padBegin` and `padEnd`: in + pads - the
/// window's extent (negative where no window fits), or std::nullopt where
/// that overflows int64.
std::optional<int64_t> windowSpan(int64_t in, int64_t kernel, int64_t dilation,
                                  int64_t padBegin, int64_t padEnd);

/// Re-runs result type inference on `op` and sets the refined result types.
/// Emits a diagnostic at the op and fails when inference fails or a result
/// would have a negative dim or more than kMaxTensorElements elements.
LogicalResult refineResultTypes(Operation *op);

} // namespace mlir::kiln

#endif // KILN_DIALECT_KILN_KILNSHAPEUTILS_H
