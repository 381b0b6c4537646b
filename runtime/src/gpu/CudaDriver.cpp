//===- CudaDriver.cpp - Load libcuda.so.1 and resolve the driver API ------===//

#include "CudaDriver.h"
#include "Symbols.h"

#include <cstdlib>
#include <dlfcn.h>

namespace kiln::cuda {

std::vector<gpu::SymbolSlot> requiredEntryPoints(Driver &d) {
  return {gpu::symbol("cuInit", d.cuInit),
          gpu::symbol("cuDriverGetVersion", d.cuDriverGetVersion),
          gpu::symbol("cuDeviceGetCount", d.cuDeviceGetCount),
          gpu::symbol("cuDeviceGet", d.cuDeviceGet),
          gpu::symbol("cuDeviceGetName", d.cuDeviceGetName),
          gpu::symbol("cuDeviceGetAttribute", d.cuDeviceGetAttribute),
          gpu::symbol("cuDevicePrimaryCtxRetain", d.cuDevicePrimaryCtxRetain),
          gpu::symbol("cuDevicePrimaryCtxRelease_v2", d.cuDevicePrimaryCtxRelease),
          gpu::symbol("cuCtxSetCurrent", d.cuCtxSetCurrent),
          gpu::symbol("cuModuleLoadData", d.cuModuleLoadData),
          gpu::symbol("cuModuleUnload", d.cuModuleUnload),
          gpu::symbol("cuModuleGetFunction", d.cuModuleGetFunction),
          gpu::symbol("cuLaunchKernel", d.cuLaunchKernel),
          gpu::symbol("cuMemAlloc_v2", d.cuMemAlloc),
          gpu::symbol("cuMemFree_v2", d.cuMemFree),
          gpu::symbol("cuMemcpyHtoDAsync_v2", d.cuMemcpyHtoDAsync),
          gpu::symbol("cuMemcpyDtoHAsync_v2", d.cuMemcpyDtoHAsync),
          gpu::symbol("cuStreamCreate", d.cuStreamCreate),
          gpu::symbol("cuStreamDestroy_v2", d.cuStreamDestroy),
          gpu::symbol("cuStreamSynchronize", d.cuStreamSynchronize),
          gpu::symbol("cuGetErrorName", d.cuGetErrorName),
          gpu::symbol("cuGetErrorString", d.cuGetErrorString),
          gpu::symbol("cuMemAllocHost_v2", d.cuMemAllocHost),
          gpu::symbol("cuMemFreeHost", d.cuMemFreeHost),
          gpu::symbol("cuMemcpyDtoDAsync_v2", d.cuMemcpyDtoDAsync),
          gpu::symbol("cuMemcpyHtoD_v2", d.cuMemcpyHtoD),
          gpu::symbol("cuMemcpyDtoH_v2", d.cuMemcpyDtoH),
          gpu::symbol("cuPointerGetAttribute", d.cuPointerGetAttribute),
          gpu::symbol("cuEventCreate", d.cuEventCreate),
          gpu::symbol("cuEventDestroy_v2", d.cuEventDestroy),
          gpu::symbol("cuEventRecord", d.cuEventRecord),
          gpu::symbol("cuStreamWaitEvent", d.cuStreamWaitEvent)};
}

std::vector<gpu::SymbolSlot> graphEntryPoints(Driver &d) {
  return {gpu::symbol("cuStreamBeginCapture_v2", d.cuStreamBeginCapture),
          gpu::symbol("cuStreamEndCapture", d.cuStreamEndCapture),
          gpu::symbol("cuGraphInstantiateWithFlags", d.cuGraphInstantiateWithFlags),
          gpu::symbol("cuGraphLaunch", d.cuGraphLaunch),
          gpu::symbol("cuGraphExecDestroy", d.cuGraphExecDestroy),
          gpu::symbol("cuGraphDestroy", d.cuGraphDestroy)};
}

namespace {

struct Loaded {
  Driver driver{};
  std::string problem; // empty when loaded
};

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
  bool ok = gpu::resolveSymbols(library, requiredEntryPoints(d),
                                std::string("the CUDA driver (") + path + ")",
                                "not a CUDA driver, or one older than CUDA 12", p);
  if (!ok)
    return loaded; // the library stays loaded: harmless, and dlclose races
  // Optional: without them runs go call by call (hasGraphs is false).
  std::string noGraphs;
  d.graphApi = gpu::resolveSymbols(library, graphEntryPoints(d), "", "", noGraphs);
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
