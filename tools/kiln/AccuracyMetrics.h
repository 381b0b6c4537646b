//===- AccuracyMetrics.h - A build's outputs against the fp32 build -*- C++ -*-===//
//
// What --accuracy-report measures: a compiled library run on every eval
// set, and its outputs compared with the fp32 reference's.
//
// Per output: the cosine similarity per item (an output of rank 2 or more
// is split along its first dim, the batch: one sentence, one image; a
// lower-rank output is one item), the largest absolute difference, and the
// SQNR over all sets, 10 log10(sum ref^2 / sum (ref - out)^2) dB. A build's
// score is the mean item cosine of its worst output: the number that
// --accuracy-budget holds and that layers are ranked by.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_TOOLS_KILN_ACCURACYMETRICS_H
#define KILN_TOOLS_KILN_ACCURACYMETRICS_H

#include "EvalData.h"
#include <string>
#include <vector>

namespace kilncli {

/// One output of one run, as doubles.
struct OutputValues {
  std::vector<int64_t> dims;
  std::vector<double> values;
};

/// runs[set][output], in the model's output order.
struct ModelOutputs {
  std::vector<std::string> names;
  std::vector<std::vector<OutputValues>> runs;
};

/// Loads the library at `path` and runs it once per set (one session, all
/// of this machine's threads). False with a message naming the set.
bool runOnSets(const std::string &path, const std::vector<EvalSet> &sets, ModelOutputs &out,
               std::string &error);

/// How far one output is from the reference's, over all sets.
struct OutputError {
  std::string name;
  std::vector<double> cosines; ///< one per item
  double maxAbs = 0;
  double referenceSquares = 0, errorSquares = 0;

  double meanCosine() const;
  double minCosine() const;
  /// +infinity when the outputs are equal.
  double sqnrDb() const;
};

/// A build's errors, one per output.
struct BuildError {
  std::vector<OutputError> outputs;
  /// min over outputs of meanCosine.
  double score() const;
  /// The output with the lowest mean cosine.
  const OutputError &worst() const;
};

/// Compares `candidate` with `reference` (of the same model, same sets).
/// False with a message if their outputs differ in name or shape.
bool compareOutputs(const ModelOutputs &reference, const ModelOutputs &candidate, BuildError &out,
                    std::string &error);

} // namespace kilncli

#endif // KILN_TOOLS_KILN_ACCURACYMETRICS_H
