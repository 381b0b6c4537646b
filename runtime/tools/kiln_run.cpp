//===- kiln_run.cpp - kiln-run: run a compiled model from the command line ===//
//
// Loads a model library through the public runtime API (kiln.h), binds
// inputs from .npy / ONNX .pb files or generates them, runs once, prints a
// checksum per output and optionally writes the outputs as .npy. Only the
// runtime and kiln_io: nothing of LLVM.
//
//===----------------------------------------------------------------------===//

#include "kiln/kiln.h"
#include "ProfileSummary.h"
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
  --seed <n>                   Seed for --random-inputs (default 0).
  --output-dir <dir>           Write each output as <dir>/<name>.npy
                               (created if missing; bfloat16 as float32).
  --threads <n>                Intra-op threads (default 0: one per core).
  --profile <trace.json>       Time every ONNX node of the model: write a
                               Chrome trace (chrome://tracing, Perfetto) and
                               print the time per op type and the slowest
                               nodes.
  -h, --help                   Show this help.
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

struct InputArg {
  std::string name, path;
};

struct Options {
  std::string model;
  std::vector<InputArg> inputs;
  bool randomInputs = false;
  std::map<std::string, std::vector<int64_t>> shapes;
  std::vector<std::string> shapeOrder;
  uint64_t seed = 0;
  std::string outputDir;
  uint32_t threads = 0;
  std::string profilePath; // --profile
};

bool parseUnsigned(const std::string &text, uint64_t &value) {
  if (text.empty() || text.size() > 19)
    return false;
  value = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return false;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  return true;
}

/// "a=1x128,b=2x3" (a rank-0 shape is written as an empty string: "a=").
void parseShapes(const std::string &spec, Options &opts) {
  size_t start = 0;
  while (start <= spec.size()) {
    size_t comma = spec.find(',', start);
    std::string item = spec.substr(start, comma == std::string::npos ? std::string::npos
                                                                     : comma - start);
    size_t eq = item.rfind('=');
    if (eq == std::string::npos || eq == 0)
      usageError("--input-shape expects <name>=<DxD...>, got '" + item + "'");
    std::string name = item.substr(0, eq), dims = item.substr(eq + 1);
    std::vector<int64_t> shape;
    size_t d = 0;
    while (!dims.empty() && d <= dims.size()) {
      size_t x = dims.find('x', d);
      std::string part = dims.substr(d, x == std::string::npos ? std::string::npos : x - d);
      uint64_t v;
      if (!parseUnsigned(part, v) || v > (uint64_t{1} << 40))
        usageError("--input-shape for '" + name + "': '" + dims +
                   "' is not a shape like 1x128");
      shape.push_back(static_cast<int64_t>(v));
      if (x == std::string::npos)
        break;
      d = x + 1;
    }
    if (opts.shapes.count(name))
      usageError("--input-shape gives '" + name + "' twice");
    opts.shapes[name] = shape;
    opts.shapeOrder.push_back(name);
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
}

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
    } else if (arg == "--random-inputs") {
      opts.randomInputs = true;
    } else if (value("--input-shape", v)) {
      parseShapes(v, opts);
    } else if (value("--input", v)) {
      size_t eq = v.find('=');
      if (eq == 0)
        usageError("--input expects <name>=<file>, got '" + v + "'");
      if (eq == std::string::npos)
        opts.inputs.push_back({"", v});
      else
        opts.inputs.push_back({v.substr(0, eq), v.substr(eq + 1)});
    } else if (value("--output-dir", v)) {
      if (v.empty())
        usageError("--output-dir needs a directory");
      opts.outputDir = v;
    } else if (value("--profile", v)) {
      opts.profilePath = v;
    } else if (value("--threads", v)) {
      uint64_t n;
      if (!parseUnsigned(v, n) || n > 1024)
        usageError("--threads expects a number from 0 to 1024, got '" + v + "'");
      opts.threads = static_cast<uint32_t>(n);
    } else if (value("--seed", v)) {
      if (!parseUnsigned(v, opts.seed))
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

std::string shapeString(const int64_t *dims, int32_t rank) {
  std::string s = "[";
  for (int32_t i = 0; i < rank; ++i)
    s += (i ? "," : "") + std::to_string(dims[i]);
  return s + "]";
}
std::string shapeString(const std::vector<int64_t> &dims) {
  return shapeString(dims.data(), static_cast<int32_t>(dims.size()));
}

/// splitmix64: a fixed, portable stream.
struct Random {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
};

bool contains(const std::string &s, const char *what) { return s.find(what) != std::string::npos; }

void fillRandom(HostTensor &t, Random &rng) {
  size_t n = t.numElements();
  uint8_t *p = t.data.data();
  bool mask = contains(t.name, "mask"), tokenType = contains(t.name, "token_type");
  auto integer = [&]() -> int64_t {
    if (mask)
      return 1;
    if (tokenType)
      return 0;
    return static_cast<int64_t>(rng.next() % 100);
  };
  for (size_t i = 0; i < n; ++i) {
    switch (t.dtype) {
    case KILN_DTYPE_FLOAT32: {
      // 24 random bits: exactly representable, so the result stays < 1.
      float f = static_cast<float>(rng.next() >> 40) * (1.0f / 16777216.0f) * 2.0f - 1.0f;
      std::memcpy(p + 4 * i, &f, 4);
      break;
    }
    case KILN_DTYPE_FLOAT64: {
      double d = static_cast<double>(rng.next() >> 11) * (1.0 / 9007199254740992.0) * 2.0 - 1.0;
      std::memcpy(p + 8 * i, &d, 8);
      break;
    }
    case KILN_DTYPE_FLOAT16: {
      float f = static_cast<float>(rng.next() >> 53) / 1024.0f - 1.0f; // steps of 2^-10
      uint16_t h = kiln::io::floatToHalf(f);
      std::memcpy(p + 2 * i, &h, 2);
      break;
    }
    case KILN_DTYPE_BFLOAT16: {
      float f = static_cast<float>(rng.next() >> 56) / 128.0f - 1.0f; // steps of 2^-7
      uint16_t b = kiln::io::floatToBfloat16(f);
      std::memcpy(p + 2 * i, &b, 2);
      break;
    }
    case KILN_DTYPE_BOOL:
      p[i] = mask ? 1 : static_cast<uint8_t>(rng.next() & 1);
      break;
    case KILN_DTYPE_UINT8:
    case KILN_DTYPE_INT8:
      p[i] = static_cast<uint8_t>(integer());
      break;
    case KILN_DTYPE_INT16: {
      auto v = static_cast<int16_t>(integer());
      std::memcpy(p + 2 * i, &v, 2);
      break;
    }
    case KILN_DTYPE_INT32: {
      auto v = static_cast<int32_t>(integer());
      std::memcpy(p + 4 * i, &v, 4);
      break;
    }
    case KILN_DTYPE_INT64: {
      int64_t v = integer();
      std::memcpy(p + 8 * i, &v, 8);
      break;
    }
    }
  }
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

} // namespace

int main(int argc, char **argv) {
  Options opts = parseArgs(argc, argv);

  kiln_model_t *model = nullptr;
  check(kiln_model_load(opts.model.c_str(), &model));
  size_t numInputs = kiln_model_num_inputs(model), numOutputs = kiln_model_num_outputs(model);
  std::vector<kiln_tensor_info> inputInfo(numInputs), outputInfo(numOutputs);
  std::string inputList;
  for (size_t i = 0; i < numInputs; ++i) {
    check(kiln_model_input_info(model, i, &inputInfo[i]));
    inputList += (i ? ", " : "") + std::string(inputInfo[i].name);
  }
  for (size_t i = 0; i < numOutputs; ++i)
    check(kiln_model_output_info(model, i, &outputInfo[i]));

  // Inputs from files, in command-line order.
  std::vector<HostTensor> tensors;
  std::vector<std::string> sources;
  std::set<std::string> given;
  for (const InputArg &arg : opts.inputs) {
    HostTensor t;
    std::string error;
    if (!kiln::io::readTensorFile(arg.path, t, error))
      fail(error);
    if (!arg.name.empty())
      t.name = arg.name;
    if (t.name.empty())
      usageError("--input '" + arg.path + "' needs a name: --input <name>=" + arg.path);
    if (!given.insert(t.name).second)
      usageError("--input gives '" + t.name + "' twice");
    auto shape = opts.shapes.find(t.name);
    if (shape != opts.shapes.end() && shape->second != t.dims)
      fail("--input-shape gives '" + t.name + "' shape " + shapeString(shape->second) + ", but " +
           arg.path + " has shape " + shapeString(t.dims));
    sources.push_back("from " + arg.path);
    tensors.push_back(std::move(t));
  }

  // Sizes of named symbolic dims: from the files, then from --input-shape.
  std::map<std::string, int64_t> symbols;
  auto bind = [&](const kiln_tensor_info &info, const std::vector<int64_t> &dims) {
    if (static_cast<int32_t>(dims.size()) != info.rank)
      return;
    for (int32_t d = 0; d < info.rank; ++d)
      if (info.dims[d] < 0 && info.dim_names[d][0])
        symbols.emplace(info.dim_names[d], dims[d]);
  };
  for (const HostTensor &t : tensors) {
    int64_t k = kiln_model_find_input(model, t.name.c_str());
    if (k >= 0)
      bind(inputInfo[k], t.dims);
  }
  for (const std::string &name : opts.shapeOrder) {
    int64_t k = kiln_model_find_input(model, name.c_str());
    if (k < 0)
      usageError("--input-shape names '" + name + "', which is not an input of the model (" +
                 inputList + ")");
    const kiln_tensor_info &info = inputInfo[k];
    const std::vector<int64_t> &dims = opts.shapes[name];
    if (static_cast<int32_t>(dims.size()) != info.rank)
      usageError("--input-shape gives '" + name + "' rank " + std::to_string(dims.size()) +
                 ", but the model's input has rank " + std::to_string(info.rank));
    bind(info, dims);
  }

  if (opts.randomInputs) {
    Random rng{opts.seed};
    for (size_t k = 0; k < numInputs; ++k) {
      const kiln_tensor_info &info = inputInfo[k];
      if (given.count(info.name))
        continue;
      HostTensor t;
      t.name = info.name;
      t.dtype = info.dtype;
      auto shape = opts.shapes.find(info.name);
      if (shape != opts.shapes.end()) {
        t.dims = shape->second;
      } else {
        for (int32_t d = 0; d < info.rank; ++d) {
          int64_t size = info.dims[d];
          if (size < 0) {
            std::string dimName = info.dim_names[d];
            auto known = symbols.find(dimName);
            if (!dimName.empty() && known != symbols.end())
              size = known->second;
            else
              size = contains(dimName, "batch") ? 1 : 8;
            if (!dimName.empty())
              symbols.emplace(dimName, size);
          }
          t.dims.push_back(size);
        }
      }
      size_t elemSize = kiln_dtype_size(t.dtype);
      if (elemSize == 0)
        fail(std::string("cannot generate input '") + info.name + "' of dtype " +
             kiln_dtype_name(t.dtype));
      t.data.assign(t.numElements() * elemSize, 0);
      fillRandom(t, rng);
      sources.push_back("random");
      tensors.push_back(std::move(t));
    }
  }

  std::vector<kiln_tensor> inputs;
  for (size_t i = 0; i < tensors.size(); ++i) {
    HostTensor &t = tensors[i];
    inputs.push_back({t.name.c_str(), t.dtype, static_cast<int32_t>(t.dims.size()),
                      t.dims.data(), t.data.data(), t.data.size()});
    std::printf("input  %s: %s %s %s\n", t.name.c_str(), kiln_dtype_name(t.dtype),
                shapeString(t.dims).c_str(), sources[i].c_str());
  }

  kiln_session_options options;
  kiln_session_options_initialize(&options);
  options.num_threads = opts.threads;
  options.profile = !opts.profilePath.empty();
  kiln_session_t *session = nullptr;
  check(kiln_session_create(model, &options, &session));

  std::vector<kiln_tensor> outputs(numOutputs);
  for (size_t i = 0; i < numOutputs; ++i)
    outputs[i] = kiln_tensor{outputInfo[i].name, 0, 0, nullptr, nullptr, 0};
  kiln_status_t status = kiln_session_run(session, inputs.data(), inputs.size(), outputs.data(),
                                          outputs.size());
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
                shapeString(t.dims, t.rank).c_str(), sum, absSum);
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
    kiln::io::printProfileSummary(stdout, model, session, 1);
    std::printf("profile: wrote %s\n", opts.profilePath.c_str());
  }
  for (kiln_tensor &t : outputs)
    kiln_tensor_free(t.data);
  kiln_session_release(session);
  kiln_model_release(model);
  return std::fflush(stdout) == 0 ? 0 : 1;
}
