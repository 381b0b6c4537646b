//===- AccuracyMetrics.cpp - A build's outputs against the fp32 build -----===//

#include "AccuracyMetrics.h"
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

using namespace kilncli;

bool kilncli::runOnSets(const std::string &path, const std::vector<EvalSet> &sets,
                        ModelOutputs &out, std::string &error) {
  out = ModelOutputs();
  bool ok = runEachSet(
      path, sets,
      [&](size_t, const std::vector<std::string> &names, const std::vector<kiln_tensor> &outputs,
          std::string &) {
        out.names = names;
        std::vector<OutputValues> run;
        for (const kiln_tensor &t : outputs) {
          OutputValues values{std::vector<int64_t>(t.dims, t.dims + t.rank), {}};
          size_t count = t.byte_size / std::max<size_t>(1, kiln_dtype_size(t.dtype));
          values.values.resize(count);
          for (size_t e = 0; e < count; ++e)
            values.values[e] = kiln::io::elementAsDouble(t.dtype, t.data, e);
          run.push_back(std::move(values));
        }
        out.runs.push_back(std::move(run));
        return true;
      },
      error);
  if (!ok && error.rfind("set '", 0) == 0)
    error = "eval-data: " + error;
  return ok;
}

double OutputError::meanCosine() const {
  if (cosines.empty())
    return 1;
  return std::accumulate(cosines.begin(), cosines.end(), 0.0) / double(cosines.size());
}

double OutputError::minCosine() const {
  return cosines.empty() ? 1 : *std::min_element(cosines.begin(), cosines.end());
}

double OutputError::sqnrDb() const {
  if (errorSquares == 0)
    return std::numeric_limits<double>::infinity();
  return 10 * std::log10(referenceSquares / errorSquares);
}

double BuildError::score() const { return outputs.empty() ? 1 : worst().meanCosine(); }

const OutputError &BuildError::worst() const {
  return *std::min_element(
      outputs.begin(), outputs.end(),
      [](const OutputError &a, const OutputError &b) { return a.meanCosine() < b.meanCosine(); });
}

/// The cosine of two vectors; 1 when both are zero, 0 when one is.
static double cosine(const double *a, const double *b, size_t n) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < n; ++i) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  if (aa == 0 && bb == 0)
    return 1;
  if (aa == 0 || bb == 0)
    return 0;
  return ab / std::sqrt(aa * bb);
}

bool kilncli::compareOutputs(const ModelOutputs &reference, const ModelOutputs &candidate,
                             BuildError &out, std::string &error) {
  if (reference.names != candidate.names || reference.runs.size() != candidate.runs.size()) {
    error = "internal error: the builds have different outputs";
    return false;
  }
  out.outputs.clear();
  for (size_t o = 0; o < reference.names.size(); ++o) {
    OutputError e;
    e.name = reference.names[o];
    for (size_t s = 0; s < reference.runs.size(); ++s) {
      const OutputValues &ref = reference.runs[s][o], &got = candidate.runs[s][o];
      if (ref.dims != got.dims) {
        error = "internal error: output '" + e.name + "' has another shape in the quantized build";
        return false;
      }
      for (size_t i = 0; i < ref.values.size(); ++i) {
        double diff = got.values[i] - ref.values[i];
        e.maxAbs = std::max(e.maxAbs, std::fabs(diff));
        e.referenceSquares += ref.values[i] * ref.values[i];
        e.errorSquares += diff * diff;
      }
      size_t items = ref.dims.size() >= 2 ? size_t(std::max<int64_t>(ref.dims[0], 0)) : 1;
      size_t length = items ? ref.values.size() / items : 0;
      for (size_t item = 0; item < items; ++item)
        e.cosines.push_back(
            cosine(ref.values.data() + item * length, got.values.data() + item * length, length));
    }
    out.outputs.push_back(std::move(e));
  }
  return true;
}
