//===- LayerOptions.cpp - What one layer can be compiled as ---------------===//

#include "LayerOptions.h"
#include "llvm/ADT/STLExtras.h"

using namespace kilncli;
using mlir::kiln::CompileOptions;
using mlir::kiln::Pruning;
using mlir::kiln::Quantization;

namespace {
struct Traits {
  const char *name;
  bool prunes, quantizes;
};
} // namespace

static Traits traits(LayerOption option) {
  switch (option) {
  case LayerOption::Fp32:
    return {"fp32", false, false};
  case LayerOption::Int8:
    return {"int8", false, true};
  case LayerOption::Pruned:
    return {"pruned", true, false};
  case LayerOption::PrunedInt8:
    return {"pruned+int8", true, true};
  }
  return {"?", false, false};
}

const char *kilncli::layerOptionName(LayerOption option) { return traits(option).name; }
bool kilncli::layerOptionPrunes(LayerOption option) { return traits(option).prunes; }
bool kilncli::layerOptionQuantizes(LayerOption option) { return traits(option).quantizes; }

std::vector<LayerOption> kilncli::allLayerOptions() {
  std::vector<LayerOption> all;
  for (unsigned i = 0; i < kNumLayerOptions; ++i)
    all.push_back(LayerOption(i));
  return all;
}

bool kilncli::layerOptionAvailable(LayerOption option, const LayerTarget &layer) {
  return (!layerOptionPrunes(option) || layer.prunable) &&
         (!layerOptionQuantizes(option) || layer.quantizable);
}

std::string kilncli::applyLayerOptions(CompileOptions &base, const std::vector<LayerTarget> &layers,
                                       const std::vector<LayerOption> &choice) {
  if (choice.size() != layers.size())
    return "internal: " + std::to_string(choice.size()) + " layer options for " +
           std::to_string(layers.size()) + " layers";
  for (size_t i = 0; i < layers.size(); ++i) {
    const LayerTarget &layer = layers[i];
    if (!layerOptionAvailable(choice[i], layer))
      return "layer '" + layer.node + "' cannot be " + layerOptionName(choice[i]);
    if (layer.quantizable && !layerOptionQuantizes(choice[i]))
      base.quantizeExclude.push_back(layer.node);
    if (layer.prunable && !layerOptionPrunes(choice[i]))
      base.pruneKeepDense.push_back(layer.node);
  }
  // No layer in int8: no quantization at all, the fp32 model's build (the
  // budget takes every layer fp32 for the reference), not one with
  // attention's products on bf16 inputs, which --quantize adds on its own.
  if (llvm::none_of(choice, layerOptionQuantizes)) {
    base.quantize = Quantization::None;
    base.quantizeExclude.clear();
  }
  std::string problem = mlir::kiln::checkQuantizationOptions(base);
  if (problem.empty())
    problem = mlir::kiln::checkPruningOptions(base);
  return problem;
}
