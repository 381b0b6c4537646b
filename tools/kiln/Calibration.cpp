//===- Calibration.cpp - kiln compile --quantize int8-static --------------===//
//
// Two passes over the calibration sets: the first finds each layer's range,
// the second (percentile and entropy only) fills fixed histograms over it,
// so that no layer's values are kept: BERT-base's 72 layers at 128 tokens
// see about 70 MB of activations per set. Non-finite values (there should
// be none in an fp32 model) are left out of the ranges and counted.
//
//===----------------------------------------------------------------------===//

#include "Calibration.h"
#include "EvalData.h"
#include "kiln/Passes/Passes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <functional>
#include <limits>

using namespace kilncli;
using mlir::kiln::CompileJob;
using mlir::kiln::Quantization;

std::string kilncli::parseCalibrationMethod(llvm::StringRef text, CalibrationOptions &options) {
  options.methodGiven = true;
  if (text == "minmax")
    options.method = CalibrationMethod::MinMax;
  else if (text == "percentile")
    options.method = CalibrationMethod::Percentile;
  else if (text == "entropy")
    options.method = CalibrationMethod::Entropy;
  else
    return "--calibration-method must be minmax, percentile or entropy, not '" + text.str() + "'";
  return "";
}

std::string kilncli::checkCalibrationOptions(const CompileJob &job,
                                             const CalibrationOptions &options) {
  bool isStatic = job.options.staticActivations && job.options.quantize == Quantization::Int8;
  bool structured = job.options.prune.kind == mlir::kiln::Pruning::Kind::Structured;
  if (isStatic && structured)
    return "--quantize int8-static and structured --prune (heads=, ffn=) both calibrate on "
           "--calibration-data; one compile takes one of them";
  if (structured && (options.methodGiven || options.percentileGiven))
    return "--calibration-method and --calibration-percentile go with --quantize int8-static; "
           "structured --prune measures mean magnitudes";
  if (structured)
    return "";
  bool flags = !options.data.empty() || options.methodGiven || options.percentileGiven;
  if (!isStatic && flags)
    return "--calibration-data, --calibration-method and --calibration-percentile go with "
           "--quantize int8-static (and --calibration-data with a structured --prune)";
  if (!isStatic)
    return "";
  if (options.data.empty())
    return "--quantize int8-static needs --calibration-data DIR: the input sets its activation "
           "ranges are measured on (docs/datasets.md)";
  if (options.percentileGiven && options.method != CalibrationMethod::Percentile)
    return "--calibration-percentile goes with --calibration-method percentile";
  if (!(options.percentile > 50 && options.percentile <= 100))
    return "--calibration-percentile must be in (50, 100], e.g. 99.99";
  return "";
}

namespace {

constexpr int kBins = 2048;        // histogram bins over a layer's range
constexpr int kQuantizedBins = 128; // the entropy search's levels of |A|

/// What one layer's A held over all the sets.
struct Observer {
  float lo = std::numeric_limits<float>::infinity();
  float hi = -std::numeric_limits<float>::infinity();
  uint64_t count = 0, nonFinite = 0;
  std::vector<double> values;    // kBins over [lo, hi]
  std::vector<double> magnitude; // kBins over [0, max(|lo|, |hi|)]

  void observeRange(const float *data, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      float x = data[i];
      if (!std::isfinite(x)) {
        ++nonFinite;
        continue;
      }
      lo = std::min(lo, x);
      hi = std::max(hi, x);
      ++count;
    }
  }

  void observeHistograms(const float *data, size_t n) {
    if (values.empty()) {
      values.assign(kBins, 0.0);
      magnitude.assign(kBins, 0.0);
    }
    const double width = (double(hi) - lo) / kBins, amax = maxMagnitude();
    for (size_t i = 0; i < n; ++i) {
      double x = data[i];
      if (!std::isfinite(x))
        continue;
      int bin = width > 0 ? int((x - lo) / width) : 0;
      values[size_t(std::clamp(bin, 0, kBins - 1))] += 1;
      int mbin = amax > 0 ? int(std::fabs(x) / amax * kBins) : 0;
      magnitude[size_t(std::clamp(mbin, 0, kBins - 1))] += 1;
    }
  }

  double maxMagnitude() const { return std::max(std::fabs(double(lo)), std::fabs(double(hi))); }

  /// The value below which a fraction q of the values lie (linear within
  /// a bin).
  double quantile(double q) const {
    const double width = (double(hi) - lo) / kBins;
    double total = 0;
    for (double c : values)
      total += c;
    const double target = q * total;
    double below = 0;
    for (int b = 0; b < kBins; ++b) {
      double c = values[size_t(b)];
      if (c > 0 && below + c >= target)
        return lo + width * (b + (target - below) / c);
      below += c;
    }
    return hi;
  }

  /// TensorRT's entropy calibration on the histogram of |A|: the threshold
  /// whose 128-level quantization of the clipped histogram is closest
  /// (Kullback-Leibler) to it, outliers folded into the last bin.
  double entropyThreshold() const {
    const double width = maxMagnitude() / kBins;
    double best = std::numeric_limits<double>::infinity();
    int bestBins = kBins;
    std::vector<double> p, q;
    for (int bins = kQuantizedBins; bins <= kBins; ++bins) {
      p.assign(magnitude.begin(), magnitude.begin() + bins);
      for (int b = bins; b < kBins; ++b)
        p.back() += magnitude[size_t(b)];
      // Each of the 128 levels spreads its count evenly over the bins it
      // covers that are nonzero in the unclipped histogram.
      q.assign(size_t(bins), 0.0);
      const double merged = double(bins) / kQuantizedBins;
      for (int j = 0; j < kQuantizedBins; ++j) {
        int start = int(j * merged), stop = j == kQuantizedBins - 1 ? bins : int((j + 1) * merged);
        double sum = 0;
        int nonzero = 0;
        for (int b = start; b < stop; ++b) {
          sum += magnitude[size_t(b)];
          nonzero += magnitude[size_t(b)] != 0;
        }
        for (int b = start; b < stop && nonzero; ++b)
          if (magnitude[size_t(b)] != 0)
            q[size_t(b)] = sum / nonzero;
      }
      double kl = divergence(p, q);
      if (kl < best) {
        best = kl;
        bestBins = bins;
      }
    }
    return (bestBins + 0.5) * width;
  }

  /// KL(p || q) of the normalized histograms; q's empty bins where p has
  /// mass get a small share (as TensorRT's and onnxruntime's smoothing do).
  static double divergence(const std::vector<double> &p, const std::vector<double> &q) {
    double ps = 0, qs = 0;
    for (size_t i = 0; i < p.size(); ++i) {
      ps += p[i];
      qs += q[i];
    }
    if (ps <= 0 || qs <= 0)
      return std::numeric_limits<double>::infinity();
    const double eps = 1e-4 / double(p.size());
    double kl = 0;
    for (size_t i = 0; i < p.size(); ++i) {
      if (p[i] <= 0)
        continue;
      double pi = p[i] / ps, qi = std::max(q[i] / qs, eps);
      kl += pi * std::log(pi / qi);
    }
    return kl;
  }
};

/// The uint8 quantization of [lo, hi] widened to hold 0, as
/// kiln_qgemm_desc's per-row formula (ONNX DynamicQuantizeLinear).
mlir::kiln::ActivationQuantization quantizationOf(double lo, double hi) {
  const float low = std::min(0.0f, float(lo)), high = std::max(0.0f, float(hi));
  const float scale = (high - low) / 255.0f;
  if (!(scale >= FLT_MIN) || !(scale <= FLT_MAX))
    return {1.0f, 0};
  const float zeroPoint = std::nearbyint(-low / scale);
  return {scale, uint8_t(std::clamp(zeroPoint, 0.0f, 255.0f))};
}

const char *methodName(CalibrationMethod method) {
  switch (method) {
  case CalibrationMethod::MinMax:
    return "minmax";
  case CalibrationMethod::Percentile:
    return "percentile";
  case CalibrationMethod::Entropy:
    return "entropy";
  }
  return "?";
}

/// Where the running calibrate() or measureLayerInputs() puts its error
/// and its log: their caller's (the CLI prints them, Python raises the
/// error). Set for the call by a SinkScope; one compile at a time per
/// thread.
struct Sink {
  std::string &error;
  llvm::raw_ostream &log;
};
thread_local Sink *currentSink = nullptr;

struct SinkScope {
  Sink sink;
  SinkScope(std::string &error, llvm::raw_ostream &log) : sink{error, log} { currentSink = &sink; }
  ~SinkScope() { currentSink = nullptr; }
};

bool fail(const std::string &message) {
  currentSink->error = message;
  return false;
}

llvm::raw_ostream &logStream() { return currentSink->log; }

/// The diagnostics of the compiles calibration runs, kept for its error
/// message (as kiln compile would print them).
class CollectDiagnostics {
public:
  explicit CollectDiagnostics(mlir::MLIRContext &context)
      : handler(&context, [this](mlir::Diagnostic &diagnostic) {
          text += "\n" + mlir::kiln::formatDiagnostic(diagnostic);
          return mlir::success();
        }) {}
  std::string text;

private:
  mlir::ScopedDiagnosticHandler handler;
};

} // namespace

/// The calibration build of `job` (fp32, unpruned, the A of each of
/// `nodes` one more output after the model's own) compiled to a temporary
/// library, the sets of `data` read for it, and `use` called with both.
/// False after setting the problem (fail).
static bool withCalibrationBuild(
    const CompileJob &job, const std::vector<std::string> &nodes, const std::string &data,
    const std::function<bool(const std::string &library, const std::vector<EvalSet> &sets)> &use) {
  CompileJob calibration = job;
  calibration.options.quantize = Quantization::None;
  calibration.options.staticActivations = false;
  calibration.options.quantizeExclude.clear();
  calibration.options.prune = {};
  calibration.options.layerInputMagnitude.clear();
  calibration.options.emit = mlir::kiln::EmitKind::Library;
  calibration.onPhase = nullptr;
  calibration.options.exposeLayerInputs = nodes;
  llvm::SmallString<128> library;
  if (std::error_code ec = llvm::sys::fs::createTemporaryFile("kiln-calibration", "so", library))
    return fail("cannot create a temporary file: " + ec.message());
  llvm::FileRemover removeLibrary(library);
  calibration.output = library.str().str();
  {
    mlir::MLIRContext context;
    CollectDiagnostics diagnostics(context);
    if (failed(mlir::kiln::runCompileJob(calibration, context)))
      return fail("failed to compile the calibration build of '" + job.model + "':" +
                  diagnostics.text);
  }
  std::vector<EvalSet> sets;
  std::string error;
  kiln_model_t *model = nullptr;
  if (kiln_status_t st = kiln_model_load(calibration.output.c_str(), &model)) {
    std::string message = kiln_status_message(st);
    kiln_status_free(st);
    return fail(message);
  }
  bool read = readEvalSets(data, model, sets, error, "--calibration-data");
  kiln_model_release(model);
  if (!read)
    return fail(error);
  return use(calibration.output, sets);
}

/// Runs the calibration build on every set and calls `observe(l, data, n,
/// problem)` with the n values of layer l's A (nodes[l]; those outputs
/// follow the model's own); false with `error` set when a run, a
/// calibration output or `observe` fails.
static bool runOnLayerInputs(
    const std::string &library, const std::vector<EvalSet> &sets,
    const std::vector<std::string> &nodes,
    const std::function<bool(size_t, const float *, size_t, std::string &)> &observe,
    std::string &error) {
  return runEachSet(
      library, sets,
      [&](size_t, const std::vector<std::string> &names, const std::vector<kiln_tensor> &outputs,
          std::string &problem) {
        size_t first = names.size() - nodes.size();
        for (size_t l = 0; l < nodes.size(); ++l) {
          const kiln_tensor &t = outputs[first + l];
          if (names[first + l] != "calibration:" + nodes[l] || t.dtype != KILN_DTYPE_FLOAT32) {
            problem = "internal error: calibration output " + std::to_string(first + l) +
                      " is '" + names[first + l] + "', not layer '" + nodes[l] + "''s A";
            return false;
          }
          if (!observe(l, static_cast<const float *>(t.data), t.byte_size / sizeof(float),
                       problem))
            return false;
        }
        return true;
      },
      error);
}

/// int8-static: each layer's range from the calibration build's runs on
/// `sets`, stored in job.options.
static bool chooseRanges(CompileJob &job, const CalibrationOptions &options,
                         const std::vector<mlir::kiln::QuantizedLayer> &layers,
                         const std::vector<std::string> &nodes, const std::string &library,
                         const std::vector<EvalSet> &sets) {
  std::string error;
  std::vector<Observer> observers(layers.size());
  auto pass = [&](bool histograms) {
    return runOnLayerInputs(
        library, sets, nodes,
        [&](size_t l, const float *data, size_t n, std::string &) {
          if (histograms)
            observers[l].observeHistograms(data, n);
          else
            observers[l].observeRange(data, n);
          return true;
        },
        error);
  };
  if (!pass(false))
    return fail("--calibration-data: " + error);
  if (options.method != CalibrationMethod::MinMax && !pass(true))
    return fail("--calibration-data: " + error);

  uint64_t nonFinite = 0;
  for (size_t l = 0; l < layers.size(); ++l) {
    const Observer &o = observers[l];
    nonFinite += o.nonFinite;
    double lo = o.count ? o.lo : 0, hi = o.count ? o.hi : 0;
    if (o.count && options.method == CalibrationMethod::Percentile) {
      lo = o.quantile(1 - options.percentile / 100);
      hi = o.quantile(options.percentile / 100);
    } else if (o.count && options.method == CalibrationMethod::Entropy) {
      double threshold = o.entropyThreshold();
      lo = std::max(lo, -threshold);
      hi = std::min(hi, threshold);
    }
    mlir::kiln::ActivationQuantization q = quantizationOf(lo, hi);
    job.options.activationQuantization[layers[l].node] = q;
    if (options.stats)
      logStream() << llvm::format(
          "kiln compile: calibrated %-40s seen [%.9g, %.9g], range [%.9g, %.9g]: scale %.9g, "
          "zero point %u\n",
          layers[l].node.c_str(), double(o.lo), double(o.hi), lo, hi, double(q.scale),
          unsigned(q.zeroPoint));
  }
  logStream() << "kiln compile: calibrated " << layers.size() << " layer(s) on " << sets.size()
               << " input set(s) (" << methodName(options.method) << ")\n";
  if (nonFinite)
    logStream() << "kiln compile: warning: the calibration runs gave " << nonFinite
                 << " non-finite activation value(s), left out of the ranges\n";
  return true;
}

/// The sets of `data`, checked before the first compile (readEvalSets
/// checks each one later), and what `list(job, context)` finds in the model
/// (`what` names it); false after setting the problem (fail).
template <typename T, typename List>
static bool listSetsAnd(const CompileJob &job, const std::string &data, List list,
                        const std::string &what, std::vector<std::string> &setNames, T &found) {
  std::string error;
  if (!listEvalSets(data, setNames, error, "--calibration-data"))
    return fail(error);
  mlir::MLIRContext context;
  CollectDiagnostics diagnostics(context);
  auto listed = list(job, context);
  if (failed(listed))
    return fail("cannot list " + what + " in '" + job.model + "':" + diagnostics.text);
  found = std::move(*listed);
  return true;
}

bool kilncli::calibrate(CompileJob &job, const CalibrationOptions &options, std::string &error,
                        llvm::raw_ostream &log) {
  SinkScope scope(error, log);
  std::vector<std::string> setNames;
  std::vector<mlir::kiln::QuantizedLayer> layers;
  if (!listSetsAnd(job, options.data, mlir::kiln::listQuantizedLayers, "the layers to quantize",
                   setNames, layers))
    return false;
  if (layers.empty())
    return fail("--quantize int8-static: '" + job.model +
                "' has no layer to quantize (no MatMul or Gemm with a constant weight outside "
                "--quantize-exclude)");
  std::vector<std::string> nodes;
  for (const mlir::kiln::QuantizedLayer &layer : layers)
    nodes.push_back(layer.node);
  return withCalibrationBuild(job, nodes, options.data,
                              [&](const std::string &library, const std::vector<EvalSet> &sets) {
                                return chooseRanges(job, options, layers, nodes, library, sets);
                              });
}

bool kilncli::measureLayerInputs(CompileJob &job, const CalibrationOptions &options,
                                 std::string &problem, llvm::raw_ostream &log) {
  SinkScope scope(problem, log);
  std::vector<std::string> setNames;
  std::vector<mlir::kiln::StructuredBlock> blocks;
  if (!listSetsAnd(job, options.data, mlir::kiln::listStructuredBlocks, "the blocks to prune",
                   setNames, blocks))
    return false;
  std::string error;
  if (blocks.empty()) {
    logStream() << "kiln compile: warning: --prune " << mlir::kiln::pruningSpec(job.options.prune)
                 << ": '" << job.model << "' has no attention or FFN block structured pruning "
                 << "matches; nothing is calibrated or removed\n";
    return true;
  }
  std::vector<std::string> nodes;
  for (const mlir::kiln::StructuredBlock &block : blocks)
    nodes.push_back(block.node);
  // Per layer and feature: the sum of |x_j| over every row of every set.
  std::vector<std::vector<double>> sums(blocks.size());
  std::vector<uint64_t> rows(blocks.size(), 0);
  uint64_t nonFinite = 0;
  auto measure = [&](const std::string &library, const std::vector<EvalSet> &sets) {
    return runOnLayerInputs(
        library, sets, nodes,
        [&](size_t l, const float *data, size_t n, std::string &problem) {
          const auto k = size_t(blocks[l].features);
          if (n % k) {
            problem = "internal error: layer '" + nodes[l] + "''s A is not rows of " +
                      std::to_string(k) + " features";
            return false;
          }
          sums[l].resize(k, 0.0);
          for (size_t i = 0; i < n; ++i) {
            if (!std::isfinite(data[i])) {
              ++nonFinite;
              continue;
            }
            sums[l][i % k] += std::fabs(double(data[i]));
          }
          rows[l] += n / k;
          return true;
        },
        error);
  };
  if (!withCalibrationBuild(job, nodes, options.data,
                            [&](const std::string &library, const std::vector<EvalSet> &sets) {
                              if (measure(library, sets))
                                return true;
                              return fail("--calibration-data: " + error);
                            }))
    return false;
  for (size_t l = 0; l < blocks.size(); ++l) {
    std::vector<float> &mean = job.options.layerInputMagnitude[nodes[l]];
    for (double sum : sums[l])
      mean.push_back(rows[l] ? float(sum / double(rows[l])) : 0.0f);
  }
  logStream() << "kiln compile: measured the inputs of " << blocks.size()
               << " block(s)' last layers on " << setNames.size() << " input set(s)\n";
  if (nonFinite)
    logStream() << "kiln compile: warning: the calibration runs gave " << nonFinite
                 << " non-finite activation value(s), left out of the magnitudes\n";
  return true;
}

