//===- RunLog.h - A GPU run's device work, recorded then issued -*- C++ -*-===//
//
// A GPU model's host code asks for its run's device work call by call:
// copies, kernel launches, GEMMs. The session records them here rather
// than issuing each at once, and issues the whole log when the model
// returns: call by call, or, when the log is the same work as the run
// before, as one CUDA graph captured from it and replayed from then on
// (GpuSession::finishRun). A graph bakes in every kernel, launch dims,
// parameter word, device address and byte count, so those are what "the
// same work" compares. What differs from run to run goes through fixed
// page-locked staging buffers, by index: an input's bytes are copied into
// its buffer when the call is logged, an output's out of its buffer once
// the stream is done. A check's byte is copied back likewise, into a slot
// of the session's page-locked check flags, read once the stream is done.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_GPU_RUNLOG_H
#define KILN_RUNTIME_GPU_RUNLOG_H

#include "CudaDriver.h"
#include "kiln/kiln_abi.h"

#include <cstdint>
#include <vector>

namespace kiln::gpu {

struct LoggedCall {
  enum class Kind : uint8_t { Launch, CopyIn, CopyOut, Gemm, Check };
  Kind kind = Kind::Launch;
  // Launch: the model's kernel name (a constant of the model), its
  // function, dims, and `numWords` parameter words from `firstWord`.
  const char *kernel = nullptr;
  cuda::CUfunction function = nullptr;
  int64_t grid[3] = {}, block[3] = {}, sharedBytes = 0;
  // Launch: its parameters; Gemm: its kiln_gemm_desc; in RunLog::words.
  size_t firstWord = 0, numWords = 0;
  // CopyIn, CopyOut: the device side, the size, the staging buffer.
  // Check: the device byte that fails the run unless 0, and the slot of
  // the session's check flags it is copied back to.
  cuda::CUdeviceptr device = 0;
  size_t bytes = 0, staging = 0;
  // Check: the message the run fails with (a constant of the model).
  const char *message = nullptr;
  // CopyOut: where the model wants the bytes on the host. It differs from
  // run to run (a fresh output buffer), and the graph never sees it.
  void *hostDestination = nullptr;

  /// The same device work (everything but hostDestination).
  bool sameWorkAs(const LoggedCall &other) const;
};

class RunLog {
public:
  void clear();
  void addLaunch(const char *kernel, cuda::CUfunction function, const int64_t grid[3],
                 const int64_t block[3], int64_t sharedBytes, const int64_t *params,
                 int64_t numParams);
  void addCopyIn(cuda::CUdeviceptr device, size_t bytes);
  void addCopyOut(void *hostDestination, cuda::CUdeviceptr device, size_t bytes);
  void addGemm(const kiln_gemm_desc &desc);
  void addCheck(cuda::CUdeviceptr failed, const char *message);
  /// The staging buffer the next copy takes.
  size_t nextStaging() const { return copies; }
  /// The run's checks so far: the slots of the check flags they take.
  size_t numChecks() const { return checks; }
  /// A kiln_gemm_desc logged by addGemm.
  kiln_gemm_desc gemmOf(const LoggedCall &call) const;
  /// Every call and word the same, in the same order.
  bool sameWorkAs(const RunLog &other) const;
  bool empty() const { return calls.empty(); }

  std::vector<LoggedCall> calls;
  std::vector<int64_t> words;

private:
  size_t copies = 0, checks = 0;
};

} // namespace kiln::gpu

#endif // KILN_RUNTIME_GPU_RUNLOG_H
