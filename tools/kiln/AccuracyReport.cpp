//===- AccuracyReport.cpp - kiln compile --accuracy-report/-budget --------===//
//
// Every build here is a whole compile (CliDiagnostics on a fresh context)
// into a temporary folder, loaded and run in this process through the
// runtime's C API. The compression measured is what the command line asks
// for: --quantize int8, --prune, or both (pruning first). A layer's own
// error is measured by compiling the model with only that layer compressed
// (the others named in --quantize-exclude and kept dense, with a global
// pruning threshold still computed over all of them, so the layer loses
// the same weights as in the full build): one compile per layer, about 4 s
// each for all-MiniLM-L6-v2's 36 layers on one core, run on parallel
// threads.
// Cheaper schemes (one library switching each layer at run time, or
// simulating int8 on the fp32 graph) would measure something other than
// the code that ships.
//
//===----------------------------------------------------------------------===//

#include "AccuracyReport.h"
#include "AccuracyRun.h"
#include "CliDiagnostics.h"
#include "EvalData.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"
#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>
#include <thread>

using namespace kilncli;
using mlir::kiln::CompileJob;
using mlir::kiln::Quantization;

std::string kilncli::checkAccuracyOptions(const CompileJob &job, const AccuracyOptions &options) {
  if (!options.requested())
    return "";
  if (options.reportPath.empty() && !options.budget)
    return "--eval-data is read by --accuracy-report and --accuracy-budget; give one of them";
  std::string flag = options.budget ? "--accuracy-budget" : "--accuracy-report";
  bool pruned = job.options.prune.kind != mlir::kiln::Pruning::Kind::None;
  if (job.options.quantize == Quantization::Bf16)
    return flag + " measures int8 or pruned builds against fp32, not --quantize bf16";
  if (job.options.quantize != Quantization::Int8 && !pruned)
    return flag + " measures a compressed build against fp32: add --quantize int8 or --prune";
  if (job.options.prune.kind == mlir::kiln::Pruning::Kind::Structured)
    return flag + " measures layers pruned one at a time, which structured --prune (heads=, "
                  "ffn=) does not do yet; compare the builds with tools/minilm_pruning.py";
  if (options.evalData.empty())
    return flag + " needs --eval-data DIR: the inputs to measure on (docs/datasets.md)";
  if (job.options.emit != mlir::kiln::EmitKind::Library)
    return flag + " runs the builds, so it needs --emit=lib (the default)";
  if (options.budget && !(*options.budget > 0 && *options.budget <= 1))
    return "--accuracy-budget is a cosine similarity in (0, 1], e.g. 0.999";
  if (!options.reportPath.empty()) {
    CompileJob report;
    report.output = options.reportPath;
    if (std::string problem = mlir::kiln::checkOutputFolder(report); !problem.empty())
      return problem;
  }
  return "";
}

/// Per-layer compiles at once, at most: each holds the model's IR and
/// weights (an all-MiniLM-L6-v2 compile peaks at about 300 MB).
static constexpr size_t kMaxParallelCompiles = 4;

bool AccuracyRun::compileVariant(const CompileJob &variant, const std::string &what) {
  auto start = std::chrono::steady_clock::now();
  // The pipeline has one function, so a context's own threads would only
  // idle beside the parallel compiles.
  mlir::MLIRContext context(mlir::MLIRContext::Threading::DISABLED);
  CliDiagnostics diagnostics(context);
  bool ok = succeeded(mlir::kiln::runCompileJob(variant, context));
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::lock_guard<std::mutex> lock(compileStats);
  ++compiles;
  compileSeconds += seconds;
  if (options.stats)
    llvm::errs() << llvm::format("kiln compile: %-50s %6.2f s\n", what.c_str(), seconds);
  if (!ok)
    llvm::errs() << "kiln compile: error: failed to compile " << what << " of '" << job.model
                 << "'\n";
  return ok;
}

bool AccuracyRun::compileReference(const std::string &library) {
  CompileJob variant = job;
  variant.output = library;
  variant.onPhase = nullptr;
  variant.options.pruneReport = false;
  variant.options.quantize = Quantization::None;
  variant.options.quantizeExclude.clear();
  variant.options.prune = mlir::kiln::Pruning();
  variant.options.pruneExclude.clear();
  return compileVariant(variant, "the fp32 reference");
}

bool AccuracyRun::compileChoice(const std::vector<LayerOption> &choice,
                                const std::string &library, const std::string &what) {
  CompileJob variant = job;
  variant.output = library;
  variant.onPhase = nullptr;
  variant.options.pruneReport = false;
  // Layers not quantized go in --quantize-exclude; layers not pruned are
  // kept dense by the pruning pass but still counted for a global threshold.
  if (std::string problem = applyLayerOptions(variant.options, targets(), choice);
      !problem.empty())
    return fail("cannot compile " + what + ": " + problem), false;
  return compileVariant(variant, what);
}

bool AccuracyRun::measure(const std::vector<LayerOption> &choice, const std::string &name,
                          const std::string &what, Measured &out) {
  out.library = scratch.file(name + ".so");
  return compileChoice(choice, out.library, what) && evaluate(out);
}

bool AccuracyRun::measureAll(const std::vector<BuildSpec> &builds, std::vector<Measured> &out,
                             bool keepLibraries) {
  // The compiles are independent (one MLIRContext each; LLVM codegen is
  // single-threaded) and run a batch at a time on parallel threads; the
  // runs, which use all threads themselves, follow one by one. A fresh
  // library name per build: dlopen could hand back a library of the same
  // path that is still mapped.
  out.assign(builds.size(), Measured());
  size_t jobs = std::clamp<size_t>(std::thread::hardware_concurrency(), 1, kMaxParallelCompiles);
  for (size_t first = 0; first < builds.size(); first += jobs) {
    size_t last = std::min(builds.size(), first + jobs);
    std::vector<char> compiled(last - first, 0);
    std::vector<std::thread> threads;
    for (size_t i = first; i < last; ++i)
      threads.emplace_back([&, i] {
        out[i].library = scratch.file(builds[i].name + ".so");
        compiled[i - first] = compileChoice(builds[i].choice, out[i].library, builds[i].what);
      });
    for (std::thread &thread : threads)
      thread.join();
    if (llvm::is_contained(compiled, 0))
      return false;
    for (size_t i = first; i < last; ++i) {
      if (!evaluate(out[i]))
        return false;
      if (!keepLibraries)
        llvm::sys::fs::remove(out[i].library);
    }
  }
  return true;
}

bool AccuracyRun::evaluate(Measured &out) {
  ModelOutputs outputs;
  std::string error;
  if (!runOnSets(out.library, sets, outputs, error) ||
      !compareOutputs(reference, outputs, out.error, error)) {
    fail(error);
    return false;
  }
  return true;
}

std::string AccuracyRun::compression() const {
  std::string name;
  if (job.options.prune.kind != mlir::kiln::Pruning::Kind::None)
    name = "pruned " + mlir::kiln::pruningSpec(job.options.prune);
  // int8-static's layers share the calibrated scales of the one
  // calibration, whichever layers a build keeps in fp32.
  if (job.options.quantize == Quantization::Int8)
    name += std::string(name.empty() ? "" : " + ") +
            (job.options.staticActivations ? "int8-static" : "int8");
  return name;
}

bool AccuracyRun::listLayers() {
  mlir::MLIRContext context;
  CliDiagnostics diagnostics(context);
  auto quantized = mlir::kiln::listQuantizedLayers(job, context);
  if (failed(quantized))
    return fail("cannot list the quantized layers of '" + job.model + "'"), false;
  mlir::MLIRContext pruningContext;
  CliDiagnostics pruningDiagnostics(pruningContext);
  auto pruned = mlir::kiln::listPrunedLayers(job, pruningContext);
  if (failed(pruned))
    return fail("cannot list the pruned layers of '" + job.model + "'"), false;
  // Program order of the quantized layers, then any layer only pruned.
  for (const mlir::kiln::QuantizedLayer &q : *quantized)
    layers.push_back({q.node, q.opType, q.k, q.n, true, std::nullopt});
  for (const mlir::kiln::PrunedLayer &p : *pruned) {
    auto same = llvm::find_if(layers, [&](const Layer &l) { return l.node == p.node; });
    if (same == layers.end())
      layers.push_back({p.node, p.opType, p.k, p.n, false, p.zeros});
    else
      same->zeros = p.zeros;
  }
  return true;
}

std::vector<LayerTarget> AccuracyRun::targets() const {
  std::vector<LayerTarget> out;
  for (const Layer &layer : layers)
    out.push_back({layer.node, layer.quantized, layer.zeros.has_value()});
  return out;
}

LayerOption AccuracyRun::fullOption(const Layer &layer) const {
  if (layer.zeros)
    return layer.quantized ? LayerOption::PrunedInt8 : LayerOption::Pruned;
  return layer.quantized ? LayerOption::Int8 : LayerOption::Fp32;
}

std::vector<LayerOption> AccuracyRun::aloneChoice(size_t layer, LayerOption option) const {
  std::vector<LayerOption> choice(layers.size(), LayerOption::Fp32);
  choice[layer] = option;
  return choice;
}

std::vector<LayerOption> AccuracyRun::uniformChoice(LayerOption option) const {
  std::vector<LayerOption> choice;
  std::vector<LayerTarget> all = targets();
  for (const LayerTarget &layer : all)
    choice.push_back(layerOptionAvailable(option, layer) ? option : LayerOption::Fp32);
  return choice;
}

/// Keeps the worst 1, 2, ... layers of `ranking` in fp32 (the others as
/// `base` has them) until the score reaches the budget: each
/// step is one compile and one measurement. `chosen` starts as the build
/// with no layer kept.
bool AccuracyRun::budgetSearch(const std::vector<LayerError> &ranking,
                               const std::vector<LayerOption> &base, const std::string &prefix,
                               Measured &chosen, size_t &keptFp32) {
  Measured start = chosen;
  keptFp32 = 0;
  while (chosen.error.score() < *options.budget && keptFp32 < ranking.size()) {
    ++keptFp32;
    std::vector<LayerOption> choice = base;
    for (size_t i = 0; i < keptFp32; ++i) {
      auto at = llvm::find_if(layers, [&](const Layer &l) { return l.node == ranking[i].layer.node; });
      choice[at - layers.begin()] = LayerOption::Fp32;
    }
    std::string previous = chosen.library;
    if (!measure(choice, prefix + std::to_string(keptFp32),
                 "the build with the worst " + std::to_string(keptFp32) + " layer(s) in fp32",
                 chosen))
      return false;
    if (previous != start.library)
      llvm::sys::fs::remove(previous);
    llvm::errs() << llvm::format("kiln compile: %zu layer(s) in fp32: score %.6f\n", keptFp32,
                                 chosen.error.score());
  }
  return true;
}

/// Renames `from` to job.output, or, across file systems, copies it beside
/// the output first, so that -o never holds half a library.
bool AccuracyRun::moveLibrary(const std::string &from) {
  if (!llvm::sys::fs::rename(from, job.output))
    return true;
  std::string staging = job.output + ".kiln-partial";
  if (std::error_code ec = llvm::sys::fs::copy_file(from, staging)) {
    llvm::sys::fs::remove(staging);
    return fail("cannot write '" + job.output + "': " + ec.message()), false;
  }
  if (std::error_code ec = llvm::sys::fs::rename(staging, job.output)) {
    llvm::sys::fs::remove(staging);
    return fail("cannot write '" + job.output + "': " + ec.message()), false;
  }
  return true;
}

int AccuracyRun::run() {
  // The folder is checked before the first compile (and again by
  // readEvalSets once the model's inputs are known).
  std::vector<std::string> setNames;
  std::string error;
  if (!listEvalSets(options.evalData, setNames, error))
    return fail(error);
  if (std::error_code ec = llvm::sys::fs::createUniqueDirectory("kiln-accuracy", scratch.path))
    return fail("cannot create a temporary folder: " + ec.message());

  fp32Library = scratch.file("fp32.so");
  if (!compileReference(fp32Library))
    return 1;
  {
    kiln_model_t *model = nullptr;
    if (kiln_status_t st = kiln_model_load(fp32Library.c_str(), &model)) {
      std::string message = kiln_status_message(st);
      kiln_status_free(st);
      return fail(message);
    }
    bool read = readEvalSets(options.evalData, model, sets, error);
    kiln_model_release(model);
    if (!read)
      return fail(error);
  }
  if (!runOnSets(fp32Library, sets, reference, error))
    return fail(error);

  if (!listLayers())
    return 1;
  // Measuring a layer alone names every other one in the pass options.
  mlir::kiln::CompileOptions all = job.options;
  if (std::string problem =
          applyLayerOptions(all, targets(), std::vector<LayerOption>(layers.size(), LayerOption::Fp32));
      !problem.empty())
    return fail("cannot measure the layers one by one: " + problem);
  std::vector<LayerOption> full;
  for (const Layer &layer : layers)
    full.push_back(fullOption(layer));
  if (!measure(full, "compressed", "the " + compression() + " build", compressed))
    return 1;

  Measured chosen = compressed;
  size_t keptFp32 = 0;
  if (multiOption()) {
    if (!runMultiOption(chosen))
      return 1;
  } else {
    // Each layer alone: every other compressed layer kept.
    std::vector<BuildSpec> builds;
    for (size_t i = 0; i < layers.size(); ++i)
      builds.push_back({aloneChoice(i, full[i]), "layer-" + std::to_string(i),
                        "layer " + std::to_string(i + 1) + "/" + std::to_string(layers.size()) +
                            " " + layers[i].node});
    std::vector<Measured> alone;
    if (!measureAll(builds, alone, false))
      return 1;
    for (size_t i = 0; i < layers.size(); ++i)
      ranked.push_back({layers[i], alone[i].error});
    std::stable_sort(ranked.begin(), ranked.end(), [](const LayerError &a, const LayerError &b) {
      return a.error.score() < b.error.score();
    });
    if (options.budget) {
      if (!budgetSearch(ranked, full, "budget-", chosen, keptFp32))
        return 1;
      budgetMet = chosen.error.score() >= *options.budget;
    }
  }

  // The library first, then the report: a failure in either leaves neither.
  if (budgetMet && !moveLibrary(chosen.library))
    return 1;
  if (!writeReport(keptFp32, chosen)) {
    if (budgetMet)
      llvm::sys::fs::remove(job.output);
    return 1;
  }
  const OutputError &worst = chosen.error.worst();
  llvm::outs() << llvm::format("accuracy: %s vs fp32 on %zu sets: score %.6f (output '%s': "
                               "mean cosine %.6f, min %.6f, SQNR %.2f dB)\n",
                               options.budget ? "the chosen build" : compression().c_str(),
                               sets.size(),
                               chosen.error.score(), worst.name.c_str(), worst.meanCosine(),
                               worst.minCosine(), worst.sqnrDb());
  if (!budgetMet)
    return fail(llvm::formatv("the accuracy budget {0} cannot be met: with all {1} compressed "
                              "layers in fp32 the score is {2}; no library written",
                              *options.budget, layers.size(), chosen.error.score())
                    .str());
  if (multiOption())
    multiOptionSummary(llvm::outs());
  else if (options.budget)
    llvm::outs() << llvm::format("accuracy budget %g met with %zu of %zu compressed layers kept "
                                 "in fp32\n",
                                 *options.budget, keptFp32, ranked.size());
  return 0;
}

bool AccuracyRun::writeReport(size_t keptFp32, const Measured &chosen) const {
  if (options.reportPath.empty())
    return true;
  std::error_code ec;
  llvm::ToolOutputFile file(options.reportPath, ec, llvm::sys::fs::OF_Text);
  if (!ec) {
    file.os() << markdown(keptFp32, options.budget ? &chosen : nullptr);
    file.os().flush();
    if (!file.os().has_error()) {
      file.keep();
      return true;
    }
    ec = file.os().error();
  }
  fail("cannot write '" + options.reportPath + "': " + ec.message());
  return false;
}

//===----------------------------------------------------------------------===//
// The report
//===----------------------------------------------------------------------===//

static std::string number(double value, const char *format) {
  if (std::isinf(value))
    return "inf";
  return llvm::formatv(format, value).str();
}

void kilncli::outputTable(llvm::raw_ostream &os, const BuildError &build) {
  os << "| output | items | mean cosine | min cosine | max abs diff | SQNR dB |\n"
        "|---|--:|--:|--:|--:|--:|\n";
  for (const OutputError &o : build.outputs)
    os << "| `" << o.name << "` | " << o.cosines.size() << " | " << number(o.meanCosine(), "{0:F7}")
       << " | " << number(o.minCosine(), "{0:F7}") << " | " << number(o.maxAbs, "{0:E3}") << " | "
       << number(o.sqnrDb(), "{0:F2}") << " |\n";
}

std::string AccuracyRun::markdown(size_t keptFp32, const Measured *chosen) const {
  std::string text;
  llvm::raw_string_ostream os(text);
  size_t items = compressed.error.outputs.empty() ? 0 : compressed.error.worst().cosines.size();
  bool pruned = job.options.prune.kind != mlir::kiln::Pruning::Kind::None;
  bool quantized = job.options.quantize == Quantization::Int8;
  // "quantized", "pruned" or "pruned and quantized": what a layer's row is.
  std::string done = pruned && quantized ? "pruned and quantized" : pruned ? "pruned" : "quantized";
  double sumOfLayerErrors = 0;
  for (const LayerError &layer : ranked)
    sumOfLayerErrors += 1 - layer.error.score();
  os << "# Accuracy report: `" << llvm::sys::path::filename(job.model) << "`\n\n"
     << "```sh\n"
     << options.commandLine << "\n```\n\n"
     << "Eval data: `" << options.evalData << "`, " << sets.size() << " sets. Reference: the "
     << "same model compiled in fp32 with the same options. Each output is compared per item "
     << "(split along its first dim when it has rank 2 or more) by cosine similarity; max abs "
     << "diff and SQNR (10 log10(sum ref^2 / sum err^2)) are over all sets. A build's **score** "
     << "is the mean cosine of its worst output.\n\n";

  os << "## " << compression() << " (" << layers.size() << " " << done
     << " layers) against fp32\n\n"
     << "Score **" << number(compressed.error.score(), "{0:F7}") << "** over " << items
     << " items.\n\n";
  if (pruned) {
    int64_t zeros = 0, values = 0;
    for (const Layer &layer : layers)
      if (layer.zeros) {
        zeros += *layer.zeros;
        values += layer.k * layer.n;
      }
    os << "Pruned weights: " << zeros << " of " << values << " values zero, sparsity "
       << number(values ? double(zeros) / double(values) : 0.0, "{0:F4}") << ".\n\n";
  }
  outputTable(os, compressed.error);

  os << "\n## Layers, worst first\n\n"
     << "Each layer " << done << " alone (every other layer fp32"
     << (pruned ? " and dense" : "")
     << (pruned && job.options.prune.global
             ? "; the global pruning threshold is still the one over all layers"
             : "")
     << "): the error it adds on its own. `1 - score` of the " << compression() << " build is "
     << number(1 - compressed.error.score(), "{0:E3}") << "; the sum of the layers' own is "
     << number(sumOfLayerErrors, "{0:E3}") << ".\n\n"
     << "| # | ONNX node | op, weight K x N | " << (pruned ? "sparsity | " : "")
     << "score | 1 - score | worst output | its SQNR dB | its max abs diff |\n"
     << "|--:|---|---|" << (pruned ? "--:|" : "") << "--:|--:|---|--:|--:|\n";
  for (size_t i = 0; i < ranked.size(); ++i) {
    const OutputError &w = ranked[i].error.worst();
    const Layer &layer = ranked[i].layer;
    os << "| " << i + 1 << " | `" << layer.node << "` | " << layer.opType << " " << layer.k << " x "
       << layer.n << " | ";
    if (pruned)
      os << (layer.zeros ? number(double(*layer.zeros) / double(layer.k * layer.n), "{0:F4}")
                         : std::string("dense"))
         << " | ";
    os << number(ranked[i].error.score(), "{0:F7}") << " | "
       << number(1 - ranked[i].error.score(), "{0:E3}") << " | `" << w.name << "` | "
       << number(w.sqnrDb(), "{0:F2}") << " | " << number(w.maxAbs, "{0:E3}") << " |\n";
  }
  if (ranked.empty())
    os << "\n(No layer was " << done << ".)\n";

  if (chosen && multiOption()) {
    multiOptionMarkdown(os, *chosen);
  } else if (chosen) {
    os << "\n## Accuracy budget " << llvm::format("%g", *options.budget) << "\n\n";
    if (!budgetMet)
      os << "**Not met**: even with all " << ranked.size()
         << " " << done << " layers in fp32 the score is " << number(chosen->error.score(), "{0:F7}")
         << ". No library was written.\n\n";
    else if (keptFp32 == 0)
      os << "Met by the " << compression() << " build: every layer stays " << done << ".\n\n";
    else
      os << "Met with the worst " << keptFp32 << " of " << ranked.size()
         << " layers kept in fp32 (taken worst first, one more per compile, until the score "
         << "reached the budget). The written library is this build:\n\n";
    for (size_t i = 0; i < keptFp32; ++i)
      os << "- `" << ranked[i].layer.node << "`\n";
    if (keptFp32)
      os << "\nScore **" << number(chosen->error.score(), "{0:F7}") << "**:\n\n";
    if (keptFp32)
      outputTable(os, chosen->error);
  }
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  os << "\n"
     << compiles << " compiles (" << llvm::format("%.1f", compileSeconds)
     << " s, summed over the threads that ran them); " << llvm::format("%.1f", wall)
     << " s from start to this report.\n";
  return text;
}

int kilncli::runAccuracyReport(const CompileJob &job, const AccuracyOptions &options) {
  AccuracyRun run(job, options);
  return run.run();
}
