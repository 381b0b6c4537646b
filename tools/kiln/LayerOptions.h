//===- LayerOptions.h - What one layer can be compiled as -------*- C++ -*-===//
//
// --accuracy-budget with --prune and --quantize int8 picks, per layer, one
// of these options. A build is one option per layer; it reaches the
// compiler only through the verified CompileOptions lists the flags fill
// (--quantize-exclude's quantizeExclude and the pruning pass's
// pruneKeepDense), so that what a build measured is what the flags give.
// New options (structured pruning of heads or FFN neurons) go at the end
// of the enum, with their traits and their case in applyLayerOptions.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_TOOLS_KILN_LAYEROPTIONS_H
#define KILN_TOOLS_KILN_LAYEROPTIONS_H

#include "kiln/Compiler/Compile.h"
#include <string>
#include <vector>

namespace kilncli {

enum class LayerOption : unsigned { Fp32, Int8, Pruned, PrunedInt8 };
inline constexpr unsigned kNumLayerOptions = 4;

/// "fp32", "int8", "pruned", "pruned+int8".
const char *layerOptionName(LayerOption option);
/// Whether the option keeps the layer's weight pruned / quantizes it.
bool layerOptionPrunes(LayerOption option);
bool layerOptionQuantizes(LayerOption option);
/// Every option, in enum order.
std::vector<LayerOption> allLayerOptions();

/// A layer the accuracy report can vary, as the compiler listed it.
struct LayerTarget {
  std::string node;
  bool quantizable = false; ///< the job's --quantize int8 quantizes it
  bool prunable = false;    ///< the job's --prune prunes it
};

/// Whether `option` exists for `layer` under the job's flags.
bool layerOptionAvailable(LayerOption option, const LayerTarget &layer);

/// `base` with each layer compiled as choice[i]: a layer that is not
/// quantized goes in quantizeExclude, one that is not pruned in
/// pruneKeepDense (it still counts towards a global threshold, so a pruned
/// layer loses the same weights whatever the others are). The user's own
/// exclusions stay. A choice without any int8 layer does not quantize at
/// all. An option a layer does not have is an error message; so is a name
/// the pass options cannot carry.
std::string applyLayerOptions(mlir::kiln::CompileOptions &base,
                              const std::vector<LayerTarget> &layers,
                              const std::vector<LayerOption> &choice);

} // namespace kilncli

#endif // KILN_TOOLS_KILN_LAYEROPTIONS_H
