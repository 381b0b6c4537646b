//===- EvalData.h - Input sets for --eval-data ------------------*- C++ -*-===//
//
// The layout of docs/datasets.md, which --eval-data and --calibration-data
// read: DIR holds one set per subdirectory (taken in name order), each
// set one `<input name>.npy` per model input; each set is one run.
//
// Unlike tools/sentence_sets.py's reader, which skips an incomplete
// subdirectory, kiln is strict: every subdirectory is a set, and a missing,
// unreadable or mistyped input is an error that names the file and the
// input. Accuracy figures from silently fewer sets would mislead.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_TOOLS_KILN_EVALDATA_H
#define KILN_TOOLS_KILN_EVALDATA_H

#include "kiln/kiln.h"
#include "kiln_io.h"
#include <functional>
#include <string>
#include <vector>

namespace kilncli {

/// One run's inputs, in the model's input order.
struct EvalSet {
  std::string name; ///< the subdirectory, e.g. "003"
  std::vector<kiln::io::HostTensor> inputs;
};

/// The set folders of `directory`, in name order; false with a message if
/// it is not a folder or has none. `flag` names the option in messages.
bool listEvalSets(const std::string &directory, std::vector<std::string> &sets, std::string &error,
                  const std::string &flag = "--eval-data");

/// Reads every set of `directory` for `model`: `<input>.npy` for each of its
/// inputs, checked against the input's dtype, rank and static dims (that
/// symbolic dims agree across inputs the run itself checks). False with a
/// message naming the file and the input.
bool readEvalSets(const std::string &directory, const kiln_model_t *model,
                  std::vector<EvalSet> &sets, std::string &error,
                  const std::string &flag = "--eval-data");

/// Called with each run's outputs (in the model's output order, `names`),
/// which are freed when it returns; false (with `error` set) stops.
using RunConsumer =
    std::function<bool(size_t set, const std::vector<std::string> &names,
                       const std::vector<kiln_tensor> &outputs, std::string &error)>;

/// Loads the library at `path` and runs it once per set, in order (one
/// session, all of this machine's threads). False with a message naming
/// the set, or the consumer's.
bool runEachSet(const std::string &path, const std::vector<EvalSet> &sets,
                const RunConsumer &consume, std::string &error);

} // namespace kilncli

#endif // KILN_TOOLS_KILN_EVALDATA_H
