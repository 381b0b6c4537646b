//===- RandomInputs.cpp - Inputs for the runtime's tools ------------------===//
//
// See RandomInputs.h. The logic and the messages follow kiln_run.cpp's main()
// exactly, so that kiln-run can switch to prepareInputs() unchanged.
//
//===----------------------------------------------------------------------===//

#include "RandomInputs.h"

#include <cstring>
#include <set>

using kiln::io::HostTensor;

namespace kiln::tools {

uint64_t Random::next() {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

namespace {

bool contains(const std::string &s, const char *what) { return s.find(what) != std::string::npos; }

} // namespace

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
      uint16_t h = io::floatToHalf(f);
      std::memcpy(p + 2 * i, &h, 2);
      break;
    }
    case KILN_DTYPE_BFLOAT16: {
      float f = static_cast<float>(rng.next() >> 56) / 128.0f - 1.0f; // steps of 2^-7
      uint16_t b = io::floatToBfloat16(f);
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

bool parseInputFile(const std::string &value, InputFile &out, std::string &error) {
  size_t eq = value.find('=');
  if (eq == 0) {
    error = "--input expects <name>=<file>, got '" + value + "'";
    return false;
  }
  out = eq == std::string::npos ? InputFile{"", value}
                                : InputFile{value.substr(0, eq), value.substr(eq + 1)};
  return true;
}

bool parseThreadCount(const std::string &value, uint32_t &threads, std::string &error) {
  uint64_t n;
  if (!parseUnsigned(value, n) || n > 1024) {
    error = "--threads expects a number from 0 to 1024, got '" + value + "'";
    return false;
  }
  threads = static_cast<uint32_t>(n);
  return true;
}

bool parseShapeList(const std::string &spec, ShapeList &out, std::string &error) {
  size_t start = 0;
  while (start <= spec.size()) {
    size_t comma = spec.find(',', start);
    std::string item = spec.substr(start, comma == std::string::npos ? std::string::npos
                                                                     : comma - start);
    size_t eq = item.rfind('=');
    if (eq == std::string::npos || eq == 0) {
      error = "--input-shape expects <name>=<DxD...>, got '" + item + "'";
      return false;
    }
    std::string name = item.substr(0, eq), dims = item.substr(eq + 1);
    std::vector<int64_t> shape;
    size_t d = 0;
    while (!dims.empty() && d <= dims.size()) {
      size_t x = dims.find('x', d);
      std::string part = dims.substr(d, x == std::string::npos ? std::string::npos : x - d);
      uint64_t v;
      if (!parseUnsigned(part, v) || v > (uint64_t{1} << 40)) {
        error = "--input-shape for '" + name + "': '" + dims + "' is not a shape like 1x128";
        return false;
      }
      shape.push_back(static_cast<int64_t>(v));
      if (x == std::string::npos)
        break;
      d = x + 1;
    }
    if (out.shapes.count(name)) {
      error = "--input-shape gives '" + name + "' twice";
      return false;
    }
    out.shapes[name] = shape;
    out.order.push_back(name);
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  return true;
}

bool parseDimList(const std::string &spec, ShapeList &out, std::string &error) {
  size_t start = 0;
  while (start <= spec.size()) {
    size_t comma = spec.find(',', start);
    std::string item = spec.substr(start, comma == std::string::npos ? std::string::npos
                                                                     : comma - start);
    size_t eq = item.find('=');
    uint64_t size;
    if (eq == std::string::npos || eq == 0 || !parseUnsigned(item.substr(eq + 1), size) ||
        size > (uint64_t{1} << 40)) {
      error = "--dim expects <name>=<size>, e.g. batch=1,sequence=128, got '" + item + "'";
      return false;
    }
    std::string name = item.substr(0, eq);
    if (!out.dims.emplace(name, static_cast<int64_t>(size)).second) {
      error = "--dim gives '" + name + "' twice";
      return false;
    }
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  return true;
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

std::vector<kiln_tensor> PreparedInputs::views() const {
  std::vector<kiln_tensor> out;
  for (const HostTensor &t : tensors)
    out.push_back({t.name.c_str(), t.dtype, static_cast<int32_t>(t.dims.size()), t.dims.data(),
                   const_cast<uint8_t *>(t.data.data()), t.data.size()});
  return out;
}

InputError prepareInputs(const kiln_model_t *model, const std::vector<InputFile> &files,
                         const ShapeList &shapes, bool generateMissing, uint64_t seed,
                         PreparedInputs &out, std::string &error) {
  size_t numInputs = kiln_model_num_inputs(model);
  std::vector<kiln_tensor_info> inputInfo(numInputs);
  std::string inputList;
  for (size_t i = 0; i < numInputs; ++i) {
    kiln_status_t status = kiln_model_input_info(model, i, &inputInfo[i]);
    if (status) {
      error = kiln_status_message(status);
      kiln_status_free(status);
      return InputError::Failure;
    }
    inputList += (i ? ", " : "") + std::string(inputInfo[i].name);
  }

  // Inputs from files, in command-line order.
  std::set<std::string> given;
  for (const InputFile &arg : files) {
    HostTensor t;
    if (!io::readTensorFile(arg.path, t, error))
      return InputError::Failure;
    if (!arg.name.empty())
      t.name = arg.name;
    if (t.name.empty()) {
      error = "--input '" + arg.path + "' needs a name: --input <name>=" + arg.path;
      return InputError::Usage;
    }
    if (!given.insert(t.name).second) {
      error = "--input gives '" + t.name + "' twice";
      return InputError::Usage;
    }
    auto shape = shapes.shapes.find(t.name);
    if (shape != shapes.shapes.end() && shape->second != t.dims) {
      error = "--input-shape gives '" + t.name + "' shape " + shapeString(shape->second) +
              ", but " + arg.path + " has shape " + shapeString(t.dims);
      return InputError::Failure;
    }
    out.sources.push_back("from " + arg.path);
    out.tensors.push_back(std::move(t));
  }

  // Sizes of named symbolic dims: from the files, then from --input-shape,
  // then from --dim (which must agree with both).
  std::map<std::string, int64_t> symbols;
  std::map<std::string, std::string> boundBy; // what gave each size
  auto bind = [&](const kiln_tensor_info &info, const std::vector<int64_t> &dims,
                  const std::string &source) {
    if (static_cast<int32_t>(dims.size()) != info.rank)
      return;
    for (int32_t d = 0; d < info.rank; ++d)
      if (info.dims[d] < 0 && info.dim_names[d][0] &&
          symbols.emplace(info.dim_names[d], dims[d]).second)
        boundBy[info.dim_names[d]] = source;
  };
  for (const HostTensor &t : out.tensors) {
    int64_t k = kiln_model_find_input(model, t.name.c_str());
    if (k >= 0)
      bind(inputInfo[k], t.dims, "input '" + t.name + "'");
  }
  for (const std::string &name : shapes.order) {
    int64_t k = kiln_model_find_input(model, name.c_str());
    if (k < 0) {
      error = "--input-shape names '" + name + "', which is not an input of the model (" +
              inputList + ")";
      return InputError::Usage;
    }
    const kiln_tensor_info &info = inputInfo[k];
    const std::vector<int64_t> &dims = shapes.shapes.at(name);
    if (static_cast<int32_t>(dims.size()) != info.rank) {
      error = "--input-shape gives '" + name + "' rank " + std::to_string(dims.size()) +
              ", but the model's input has rank " + std::to_string(info.rank);
      return InputError::Usage;
    }
    bind(info, dims, "--input-shape " + name);
  }
  if (!shapes.dims.empty()) {
    std::set<std::string> named;
    std::string namedList;
    for (const kiln_tensor_info &info : inputInfo)
      for (int32_t d = 0; d < info.rank; ++d)
        if (info.dims[d] < 0 && info.dim_names[d][0] && named.insert(info.dim_names[d]).second)
          namedList += (namedList.empty() ? "" : ", ") + std::string(info.dim_names[d]);
    for (const auto &[name, size] : shapes.dims) {
      if (!named.count(name)) {
        error = "--dim names '" + name + "', which no input of the model has as a symbolic dim" +
                (namedList.empty() ? std::string(" (it has none)") : " (" + namedList + ")");
        return InputError::Usage;
      }
      auto known = symbols.find(name);
      if (known != symbols.end() && known->second != size) {
        error = "dim '" + name + "' is " + std::to_string(size) + " by --dim but " +
                std::to_string(known->second) + " by " + boundBy[name];
        return InputError::Usage;
      }
      symbols.emplace(name, size);
    }
  }

  if (!generateMissing)
    return InputError::None;
  Random rng{seed};
  for (size_t k = 0; k < numInputs; ++k) {
    const kiln_tensor_info &info = inputInfo[k];
    if (given.count(info.name))
      continue;
    HostTensor t;
    t.name = info.name;
    t.dtype = info.dtype;
    auto shape = shapes.shapes.find(info.name);
    if (shape != shapes.shapes.end()) {
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
    if (elemSize == 0) {
      error = std::string("cannot generate input '") + info.name + "' of dtype " +
              kiln_dtype_name(t.dtype);
      return InputError::Failure;
    }
    t.data.assign(t.numElements() * elemSize, 0);
    fillRandom(t, rng);
    out.sources.push_back("random");
    out.tensors.push_back(std::move(t));
  }
  return InputError::None;
}

} // namespace kiln::tools
