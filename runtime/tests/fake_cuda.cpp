//===- fake_cuda.cpp - A CUDA driver that runs on the CPU, for tests ------===//
//
// libkiln_fake_cuda.so exports the driver entry points the runtime's GPU
// layer loads (runtime/src/gpu/CudaDriver.cpp), so that GpuSession runs on
// machines without a GPU when KILN_CUDA_DRIVER names this library:
//
//  * device memory is host memory; "page-locked" memory is host memory the
//    fake remembers, so it can tell it from pageable memory;
//  * a module's kernels are the host functions below, found by name; a
//    launch calls one with its parameter words. A model compiled with
//    `kiln compile --target cuda --gpu-emulation` brings its own kernels,
//    compiled for the CPU (kiln/kiln_gpu_emulation.h): they run thread by
//    thread (fake_cuda_emulator.cpp), which tests the GPU path's numerics;
//  * work on a stream runs at once, except while the stream is being
//    captured: then it is recorded into the graph, and a graph launch runs
//    the recording. As with the real driver, a capture is invalidated by a
//    copy from or to pageable host memory (its address would be baked into
//    the graph while the caller's buffer changes);
//  * except work on the legacy default stream: what a test queues there
//    (fake_cuda_queue_on_legacy_stream, as a framework computing an input
//    would), and the DMA of a synchronous copy from pageable memory to the
//    device, which the real driver may still be doing when the call
//    returns: it runs only when something waits for that stream (an event
//    recorded on it and waited for, a synchronous copy, synchronizing it).
//
// The same library is a fake cuBLASLt (fake_cublaslt.cpp; KILN_CUBLASLT
// names it), whose GEMMs are work on this stream.
//
// fake_cuda_state() exposes counters and lets a test make the next call of
// an entry point fail.
//
//===----------------------------------------------------------------------===//

#include "fake_cuda_emulator.h"
#include "fake_cuda_stream.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace {

using CUresult = int;
constexpr CUresult kSuccess = 0, kInvalidValue = 1, kInvalidImage = 200, kNotFound = 500,
                   kLaunchFailed = 719, kCaptureInvalidated = 901, kUnknown = 999;

struct Graph {
  std::vector<std::function<void()>> work;
};

using Kernel = void (*)(const int64_t *params);

// out[i] = 2 * in[i] + 1: params in, out, n.
void twiceAndOne(const int64_t *p) {
  auto *in = reinterpret_cast<const float *>(p[0]);
  auto *out = reinterpret_cast<float *>(p[1]);
  for (int64_t i = 0; i < p[2]; ++i)
    out[i] = 2 * in[i] + 1;
}

// out[i] = a[i] + b[i]: params a, b, out, n.
void sum(const int64_t *p) {
  auto *a = reinterpret_cast<const float *>(p[0]);
  auto *b = reinterpret_cast<const float *>(p[1]);
  auto *out = reinterpret_cast<float *>(p[2]);
  for (int64_t i = 0; i < p[3]; ++i)
    out[i] = a[i] + b[i];
}

// flag[0] = any(x[i] < 0): params x, flag (one byte), n. A run-time
// check's reduction, as a kernel computes it.
void anyNegative(const int64_t *p) {
  auto *x = reinterpret_cast<const float *>(p[0]);
  auto *flag = reinterpret_cast<uint8_t *>(p[1]);
  uint8_t any = 0;
  for (int64_t i = 0; i < p[2]; ++i)
    any |= x[i] < 0;
  *flag = any;
}

struct KernelEntry {
  const char *name;
  Kernel run;
  int numParams;
};
const KernelEntry kKernels[] = {
    {"twice_and_one", twiceAndOne, 3}, {"sum", sum, 4}, {"any_negative", anyNegative, 3}};
// With FAKE_CUDA_ANY_KERNEL set, any other name is a kernel that does
// nothing: a compiled model's host code then runs through (its launches,
// copies and graphs), computing nothing (device memory starts zeroed, so
// that run-time checks computed on the device pass).
void nothing(const int64_t *) {}
const KernelEntry kAnyKernel = {"(any)", nothing, 0};

} // namespace

extern "C" {

/// What a test reads and sets.
struct FakeCudaState {
  int kernelsRun;          // kernels executed (at once or by a graph)
  int launchesCaptured;    // kernel launches recorded into a graph
  int captures;            // cuStreamEndCapture calls that returned a graph
  int graphsInstantiated;
  int graphLaunches;
  int pageableCopiesCaptured; // copies that invalidated a capture
  const char *failNext;    // the next call of this entry point fails (then cleared)
  int streamsCreated;
  int legacyWaits;         // cuStreamWaitEvent on an event recorded on the legacy stream
  void *lastStream;        // the stream of the last launch, async copy, graph launch or sync
};

__attribute__((visibility("default"))) FakeCudaState *fake_cuda_state();
/// Queues `work(argument)` on the legacy default stream: it runs when that
/// stream is next waited for.
__attribute__((visibility("default"))) void
fake_cuda_queue_on_legacy_stream(void (*work)(void *), void *argument);

}

namespace {

FakeCudaState state;
bool capturing = false;
bool captureInvalid = false;
Graph *captured = nullptr;
std::map<uintptr_t, size_t> pinnedBlocks; // cuMemAllocHost'd: start -> bytes
std::map<uintptr_t, size_t> deviceBlocks; // cuMemAlloc'd: start -> bytes
std::set<void *> emulatedModules;
std::set<const void *> emulatedKernels;
std::string moduleLoadError;
// What went wrong in an emulated kernel: as a failed launch on a GPU, it
// stays, and every later synchronization reports it.
std::string launchError;
// Work queued on the legacy default stream, not yet waited for.
std::vector<std::function<void()>> legacyPending;
// An event recorded on the legacy stream: how much of legacyPending it
// follows (the work queued before it).
std::map<void *, size_t> legacyEvents;
void *const kLegacyStream = reinterpret_cast<void *>(uintptr_t(1));

/// Runs the first `count` pieces of the legacy stream's pending work (all of
/// it by default): something waited for them.
void runLegacyWork(size_t count = SIZE_MAX) {
  count = std::min(count, legacyPending.size());
  std::vector<std::function<void()>> due(legacyPending.begin(), legacyPending.begin() + long(count));
  legacyPending.erase(legacyPending.begin(), legacyPending.begin() + long(count));
  for (auto &[event, mark] : legacyEvents)
    mark -= std::min(mark, count);
  for (auto &work : due)
    work();
}

/// Whether `pointer` is inside one of `blocks` (start -> bytes).
bool inBlock(const std::map<uintptr_t, size_t> &blocks, const void *pointer) {
  auto address = reinterpret_cast<uintptr_t>(pointer);
  auto block = blocks.upper_bound(address);
  if (block == blocks.begin())
    return false;
  --block;
  return address < block->first + block->second;
}

bool isDevice(const void *pointer) { return inBlock(deviceBlocks, pointer); }

bool failing(const char *entry) {
  if (state.failNext && std::strcmp(state.failNext, entry) == 0) {
    state.failNext = nullptr;
    return true;
  }
  return false;
}

void enqueue(std::function<void()> work) {
  if (capturing)
    captured->work.push_back(std::move(work));
  else
    work();
}

} // namespace

void fake_cuda::enqueueWork(std::function<void()> work) { enqueue(std::move(work)); }

namespace {

void copy(void *dst, const void *src, size_t bytes, const void *host) {
  if (capturing && host && !inBlock(pinnedBlocks, host)) {
    ++state.pageableCopiesCaptured;
    captureInvalid = true;
    return;
  }
  enqueue([=] { std::memcpy(dst, src, bytes); });
}

} // namespace

#define FAKE extern "C" __attribute__((visibility("default"))) CUresult
#define FAIL_IF_ASKED(entry)                                                                       \
  if (failing(entry))                                                                              \
    return kUnknown;

extern "C" __attribute__((visibility("default"))) FakeCudaState *fake_cuda_state() {
  return &state;
}
extern "C" __attribute__((visibility("default"))) void
fake_cuda_queue_on_legacy_stream(void (*work)(void *), void *argument) {
  legacyPending.push_back([work, argument] { work(argument); });
}

FAKE cuInit(unsigned) { return kSuccess; }
FAKE cuDriverGetVersion(int *version) {
  *version = 13000;
  return kSuccess;
}
FAKE cuDeviceGetCount(int *count) {
  *count = 1;
  return kSuccess;
}
FAKE cuDeviceGet(int *device, int) {
  *device = 0;
  return kSuccess;
}
FAKE cuDeviceGetName(char *name, int length, int) {
  std::strncpy(name, "Fake GPU", size_t(length));
  return kSuccess;
}
FAKE cuDeviceGetAttribute(int *value, int attribute, int) {
  *value = attribute == 75 ? 9 : 0; // compute capability 9.0
  return kSuccess;
}
FAKE cuDevicePrimaryCtxRetain(void **context, int) {
  *context = &state;
  return kSuccess;
}
FAKE cuDevicePrimaryCtxRelease_v2(int) {
  launchError.clear(); // the next session's context starts clean
  return kSuccess;
}
FAKE cuCtxSetCurrent(void *) { return kSuccess; }
FAKE cuModuleLoadData(void **module, const void *image) {
  if (fake_cuda::isEmulatedImage(image)) {
    *module = fake_cuda::loadEmulatedModule(image, moduleLoadError);
    if (!*module)
      return kInvalidImage;
    emulatedModules.insert(*module);
    return kSuccess;
  }
  *module = &state;
  return kSuccess;
}
FAKE cuModuleUnload(void *module) {
  if (emulatedModules.erase(module))
    fake_cuda::unloadEmulatedModule(module);
  return kSuccess;
}
FAKE cuModuleGetFunction(void **function, void *module, const char *name) {
  if (emulatedModules.count(module)) {
    const fake_cuda::EmulatedKernel *kernel = fake_cuda::findEmulatedKernel(module, name);
    if (!kernel)
      return kNotFound;
    emulatedKernels.insert(kernel);
    *function = const_cast<fake_cuda::EmulatedKernel *>(kernel);
    return kSuccess;
  }
  for (const KernelEntry &kernel : kKernels)
    if (std::strcmp(name, kernel.name) == 0) {
      *function = const_cast<KernelEntry *>(&kernel);
      return kSuccess;
    }
  if (std::getenv("FAKE_CUDA_ANY_KERNEL")) {
    *function = const_cast<KernelEntry *>(&kAnyKernel);
    return kSuccess;
  }
  return kNotFound;
}
FAKE cuLaunchKernel(void *function, unsigned gx, unsigned gy, unsigned gz, unsigned bx,
                    unsigned by, unsigned bz, unsigned, void *stream, void **params, void **) {
  FAIL_IF_ASKED("cuLaunchKernel");
  state.lastStream = stream;
  if (!function || gx == 0 || bx == 0)
    return kInvalidValue;
  if (emulatedKernels.count(function)) {
    auto *kernel = static_cast<const fake_cuda::EmulatedKernel *>(function);
    std::vector<int64_t> words;
    for (uint32_t i = 0; i < kernel->numParams; ++i)
      words.push_back(*static_cast<const int64_t *>(params[i]));
    if (capturing)
      ++state.launchesCaptured;
    enqueue([kernel, words, gx, gy, gz, bx, by, bz] {
      if (!launchError.empty())
        return;
      const unsigned grid[3] = {gx, gy, gz}, block[3] = {bx, by, bz};
      launchError = fake_cuda::runEmulatedKernel(*kernel, words, grid, block);
      ++state.kernelsRun;
    });
    return kSuccess;
  }
  auto *kernel = static_cast<const KernelEntry *>(function);
  // Parameters are read when the launch is made, as the driver does.
  std::vector<int64_t> words;
  for (int i = 0; i < kernel->numParams; ++i)
    words.push_back(*static_cast<const int64_t *>(params[i]));
  if (capturing)
    ++state.launchesCaptured;
  enqueue([kernel, words] {
    kernel->run(words.data());
    ++state.kernelsRun;
  });
  return kSuccess;
}
FAKE cuMemAlloc_v2(unsigned long long *pointer, size_t bytes) {
  FAIL_IF_ASKED("cuMemAlloc_v2");
  void *block = std::malloc(bytes);
  // Kernels that do nothing (FAKE_CUDA_ANY_KERNEL) leave what memory held:
  // zeros there, so that a run-time check's flag reads "passed" and the
  // host code runs through, as on a GPU with valid inputs. Emulated
  // kernels get malloc's memory, as a GPU's is uninitialized.
  if (block && std::getenv("FAKE_CUDA_ANY_KERNEL"))
    std::memset(block, 0, bytes);
  deviceBlocks[reinterpret_cast<uintptr_t>(block)] = bytes;
  *pointer = reinterpret_cast<unsigned long long>(block);
  return kSuccess;
}
FAKE cuMemFree_v2(unsigned long long pointer) {
  deviceBlocks.erase(uintptr_t(pointer));
  std::free(reinterpret_cast<void *>(pointer));
  return kSuccess;
}
FAKE cuPointerGetAttribute(void *data, int attribute, unsigned long long pointer) {
  if (attribute != 2 || !isDevice(reinterpret_cast<const void *>(pointer)))
    return kInvalidValue; // as for pageable host memory
  *static_cast<unsigned *>(data) = 2; // CU_MEMORYTYPE_DEVICE
  return kSuccess;
}
FAKE cuMemcpyDtoDAsync_v2(unsigned long long dst, unsigned long long src, size_t bytes,
                          void *stream) {
  FAIL_IF_ASKED("cuMemcpyDtoDAsync_v2");
  state.lastStream = stream;
  if (!isDevice(reinterpret_cast<void *>(dst)) || !isDevice(reinterpret_cast<void *>(src)))
    return kInvalidValue;
  copy(reinterpret_cast<void *>(dst), reinterpret_cast<const void *>(src), bytes, nullptr);
  return kSuccess;
}
FAKE cuMemcpyHtoD_v2(unsigned long long dst, const void *src, size_t bytes) {
  if (capturing || !isDevice(reinterpret_cast<void *>(dst)))
    return kInvalidValue;
  runLegacyWork(); // a synchronous copy waits for the legacy stream
  if (inBlock(pinnedBlocks, src)) {
    std::memcpy(reinterpret_cast<void *>(dst), src, bytes);
    return kSuccess;
  }
  // From pageable memory the driver returns once the data is staged; the
  // DMA to the device is still legacy-stream work (CUDA's "API
  // synchronization behavior"), which a non-blocking stream does not wait
  // for.
  auto staged = std::make_shared<std::vector<char>>(static_cast<const char *>(src),
                                                    static_cast<const char *>(src) + bytes);
  legacyPending.push_back(
      [dst, staged] { std::memcpy(reinterpret_cast<void *>(dst), staged->data(), staged->size()); });
  return kSuccess;
}
FAKE cuMemcpyDtoH_v2(void *dst, unsigned long long src, size_t bytes) {
  if (capturing || !isDevice(reinterpret_cast<void *>(src)))
    return kInvalidValue;
  runLegacyWork();
  std::memcpy(dst, reinterpret_cast<const void *>(src), bytes);
  return kSuccess;
}
FAKE cuMemAllocHost_v2(void **pointer, size_t bytes) {
  FAIL_IF_ASKED("cuMemAllocHost_v2");
  *pointer = std::malloc(bytes ? bytes : 1);
  pinnedBlocks[uintptr_t(*pointer)] = bytes ? bytes : 1;
  return kSuccess;
}
FAKE cuMemFreeHost(void *pointer) {
  pinnedBlocks.erase(uintptr_t(pointer));
  std::free(pointer);
  return kSuccess;
}
FAKE cuMemcpyHtoDAsync_v2(unsigned long long dst, const void *src, size_t bytes, void *stream) {
  FAIL_IF_ASKED("cuMemcpyHtoDAsync_v2");
  state.lastStream = stream;
  if (!isDevice(reinterpret_cast<void *>(dst)))
    return kInvalidValue;
  copy(reinterpret_cast<void *>(dst), src, bytes, src);
  return kSuccess;
}
FAKE cuMemcpyDtoHAsync_v2(void *dst, unsigned long long src, size_t bytes, void *stream) {
  FAIL_IF_ASKED("cuMemcpyDtoHAsync_v2");
  state.lastStream = stream;
  if (!isDevice(reinterpret_cast<void *>(src)))
    return kInvalidValue;
  copy(dst, reinterpret_cast<const void *>(src), bytes, dst);
  return kSuccess;
}
FAKE cuStreamCreate(void **stream, unsigned) {
  ++state.streamsCreated;
  *stream = &state;
  return kSuccess;
}
FAKE cuStreamDestroy_v2(void *) { return kSuccess; }
FAKE cuStreamSynchronize(void *stream) {
  state.lastStream = stream;
  if (stream == kLegacyStream || stream == nullptr)
    runLegacyWork();
  return launchError.empty() ? kSuccess : kLaunchFailed;
}
FAKE cuEventCreate(void **event, unsigned) {
  FAIL_IF_ASKED("cuEventCreate");
  *event = new char;
  return kSuccess;
}
FAKE cuEventDestroy_v2(void *event) {
  legacyEvents.erase(event);
  delete static_cast<char *>(event);
  return kSuccess;
}
FAKE cuEventRecord(void *event, void *stream) {
  FAIL_IF_ASKED("cuEventRecord");
  if (stream == kLegacyStream || stream == nullptr)
    legacyEvents[event] = legacyPending.size();
  else
    legacyEvents.erase(event); // other streams' work has run already
  return kSuccess;
}
FAKE cuStreamWaitEvent(void *, void *event, unsigned) {
  FAIL_IF_ASKED("cuStreamWaitEvent");
  if (auto recorded = legacyEvents.find(event); recorded != legacyEvents.end()) {
    ++state.legacyWaits;
    runLegacyWork(recorded->second);
  }
  return kSuccess;
}
FAKE cuGetErrorName(CUresult error, const char **name) {
  *name = error == kUnknown         ? "CUDA_ERROR_UNKNOWN"
          : error == kInvalidImage  ? "CUDA_ERROR_INVALID_IMAGE"
          : error == kLaunchFailed  ? "CUDA_ERROR_LAUNCH_FAILED"
                                    : "CUDA_ERROR_FAKE";
  return kSuccess;
}
FAKE cuGetErrorString(CUresult error, const char **text) {
  *text = error == kInvalidImage && !moduleLoadError.empty() ? moduleLoadError.c_str()
          : error == kLaunchFailed && !launchError.empty()   ? launchError.c_str()
                                                             : "an error of the fake driver";
  return kSuccess;
}
FAKE cuStreamBeginCapture_v2(void *, int) {
  FAIL_IF_ASKED("cuStreamBeginCapture_v2");
  capturing = true;
  captureInvalid = false;
  captured = new Graph;
  return kSuccess;
}
FAKE cuStreamEndCapture(void *, void **graph) {
  capturing = false;
  if (captureInvalid) {
    delete captured;
    captured = nullptr;
    *graph = nullptr;
    return kCaptureInvalidated;
  }
  ++state.captures;
  *graph = captured;
  captured = nullptr;
  return kSuccess;
}
FAKE cuGraphInstantiateWithFlags(void **exec, void *graph, unsigned long long) {
  FAIL_IF_ASKED("cuGraphInstantiateWithFlags");
  *exec = new Graph(*static_cast<Graph *>(graph));
  ++state.graphsInstantiated;
  return kSuccess;
}
FAKE cuGraphLaunch(void *exec, void *stream) {
  FAIL_IF_ASKED("cuGraphLaunch");
  state.lastStream = stream;
  ++state.graphLaunches;
  for (auto &work : static_cast<Graph *>(exec)->work)
    work();
  return kSuccess;
}
FAKE cuGraphExecDestroy(void *exec) {
  delete static_cast<Graph *>(exec);
  return kSuccess;
}
FAKE cuGraphDestroy(void *graph) {
  delete static_cast<Graph *>(graph);
  return kSuccess;
}
