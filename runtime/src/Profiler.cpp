//===- Profiler.cpp - Per-node timings of a session's runs ----------------===//

#include "Profiler.h"

#include <chrono>
#include <cstdio>

using namespace kiln;

namespace {

int64_t nowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// `text` as a JSON string literal.
std::string jsonString(const std::string &text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

} // namespace

Profiler::Profiler(const std::vector<ProfileRegionName> &regions)
    : regions(regions), originNs(nowNs()) {
  events.reserve(4 * regions.size() + 16);
}

void Profiler::beginRun() {
  runStartNs = nowNs();
  openRegion = -1;
}

void Profiler::endRun() { events.push_back({-1, runStartNs, nowNs() - runStartNs}); }

void Profiler::mark(int64_t region, int64_t phase) {
  if (region < 0 || static_cast<size_t>(region) >= regions.size())
    return; // not a region of this model: ignore rather than corrupt
  int64_t now = nowNs();
  if (phase == 0) {
    openRegion = region;
    openStartNs = now;
  } else if (openRegion == region) {
    events.push_back({region, openStartNs, now - openStartNs});
    openRegion = -1;
  }
}

std::vector<double> Profiler::totalsMicroseconds() const {
  std::vector<double> totals(regions.size(), 0.0);
  for (const Event &e : events)
    if (e.region >= 0)
      totals[e.region] += e.durationNs / 1e3;
  return totals;
}

bool Profiler::writeChromeTrace(const std::string &path) const {
  std::FILE *file = std::fopen(path.c_str(), "w");
  if (!file)
    return false;
  std::fprintf(file, "{\"displayTimeUnit\": \"ms\", \"traceEvents\": [\n");
  std::fprintf(file, "{\"name\": \"process_name\", \"ph\": \"M\", \"pid\": 1, \"tid\": 1, "
                     "\"args\": {\"name\": \"kiln\"}}");
  for (const Event &e : events) {
    // One track: the node events nest inside their run's.
    const bool run = e.region < 0;
    std::string name = run ? "run" : regions[e.region].name;
    std::string category = run ? "run" : regions[e.region].opType;
    std::fprintf(file,
                 ",\n{\"name\": %s, \"cat\": %s, \"ph\": \"X\", \"pid\": 1, \"tid\": 1, "
                 "\"ts\": %.3f, \"dur\": %.3f, \"args\": {\"op_type\": %s}}",
                 jsonString(name).c_str(), jsonString(category).c_str(),
                 (e.startNs - originNs) / 1e3, e.durationNs / 1e3, jsonString(category).c_str());
  }
  std::fprintf(file, "\n]}\n");
  bool ok = !std::ferror(file);
  return std::fclose(file) == 0 && ok;
}
