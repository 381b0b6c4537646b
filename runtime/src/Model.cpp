//===- Model.cpp - Loading a compiled model library -----------------------===//
//
// dlopen()s the library, finds `kiln_model_abi`, checks the ABI version and
// the signature table, and keeps a normalised copy of the signature. The
// table is checked as data (kiln::checkModelTable): every pointer in it must
// point into the library's own readable segments, so a corrupt table is
// refused instead of read out of bounds. fuzz/FuzzLoad.cpp fuzzes that check.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <dlfcn.h>
#include <link.h>
#include <new>
#include <unordered_set>
#include <sys/stat.h>

using namespace kiln;

kiln_model::~kiln_model() {
  if (handle)
    dlclose(handle);
}

void ModelMemory::add(const void *begin, size_t bytes) {
  uintptr_t start = reinterpret_cast<uintptr_t>(begin);
  if (bytes && start + bytes > start)
    ranges.emplace_back(start, start + bytes);
}

bool ModelMemory::contains(const void *p, size_t count, size_t size, size_t align) const {
  uintptr_t start = reinterpret_cast<uintptr_t>(p);
  if (!p || (align > 1 && start % align) || (size && count > SIZE_MAX / size))
    return false;
  size_t bytes = count * size;
  for (const auto &[begin, end] : ranges)
    if (start >= begin && start < end && bytes <= end - start)
      return true;
  return false;
}

bool ModelMemory::containsString(const char *p) const {
  uintptr_t start = reinterpret_cast<uintptr_t>(p);
  if (!p)
    return false;
  for (const auto &[begin, end] : ranges)
    if (start >= begin && start < end)
      return std::memchr(p, 0, end - start) != nullptr;
  return false;
}

namespace {

// Far above any real model; guards against reading garbage tables.
constexpr uint32_t kMaxTensors = 1u << 16;

/// Whether the file starts like an ELF object (a shared library), to tell a
/// model that was never compiled from a library dlopen() rejects.
bool startsWithElfMagic(const char *path) {
  char magic[4] = {};
  FILE *file = std::fopen(path, "rb");
  if (!file)
    return false;
  size_t n = std::fread(magic, 1, sizeof magic, file);
  std::fclose(file);
  return n == sizeof magic && std::memcmp(magic, "\x7f" "ELF", 4) == 0;
}

std::string dlerrorString() {
  const char *e = dlerror();
  return e ? e : "unknown dlopen error";
}

/// Copies and checks one kiln_abi_tensor; an empty string on success.
std::string readTensor(const kiln_abi_tensor &t, const char *kind, uint32_t index,
                       const ModelMemory &memory, TensorSig &sig) {
  if (t.name && !memory.containsString(t.name))
    return format("the name of %s %u is not a string in the library", kind, index);
  if (!t.name || !t.name[0])
    return format("%s %u has no name", kind, index);
  sig.name = t.name;
  sig.dtype = t.dtype;
  sig.elementSize = kiln_dtype_size(t.dtype);
  if (sig.elementSize == 0)
    return format("%s '%s' has unknown dtype %d", kind, t.name, t.dtype);
  if (t.rank < 0 || t.rank > KILN_MAX_RANK)
    return format("%s '%s' has rank %d (the runtime supports 0 to %d)", kind, t.name, t.rank,
                  KILN_MAX_RANK);
  sig.rank = t.rank;
  if (t.rank > 0 && !memory.containsArray(t.dims, t.rank))
    return format("%s '%s' has rank %d but no dims", kind, t.name, t.rank);
  if (t.rank > 0 && t.dim_names && !memory.containsArray(t.dim_names, t.rank))
    return format("%s '%s' has dim names outside the library", kind, t.name);
  for (int32_t d = 0; d < t.rank; ++d) {
    if (t.dims[d] < -1)
      return format("%s '%s' dim %d is %lld", kind, t.name, d, static_cast<long long>(t.dims[d]));
    sig.dims.push_back(t.dims[d]);
    const char *dimName = t.dim_names ? t.dim_names[d] : nullptr;
    if (dimName && !memory.containsString(dimName))
      return format("the name of %s '%s' dim %d is not a string in the library", kind, t.name,
                    d);
    sig.dimNames.push_back(dimName ? dimName : "");
  }
  for (const std::string &n : sig.dimNames)
    sig.dimNamePtrs.push_back(n.c_str());
  sig.descWords = 3 + 2 * static_cast<size_t>(sig.rank);
  return "";
}

#if defined(__x86_64__)
/// One x86 feature the runtime can ask the CPU about, and the answer.
struct X86Feature {
  const char *name; // as LLVM and __builtin_cpu_supports spell it
  bool present;
};

/// Whether the comma-separated `list` contains `name`.
bool listContains(const char *list, const char *name) {
  size_t length = std::strlen(name);
  for (const char *item = list; *item;) {
    const char *end = std::strchr(item, ',');
    size_t itemLength = end ? size_t(end - item) : std::strlen(item);
    if (itemLength == length && std::strncmp(item, name, length) == 0)
      return true;
    if (!end)
      break;
    item = end + 1;
  }
  return false;
}

/// The features of kiln_x86_features.def, and which this CPU has (with the
/// OS's support for their registers: __builtin_cpu_supports checks XCR0).
/// KILN_CPU_FEATURES_MASK, a test hook, names the only ones to believe
/// present (e.g. "sse3,ssse3,sse4.1,sse4.2,popcnt" plays an x86-64-v2 CPU),
/// so tests can show the refusal on any machine; it never adds a feature.
std::vector<X86Feature> cpuFeatures() {
  __builtin_cpu_init(); // a no-op once libgcc's constructor has run it
  std::vector<X86Feature> features = {
#define KILN_X86_FEATURE(name) {name, __builtin_cpu_supports(name) != 0},
#include "kiln/kiln_x86_features.def"
#undef KILN_X86_FEATURE
  };
  if (const char *mask = std::getenv("KILN_CPU_FEATURES_MASK"))
    for (X86Feature &feature : features)
      feature.present = feature.present && listContains(mask, feature.name);
  return features;
}

/// The highest x86-64 micro-architecture level (psABI) all of whose
/// features in `features` are present, as an --mcpu value.
const char *x86Level(const std::vector<X86Feature> &features) {
  auto has = [&](std::initializer_list<const char *> names) {
    for (const char *name : names)
      for (const X86Feature &feature : features)
        if (std::strcmp(feature.name, name) == 0 && !feature.present)
          return false;
    return true;
  };
  if (!has({"sse3", "ssse3", "sse4.1", "sse4.2", "popcnt"}))
    return "x86-64";
  if (!has({"avx", "avx2", "bmi", "bmi2", "f16c", "fma", "lzcnt", "movbe"}))
    return "x86-64-v2";
  if (!has({"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"}))
    return "x86-64-v3";
  return "x86-64-v4";
}
#endif

/// Why this CPU cannot run the model's code: the features of
/// abi.target_features ("+avx2,+fma,...") it lacks; empty if it has them
/// all. Features the runtime cannot check (none that kiln compile records)
/// are taken as present, and so is every feature on other architectures.
std::string checkCpu(const kiln_model_abi &abi, const char *path) {
#if defined(__x86_64__)
  if (!abi.target_features || !abi.target_features[0])
    return "";
  // checkModelTable saw target_features and target_cpu (if not null) are
  // strings in the model's memory.
  std::vector<X86Feature> features = cpuFeatures();
  std::string missing;
  for (const X86Feature &feature : features) {
    if (feature.present)
      continue;
    std::string flag = std::string("+") + feature.name;
    if (listContains(abi.target_features, flag.c_str()))
      missing += (missing.empty() ? "" : ", ") + std::string(feature.name);
  }
  if (missing.empty())
    return "";
  const char *level = x86Level(features);
  return format("'%s' uses x86 features this CPU lacks: %s (it was compiled for %s); recompile "
                "it for this CPU (`kiln compile --mcpu=native` on this machine) or for its "
                "x86-64 level (--mcpu=%s)",
                path, missing.c_str(), abi.target_cpu ? abi.target_cpu : "another CPU", level);
#else
  (void)abi;
  (void)path;
  return "";
#endif
}

/// Checks the table and fills `model`; an empty string on success.
std::string readTable(const kiln_model_abi &abi, const ModelMemory &memory, kiln_model &model) {
  if (abi.num_inputs > kMaxTensors || abi.num_outputs > kMaxTensors)
    return format("its table declares %u inputs and %u outputs", abi.num_inputs, abi.num_outputs);
  if (abi.num_outputs == 0)
    return "its table declares no outputs";
  if (abi.num_inputs > 0 && !memory.containsArray(abi.inputs, abi.num_inputs))
    return "its table has no input descriptions";
  if (!memory.containsArray(abi.outputs, abi.num_outputs))
    return "its table has no output descriptions";
  // Code: only its address can be checked.
  if (!abi.run || !memory.contains(reinterpret_cast<const void *>(abi.run), 1, 1))
    return "its table has no run function";
  model.run = abi.run;
  model.abiVersion = abi.abi_version;
  if (abi.num_regions > 0 &&
      !memory.containsArray(abi.regions, abi.num_regions))
    return format("its table declares %u profile regions but no region table", abi.num_regions);
  for (uint32_t i = 0; i < abi.num_regions; ++i) {
    const kiln_abi_region &region = abi.regions[i];
    if (!memory.containsString(region.name) || !memory.containsString(region.op_type))
      return format("profile region %u has no name or op type", i);
    model.regions.push_back({region.name, region.op_type});
  }
  if (abi.producer && !memory.containsString(abi.producer))
    return "its producer is not a string in the library";
  model.producer = abi.producer ? abi.producer : "";
  // A GPU model that launches no kernel (cuBLASLt GEMMs and copies only)
  // has no image: NULL and size 0.
  bool noKernels = abi.gpu_image == nullptr && abi.gpu_image_size == 0;
  if (abi.gpu_arch != 0 && !noKernels &&
      (abi.gpu_image_size == 0 || abi.gpu_image_size > SIZE_MAX ||
       !memory.contains(abi.gpu_image, static_cast<size_t>(abi.gpu_image_size), 1)))
    return format("its table says it runs on sm_%u but its kernel image is not in the library",
                  abi.gpu_arch);
  if (abi.gpu_precision > KILN_GPU_PRECISION_BF16)
    return format("its table asks for an unknown GPU precision %u", abi.gpu_precision);
  model.gpuArch = abi.gpu_arch;
  model.gpuPrecision = abi.gpu_precision;
  model.gpuImage = abi.gpu_image;
  model.gpuImageSize = abi.gpu_image_size;

  model.inputs.resize(abi.num_inputs);
  model.outputs.resize(abi.num_outputs);
  for (uint32_t i = 0; i < abi.num_inputs; ++i) {
    std::string problem = readTensor(abi.inputs[i], "input", i, memory, model.inputs[i]);
    if (!problem.empty())
      return problem;
  }
  for (uint32_t i = 0; i < abi.num_outputs; ++i) {
    std::string problem = readTensor(abi.outputs[i], "output", i, memory, model.outputs[i]);
    if (!problem.empty())
      return problem;
  }
  for (auto *list : {&model.inputs, &model.outputs}) {
    const char *kind = list == &model.inputs ? "input" : "output";
    std::string &names = list == &model.inputs ? model.inputList : model.outputList;
    size_t offset = 0;
    std::unordered_set<std::string> seen;
    for (size_t i = 0; i < list->size(); ++i) {
      TensorSig &sig = (*list)[i];
      if (!seen.insert(sig.name).second)
        return format("it declares %s '%s' twice", kind, sig.name.c_str());
      sig.descOffset = offset;
      offset += sig.descWords;
      if (i)
        names += ", ";
      names += sig.name;
    }
    (list == &model.inputs ? model.inputDescWords : model.outputDescWords) = offset;
  }
  // Named symbolic input dims: the same name must get the same size.
  for (TensorSig &sig : model.inputs) {
    sig.symbol.assign(sig.rank, -1);
    for (int32_t d = 0; d < sig.rank; ++d) {
      if (sig.dims[d] != -1 || sig.dimNames[d].empty())
        continue;
      size_t s = 0;
      while (s < model.symbolNames.size() && model.symbolNames[s] != sig.dimNames[d])
        ++s;
      if (s == model.symbolNames.size())
        model.symbolNames.push_back(sig.dimNames[d]);
      sig.symbol[d] = static_cast<int32_t>(s);
    }
  }
  return "";
}

/// The readable segments of the loaded library that holds `symbol`.
ModelMemory libraryMemory(const void *symbol) {
  struct Search {
    uintptr_t symbol;
    ModelMemory memory;
  } search{reinterpret_cast<uintptr_t>(symbol), {}};
  dl_iterate_phdr(
      [](dl_phdr_info *info, size_t, void *data) -> int {
        auto &search = *static_cast<Search *>(data);
        bool holds = false;
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr) &ph = info->dlpi_phdr[i];
          uintptr_t begin = info->dlpi_addr + ph.p_vaddr;
          if (ph.p_type == PT_LOAD && search.symbol >= begin && search.symbol - begin < ph.p_memsz)
            holds = true;
        }
        if (!holds)
          return 0;
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr) &ph = info->dlpi_phdr[i];
          if (ph.p_type == PT_LOAD && (ph.p_flags & PF_R))
            search.memory.add(reinterpret_cast<const void *>(info->dlpi_addr + ph.p_vaddr),
                              ph.p_memsz);
        }
        return 1;
      },
      &search);
  return search.memory;
}

kiln_status_t loadModel(const char *path, kiln_model_t **outModel) {
  if (!path || !outModel)
    return makeStatus(KILN_STATUS_INVALID_ARGUMENT, "kiln_model_load: path and out_model must not be NULL");
  struct stat st;
  if (stat(path, &st) != 0) {
    int err = errno;
    return makeStatusf(KILN_STATUS_NOT_FOUND, "cannot open model '%s': %s", path, std::strerror(err));
  }
  if (!S_ISREG(st.st_mode))
    return makeStatusf(KILN_STATUS_NOT_FOUND, "cannot open model '%s': not a regular file", path);

  std::unique_ptr<kiln_model> model(new kiln_model);
  model->path = path;
  // dlopen() searches the library path for a name without '/'.
  std::string openPath = std::strchr(path, '/') ? path : std::string("./") + path;
  dlerror();
  model->handle = dlopen(openPath.c_str(), RTLD_LOCAL | RTLD_NOW);
  if (!model->handle) {
    if (!startsWithElfMagic(path))
      return makeStatusf(KILN_STATUS_INVALID_MODEL,
                         "cannot load '%s': it is not a shared library (not an ELF file); an "
                         "ONNX model must first be compiled with `kiln compile`",
                         path);
    return makeStatusf(KILN_STATUS_INVALID_MODEL, "cannot load '%s' as a shared library: %s", path,
                       dlerrorString().c_str());
  }
  dlerror();
  void *symbol = dlsym(model->handle, KILN_MODEL_ABI_SYMBOL);
  if (!symbol)
    return makeStatusf(KILN_STATUS_INVALID_MODEL,
                       "'%s' is not a Kiln model: it does not export '" KILN_MODEL_ABI_SYMBOL "'",
                       path);
  auto accessor = reinterpret_cast<kiln_model_abi_fn>(symbol);
  const kiln_model_abi *abi = accessor();
  ModelMemory memory = libraryMemory(symbol);
  if (kiln_status_t status = checkModelTable(abi, memory, path, *model))
    return status;
  *outModel = model.release();
  return nullptr;
}

} // namespace

kiln_status_t kiln::checkModelTable(const kiln_model_abi *abi, const ModelMemory &memory,
                                    const char *path, kiln_model &model) {
  if (!abi)
    return makeStatusf(KILN_STATUS_INVALID_MODEL,
                       "'%s' is not a valid Kiln model: " KILN_MODEL_ABI_SYMBOL "() returned NULL",
                       path);
  // The version first: an older table may be shorter than this one.
  if (!memory.contains(abi, 1, sizeof(abi->abi_version), alignof(kiln_model_abi)))
    return makeStatusf(KILN_STATUS_INVALID_MODEL,
                       "'%s' is not a valid Kiln model: its table is not in the library", path);
  if (abi->abi_version < KILN_ABI_VERSION_OLDEST || abi->abi_version > KILN_ABI_VERSION)
    return makeStatusf(KILN_STATUS_ABI_MISMATCH,
                       "'%s' was compiled for Kiln ABI version %u, but this runtime (%s) supports "
                       "versions %u to %u; recompile the model with a matching kiln",
                       path, abi->abi_version, kiln_runtime_version(), KILN_ABI_VERSION_OLDEST,
                       KILN_ABI_VERSION);
  if (!memory.containsArray(abi, 1))
    return makeStatusf(KILN_STATUS_INVALID_MODEL,
                       "'%s' is not a valid Kiln model: its table is not in the library", path);
  if ((abi->target_features && !memory.containsString(abi->target_features)) ||
      (abi->target_cpu && !memory.containsString(abi->target_cpu)))
    return makeStatusf(KILN_STATUS_INVALID_MODEL,
                       "'%s' is not a valid Kiln model: its target CPU or features are not "
                       "strings in the library",
                       path);
  // Before anything calls into the model (only its kiln_model_abi accessor
  // has run, a lea and a ret, valid on any x86-64 CPU; a model library has no
  // constructors for dlopen to run): code built for AVX-512 dies of SIGILL
  // on a CPU without it.
  std::string unsupported = checkCpu(*abi, path);
  if (!unsupported.empty())
    return makeStatus(KILN_STATUS_UNSUPPORTED_CPU, unsupported);
  std::string problem = readTable(*abi, memory, model);
  if (!problem.empty())
    return makeStatusf(KILN_STATUS_INVALID_MODEL, "'%s' is not a valid Kiln model: %s", path,
                       problem.c_str());
  return nullptr;
}

namespace {

const TensorSig *tensorAt(const std::vector<TensorSig> &list, size_t index) {
  return index < list.size() ? &list[index] : nullptr;
}

kiln_status_t fillInfo(const kiln_model_t *model, size_t index, kiln_tensor_info *out,
                       bool input) {
  const char *fn = input ? "kiln_model_input_info" : "kiln_model_output_info";
  if (!model || !out)
    return makeStatusf(KILN_STATUS_INVALID_ARGUMENT, "%s: model and out_info must not be NULL", fn);
  const auto &list = input ? model->inputs : model->outputs;
  const TensorSig *sig = tensorAt(list, index);
  if (!sig)
    return makeStatusf(KILN_STATUS_INVALID_ARGUMENT, "%s: index %zu is out of range (the model has %zu %s)",
                       fn, index, list.size(), input ? "inputs" : "outputs");
  out->name = sig->name.c_str();
  out->dtype = sig->dtype;
  out->rank = sig->rank;
  out->dims = sig->dims.data();
  out->dim_names = sig->dimNamePtrs.data();
  return nullptr;
}

int64_t find(const std::vector<TensorSig> &list, const char *name) {
  if (!name)
    return -1;
  for (size_t i = 0; i < list.size(); ++i)
    if (list[i].name == name)
      return static_cast<int64_t>(i);
  return -1;
}

} // namespace

extern "C" {

kiln_status_t kiln_model_load(const char *path, kiln_model_t **out_model) {
  try {
    return loadModel(path, out_model);
  } catch (const std::bad_alloc &) {
    return outOfMemoryStatus();
  } catch (const std::exception &e) {
    return makeStatusf(KILN_STATUS_INTERNAL, "kiln_model_load: %s", e.what());
  }
}

void kiln_model_retain(kiln_model_t *model) {
  if (model)
    model->refs.fetch_add(1, std::memory_order_relaxed);
}

void kiln_model_release(kiln_model_t *model) {
  if (model && model->refs.fetch_sub(1, std::memory_order_acq_rel) == 1)
    delete model;
}

const char *kiln_model_producer(const kiln_model_t *model) {
  return model ? model->producer.c_str() : "";
}

size_t kiln_model_num_inputs(const kiln_model_t *model) { return model ? model->inputs.size() : 0; }
size_t kiln_model_num_outputs(const kiln_model_t *model) {
  return model ? model->outputs.size() : 0;
}

kiln_status_t kiln_model_input_info(const kiln_model_t *model, size_t index,
                                    kiln_tensor_info *out_info) {
  return fillInfo(model, index, out_info, true);
}

kiln_status_t kiln_model_output_info(const kiln_model_t *model, size_t index,
                                     kiln_tensor_info *out_info) {
  return fillInfo(model, index, out_info, false);
}

int64_t kiln_model_find_input(const kiln_model_t *model, const char *name) {
  return model ? find(model->inputs, name) : -1;
}

int64_t kiln_model_find_output(const kiln_model_t *model, const char *name) {
  return model ? find(model->outputs, name) : -1;
}

} // extern "C"
