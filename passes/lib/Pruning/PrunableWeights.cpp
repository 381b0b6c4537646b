//===- PrunableWeights.cpp - The weights the pruning passes zero ----------===//

#include "PrunableWeights.h"
#include "../Lowering/LoweringUtils.h"
#include "kiln/Passes/Passes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::pruning;

static bool sameView(const layout::WeightView &a, const layout::WeightView &b) {
  return a.k == b.k && a.n == b.n && a.kStride == b.kStride && a.nStride == b.nStride;
}

std::vector<PrunableWeight> pruning::prunableWeights(ModuleOp module, ArrayRef<std::string> exclude,
                                                     ArrayRef<std::string> keepDense) {
  llvm::StringSet<> excluded, dense;
  for (const std::string &name : exclude)
    excluded.insert(name);
  for (const std::string &name : keepDense)
    dense.insert(name);
  auto named = [](const llvm::StringSet<> &set, std::pair<StringRef, StringRef> node) {
    return set.contains(node.first) || set.contains(node.second);
  };
  llvm::MapVector<Operation *, PrunableWeight> weights;
  llvm::DenseSet<Operation *> rejected;
  module.walk([&](linalg::GenericOp op) {
    // Only what the ONNX model calls a MatMul or Gemm: tools/prune_onnx.py
    // selects by the same rule on the ONNX graph, where a Conv's filters or
    // an Einsum's operand are not Linear weights.
    std::optional<std::pair<StringRef, StringRef>> node = lowering::onnxNodeOf(op.getLoc());
    if (!node || (node->second != "MatMul" && node->second != "Gemm"))
      return;
    std::optional<layout::PackableWeight> weight = layout::packableWeight(op);
    if (!weight)
      return;
    Operation *constant = weight->constant;
    std::optional<ArrayRef<float>> data =
        layout::floatsOf(cast<ElementsAttr>(weight->constant.getValue()));
    if (!data || named(excluded, *node)) {
      rejected.insert(constant);
      return;
    }
    layout::WeightView view = layout::viewOf(layout::weightMatrixShape(op, *weight), *weight);
    auto [it, inserted] =
        weights.try_emplace(constant, PrunableWeight{weight->constant, view, *data, {}, false});
    if (!inserted && !sameView(it->second.view, view))
      rejected.insert(constant);
    it->second.users.push_back(op);
    it->second.keepDense |= named(dense, *node);
  });
  std::vector<PrunableWeight> result;
  for (auto &[constant, weight] : weights)
    if (!rejected.contains(constant))
      result.push_back(std::move(weight));
  return result;
}

void pruning::replaceWeight(ModuleOp module, PrunableWeight &weight, ArrayRef<float> pruned,
                            int64_t &counter) {
  auto type = cast<RankedTensorType>(weight.constant.getType());
  auto old = cast<ElementsAttr>(weight.constant.getValue());
  weight.data = {};
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(old)) {
    // Large weights stay resources (the blob, not the attribute, holds
    // BERT-size data); the old blob is freed once no constant reads it.
    std::string key = resource.getRawHandle().getKey().str();
    weight.constant.setValueAttr(DenseResourceElementsAttr::get(
        type, "pruned_weight_" + std::to_string(counter++),
        HeapAsmResourceBlob::allocateAndCopyInferAlign(pruned, alignof(float))));
    llvm::StringSet<> candidates;
    candidates.insert(key);
    layout::releaseUnusedWeights(module, candidates);
    return;
  }
  weight.constant.setValueAttr(DenseElementsAttr::get(type, pruned));
}

int64_t pruning::countZeros(ArrayRef<float> data) {
  return llvm::count_if(data, [](float x) { return x == 0.0f; });
}

void PruningReport::add(const PrunableWeight &weight, int64_t zeroCount, StringRef pattern,
                        bool emit) {
  ++weights;
  zeros += zeroCount;
  values += weight.view.k * weight.view.n;
  if (emit)
    emitRemark(weight.users.front()->getLoc())
        << llvm::formatv("pruned to sparsity {0:F4} ({1} of {2} x {3} zero, {4})",
                         double(zeroCount) / double(weight.view.k * weight.view.n), zeroCount,
                         weight.view.k, weight.view.n, pattern)
               .str();
}

void PruningReport::summarize(ModuleOp module, StringRef pattern) const {
  emitRemark(module.getLoc())
      << llvm::formatv("pruned {0} weights ({1}): sparsity {2:F4} ({3} of {4} values zero)",
                       weights, pattern, values ? double(zeros) / double(values) : 0.0, zeros,
                       values)
             .str();
}

std::vector<PrunableContraction> mlir::kiln::prunableContractions(ModuleOp module,
                                                                  ArrayRef<std::string> exclude) {
  std::vector<PrunableWeight> weights = prunableWeights(module, exclude, {});
  llvm::DenseMap<Operation *, const PrunableWeight *> weightOf;
  for (const PrunableWeight &weight : weights)
    for (linalg::GenericOp op : weight.users)
      weightOf[op] = &weight;
  // In program order: a shared weight's readers each where they are.
  std::vector<PrunableContraction> contractions;
  module.walk([&](linalg::GenericOp op) {
    const PrunableWeight *weight = weightOf.lookup(op);
    if (!weight)
      return;
    std::optional<std::pair<StringRef, StringRef>> node = lowering::onnxNodeOf(op->getLoc());
    contractions.push_back({node->first.str(), node->second.str(), weight->view.k, weight->view.n,
                            countZeros(weight->data)});
  });
  return contractions;
}
