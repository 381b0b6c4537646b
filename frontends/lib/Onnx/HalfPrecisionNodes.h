//===- HalfPrecisionNodes.h - f16/bf16 nodes computed in f32 ----*- C++ -*-===//
//
// A float16 (or bfloat16) model computes in f32, as on ORT's CPU provider:
// each node whose float inputs are all of the 16-bit type is imported on
// their f32 values and its results are rounded to the 16-bit type for the
// nodes that need them so (Cast, graph outputs). Computed in the 16-bit
// type, a MatMul's sums of 256 products were 5 ulp off on average.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_FRONTENDS_ONNX_HALFPRECISIONNODES_H
#define KILN_FRONTENDS_ONNX_HALFPRECISIONNODES_H

#include "NodeImporter.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringSet.h"

namespace onnx {
class OpSchema;
} // namespace onnx

namespace mlir::kiln::onnx_import {

/// Imports nodes of 16-bit float inputs in f32 around an op handler. One
/// per graph: a 16-bit weight read by several nodes is widened once.
class HalfPrecisionNodes {
public:
  /// Binds the node's 16-bit float inputs to their f32 values (the f32
  /// result a widened node rounded, a weight's copy made now, a kiln.cast
  /// of a graph input) unless the node keeps the 16-bit type.
  LogicalResult widenInputs(NodeImporter &node, ValueMap &values);
  /// Rebinds the inputs widenInputs replaced, and binds each f32 output
  /// the handler gave to its value rounded to the 16-bit type (which later
  /// widened nodes read through, unrounded).
  LogicalResult narrowOutputs(NodeImporter &node, ValueMap &values);

private:
  Value widenedConstant(NodeImporter &node, Value constant);

  /// The 16-bit type of the node being imported, null when it is not widened.
  FloatType half;
  /// Whether it reads its inputs rounded and its results stay rounded.
  bool roundedEdges = false;
  /// Its ONNX schema (null for ops newer than libonnx's registry), and the
  /// type constraints ("T") of its 16-bit inputs: outputs of those types
  /// are rounded back.
  const onnx::OpSchema *schema = nullptr;
  llvm::StringSet<> halfTypeStrings;
  SmallVector<std::pair<std::string, Value>> replaced;
  /// The f32 result each 16-bit result of a widened node was rounded from.
  llvm::DenseMap<Value, Value> unroundedValues;
  /// The f32 copy of each 16-bit value read so far (a weight's, a cast).
  llvm::DenseMap<Value, Value> exactWideValues;
};

} // namespace mlir::kiln::onnx_import

#endif // KILN_FRONTENDS_ONNX_HALFPRECISIONNODES_H
