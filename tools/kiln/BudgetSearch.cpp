//===- BudgetSearch.cpp - Fastest layer options within an accuracy budget -===//

#include "BudgetSearch.h"
#include <algorithm>
#include <limits>

using namespace kilncli;

std::vector<OptionPoint> kilncli::optionChain(std::vector<OptionPoint> options) {
  std::stable_sort(options.begin(), options.end(),
                   [](const OptionPoint &a, const OptionPoint &b) { return a.micros < b.micros; });
  std::vector<OptionPoint> chain;
  for (const OptionPoint &o : options) {
    // A faster option no better than this one, and faster only by noise,
    // goes: this one is as fast and more accurate.
    llvm::erase_if(chain, [&](const OptionPoint &kept) {
      return kept.error >= o.error && kept.micros * (1 + kTimeTolerance) >= o.micros;
    });
    bool moreAccurate = chain.empty() || o.error < chain.back().error;
    if (moreAccurate || o.option == LayerOption::Fp32)
      chain.push_back(o);
  }
  // fp32 is the way back to the reference, so that every search ends; an
  // option as accurate and faster may have removed it.
  if (chain.back().option != LayerOption::Fp32) {
    auto fp32 = llvm::find_if(options, [](const OptionPoint &o) {
      return o.option == LayerOption::Fp32;
    });
    if (fp32 != options.end())
      chain.push_back(*fp32);
  }
  return chain;
}

BudgetSearch::BudgetSearch(std::vector<std::vector<OptionPoint>> chains, double budget)
    : chains(std::move(chains)), position(this->chains.size(), 0), allowed(1 - budget) {}

std::vector<LayerOption> BudgetSearch::choice() const {
  std::vector<LayerOption> out;
  for (size_t i = 0; i < chains.size(); ++i)
    out.push_back(current(i).option);
  return out;
}

double BudgetSearch::predictedError() const {
  double sum = 0;
  for (size_t i = 0; i < chains.size(); ++i)
    sum += current(i).error;
  return sum;
}

double BudgetSearch::micros() const {
  double sum = 0;
  for (size_t i = 0; i < chains.size(); ++i)
    sum += current(i).micros;
  return sum;
}

std::vector<size_t> BudgetSearch::advance(double scale) {
  std::vector<size_t> moved;
  while (moved.empty() || predictedError() * scale > allowed) {
    size_t best = chains.size(), to = 0;
    double bestRate = -1;
    for (size_t i = 0; i < chains.size(); ++i) {
      // A move may skip options: one that saves almost nothing for its time
      // (pruned+int8 a noise's width faster than int8) would otherwise rank
      // below moves to fp32 elsewhere and hold back the big step past it.
      const OptionPoint &now = current(i);
      for (size_t j = position[i] + 1; j < chains[i].size(); ++j) {
        double gained = now.error - chains[i][j].error;
        double spent = std::max(chains[i][j].micros - now.micros, 1e-9);
        if (gained / spent > bestRate) {
          bestRate = gained / spent;
          best = i;
          to = j;
        }
      }
    }
    if (best == chains.size())
      break;
    position[best] = to;
    moved.push_back(best);
  }
  return moved;
}
