//===- CublasLt.cpp - Load cuBLASLt and resolve its entry points ----------===//

#include "CublasLt.h"
#include "Symbols.h"

#include <cstdlib>
#include <dlfcn.h>

namespace kiln::cublaslt {
namespace {

struct Loaded {
  Library library{};
  std::string problem; // empty when loaded
};

template <typename Fn>
bool resolve(void *handle, const std::string &path, const char *name, Fn &slot,
             std::string &problem) {
  return gpu::resolveSymbol(handle, name, slot, path, "not cuBLASLt, or one older than CUDA 12",
                            problem);
}

Loaded load() {
  Loaded loaded;
  const char *chosen = std::getenv("KILN_CUBLASLT");
  const char *candidates[] = {"libcublasLt.so.13", "libcublasLt.so.12",
                              "/usr/local/cuda/lib64/libcublasLt.so.13",
                              "/usr/local/cuda/lib64/libcublasLt.so.12"};
  void *handle = nullptr;
  std::string path, errors;
  if (chosen && *chosen) {
    path = chosen;
    handle = dlopen(chosen, RTLD_NOW | RTLD_LOCAL);
  } else {
    for (const char *candidate : candidates) {
      handle = dlopen(candidate, RTLD_NOW | RTLD_LOCAL);
      path = candidate;
      if (handle)
        break;
    }
  }
  if (!handle) {
    const char *error = dlerror();
    loaded.problem = "the model's GEMMs need cuBLASLt (CUDA 12 or 13), but it cannot be "
                     "loaded (last tried " + path + ": " + (error ? error : "unknown error") +
                     "); put its folder on LD_LIBRARY_PATH or name it with KILN_CUBLASLT";
    return loaded;
  }
  Library &l = loaded.library;
  std::string &p = loaded.problem;
  (void)(resolve(handle, path, "cublasLtCreate", l.create, p) &&
         resolve(handle, path, "cublasLtDestroy", l.destroy, p) &&
         resolve(handle, path, "cublasLtGetStatusString", l.statusString, p) &&
         resolve(handle, path, "cublasLtMatmulDescCreate", l.descCreate, p) &&
         resolve(handle, path, "cublasLtMatmulDescDestroy", l.descDestroy, p) &&
         resolve(handle, path, "cublasLtMatmulDescSetAttribute", l.descSetAttribute, p) &&
         resolve(handle, path, "cublasLtMatrixLayoutCreate", l.layoutCreate, p) &&
         resolve(handle, path, "cublasLtMatrixLayoutDestroy", l.layoutDestroy, p) &&
         resolve(handle, path, "cublasLtMatrixLayoutSetAttribute", l.layoutSetAttribute, p) &&
         resolve(handle, path, "cublasLtMatmulPreferenceCreate", l.preferenceCreate, p) &&
         resolve(handle, path, "cublasLtMatmulPreferenceDestroy", l.preferenceDestroy, p) &&
         resolve(handle, path, "cublasLtMatmulPreferenceSetAttribute", l.preferenceSetAttribute,
                 p) &&
         resolve(handle, path, "cublasLtMatmulAlgoGetHeuristic", l.algoGetHeuristic, p) &&
         resolve(handle, path, "cublasLtMatmul", l.matmul, p));
  return loaded;
}

} // namespace

const Library *library(std::string &problem) {
  static const Loaded loaded = load();
  if (!loaded.problem.empty()) {
    problem = loaded.problem;
    return nullptr;
  }
  return &loaded.library;
}

std::string statusText(const Library &library, Status status) {
  const char *text = library.statusString ? library.statusString(status) : nullptr;
  return text ? text : "cuBLAS status " + std::to_string(status);
}

} // namespace kiln::cublaslt
