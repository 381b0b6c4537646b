//===- PrunableWeights.h - The weights the pruning passes zero --*- C++ -*-===//
//
// Internal to passes/lib: which constant GEMM weights kiln-prune-magnitude
// and kiln-prune-n-m prune, and how they write the result back. The rule is
// also implemented by tools/prune_onnx.py on ONNX initializers; the two must
// select the same weights (docs/pruning.md).
//
//===----------------------------------------------------------------------===//
#ifndef KILN_PASSES_PRUNING_PRUNABLEWEIGHTS_H
#define KILN_PASSES_PRUNING_PRUNABLEWEIGHTS_H

#include "../Layout/GemmWeights.h"

#include <vector>

namespace mlir::kiln::pruning {

/// A constant weight that pruning zeroes in place: its f32 data, read as
/// K x N through `view` (K the contraction's reduction, N its output
/// columns, whatever the constant's own layout).
struct PrunableWeight {
  arith::ConstantOp constant;
  layout::WeightView view;
  ArrayRef<float> data;
  /// The contractions reading it, in program order (their locations name
  /// the ONNX nodes in remarks).
  SmallVector<linalg::GenericOp> users;
  /// Counted (a global threshold sees its blocks) but not zeroed.
  bool keepDense = false;
};

/// The constant B of every f32 contraction lowered from an ONNX MatMul or
/// Gemm (named so by its location), once per constant, in program order.
/// A constant is left out when any of its contractions' ONNX node name or
/// op type is in `exclude`, or when two contractions read it as different
/// K x N views (a tied weight, once transposed: no one block grid fits
/// both). `keepDense` names nodes whose weights are counted but kept.
std::vector<PrunableWeight> prunableWeights(ModuleOp module, ArrayRef<std::string> exclude,
                                            ArrayRef<std::string> keepDense);

/// Replaces the weight's constant by `pruned` (same shape and layout as
/// the constant's data), and frees the old data if nothing reads it.
void replaceWeight(ModuleOp module, PrunableWeight &weight, ArrayRef<float> pruned,
                   int64_t &counter);

/// The number of zeros in `data`.
int64_t countZeros(ArrayRef<float> data);

/// Zeros are counted per pruned weight and summed up in remarks when a
/// pass's `report` option asks for them (kiln compile --stats).
struct PruningReport {
  int64_t weights = 0, zeros = 0, values = 0;
  /// "pruned to sparsity S (Z of K x N zero, <pattern>)" at the weight's
  /// first contraction.
  void add(const PrunableWeight &weight, int64_t zeroCount, StringRef pattern, bool emit);
  /// "pruned L weights, sparsity S" at the module.
  void summarize(ModuleOp module, StringRef pattern) const;
};

} // namespace mlir::kiln::pruning

#endif // KILN_PASSES_PRUNING_PRUNABLEWEIGHTS_H
