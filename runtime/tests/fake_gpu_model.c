/*===- fake_gpu_model.c - A GPU model library written by hand, for tests --===*
 *
 * Implements the ABI of kiln_abi.h the way `kiln compile --target cuda`
 * output does, for the fake CUDA driver of fake_cuda.cpp (whose kernels are
 * host functions found by name):
 *
 *   input   x  float32 [64]
 *   output  y  float32 [64]   y = (2 x + 1) + x
 *
 * The host code does what generated GPU host code does: device scratch
 * from the context, the input copied to the device, two kernel launches,
 * the result copied back into a fresh host buffer that the model returns.
 *
 * FAKE_ABI_VERSION=15 reports ABI 15 and copies the sum through ctx->gemm
 * (1 times it, a cuBLASLt GEMM) with a descriptor of ABI 15's 28 words,
 * followed in memory by words that are no valid a_type and c_type (the
 * fields ABI 16 appended): the runtime must not read them from an ABI 15
 * model.
 *
 *===----------------------------------------------------------------------===*/
#include "kiln/kiln_abi.h"

#include <stdint.h>
#include <stdlib.h>

#ifndef FAKE_ABI_VERSION
#define FAKE_ABI_VERSION KILN_ABI_VERSION
#endif

#define EXPORT __attribute__((visibility("default")))
#define N 64

typedef struct {
  float *allocated, *aligned;
  int64_t offset, sizes[1], strides[1];
} memref1_f32;

static const int64_t dims[] = {N};
static const char *const dim_names[] = {""};
static const kiln_abi_tensor inputs[] = {{"x", KILN_DTYPE_FLOAT32, 1, dims, dim_names}};
static const kiln_abi_tensor outputs[] = {{"y", KILN_DTYPE_FLOAT32, 1, dims, dim_names}};
static const char image[] = "fake kernels";

static void run(void **args) {
  memref1_f32 *out = (memref1_f32 *)args[0];
  const memref1_f32 *x = (const memref1_f32 *)args[1];
  const kiln_runtime_context *ctx = (const kiln_runtime_context *)args[2];
  const int64_t bytes = N * sizeof(float);
  void *in = ctx->scratch(ctx, bytes), *doubled = ctx->scratch(ctx, bytes),
       *sum = ctx->scratch(ctx, bytes);
  ctx->gpu_copy(ctx, in, x->aligned + x->offset, bytes, KILN_GPU_COPY_HOST_TO_DEVICE);
  int64_t first[] = {(int64_t)(intptr_t)in, (int64_t)(intptr_t)doubled, N};
  ctx->gpu_launch(ctx, "twice_and_one", 1, 1, 1, N, 1, 1, 0, first, 3);
  int64_t second[] = {(int64_t)(intptr_t)doubled, (int64_t)(intptr_t)in,
                      (int64_t)(intptr_t)sum, N};
  ctx->gpu_launch(ctx, "sum", 1, 1, 1, N, 1, 1, 0, second, 4);
#if FAKE_ABI_VERSION == 15
  /* copy = one x sum (1 x 1 times 1 x N); m, n, k, a, a_rs, a_cs, b, b_rs,
   * b_cs, b_panel, c, ldc, then no epilogue, batch {1, 1}, strides 0, and
   * b_type. */
  static const float one = 1.0f;
  const void *deviceOne = ctx->gpu_constant(ctx, &one, sizeof one);
  void *copy = ctx->scratch(ctx, bytes);
  int64_t desc[KILN_GEMM_DESC_FIELDS] = {
      1, N, 1, (int64_t)(intptr_t)deviceOne, 1, 1, (int64_t)(intptr_t)sum, N, 1, 0,
      (int64_t)(intptr_t)copy, N, 0, 0, 0, 0, 0, 1, 1};
  desc[KILN_GEMM_DESC_FIELDS_ABI15 - 1] = KILN_DTYPE_FLOAT32;
  for (int i = KILN_GEMM_DESC_FIELDS_ABI15; i < KILN_GEMM_DESC_FIELDS; ++i)
    desc[i] = 99; /* what happens to lie after it */
  ctx->gemm(ctx, (const kiln_gemm_desc *)desc);
  sum = copy;
#endif
  float *y = (float *)malloc(bytes);
  ctx->gpu_copy(ctx, y, sum, bytes, KILN_GPU_COPY_DEVICE_TO_HOST);
  out->allocated = out->aligned = y;
  out->offset = 0;
  out->sizes[0] = N;
  out->strides[0] = 1;
}

static const kiln_model_abi abi = {
    FAKE_ABI_VERSION, 1, 1, inputs, outputs, "fake_gpu_model.c (hand-written test model)", run,
    0, NULL, /* pipeline */ NULL, /* gpu_arch */ 90, KILN_GPU_PRECISION_FP32, image, sizeof image,
    "x86-64", "",
};

EXPORT const kiln_model_abi *model_abi(void) __asm__(KILN_MODEL_ABI_SYMBOL);
const kiln_model_abi *model_abi(void) { return &abi; }
