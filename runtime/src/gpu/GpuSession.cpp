//===- GpuSession.cpp - Context, stream, kernels, weights, arena ----------===//

#include "GpuSession.h"
#include "../Internal.h"
#include "kiln/kiln_abi.h"
#include "kiln/kiln_gpu_emulation.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

using namespace kiln;
using namespace kiln::cuda;

namespace {
constexpr size_t kAlignment = 256; // cudaMalloc's; every piece starts on it
constexpr size_t kGemmWorkspaceBytes = size_t(32) << 20; // cuBLASLt's, per session

size_t alignUp(size_t bytes) { return (bytes + kAlignment - 1) / kAlignment * kAlignment; }
} // namespace

kiln_status_t GpuSession::create(int arch, int precision, const void *image, uint64_t imageSize,
                                 void *callerStream, std::unique_ptr<GpuSession> &out) {
  std::string problem;
  const Driver *d = cuda::driver(problem);
  if (!d)
    return makeStatus(KILN_STATUS_DEVICE_UNAVAILABLE, problem);
  if ((image == nullptr) != (imageSize == 0)) // no kernels: both absent
    return makeStatus(KILN_STATUS_INVALID_MODEL, "the GPU model's kernel image is malformed");
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
  // A stream of our own does not wait for the legacy default stream's work
  // (non-blocking) and is never waited for by it: runs are synchronous.
  s->ownsStream = callerStream == nullptr;
  if (!s->ownsStream)
    s->stream = static_cast<CUstream>(callerStream);
  else if (CUresult e = d->cuStreamCreate(&s->stream, CU_STREAM_NON_BLOCKING); e != CUDA_SUCCESS)
    return makeStatus(KILN_STATUS_RESOURCE_EXHAUSTED,
                      "cannot create a CUDA stream: " + errorText(*d, e));
  // No image: the model launches no kernel (cuBLASLt GEMMs and copies).
  if (CUresult e = image ? d->cuModuleLoadData(&s->module, image) : CUDA_SUCCESS;
      e != CUDA_SUCCESS) {
    // A model compiled with --gpu-emulation has CPU code for kernels.
    if (imageSize >= KILN_GPU_EMULATION_MAGIC_SIZE &&
        std::memcmp(image, KILN_GPU_EMULATION_MAGIC, KILN_GPU_EMULATION_MAGIC_SIZE) == 0)
      return makeStatus(KILN_STATUS_DEVICE_UNAVAILABLE,
                        "this model was compiled with --gpu-emulation: its kernels are CPU code "
                        "that only Kiln's test CUDA driver runs, and loading them on " +
                            s->name + " failed (" + errorText(*d, e) +
                            "); for a GPU, compile without --gpu-emulation");
    return makeStatus(KILN_STATUS_DEVICE_UNAVAILABLE,
                      "cannot load the model's kernels on " + s->name + ": " + errorText(*d, e));
  }
  const char *verbose = std::getenv("KILN_GPU_VERBOSE");
  s->verbose = verbose && *verbose && std::strcmp(verbose, "0") != 0;
  const char *graphsSetting = std::getenv("KILN_GPU_GRAPHS");
  if (!d->hasGraphs())
    s->noGraphs = "the CUDA driver has no graph API";
  else if (graphsSetting && std::strcmp(graphsSetting, "0") == 0)
    s->noGraphs = "KILN_GPU_GRAPHS=0";
  out = std::move(s);
  return nullptr;
}

GpuSession::~GpuSession() {
  if (!driver)
    return;
  if (context)
    driver->cuCtxSetCurrent(context);
  if (stream && ownsStream)
    driver->cuStreamSynchronize(stream);
  dropGraph();
  if (otherWork)
    driver->cuEventDestroy(otherWork);
  for (Staging &buffer : stagings)
    freeStaging(buffer);
  if (checkFlags)
    driver->cuMemFreeHost(checkFlags);
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
  if (stream && ownsStream)
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
  log.clear();
  failed = nullptr;
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
  // Device inputs may still be being written by work the caller queued
  // (a PyTorch tensor just computed), and outputs read: the run's first
  // call on the stream (an input's copy) waits for it. An error here is
  // the run's (finishRun).
  if (deviceIo && ownsStream)
    if (std::string problem = waitFor(legacyStream()); !problem.empty())
      error = problem;
  return nullptr;
}

std::string GpuSession::waitFor(CUstream other) {
  if (other == stream)
    return "";
  if (CUresult e = driver->cuCtxSetCurrent(context); e != CUDA_SUCCESS)
    return "cuCtxSetCurrent: " + errorText(*driver, e);
  if (!otherWork)
    if (CUresult e = driver->cuEventCreate(&otherWork, CU_EVENT_DISABLE_TIMING);
        e != CUDA_SUCCESS)
      return "creating the event that orders runs after the caller's work: " +
             errorText(*driver, e);
  if (CUresult e = driver->cuEventRecord(otherWork, other); e != CUDA_SUCCESS)
    return "recording the caller's work on its stream: " + errorText(*driver, e);
  if (CUresult e = driver->cuStreamWaitEvent(stream, otherWork, 0); e != CUDA_SUCCESS)
    return "ordering the session's stream after the caller's: " + errorText(*driver, e);
  return "";
}

kiln_status_t GpuSession::finishRun() {
  if (error.empty() && !launchAsGraph())
    if (std::string problem = issue(log); !problem.empty())
      error = problem;
  check(driver->cuStreamSynchronize(stream), "the GPU run failed");
  if (error.empty())
    for (const gpu::LoggedCall &call : log.calls) {
      if (call.kind == gpu::LoggedCall::Kind::CopyOut && !deviceIo)
        std::memcpy(call.hostDestination, stagings[call.staging].pointer, call.bytes);
      if (call.kind == gpu::LoggedCall::Kind::Check && !failed && checkFlags[call.staging])
        failed = call.message;
    }
  // A failed run's log may stop short: it is no run to repeat.
  std::swap(previous, log);
  if (!error.empty())
    previous.clear();
  if (error.empty())
    return nullptr;
  return makeStatus(KILN_STATUS_DEVICE_UNAVAILABLE, "on " + name + ": " + error);
}

std::string GpuSession::issue(const gpu::RunLog &run) {
  using Kind = gpu::LoggedCall::Kind;
  for (const gpu::LoggedCall &call : run.calls) {
    if (call.kind == Kind::Gemm) {
      std::string problem =
          gemms->run(run.gemmOf(call), reinterpret_cast<cublaslt::Stream>(stream));
      if (!problem.empty())
        return problem;
      continue;
    }
    if (call.kind == Kind::Check) {
      if (CUresult e = driver->cuMemcpyDtoHAsync(checkFlags + call.staging, call.device, 1, stream);
          e != CUDA_SUCCESS)
        return "copying a run-time check's flag from the GPU: " + errorText(*driver, e);
      continue;
    }
    CUresult result;
    void *buffer = call.kind == Kind::Launch ? nullptr : stagings[call.staging].pointer;
    auto device = reinterpret_cast<CUdeviceptr>(buffer);
    if (call.kind == Kind::Launch) {
      // The driver reads each parameter through a pointer to its value.
      paramPointers.resize(call.numWords);
      for (size_t i = 0; i < call.numWords; ++i)
        paramPointers[i] = const_cast<int64_t *>(&run.words[call.firstWord + i]);
      result = driver->cuLaunchKernel(
          call.function, unsigned(call.grid[0]), unsigned(call.grid[1]), unsigned(call.grid[2]),
          unsigned(call.block[0]), unsigned(call.block[1]), unsigned(call.block[2]),
          unsigned(call.sharedBytes), stream, paramPointers.data(), nullptr);
    } else if (call.kind == Kind::CopyIn) {
      result = deviceIo ? driver->cuMemcpyDtoDAsync(call.device, device, call.bytes, stream)
                        : driver->cuMemcpyHtoDAsync(call.device, buffer, call.bytes, stream);
    } else {
      result = deviceIo ? driver->cuMemcpyDtoDAsync(device, call.device, call.bytes, stream)
                        : driver->cuMemcpyDtoHAsync(buffer, call.device, call.bytes, stream);
    }
    if (result == CUDA_SUCCESS)
      continue;
    std::string text = errorText(*driver, result);
    if (call.kind == Kind::Launch)
      return format("launching kernel '%s': %s", call.kernel, text.c_str());
    return format("copying an %s the GPU: %s",
                  call.kind == Kind::CopyIn ? "input to" : "output from", text.c_str());
  }
  return "";
}

bool GpuSession::launchAsGraph() {
  if (!usesGraphs() || log.empty())
    return false;
  if (graphExec && !log.sameWorkAs(graphWork))
    dropGraph();
  // A graph is captured only for work done twice in a row: the first run
  // of a shape uploads weights and makes GEMM plans, which no graph holds.
  if (!graphExec && (!log.sameWorkAs(previous) || !capture()))
    return false;
  // Launched, or the launch failed the run: either way the run is done with.
  check(driver->cuGraphLaunch(graphExec, stream), "launching the run's CUDA graph");
  return true;
}

bool GpuSession::capture() {
  // On failure graphs stay off for the session; the run goes call by call.
  const char *step = "cuStreamBeginCapture";
  std::string problem;
  CUresult e = driver->cuStreamBeginCapture(stream, CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
  if (e == CUDA_SUCCESS) {
    problem = issue(log);
    step = "cuStreamEndCapture";
    e = driver->cuStreamEndCapture(stream, &graph);
  }
  if (e == CUDA_SUCCESS && problem.empty()) {
    step = "cuGraphInstantiateWithFlags";
    e = driver->cuGraphInstantiateWithFlags(&graphExec, graph, 0);
    if (e == CUDA_SUCCESS) {
      graphWork = log;
      if (verbose)
        std::fprintf(stderr, "kiln: %s: the run's %zu calls captured as a CUDA graph\n",
                     name.c_str(), log.calls.size());
      return true;
    }
    graphExec = nullptr;
  }
  noGraphs = problem.empty() ? format("%s: %s", step, errorText(*driver, e).c_str())
                             : "capturing the run: " + problem;
  if (verbose)
    std::fprintf(stderr, "kiln: %s: no CUDA graphs for this session: %s\n", name.c_str(),
                 noGraphs.c_str());
  dropGraph();
  return false;
}

void GpuSession::dropGraph() {
  if (graphExec)
    driver->cuGraphExecDestroy(graphExec);
  if (graph)
    driver->cuGraphDestroy(graph);
  graphExec = nullptr;
  graph = nullptr;
  graphWork.clear();
}

void *GpuSession::staging(size_t index, size_t bytes) {
  if (index >= stagings.size())
    stagings.resize(index + 1);
  Staging &buffer = stagings[index];
  if (buffer.bytes >= bytes)
    return buffer.pointer;
  // A graph names the old buffer: it goes too. (No run is in flight:
  // finishRun waited for the stream.)
  dropGraph();
  freeStaging(buffer);
  void *pointer = nullptr;
  if (deviceIo) {
    CUdeviceptr device = allocate(bytes, "cannot allocate device memory for a copy");
    pointer = reinterpret_cast<void *>(device);
  } else {
    check(driver->cuMemAllocHost(&pointer, bytes), "cannot allocate page-locked host memory");
  }
  if (pointer)
    buffer = {pointer, bytes};
  return pointer;
}

void GpuSession::freeStaging(Staging &buffer) {
  if (buffer.pointer && deviceIo)
    driver->cuMemFree(reinterpret_cast<CUdeviceptr>(buffer.pointer));
  else if (buffer.pointer)
    driver->cuMemFreeHost(buffer.pointer);
  buffer = Staging();
}

bool GpuSession::isDeviceMemory(const void *pointer) const {
  // The caller's thread may have no current context yet (its first run).
  driver->cuCtxSetCurrent(context);
  unsigned type = 0;
  return driver->cuPointerGetAttribute(&type, CU_POINTER_ATTRIBUTE_MEMORY_TYPE,
                                       reinterpret_cast<CUdeviceptr>(pointer)) ==
             CUDA_SUCCESS &&
         type == CU_MEMORYTYPE_DEVICE;
}

std::string GpuSession::copyOutput(void *destination, const void *modelBuffer, size_t bytes) {
  // The last run's log: finishRun kept it as `previous`.
  for (const gpu::LoggedCall &call : previous.calls)
    if (call.kind == gpu::LoggedCall::Kind::CopyOut && call.hostDestination == modelBuffer) {
      if (call.bytes < bytes)
        break;
      CUresult e = driver->cuMemcpyDtoDAsync(
          reinterpret_cast<CUdeviceptr>(destination),
          reinterpret_cast<CUdeviceptr>(stagings[call.staging].pointer), bytes, stream);
      if (e != CUDA_SUCCESS)
        return "copying an output on the GPU: " + errorText(*driver, e);
      return "";
    }
  return "the run made no device copy of this output";
}

std::string GpuSession::synchronize() {
  CUresult e = driver->cuStreamSynchronize(stream);
  return e == CUDA_SUCCESS ? "" : "the GPU run failed: " + errorText(*driver, e);
}

kiln_status_t GpuSession::deviceAlloc(size_t bytes, void **out) {
  *out = nullptr;
  if (CUresult e = driver->cuCtxSetCurrent(context); e != CUDA_SUCCESS)
    return makeStatus(KILN_STATUS_DEVICE_UNAVAILABLE, "cuCtxSetCurrent: " + errorText(*driver, e));
  CUdeviceptr pointer = 0;
  if (CUresult e = driver->cuMemAlloc(&pointer, bytes ? bytes : 1); e != CUDA_SUCCESS)
    return makeStatusf(KILN_STATUS_RESOURCE_EXHAUSTED, "cannot allocate %zu bytes on %s: %s",
                       bytes, name.c_str(), errorText(*driver, e).c_str());
  *out = reinterpret_cast<void *>(pointer);
  return nullptr;
}

void GpuSession::deviceFree(void *pointer) {
  if (!pointer)
    return;
  driver->cuCtxSetCurrent(context);
  driver->cuMemFree(reinterpret_cast<CUdeviceptr>(pointer));
}

kiln_status_t GpuSession::deviceCopy(void *dst, const void *src, size_t bytes, int kind) {
  if (CUresult e = driver->cuCtxSetCurrent(context); e != CUDA_SUCCESS)
    return makeStatus(KILN_STATUS_DEVICE_UNAVAILABLE, "cuCtxSetCurrent: " + errorText(*driver, e));
  CUresult e = kind == KILN_GPU_COPY_HOST_TO_DEVICE
                   ? driver->cuMemcpyHtoD(reinterpret_cast<CUdeviceptr>(dst), src, bytes)
                   : driver->cuMemcpyDtoH(dst, reinterpret_cast<CUdeviceptr>(src), bytes);
  // From pageable memory cuMemcpyHtoD returns once the data is staged, with
  // the DMA still on the legacy stream, which the session's non-blocking
  // stream does not wait for: a run right after could read the old data.
  // (The legacy stream, not the session's, so that the copy still follows
  // work the caller queued there.)
  if (e == CUDA_SUCCESS && kind == KILN_GPU_COPY_HOST_TO_DEVICE)
    e = driver->cuStreamSynchronize(legacyStream());
  if (e != CUDA_SUCCESS)
    return makeStatus(KILN_STATUS_DEVICE_UNAVAILABLE,
                      "copying to or from " + name + ": " + errorText(*driver, e));
  return nullptr;
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
  if (kind != KILN_GPU_COPY_HOST_TO_DEVICE && kind != KILN_GPU_COPY_DEVICE_TO_HOST) {
    error = format("the model asked for a copy of unknown kind %lld", (long long)kind);
    return;
  }
  void *buffer = staging(log.nextStaging(), size_t(bytes));
  if (!buffer)
    return;
  if (kind == KILN_GPU_COPY_HOST_TO_DEVICE) {
    // The input's bytes as they are now: the caller may reuse its buffer.
    // (With device I/O the copy is on the stream, ahead of the run's work.)
    if (deviceIo)
      check(driver->cuMemcpyDtoDAsync(reinterpret_cast<CUdeviceptr>(buffer),
                                      reinterpret_cast<CUdeviceptr>(src), size_t(bytes), stream),
            "copying an input on the GPU");
    else
      std::memcpy(buffer, src, size_t(bytes));
    log.addCopyIn(reinterpret_cast<CUdeviceptr>(dst), size_t(bytes));
  } else {
    log.addCopyOut(dst, reinterpret_cast<CUdeviceptr>(src), size_t(bytes));
  }
}

void GpuSession::deviceCheck(const void *flag, const char *message) {
  if (!error.empty())
    return;
  if (log.numChecks() >= checkCapacity) {
    // A graph names the old flags: it goes too. Nothing of this run is
    // issued yet, and the last run's flags were read.
    dropGraph();
    size_t capacity = std::max<size_t>(64, 2 * checkCapacity);
    void *grown = nullptr;
    if (!check(driver->cuMemAllocHost(&grown, capacity),
               "cannot allocate page-locked host memory for run-time checks"))
      return;
    if (checkFlags)
      driver->cuMemFreeHost(checkFlags);
    checkFlags = static_cast<uint8_t *>(grown);
    checkCapacity = capacity;
  }
  log.addCheck(reinterpret_cast<CUdeviceptr>(flag), message ? message : "a run-time check failed");
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
  log.addLaunch(kernel, function, grid, block, sharedBytes, params, numParams);
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
  log.addGemm(desc);
}
