/*===- kiln.h - The Kiln runtime C API ------------------------------------===*
 *
 * Loads a model compiled by `kiln compile` (a shared library exporting
 * `kiln_model_abi`, see kiln_abi.h) and runs it on caller tensors.
 *
 *   kiln_model_t *model;
 *   kiln_status_t st = kiln_model_load("model.so", &model);
 *   if (st) { fprintf(stderr, "%s\n", kiln_status_message(st));
 *             kiln_status_free(st); return 1; }
 *   kiln_session_t *session;
 *   st = kiln_session_create(model, NULL, &session);       // default options
 *   ...
 *   int64_t xdims[2] = {2, 4};
 *   kiln_tensor in[1] = {{"x", KILN_DTYPE_FLOAT32, 2, xdims, x, sizeof x}};
 *   kiln_tensor out[1] = {{"y"}};           // data NULL: the runtime allocates
 *   st = kiln_session_run(session, in, 1, out, 1);
 *   ... use out[0].dims, out[0].data ...
 *   kiln_tensor_free(out[0].data);
 *   kiln_session_release(session);
 *   kiln_model_release(model);
 *
 * Everything is plain C; the runtime links only libc, libstdc++, libpthread
 * and libdl. docs/runtime-api.md has the full guide.
 *
 * STATUS. Every fallible call returns a kiln_status_t: NULL means success;
 * anything else is an error the caller owns and must kiln_status_free(). The
 * message is one line that names what is wrong (the input, the dim, the
 * file). Out-parameters are left untouched on failure unless said otherwise.
 *
 * OWNERSHIP AND LIFETIME.
 *  - kiln_model_t: created by kiln_model_load, reference counted. Every
 *    session holds a reference, so kiln_model_release may come before the
 *    sessions are released: the library is unloaded (dlclose) when the last
 *    of them goes. Strings and arrays returned by the kiln_model_* queries
 *    stay valid until then.
 *  - kiln_session_t: created by kiln_session_create, destroyed by
 *    kiln_session_release (never while a run on that session is in
 *    progress). A session owns scratch space and a C++ thread pool of
 *    num_threads - 1 workers for intra-op parallelism, which sleep on a
 *    condition variable while idle. A compiled model's GEMMs run on it
 *    (through the kiln_runtime_context of each run, see kiln_abi.h).
 *  - Input tensors: borrowed for the duration of kiln_session_run only. The
 *    model reads the caller's memory in place (zero copy) and never writes it.
 *  - Output tensors: see kiln_session_run.
 *
 * THREAD SAFETY.
 *  - A loaded model is immutable: any number of sessions on one model may
 *    run at the same time on different threads, and the kiln_model_*
 *    queries may be called from any thread.
 *  - A session runs one call at a time. Concurrent kiln_session_run calls on
 *    the SAME session are serialized by a lock (safe, but not parallel; and
 *    outputs whose dims live in session storage are then overwritten by the
 *    next run, see kiln_session_run). For parallel inference use one session
 *    per thread.
 *  - kiln_status_* and kiln_tensor_free are thread-safe.
 *
 *===----------------------------------------------------------------------===*/
#ifndef KILN_H
#define KILN_H

#include <stddef.h>
#include <stdint.h>

#include "kiln/kiln_abi.h"

#if defined(_WIN32)
#define KILN_API
#elif defined(__GNUC__)
#define KILN_API __attribute__((visibility("default")))
#else
#define KILN_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The runtime's version (KILN_ABI_VERSION, in kiln_abi.h, is the version of
 * the model library format it loads). */
#define KILN_RUNTIME_VERSION_MAJOR 0
#define KILN_RUNTIME_VERSION_MINOR 1
#define KILN_RUNTIME_VERSION_PATCH 0

/* The highest tensor rank the runtime handles (inputs, outputs, dims). */
#define KILN_MAX_RANK 8

/*===------------------------------------------------------------------------===
 * Status
 *===------------------------------------------------------------------------===*/

typedef enum kiln_status_code_e {
  KILN_STATUS_OK = 0,
  /* A NULL handle or pointer, bad options, or tensors that do not match the
   * model: unknown/duplicate/missing input, wrong dtype, rank or dims,
   * conflicting symbolic dims, a too-small input buffer. */
  KILN_STATUS_INVALID_ARGUMENT = 1,
  /* The model file does not exist (or cannot be opened). */
  KILN_STATUS_NOT_FOUND = 2,
  /* The file is not a Kiln model: not a loadable shared library, no
   * `kiln_model_abi` symbol, or a malformed signature table. */
  KILN_STATUS_INVALID_MODEL = 3,
  /* A Kiln model built for a different KILN_ABI_VERSION. */
  KILN_STATUS_ABI_MISMATCH = 4,
  /* A caller-provided output buffer is smaller than the output. */
  KILN_STATUS_BUFFER_TOO_SMALL = 5,
  /* Memory or threads could not be allocated. */
  KILN_STATUS_RESOURCE_EXHAUSTED = 6,
  /* The model misbehaved (e.g. returned an output that contradicts its own
   * signature) or the runtime hit a bug. */
  KILN_STATUS_INTERNAL = 7,
  /* A file the runtime was asked to write cannot be written. */
  KILN_STATUS_IO = 8,
  /* The model needs a device this machine does not offer: a GPU model
   * (kiln compile --target cuda) with no CUDA driver or GPU, a GPU older
   * than the model's architecture, or a GPU failure during a run. */
  KILN_STATUS_DEVICE_UNAVAILABLE = 9,
  /* The model's code uses instructions this CPU lacks (it was compiled for
   * another CPU, e.g. one with AVX-512): the message names the missing
   * features. Recompile it for this CPU (kiln compile --mcpu=native) or for
   * an x86-64 level it has (--mcpu=x86-64-v3). */
  KILN_STATUS_UNSUPPORTED_CPU = 10,
} kiln_status_code_t;

/* NULL is success. Owned by the caller: free it with kiln_status_free. */
typedef struct kiln_status_s *kiln_status_t;

/* KILN_STATUS_OK for NULL. */
KILN_API kiln_status_code_t kiln_status_code(kiln_status_t status);
/* A one-line, NUL-terminated message; "OK" for NULL. Valid until the status
 * is freed. */
KILN_API const char *kiln_status_message(kiln_status_t status);
/* A stable name for a code, e.g. "INVALID_ARGUMENT". */
KILN_API const char *kiln_status_code_name(kiln_status_code_t code);
/* Frees a status; NULL is a no-op. */
KILN_API void kiln_status_free(kiln_status_t status);

/*===------------------------------------------------------------------------===
 * Element types (enum kiln_dtype in kiln_abi.h: the ONNX codes)
 *===------------------------------------------------------------------------===*/

/* Bytes per element, or 0 for a code the runtime does not know. */
KILN_API size_t kiln_dtype_size(int32_t dtype);
/* "float32", "int64", ...; "unknown" for a code the runtime does not know.
 * A static string. */
KILN_API const char *kiln_dtype_name(int32_t dtype);

/* "0.1.0": the runtime's version. A static string. */
KILN_API const char *kiln_runtime_version(void);

/*===------------------------------------------------------------------------===
 * Models
 *===------------------------------------------------------------------------===*/

typedef struct kiln_model kiln_model_t;

/* Loads a compiled model library: dlopen(RTLD_LOCAL | RTLD_NOW), looks up
 * `kiln_model_abi`, checks the ABI version, that the CPU has every x86
 * instruction set extension the model's code uses (before any of that code
 * runs, instead of a SIGILL in the first run), and that the signature table
 * is well formed. A path without '/' is taken relative to the working directory
 * (never searched for on the library path). The weights live in the
 * library's read-only data, so they are memory-mapped from the file, not
 * copied: do not overwrite the file while the model is loaded (deleting it,
 * or replacing it by a rename, is safe).
 * Errors: NOT_FOUND (no such file), INVALID_MODEL (not a loadable shared
 * library, not a Kiln model, malformed table), ABI_MISMATCH, UNSUPPORTED_CPU. */
KILN_API kiln_status_t kiln_model_load(const char *path, kiln_model_t **out_model);

/* Drops the caller's reference (see OWNERSHIP above). NULL is a no-op. */
KILN_API void kiln_model_release(kiln_model_t *model);
/* Takes another reference; release it with kiln_model_release. */
KILN_API void kiln_model_retain(kiln_model_t *model);

/* The `producer` string the compiler recorded (e.g. "kiln 0.1 -O2 x86-64");
 * "" if none. Valid while the model is loaded. */
KILN_API const char *kiln_model_producer(const kiln_model_t *model);

KILN_API size_t kiln_model_num_inputs(const kiln_model_t *model);
KILN_API size_t kiln_model_num_outputs(const kiln_model_t *model);

/* One graph input or output as compiled. All pointers are owned by the model
 * and valid while it is loaded. */
typedef struct kiln_tensor_info {
  const char *name;             /* ONNX value name */
  int32_t dtype;                /* enum kiln_dtype */
  int32_t rank;                 /* 0 .. KILN_MAX_RANK */
  const int64_t *dims;          /* rank entries; -1 for a symbolic dim */
  const char *const *dim_names; /* rank entries, never NULL entries: the
                                   symbolic dim's name ("batch", "sequence"),
                                   "" where unnamed or static */
} kiln_tensor_info;

/* Fills *out_info for input/output `index` (0-based, in model order).
 * Errors: INVALID_ARGUMENT for NULL pointers or an index out of range. */
KILN_API kiln_status_t kiln_model_input_info(const kiln_model_t *model, size_t index,
                                             kiln_tensor_info *out_info);
KILN_API kiln_status_t kiln_model_output_info(const kiln_model_t *model, size_t index,
                                              kiln_tensor_info *out_info);

/* The index of the input/output with that name, or -1. */
KILN_API int64_t kiln_model_find_input(const kiln_model_t *model, const char *name);
KILN_API int64_t kiln_model_find_output(const kiln_model_t *model, const char *name);

/*===------------------------------------------------------------------------===
 * Sessions
 *===------------------------------------------------------------------------===*/

typedef struct kiln_session kiln_session_t;

/* Fill it with kiln_session_options_initialize, then set fields: the
 * struct grows (new fields at the end, defaulting to zero), and
 * struct_size tells the runtime which version the caller has. A newer
 * runtime gives fields past a caller's struct_size their defaults; an
 * older one rejects (INVALID_ARGUMENT) a caller that set fields it does
 * not know. */
typedef struct kiln_session_options {
  /* sizeof(kiln_session_options) in the kiln.h the caller was compiled
   * with. Set by kiln_session_options_initialize; do not change it. */
  uint32_t struct_size;
  /* Intra-op parallelism: the number of threads that work on one run,
   * counting the calling thread (the session starts num_threads - 1 worker
   * threads, which sleep while idle). 0 = std::thread::hardware_concurrency().
   * 1 = no worker threads. At most 1024. The runtime's GEMMs and, from
   * -O1, the model's loops without cross-iteration reductions run on them;
   * small GEMMs use fewer threads where more would not pay. */
  uint32_t num_threads;
  /* Non-zero: time the code of every ONNX node in every run, for
   * kiln_session_write_profile and kiln_session_profile_totals. Costs two
   * clock reads per node; off by default. CPU models only: a GPU model's
   * nodes are kernels queued on the GPU, which this does not time
   * (INVALID_ARGUMENT; profile those with NVIDIA Nsight). */
  uint32_t profile;
  /* 0 (the default): runs compute with denormal floats flushed to zero (on
   * x86, MXCSR FTZ/DAZ, set for the run and restored after it, also on the
   * worker threads). Values below 1.2e-38 then read and write as 0, and
   * attention, whose far-off probabilities are denormal, runs many times
   * faster. Non-zero: keep IEEE denormals. A GPU model's kernels are
   * compiled the same either way (without flush-to-zero, except the
   * hardware's approximate exp2 and reciprocal, which flush); this sets only
   * its host code's mode. */
  uint32_t keep_denormals;
  /* GPU models only (kiln compile --target cuda). 0 (the default): inputs
   * and outputs are host memory, and each run copies them to and from the
   * GPU. Non-zero: DEVICE I/O: every input's data is device memory (device
   * 0's, e.g. from cudaMalloc, kiln_session_device_alloc or a PyTorch CUDA
   * tensor's data_ptr()) and every output must be given a caller device
   * buffer (data != NULL, byte_size bytes), into which the result is
   * copied on the GPU; nothing crosses the PCIe bus. The run still returns
   * when its work is done. Without cuda_stream, a run first waits (on the
   * GPU) for the work queued on the legacy default stream before it, where
   * PyTorch and CuPy compute by default: inputs they are still computing
   * are read once written. Work on other streams must be finished first
   * (synchronize them), waited for (kiln_session_wait_stream), or run on
   * the stream named in cuda_stream.
   * INVALID_ARGUMENT for a CPU model. */
  uint32_t device_io;
  /* GPU models only. NULL (the default): the session's work runs on a
   * stream of its own. Else a CUstream (cudaStream_t) of device 0's primary
   * context, e.g. torch.cuda.current_stream().cuda_stream: every run's
   * copies, kernels, GEMMs and CUDA graph launches are queued on it, after
   * what the caller queued there before, and the run returns when that
   * stream is idle. The stream must outlive the session.
   * INVALID_ARGUMENT for a CPU model. */
  void *cuda_stream;
} kiln_session_options;

/* Sets struct_size and the defaults: num_threads = 0, profile = 0,
 * keep_denormals = 0, device_io = 0, cuda_stream = NULL (every field added
 * later defaults to 0 too). */
KILN_API void kiln_session_options_initialize(kiln_session_options *options);

/* Creates a session on `model` (retaining it). `options` may be NULL for
 * the defaults; it is not referenced after the call.
 * Errors: INVALID_ARGUMENT (num_threads over 1024, options not filled by
 * kiln_session_options_initialize), RESOURCE_EXHAUSTED (threads). */
KILN_API kiln_status_t kiln_session_create(kiln_model_t *model,
                                           const kiln_session_options *options,
                                           kiln_session_t **out_session);

/* Joins the worker threads, drops the model reference. NULL is a no-op. */
KILN_API void kiln_session_release(kiln_session_t *session);

/* The session's thread count (options resolved: never 0). */
KILN_API uint32_t kiln_session_num_threads(const kiln_session_t *session);

/* The floating-point operations (2 per multiply-add) of the runtime GEMM
 * calls that the session's runs have made so far: the model's MatMul, Gemm
 * and Conv layers and attention's products (fp32 and int8 alike), at the
 * sizes they ran with; not the loops `kiln compile` generates (elementwise
 * ops, softmax, norms). kiln-bench divides one run's count by its latency.
 * Waits for a run in progress. 0 for NULL. */
KILN_API uint64_t kiln_session_gemm_flops(kiln_session_t *session);

/* PROFILING. A compiled model has one profile region per ONNX node it
 * computes (the node's name and op type). A session created with
 * options.profile times each region in every run. */
KILN_API uint32_t kiln_model_num_regions(const kiln_model_t *model);
/* Region `index`'s ONNX node name and op type; NULL when out of range. */
KILN_API const char *kiln_model_region_name(const kiln_model_t *model, uint32_t index);
KILN_API const char *kiln_model_region_op_type(const kiln_model_t *model, uint32_t index);
/* Writes every region and run timed so far as a Chrome trace (JSON for
 * chrome://tracing or ui.perfetto.dev) to `path`.
 * Errors: INVALID_ARGUMENT (NULL arguments, a session without profiling),
 * IO (the file cannot be written). */
KILN_API kiln_status_t kiln_session_write_profile(const kiln_session_t *session,
                                                  const char *path);
/* Fills microseconds[i] with the time spent in region i over all runs so
 * far, for i < count (count at most kiln_model_num_regions).
 * Errors: INVALID_ARGUMENT. */
KILN_API kiln_status_t kiln_session_profile_totals(const kiln_session_t *session,
                                                   double *microseconds, uint32_t count);

/* A dense, row-major tensor. */
typedef struct kiln_tensor {
  const char *name;     /* the model input/output name */
  int32_t dtype;        /* enum kiln_dtype */
  int32_t rank;
  const int64_t *dims;  /* rank entries */
  void *data;           /* naturally aligned for dtype */
  size_t byte_size;     /* size of the buffer at data, in bytes */
} kiln_tensor;

/* Runs the model once.
 *
 * INPUTS (read only; borrowed for the call; zero copy):
 *   Bound by name, in any order; every model input exactly once. Each must
 *   have the model's dtype and rank; every static dim must match; symbolic
 *   dims may be any size >= 0, but dims that share a name (e.g. `batch`,
 *   `sequence`) must agree across all inputs. byte_size must be at least
 *   (product of dims) * kiln_dtype_size(dtype); data must be non-NULL (unless
 *   the tensor is empty) and aligned to the element size. The model reads
 *   the data in place: the runtime builds memref descriptors that point at
 *   the caller's memory.
 *
 * OUTPUTS (num_outputs may be 0 .. kiln_model_num_outputs):
 *   outputs[i] asks for the model output named outputs[i].name, or, if name
 *   is NULL, for model output i (name is then set to the model's name). Each
 *   model output may be asked for once; outputs not asked for are computed
 *   and dropped. On entry the runtime reads only name, dims and data/
 *   byte_size; on success it sets dtype, rank, dims' contents, data and
 *   byte_size (the exact size of the result):
 *
 *   data == NULL on entry: the runtime hands over a buffer holding the
 *     result (its own; usually the model's, without a copy), which the
 *     caller owns and must free with kiln_tensor_free(data). Never NULL on
 *     success, even for an empty tensor.
 *   data != NULL on entry: a caller buffer of byte_size bytes; the result is
 *     copied into it. BUFFER_TOO_SMALL if byte_size is less than the result.
 *
 *   dims == NULL on entry: the runtime sets dims to an array it owns in the
 *     session, valid until the next kiln_session_run on this session or
 *     kiln_session_release. Reusing the kiln_tensor array for the next run
 *     on the same session is fine; for another session, reset dims to NULL
 *     first (it would otherwise be taken for a caller array).
 *   dims != NULL on entry: it must point at a writable caller array of
 *     KILN_MAX_RANK int64_t (declared const only because inputs share this
 *     struct); the runtime writes the shape there. Use this when several
 *     threads share one session, or to keep shapes across runs.
 *
 * ON FAILURE nothing is handed over and nothing is written: every field of
 * outputs[i] and every caller buffer keeps its entry value (the runtime
 * checks all outputs before it copies or hands over any of them).
 *
 * Errors: INVALID_ARGUMENT (input binding, unknown/duplicate output names),
 * BUFFER_TOO_SMALL, RESOURCE_EXHAUSTED, INTERNAL. */
KILN_API kiln_status_t kiln_session_run(kiln_session_t *session, const kiln_tensor *inputs,
                                        size_t num_inputs, kiln_tensor *outputs,
                                        size_t num_outputs);

/* Frees an output buffer the runtime handed over (kiln_tensor.data after a
 * run with data == NULL on entry). NULL is a no-op. */
KILN_API void kiln_tensor_free(void *data);

/* DEVICE MEMORY, for sessions of GPU models (with device_io, say), so that a
 * program needs nothing of CUDA itself: memory on the session's GPU, freed
 * with kiln_session_device_free (NULL is a no-op) before the session is
 * released, and synchronous copies, `kind` KILN_GPU_COPY_HOST_TO_DEVICE (dst
 * on the GPU) or KILN_GPU_COPY_DEVICE_TO_HOST (src on the GPU): they follow
 * the work queued on the legacy default stream, and when the call returns
 * the data is at its destination, so a run right after reads it.
 * Errors: INVALID_ARGUMENT (a CPU model's session, NULL pointers, another
 * kind), RESOURCE_EXHAUSTED, DEVICE_UNAVAILABLE (a driver error). */
KILN_API kiln_status_t kiln_session_device_alloc(kiln_session_t *session, size_t bytes,
                                                 void **out_device);
KILN_API void kiln_session_device_free(kiln_session_t *session, void *device);
KILN_API kiln_status_t kiln_session_device_copy(kiln_session_t *session, void *dst,
                                                const void *src, size_t bytes, int32_t kind);

/* GPU models: the session's next runs start (on the GPU; the host does not
 * wait) after the work queued on `cuda_stream` (a CUstream of device 0's
 * primary context; NULL is the legacy default stream) before this call:
 * for device inputs made on a stream the session does not otherwise wait
 * for (see kiln_session_options::device_io and ::cuda_stream).
 * Errors: INVALID_ARGUMENT (a CPU model's session), DEVICE_UNAVAILABLE (a
 * driver error). */
KILN_API kiln_status_t kiln_session_wait_stream(kiln_session_t *session, void *cuda_stream);

#ifdef __cplusplus
}
#endif

#endif /* KILN_H */
