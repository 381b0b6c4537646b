//===- Internal.h - The runtime's internal structures -----------*- C++ -*-===//
//
// Not installed. Plain C++17: the runtime depends on nothing but libc,
// libstdc++, libpthread and libdl.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_INTERNAL_H
#define KILN_RUNTIME_INTERNAL_H

#include "kiln/kiln.h"
#include "Profiler.h"
#include "ScratchArena.h"
#include "ThreadPool.h"
#include "gpu/GpuSession.h"

#include <atomic>
#include <cstdarg>
#include <csetjmp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace kiln {

//===--- Status ---------------------------------------------------------===//

/// A new status, or a static out-of-memory status when even that fails.
kiln_status_t makeStatus(kiln_status_code_t code, const std::string &message) noexcept;
kiln_status_t makeStatusf(kiln_status_code_t code, const char *format, ...) noexcept
    __attribute__((format(printf, 2, 3)));
/// The status for std::bad_alloc and friends.
kiln_status_t outOfMemoryStatus() noexcept;

/// printf into a std::string.
std::string formatv(const char *format, va_list args);
std::string format(const char *format, ...) __attribute__((format(printf, 1, 2)));

/// "[2,4]"; "[]" for rank 0. With dimNames (a signature), symbolic dims (-1)
/// print as their name, or "?".
std::string shapeString(const int64_t *dims, int32_t rank, const char *const *dimNames = nullptr);

//===--- Models ---------------------------------------------------------===//

/// One input or output of a loaded model, normalised (dim_names never NULL).
struct TensorSig {
  std::string name;
  int32_t dtype = 0;
  int32_t rank = 0;
  size_t elementSize = 0;
  std::vector<int64_t> dims;
  std::vector<std::string> dimNames;
  std::vector<const char *> dimNamePtrs; // into dimNames
  /// Words of its memref descriptor (3 + 2 * rank) and where it starts in
  /// the session's input or output descriptor block.
  size_t descWords = 0, descOffset = 0;
  /// Inputs only: for each dim, the index of its named symbolic dim in
  /// Model::symbolNames, or -1 (static or unnamed).
  std::vector<int32_t> symbol;
};

/// The memory a model's ABI table and everything it points to must lie in:
/// the readable segments of the model's library (kiln_model_load), or the
/// buffer a fuzzer mutates. A table pointing elsewhere is refused.
class ModelMemory {
public:
  void add(const void *begin, size_t bytes);
  /// Whether [p, p + count * size) lies in one range and p is a multiple
  /// of `align`; false for null.
  bool contains(const void *p, size_t count, size_t size, size_t align = 1) const;
  template <typename T> bool containsArray(const T *p, size_t count) const {
    return contains(p, count, sizeof(T), alignof(T));
  }
  /// Whether p is a NUL-terminated string lying in one range.
  bool containsString(const char *p) const;

private:
  std::vector<std::pair<uintptr_t, uintptr_t>> ranges; // [begin, end)
};

} // namespace kiln

struct kiln_model;

namespace kiln {
/// Checks a compiled model's table (its ABI version, the CPU features its
/// code needs, its signature and profile regions; every pointer it holds
/// must point into `memory`) and fills `model` from it. Null on success;
/// `path` names the model in messages. kiln_model_load calls it, and so
/// does the fuzzer (fuzz/FuzzLoad.cpp).
kiln_status_t checkModelTable(const kiln_model_abi *abi, const ModelMemory &memory,
                              const char *path, kiln_model &model);
} // namespace kiln

struct kiln_model {
  std::atomic<int64_t> refs{1};
  void *handle = nullptr; // dlopen handle
  std::string path;
  std::string producer;
  void (*run)(void **) = nullptr;
  /// The ABI the model was compiled for (KILN_ABI_VERSION_OLDEST to
  /// KILN_ABI_VERSION): what its kiln_gemm_desc holds.
  uint32_t abiVersion = KILN_ABI_VERSION;
  std::vector<kiln::TensorSig> inputs, outputs;
  size_t inputDescWords = 0, outputDescWords = 0;
  /// The distinct names of symbolic input dims ("batch", "sequence").
  std::vector<std::string> symbolNames;
  /// "x, bias" and "y, s", for messages.
  std::string inputList, outputList;
  /// The model's profile regions (one per ONNX node), in index order.
  std::vector<kiln::ProfileRegionName> regions;
  /// GPU models: the compute capability they need (XY) and their kernels;
  /// 0 and null for CPU models.
  uint32_t gpuArch = 0;
  uint32_t gpuPrecision = 0; // enum kiln_gpu_precision
  const void *gpuImage = nullptr;
  uint64_t gpuImageSize = 0;

  ~kiln_model();
};

struct kiln_session {
  kiln_model *model = nullptr;
  std::unique_ptr<kiln::ThreadPool> pool;
  std::mutex mutex; // one run at a time

  // Scratch, sized at creation and reused by every run (under `mutex`).
  std::vector<int64_t> inputDesc, outputDesc;
  std::vector<void *> args;
  std::vector<int64_t> inputBinding;   // model input -> caller index, or -1
  std::vector<int64_t> outputRequest;  // model output -> caller index, or -1
  std::vector<int64_t> symbolValue;    // per Model::symbolNames; -1 unbound
  std::vector<std::pair<int64_t, int32_t>> symbolSource; // (model input, dim)
  std::vector<int64_t> outputDims;     // num_outputs * KILN_MAX_RANK
  struct OutputState {
    void *allocated;
    char *data;      // aligned + offset, the first element
    const int64_t *sizes, *strides;
    size_t bytes;
    bool contiguous;
    void *handOver;  // the buffer given to the caller, if any
  };
  std::vector<OutputState> outputState;
  // What the model may call during a run (kiln_abi.h); `session` is this.
  kiln_runtime_context context{};
  // The model's scratch memory (kiln_runtime_context::scratch).
  kiln::ScratchArena scratch;
  // The run's heap blocks not yet released (kiln_runtime_context::alloc,
  // ABI 17): freed when the run fails; what is left after a run that
  // returns are its outputs' blocks. Any thread of the run may allocate.
  std::mutex heapMutex;
  std::vector<void *> heapBlocks;
  // Set when the session profiles (kiln_session_options::profile).
  std::unique_ptr<kiln::Profiler> profiler;
  bool keepDenormals = false; // kiln_session_options::keep_denormals
  // FLOPs (2 per multiply-add) of the runtime GEMM calls of all runs
  // (kiln_session_gemm_flops); only the run thread calls the GEMMs.
  uint64_t gemmFlops = 0;
  // The run's first failed check (kiln_runtime_context::fail), or null.
  const char *failure = nullptr;
  // Where kiln_runtime_context::fail jumps to end the run, and the thread
  // that may jump (the one running the model's entry point).
  std::jmp_buf failJump;
  std::thread::id runThread;
  int inPoolLoop = 0; // > 0 while the run thread is in a pool parallel_for
  // GPU models only: the device side (context, stream, kernels, weights).
  std::unique_ptr<kiln::GpuSession> gpu;

  ~kiln_session();
};

namespace kiln {
/// The session's intra-op thread pool, which the model's kernels share.
ThreadPool &sessionThreadPool(kiln_session_t *session);
} // namespace kiln

#endif // KILN_RUNTIME_INTERNAL_H
