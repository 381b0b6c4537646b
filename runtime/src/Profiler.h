//===- Profiler.h - Per-node timings of a session's runs --------*- C++ -*-===//
//
// A compiled model brackets the code of every ONNX node with
// kiln_runtime_context::profile calls (kiln_abi.h). When a session profiles,
// they land here: one event per bracket, kept until the session goes, and
// written as a Chrome trace (chrome://tracing, ui.perfetto.dev).
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_PROFILER_H
#define KILN_RUNTIME_PROFILER_H

#include <cstdint>
#include <string>
#include <vector>

namespace kiln {

struct ProfileRegionName {
  std::string name, opType;
};

class Profiler {
public:
  explicit Profiler(const std::vector<ProfileRegionName> &regions);

  /// A run starts and ends (one "run" event each).
  void beginRun();
  void endRun();
  /// kiln_runtime_context::profile. Regions do not nest: a run executes
  /// its nodes one after another on the calling thread.
  void mark(int64_t region, int64_t phase);

  /// Microseconds spent in each region over all runs so far.
  std::vector<double> totalsMicroseconds() const;
  /// The events so far as Chrome trace JSON; false if `path` cannot be
  /// written (errno says why).
  bool writeChromeTrace(const std::string &path) const;

private:
  struct Event {
    int64_t region; // -1: a whole run
    int64_t startNs, durationNs;
  };
  const std::vector<ProfileRegionName> &regions;
  std::vector<Event> events;
  int64_t openRegion = -1, openStartNs = 0, runStartNs = 0;
  int64_t originNs;
};

} // namespace kiln

#endif // KILN_RUNTIME_PROFILER_H
