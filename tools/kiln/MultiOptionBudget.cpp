//===- MultiOptionBudget.cpp - The fastest layer options within a budget --===//
//
// `kiln compile --prune SPEC --quantize int8 --eval-data DIR
// --accuracy-budget COS`: each layer can be dense fp32, int8, pruned (fp32,
// on the sparse GEMM where --sparse-weights decides it pays) or pruned and
// int8. Measured, not modelled: each (layer, option) alone by a compile
// and a run (every other layer fp32), each option's time per layer from
// the runtime's profile of a build with every layer so (one thread, CPU
// time per pass over the eval sets, alternating rounds). BudgetSearch
// picks the options; every build it proposes is compiled and measured,
// and the last, which meets the budget, is -o. The build the one-option
// budget would give with int8 alone is made and timed beside it: whether
// the extra options paid is the point, and the report says why when they
// did not. docs/quantization.md has the method.
//
//===----------------------------------------------------------------------===//

#include "AccuracyRun.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include <algorithm>

using namespace kilncli;

bool AccuracyRun::multiOption() const {
  return options.budget && job.options.quantize == mlir::kiln::Quantization::Int8 &&
         job.options.prune.kind != mlir::kiln::Pruning::Kind::None;
}

bool AccuracyRun::runMultiOption(Measured &chosen) {
  return measureOptionsAlone() && measureUniformBuilds() && buildChains() &&
         searchFastest(chosen) && compareWithInt8(chosen);
}

bool AccuracyRun::measureOptionsAlone() {
  std::vector<LayerTarget> all = targets();
  std::vector<BuildSpec> builds;
  std::vector<std::pair<size_t, LayerOption>> which;
  for (size_t i = 0; i < layers.size(); ++i)
    for (LayerOption option : allLayerOptions())
      if (option != LayerOption::Fp32 && layerOptionAvailable(option, all[i])) {
        builds.push_back({aloneChoice(i, option),
                          "layer-" + std::to_string(i) + "-" + std::to_string(unsigned(option)),
                          "layer " + std::to_string(i + 1) + "/" + std::to_string(layers.size()) +
                              " " + layers[i].node + " " + layerOptionName(option)});
        which.push_back({i, option});
      }
  std::vector<Measured> out;
  if (!measureAll(builds, out, false))
    return false;
  multi.alone.assign(layers.size(), {});
  for (size_t b = 0; b < builds.size(); ++b)
    multi.alone[which[b].first][unsigned(which[b].second)] = out[b].error;
  // The report's ranking: each layer with all its compression, alone.
  for (size_t i = 0; i < layers.size(); ++i)
    if (const auto &full = multi.alone[i][unsigned(fullOption(layers[i]))])
      ranked.push_back({layers[i], *full});
  std::stable_sort(ranked.begin(), ranked.end(), [](const LayerError &a, const LayerError &b) {
    return a.error.score() < b.error.score();
  });
  return true;
}

bool AccuracyRun::measureUniformBuilds() {
  // Every option but pruned+int8, which is the compressed build.
  std::vector<BuildSpec> builds;
  std::vector<LayerOption> which;
  for (LayerOption option : {LayerOption::Fp32, LayerOption::Int8, LayerOption::Pruned}) {
    builds.push_back({uniformChoice(option), std::string("uniform-") + layerOptionName(option),
                      std::string("the build with every layer ") + layerOptionName(option)});
    which.push_back(option);
  }
  std::vector<Measured> out;
  if (!measureAll(builds, out, true))
    return false;
  for (size_t b = 0; b < builds.size(); ++b)
    multi.uniform[unsigned(which[b])] = out[b];
  multi.uniform[unsigned(LayerOption::PrunedInt8)] = compressed;

  std::vector<std::string> libraries;
  std::vector<unsigned> index;
  for (unsigned o = 0; o < kNumLayerOptions; ++o)
    if (multi.uniform[o]) {
      libraries.push_back(multi.uniform[o]->library);
      index.push_back(o);
    }
  LatencyOptions timing;
  timing.profile = true;
  timing.rounds = kProfileRounds;
  std::vector<Latency> latency;
  std::string error;
  llvm::errs() << "kiln compile: timing the " << libraries.size()
               << " builds with every layer at one option\n";
  if (!timeLibraries(libraries, sets, timing, latency, error))
    return fail("timing the builds: " + error), false;
  for (size_t i = 0; i < index.size(); ++i)
    multi.uniformLatency[index[i]] = latency[i];
  return true;
}

bool AccuracyRun::buildChains() {
  std::vector<LayerTarget> all = targets();
  for (size_t i = 0; i < layers.size(); ++i) {
    std::vector<OptionPoint> points;
    for (LayerOption option : allLayerOptions()) {
      if (!layerOptionAvailable(option, all[i]))
        continue;
      const auto &times = multi.uniformLatency[unsigned(option)].nodeMicros;
      auto found = times.find(layers[i].node);
      if (found == times.end())
        return fail("the profile of the build with every layer " +
                    std::string(layerOptionName(option)) + " has no region for layer '" +
                    layers[i].node + "': its time cannot be measured"),
               false;
      const auto &alone = multi.alone[i][unsigned(option)];
      points.push_back({option, alone ? 1 - alone->score() : 0.0, found->second});
    }
    multi.chains.push_back(optionChain(points));
  }
  return true;
}

static std::string describe(const std::vector<std::pair<size_t, LayerOption>> &moved,
                            const std::vector<Layer> &layers) {
  std::string text;
  for (auto [layer, option] : moved)
    text += (text.empty() ? "" : ", ") + layers[layer].node + " to " + layerOptionName(option);
  return text.empty() ? "every layer at its fastest option" : text;
}

bool AccuracyRun::searchFastest(Measured &chosen) {
  BudgetSearch search(multi.chains, *options.budget);
  std::vector<std::pair<size_t, LayerOption>> moved;
  double scale = 1;
  for (size_t step = 0;; ++step) {
    std::vector<LayerOption> choice = search.choice();
    std::string previous = chosen.library;
    if (llvm::all_of(choice, [](LayerOption o) { return o == LayerOption::Fp32; })) {
      // Every layer fp32 is the reference itself.
      std::string error;
      chosen.library = fp32Library;
      compareOutputs(reference, reference, chosen.error, error);
    } else if (!measure(choice, "step-" + std::to_string(step),
                        "search step " + std::to_string(step + 1), chosen)) {
      return false;
    }
    if (step > 0 && previous != compressed.library && previous != fp32Library)
      llvm::sys::fs::remove(previous);
    size_t pruned = llvm::count_if(choice, [](LayerOption o) { return layerOptionPrunes(o); });
    multi.steps.push_back(
        {moved, search.predictedError(), chosen.error.score(), search.micros(), pruned});
    llvm::errs() << llvm::format("kiln compile: search step %zu (%s): predicted 1 - score %.3g, "
                                 "measured score %.6f\n",
                                 step + 1, describe(moved, layers).c_str(),
                                 search.predictedError(), chosen.error.score());
    if (chosen.error.score() >= *options.budget)
      break;
    double measured = 1 - chosen.error.score(), predicted = search.predictedError();
    if (predicted > 0)
      scale = std::max(measured / predicted, 1e-3);
    // A layer may move several steps at once: listed once, where it ended.
    moved.clear();
    for (size_t layer : search.advance(scale))
      if (!llvm::is_contained(llvm::make_first_range(moved), layer))
        moved.push_back({layer, search.current(layer).option});
    if (moved.empty())
      break;
  }
  multi.chosen = search.choice();
  budgetMet = chosen.error.score() >= *options.budget;
  return true;
}

bool AccuracyRun::compareWithInt8(const Measured &chosen) {
  if (!budgetMet)
    return true;
  // The one-option budget with int8 alone: layers ranked by their int8
  // error, the worst kept fp32 until the budget holds.
  std::vector<LayerError> byInt8;
  for (size_t i = 0; i < layers.size(); ++i)
    if (const auto &int8 = multi.alone[i][unsigned(LayerOption::Int8)])
      byInt8.push_back({layers[i], *int8});
  std::stable_sort(byInt8.begin(), byInt8.end(), [](const LayerError &a, const LayerError &b) {
    return a.error.score() < b.error.score();
  });
  multi.int8Only = *multi.uniform[unsigned(LayerOption::Int8)];
  if (!budgetSearch(byInt8, uniformChoice(LayerOption::Int8), "int8-budget-", multi.int8Only,
                    multi.int8Fp32))
    return false;
  byInt8.resize(multi.int8Fp32);
  if (!compileInt8Fused(byInt8))
    return false;
  LatencyOptions timing;
  timing.rounds = kCompareRounds;
  timing.minRoundSeconds = kCompareRoundSeconds;
  std::vector<Latency> latency;
  std::string error;
  llvm::errs() << "kiln compile: timing the chosen build against int8 alone\n";
  if (!timeLibraries({chosen.library, multi.int8Only.library, multi.int8Fused.library}, sets,
                     timing, latency, error))
    return fail("timing the chosen build: " + error), false;
  multi.chosenLatency = latency[0];
  multi.int8Latency = latency[1];
  multi.int8FusedLatency = latency[2];
  // Against the faster of the two int8 builds.
  multi.verdict = fasterOrWhy(latency[0].passMs / std::min(latency[1].passMs, latency[2].passMs));
  return true;
}

bool AccuracyRun::compileInt8Fused(const std::vector<LayerError> &fp32) {
  mlir::kiln::CompileJob variant = job;
  variant.output = scratch.file("int8-fused.so");
  variant.onPhase = nullptr;
  variant.options.prune = mlir::kiln::Pruning();
  variant.options.pruneExclude.clear();
  variant.options.pruneKeepDense.clear();
  variant.options.pruneReport = false;
  for (const LayerError &layer : fp32)
    variant.options.quantizeExclude.push_back(layer.layer.node);
  multi.int8Fused.library = variant.output;
  return compileVariant(variant, "int8 alone as --quantize int8 compiles it") &&
         evaluate(multi.int8Fused);
}

std::string AccuracyRun::fasterOrWhy(double ratio) const {
  double int8Ms = std::min(multi.int8Latency.passMs, multi.int8FusedLatency.passMs);
  std::string figures = llvm::formatv("{0:F2} ms against {1:F2} ms per pass, ratio {2:F3}",
                                      multi.chosenLatency.passMs, int8Ms, ratio)
                            .str();
  if (ratio < 1 - kTimeTolerance)
    return "Faster than int8 alone at the same budget: " + figures + ".";
  // Why not: is pruning ever faster than int8, and could the budget afford it?
  size_t prunedFaster = 0, prunedChosen = 0;
  double cheapest = 1;
  for (size_t i = 0; i < layers.size(); ++i) {
    const auto &int8 = multi.alone[i][unsigned(LayerOption::Int8)];
    const auto &pruned = multi.alone[i][unsigned(LayerOption::Pruned)];
    prunedChosen += multi.chosen[i] == LayerOption::Pruned;
    if (!int8 || !pruned)
      continue;
    double tInt8 = multi.uniformLatency[unsigned(LayerOption::Int8)].nodeMicros.at(layers[i].node);
    double tPruned =
        multi.uniformLatency[unsigned(LayerOption::Pruned)].nodeMicros.at(layers[i].node);
    if (tPruned * (1 + kTimeTolerance) < tInt8) {
      ++prunedFaster;
      cheapest = std::min(cheapest, 1 - pruned->score());
    }
  }
  std::string why;
  if (prunedFaster == 0)
    why = "no layer runs faster pruned (fp32, sparse GEMM where it pays) than int8 at this "
          "sparsity";
  else if (prunedChosen == 0) {
    why = llvm::formatv("pruning costs more accuracy than the budget leaves (no fine-tuning): the "
                        "{0} layer(s) that run faster pruned than int8 add at least {1:E2} to "
                        "1 - score each alone, and the budget allows {2:E2} in all",
                        prunedFaster, cheapest, 1 - *options.budget)
              .str();
    // The fewest pruned layers the search tried, and what that build measured
    // (layer errors compound: the sum of their own can mislead).
    const SearchStep *fewest = nullptr;
    for (const SearchStep &step : multi.steps)
      if (step.prunedLayers && (!fewest || step.prunedLayers < fewest->prunedLayers))
        fewest = &step;
    if (fewest)
      why += llvm::formatv("; the search's build with {0} layer(s) pruned scored {1:F5}",
                           fewest->prunedLayers, fewest->measuredScore)
                 .str();
  }
  else
    why = llvm::formatv("the {0} layer(s) chosen pruned save less than the timing noise, or "
                        "less than the layers the search kept fp32 to pay for them cost",
                        prunedChosen)
              .str();
  return "Not faster than int8 alone at the same budget (" + figures + "): " + why + ".";
}

void AccuracyRun::multiOptionSummary(llvm::raw_ostream &os) const {
  std::array<size_t, kNumLayerOptions> count{};
  for (LayerOption option : multi.chosen)
    ++count[unsigned(option)];
  os << llvm::format("accuracy budget %g met by the fastest options found:", *options.budget);
  for (LayerOption option : allLayerOptions())
    os << " " << count[unsigned(option)] << " " << layerOptionName(option);
  os << llvm::format(" (%zu search steps)\n", multi.steps.size());
  os << llvm::format("latency (1 thread, CPU ms per pass over the %zu sets, median of %u rounds): "
                     "chosen %.3f, int8 alone at the same budget (%zu layers fp32) %.3f, "
                     "the same without --prune (sibling GEMMs fused) %.3f\n",
                     sets.size(), kCompareRounds, multi.chosenLatency.passMs, multi.int8Fp32,
                     multi.int8Latency.passMs, multi.int8FusedLatency.passMs);
  os << multi.verdict << "\n";
}
