//===- LinearLayers.h - Linear layers in the kiln dialect -------*- C++ -*-===//
//
// Internal to passes/lib: a Linear layer as the graph passes see it before
// lowering, x @ W (+ b) with W and b constants. kiln-fuse-sibling-matmuls
// joins those that share x; kiln-prune-structured shrinks their weights.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_PASSES_FUSION_LINEARLAYERS_H
#define KILN_PASSES_FUSION_LINEARLAYERS_H

#include "kiln/Dialect/Kiln/KilnOps.h"
#include "mlir/IR/Builders.h"

#include <optional>
#include <vector>

namespace mlir::kiln::graph {

/// A Linear layer: x @ W (+ b), W a constant K x N f32 matrix, b a constant
/// vector of N floats added by the matmul's only user.
struct Linear {
  MatMulOp matmul;
  std::vector<float> weight; // K x N, row-major
  AddOp biasAdd;             // or null
  std::vector<float> bias;   // N, when biasAdd
  int64_t k = 0, n = 0;

  /// The value the layer's users read.
  Value output() { return biasAdd ? biasAdd.getResult() : matmul.getResult(); }
};

/// The f32 data of a constant operand (a weight's blob, or a small or
/// splat dense constant), if it is one and the compiler holds it.
std::optional<std::vector<float>> constantFloats(Value value);

/// The Linear layer `matmul` is, if its B is a constant f32 matrix.
std::optional<Linear> linearOf(MatMulOp matmul);

/// A new f32 constant of `shape` holding `data`, as a resource blob named
/// `name` (made unique by the blob manager).
Value floatConstant(OpBuilder &b, Location loc, ArrayRef<int64_t> shape, ArrayRef<float> data,
                    StringRef name);

} // namespace mlir::kiln::graph

#endif // KILN_PASSES_FUSION_LINEARLAYERS_H
