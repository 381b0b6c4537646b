//===- embed_cpp.cpp - Embedding the Kiln runtime in a C++ program --------===//
//
//   embed_cpp model.so
//
// The C API with RAII: unique_ptr deleters for the model, session, statuses
// and output buffers. Makes up inputs like embed_c.c; for outputs whose
// shape it can work out in advance (static dims, or symbolic dims named like
// an input's) it passes its own buffers, the others the runtime allocates.
//
//===----------------------------------------------------------------------===//

#include <kiln/kiln.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct ModelDeleter {
  void operator()(kiln_model_t *m) const { kiln_model_release(m); }
};
struct SessionDeleter {
  void operator()(kiln_session_t *s) const { kiln_session_release(s); }
};
struct TensorDeleter {
  void operator()(void *p) const { kiln_tensor_free(p); }
};
using Model = std::unique_ptr<kiln_model_t, ModelDeleter>;
using Session = std::unique_ptr<kiln_session_t, SessionDeleter>;
using RuntimeBuffer = std::unique_ptr<void, TensorDeleter>;

/// Turns a status into an exception.
void check(kiln_status_t status) {
  if (!status)
    return;
  std::string message = kiln_status_message(status);
  kiln_status_free(status);
  throw std::runtime_error(message);
}

std::string shape(const int64_t *dims, const char *const *names, int32_t rank) {
  std::string s = "[";
  for (int32_t d = 0; d < rank; ++d) {
    if (d)
      s += ",";
    s += dims[d] >= 0 ? std::to_string(dims[d]) : names && names[d][0] ? names[d] : "?";
  }
  return s + "]";
}

double element(int32_t dtype, const void *data, size_t i) {
  switch (dtype) {
  case KILN_DTYPE_FLOAT32:
    return static_cast<const float *>(data)[i];
  case KILN_DTYPE_FLOAT64:
    return static_cast<const double *>(data)[i];
  case KILN_DTYPE_INT64:
    return static_cast<double>(static_cast<const int64_t *>(data)[i]);
  case KILN_DTYPE_INT32:
    return static_cast<const int32_t *>(data)[i];
  default:
    return 0;
  }
}

int run(const char *path) {
  kiln_model_t *raw = nullptr;
  check(kiln_model_load(path, &raw));
  Model model(raw);
  std::printf("model: %s\nproducer: %s\nsignature:\n", path, kiln_model_producer(model.get()));

  std::vector<kiln_tensor_info> ins(kiln_model_num_inputs(model.get()));
  std::vector<kiln_tensor_info> outs(kiln_model_num_outputs(model.get()));
  for (size_t i = 0; i < ins.size(); ++i) {
    check(kiln_model_input_info(model.get(), i, &ins[i]));
    std::printf("  input  %s: %s %s\n", ins[i].name, kiln_dtype_name(ins[i].dtype),
                shape(ins[i].dims, ins[i].dim_names, ins[i].rank).c_str());
  }
  for (size_t i = 0; i < outs.size(); ++i) {
    check(kiln_model_output_info(model.get(), i, &outs[i]));
    std::printf("  output %s: %s %s\n", outs[i].name, kiln_dtype_name(outs[i].dtype),
                shape(outs[i].dims, outs[i].dim_names, outs[i].rank).c_str());
  }

  // Inputs, and the sizes they give the named symbolic dims.
  std::map<std::string, int64_t> symbols;
  std::vector<std::vector<int64_t>> inputDims(ins.size());
  std::vector<std::vector<unsigned char>> inputData(ins.size());
  std::vector<kiln_tensor> inputs;
  for (size_t i = 0; i < ins.size(); ++i) {
    const kiln_tensor_info &info = ins[i];
    size_t n = 1;
    for (int32_t d = 0; d < info.rank; ++d) {
      int64_t size = info.dims[d];
      if (size < 0) {
        size = std::strstr(info.dim_names[d], "batch") ? 2 : 3;
        if (info.dim_names[d][0])
          symbols[info.dim_names[d]] = size;
      }
      inputDims[i].push_back(size);
      n *= static_cast<size_t>(size);
    }
    size_t elem = kiln_dtype_size(info.dtype);
    inputData[i].assign(n * elem + 8, 0);
    unsigned char *p = inputData[i].data();
    // Token types 0, 1, 0, ...: an index out of range (BERT has 2 types) fails
    // the run.
    bool mask = std::strstr(info.name, "mask") != nullptr;
    bool type = std::strstr(info.name, "type") != nullptr;
    for (size_t e = 0; e < n; ++e) {
      if (info.dtype == KILN_DTYPE_FLOAT32) {
        float v = 0.5f * static_cast<float>(e + 1);
        std::memcpy(p + 4 * e, &v, 4);
      } else if (info.dtype == KILN_DTYPE_INT64) {
        int64_t v = mask ? 1 : static_cast<int64_t>(e % (type ? 2 : 10));
        std::memcpy(p + 8 * e, &v, 8);
      }
    }
    inputs.push_back({info.name, info.dtype, info.rank, inputDims[i].data(), p, n * elem});
  }

  // Outputs: a caller buffer where the shape is known in advance.
  std::vector<std::vector<unsigned char>> callerData(outs.size());
  std::vector<std::array<int64_t, KILN_MAX_RANK>> outputDims(outs.size());
  std::vector<kiln_tensor> outputs(outs.size());
  for (size_t i = 0; i < outs.size(); ++i) {
    const kiln_tensor_info &info = outs[i];
    outputs[i].name = info.name;
    outputs[i].dims = outputDims[i].data(); // the runtime writes the shape here
    size_t n = 1;
    bool known = true;
    for (int32_t d = 0; d < info.rank && known; ++d) {
      auto symbol = symbols.find(info.dim_names[d]);
      if (info.dims[d] >= 0)
        n *= static_cast<size_t>(info.dims[d]);
      else if (symbol != symbols.end())
        n *= static_cast<size_t>(symbol->second);
      else
        known = false;
    }
    if (known && info.rank > 0) {
      callerData[i].resize(n * kiln_dtype_size(info.dtype));
      outputs[i].data = callerData[i].data();
      outputs[i].byte_size = callerData[i].size();
    }
  }

  kiln_session_options options;
  kiln_session_options_initialize(&options);
  kiln_session_t *rawSession = nullptr;
  check(kiln_session_create(model.get(), &options, &rawSession));
  Session session(rawSession);
  check(kiln_session_run(session.get(), inputs.data(), inputs.size(), outputs.data(),
                         outputs.size()));

  std::printf("results (%u threads):\n", kiln_session_num_threads(session.get()));
  for (size_t i = 0; i < outputs.size(); ++i) {
    const kiln_tensor &t = outputs[i];
    bool mine = !callerData[i].empty();
    RuntimeBuffer owned(mine ? nullptr : t.data); // freed at the end of the iteration
    std::printf("  output %s: %s %s (%s buffer) =", t.name, kiln_dtype_name(t.dtype),
                shape(t.dims, nullptr, t.rank).c_str(), mine ? "caller" : "runtime");
    size_t n = t.byte_size / kiln_dtype_size(t.dtype);
    for (size_t e = 0; e < n && e < 8; ++e)
      std::printf(" %g", element(t.dtype, t.data, e));
    std::printf(n > 8 ? " ...\n" : "\n");
  }
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s model.so\n", argv[0]);
    return 2;
  }
  try {
    return run(argv[1]);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
