//===- CudaDriver.h - The CUDA driver API, loaded at run time ---*- C++ -*-===//
//
// The runtime links nothing of CUDA: libcuda.so.1 is dlopen()ed the first
// time a GPU model's session is created, so the runtime loads, and CPU
// models run, on machines without a GPU. Only the few driver entry points
// the runtime uses are declared here, with the driver's own ABI (cuda.h,
// CUDA 12/13: the _v2 names are the current ones).
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_GPU_CUDADRIVER_H
#define KILN_RUNTIME_GPU_CUDADRIVER_H

#include "Symbols.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace kiln::cuda {

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st *;
using CUmodule = struct CUmod_st *;
using CUfunction = struct CUfunc_st *;
using CUstream = struct CUstream_st *;
using CUgraph = struct CUgraph_st *;
using CUgraphExec = struct CUgraphExec_st *;
using CUevent = struct CUevent_st *;

constexpr CUresult CUDA_SUCCESS = 0;
// CUdevice_attribute values (cuda.h).
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
constexpr unsigned CU_STREAM_NON_BLOCKING = 1;
// The legacy default stream (cuda.h's CU_STREAM_LEGACY): what PyTorch and
// CuPy queue work on unless told otherwise.
inline CUstream legacyStream() { return reinterpret_cast<CUstream>(uintptr_t(1)); }
constexpr unsigned CU_EVENT_DISABLE_TIMING = 2;
// CUpointer_attribute and CUmemorytype values (cuda.h).
constexpr int CU_POINTER_ATTRIBUTE_MEMORY_TYPE = 2;
constexpr unsigned CU_MEMORYTYPE_DEVICE = 2;
// CUstreamCaptureMode: only this thread's unsafe calls invalidate a capture.
constexpr int CU_STREAM_CAPTURE_MODE_THREAD_LOCAL = 1;

/// The driver entry points, resolved once per process.
struct Driver {
  CUresult (*cuInit)(unsigned flags);
  CUresult (*cuDriverGetVersion)(int *version);
  CUresult (*cuDeviceGetCount)(int *count);
  CUresult (*cuDeviceGet)(CUdevice *device, int ordinal);
  CUresult (*cuDeviceGetName)(char *name, int length, CUdevice device);
  CUresult (*cuDeviceGetAttribute)(int *value, int attribute, CUdevice device);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *context, CUdevice device);
  CUresult (*cuDevicePrimaryCtxRelease)(CUdevice device);
  CUresult (*cuCtxSetCurrent)(CUcontext context);
  CUresult (*cuModuleLoadData)(CUmodule *module, const void *image);
  CUresult (*cuModuleUnload)(CUmodule module);
  CUresult (*cuModuleGetFunction)(CUfunction *function, CUmodule module, const char *name);
  CUresult (*cuLaunchKernel)(CUfunction function, unsigned gridX, unsigned gridY, unsigned gridZ,
                             unsigned blockX, unsigned blockY, unsigned blockZ,
                             unsigned sharedBytes, CUstream stream, void **params, void **extra);
  CUresult (*cuMemAlloc)(CUdeviceptr *pointer, size_t bytes);
  CUresult (*cuMemFree)(CUdeviceptr pointer);
  CUresult (*cuMemcpyHtoDAsync)(CUdeviceptr dst, const void *src, size_t bytes, CUstream stream);
  CUresult (*cuMemcpyDtoHAsync)(void *dst, CUdeviceptr src, size_t bytes, CUstream stream);
  CUresult (*cuStreamCreate)(CUstream *stream, unsigned flags);
  CUresult (*cuStreamDestroy)(CUstream stream);
  CUresult (*cuStreamSynchronize)(CUstream stream);
  CUresult (*cuGetErrorName)(CUresult error, const char **name);
  CUresult (*cuGetErrorString)(CUresult error, const char **text);
  CUresult (*cuMemAllocHost)(void **pointer, size_t bytes); // page-locked host memory
  CUresult (*cuMemFreeHost)(void *pointer);
  CUresult (*cuMemcpyDtoDAsync)(CUdeviceptr dst, CUdeviceptr src, size_t bytes, CUstream stream);
  CUresult (*cuMemcpyHtoD)(CUdeviceptr dst, const void *src, size_t bytes);
  CUresult (*cuMemcpyDtoH)(void *dst, CUdeviceptr src, size_t bytes);
  CUresult (*cuPointerGetAttribute)(void *data, int attribute, CUdeviceptr pointer);
  CUresult (*cuEventCreate)(CUevent *event, unsigned flags);
  CUresult (*cuEventDestroy)(CUevent event);
  CUresult (*cuEventRecord)(CUevent event, CUstream stream);
  CUresult (*cuStreamWaitEvent)(CUstream stream, CUevent event, unsigned flags);

  // CUDA graphs (stream capture): optional, a session runs its work
  // launch by launch without them. Usable only when graphApi is set.
  CUresult (*cuStreamBeginCapture)(CUstream stream, int mode);
  CUresult (*cuStreamEndCapture)(CUstream stream, CUgraph *graph);
  CUresult (*cuGraphInstantiateWithFlags)(CUgraphExec *exec, CUgraph graph,
                                          unsigned long long flags);
  CUresult (*cuGraphLaunch)(CUgraphExec exec, CUstream stream);
  CUresult (*cuGraphExecDestroy)(CUgraphExec exec);
  CUresult (*cuGraphDestroy)(CUgraph graph);
  bool graphApi = false; // every graph entry point above was found
  bool hasGraphs() const { return graphApi; }
};

/// The entry points `d` is filled from and the names they are looked up
/// by (cuda.h's, with their version suffixes): those every driver must
/// have, and the graph API's (optional).
std::vector<gpu::SymbolSlot> requiredEntryPoints(Driver &d);
std::vector<gpu::SymbolSlot> graphEntryPoints(Driver &d);

/// The driver, loaded and initialised on first use; null with `problem`
/// set when there is none (no libcuda.so.1, a missing entry point, or
/// cuInit failing: no GPU, or a driver too old).
const Driver *driver(std::string &problem);

/// "CUDA_ERROR_OUT_OF_MEMORY (out of memory)" for an error code.
std::string errorText(const Driver &driver, CUresult error);

} // namespace kiln::cuda

#endif // KILN_RUNTIME_GPU_CUDADRIVER_H
