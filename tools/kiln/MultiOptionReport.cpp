//===- MultiOptionReport.cpp - The report of the multi-option budget ------===//
//
// The sections --accuracy-report writes when --accuracy-budget picks among
// fp32, int8, pruned and pruned+int8 per layer (MultiOptionBudget.cpp):
// every layer's options measured alone with their times, the builds with
// every layer at one option, the search's steps, the choice per layer, and
// the chosen build timed against int8 alone at the same budget.
//
//===----------------------------------------------------------------------===//

#include "AccuracyRun.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"

using namespace kilncli;

static std::string fixed(double value, int digits) {
  return llvm::formatv("{0}", llvm::format(("%." + std::to_string(digits) + "f").c_str(), value))
      .str();
}

static std::string sci(double value) { return llvm::formatv("{0:E2}", value).str(); }

void AccuracyRun::multiOptionMarkdown(llvm::raw_ostream &os, const Measured &chosen) const {
  std::vector<LayerTarget> all = targets();
  os << "\n## Options per layer\n\n"
     << "Each option of each layer alone (every other layer fp32): `1 - score` of that build, "
     << "and the layer's time in the build with every layer at that option (µs per pass over "
     << "the " << sets.size() << " sets, one thread, the runtime's profile of the node: per "
     << "set the median of its " << kProfileRounds << " runs or more, summed). **Chain**: the options worth having, "
     << "fastest first (an option that another is at least as fast, within "
     << fixed(100 * kTimeTolerance, 0) << "%, and as accurate as is dropped); **chosen**: the "
     << "search's pick.\n\n"
     << "| # | ONNX node | op, K x N |";
  for (LayerOption option : allLayerOptions())
    os << " " << layerOptionName(option) << ": 1 - score, µs |";
  os << " chain | chosen |\n|--:|---|---|";
  for (unsigned i = 0; i < kNumLayerOptions; ++i)
    os << "--:|";
  os << "---|---|\n";
  for (size_t i = 0; i < layers.size(); ++i) {
    os << "| " << i + 1 << " | `" << layers[i].node << "` | " << layers[i].opType << " "
       << layers[i].k << " x " << layers[i].n << " |";
    for (LayerOption option : allLayerOptions()) {
      if (!layerOptionAvailable(option, all[i])) {
        os << " - |";
        continue;
      }
      const auto &alone = multi.alone[i][unsigned(option)];
      double micros = multi.uniformLatency[unsigned(option)].nodeMicros.at(layers[i].node);
      os << " " << (alone ? sci(1 - alone->score()) : std::string("0")) << ", "
         << fixed(micros, 1) << " |";
    }
    std::string chain;
    for (const OptionPoint &p : multi.chains[i])
      chain += (chain.empty() ? "" : " → ") + std::string(layerOptionName(p.option));
    os << " " << chain << " | **" << layerOptionName(multi.chosen[i]) << "** |\n";
  }

  os << "\n## Builds with every layer at one option\n\n"
     << "| build | score | ms per pass (1 thread, CPU time with the profiler on, median of "
     << kProfileRounds << " rounds) |\n|---|--:|--:|\n";
  for (LayerOption option : allLayerOptions())
    if (const auto &build = multi.uniform[unsigned(option)])
      os << "| every layer " << layerOptionName(option) << " | "
         << fixed(build->error.score(), 7) << " | "
         << fixed(multi.uniformLatency[unsigned(option)].passMs, 3) << " |\n";

  os << "\n## Accuracy budget " << llvm::format("%g", *options.budget)
     << ": the fastest options within it\n\n";
  if (!budgetMet)
    os << "**Not met**: even with every layer fp32 the score is "
       << fixed(chosen.error.score(), 7) << ". No library was written.\n\n";
  os << "The search starts with every layer at its fastest option and moves layers along "
     << "their chains (possibly past an option), the best error saved per µs added first, until the layers' own "
     << "errors, summed and scaled by how far the last build was from that sum, fit the "
     << "budget; each step is compiled and measured.\n\n"
     << "| step | moved | predicted 1 - score | measured score | layers' µs | layers pruned |\n"
     << "|--:|---|--:|--:|--:|--:|\n";
  for (size_t s = 0; s < multi.steps.size(); ++s) {
    const SearchStep &step = multi.steps[s];
    std::string moved;
    for (auto [layer, option] : step.moved)
      moved += (moved.empty() ? "`" : ", `") + layers[layer].node + "` " + layerOptionName(option);
    os << "| " << s + 1 << " | " << (moved.empty() ? "every layer at its fastest" : moved)
       << " | " << sci(step.predictedError) << " | " << fixed(step.measuredScore, 7) << " | "
       << fixed(step.micros, 1) << " | " << step.prunedLayers << " |\n";
  }
  if (!budgetMet)
    return;
  os << "\nThe written library is the last step's build: score **"
     << fixed(chosen.error.score(), 7) << "**.\n\n";
  outputTable(os, chosen.error);

  os << "\n## Against int8 alone at the same budget\n\n"
     << "int8 alone (the one-option budget: the layers with the worst int8 error kept fp32, "
     << "one more per compile) meets the budget with " << multi.int8Fp32
     << " layer(s) in fp32, score " << fixed(multi.int8Only.error.score(), 7) << ". It is "
     << "built twice: as here (with --prune's pipeline, every Linear layer its own GEMM) and as "
     << "`--quantize int8` without --prune compiles it (Linear layers that share an input, such "
     << "as Q, K and V, fused into one GEMM; an excluded one keeps its group fp32). The verdict "
     << "takes the faster. The builds timed side by side on the eval sets, one thread, CPU "
     << "time, " << kCompareRounds << " alternating rounds:\n\n"
     << "| build | score | ms per pass (median) | per round |\n|---|--:|--:|---|\n";
  auto row = [&](const char *name, const Measured &build, const Latency &latency) {
    std::string rounds;
    for (double ms : latency.roundMs)
      rounds += (rounds.empty() ? "" : ", ") + fixed(ms, 2);
    os << "| " << name << " | " << fixed(build.error.score(), 7) << " | "
       << fixed(latency.passMs, 3) << " | " << rounds << " |\n";
  };
  row("chosen options", chosen, multi.chosenLatency);
  row("int8 alone", multi.int8Only, multi.int8Latency);
  row("int8 alone, without --prune (fused)", multi.int8Fused, multi.int8FusedLatency);
  os << "\n**" << multi.verdict << "**\n";
}
