//===- ProfileSummary.cpp - Where a profiled session's time went ----------===//

#include "ProfileSummary.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

void kiln::io::printProfileSummary(std::FILE *out, const kiln_model_t *model,
                                   const kiln_session_t *session, unsigned runs,
                                   unsigned topNodes) {
  uint32_t n = kiln_model_num_regions(model);
  std::vector<double> micros(n);
  if (kiln_status_t status = kiln_session_profile_totals(session, micros.data(), n)) {
    std::fprintf(out, "profile: %s\n", kiln_status_message(status));
    kiln_status_free(status);
    return;
  }
  runs = std::max(runs, 1u);
  double total = 0;
  std::map<std::string, std::pair<double, unsigned>> byType; // time, nodes
  for (uint32_t i = 0; i < n; ++i) {
    total += micros[i];
    auto &entry = byType[kiln_model_region_op_type(model, i)];
    entry.first += micros[i];
    entry.second += 1;
  }
  std::vector<std::pair<std::string, std::pair<double, unsigned>>> types(byType.begin(),
                                                                          byType.end());
  std::sort(types.begin(), types.end(),
            [](const auto &a, const auto &b) { return a.second.first > b.second.first; });
  std::fprintf(out, "profile: %.3f ms per run in %u nodes (mean of %u run%s)\n",
               total / 1e3 / runs, n, runs, runs == 1 ? "" : "s");
  std::fprintf(out, "  %-24s %10s %7s %6s\n", "op type", "ms/run", "share", "nodes");
  for (const auto &[type, entry] : types)
    std::fprintf(out, "  %-24s %10.3f %6.1f%% %6u\n", type.empty() ? "(unknown)" : type.c_str(),
                 entry.first / 1e3 / runs, total > 0 ? 100 * entry.first / total : 0.0,
                 entry.second);
  std::vector<uint32_t> order(n);
  for (uint32_t i = 0; i < n; ++i)
    order[i] = i;
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return micros[a] > micros[b]; });
  std::fprintf(out, "  slowest nodes:\n");
  for (uint32_t k = 0; k < std::min<uint32_t>(topNodes, n); ++k)
    std::fprintf(out, "  %10.3f ms  %s (%s)\n", micros[order[k]] / 1e3 / runs,
                 kiln_model_region_name(model, order[k]), kiln_model_region_op_type(model, order[k]));
}
