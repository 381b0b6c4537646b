//===- kiln_run.cpp - kiln-run: run a compiled model from the command line ===//
//
// Loads a model library through the public runtime API (kiln.h), binds
// inputs from .npy / ONNX .pb files or generates them, runs once, prints a
// checksum per output and optionally writes the outputs as .npy. Only the
// runtime and kiln_io: nothing of LLVM.
//
//===----------------------------------------------------------------------===//

#include "kiln/kiln.h"
#include "CompareOutputs.h"
#include "ProfileSummary.h"
#include "RandomInputs.h"
#include "kiln_io.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <sys/stat.h>
#include <vector>

using kiln::io::HostTensor;

namespace {

const char kUsage[] = R"(Usage: kiln-run <model.so> [options]

Runs a model compiled by `kiln compile` once and prints, for each output, its
name, dtype, shape and a checksum (the sum and the sum of absolute values).

Options:
  --input <name>=<file>        Bind input <name> to a .npy file or an ONNX
                               TensorProto .pb file (repeatable). For a .pb
                               the name may be left out: <file> alone uses
                               the name stored in the TensorProto.
  --random-inputs              Generate every input not given by --input,
                               with a fixed seed: floats uniform in [-1, 1);
                               integers 1 if the name contains "mask", 0 if
                               it contains "token_type", else in [0, 100);
                               bools 1 for masks, else random.
  --input-shape <n=DxD,...>    Shapes for generated inputs (e.g.
                               input_ids=1x128). Symbolic dims not fixed by a
                               shape or an input file default to 1 for names
                               containing "batch" and 8 otherwise.
  --dim <name=N,...>           Sizes of named symbolic dims (ONNX dim_param)
                               in every generated input that has them, e.g.
                               batch=1,sequence=128.
  --seed <n>                   Seed for --random-inputs (default 0).
  --output-dir <dir>           Write each output as <dir>/<name>.npy
                               (created if missing; bfloat16 as float32).
  --threads <n>                Intra-op threads (default 0: one per core).
  --profile <trace.json>       Time every ONNX node of the model: write a
                               Chrome trace (chrome://tracing, Perfetto) and
                               print the time per op type and the slowest
                               nodes (averaged over --runs).
  --runs <n>                   Run the model n times (default 1) on one
                               session; outputs are those of the last run.
  --warmup <n>                 First run it n times (default 0) on a
                               separate session, untimed and unprofiled, so
                               that a profile does not count the first
                               touch of the weights' pages.
  --compare <ref.so>           Also run the reference library ref.so (e.g.
                               the model's unoptimized fp32 build: `kiln
                               run --compare model.onnx` makes it) on the
                               same inputs; print per output max_abs,
                               max_rel and cosine, and exit 1 when an
                               element is past atol + rtol * |ref|.
  --atol <a>, --rtol <r>       The --compare tolerance (default 1e-4 each).
  -h, --help                   Show this help.
  --version                    Show the runtime version and model ABI.
)";

[[noreturn]] void fail(const std::string &message, int code = 1) {
  std::fprintf(stderr, "kiln-run: error: %s\n", message.c_str());
  std::exit(code);
}

[[noreturn]] void usageError(const std::string &message) {
  fail(message + " (see kiln-run --help)", 2);
}

void check(kiln_status_t status, const std::string &hint = "") {
  if (!status)
    return;
  std::string message = kiln_status_message(status);
  kiln_status_free(status);
  fail(message + hint);
}

struct Options {
  std::string model;
  std::vector<kiln::tools::InputFile> inputs;
  bool randomInputs = false;
  kiln::tools::ShapeList shapes;
  uint64_t seed = 0;
  std::string outputDir;
  uint32_t threads = 0;
  std::string profilePath; // --profile
  uint64_t runs = 1, warmup = 0;
  std::string compare; // --compare: a reference library
  double atol = 1e-4, rtol = 1e-4;
};

Options parseArgs(int argc, char **argv) {
  Options opts;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char *flag, std::string &out) {
      size_t n = std::strlen(flag);
      if (arg.compare(0, n, flag) != 0)
        return false;
      if (arg.size() > n && arg[n] == '=') {
        out = arg.substr(n + 1);
        return true;
      }
      if (arg.size() != n)
        return false;
      if (i + 1 >= argc)
        usageError(std::string("option '") + flag + "' needs a value");
      out = argv[++i];
      return true;
    };
    std::string v;
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else if (arg == "--version") {
      std::printf("%s %s (model ABI %d)\n", "kiln-run", kiln_runtime_version(), KILN_ABI_VERSION);
      std::exit(0);
    } else if (arg == "--random-inputs") {
      opts.randomInputs = true;
    } else if (value("--input-shape", v)) {
      std::string error;
      if (!kiln::tools::parseShapeList(v, opts.shapes, error))
        usageError(error);
    } else if (value("--dim", v)) {
      std::string error;
      if (!kiln::tools::parseDimList(v, opts.shapes, error))
        usageError(error);
    } else if (value("--input", v)) {
      std::string error;
      opts.inputs.emplace_back();
      if (!kiln::tools::parseInputFile(v, opts.inputs.back(), error))
        usageError(error);
    } else if (value("--output-dir", v)) {
      if (v.empty())
        usageError("--output-dir needs a directory");
      opts.outputDir = v;
    } else if (value("--profile", v)) {
      opts.profilePath = v;
    } else if (value("--threads", v)) {
      std::string error;
      if (!kiln::tools::parseThreadCount(v, opts.threads, error))
        usageError(error);
    } else if (value("--runs", v)) {
      if (!kiln::tools::parseUnsigned(v, opts.runs) || opts.runs == 0)
        usageError("--runs expects a positive number, got '" + v + "'");
    } else if (value("--warmup", v)) {
      if (!kiln::tools::parseUnsigned(v, opts.warmup))
        usageError("--warmup expects a non-negative number, got '" + v + "'");
    } else if (value("--compare", v)) {
      if (v.empty())
        usageError("--compare needs a reference library");
      opts.compare = v;
    } else if (value("--atol", v) || value("--rtol", v)) {
      char *end = nullptr;
      double tolerance = std::strtod(v.c_str(), &end);
      if (v.empty() || *end || !(tolerance >= 0))
        usageError(arg.substr(0, 6) + " expects a non-negative number, got '" + v + "'");
      (arg.compare(0, 6, "--atol") == 0 ? opts.atol : opts.rtol) = tolerance;
    } else if (value("--seed", v)) {
      if (!kiln::tools::parseUnsigned(v, opts.seed))
        usageError("--seed expects a non-negative number, got '" + v + "'");
    } else if (!arg.empty() && arg[0] == '-') {
      usageError("unknown option '" + arg + "'");
    } else if (opts.model.empty()) {
      opts.model = arg;
    } else {
      usageError("unexpected argument '" + arg + "' (one model at a time)");
    }
  }
  if (opts.model.empty())
    usageError("no model given");
  return opts;
}

/// An output file name: the output name with anything but [A-Za-z0-9._-]
/// replaced by '_'.
std::string fileNameFor(const std::string &name) {
  std::string out;
  for (char c : name)
    out += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-') ? c
                                                                                             : '_';
  if (out.empty() || out == "." || out == "..")
    out = "output" + out;
  return out;
}

void makeDirectories(const std::string &path) {
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i < path.size() && path[i] != '/')
      continue;
    std::string prefix = path.substr(0, i);
    if (mkdir(prefix.c_str(), 0777) != 0 && errno != EEXIST)
      fail("cannot create directory '" + prefix + "': " + std::strerror(errno));
  }
  struct stat st;
  if (stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    fail("--output-dir '" + path + "' is not a directory");
}

/// Runs the reference library on `inputs` and compares `outputs` with its
/// outputs of the same names; prints one line per output.
bool compareWithReference(const Options &opts, const std::vector<kiln_tensor> &inputs,
                          const std::vector<kiln_tensor> &outputs) {
  kiln_model_t *reference = nullptr;
  check(kiln_model_load(opts.compare.c_str(), &reference), " (the --compare library)");
  kiln_session_options options;
  kiln_session_options_initialize(&options);
  options.num_threads = opts.threads;
  kiln_session_t *session = nullptr;
  check(kiln_session_create(reference, &options, &session));
  std::vector<kiln_tensor> expected(outputs.size());
  for (size_t i = 0; i < outputs.size(); ++i)
    expected[i] = kiln_tensor{outputs[i].name, 0, 0, nullptr, nullptr, 0};
  check(kiln_session_run(session, inputs.data(), inputs.size(), expected.data(),
                         expected.size()),
        " (running the --compare library)");
  bool all = true;
  for (size_t i = 0; i < outputs.size(); ++i) {
    kiln::tools::OutputComparison c =
        kiln::tools::compareOutputs(outputs[i], expected[i], opts.atol, opts.rtol);
    std::printf("compare %s: %s%s\n", outputs[i].name, kiln::tools::describe(c).c_str(),
                c.passed() ? "" : "  MISMATCH");
    all = all && c.passed();
    kiln_tensor_free(expected[i].data);
  }
  kiln_session_release(session);
  kiln_model_release(reference);
  return all;
}

} // namespace

int main(int argc, char **argv) {
  Options opts = parseArgs(argc, argv);

  kiln_model_t *model = nullptr;
  check(kiln_model_load(opts.model.c_str(), &model));
  size_t numOutputs = kiln_model_num_outputs(model);
  std::vector<kiln_tensor_info> outputInfo(numOutputs);
  for (size_t i = 0; i < numOutputs; ++i)
    check(kiln_model_output_info(model, i, &outputInfo[i]));

  kiln::tools::PreparedInputs prepared;
  std::string error;
  switch (kiln::tools::prepareInputs(model, opts.inputs, opts.shapes, opts.randomInputs,
                                     opts.seed, prepared, error)) {
  case kiln::tools::InputError::None:
    break;
  case kiln::tools::InputError::Usage:
    usageError(error);
  case kiln::tools::InputError::Failure:
    fail(error);
  }
  std::vector<kiln_tensor> inputs = prepared.views();
  for (size_t i = 0; i < prepared.tensors.size(); ++i) {
    const HostTensor &t = prepared.tensors[i];
    std::printf("input  %s: %s %s %s\n", t.name.c_str(), kiln_dtype_name(t.dtype),
                kiln::tools::shapeString(t.dims).c_str(), prepared.sources[i].c_str());
  }

  kiln_session_options options;
  kiln_session_options_initialize(&options);
  options.num_threads = opts.threads;
  std::vector<kiln_tensor> outputs(numOutputs);
  auto freeOutputs = [&] {
    for (kiln_tensor &t : outputs)
      kiln_tensor_free(t.data);
  };
  auto runOnce = [&](kiln_session_t *session) {
    for (size_t i = 0; i < numOutputs; ++i)
      outputs[i] = kiln_tensor{outputInfo[i].name, 0, 0, nullptr, nullptr, 0};
    return kiln_session_run(session, inputs.data(), inputs.size(), outputs.data(),
                            outputs.size());
  };
  if (opts.warmup > 0) {
    kiln_session_t *warm = nullptr;
    check(kiln_session_create(model, &options, &warm));
    for (uint64_t r = 0; r < opts.warmup; ++r) {
      kiln_status_t status = runOnce(warm);
      if (status) {
        kiln_session_release(warm);
        check(status);
      }
      freeOutputs();
    }
    kiln_session_release(warm);
  }
  options.profile = !opts.profilePath.empty();
  kiln_session_t *session = nullptr;
  check(kiln_session_create(model, &options, &session));

  kiln_status_t status = nullptr;
  for (uint64_t r = 0; r < opts.runs && !status; ++r) {
    if (r > 0)
      freeOutputs();
    status = runOnce(session);
  }
  if (status && std::strncmp(kiln_status_message(status), "missing input", 13) == 0 &&
      !opts.randomInputs)
    check(status, " (give it with --input, or use --random-inputs)");
  check(status);

  if (!opts.outputDir.empty())
    makeDirectories(opts.outputDir);
  std::set<std::string> fileNames;
  for (size_t i = 0; i < numOutputs; ++i) {
    const kiln_tensor &t = outputs[i];
    size_t n = t.byte_size / kiln_dtype_size(t.dtype);
    double sum = 0, absSum = 0;
    for (size_t e = 0; e < n; ++e) {
      double v = kiln::io::elementAsDouble(t.dtype, t.data, e);
      sum += v;
      absSum += std::fabs(v);
    }
    std::printf("output %s: %s %s sum=%.10g abs_sum=%.10g\n", t.name, kiln_dtype_name(t.dtype),
                kiln::tools::shapeString(t.dims, t.rank).c_str(), sum, absSum);
    if (!opts.outputDir.empty()) {
      std::string file = fileNameFor(t.name);
      if (!fileNames.insert(file).second)
        file += "_" + std::to_string(i);
      fileNames.insert(file);
      std::string error;
      std::vector<int64_t> dims(t.dims, t.dims + t.rank);
      if (!kiln::io::writeNpy(opts.outputDir + "/" + file + ".npy", t.dtype, dims, t.data, error))
        fail(error);
    }
  }
  if (!opts.profilePath.empty()) {
    check(kiln_session_write_profile(session, opts.profilePath.c_str()));
    kiln::io::printProfileSummary(stdout, model, session, opts.runs);
    std::printf("profile: wrote %s\n", opts.profilePath.c_str());
  }
  bool matches = opts.compare.empty() || compareWithReference(opts, inputs, outputs);
  for (kiln_tensor &t : outputs)
    kiln_tensor_free(t.data);
  kiln_session_release(session);
  kiln_model_release(model);
  if (std::fflush(stdout) != 0)
    return 1;
  if (!matches)
    fail("outputs differ from '" + opts.compare + "' past atol + rtol*|ref| (--atol " +
         std::to_string(opts.atol) + ", --rtol " + std::to_string(opts.rtol) + ")");
  return 0;
}
