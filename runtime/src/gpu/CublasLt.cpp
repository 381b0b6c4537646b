//===- CublasLt.cpp - Load cuBLASLt and resolve its entry points ----------===//

#include "CublasLt.h"
#include "Symbols.h"

#include <cstdlib>
#include <dlfcn.h>

namespace kiln::cublaslt {

std::vector<gpu::SymbolSlot> entryPoints(Library &l) {
  return {gpu::symbol("cublasLtCreate", l.create), gpu::symbol("cublasLtDestroy", l.destroy),
          gpu::symbol("cublasLtGetStatusString", l.statusString),
          gpu::symbol("cublasLtMatmulDescCreate", l.descCreate),
          gpu::symbol("cublasLtMatmulDescDestroy", l.descDestroy),
          gpu::symbol("cublasLtMatmulDescSetAttribute", l.descSetAttribute),
          gpu::symbol("cublasLtMatrixLayoutCreate", l.layoutCreate),
          gpu::symbol("cublasLtMatrixLayoutDestroy", l.layoutDestroy),
          gpu::symbol("cublasLtMatrixLayoutSetAttribute", l.layoutSetAttribute),
          gpu::symbol("cublasLtMatmulPreferenceCreate", l.preferenceCreate),
          gpu::symbol("cublasLtMatmulPreferenceDestroy", l.preferenceDestroy),
          gpu::symbol("cublasLtMatmulPreferenceSetAttribute", l.preferenceSetAttribute),
          gpu::symbol("cublasLtMatmulAlgoGetHeuristic", l.algoGetHeuristic),
          gpu::symbol("cublasLtMatmul", l.matmul)};
}

namespace {

struct Loaded {
  Library library{};
  std::string problem; // empty when loaded
};

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
                     "loaded (last tried " +
                     path + ": " + (error ? error : "unknown error") +
                     "); put its folder on LD_LIBRARY_PATH or name it with KILN_CUBLASLT";
    return loaded;
  }
  Library &l = loaded.library;
  std::string &p = loaded.problem;
  gpu::resolveSymbols(handle, entryPoints(l), path, "not cuBLASLt, or one older than CUDA 12",
                      p);
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
