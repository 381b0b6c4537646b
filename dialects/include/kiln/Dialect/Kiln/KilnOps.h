//===- KilnOps.h - kiln dialect operations ----------------------*- C++ -*-===//
#ifndef KILN_DIALECT_KILN_KILNOPS_H
#define KILN_DIALECT_KILN_KILNOPS_H

#include "kiln/Dialect/Kiln/KilnDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir::kiln {

/// Two result type lists agree when element types are equal and shapes are
/// compatible (a static dim matches `?`): passes may refine `?` dims.
bool areCompatibleTensorTypes(TypeRange lhs, TypeRange rhs);

/// Infers the ONNX (numpy) broadcast of two ranked tensor types, which must
/// share an element type. A null `resultElementType` gives the result that
/// type.
LogicalResult inferBroadcastResultType(std::optional<Location> loc, Type lhs,
                                       Type rhs, Type resultElementType,
                                       SmallVectorImpl<Type> &inferred);

/// Infers the type of a reduction of `input` over `axes`. A null
/// `elementType` keeps the input's element type.
LogicalResult inferReducedType(std::optional<Location> loc, Value input,
                               ArrayRef<int64_t> axes, bool keepdims,
                               Type elementType, SmallVectorImpl<Type> &inferred);

/// Reduction axes must be sorted, unique and within the input's rank.
LogicalResult verifyReductionAxes(Operation *op, ArrayRef<int64_t> axes);

/// Infers the type of a max/average pool of `input` (N, C, spatial...).
LogicalResult inferPoolType(std::optional<Location> loc, Value input,
                            ArrayRef<int64_t> kernelShape, ArrayRef<int64_t> strides,
                            ArrayRef<int64_t> pads, ArrayRef<int64_t> dilations,
                            bool ceilMode, SmallVectorImpl<Type> &inferred);

/// Pool windows need positive sizes, strides and dilations and
/// non-negative pads.
LogicalResult verifyPool(Operation *op, ArrayRef<int64_t> kernelShape,
                         ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
                         ArrayRef<int64_t> dilations);

/// The output size of one pooled dim (static sizes only), as ONNX defines it:
/// -1 where no window fits, std::nullopt where the sizes overflow int64.
std::optional<int64_t> pooledSize(int64_t in, int64_t kernel, int64_t stride,
                                  int64_t padBegin, int64_t padEnd, int64_t dilation,
                                  bool ceilMode);

} // namespace mlir::kiln

#define GET_OP_CLASSES
#include "kiln/Dialect/Kiln/KilnOps.h.inc"

#endif // KILN_DIALECT_KILN_KILNOPS_H
