//===- BudgetSearch.h - Fastest layer options within an accuracy budget -*- C++ -*-===//
//
// The search of --accuracy-budget with several options per layer (dense
// fp32, int8, pruned, pruned+int8; LayerOptions.h), on measured figures:
// each option's error is that of the layer compiled so alone (every other
// layer fp32), its cost the layer's time in a build with every layer so
// (LatencyBench). Per layer, the options are put in a chain, fastest
// first, each next one slower and more accurate; an option that another
// beats on both (times within kTimeTolerance counting as equal: the timing
// noise) is dropped, and fp32 (error 0) always ends the chain. The search
// starts with every layer at its fastest option and moves layers along
// their chains, best error reduction per time added first (a move may skip
// options, to the point of the chain with the best rate); the
// caller compiles and measures each build it proposes. Errors of layers
// add up roughly (the report shows their sum beside the build's), so the
// search predicts a build's error as the sum of its layers' own, scaled by
// how far the last measured build was from its prediction.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_TOOLS_KILN_BUDGETSEARCH_H
#define KILN_TOOLS_KILN_BUDGETSEARCH_H

#include "LayerOptions.h"
#include <string>
#include <vector>

namespace kilncli {

/// Timings closer than this (relative) are taken as equal.
inline constexpr double kTimeTolerance = 0.03;

/// One option of one layer, measured.
struct OptionPoint {
  LayerOption option = LayerOption::Fp32;
  double error = 0;  ///< 1 - score of the layer so alone
  double micros = 0; ///< the layer's time per pass in the build with every layer so
};

/// The options worth having, fastest first (see above); `options` must
/// include fp32.
std::vector<OptionPoint> optionChain(std::vector<OptionPoint> options);

class BudgetSearch {
public:
  BudgetSearch(std::vector<std::vector<OptionPoint>> chains, double budget);

  /// Every layer's current option.
  std::vector<LayerOption> choice() const;
  const OptionPoint &current(size_t layer) const { return chains[layer][position[layer]]; }
  /// The sum of the current options' errors and times.
  double predictedError() const;
  double micros() const;
  /// After a measured build missed the budget: moves layers (at least one)
  /// until the predicted error times `scale` is within the budget. The
  /// layers moved, in order; empty when every layer is at its chain's end.
  std::vector<size_t> advance(double scale);

private:
  std::vector<std::vector<OptionPoint>> chains;
  std::vector<size_t> position;
  double allowed; ///< 1 - budget
};

} // namespace kilncli

#endif // KILN_TOOLS_KILN_BUDGETSEARCH_H
