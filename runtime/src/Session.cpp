//===- Session.cpp - Sessions and kiln_session_run ------------------------===//
//
// A run binds the caller's inputs by name, checks them against the
// signature, builds MLIR memref descriptors that point at the caller's data
// (zero copy), calls the model, and hands the outputs over or copies them
// into caller buffers.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"
#include "FloatMode.h"
#include "kernels/Gemm.h"
#include "kernels/QGemm.h"
#include "kernels/Attention.h"
#include "kernels/LayerNorm.h"
#include "kernels/Softmax.h"
#include "kernels/SparseGemm.h"
#include "kernels/SparseQGemm.h"

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <system_error>

using namespace kiln;

kiln_session::~kiln_session() {
  pool.reset(); // join the workers before the model can be unloaded
  gpu.reset();  // free device memory before the kernels' image is unmapped
  kiln_model_release(model);
}

ThreadPool &kiln::sessionThreadPool(kiln_session_t *session) { return *session->pool; }

namespace {

constexpr uint32_t kMaxThreads = 1024;

// kiln_session_options as it first shipped (struct_size to keep_denormals).
// Fields are only ever added after these, so a caller compiled against any
// version of kiln.h passes a prefix of the struct this runtime knows.
constexpr uint32_t kFirstOptionsSize = 16;
static_assert(offsetof(kiln_session_options, struct_size) == 0 &&
                  offsetof(kiln_session_options, keep_denormals) + 4 == kFirstOptionsSize,
              "kiln_session_options: new fields go at the end");
// Larger than any kiln_session_options will be: a bigger struct_size is
// garbage, not a newer caller.
constexpr uint32_t kMaxOptionsSize = 4096;

/// Copies the caller's options over the defaults in `opts`: the first
/// options->struct_size bytes, those of the kiln.h the caller was compiled
/// with. Fields of a newer kiln.h than this runtime's must be zero (their
/// defaults), or the caller asked for something this runtime cannot do.
kiln_status_t readOptions(const kiln_session_options *options, kiln_session_options &opts) {
  uint32_t size = options->struct_size;
  if (size < kFirstOptionsSize || size > kMaxOptionsSize || size % 4 != 0)
    return makeStatusf(KILN_STATUS_INVALID_ARGUMENT,
                       "kiln_session_create: options->struct_size is %u; fill the options "
                       "with kiln_session_options_initialize before setting fields",
                       size);
  std::memcpy(&opts, options, std::min<size_t>(size, sizeof opts));
  const auto *bytes = reinterpret_cast<const unsigned char *>(options);
  for (size_t i = sizeof opts; i < size; ++i)
    if (bytes[i] != 0)
      return makeStatusf(KILN_STATUS_INVALID_ARGUMENT,
                         "kiln_session_create: the options set a field this runtime (%s) does "
                         "not know (byte %zu of %u; it knows %zu): use a runtime as new as "
                         "the kiln.h the program was compiled with",
                         kiln_runtime_version(), i, size, sizeof opts);
  opts.struct_size = sizeof opts;
  return nullptr;
}

/// 2 m n k per GEMM of a batch of b0 x b1 (none when a size is not positive).
uint64_t gemmFlops(int64_t m, int64_t n, int64_t k, int64_t b0 = 1, int64_t b1 = 1) {
  if (m <= 0 || n <= 0 || k <= 0 || b0 <= 0 || b1 <= 0)
    return 0;
  return 2 * uint64_t(m) * uint64_t(n) * uint64_t(k) * uint64_t(b0) * uint64_t(b1);
}

/// Runs a kernel the generated code called; a descriptor it cannot run
/// (std::exception) ends the process naming `what`: the model cannot fail
/// a run (see sessionScratch).
template <class Kernel> void runOrAbort(const char *what, const Kernel &kernel) {
  try {
    kernel();
  } catch (const std::exception &e) {
    std::fprintf(stderr, "kiln runtime: %s failed: %s\n", what, e.what());
    std::abort();
  }
}

/// kiln_runtime_context::sgemm: the GEMM on the session's threads.
void sessionSgemm(const kiln_runtime_context *ctx, int64_t m, int64_t n, int64_t k,
                  const float *a, int64_t aRowStride, int64_t aColStride, const float *b,
                  int64_t bRowStride, int64_t bColStride, float *c, int64_t ldc,
                  int64_t accumulate) {
  auto *session = static_cast<kiln_session *>(ctx->session);
  session->gemmFlops += gemmFlops(m, n, k);
  runOrAbort("the GEMM", [&] {
    sgemm({m, n, k, a, aRowStride, aColStride, b, bRowStride, bColStride, c, ldc, accumulate != 0},
          session->pool.get());
  });
}

/// kiln_runtime_context::gemm: the batched GEMM with its epilogue.
void sessionGemm(const kiln_runtime_context *ctx, const kiln_gemm_desc *desc) {
  auto *session = static_cast<kiln_session *>(ctx->session);
  session->gemmFlops += gemmFlops(desc->m, desc->n, desc->k, desc->batch[0], desc->batch[1]);
  runOrAbort("the GEMM", [&] { gemm(*desc, session->pool.get()); });
}

/// kiln_runtime_context::sparse_gemm: the GEMM with a sparse B. The
/// session counts the dense GEMM's operations (what the model computes).
void sessionSparseGemm(const kiln_runtime_context *ctx, const kiln_sparse_gemm_desc *desc) {
  auto *session = static_cast<kiln_session *>(ctx->session);
  session->gemmFlops += gemmFlops(desc->m, desc->n, desc->k, desc->batch[0], desc->batch[1]);
  runOrAbort("the sparse GEMM", [&] { sparseGemm(*desc, session->pool.get()); });
}

/// kiln_runtime_context::sparse_qgemm: the int8 GEMM with a sparse B. The
/// session counts the dense GEMM's operations (what the model computes).
void sessionSparseQgemm(const kiln_runtime_context *ctx, const kiln_qgemm_desc *desc) {
  auto *session = static_cast<kiln_session *>(ctx->session);
  session->gemmFlops += gemmFlops(desc->m, desc->n, desc->k, desc->batch[0], desc->batch[1]);
  runOrAbort("the sparse int8 GEMM", [&] { sparseQgemm(*desc, session->pool.get()); });
}

/// kiln_runtime_context::softmax: attention's scaled, masked softmax.
void sessionSoftmax(const kiln_runtime_context *ctx, const kiln_softmax_desc *desc) {
  auto *session = static_cast<kiln_session *>(ctx->session);
  runOrAbort("the softmax", [&] { softmax(*desc, session->pool.get()); });
}

/// kiln_runtime_context::layer_norm: a LayerNormalization over rows.
void sessionLayerNorm(const kiln_runtime_context *ctx, const kiln_layer_norm_desc *desc) {
  auto *session = static_cast<kiln_session *>(ctx->session);
  runOrAbort("the layer norm", [&] { layerNorm(*desc, session->pool.get()); });
}

/// kiln_runtime_context::attention: attention's heads, scores to output.
void sessionAttention(const kiln_runtime_context *ctx, const kiln_attention_desc *desc) {
  auto *session = static_cast<kiln_session *>(ctx->session);
  // Its two products, as gemm would count them.
  session->gemmFlops += gemmFlops(desc->sq, desc->sk, desc->d, desc->batch[0], desc->batch[1]) +
                        gemmFlops(desc->sq, desc->dv, desc->sk, desc->batch[0], desc->batch[1]);
  runOrAbort("attention", [&] { attention(*desc, session->pool.get()); });
}

/// kiln_runtime_context::qgemm: the int8 GEMM with its epilogue.
void sessionQgemm(const kiln_runtime_context *ctx, const kiln_qgemm_desc *desc) {
  auto *session = static_cast<kiln_session *>(ctx->session);
  session->gemmFlops += gemmFlops(desc->m, desc->n, desc->k, desc->batch[0], desc->batch[1]);
  runOrAbort("the int8 GEMM", [&] { qgemm(*desc, session->pool.get()); });
}

/// Below this many operations (n * cost_per_item) a loop runs inline on the
/// caller. Within a run the pool's workers spin between jobs (ThreadPool.h),
/// so handing them a loop costs a few microseconds, not the ~40 us of a
/// wake-up from sleep (2 vCPUs of a VM): 2^17 operations is ~8-30 us of
/// loop, and lowering this from 2^20 took BERT-base at 2 threads from 92.5
/// to 90.7 ms (together with the GEMM's kMinWorkPerThread).
constexpr int64_t kMinParallelWork = int64_t(1) << 17;
/// Chunks per thread a parallel loop aims for (the pool's own target), so
/// each chunk is worth at least kMinParallelWork / kChunksPerThread.
constexpr int64_t kChunksPerThread = 4;

/// kiln_runtime_context::parallel_for: the model's outlined loops on the
/// session's threads.
void sessionParallelFor(const kiln_runtime_context *ctx, kiln_parallel_body_fn body,
                        void *closure, int64_t n, int64_t costPerItem) {
  if (n <= 0)
    return;
  ThreadPool &pool = *static_cast<kiln_session *>(ctx->session)->pool;
  const int64_t cost = std::max<int64_t>(costPerItem, 1);
  // n * cost >= kMinParallelWork, without overflowing.
  const bool worthIt = n >= (kMinParallelWork + cost - 1) / cost;
  if (pool.numThreads() == 1 || !worthIt) {
    body(closure, 0, n);
    return;
  }
  const int64_t minChunkWork = kMinParallelWork / kChunksPerThread;
  const int64_t grain = std::max<int64_t>(1, (minChunkWork + cost - 1) / cost);
  // A check failing inside the loop must not jump out of the pool's frames.
  auto *session = static_cast<kiln_session *>(ctx->session);
  bool onRunThread = std::this_thread::get_id() == session->runThread;
  session->inPoolLoop += onRunThread;
  try {
    pool.parallelFor(size_t(n), size_t(grain), [&](size_t begin, size_t end) {
      body(closure, int64_t(begin), int64_t(end));
    });
    session->inPoolLoop -= onRunThread;
  } catch (const std::exception &e) {
    // The model cannot fail a run (see sessionScratch).
    std::fprintf(stderr, "kiln runtime: a parallel loop failed: %s\n", e.what());
    std::abort();
  }
}

/// kiln_runtime_context::profile, set only when the session profiles.
void sessionProfile(const kiln_runtime_context *ctx, int64_t region, int64_t phase) {
  static_cast<kiln_session *>(ctx->session)->profiler->mark(region, phase);
}

/// kiln_runtime_context::fail: keeps the run's first failure and, on the
/// thread running the model, ends the run (kiln_abi.h): the jump lands in
/// runModel, past frames of generated code only, which own nothing.
[[noreturn]] void endRun(kiln_session *session) { std::longjmp(session->failJump, 1); }

void sessionFail(const kiln_runtime_context *ctx, const char *message) {
  auto *session = static_cast<kiln_session *>(ctx->session);
  if (!session->failure)
    session->failure = message ? message : "a run-time check failed";
  if (std::this_thread::get_id() == session->runThread && session->inPoolLoop == 0)
    endRun(session);
}

/// kiln_runtime_context::scratch: a piece of the session's arena. Running
/// out of memory fails the run (on the model's thread; elsewhere, as for
/// malloc() in generated code, it ends the process).
void *sessionScratch(const kiln_runtime_context *ctx, int64_t bytes) {
  auto *session = static_cast<kiln_session *>(ctx->session);
  void *piece = session->scratch.allocate(bytes > 0 ? static_cast<size_t>(bytes) : 1);
  if (!piece) {
    if (std::this_thread::get_id() == session->runThread && session->inPoolLoop == 0)
      sessionFail(ctx, "the run needs more scratch memory than can be allocated");
    std::fprintf(stderr, "kiln runtime: cannot allocate %lld bytes of scratch memory\n",
                 static_cast<long long>(bytes));
    std::abort();
  }
  return piece;
}

/// kiln_runtime_context::alloc (ABI 17): a 64-byte aligned block the
/// session lists until it is released or the run ends (outputs, or freed
/// when the run failed).
void *sessionAlloc(const kiln_runtime_context *ctx, int64_t bytes) {
  auto *session = static_cast<kiln_session *>(ctx->session);
  if (bytes < 0)
    return nullptr;
  constexpr size_t kAlign = KILN_MEMORY_ALIGNMENT;
  size_t size = static_cast<size_t>(bytes);
  if (size > std::numeric_limits<size_t>::max() - kAlign)
    return nullptr;
  size = std::max<size_t>((size + kAlign - 1) / kAlign * kAlign, kAlign);
  void *block = std::aligned_alloc(kAlign, size);
  if (!block)
    return nullptr;
  try {
    std::lock_guard<std::mutex> lock(session->heapMutex);
    session->heapBlocks.push_back(block);
  } catch (const std::bad_alloc &) {
    std::free(block);
    return nullptr;
  }
  return block;
}

/// kiln_runtime_context::release (ABI 17).
void sessionRelease(const kiln_runtime_context *ctx, void *block) {
  if (!block)
    return;
  auto *session = static_cast<kiln_session *>(ctx->session);
  std::lock_guard<std::mutex> lock(session->heapMutex);
  auto &blocks = session->heapBlocks;
  // Blocks die mostly in the reverse order of their birth: look from the end.
  auto it = std::find(blocks.rbegin(), blocks.rend(), block);
  if (it == blocks.rend())
    return; // not the run's: never free what the session did not hand out
  *it = blocks.back();
  blocks.pop_back();
  std::free(block);
}

/// Calls the model's entry point; false when a check ended the run early.
/// (setjmp's own frame: nothing with a destructor lives here.)
bool runModel(kiln_session &s) {
  s.runThread = std::this_thread::get_id();
  s.inPoolLoop = 0;
  if (setjmp(s.failJump) != 0) {
    s.runThread = std::thread::id();
    return false;
  }
  s.model->run(s.args.data());
  s.runThread = std::thread::id();
  return true;
}

/// GPU models: kiln_runtime_context::gpu_launch, gpu_copy, gpu_constant,
/// gpu_check, and scratch from the device arena (gpu/GpuSession.h).
GpuSession &gpuOf(const kiln_runtime_context *ctx) {
  return *static_cast<kiln_session *>(ctx->session)->gpu;
}

void sessionGpuLaunch(const kiln_runtime_context *ctx, const char *name, int64_t gridX,
                      int64_t gridY, int64_t gridZ, int64_t blockX, int64_t blockY,
                      int64_t blockZ, int64_t sharedBytes, const int64_t *params,
                      int64_t numParams) {
  const int64_t grid[3] = {gridX, gridY, gridZ}, block[3] = {blockX, blockY, blockZ};
  gpuOf(ctx).launch(name, grid, block, sharedBytes, params, numParams);
}

void sessionGpuCopy(const kiln_runtime_context *ctx, void *dst, const void *src, int64_t bytes,
                    int64_t kind) {
  gpuOf(ctx).copy(dst, src, bytes, kind);
}

void *sessionGpuConstant(const kiln_runtime_context *ctx, const void *host, int64_t bytes) {
  return gpuOf(ctx).constant(host, bytes);
}

void *sessionGpuScratch(const kiln_runtime_context *ctx, int64_t bytes) {
  return gpuOf(ctx).scratch(bytes);
}

void sessionGpuCheck(const kiln_runtime_context *ctx, const void *failed, const char *message) {
  gpuOf(ctx).deviceCheck(failed, message);
}

void sessionGpuGemm(const kiln_runtime_context *ctx, const kiln_gemm_desc *desc) {
  static_cast<kiln_session *>(ctx->session)->gemmFlops +=
      gemmFlops(desc->m, desc->n, desc->k, desc->batch[0], desc->batch[1]);
  gpuOf(ctx).gemm(*desc);
}

/// `Gemm` for models whose descriptors end after `Words` words (an older
/// ABI's kiln_gemm_desc): those words, and FLOAT32 for the types after
/// them. Nothing further is read: it is not the model's descriptor.
template <size_t Words, kiln_gemm_fn Gemm>
void gemmOfShorterDesc(const kiln_runtime_context *ctx, const kiln_gemm_desc *desc) {
  static_assert(Words < KILN_GEMM_DESC_FIELDS, "not a shorter descriptor");
  kiln_gemm_desc full{};
  full.b_type = full.a_type = full.c_type = KILN_DTYPE_FLOAT32;
  std::memcpy(&full, desc, Words * sizeof(int64_t));
  Gemm(ctx, &full);
}

/// kiln_runtime_context::gemm for a model of ABI `abiVersion`: `Gemm`
/// itself, or for models older than ABI 16 (no a_type, c_type) and 8 (no
/// b_type) `Gemm` behind a copy of the words they fill.
template <kiln_gemm_fn Gemm> kiln_gemm_fn gemmForAbi(uint32_t abiVersion) {
  if (abiVersion < 8)
    return gemmOfShorterDesc<KILN_GEMM_DESC_FIELDS_ABI7, Gemm>;
  if (abiVersion < 16)
    return gemmOfShorterDesc<KILN_GEMM_DESC_FIELDS_ABI15, Gemm>;
  return Gemm;
}

// MLIR lowers memref.get_global (a constant result) to a descriptor whose
// `allocated` pointer is this sentinel. The ABI promises malloc()ed outputs,
// but never free() the sentinel if a model breaks that promise.
void *const kMlirDeadBeef = reinterpret_cast<void *>(uintptr_t{0xdeadbeef});

void freeModelBuffer(void *allocated) {
  if (allocated != kMlirDeadBeef)
    std::free(allocated);
}

/// prod(dims) * elementSize, or false on overflow.
bool byteSize(const int64_t *dims, int32_t rank, size_t elementSize, size_t &bytes) {
  size_t n = elementSize;
  for (int32_t d = 0; d < rank; ++d) {
    if (dims[d] < 0)
      return false;
    size_t size = static_cast<size_t>(dims[d]);
    if (size != 0 && n > std::numeric_limits<size_t>::max() / size)
      return false;
    n *= size;
  }
  bytes = n;
  return true;
}

void storePointer(int64_t *word, const void *p) { std::memcpy(word, &p, sizeof p); }
char *loadPointer(const int64_t *word) {
  char *p;
  std::memcpy(&p, word, sizeof p);
  return p;
}

/// Copies a strided tensor into a dense row-major buffer.
void stridedCopy(char *dst, const char *src, const int64_t *sizes, const int64_t *strides,
                 int32_t rank, size_t elementSize) {
  if (rank == 0) {
    std::memcpy(dst, src, elementSize);
    return;
  }
  size_t inner = elementSize;
  for (int32_t d = 1; d < rank; ++d)
    inner *= static_cast<size_t>(sizes[d]);
  for (int64_t i = 0; i < sizes[0]; ++i) {
    const char *s = src + i * strides[0] * static_cast<int64_t>(elementSize);
    if (rank == 1)
      std::memcpy(dst, s, elementSize);
    else
      stridedCopy(dst, s, sizes + 1, strides + 1, rank - 1, elementSize);
    dst += inner;
  }
}

kiln_status_t invalid(const std::string &message) {
  return makeStatus(KILN_STATUS_INVALID_ARGUMENT, message);
}

/// Binds and checks the inputs; fills session->inputDesc and args.
kiln_status_t bindInputs(kiln_session &s, const kiln_tensor *inputs, size_t numInputs) {
  const kiln_model &m = *s.model;
  std::fill(s.inputBinding.begin(), s.inputBinding.end(), -1);
  std::fill(s.symbolValue.begin(), s.symbolValue.end(), -1);

  for (size_t j = 0; j < numInputs; ++j) {
    const kiln_tensor &t = inputs[j];
    if (!t.name)
      return invalid(format("inputs[%zu] has no name (the model's inputs are: %s)", j,
                            m.inputList.c_str()));
    int64_t k = kiln_model_find_input(&m, t.name);
    if (k < 0)
      return invalid(format("unknown input '%s' (the model's inputs are: %s)", t.name,
                            m.inputList.c_str()));
    if (s.inputBinding[k] >= 0)
      return invalid(format("input '%s' is given twice (inputs[%lld] and inputs[%zu])", t.name,
                            static_cast<long long>(s.inputBinding[k]), j));
    s.inputBinding[k] = static_cast<int64_t>(j);
  }
  std::string missing;
  size_t numMissing = 0;
  for (size_t k = 0; k < m.inputs.size(); ++k) {
    if (s.inputBinding[k] >= 0)
      continue;
    missing += (numMissing++ ? ", '" : "'") + m.inputs[k].name + "'";
  }
  if (numMissing)
    return invalid(format("missing input%s %s", numMissing > 1 ? "s" : "", missing.c_str()));

  for (size_t k = 0; k < m.inputs.size(); ++k) {
    const TensorSig &sig = m.inputs[k];
    const kiln_tensor &t = inputs[s.inputBinding[k]];
    const char *name = sig.name.c_str();
    // Messages only: built when a check fails.
    auto expected = [&] {
      return std::string(kiln_dtype_name(sig.dtype)) + " " +
             shapeString(sig.dims.data(), sig.rank, sig.dimNamePtrs.data());
    };
    auto given = [&] { return shapeString(t.dims, t.rank); };
    if (t.dtype != sig.dtype)
      return invalid(format("input '%s' has dtype %s (%d), but the model expects %s", name,
                            kiln_dtype_name(t.dtype), t.dtype, expected().c_str()));
    if (t.rank != sig.rank)
      return invalid(format("input '%s' has rank %d, but the model expects rank %d: %s", name,
                            t.rank, sig.rank, expected().c_str()));
    if (t.rank > 0 && !t.dims)
      return invalid(format("input '%s' has rank %d but dims is NULL", name, t.rank));
    for (int32_t d = 0; d < sig.rank; ++d) {
      int64_t size = t.dims[d];
      if (size < 0)
        return invalid(
            format("input '%s' has shape %s: dim %d is negative", name, given().c_str(), d));
      if (sig.dims[d] >= 0 && size != sig.dims[d])
        return invalid(format("input '%s' has shape %s, but the model expects %s: dim %d must be "
                              "%lld",
                              name, given().c_str(), expected().c_str(), d,
                              static_cast<long long>(sig.dims[d])));
      int32_t sym = sig.symbol[d];
      if (sym < 0)
        continue;
      if (s.symbolValue[sym] < 0) {
        s.symbolValue[sym] = size;
        s.symbolSource[sym] = {static_cast<int64_t>(k), d};
      } else if (s.symbolValue[sym] != size) {
        const auto &src = s.symbolSource[sym];
        return invalid(format("symbolic dim '%s' is %lld in input '%s' (dim %d) but %lld in input "
                              "'%s' (dim %d)",
                              m.symbolNames[sym].c_str(),
                              static_cast<long long>(s.symbolValue[sym]),
                              m.inputs[src.first].name.c_str(), src.second,
                              static_cast<long long>(size), name, d));
      }
    }
    size_t bytes = 0;
    if (!byteSize(t.dims, t.rank, sig.elementSize, bytes))
      return invalid(format("input '%s' shape %s is too large", name, given().c_str()));
    if (t.byte_size < bytes)
      return invalid(format("input '%s' has byte_size %zu, but shape %s of %s needs %zu bytes",
                            name, t.byte_size, given().c_str(),
                            kiln_dtype_name(sig.dtype), bytes));
    if (bytes > 0 && !t.data)
      return invalid(format("input '%s' has no data (data is NULL)", name));
    if (reinterpret_cast<uintptr_t>(t.data) % sig.elementSize != 0)
      return invalid(format("input '%s' data %p is not aligned to its %zu-byte elements", name,
                            t.data, sig.elementSize));
    if (bytes > 0 && s.gpu && s.gpu->usesDeviceIo() && !s.gpu->isDeviceMemory(t.data))
      return invalid(format("input '%s' data %p is not device memory (the session has "
                            "device_io: inputs and outputs live on the GPU)",
                            name, t.data));

    // { allocated, aligned, offset, sizes[R], strides[R] }, row-major.
    int64_t *desc = s.inputDesc.data() + sig.descOffset;
    storePointer(desc + 0, t.data);
    storePointer(desc + 1, t.data);
    desc[2] = 0;
    int64_t stride = 1;
    for (int32_t d = sig.rank - 1; d >= 0; --d) {
      desc[3 + d] = t.dims[d];
      desc[3 + sig.rank + d] = stride;
      stride *= t.dims[d];
    }
    s.args[1 + k] = desc;
  }
  return nullptr;
}

/// Resolves which model output each outputs[i] asks for.
kiln_status_t resolveOutputs(kiln_session &s, const kiln_tensor *outputs, size_t numOutputs) {
  const kiln_model &m = *s.model;
  std::fill(s.outputRequest.begin(), s.outputRequest.end(), -1);
  for (size_t i = 0; i < numOutputs; ++i) {
    int64_t k;
    if (outputs[i].name) {
      k = kiln_model_find_output(&m, outputs[i].name);
      if (k < 0)
        return invalid(format("unknown output '%s' (the model's outputs are: %s)", outputs[i].name,
                              m.outputList.c_str()));
    } else {
      if (i >= m.outputs.size())
        return invalid(format("outputs[%zu] has no name and the model has only %zu outputs (%s)",
                              i, m.outputs.size(), m.outputList.c_str()));
      k = static_cast<int64_t>(i);
    }
    if (s.outputRequest[k] >= 0)
      return invalid(format("output '%s' is asked for twice (outputs[%lld] and outputs[%zu])",
                            m.outputs[k].name.c_str(), static_cast<long long>(s.outputRequest[k]),
                            i));
    if (s.gpu && s.gpu->usesDeviceIo() &&
        (!outputs[i].data || !s.gpu->isDeviceMemory(outputs[i].data)))
      return invalid(format("output '%s' needs a caller device buffer (the session has "
                            "device_io), but its data is %s",
                            m.outputs[k].name.c_str(),
                            outputs[i].data ? "not device memory" : "NULL"));
    s.outputRequest[k] = static_cast<int64_t>(i);
  }
  return nullptr;
}

/// Frees every model output buffer that was not handed over.
/// Frees each distinct block in `blocks` once, skipping `keep` (the ones
/// handed to the caller). Outputs can share a block: a model that returns
/// one value twice, or a view of another output (the compiler's
/// deduplication and views make that legal IR), hands back one block.
void freeDistinct(const std::vector<void *> &blocks, const std::vector<void *> &keep) {
  for (size_t k = 0; k < blocks.size(); ++k) {
    void *block = blocks[k];
    if (!block || std::find(keep.begin(), keep.end(), block) != keep.end() ||
        std::find(blocks.begin(), blocks.begin() + k, block) != blocks.begin() + k)
      continue;
    freeModelBuffer(block);
  }
}

/// Frees the run's heap blocks (kiln_runtime_context::alloc) and `blocks`
/// (the outputs' as the model returned them: a model older than ABI 17
/// malloc()s its own), except those in `keep`, each once.
void freeRunBlocks(kiln_session &s, std::vector<void *> blocks, const std::vector<void *> &keep) {
  blocks.insert(blocks.end(), s.heapBlocks.begin(), s.heapBlocks.end());
  s.heapBlocks.clear();
  freeDistinct(blocks, keep);
}

void freeOutputs(kiln_session &s) {
  std::vector<void *> blocks, keep;
  for (auto &o : s.outputState) {
    blocks.push_back(o.allocated);
    keep.push_back(o.handOver);
  }
  freeRunBlocks(s, std::move(blocks), keep);
}

/// Frees the output buffers of a failed run, unread, and whatever else it
/// had allocated when a check ended it.
void discardOutputs(kiln_session &s) {
  std::vector<void *> blocks;
  for (const TensorSig &sig : s.model->outputs)
    blocks.push_back(loadPointer(s.outputDesc.data() + sig.descOffset));
  freeRunBlocks(s, std::move(blocks), {});
}

/// Whether another output of the run returned the same block as output k.
bool sharesBlock(const kiln_session &s, size_t k) {
  for (size_t j = 0; j < s.outputState.size(); ++j)
    if (j != k && s.outputState[j].allocated == s.outputState[k].allocated)
      return true;
  return false;
}

/// With device I/O the results stay on the GPU: each requested output goes
/// from the run's device copy into the caller's device buffer.
kiln_status_t copyDeviceOutputs(kiln_session &s, kiln_tensor *outputs) {
  const kiln_model &m = *s.model;
  for (size_t k = 0; k < m.outputs.size(); ++k) {
    int64_t i = s.outputRequest[k];
    auto &o = s.outputState[k];
    if (i < 0 || o.bytes == 0)
      continue;
    std::string problem = o.contiguous ? s.gpu->copyOutput(outputs[i].data, o.data, o.bytes)
                                       : "its layout is not contiguous";
    if (!problem.empty())
      return makeStatusf(KILN_STATUS_DEVICE_UNAVAILABLE, "output '%s': %s",
                         m.outputs[k].name.c_str(), problem.c_str());
  }
  std::string problem = s.gpu->synchronize();
  return problem.empty() ? nullptr : makeStatus(KILN_STATUS_DEVICE_UNAVAILABLE, problem);
}

/// Reads the descriptors the model filled in, checks them, and gives the
/// requested outputs to the caller. Frees what is not handed over.
kiln_status_t collectOutputs(kiln_session &s, kiln_tensor *outputs, size_t numOutputs) {
  const kiln_model &m = *s.model;
  kiln_status_t status = nullptr;

  // 1. Read and check every descriptor.
  for (size_t k = 0; k < m.outputs.size(); ++k) {
    const TensorSig &sig = m.outputs[k];
    const int64_t *desc = s.outputDesc.data() + sig.descOffset;
    auto &o = s.outputState[k];
    o.allocated = loadPointer(desc + 0);
    o.handOver = nullptr;
    o.sizes = desc + 3;
    o.strides = desc + 3 + sig.rank;
    if (status)
      continue; // keep reading, to free every buffer
    if (!byteSize(o.sizes, sig.rank, sig.elementSize, o.bytes)) {
      status = makeStatusf(KILN_STATUS_INTERNAL, "the model returned output '%s' with shape %s",
                           sig.name.c_str(), shapeString(o.sizes, sig.rank).c_str());
      continue;
    }
    for (int32_t d = 0; d < sig.rank; ++d)
      if (sig.dims[d] >= 0 && o.sizes[d] != sig.dims[d] && !status)
        status = makeStatusf(KILN_STATUS_INTERNAL,
                             "the model returned output '%s' with shape %s, but its signature "
                             "says %s",
                             sig.name.c_str(), shapeString(o.sizes, sig.rank).c_str(),
                             shapeString(sig.dims.data(), sig.rank, sig.dimNamePtrs.data()).c_str());
    char *aligned = loadPointer(desc + 1);
    if (o.bytes > 0 && !aligned && !status)
      status = makeStatusf(KILN_STATUS_INTERNAL, "the model returned output '%s' without data",
                           sig.name.c_str());
    o.data = aligned + desc[2] * static_cast<int64_t>(sig.elementSize);
    o.contiguous = true;
    int64_t expected = 1;
    for (int32_t d = sig.rank - 1; d >= 0; --d) {
      if (o.sizes[d] != 1 && o.strides[d] != expected)
        o.contiguous = false;
      expected *= o.sizes[d];
    }
  }

  // 2. Check the caller buffers and make the runtime buffers, before
  //    anything is handed over or written.
  for (size_t k = 0; k < m.outputs.size() && !status; ++k) {
    int64_t i = s.outputRequest[k];
    if (i < 0)
      continue;
    const TensorSig &sig = m.outputs[k];
    auto &o = s.outputState[k];
    if (outputs[i].data) {
      if (outputs[i].byte_size < o.bytes)
        status = makeStatusf(KILN_STATUS_BUFFER_TOO_SMALL,
                             "output '%s' needs %zu bytes (%s %s), but its buffer has byte_size "
                             "%zu",
                             sig.name.c_str(), o.bytes, kiln_dtype_name(sig.dtype),
                             shapeString(o.sizes, sig.rank).c_str(), outputs[i].byte_size);
    } else if (o.bytes > 0 && o.contiguous && o.data == o.allocated &&
               o.allocated != kMlirDeadBeef && !sharesBlock(s, k)) {
      o.handOver = o.allocated; // the model's own malloc() block: no copy
    } else {
      o.handOver = std::malloc(o.bytes ? o.bytes : 1);
      if (!o.handOver)
        status = makeStatusf(KILN_STATUS_RESOURCE_EXHAUSTED,
                             "out of memory allocating %zu bytes for output '%s'", o.bytes,
                             sig.name.c_str());
    }
  }
  bool deviceIo = s.gpu && s.gpu->usesDeviceIo();
  if (!status && deviceIo)
    status = copyDeviceOutputs(s, outputs);
  if (status) {
    for (size_t k = 0; k < m.outputs.size(); ++k) {
      auto &o = s.outputState[k];
      if (o.handOver && o.handOver != o.allocated)
        std::free(o.handOver);
      o.handOver = nullptr;
    }
    freeOutputs(s);
    return status;
  }

  // 3. Commit: nothing below fails.
  for (size_t k = 0; k < m.outputs.size(); ++k) {
    int64_t i = s.outputRequest[k];
    if (i < 0)
      continue;
    const TensorSig &sig = m.outputs[k];
    auto &o = s.outputState[k];
    kiln_tensor &t = outputs[i];
    char *dst = static_cast<char *>(t.data ? t.data : o.handOver);
    if (dst != o.allocated && o.bytes > 0 && !deviceIo) {
      if (o.contiguous)
        std::memcpy(dst, o.data, o.bytes);
      else
        stridedCopy(dst, o.data, o.sizes, o.strides, sig.rank, sig.elementSize);
    }
    if (!t.data)
      t.data = o.handOver;
    t.byte_size = o.bytes;
    t.dtype = sig.dtype;
    t.rank = sig.rank;
    if (!t.name)
      t.name = sig.name.c_str();
    int64_t *dims = t.dims ? const_cast<int64_t *>(t.dims) : s.outputDims.data() + k * KILN_MAX_RANK;
    std::memcpy(dims, o.sizes, sizeof(int64_t) * sig.rank);
    t.dims = dims;
  }
  freeOutputs(s);
  return nullptr;
}

kiln_status_t runSession(kiln_session_t *session, const kiln_tensor *inputs, size_t numInputs,
                         kiln_tensor *outputs, size_t numOutputs) {
  if (!session)
    return invalid("kiln_session_run: session must not be NULL");
  if (numInputs > 0 && !inputs)
    return invalid("kiln_session_run: inputs is NULL but num_inputs is not 0");
  if (numOutputs > 0 && !outputs)
    return invalid("kiln_session_run: outputs is NULL but num_outputs is not 0");
  kiln_session &s = *session;
  std::lock_guard<std::mutex> lock(s.mutex);
  if (kiln_status_t st = bindInputs(s, inputs, numInputs))
    return st;
  if (kiln_status_t st = resolveOutputs(s, outputs, numOutputs))
    return st;
  std::fill(s.outputDesc.begin(), s.outputDesc.end(), 0);
  s.args[0] = s.outputDesc.data();
  s.args.back() = &s.context;
  if (s.profiler)
    s.profiler->beginRun();
  s.scratch.beginRun();
  s.failure = nullptr;
  if (s.gpu)
    if (kiln_status_t st = s.gpu->beginRun())
      return st;
  {
    uint32_t mode = currentFloatMode();
    FloatModeScope scope(s.keepDenormals ? mode : withDenormalsFlushed(mode));
    runModel(s); // s.failure says whether a check ended it
  }
  if (s.profiler)
    s.profiler->endRun();
  if (s.gpu)
    if (kiln_status_t st = s.gpu->finishRun()) {
      discardOutputs(s);
      return st;
    }
  // The device's checks were logged before any host check that ended the
  // run: the first of them to fail is the run's first failure.
  if (s.gpu && s.gpu->failedCheck())
    s.failure = s.gpu->failedCheck();
  if (s.failure) {
    discardOutputs(s);
    return invalid(s.failure);
  }
  return collectOutputs(s, outputs, numOutputs);
}

kiln_status_t createSession(kiln_model_t *model, const kiln_session_options *options,
                            kiln_session_t **out) {
  if (!model || !out)
    return invalid("kiln_session_create: model and out_session must not be NULL");
  kiln_session_options opts;
  kiln_session_options_initialize(&opts);
  if (options)
    if (kiln_status_t st = readOptions(options, opts))
      return st;
  if (opts.num_threads > kMaxThreads)
    return invalid(format("kiln_session_create: num_threads is %u (at most %u)", opts.num_threads,
                          kMaxThreads));
  std::unique_ptr<kiln_session> s(new kiln_session);
  const kiln_model &m = *model;
  s->inputDesc.assign(m.inputDescWords, 0);
  // At least one word so that args[0] is never NULL.
  s->outputDesc.assign(m.outputDescWords ? m.outputDescWords : 1, 0);
  s->args.assign(1 + m.inputs.size() + 1, nullptr); // outputs, inputs, context
  s->inputBinding.assign(m.inputs.size(), -1);
  s->outputRequest.assign(m.outputs.size(), -1);
  s->symbolValue.assign(m.symbolNames.size(), -1);
  s->symbolSource.assign(m.symbolNames.size(), {0, 0});
  s->outputDims.assign(m.outputs.size() * KILN_MAX_RANK, 0);
  s->outputState.resize(m.outputs.size());
  try {
    s->pool.reset(new ThreadPool(opts.num_threads));
  } catch (const std::system_error &e) {
    return makeStatusf(KILN_STATUS_RESOURCE_EXHAUSTED,
                       "kiln_session_create: cannot start %u threads: %s", opts.num_threads,
                       e.what());
  }
  s->context.abi_version = KILN_ABI_VERSION;
  s->context.num_threads = s->pool->numThreads();
  s->context.session = s.get();
  s->context.sgemm = sessionSgemm;
  s->context.scratch = sessionScratch;
  s->context.gemm = gemmForAbi<sessionGemm>(m.abiVersion);
  s->context.parallel_for = sessionParallelFor;
  s->context.qgemm = sessionQgemm;
  s->context.sparse_gemm = sessionSparseGemm;
  s->context.softmax = sessionSoftmax;
  s->context.sparse_qgemm = sessionSparseQgemm;
  s->context.attention = sessionAttention;
  s->context.layer_norm = sessionLayerNorm;
  s->context.fail = sessionFail;
  s->context.alloc = sessionAlloc;
  s->context.release = sessionRelease;
  s->keepDenormals = opts.keep_denormals != 0;
  if (opts.profile) {
    s->profiler.reset(new Profiler(m.regions));
    s->context.profile = sessionProfile;
  }
  if (m.gpuArch != 0 && opts.profile)
    return invalid("kiln_session_create: profile times each ONNX node's code on the CPU, and "
                   "this is a GPU model (kiln compile --target cuda), whose nodes are kernels "
                   "queued on the GPU: profile it with NVIDIA Nsight Systems or Compute (nsys "
                   "or ncu over kiln-run or kiln-bench; docs/gpu.md)");
  if (m.gpuArch != 0) {
    if (kiln_status_t st = GpuSession::create(int(m.gpuArch), int(m.gpuPrecision), m.gpuImage,
                                              m.gpuImageSize, opts.cuda_stream, s->gpu))
      return st;
    s->context.scratch = sessionGpuScratch;
    s->context.gemm = gemmForAbi<sessionGpuGemm>(m.abiVersion);
    s->context.sgemm = nullptr; // GPU models call gemm only
    s->context.qgemm = nullptr;
    s->context.sparse_gemm = nullptr;
    s->context.softmax = nullptr;
    s->context.sparse_qgemm = nullptr;
    s->context.attention = nullptr;
    s->context.layer_norm = nullptr;
    s->context.gpu_launch = sessionGpuLaunch;
    s->context.gpu_copy = sessionGpuCopy;
    s->context.gpu_constant = sessionGpuConstant;
    s->context.gpu_check = sessionGpuCheck;
    if (opts.device_io)
      s->gpu->useDeviceIo();
  } else if (opts.device_io || opts.cuda_stream) {
    return makeStatusf(KILN_STATUS_INVALID_ARGUMENT,
                       "kiln_session_create: %s is for GPU models (kiln compile --target "
                       "cuda), and this model is compiled for the CPU",
                       opts.device_io ? "device_io" : "cuda_stream");
  }
  kiln_model_retain(model);
  s->model = model;
  *out = s.release();
  return nullptr;
}

} // namespace

extern "C" {

kiln_status_t kiln_session_device_alloc(kiln_session_t *session, size_t bytes,
                                        void **out_device) {
  if (!session || !out_device)
    return makeStatus(KILN_STATUS_INVALID_ARGUMENT, "kiln_session_device_alloc: NULL argument");
  *out_device = nullptr;
  if (!session->gpu)
    return makeStatus(KILN_STATUS_INVALID_ARGUMENT,
                      "kiln_session_device_alloc: the session's model is not a GPU model");
  return session->gpu->deviceAlloc(bytes, out_device);
}

void kiln_session_device_free(kiln_session_t *session, void *device) {
  if (session && session->gpu)
    session->gpu->deviceFree(device);
}

kiln_status_t kiln_session_device_copy(kiln_session_t *session, void *dst, const void *src,
                                       size_t bytes, int32_t kind) {
  if (!session || ((!dst || !src) && bytes > 0))
    return makeStatus(KILN_STATUS_INVALID_ARGUMENT, "kiln_session_device_copy: NULL argument");
  if (!session->gpu)
    return makeStatus(KILN_STATUS_INVALID_ARGUMENT,
                      "kiln_session_device_copy: the session's model is not a GPU model");
  if (kind != KILN_GPU_COPY_HOST_TO_DEVICE && kind != KILN_GPU_COPY_DEVICE_TO_HOST)
    return makeStatusf(KILN_STATUS_INVALID_ARGUMENT,
                       "kiln_session_device_copy: kind %d is neither KILN_GPU_COPY_HOST_TO_DEVICE "
                       "nor KILN_GPU_COPY_DEVICE_TO_HOST",
                       int(kind));
  if (bytes == 0)
    return nullptr;
  return session->gpu->deviceCopy(dst, src, bytes, kind);
}

kiln_status_t kiln_session_wait_stream(kiln_session_t *session, void *cuda_stream) {
  if (!session)
    return makeStatus(KILN_STATUS_INVALID_ARGUMENT, "kiln_session_wait_stream: NULL session");
  if (!session->gpu)
    return makeStatus(KILN_STATUS_INVALID_ARGUMENT,
                      "kiln_session_wait_stream: the session's model is not a GPU model");
  std::lock_guard<std::mutex> lock(session->mutex); // not during a run
  std::string problem = session->gpu->waitFor(static_cast<kiln::cuda::CUstream>(cuda_stream));
  if (!problem.empty())
    return makeStatus(KILN_STATUS_DEVICE_UNAVAILABLE,
                      "kiln_session_wait_stream on " + session->gpu->deviceName() + ": " +
                          problem);
  return nullptr;
}

void kiln_session_options_initialize(kiln_session_options *options) {
  if (options) {
    options->struct_size = sizeof *options;
    options->num_threads = 0;
    options->profile = 0;
    options->keep_denormals = 0;
    options->device_io = 0;
    options->cuda_stream = nullptr;
  }
}

kiln_status_t kiln_session_create(kiln_model_t *model, const kiln_session_options *options,
                                  kiln_session_t **out_session) {
  try {
    return createSession(model, options, out_session);
  } catch (const std::bad_alloc &) {
    return outOfMemoryStatus();
  } catch (const std::exception &e) {
    return makeStatusf(KILN_STATUS_INTERNAL, "kiln_session_create: %s", e.what());
  }
}

void kiln_session_release(kiln_session_t *session) { delete session; }

uint32_t kiln_session_num_threads(const kiln_session_t *session) {
  return session ? session->pool->numThreads() : 0;
}

uint64_t kiln_session_gemm_flops(kiln_session_t *session) {
  if (!session)
    return 0;
  std::lock_guard<std::mutex> lock(session->mutex); // not during a run
  return session->gemmFlops;
}

uint32_t kiln_model_num_regions(const kiln_model_t *model) {
  return model ? static_cast<uint32_t>(model->regions.size()) : 0;
}

const char *kiln_model_region_name(const kiln_model_t *model, uint32_t index) {
  return model && index < model->regions.size() ? model->regions[index].name.c_str() : nullptr;
}

const char *kiln_model_region_op_type(const kiln_model_t *model, uint32_t index) {
  return model && index < model->regions.size() ? model->regions[index].opType.c_str()
                                                 : nullptr;
}

kiln_status_t kiln_session_write_profile(const kiln_session_t *session, const char *path) {
  if (!session || !path)
    return invalid("kiln_session_write_profile: session and path must not be NULL");
  if (!session->profiler)
    return invalid("kiln_session_write_profile: the session was created without profiling "
                   "(set kiln_session_options.profile)");
  if (!session->profiler->writeChromeTrace(path))
    return makeStatusf(KILN_STATUS_IO, "cannot write the profile to '%s': %s", path,
                       std::strerror(errno));
  return nullptr;
}

kiln_status_t kiln_session_profile_totals(const kiln_session_t *session, double *microseconds,
                                          uint32_t count) {
  if (!session || (count > 0 && !microseconds))
    return invalid("kiln_session_profile_totals: session and microseconds must not be NULL");
  if (!session->profiler)
    return invalid("kiln_session_profile_totals: the session was created without profiling "
                   "(set kiln_session_options.profile)");
  std::vector<double> totals = session->profiler->totalsMicroseconds();
  if (count > totals.size())
    return invalid(format("kiln_session_profile_totals: count is %u, but the model has %zu "
                          "profile regions",
                          count, totals.size()));
  std::copy(totals.begin(), totals.begin() + count, microseconds);
  return nullptr;
}

kiln_status_t kiln_session_run(kiln_session_t *session, const kiln_tensor *inputs,
                               size_t num_inputs, kiln_tensor *outputs, size_t num_outputs) {
  try {
    return runSession(session, inputs, num_inputs, outputs, num_outputs);
  } catch (const std::bad_alloc &) {
    return outOfMemoryStatus();
  } catch (const std::exception &e) {
    return makeStatusf(KILN_STATUS_INTERNAL, "kiln_session_run: %s", e.what());
  }
}

} // extern "C"
