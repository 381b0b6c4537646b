//===- CudaDriver.cpp - Load libcuda.so.1 and resolve the driver API ------===//

#include "CudaDriver.h"
#include "Symbols.h"

#include <cstdlib>
#include <dlfcn.h>

namespace kiln::cuda {
namespace {

struct Loaded {
  Driver driver{};
  std::string problem; // empty when loaded
};

/// Resolves `name` into `slot`; false (with problem set) when missing.
template <typename Fn>
bool resolve(void *library, const char *path, const char *name, Fn &slot,
             std::string &problem) {
  return gpu::resolveSymbol(library, name, slot, std::string("the CUDA driver (") + path + ")",
                            "not a CUDA driver, or one older than CUDA 12", problem);
}

Loaded load() {
  Loaded loaded;
  // KILN_CUDA_DRIVER names another library, e.g. for tests of a missing or
  // broken driver.
  const char *path = std::getenv("KILN_CUDA_DRIVER");
  if (!path || !*path)
    path = "libcuda.so.1";
  void *library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char *error = dlerror();
    loaded.problem = std::string("no CUDA driver: cannot load ") + path + " (" +
                     (error ? error : "unknown error") +
                     "); this model was compiled with --target cuda and needs an NVIDIA GPU "
                     "with its driver";
    return loaded;
  }
  Driver &d = loaded.driver;
  std::string &p = loaded.problem;
  bool ok = resolve(library, path, "cuInit", d.cuInit, p) &&
            resolve(library, path, "cuDriverGetVersion", d.cuDriverGetVersion, p) &&
            resolve(library, path, "cuDeviceGetCount", d.cuDeviceGetCount, p) &&
            resolve(library, path, "cuDeviceGet", d.cuDeviceGet, p) &&
            resolve(library, path, "cuDeviceGetName", d.cuDeviceGetName, p) &&
            resolve(library, path, "cuDeviceGetAttribute", d.cuDeviceGetAttribute, p) &&
            resolve(library, path, "cuDevicePrimaryCtxRetain", d.cuDevicePrimaryCtxRetain, p) &&
            resolve(library, path, "cuDevicePrimaryCtxRelease_v2", d.cuDevicePrimaryCtxRelease, p) &&
            resolve(library, path, "cuCtxSetCurrent", d.cuCtxSetCurrent, p) &&
            resolve(library, path, "cuModuleLoadData", d.cuModuleLoadData, p) &&
            resolve(library, path, "cuModuleUnload", d.cuModuleUnload, p) &&
            resolve(library, path, "cuModuleGetFunction", d.cuModuleGetFunction, p) &&
            resolve(library, path, "cuLaunchKernel", d.cuLaunchKernel, p) &&
            resolve(library, path, "cuMemAlloc_v2", d.cuMemAlloc, p) &&
            resolve(library, path, "cuMemFree_v2", d.cuMemFree, p) &&
            resolve(library, path, "cuMemcpyHtoDAsync_v2", d.cuMemcpyHtoDAsync, p) &&
            resolve(library, path, "cuMemcpyDtoHAsync_v2", d.cuMemcpyDtoHAsync, p) &&
            resolve(library, path, "cuStreamCreate", d.cuStreamCreate, p) &&
            resolve(library, path, "cuStreamDestroy_v2", d.cuStreamDestroy, p) &&
            resolve(library, path, "cuStreamSynchronize", d.cuStreamSynchronize, p) &&
            resolve(library, path, "cuGetErrorName", d.cuGetErrorName, p) &&
            resolve(library, path, "cuGetErrorString", d.cuGetErrorString, p);
  if (!ok)
    return loaded; // the library stays loaded: harmless, and dlclose races
  if (CUresult error = d.cuInit(0); error != CUDA_SUCCESS)
    p = "the CUDA driver failed to initialise (cuInit: " + errorText(d, error) +
        "): no usable NVIDIA GPU";
  return loaded;
}

} // namespace

const Driver *driver(std::string &problem) {
  static const Loaded loaded = load();
  if (!loaded.problem.empty()) {
    problem = loaded.problem;
    return nullptr;
  }
  return &loaded.driver;
}

std::string errorText(const Driver &driver, CUresult error) {
  const char *name = nullptr, *text = nullptr;
  if (driver.cuGetErrorName)
    driver.cuGetErrorName(error, &name);
  if (driver.cuGetErrorString)
    driver.cuGetErrorString(error, &text);
  std::string result = name ? name : "CUDA error " + std::to_string(error);
  if (text)
    result += std::string(" (") + text + ")";
  return result;
}

} // namespace kiln::cuda
