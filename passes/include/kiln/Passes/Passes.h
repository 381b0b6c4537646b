//===- Passes.h - Kiln passes -----------------------------------*- C++ -*-===//
#ifndef KILN_PASSES_PASSES_H
#define KILN_PASSES_PASSES_H

#include "kiln/Dialect/Kiln/KilnDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"

#include <string>
#include <vector>

namespace mlir::kiln {

/// The module attribute in which kiln-profile-regions lists its regions:
/// an array of [node name, op type] pairs, indexed by region.
constexpr llvm::StringLiteral kProfileRegionsAttr = "kiln.profile_regions";

/// A contraction whose constant weight kiln-prune-magnitude and
/// kiln-prune-n-m prune: its ONNX node, the weight's K x N and how many of
/// its values are zero now.
struct PrunableContraction {
  std::string node, opType;
  int64_t k = 0, n = 0, zeros = 0;
};

/// The contractions (in program order) whose weights the pruning passes
/// prune with option `exclude`, on a module lowered to linalg as they see
/// it: the accuracy report and `kiln compile` list pruned layers with it.
std::vector<PrunableContraction> prunableContractions(ModuleOp module,
                                                      ArrayRef<std::string> exclude);

/// A block kiln-prune-structured matches (an attention block or an FFN),
/// named by the ONNX node of the Linear layer whose input rows it prunes
/// (Wo, the down-projection): the layer whose input calibration measures.
struct StructuredBlock {
  std::string node;
  bool attention = false;
  int64_t units = 0;    ///< heads or neurons
  int64_t unitSize = 1; ///< features per unit: head_dim, or 1
  int64_t features = 0; ///< units x unitSize: that layer's K
};

/// The blocks kiln-prune-structured finds in a kiln-dialect module (as
/// imported), in program order.
std::vector<StructuredBlock> structuredBlocks(ModuleOp module);

#define GEN_PASS_DECL
#include "kiln/Passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "kiln/Passes/Passes.h.inc"

} // namespace mlir::kiln

#endif // KILN_PASSES_PASSES_H
