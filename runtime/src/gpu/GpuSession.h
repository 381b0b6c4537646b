//===- GpuSession.h - A session's GPU state for a GPU model -----*- C++ -*-===//
//
// What a session of a GPU model (kiln_model_abi::gpu_arch != 0) holds on
// the device: the primary context of device 0, one stream, the model's
// kernels loaded once, the weights uploaded on first use, and the device
// arena the model's scratch slots come from. The model's host code reaches
// it through kiln_runtime_context::gpu_launch/gpu_copy/gpu_constant and
// scratch (kiln_abi.h).
//
// The model cannot fail a run, so a driver error during one is recorded
// here, later calls of the run do nothing, and finishRun() reports it as
// the run's status.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_GPU_GPUSESSION_H
#define KILN_RUNTIME_GPU_GPUSESSION_H

#include "CudaDriver.h"
#include "GpuGemm.h"
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
  static kiln_status_t create(int arch, int precision, const void *image, uint64_t imageSize,
                              std::unique_ptr<GpuSession> &out);
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

  /// "NVIDIA H200 (sm_90)".
  const std::string &deviceName() const { return name; }

private:
  GpuSession() = default;
  /// Records the first error of a run; whether `result` was a success.
  bool check(cuda::CUresult result, const char *what);
  cuda::CUdeviceptr allocate(size_t bytes, const char *what);

  const cuda::Driver *driver = nullptr;
  cuda::CUdevice device = 0;
  cuda::CUcontext context = nullptr;
  cuda::CUstream stream = nullptr;
  cuda::CUmodule module = nullptr;
  std::string name;
  std::string error; // the run's first error; empty when none
  std::unordered_map<const char *, cuda::CUfunction> functions;
  std::unordered_map<const void *, cuda::CUdeviceptr> constants;
  std::vector<void *> paramPointers; // launch scratch
  int precision = 0;                  // enum kiln_gpu_precision
  std::unique_ptr<GpuGemm> gemms;     // made on the first GEMM
  cuda::CUdeviceptr gemmWorkspace = 0;

  // The device arena: pieces of one block, reused by every run; a run that
  // needs more gets extra blocks, and the next run one block of the total
  // (like the host ScratchArena).
  cuda::CUdeviceptr block = 0;
  size_t capacity = 0, used = 0, runTotal = 0;
  std::vector<cuda::CUdeviceptr> overflow;
};

} // namespace kiln

#endif // KILN_RUNTIME_GPU_GPUSESSION_H
