//===- LatencyBench.cpp - Libraries timed side by side on the eval sets ---===//

#include "LatencyBench.h"
#include <algorithm>
#include <cmath>
#include <ctime>
#include <memory>

using namespace kilncli;

static double threadCpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return double(now.tv_sec) + 1e-9 * double(now.tv_nsec);
}

static double median(std::vector<double> values) {
  if (values.empty())
    return 0;
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

namespace {
/// One library loaded, with a one-thread session and its inputs bound.
struct Timed {
  kiln_model_t *model = nullptr;
  kiln_session_t *session = nullptr;
  size_t numOutputs = 0;
  unsigned repeats = 1;
  /// profile: samples[region][set], one per run of the set.
  std::vector<std::vector<std::vector<double>>> samples;
  ~Timed() {
    kiln_session_release(session);
    kiln_model_release(model);
  }
};
} // namespace

static std::string take(kiln_status_t status) {
  std::string message = status ? kiln_status_message(status) : "";
  kiln_status_free(status);
  return message;
}

static bool open(const std::string &path, bool profile, Timed &out, std::string &error) {
  if (kiln_status_t st = kiln_model_load(path.c_str(), &out.model))
    return error = take(st), false;
  kiln_session_options options;
  kiln_session_options_initialize(&options);
  options.num_threads = 1;
  options.profile = profile;
  if (kiln_status_t st = kiln_session_create(out.model, &options, &out.session))
    return error = take(st), false;
  out.numOutputs = kiln_model_num_outputs(out.model);
  out.samples.assign(profile ? kiln_model_num_regions(out.model) : 0, {});
  return true;
}

static bool profileTotals(const Timed &timed, std::vector<double> &micros, std::string &error) {
  micros.assign(timed.samples.size(), 0);
  if (micros.empty())
    return true;
  if (kiln_status_t st = kiln_session_profile_totals(timed.session, micros.data(),
                                                     uint32_t(micros.size())))
    return error = take(st), false;
  return true;
}

/// One pass over the sets; false with a message naming the set. With the
/// profile, each region's time in each run is a sample of its (region,
/// set): the profile is wall clock, and on a shared machine a preemption
/// lands its whole time slice in whatever region was running, so a
/// region's figure is the median per set, not a total over runs.
static bool pass(Timed &timed, const std::vector<EvalSet> &sets, std::string &error) {
  std::vector<double> before, after;
  for (size_t s = 0; s < sets.size(); ++s) {
    const EvalSet &set = sets[s];
    if (!profileTotals(timed, before, error))
      return false;
    std::vector<kiln_tensor> inputs;
    for (const kiln::io::HostTensor &t : set.inputs)
      inputs.push_back({t.name.c_str(), t.dtype, int32_t(t.dims.size()), t.dims.data(),
                        const_cast<uint8_t *>(t.data.data()), t.data.size()});
    std::vector<kiln_tensor> outputs(timed.numOutputs, kiln_tensor{});
    kiln_status_t st = kiln_session_run(timed.session, inputs.data(), inputs.size(),
                                        outputs.data(), outputs.size());
    for (kiln_tensor &t : outputs)
      kiln_tensor_free(t.data);
    if (st)
      return error = "set '" + set.name + "': " + take(st), false;
    if (!profileTotals(timed, after, error))
      return false;
    for (size_t region = 0; region < after.size(); ++region) {
      timed.samples[region].resize(sets.size());
      timed.samples[region][s].push_back(after[region] - before[region]);
    }
  }
  return true;
}

/// One round of `timed`: its repeats, and the CPU ms per pass.
static bool round(Timed &timed, const std::vector<EvalSet> &sets, double &ms, std::string &error) {
  double start = threadCpuSeconds();
  for (unsigned r = 0; r < timed.repeats; ++r)
    if (!pass(timed, sets, error))
      return false;
  ms = 1e3 * (threadCpuSeconds() - start) / timed.repeats;
  return true;
}

bool kilncli::timeLibraries(const std::vector<std::string> &libraries,
                            const std::vector<EvalSet> &sets, const LatencyOptions &options,
                            std::vector<Latency> &out, std::string &error) {
  std::vector<std::unique_ptr<Timed>> timed;
  for (const std::string &path : libraries) {
    timed.push_back(std::make_unique<Timed>());
    if (!open(path, options.profile, *timed.back(), error))
      return error = "'" + path + "': " + error, false;
    // The warm-up pass also sizes the round.
    double start = threadCpuSeconds();
    if (!pass(*timed.back(), sets, error))
      return false;
    double seconds = std::max(threadCpuSeconds() - start, 1e-6);
    timed.back()->repeats = unsigned(std::clamp(std::ceil(options.minRoundSeconds / seconds), 1.0,
                                                1e4));
    // Its profile is left out: a first run pays for faults and caches.
    for (auto &region : timed.back()->samples)
      region.assign(sets.size(), {});
  }
  out.assign(libraries.size(), Latency());
  for (unsigned r = 0; r < options.rounds; ++r)
    for (size_t k = 0; k < timed.size(); ++k) {
      size_t i = (k + r) % timed.size();
      double ms = 0;
      if (!round(*timed[i], sets, ms, error))
        return false;
      out[i].roundMs.push_back(ms);
    }
  for (size_t i = 0; i < timed.size(); ++i) {
    out[i].passMs = median(out[i].roundMs);
    for (size_t region = 0; region < timed[i]->samples.size(); ++region) {
      double sum = 0;
      for (const std::vector<double> &runs : timed[i]->samples[region])
        sum += median(runs);
      out[i].nodeMicros[kiln_model_region_name(timed[i]->model, uint32_t(region))] += sum;
    }
  }
  return true;
}
