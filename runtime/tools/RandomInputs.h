//===- RandomInputs.h - Inputs for the runtime's tools ------------*- C++ -*-===//
//
// How kiln-run and kiln-bench bind a model's inputs: from .npy / ONNX .pb
// files (kiln_io), with the rest generated from a fixed seed, symbolic dims
// sized by --input-shape, by the files, or by default (1 for a name
// containing "batch", else 8).
//
// Both tools generate with the same splitmix64 stream in the same order, so
// they run a model on identical inputs for the same seed (a ctest checks it).
//
// Plain C++ on the runtime's C API and kiln_io: nothing of LLVM.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_TOOLS_RANDOM_INPUTS_H
#define KILN_TOOLS_RANDOM_INPUTS_H

#include "kiln/kiln.h"
#include "kiln_io.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace kiln::tools {

/// splitmix64: a fixed, portable stream.
struct Random {
  uint64_t state;
  uint64_t next();
};

/// Fills t.data (already sized for t.dims and t.dtype) from `rng`: floats
/// uniform in [-1, 1); integers 1 if the name contains "mask", 0 if it
/// contains "token_type", else in [0, 100); bools 1 for masks, else random.
void fillRandom(io::HostTensor &t, Random &rng);

/// --input-shape values, in command-line order, and --dim sizes of named
/// dims (ONNX dim_param), which apply to every input that has the dim.
struct ShapeList {
  std::map<std::string, std::vector<int64_t>> shapes;
  std::vector<std::string> order;
  std::map<std::string, int64_t> dims;
};

/// Parses "a=1x128,b=2x3" (a rank-0 shape is written as an empty string:
/// "a=") into `out` (which may already hold shapes from an earlier flag).
/// False with a message (a usage error) on a malformed spec or a name given
/// twice.
bool parseShapeList(const std::string &spec, ShapeList &out, std::string &error);

/// Parses "batch=1,sequence=128" (--dim) into out.dims. False with a
/// message (a usage error) on a malformed spec or a dim given twice.
bool parseDimList(const std::string &spec, ShapeList &out, std::string &error);

/// A non-negative decimal number of at most 19 digits.
bool parseUnsigned(const std::string &text, uint64_t &value);

/// "[1,128]".
std::string shapeString(const int64_t *dims, int32_t rank);
std::string shapeString(const std::vector<int64_t> &dims);

/// An --input: name (may be empty for a .pb, which names itself) and path.
struct InputFile {
  std::string name, path;
};

/// Parses an --input value, "<name>=<file>" or "<file>" (a .pb names
/// itself), into `out`. False with a usage message when the name is empty.
bool parseInputFile(const std::string &value, InputFile &out, std::string &error);

/// Parses a --threads value: 0 (one per core) to 1024. False with a usage
/// message otherwise.
bool parseThreadCount(const std::string &value, uint32_t &threads, std::string &error);

/// The inputs to run on, in the order kiln-run prints them: the files in
/// command-line order, then the generated ones in model order.
struct PreparedInputs {
  std::vector<io::HostTensor> tensors;
  /// "from <path>" or "random", one per tensor.
  std::vector<std::string> sources;
  /// kiln_tensor views of `tensors` (valid while this object lives and is
  /// not modified).
  std::vector<kiln_tensor> views() const;
};

/// Why prepareInputs failed: a bad command line (kiln-run exits 2 and adds
/// " (see kiln-run --help)") or anything else (exit 1).
enum class InputError { None, Usage, Failure };

/// Reads `files`, checks them against `shapes`, sizes the model's symbolic
/// dims, and (if `generateMissing`) generates every input not given by a
/// file from `seed`. Returns InputError::None on success.
InputError prepareInputs(const kiln_model_t *model, const std::vector<InputFile> &files,
                         const ShapeList &shapes, bool generateMissing, uint64_t seed,
                         PreparedInputs &out, std::string &error);

} // namespace kiln::tools

#endif // KILN_TOOLS_RANDOM_INPUTS_H
