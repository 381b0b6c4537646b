//===- LatencyBench.h - Libraries timed side by side on the eval sets -*- C++ -*-===//
//
// --accuracy-budget's costs and its final comparison: several compiled
// libraries of one model, each run over all the eval sets (a "pass") on a
// one-thread session, in alternating rounds (the order rotating each round)
// so that load from other processes, which comes and goes, hits every
// library alike; each library's figure is the median over the rounds. One
// thread because it is timed by the thread's CPU time (the run happens on
// the calling thread), which leaves out what other processes take on a
// shared machine, and because a layer's cost is its CPU work.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_TOOLS_KILN_LATENCYBENCH_H
#define KILN_TOOLS_KILN_LATENCYBENCH_H

#include "EvalData.h"
#include <map>
#include <string>
#include <vector>

namespace kilncli {

struct LatencyOptions {
  unsigned rounds = 5;
  /// Each round repeats the pass until it has taken this long (at least
  /// once), so that tiny models are not timed by one clock tick.
  double minRoundSeconds = 0.2;
  /// Time every ONNX node too (the runtime's profile regions).
  bool profile = false;
};

struct Latency {
  double passMs = 0;               ///< median over rounds, CPU ms per pass over the sets
  std::vector<double> roundMs;     ///< each round's, per pass
  /// profile: per ONNX node name, its µs per pass: per set the median over
  /// that set's runs, summed over the sets and the node's regions (wall
  /// clock; the median leaves out the runs a preemption landed in).
  std::map<std::string, double> nodeMicros;
};

/// Times `libraries` (paths) on `sets`; out[i] is libraries[i]'s. False with
/// a message if one does not load or run.
bool timeLibraries(const std::vector<std::string> &libraries, const std::vector<EvalSet> &sets,
                   const LatencyOptions &options, std::vector<Latency> &out, std::string &error);

} // namespace kilncli

#endif // KILN_TOOLS_KILN_LATENCYBENCH_H
