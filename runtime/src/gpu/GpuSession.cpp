//===- GpuSession.cpp - Context, stream, kernels, weights, arena ----------===//

#include "GpuSession.h"
#include "../Internal.h"
#include "kiln/kiln_abi.h"

#include <cstring>

using namespace kiln;
using namespace kiln::cuda;

namespace {
constexpr size_t kAlignment = 256; // cudaMalloc's; every piece starts on it
constexpr size_t kGemmWorkspaceBytes = size_t(32) << 20; // cuBLASLt's, per session

size_t alignUp(size_t bytes) { return (bytes + kAlignment - 1) / kAlignment * kAlignment; }
} // namespace

kiln_status_t GpuSession::create(int arch, int precision, const void *image, uint64_t imageSize,
                                 std::unique_ptr<GpuSession> &out) {
  std::string problem;
  const Driver *d = cuda::driver(problem);
  if (!d)
    return makeStatus(KILN_STATUS_DEVICE_UNAVAILABLE, problem);
  if (!image || imageSize == 0)
    return makeStatus(KILN_STATUS_INVALID_MODEL, "the GPU model has no kernel image");
  std::unique_ptr<GpuSession> s(new GpuSession);
  s->driver = d;
  s->precision = precision;
  int count = 0;
  if (CUresult e = d->cuDeviceGetCount(&count); e != CUDA_SUCCESS || count == 0)
    return makeStatus(KILN_STATUS_DEVICE_UNAVAILABLE,
                      "the CUDA driver sees no GPU" +
                          (e != CUDA_SUCCESS ? ": " + errorText(*d, e) : std::string()));
  if (CUresult e = d->cuDeviceGet(&s->device, 0); e != CUDA_SUCCESS)
    return makeStatus(KILN_STATUS_DEVICE_UNAVAILABLE, "cuDeviceGet: " + errorText(*d, e));
  char deviceName[256] = {};
  d->cuDeviceGetName(deviceName, sizeof deviceName - 1, s->device);
  int major = 0, minor = 0;
  d->cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, s->device);
  d->cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, s->device);
  int deviceArch = major * 10 + minor;
  s->name = format("%s (sm_%d)", deviceName, deviceArch);
  if (deviceArch < arch)
    return makeStatusf(KILN_STATUS_DEVICE_UNAVAILABLE,
                       "the model was compiled for sm_%d, but GPU 0 is %s: recompile with "
                       "--target cuda:sm_%d",
                       arch, s->name.c_str(), deviceArch);
  if (CUresult e = d->cuDevicePrimaryCtxRetain(&s->context, s->device); e != CUDA_SUCCESS)
    return makeStatus(KILN_STATUS_DEVICE_UNAVAILABLE,
                      "cannot create a CUDA context on " + s->name + ": " + errorText(*d, e));
  d->cuCtxSetCurrent(s->context);
  if (CUresult e = d->cuStreamCreate(&s->stream, CU_STREAM_NON_BLOCKING); e != CUDA_SUCCESS)
    return makeStatus(KILN_STATUS_RESOURCE_EXHAUSTED,
                      "cannot create a CUDA stream: " + errorText(*d, e));
  if (CUresult e = d->cuModuleLoadData(&s->module, image); e != CUDA_SUCCESS)
    return makeStatus(KILN_STATUS_DEVICE_UNAVAILABLE,
                      "cannot load the model's kernels on " + s->name + ": " + errorText(*d, e));
  out = std::move(s);
  return nullptr;
}

GpuSession::~GpuSession() {
  if (!driver)
    return;
  if (context)
    driver->cuCtxSetCurrent(context);
  if (stream)
    driver->cuStreamSynchronize(stream);
  gemms.reset();
  if (gemmWorkspace)
    driver->cuMemFree(gemmWorkspace);
  for (auto &entry : constants)
    driver->cuMemFree(entry.second);
  for (CUdeviceptr piece : overflow)
    driver->cuMemFree(piece);
  if (block)
    driver->cuMemFree(block);
  if (module)
    driver->cuModuleUnload(module);
  if (stream)
    driver->cuStreamDestroy(stream);
  if (context)
    driver->cuDevicePrimaryCtxRelease(device);
}

bool GpuSession::check(CUresult result, const char *what) {
  if (result == CUDA_SUCCESS)
    return true;
  if (error.empty())
    error = std::string(what) + ": " + errorText(*driver, result);
  return false;
}

CUdeviceptr GpuSession::allocate(size_t bytes, const char *what) {
  CUdeviceptr pointer = 0;
  if (!check(driver->cuMemAlloc(&pointer, bytes ? bytes : 1), what))
    return 0;
  return pointer;
}

kiln_status_t GpuSession::beginRun() {
  error.clear();
  if (CUresult e = driver->cuCtxSetCurrent(context); e != CUDA_SUCCESS)
    return makeStatus(KILN_STATUS_DEVICE_UNAVAILABLE,
                      "cannot make the CUDA context current: " + errorText(*driver, e));
  // The last run needed more than the block: one block of its total now.
  if (!overflow.empty() || runTotal > capacity) {
    for (CUdeviceptr piece : overflow)
      driver->cuMemFree(piece);
    overflow.clear();
    if (block)
      driver->cuMemFree(block);
    block = 0;
    capacity = 0;
    if (runTotal > 0) {
      block = allocate(runTotal, "cannot allocate the device arena");
      if (!block)
        return makeStatus(KILN_STATUS_RESOURCE_EXHAUSTED, error);
      capacity = runTotal;
    }
  }
  used = 0;
  runTotal = 0;
  return nullptr;
}

kiln_status_t GpuSession::finishRun() {
  check(driver->cuStreamSynchronize(stream), "the GPU run failed");
  if (error.empty())
    return nullptr;
  return makeStatus(KILN_STATUS_DEVICE_UNAVAILABLE, "on " + name + ": " + error);
}

void *GpuSession::scratch(int64_t bytes) {
  size_t size = alignUp(bytes > 0 ? size_t(bytes) : 1);
  runTotal += size;
  if (used + size <= capacity) {
    CUdeviceptr piece = block + used;
    used += size;
    return reinterpret_cast<void *>(piece);
  }
  CUdeviceptr piece = allocate(size, "cannot allocate device scratch memory");
  if (piece)
    overflow.push_back(piece);
  return reinterpret_cast<void *>(piece);
}

void *GpuSession::constant(const void *host, int64_t bytes) {
  auto it = constants.find(host);
  if (it != constants.end())
    return reinterpret_cast<void *>(it->second);
  CUdeviceptr device = allocate(size_t(bytes), "cannot allocate device memory for a weight");
  if (!device)
    return nullptr;
  // Synchronous from the host's view: the weight is in .rodata, but the
  // upload must not race a later kernel (the stream orders that) or the
  // session's end.
  if (!check(driver->cuMemcpyHtoDAsync(device, host, size_t(bytes), stream),
             "uploading a weight")) {
    driver->cuMemFree(device);
    return nullptr;
  }
  constants.emplace(host, device);
  return reinterpret_cast<void *>(device);
}

void GpuSession::copy(void *dst, const void *src, int64_t bytes, int64_t kind) {
  if (!error.empty() || bytes <= 0)
    return;
  if (kind == KILN_GPU_COPY_HOST_TO_DEVICE)
    check(driver->cuMemcpyHtoDAsync(reinterpret_cast<CUdeviceptr>(dst), src, size_t(bytes),
                                    stream),
          "copying an input to the GPU");
  else if (kind == KILN_GPU_COPY_DEVICE_TO_HOST)
    check(driver->cuMemcpyDtoHAsync(dst, reinterpret_cast<CUdeviceptr>(src), size_t(bytes),
                                    stream),
          "copying an output from the GPU");
  else if (error.empty())
    error = format("the model asked for a copy of unknown kind %lld", (long long)kind);
}

void GpuSession::launch(const char *kernel, const int64_t grid[3], const int64_t block[3],
                        int64_t sharedBytes, const int64_t *params, int64_t numParams) {
  if (!error.empty())
    return;
  for (int i = 0; i < 3; ++i)
    if (grid[i] <= 0 || block[i] <= 0 || grid[i] > INT32_MAX || block[i] > 1024) {
      if (grid[i] == 0)
        return; // an empty loop: nothing to run
      error = format("kernel '%s': launch dims grid %lld x %lld x %lld, block %lld x %lld x %lld "
                     "are out of range",
                     kernel, (long long)grid[0], (long long)grid[1], (long long)grid[2],
                     (long long)block[0], (long long)block[1], (long long)block[2]);
      return;
    }
  CUfunction &function = functions[kernel];
  if (!function &&
      !check(driver->cuModuleGetFunction(&function, module, kernel),
             ("finding kernel '" + std::string(kernel) + "'").c_str())) {
    functions.erase(kernel);
    return;
  }
  // The driver reads each parameter through a pointer to its value.
  paramPointers.resize(size_t(numParams));
  for (int64_t i = 0; i < numParams; ++i)
    paramPointers[i] = const_cast<int64_t *>(params + i);
  check(driver->cuLaunchKernel(function, unsigned(grid[0]), unsigned(grid[1]), unsigned(grid[2]),
                               unsigned(block[0]), unsigned(block[1]), unsigned(block[2]),
                               unsigned(sharedBytes), stream, paramPointers.data(), nullptr),
        ("launching kernel '" + std::string(kernel) + "'").c_str());
}

void GpuSession::gemm(const kiln_gemm_desc &desc) {
  if (!error.empty())
    return;
  if (!gemms) {
    std::string problem;
    const cublaslt::Library *library = cublaslt::library(problem);
    if (!library) {
      error = problem;
      return;
    }
    cublaslt::Handle handle = nullptr;
    if (cublaslt::Status s = library->create(&handle); s != cublaslt::SUCCESS) {
      error = "cublasLtCreate: " + cublaslt::statusText(*library, s);
      return;
    }
    gemmWorkspace = allocate(kGemmWorkspaceBytes, "cannot allocate the GEMM workspace");
    if (!gemmWorkspace) {
      library->destroy(handle);
      return;
    }
    gemms = std::make_unique<GpuGemm>(*library, handle, reinterpret_cast<void *>(gemmWorkspace),
                                      kGemmWorkspaceBytes, precision);
  }
  std::string problem = gemms->run(desc, reinterpret_cast<cublaslt::Stream>(stream));
  if (!problem.empty())
    error = problem;
}
