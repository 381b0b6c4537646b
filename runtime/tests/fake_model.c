/*===- fake_model.c - A model library written by hand, for tests ----------===*
 *
 * Implements the ABI of kiln_abi.h the way `kiln compile` output does, so the
 * runtime can be tested without the compiler:
 *
 *   inputs   x    float32 [batch, 4]
 *            bias float32 [4]
 *   outputs  y    float32 [batch, 4]   y = x + bias
 *            s    float32 [batch]      s = row sums of x
 *
 * `y` is a block from the run's context (kiln_runtime_context::alloc, as
 * compiled models of ABI 17 take their outputs; a plain malloc() block for
 * older ABIs); `s` is a malloc() block, as models before ABI 17 allocate,
 * over-allocated and aligned to 64 bytes with a non-zero offset, the way
 * MLIR lowers aligned allocations, so that `aligned + offset != allocated`.
 * A NaN in bias[0] (never a random input's) fails the run's check
 * (kiln_runtime_context::fail) once `y` and a temporary block are
 * allocated, before the output descriptors are written: the runtime must
 * free both. Variants, by macro:
 *   FAKE_ABI_VERSION=n  reports ABI version n; with n = 7 or 15, computes s
 *                       by ctx->gemm with a descriptor of that ABI's 27 or
 *                       28 words, followed in memory by words that are no
 *                       valid b_type, a_type, c_type (the fields ABI 8 and
 *                       16 appended): the runtime must not read them from
 *                       an older model
 *   FAKE_BAD_TABLE      declares `bias` with rank 9 (a malformed table)
 *   FAKE_STRIDED_Y      returns y column-major (strides {1, batch})
 *   FAKE_BAD_OUTPUT     returns y as [batch, 5], contradicting its signature
 *   FAKE_AVX512         says its code needs AVX-512 (F and BW) besides SSE3
 *   FAKE_UNCHECKED      says its code needs only features the runtime cannot
 *                       check (and turns one it can check off)
 *   FAKE_FOREIGN_TABLE  returns its table from malloc(), outside the library
 *   FAKE_FOREIGN_NAME   names output `s` with a malloc() string
 *
 *===----------------------------------------------------------------------===*/
#include "kiln/kiln_abi.h"

#include <stdint.h>
#include <stdlib.h>

#ifndef FAKE_ABI_VERSION
#define FAKE_ABI_VERSION KILN_ABI_VERSION
#endif

#define EXPORT __attribute__((visibility("default")))

/* MLIR memref descriptors of rank 1 and 2. */
typedef struct {
  float *allocated, *aligned;
  int64_t offset, sizes[1], strides[1];
} memref1_f32;
typedef struct {
  float *allocated, *aligned;
  int64_t offset, sizes[2], strides[2];
} memref2_f32;

static const int64_t x_dims[] = {-1, 4};
static const char *const x_dim_names[] = {"batch", ""};
#ifdef FAKE_BAD_TABLE
static const int64_t bias_dims[] = {4, 1, 1, 1, 1, 1, 1, 1, 1};
static const char *const bias_dim_names[] = {"", "", "", "", "", "", "", "", ""};
#define BIAS_RANK 9
#else
static const int64_t bias_dims[] = {4};
static const char *const bias_dim_names[] = {""};
#define BIAS_RANK 1
#endif
static const int64_t s_dims[] = {-1};
static const char *const s_dim_names[] = {"batch"};

static const kiln_abi_tensor inputs[] = {
    {"x", KILN_DTYPE_FLOAT32, 2, x_dims, x_dim_names},
    {"bias", KILN_DTYPE_FLOAT32, BIAS_RANK, bias_dims, bias_dim_names},
};
#ifdef FAKE_FOREIGN_NAME
static kiln_abi_tensor outputs[] = { /* s's name is set by the accessor */
#else
static const kiln_abi_tensor outputs[] = {
#endif
    {"y", KILN_DTYPE_FLOAT32, 2, x_dims, x_dim_names},
    {"s", KILN_DTYPE_FLOAT32, 1, s_dims, s_dim_names},
};

/* The output block: the descriptors back to back. */
typedef struct {
  memref2_f32 y;
  memref1_f32 s;
} results;

/* Two profile regions, as a compiled model brackets each ONNX node. */
static const kiln_abi_region regions[] = {{"add_bias", "Add"}, {"row_sums", "MatMul"}};

static void mark(const kiln_runtime_context *ctx, int64_t region, int64_t phase) {
  if (ctx->profile)
    ctx->profile(ctx, region, phase);
}

static void run(void **args) {
  results *out = (results *)args[0];
  const memref2_f32 *x = (const memref2_f32 *)args[1];
  const memref1_f32 *bias = (const memref1_f32 *)args[2];
  const kiln_runtime_context *ctx = (const kiln_runtime_context *)args[3];
  int64_t n = x->sizes[0];
  mark(ctx, 0, 0);
#define X(i, j) x->aligned[x->offset + (i) * x->strides[0] + (j) * x->strides[1]]
#define B(j) bias->aligned[bias->offset + (j) * bias->strides[0]]

#if FAKE_ABI_VERSION >= 17
  float *y = (float *)ctx->alloc(ctx, n * 4 * (int64_t)sizeof(float) + 1);
  /* A buffer the model frees itself, as compiled code releases one sized
   * inside a loop. */
  void *temporary = ctx->alloc(ctx, n * 4 * (int64_t)sizeof(float));
  /* Compiled code fills the output descriptors as it returns: a check
   * that fails before leaves the runtime only its list of blocks. */
  if (B(0) != B(0))
    ctx->fail(ctx, "fake_model: bias[0] is NaN"); /* does not return */
#else
  float *y = (float *)malloc((size_t)n * 4 * sizeof(float) + 1);
#endif
  out->y.allocated = out->y.aligned = y;
  out->y.offset = 0;
  out->y.sizes[0] = n;
  out->y.sizes[1] = 4;
#ifdef FAKE_STRIDED_Y
  out->y.strides[0] = 1;
  out->y.strides[1] = n;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < 4; ++j)
      y[j * n + i] = X(i, j) + B(j);
#else
  out->y.strides[0] = 4;
  out->y.strides[1] = 1;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < 4; ++j)
      y[i * 4 + j] = X(i, j) + B(j);
#endif
#ifdef FAKE_BAD_OUTPUT
  out->y.sizes[1] = 5;
#endif
  mark(ctx, 0, 1);
#if FAKE_ABI_VERSION >= 17
  ctx->release(ctx, temporary);
#endif

  char *raw = (char *)malloc((size_t)n * sizeof(float) + 64 + 2 * sizeof(float));
  float *aligned = (float *)(((uintptr_t)raw + 63) & ~(uintptr_t)63);
  out->s.allocated = (float *)raw;
  out->s.aligned = aligned;
  out->s.offset = 2;
  out->s.sizes[0] = n;
  out->s.strides[0] = 1;
  /* s = x . ones(4) through the run's context, as compiled models call the
   * runtime's GEMM: m = n rows, n = 1 column, k = 4, B broadcast (strides 0). */
  static const float one = 1.0f;
  mark(ctx, 1, 0);
#if FAKE_ABI_VERSION == 7 || FAKE_ABI_VERSION == 15
  /* kiln_gemm_desc as ABI 7 knew it: m, n, k, a, a_rs, a_cs, b, b_rs, b_cs,
   * b_panel, c, ldc, accumulate, bias, activation, residual, residual_rs,
   * batch[2], then 8 batch strides (0); ABI 8 to 15 append b_type. */
  int64_t desc[KILN_GEMM_DESC_FIELDS] = {
      n, 1, 4, (int64_t)(intptr_t)(x->aligned + x->offset), x->strides[0], x->strides[1],
      (int64_t)(intptr_t)&one, 0, 0, 0, (int64_t)(intptr_t)(aligned + 2), 1, 0, 0, 0, 0, 0, 1, 1};
  int words = FAKE_ABI_VERSION == 7 ? KILN_GEMM_DESC_FIELDS_ABI7 : KILN_GEMM_DESC_FIELDS_ABI15;
  desc[KILN_GEMM_DESC_FIELDS_ABI7] = KILN_DTYPE_FLOAT32; /* b_type, from ABI 8 */
  for (int i = words; i < KILN_GEMM_DESC_FIELDS; ++i)
    desc[i] = 99; /* what happens to lie after it */
  ctx->gemm(ctx, (const kiln_gemm_desc *)desc);
#else
  ctx->sgemm(ctx, n, 1, 4, x->aligned + x->offset, x->strides[0], x->strides[1], &one, 0, 0,
             aligned + 2, 1, 0);
#endif
  mark(ctx, 1, 1);
}

/* kiln_model_abi::target_cpu and target_features. */
#if defined(FAKE_AVX512)
#define TARGET_CPU "skylake-avx512"
#define TARGET_FEATURES "+sse3,+avx512f,+avx512bw"
#elif defined(FAKE_UNCHECKED)
#define TARGET_CPU "future-cpu"
#define TARGET_FEATURES "+avx99,+prefetchi,-sse3"
#else
#define TARGET_CPU "x86-64"
#define TARGET_FEATURES ""
#endif

static const kiln_model_abi abi = {
    FAKE_ABI_VERSION, 2, 2, inputs, outputs, "fake_model.c (hand-written test model)", run,
    2, regions, /* pipeline */ NULL, /* gpu_arch */ 0, 0, NULL, 0, TARGET_CPU, TARGET_FEATURES,
};

/* The exported symbol is `kiln_model_abi`, but C cannot name a function like
 * the kiln_abi.h typedef, so the C name differs and an asm label sets the
 * symbol. */
EXPORT const kiln_model_abi *model_abi(void) __asm__(KILN_MODEL_ABI_SYMBOL);
#if defined(FAKE_FOREIGN_TABLE)
#include <string.h>
static kiln_model_abi *heap_abi; /* reachable: not a leak */
const kiln_model_abi *model_abi(void) {
  if (!heap_abi) {
    heap_abi = malloc(sizeof abi);
    memcpy(heap_abi, &abi, sizeof abi);
  }
  return heap_abi;
}
#elif defined(FAKE_FOREIGN_NAME)
#include <string.h>
static char *heap_name; /* reachable: not a leak */
const kiln_model_abi *model_abi(void) {
  if (!heap_name) {
    heap_name = malloc(2);
    strcpy(heap_name, "s");
    outputs[1].name = heap_name;
  }
  return &abi;
}
#else
const kiln_model_abi *model_abi(void) { return &abi; }
#endif
