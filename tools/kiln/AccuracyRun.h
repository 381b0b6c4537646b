//===- AccuracyRun.h - The state of one --accuracy-report run ---*- C++ -*-===//
//
// Internal to kiln compile's accuracy report (AccuracyReport.cpp: the
// report and the one-option budget; MultiOptionBudget.cpp: the budget that
// picks among fp32, int8, pruned and pruned+int8 per layer).
//
//===----------------------------------------------------------------------===//
#ifndef KILN_TOOLS_KILN_ACCURACYRUN_H
#define KILN_TOOLS_KILN_ACCURACYRUN_H

#include "AccuracyMetrics.h"
#include "AccuracyReport.h"
#include "BudgetSearch.h"
#include "EvalData.h"
#include "LatencyBench.h"
#include "LayerOptions.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"
#include <array>
#include <chrono>
#include <mutex>
#include <optional>

namespace kilncli {

/// Rounds of the multi-option budget's final comparison, and the least a
/// round takes (a pass over the sets is repeated until then).
inline constexpr unsigned kCompareRounds = 7;
inline constexpr double kCompareRoundSeconds = 0.5;
/// Rounds of the uniform builds' profiled runs (each layer's cost).
inline constexpr unsigned kProfileRounds = 7;

/// "| output | items | mean cosine | min cosine | max abs | SQNR dB |" rows.
void outputTable(llvm::raw_ostream &os, const BuildError &build);

/// A temporary folder, removed with everything in it.
struct ScratchFolder {
  llvm::SmallString<128> path;
  ~ScratchFolder() {
    if (!path.empty())
      llvm::sys::fs::remove_directories(path);
  }
  std::string file(llvm::StringRef name) const { return (path + "/" + name).str(); }
};

/// One measured build.
struct Measured {
  BuildError error;
  std::string library; ///< in the scratch folder
};

/// A layer the build compresses: quantizes, prunes or both.
struct Layer {
  std::string node, opType;
  int64_t k = 0, n = 0;
  bool quantized = false;
  std::optional<int64_t> zeros; ///< of its weight once pruned, if pruned
};

/// One compressed layer, measured alone.
struct LayerError {
  Layer layer;
  BuildError error;
};

/// A build to compile: one option per layer.
struct BuildSpec {
  std::vector<LayerOption> choice;
  std::string name; ///< of its library in the scratch folder
  std::string what; ///< for messages and --stats
};

/// One step of the multi-option search: the layers it moved (to the
/// option each then had) and what it predicted and measured.
struct SearchStep {
  std::vector<std::pair<size_t, LayerOption>> moved;
  double predictedError = 0, measuredScore = 0, micros = 0;
  size_t prunedLayers = 0; ///< of the step's build (pruned or pruned+int8)
};

/// What the multi-option budget measured and chose.
struct MultiOptionResult {
  /// alone[layer][option]: the layer compiled as that option alone.
  std::vector<std::array<std::optional<BuildError>, kNumLayerOptions>> alone;
  /// Builds with every layer at one option (the layers without it fp32).
  std::array<std::optional<Measured>, kNumLayerOptions> uniform;
  std::array<Latency, kNumLayerOptions> uniformLatency;
  std::vector<std::vector<OptionPoint>> chains;
  std::vector<LayerOption> chosen;
  std::vector<SearchStep> steps;
  /// int8 alone at the same budget: the worst `int8Fp32` layers by their
  /// int8 error kept fp32, as the one-option budget does.
  size_t int8Fp32 = 0;
  Measured int8Only;
  /// The same choice compiled as `--quantize int8 --quantize-exclude ...`
  /// without --prune compiles it: with kiln-fuse-sibling-matmuls (Q, K and
  /// V as one GEMM), which --prune turns off; what a user of int8 alone gets.
  Measured int8Fused;
  Latency chosenLatency, int8Latency, int8FusedLatency;
  std::string verdict; ///< faster than int8 alone, or why not
};

class AccuracyRun {
public:
  AccuracyRun(const mlir::kiln::CompileJob &job, const AccuracyOptions &options)
      : job(job), options(options) {}
  int run();

private:
  /// The fp32 reference (no compression at all) to `library`.
  bool compileReference(const std::string &library);
  /// The job with each layer as `choice` says to `library`.
  bool compileChoice(const std::vector<LayerOption> &choice, const std::string &library,
                     const std::string &what);
  bool compileVariant(const mlir::kiln::CompileJob &variant, const std::string &what);
  /// compileChoice, then evaluate.
  bool measure(const std::vector<LayerOption> &choice, const std::string &name,
               const std::string &what, Measured &out);
  /// Compiles `builds` a batch at a time on parallel threads, then runs
  /// each; out[i] is builds[i]'s. keepLibraries: leave them for timing.
  bool measureAll(const std::vector<BuildSpec> &builds, std::vector<Measured> &out,
                  bool keepLibraries);
  /// The layers to measure: the quantized and the pruned ones, by node.
  bool listLayers();
  std::vector<LayerTarget> targets() const;
  /// What the job does to `layer`: its every compression.
  LayerOption fullOption(const Layer &layer) const;
  /// Every layer fp32 but `layer`, which is `option`.
  std::vector<LayerOption> aloneChoice(size_t layer, LayerOption option) const;
  /// `option` for every layer that has it, fp32 for the others.
  std::vector<LayerOption> uniformChoice(LayerOption option) const;
  /// "int8", "pruned 0.8:block1x4:per-layer", "pruned 2:4 + int8".
  std::string compression() const;
  /// Runs out.library on the sets and compares it with the reference.
  bool evaluate(Measured &out);
  /// The worst first of `ranking` kept fp32, the rest as in `base`.
  bool budgetSearch(const std::vector<LayerError> &ranking, const std::vector<LayerOption> &base,
                    const std::string &prefix, Measured &chosen, size_t &keptFp32);
  bool moveLibrary(const std::string &from);

  /// --prune and --quantize int8 with a budget: the fastest options within it.
  bool multiOption() const;
  bool runMultiOption(Measured &chosen);
  bool measureOptionsAlone();
  bool measureUniformBuilds();
  bool buildChains();
  bool searchFastest(Measured &chosen);
  bool compareWithInt8(const Measured &chosen);
  /// multi.int8Fused: int8 alone with the layers of `fp32` kept fp32.
  bool compileInt8Fused(const std::vector<LayerError> &fp32);
  std::string fasterOrWhy(double ratio) const;
  void multiOptionMarkdown(llvm::raw_ostream &os, const Measured &chosen) const;
  void multiOptionSummary(llvm::raw_ostream &os) const;

  /// --accuracy-report, if asked for.
  bool writeReport(size_t keptFp32, const Measured &chosen) const;
  std::string markdown(size_t keptFp32, const Measured *chosen) const;
  int fail(const std::string &message) const {
    llvm::errs() << "kiln compile: error: " << message << "\n";
    return 1;
  }

  const mlir::kiln::CompileJob &job;
  const AccuracyOptions &options;
  ScratchFolder scratch;
  std::vector<EvalSet> sets;
  ModelOutputs reference;
  std::string fp32Library;
  std::vector<Layer> layers;
  Measured compressed;
  std::vector<LayerError> ranked; ///< worst first
  MultiOptionResult multi;
  std::mutex compileStats;        ///< guards the two below and --stats lines
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  size_t compiles = 0;
  double compileSeconds = 0;
  bool budgetMet = true;
};

} // namespace kilncli

#endif // KILN_TOOLS_KILN_ACCURACYRUN_H
