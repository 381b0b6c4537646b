//===- AccuracyReport.h - kiln compile --accuracy-report/-budget -*- C++ -*-===//
//
// `kiln compile --quantize int8 --eval-data DIR [--accuracy-report FILE]
// [--accuracy-budget COS]`: compiles the fp32 reference beside the
// quantized build, runs both on the eval sets in this process, and measures
// each output's error (AccuracyMetrics.h) and each quantized layer's: the
// layer quantized alone, every other one fp32. With a budget, the layers
// that hurt most are kept in fp32, worst first, until the score reaches it;
// -o is then that mixed-precision build. With both --prune and --quantize
// int8, the budget instead picks per layer among fp32, int8, pruned and
// pruned+int8 for the fastest build within it (MultiOptionBudget.cpp).
// docs/quantization.md has the method and its cost (one compile per layer
// and option).
//
//===----------------------------------------------------------------------===//
#ifndef KILN_TOOLS_KILN_ACCURACYREPORT_H
#define KILN_TOOLS_KILN_ACCURACYREPORT_H

#include "kiln/Compiler/Driver.h"
#include <optional>
#include <string>

namespace kilncli {

struct AccuracyOptions {
  std::string reportPath;       ///< --accuracy-report; empty: only the summary on stdout
  std::string evalData;         ///< --eval-data
  std::optional<double> budget; ///< --accuracy-budget
  std::string commandLine;      ///< for the report's header
  bool stats = false;           ///< --stats: each compile's time on stderr

  bool requested() const { return !reportPath.empty() || budget || !evalData.empty(); }
};

/// Why the accuracy flags cannot go together with `job` (missing
/// --quantize int8 or --eval-data, --emit other than lib, a budget outside
/// (0, 1]), or "".
std::string checkAccuracyOptions(const mlir::kiln::CompileJob &job, const AccuracyOptions &options);

/// Runs it all and writes job.output and the report; an exit code. Nothing
/// is written when an input set is bad or a compile fails. A budget that
/// cannot be met even with every layer in fp32 writes the report (saying
/// so) but not the library, and returns 1.
int runAccuracyReport(const mlir::kiln::CompileJob &job, const AccuracyOptions &options);

} // namespace kilncli

#endif // KILN_TOOLS_KILN_ACCURACYREPORT_H
