//===- GpuSession.h - A session's GPU state for a GPU model -----*- C++ -*-===//
//
// What a session of a GPU model (kiln_model_abi::gpu_arch != 0) holds on
// the device: the primary context of device 0, one stream (its own, or the
// caller's: kiln_session_options::cuda_stream), the model's
// kernels loaded once, the weights uploaded on first use, and the device
// arena the model's scratch slots come from. The model's host code reaches
// it through kiln_runtime_context::gpu_launch/gpu_copy/gpu_constant and
// scratch (kiln_abi.h).
//
// The model's calls are logged during its run and issued when it returns
// (RunLog.h): call by call, or as a CUDA graph once two runs in a row did
// the same work, replayed while the runs stay the same (KILN_GPU_GRAPHS=0
// turns graphs off). Inputs and outputs pass through page-locked staging
// buffers the graph can name.
//
// The model cannot fail a run, so a driver error during one is recorded
// here, later calls of the run do nothing, and finishRun() reports it as
// the run's status. Run-time checks computed on the device (gpu_check)
// are read back when the run's work is done; the runtime fails the run on
// them (failedCheck).
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_GPU_GPUSESSION_H
#define KILN_RUNTIME_GPU_GPUSESSION_H

#include "CudaDriver.h"
#include "GpuGemm.h"
#include "RunLog.h"
#include "kiln/kiln.h"

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace kiln {

class GpuSession {
public:
  /// Loads the driver and the model's kernels; a status when the machine
  /// cannot run the model (no driver, no GPU, an older architecture).
  /// `callerStream` (a CUstream, or null for a stream of the session's own)
  /// is where every run's work goes.
  static kiln_status_t create(int arch, int precision, const void *image, uint64_t imageSize,
                              void *callerStream, std::unique_ptr<GpuSession> &out);
  ~GpuSession();
  GpuSession(const GpuSession &) = delete;
  GpuSession &operator=(const GpuSession &) = delete;

  /// Before the model runs: the context current on this thread, the
  /// arena's pieces handed back.
  kiln_status_t beginRun();
  /// After the model returned: waits for the stream, and reports the first
  /// error of the run.
  kiln_status_t finishRun();

  void launch(const char *name, const int64_t grid[3], const int64_t block[3],
              int64_t sharedBytes, const int64_t *params, int64_t numParams);
  void copy(void *dst, const void *src, int64_t bytes, int64_t kind);
  void *constant(const void *host, int64_t bytes);
  void *scratch(int64_t bytes);
  /// kiln_runtime_context::gemm: cuBLASLt on the session's stream.
  void gemm(const kiln_gemm_desc &desc);
  /// kiln_runtime_context::gpu_check: the byte at `failed` is copied back
  /// after the work logged before it; finishRun reads it.
  void deviceCheck(const void *failed, const char *message);
  /// After a run finishRun found no error in: the message of its first
  /// check (in call order) whose byte was not 0, or null.
  const char *failedCheck() const { return failed; }

  /// "NVIDIA H200 (sm_90)".
  const std::string &deviceName() const { return name; }

  /// Device I/O (kiln_session_options::device_io), set before the first
  /// run: the model's inputs are read from device memory and its outputs
  /// left in device staging buffers, from which copyOutput moves them.
  void useDeviceIo() { deviceIo = true; }
  bool usesDeviceIo() const { return deviceIo; }
  bool isDeviceMemory(const void *pointer) const;
  /// After a run with device I/O: enqueues a copy of the output the model
  /// returned in `modelBuffer` (a host buffer it never wrote) into the
  /// caller's device buffer; an error message, or empty.
  std::string copyOutput(void *destination, const void *modelBuffer, size_t bytes);
  /// Waits for the stream; an error message, or empty.
  std::string synchronize();
  /// kiln_session_device_alloc, _free, _copy.
  kiln_status_t deviceAlloc(size_t bytes, void **out);
  void deviceFree(void *pointer);
  kiln_status_t deviceCopy(void *dst, const void *src, size_t bytes, int kind);
  /// kiln_session_wait_stream: the session's stream waits (on the GPU)
  /// for the work queued on `other` so far; an error message, or empty.
  /// With device I/O on the session's own stream every run does this for
  /// the legacy default stream (where PyTorch and CuPy make inputs by
  /// default), which a non-blocking stream does not otherwise wait for.
  std::string waitFor(cuda::CUstream other);
  /// Whether runs may become a CUDA graph, and if not, why.
  bool usesGraphs() const { return noGraphs.empty(); }
  const std::string &whyNoGraphs() const { return noGraphs; }

private:
  GpuSession() = default;
  /// Records the first error of a run; whether `result` was a success.
  bool check(cuda::CUresult result, const char *what);
  cuda::CUdeviceptr allocate(size_t bytes, const char *what);
  /// Page-locked staging buffer `index`, of `bytes` at least; null (and
  /// the run's error set) when it cannot be had.
  void *staging(size_t index, size_t bytes);
  /// Enqueues `run`'s calls on the stream; the first failure, or empty.
  std::string issue(const gpu::RunLog &run);

  /// Launches the log as the session's graph when it is the graph's work,
  /// or the same work as the run before (captured now): true when it did
  /// (or its launch failed the run), false to issue the log call by call.
  bool launchAsGraph();
  bool capture();
  void dropGraph();

  const cuda::Driver *driver = nullptr;
  cuda::CUdevice device = 0;
  cuda::CUcontext context = nullptr;
  cuda::CUstream stream = nullptr;
  bool ownsStream = true;                 // created here, not the caller's
  cuda::CUevent otherWork = nullptr;      // waitFor's, made on first use
  cuda::CUmodule module = nullptr;
  std::string name;
  std::string error; // the run's first error; empty when none
  std::unordered_map<const char *, cuda::CUfunction> functions;
  std::unordered_map<const void *, cuda::CUdeviceptr> constants;
  std::vector<void *> paramPointers; // launch scratch
  int precision = 0;                  // enum kiln_gpu_precision
  std::unique_ptr<GpuGemm> gemms;     // made on the first GEMM
  cuda::CUdeviceptr gemmWorkspace = 0;

  gpu::RunLog log, previous, graphWork; // this run's, the last run's, the graph's
  // Page-locked host memory, or with device I/O device memory.
  struct Staging {
    void *pointer = nullptr;
    size_t bytes = 0;
  };
  void freeStaging(Staging &buffer);
  std::vector<Staging> stagings;
  bool deviceIo = false;
  // Page-locked, a byte per check of the run (RunLog::numChecks), which a
  // graph names too; `failed` is the run's first failing check's message.
  uint8_t *checkFlags = nullptr;
  size_t checkCapacity = 0;
  const char *failed = nullptr;
  std::string noGraphs; // why runs do not become CUDA graphs; empty when they may
  bool verbose = false; // KILN_GPU_VERBOSE: say on stderr when graphs start or stop
  cuda::CUgraph graph = nullptr;
  cuda::CUgraphExec graphExec = nullptr;

  // The device arena: pieces of one block, reused by every run; a run that
  // needs more gets extra blocks, and the next run one block of the total
  // (like the host ScratchArena).
  cuda::CUdeviceptr block = 0;
  size_t capacity = 0, used = 0, runTotal = 0;
  std::vector<cuda::CUdeviceptr> overflow;
};

} // namespace kiln

#endif // KILN_RUNTIME_GPU_GPUSESSION_H
