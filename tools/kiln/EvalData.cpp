//===- EvalData.cpp - Input sets for --eval-data --------------------------===//

#include "EvalData.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include <algorithm>

using namespace kilncli;

bool kilncli::listEvalSets(const std::string &directory, std::vector<std::string> &sets,
                           std::string &error, const std::string &flag) {
  sets.clear();
  if (!llvm::sys::fs::is_directory(directory)) {
    error = flag + " '" + directory + "' is not a folder";
    return false;
  }
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(directory, ec), end; it != end && !ec; it.increment(ec))
    if (llvm::sys::fs::is_directory(it->path()))
      sets.push_back(llvm::sys::path::filename(it->path()).str());
  if (ec) {
    error = "cannot read " + flag + " '" + directory + "': " + ec.message();
    return false;
  }
  if (sets.empty()) {
    error = flag + " '" + directory +
            "' has no input sets: it needs one subdirectory per run, each with an "
            "<input name>.npy per model input (docs/datasets.md)";
    return false;
  }
  llvm::sort(sets);
  return true;
}

/// "int64 [batch, sequence]": how the message shows what the model takes.
static std::string describeInput(const kiln_tensor_info &info) {
  std::string text = std::string(kiln_dtype_name(info.dtype)) + " [";
  for (int32_t d = 0; d < info.rank; ++d) {
    if (d)
      text += ", ";
    if (info.dims[d] >= 0)
      text += std::to_string(info.dims[d]);
    else
      text += *info.dim_names[d] ? info.dim_names[d] : "?";
  }
  return text + "]";
}

/// The problem with `tensor` as input `info`, or "".
static std::string mismatch(const kiln::io::HostTensor &tensor, const kiln_tensor_info &info) {
  bool fits = tensor.dtype == info.dtype && int32_t(tensor.dims.size()) == info.rank;
  for (int32_t d = 0; fits && d < info.rank; ++d)
    fits = info.dims[d] < 0 || info.dims[d] == tensor.dims[size_t(d)];
  if (fits)
    return "";
  std::string shape;
  for (size_t d = 0; d < tensor.dims.size(); ++d)
    shape += (d ? ", " : "") + std::to_string(tensor.dims[d]);
  return std::string("holds ") + kiln_dtype_name(tensor.dtype) + " [" + shape +
         "], but model input '" + info.name + "' is " + describeInput(info);
}

bool kilncli::readEvalSets(const std::string &directory, const kiln_model_t *model,
                           std::vector<EvalSet> &sets, std::string &error,
                           const std::string &flag) {
  std::vector<std::string> names;
  if (!listEvalSets(directory, names, error, flag))
    return false;
  const std::string what = flag.substr(flag.find_first_not_of('-')) + ": ";
  sets.clear();
  for (const std::string &name : names) {
    EvalSet set{name, {}};
    for (size_t i = 0; i < kiln_model_num_inputs(model); ++i) {
      kiln_tensor_info info;
      kiln_status_free(kiln_model_input_info(model, i, &info));
      llvm::SmallString<256> path(directory);
      llvm::sys::path::append(path, name, std::string(info.name) + ".npy");
      std::string file = path.str().str();
      if (!llvm::sys::fs::exists(file)) {
        error = what + "set '" + name + "' has no " + info.name + ".npy ('" + file +
                "' is missing) for model input '" + info.name + "', " + describeInput(info);
        return false;
      }
      kiln::io::HostTensor tensor;
      if (!kiln::io::readNpy(file, tensor, error)) {
        error = what + "input '" + std::string(info.name) + "': " + error;
        return false;
      }
      if (std::string problem = mismatch(tensor, info); !problem.empty()) {
        error = what + file + " " + problem;
        return false;
      }
      tensor.name = info.name;
      set.inputs.push_back(std::move(tensor));
    }
    sets.push_back(std::move(set));
  }
  return true;
}

bool kilncli::runEachSet(const std::string &path, const std::vector<EvalSet> &sets,
                         const RunConsumer &consume, std::string &error) {
  auto release = [](kiln_status_t st) {
    std::string message = st ? kiln_status_message(st) : "";
    kiln_status_free(st);
    return message;
  };
  kiln_model_t *model = nullptr;
  if (kiln_status_t st = kiln_model_load(path.c_str(), &model)) {
    error = release(st);
    return false;
  }
  kiln_session_t *session = nullptr;
  if (kiln_status_t st = kiln_session_create(model, nullptr, &session)) {
    error = release(st);
    kiln_model_release(model);
    return false;
  }
  std::vector<std::string> names;
  for (size_t i = 0; i < kiln_model_num_outputs(model); ++i) {
    kiln_tensor_info info;
    kiln_status_free(kiln_model_output_info(model, i, &info));
    names.push_back(info.name);
  }
  bool ok = true;
  for (size_t s = 0; ok && s < sets.size(); ++s) {
    std::vector<kiln_tensor> inputs;
    for (const kiln::io::HostTensor &t : sets[s].inputs)
      inputs.push_back({t.name.c_str(), t.dtype, int32_t(t.dims.size()), t.dims.data(),
                        const_cast<uint8_t *>(t.data.data()), t.data.size()});
    std::vector<kiln_tensor> outputs(names.size(), kiln_tensor{});
    if (kiln_status_t st = kiln_session_run(session, inputs.data(), inputs.size(),
                                            outputs.data(), outputs.size())) {
      error = "set '" + sets[s].name + "': " + release(st);
      ok = false;
      break;
    }
    ok = consume(s, names, outputs, error);
    for (kiln_tensor &t : outputs)
      kiln_tensor_free(t.data);
  }
  kiln_session_release(session);
  kiln_model_release(model);
  return ok;
}
