/*===- kiln_abi.h - The contract between compiled models and the runtime --===*
 *
 * A model compiled by `kiln compile` is a shared library that exports one
 * symbol, `kiln_model_abi`, returning the table below. The runtime dlopen()s
 * the library, checks `abi_version`, and calls `run`. This header is the only
 * thing generated code and the runtime share; bump KILN_ABI_VERSION on any
 * change to it (the policy: docs/runtime-api.md, "Versioning").
 *
 * Tensors cross the boundary as MLIR memref descriptors: for a tensor of rank
 * R, 3 + 2R 64-bit words
 *     { void *allocated; void *aligned; int64_t offset;
 *       int64_t sizes[R]; int64_t strides[R]; }
 * with the data at aligned + offset elements, row-major strides.
 *
 * Heavy kernels (GEMM) live in the runtime, where they are tuned per ISA and
 * share the session's threads. A model reaches them only through the
 * kiln_runtime_context it is handed on every run, never by symbol lookup, so
 * the runtime may be loaded in any dlopen() namespace.
 *
 *===----------------------------------------------------------------------===*/
#ifndef KILN_ABI_H
#define KILN_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KILN_ABI_VERSION 17u
/* The oldest model format the runtime (and `kiln inspect`) still loads:
 * ABI 7 only appended to kiln_runtime_context, which an ABI 6 model never
 * reads past `fail`; ABI 8 appended b_type to kiln_gemm_desc, which the
 * runtime reads as FLOAT32 for models older than 8 (their descriptors end
 * before it); ABI 9 gave kiln_qgemm_desc's float A a static a_scale,
 * which older models leave NULL; ABI 10 and 11 only appended sparse_gemm
 * and softmax to kiln_runtime_context; ABI 12 let a bf16 GEMM take an
 * fp32 B that is not prepacked, which older models never ask for, and
 * appended sparse_qgemm to kiln_runtime_context, which they never read;
 * ABI 13, 14 and 15 only appended attention, layer_norm and gpu_check to
 * it; ABI 16 appended a_type and c_type to kiln_gemm_desc, which the
 * runtime reads as FLOAT32 for older models (their descriptors end before
 * them); ABI 17 appended alloc and release to kiln_runtime_context, which
 * older models (their buffers their own malloc()s) never read. */
#define KILN_ABI_VERSION_OLDEST 6u

/* Element types use the ONNX TensorProto.DataType codes. */
enum kiln_dtype {
  KILN_DTYPE_FLOAT32 = 1,
  KILN_DTYPE_UINT8 = 2,
  KILN_DTYPE_INT8 = 3,
  KILN_DTYPE_UINT16 = 4,
  KILN_DTYPE_INT16 = 5,
  KILN_DTYPE_INT32 = 6,
  KILN_DTYPE_INT64 = 7,
  KILN_DTYPE_BOOL = 9,
  KILN_DTYPE_FLOAT16 = 10,
  KILN_DTYPE_FLOAT64 = 11,
  KILN_DTYPE_UINT32 = 12,
  KILN_DTYPE_UINT64 = 13,
  KILN_DTYPE_BFLOAT16 = 16,
};

typedef struct kiln_runtime_context kiln_runtime_context;

/* C[i*ldc + j] = (accumulate ? C[i*ldc + j] : 0)
 *              + sum_p A[i*a_rs + p*a_cs] * B[p*b_rs + j*b_cs]
 * for i < m, j < n, p < k; strides in elements (0 broadcasts). */
typedef void (*kiln_sgemm_fn)(const kiln_runtime_context *ctx, int64_t m, int64_t n, int64_t k,
                              const float *a, int64_t a_rs, int64_t a_cs, const float *b,
                              int64_t b_rs, int64_t b_cs, float *c, int64_t ldc,
                              int64_t accumulate);

/* The activation of a GEMM epilogue (kiln_gemm_desc::activation). */
enum kiln_gemm_activation {
  KILN_GEMM_ACT_NONE = 0,
  KILN_GEMM_ACT_GELU_ERF = 1,  /* x/2 * (1 + erf(x/sqrt(2))) */
  KILN_GEMM_ACT_GELU_TANH = 2, /* x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))) */
  KILN_GEMM_ACT_RELU = 3,      /* max(x, 0) */
};

/* One GEMM, or a batch of them, with an epilogue. Every field is 64 bits
 * wide, so generated code fills it as an array of int64. For each batch
 * index (b0 < batch[0], b1 < batch[1]), with a, b, c and residual moved by
 * b0 * batch_stride_x[0] + b1 * batch_stride_x[1] elements:
 *
 *   v = (accumulate ? C[i*ldc + j] : 0) + sum_p A(i, p) * B(p, j)
 *   C[i*ldc + j] = act(v + bias[j]) + residual[i*residual_rs + j]
 *
 * for i < m, j < n, p < k, where A(i, p) = a[i*a_rs + p*a_cs] and
 *   B(p, j) = b[p*b_rs + j*b_cs]                          if b_panel == 0,
 *   B(p, j) = b[(j / W)*k*W + p*W + j % W], W = b_panel   otherwise:
 * B prepacked at compile time (the layout pass) as ceil(n / W) panels of
 * k x W floats, zero past column n. bias (n floats) and residual may be
 * NULL (no term). Strides are in elements; 0 broadcasts.
 *
 * b_type (since ABI 8) is the GEMM's arithmetic: KILN_DTYPE_FLOAT32 (or 0)
 * as above, or KILN_DTYPE_BFLOAT16 (`kiln compile --quantize`): A and B
 * rounded to bf16 (nearest even, kiln_bf16_from_float) and the sum of
 * their exact products in fp32 (the order is the runtime's, the same on
 * every CPU; see there). A prepacked B (b_panel = W > 0) is then stored in
 * the bf16 panels of kiln_bf16_pack.h, and batch_stride_b counts bf16
 * elements; since ABI 12 B may also be an fp32 matrix read through b_rs
 * and b_cs (b_panel = 0; attention's products), rounded as it is read, and
 * batch_stride_b counts floats.
 *
 * a_type and c_type (since ABI 16; 0 reads as FLOAT32) are storage types,
 * taken by the GPU runtime only (a CPU runtime fails a descriptor that sets
 * them to anything else): with a_type KILN_DTYPE_FLOAT16 or BFLOAT16, a and
 * b (b_type the same, b_panel 0) hold 16-bit elements, multiplied exactly
 * and summed in fp32 (`kiln compile --target cuda --precision fp16|bf16`
 * with half storage, docs/gpu.md); with c_type FLOAT16 or BFLOAT16, c,
 * bias and residual hold 16-bit elements, the fp32 result rounded to
 * nearest even as it is stored. The pointers keep their float types;
 * strides and batch strides count elements of the operand's own type. */
typedef struct kiln_gemm_desc {
  int64_t m, n, k;
  const float *a;
  int64_t a_rs, a_cs;
  const float *b;
  int64_t b_rs, b_cs, b_panel;
  float *c;
  int64_t ldc;
  int64_t accumulate;
  const float *bias;
  int64_t activation; /* enum kiln_gemm_activation */
  const float *residual;
  int64_t residual_rs;
  int64_t batch[2];
  int64_t batch_stride_a[2], batch_stride_b[2], batch_stride_c[2], batch_stride_residual[2];
  int64_t b_type; /* enum kiln_dtype: FLOAT32 (0 too) or BFLOAT16; since ABI 8 */
  int64_t a_type; /* enum kiln_dtype: FLOAT32 (0 too), FLOAT16 or BFLOAT16; since ABI 16 */
  int64_t c_type; /* enum kiln_dtype: FLOAT32 (0 too), FLOAT16 or BFLOAT16; since ABI 16 */
} kiln_gemm_desc;
#define KILN_GEMM_DESC_FIELDS 30
/* The words of a kiln_gemm_desc that models of ABI 8 to 15 fill (no a_type,
 * c_type). */
#define KILN_GEMM_DESC_FIELDS_ABI15 28
/* The words of a kiln_gemm_desc that models of ABI 5 to 7 fill (no b_type). */
#define KILN_GEMM_DESC_FIELDS_ABI7 27

typedef void (*kiln_gemm_fn)(const kiln_runtime_context *ctx, const kiln_gemm_desc *desc);

/* The tiles (MR rows x NR columns of C) of the fp32 micro-kernel families.
 * A B that the compiler prepacks for a family (`kiln compile --mcpu`) has
 * panels NR wide: b_panel = NR, which the runtime takes fastest when it
 * runs that family. */
#define KILN_GEMM_TILE_AVX512_MR 12
#define KILN_GEMM_TILE_AVX512_NR 32
#define KILN_GEMM_TILE_AVX2_MR 6
#define KILN_GEMM_TILE_AVX2_NR 16
#define KILN_GEMM_TILE_PORTABLE_MR 4
#define KILN_GEMM_TILE_PORTABLE_NR 8

/* An int8 GEMM, or a batch of them (since ABI 7): A quantized to uint8
 * (asymmetric, per row), B int8 (symmetric, a scale per column) prepacked
 * at compile time, int32 sums, then dequantized to f32 with the epilogue of
 * kiln_gemm_desc. Every field is 64 bits wide, as there. For each batch
 * index (a, b, b_scale, c and residual moved as in kiln_gemm_desc, b in
 * bytes, b_scale in floats):
 *
 *   s = sum_p (Aq(i, p) - za(i)) * B(p, j)                exact, int32
 *   v = (accumulate ? C[i*ldc + j] : 0) + (float)s * (sa(i) * b_scale[j])
 *   C[i*ldc + j] = act(v + bias[j]) + residual[i*residual_rs + j]
 *
 * for i < m, j < n, p < k (k <= KILN_QGEMM_MAX_K), float arithmetic in
 * that order, where A(i, p) = a[i*a_rs + p*a_cs] (strides in elements) and
 *   a_type KILN_DTYPE_UINT8:   Aq = A; sa(i) = *a_scale (NULL: 1) and
 *                              za(i) = *a_zero_point (NULL: 0), per tensor;
 *   a_type KILN_DTYPE_FLOAT32, a_scale NULL: each row of A quantized at
 *                              run time like ONNX DynamicQuantizeLinear:
 *     lo = min(0, min_p A(i, p)), hi = max(0, max_p A(i, p)),
 *     sa(i) = (hi - lo) / 255, za(i) = rint(-lo / sa(i)),
 *     Aq(i, p) = clamp(rint(A(i, p) / sa(i)) + za(i), 0, 255)
 *   in float, rint rounding half to even; a row with sa(i) < FLT_MIN (all
 *   zeros) gets sa(i) = 1, za(i) = 0. a_zero_point is unused;
 *   a_type KILN_DTYPE_FLOAT32, a_scale set (since ABI 9): static, the whole
 *                              tensor with one calibrated scale and zero
 *                              point, sa(i) = *a_scale (a positive normal
 *                              float), za(i) = *a_zero_point (NULL: 0),
 *     Aq(i, p) = clamp(rint(A(i, p) / sa) + za, 0, 255), NaN to 0.
 * b is B in the layout of kiln_qgemm_pack.h (its panels, then its column
 * sums), b_scale holds n floats. bias (n floats) and residual may be NULL. */
typedef struct kiln_qgemm_desc {
  int64_t m, n, k;
  const void *a;              /* float or uint8_t, per a_type */
  int64_t a_type;             /* KILN_DTYPE_FLOAT32 or KILN_DTYPE_UINT8 */
  int64_t a_rs, a_cs;
  const float *a_scale;       /* KILN_DTYPE_UINT8: 1 float, or NULL (1) */
  const uint8_t *a_zero_point; /* KILN_DTYPE_UINT8: 1 byte, or NULL (0) */
  const void *b;              /* packed: kiln_qgemm_pack_b */
  const float *b_scale;       /* n floats */
  float *c;
  int64_t ldc;
  int64_t accumulate;
  const float *bias;
  int64_t activation;         /* enum kiln_gemm_activation */
  const float *residual;
  int64_t residual_rs;
  int64_t batch[2];
  int64_t batch_stride_a[2];  /* elements of A */
  int64_t batch_stride_b[2];  /* bytes: packed B blobs */
  int64_t batch_stride_b_scale[2];
  int64_t batch_stride_c[2], batch_stride_residual[2];
} kiln_qgemm_desc;
#define KILN_QGEMM_DESC_FIELDS 30
/* The deepest sum kiln_qgemm_desc computes exactly in int32:
 * 255 * 128 * k < 2^31. */
#define KILN_QGEMM_MAX_K 65536

typedef void (*kiln_qgemm_fn)(const kiln_runtime_context *ctx, const kiln_qgemm_desc *desc);

/* The int8 GEMM with a sparse constant B (since ABI 12): the same
 * kiln_qgemm_desc and the same formula, but b is B stored as its nonzero
 * blocks of 1 x W columns in groups of 4 rows, with its column sums
 * (kiln_sparse_qgemm_pack.h; its header must say k and n). The int32 sums
 * are exact either way, so C is what kiln_qgemm_fn gives for the dense B
 * bit for bit, epilogue included. */
typedef kiln_qgemm_fn kiln_sparse_qgemm_fn;

/* An fp32 GEMM with a sparse constant B, or a batch of them (since ABI 10):
 * dense A times B stored as its nonzero blocks of 1 x W columns
 * (kiln_sparse_pack.h), with the epilogue of kiln_gemm_desc. Every field is
 * 64 bits wide, as there. For each batch index (a, c and residual moved as
 * in kiln_gemm_desc, b by batch_stride_b bytes):
 *
 *   v = (accumulate ? C[i*ldc + j] : 0) + sum_p A(i, p) * B(p, j)
 *   C[i*ldc + j] = act(v + bias[j]) + residual[i*residual_rs + j]
 *
 * for i < m, j < n, where A(i, p) = a[i*a_rs + p*a_cs] (strides in
 * elements) and the sum runs over the stored blocks of column j's block
 * column in their order (p increasing), in fp32 (W = 1: the even and the
 * odd stored blocks summed apart, then added; see SparseGemm.cpp). b's
 * header must say k and n. bias (n floats) and residual may be NULL. */
typedef struct kiln_sparse_gemm_desc {
  int64_t m, n, k;
  const float *a;
  int64_t a_rs, a_cs;
  const void *b; /* kiln_sparse_pack.h */
  float *c;
  int64_t ldc;
  int64_t accumulate;
  const float *bias;
  int64_t activation; /* enum kiln_gemm_activation */
  const float *residual;
  int64_t residual_rs;
  int64_t batch[2];
  int64_t batch_stride_a[2];
  int64_t batch_stride_b[2]; /* bytes: packed B blobs */
  int64_t batch_stride_c[2], batch_stride_residual[2];
} kiln_sparse_gemm_desc;
#define KILN_SPARSE_GEMM_DESC_FIELDS 24

typedef void (*kiln_sparse_gemm_fn)(const kiln_runtime_context *ctx,
                                    const kiln_sparse_gemm_desc *desc);

/* Softmax along rows, with an optional scale and additive term before it
 * (since ABI 11): attention's `softmax(scale * QK^T + mask)` in one pass
 * over the scores. Every field is 64 bits wide, as in kiln_gemm_desc. For
 * each batch index (b0 < batch[0], b1 < batch[1]), with x, y and addend
 * moved by b0 * batch_stride_x[0] + b1 * batch_stride_x[1] elements (and
 * likewise), and each row i < m:
 *
 *   t_j = scale * x[i*x_rs + j] + addend[i*addend_rs + j*addend_cs]
 *   y[i*y_rs + j] = exp(t_j - max_l t_l) / sum_l exp(t_l - max_l t_l)
 *
 * for j, l < n, in float: the products and sums in the order of the
 * runtime (each row's sum over lanes, then across them), exp within 2 ulp
 * (0 below exp(-87.3)), the quotient as a product with the reciprocal of
 * the sum. addend may be NULL (no term); its strides may be 0 (a mask
 * broadcast over heads or rows); addend_cs is 0 or 1. A row whose t
 * holds +inf or NaN, or is all -inf, comes out NaN. y may be x (in place)
 * but must not overlap it otherwise, nor the addend. */
typedef struct kiln_softmax_desc {
  int64_t m, n;
  const float *x;
  int64_t x_rs;
  float *y;
  int64_t y_rs;
  const float *addend;
  int64_t addend_rs, addend_cs;
  double scale;
  int64_t batch[2];
  int64_t batch_stride_x[2], batch_stride_y[2], batch_stride_addend[2];
} kiln_softmax_desc;
#define KILN_SOFTMAX_DESC_FIELDS 18

typedef void (*kiln_softmax_fn)(const kiln_runtime_context *ctx, const kiln_softmax_desc *desc);

/* Attention's `softmax(scale * Q K^T + addend) V` for each head in one
 * call (since ABI 13): the scores of a few rows of Q at a time stay in L1
 * from their product to the product with V. Every field is 64 bits wide, as
 * in kiln_gemm_desc. For each batch index (b0 < batch[0], b1 < batch[1]),
 * with q, kt, v, out and addend moved by b0 * batch_stride_q[0] + b1 *
 * batch_stride_q[1] elements (and likewise), and each row i < sq:
 *
 *   s_j = sum_p q[i*q_rs + p*q_cs] * kt[p*kt_rs + j*kt_cs]      (p < d)
 *   t_j = scale * s_j + addend[i*addend_rs + j*addend_cs]        (j < sk)
 *   w_j = exp(t_j - max_l t_l) / sum_l exp(t_l - max_l t_l)
 *   out[i*out_rs + e] = sum_j w_j * v[j*v_rs + e*v_cs]           (e < dv)
 *
 * in float, with the arithmetic of the fp32 `gemm` (its products and sums
 * in its order) and of kiln_softmax_desc (its exp, the quotient as a
 * product with the reciprocal): the same numbers as those three calls. kt
 * is K^T as a view: kt_rs = 1 reads K's rows in place. addend may be NULL
 * (no term); its strides may be 0 (a mask broadcast over heads or rows);
 * addend_cs is 0 or 1. out's rows are contiguous and must not overlap an
 * input. products_type KILN_DTYPE_BFLOAT16 runs both products on bf16
 * inputs (q, kt, v and the probabilities rounded to bf16 as they are
 * packed, fp32 sums: a `gemm` with b_type BFLOAT16 and an fp32 B); FLOAT32
 * (or 0) keeps them fp32. */
typedef struct kiln_attention_desc {
  int64_t sq, sk, d, dv;
  const float *q;
  int64_t q_rs, q_cs;
  const float *kt;
  int64_t kt_rs, kt_cs;
  const float *v;
  int64_t v_rs, v_cs;
  float *out;
  int64_t out_rs;
  const float *addend;
  int64_t addend_rs, addend_cs;
  double scale;
  int64_t batch[2];
  int64_t batch_stride_q[2], batch_stride_kt[2], batch_stride_v[2], batch_stride_out[2],
      batch_stride_addend[2];
  int64_t products_type; /* enum kiln_dtype: FLOAT32 (0 too) or BFLOAT16 */
} kiln_attention_desc;
#define KILN_ATTENTION_DESC_FIELDS 32

typedef void (*kiln_attention_fn)(const kiln_runtime_context *ctx,
                                  const kiln_attention_desc *desc);

/* Layer normalization along rows (since ABI 14). Every field is 64 bits
 * wide, as in kiln_gemm_desc. For each batch index (b0 < batch[0], b1 <
 * batch[1]), with x and y moved by b0 * batch_stride_x[0] + b1 *
 * batch_stride_x[1] elements (and likewise), and each row i < m:
 *
 *   mean = x_0 + sum_j (x_j - x_0) / n     var = sum_j (x_j - mean)^2 / n
 *   y[i*y_rs + j] = (x_j - mean) * (1 / sqrt(var + epsilon)) * scale[j]
 *                   + bias[j]
 *
 * for j < n, x_j = x[i*x_rs + j], in float: the sums in the order of the
 * runtime (lanes, then across them), 1 / sqrt(...) a float division by a
 * float square root, a product and the sum after it maybe fused into one
 * FMA where the CPU has them. scale holds n floats; bias (n floats) may be
 * NULL (no term). y may be x (in place) but must not overlap it
 * otherwise. */
typedef struct kiln_layer_norm_desc {
  int64_t m, n;
  const float *x;
  int64_t x_rs;
  float *y;
  int64_t y_rs;
  const float *scale, *bias;
  double epsilon;
  int64_t batch[2];
  int64_t batch_stride_x[2], batch_stride_y[2];
} kiln_layer_norm_desc;
#define KILN_LAYER_NORM_DESC_FIELDS 15

typedef void (*kiln_layer_norm_fn)(const kiln_runtime_context *ctx,
                                   const kiln_layer_norm_desc *desc);

/* The outlined body of a parallel loop: iterations [begin, end). */
typedef void (*kiln_parallel_body_fn)(void *closure, int64_t begin, int64_t end);

/* Runs body over [0, n) split into chunks on the session's threads (or
 * inline, in one call, when n * cost_per_item, a rough count of operations,
 * is too small to be worth waking them); returns when all are done. */
typedef void (*kiln_parallel_for_fn)(const kiln_runtime_context *ctx, kiln_parallel_body_fn body,
                                     void *closure, int64_t n, int64_t cost_per_item);

/* The alignment of every block `scratch` and `alloc` return: what generated
 * code may assume of them (the compiler's memory plan relies on it). */
#define KILN_MEMORY_ALIGNMENT 64

/* Scratch memory for the run: at least `bytes` bytes, 64-byte aligned, not
 * overlapping any other block handed out in the run, valid until the run
 * returns (the next run on the session gets the same memory again, so its
 * pages stay mapped). Any number of calls per run. */
typedef void *(*kiln_scratch_fn)(const kiln_runtime_context *ctx, int64_t bytes);

/* Marks where the code of one ONNX node (profile region `region`, an index
 * into kiln_model_abi::regions) starts (phase 0) and ends (phase 1). NULL
 * in the context when the session does not profile. */
typedef void (*kiln_profile_fn)(const kiln_runtime_context *ctx, int64_t region, int64_t phase);

/* GPU models (kiln_model_abi::gpu_arch != 0) run every loop as a kernel on
 * the session's CUDA stream; their host code only moves data and launches.
 * Pointers below are device pointers unless they say host. */

/* Launches kernel `name` (NUL-terminated, in the model's gpu_image) on the
 * session's stream. params holds num_params 64-bit words, one per kernel
 * parameter: device pointers, and scalars widened to 64 bits (the kernel
 * reads the low bytes of each, little-endian). */
typedef void (*kiln_gpu_launch_fn)(const kiln_runtime_context *ctx, const char *name,
                                   int64_t grid_x, int64_t grid_y, int64_t grid_z,
                                   int64_t block_x, int64_t block_y, int64_t block_z,
                                   int64_t shared_bytes, const int64_t *params,
                                   int64_t num_params);

/* The arithmetic of a GPU model's GEMMs (`kiln compile --precision`):
 * fp32 operands may be rounded to a narrower type for the tensor cores,
 * always accumulating in fp32. With FP16 and BF16 the operands may also be
 * stored in that type (kiln_gemm_desc's a_type and c_type, ABI 16). */
enum kiln_gpu_precision {
  KILN_GPU_PRECISION_FP32 = 0, /* exact fp32 */
  KILN_GPU_PRECISION_TF32 = 1, /* inputs rounded to TF32 (10-bit mantissa) */
  KILN_GPU_PRECISION_FP16 = 2, /* inputs rounded to fp16 */
  KILN_GPU_PRECISION_BF16 = 3, /* inputs rounded to bf16 */
};

/* How kiln_gpu_copy_fn moves bytes. */
enum kiln_gpu_copy_kind {
  KILN_GPU_COPY_HOST_TO_DEVICE = 0,
  KILN_GPU_COPY_DEVICE_TO_HOST = 1,
};

/* Copies `bytes` bytes on the session's stream, ordered after every launch
 * before it. A copy to the host is complete when the run returns. */
typedef void (*kiln_gpu_copy_fn)(const kiln_runtime_context *ctx, void *dst, const void *src,
                                 int64_t bytes, int64_t kind);

/* The device copy of a constant (a weight in the model's .rodata, `bytes`
 * bytes at `host`): uploaded on the session's first use, kept for the
 * session's life. */
typedef void *(*kiln_gpu_constant_fn)(const kiln_runtime_context *ctx, const void *host,
                                      int64_t bytes);

/* Fails the run: a run-time check of the model's (an index out of range,
 * dims that do not fit, a tensor too large to allocate) did not hold.
 * `message` (NUL-terminated, static) names the ONNX node. The run's first
 * failure becomes its status (KILN_STATUS_INVALID_ARGUMENT) and its outputs
 * are discarded. Called on the thread that runs the model, outside a
 * parallel_for, it does not return: the run ends there (the runtime
 * longjmp()s back to kiln_session_run; generated code holds nothing to
 * unwind). Elsewhere it returns, and models keep their reads in bounds
 * after a check anyway, as ABI 6 runtimes returned. */
typedef void (*kiln_fail_fn)(const kiln_runtime_context *ctx, const char *message);

/* A run-time check whose condition a kernel computed (since ABI 15): the
 * run fails with `message`, as through kiln_fail_fn, unless the byte at
 * device address `failed` is 0 once the device work logged before this
 * call is done. (Host code cannot read device memory during the run: a
 * Gather's "an index out of range" is a reduction over the ids on the
 * GPU.) The runtime reads the byte back when the run's work is done; the
 * first failing check in call order, or before any of them a check that
 * failed on the host, becomes the run's status. `message` is static, as
 * for kiln_fail_fn. */
typedef void (*kiln_gpu_check_fn)(const kiln_runtime_context *ctx, const void *failed,
                                  const char *message);

/* Heap memory for the run (since ABI 17): the buffers a model cannot take
 * from `scratch` (its outputs, which outlive the run; buffers sized inside
 * loops). At least `bytes` bytes, 64-byte aligned, as from malloc(), or NULL
 * when there is no memory. The runtime keeps a list of the run's blocks not
 * yet released: when a check fails the run (kiln_fail_fn, which does not
 * return), it frees them all, so a failed run leaks nothing; when the run
 * returns, the blocks left are its outputs'. May be called from any thread
 * of the run. */
typedef void *(*kiln_alloc_fn)(const kiln_runtime_context *ctx, int64_t bytes);

/* Frees a block from kiln_alloc_fn before the run ends (NULL: nothing). */
typedef void (*kiln_release_fn)(const kiln_runtime_context *ctx, void *block);

/* What the runtime lends a model for one run. Fields are only ever added at
 * the end (with a KILN_ABI_VERSION bump). */
struct kiln_runtime_context {
  uint32_t abi_version;          /* KILN_ABI_VERSION */
  uint32_t num_threads;          /* the session's intra-op threads */
  void *session;                 /* opaque to the model */
  kiln_sgemm_fn sgemm;
  kiln_scratch_fn scratch;
  kiln_profile_fn profile;       /* NULL: not profiling */
  kiln_gemm_fn gemm;             /* since ABI 5 */
  kiln_parallel_for_fn parallel_for; /* since ABI 5 */
  /* Since ABI 6; set only for GPU models' sessions, whose `scratch`
   * returns device memory (the session's device arena). */
  kiln_gpu_launch_fn gpu_launch;
  kiln_gpu_copy_fn gpu_copy;
  kiln_gpu_constant_fn gpu_constant;
  kiln_fail_fn fail; /* since ABI 6 */
  /* Since ABI 7; NULL in GPU models' sessions. */
  kiln_qgemm_fn qgemm;
  /* Since ABI 10; NULL in GPU models' sessions. */
  kiln_sparse_gemm_fn sparse_gemm;
  /* Since ABI 11; NULL in GPU models' sessions. */
  kiln_softmax_fn softmax;
  /* Since ABI 12; NULL in GPU models' sessions. */
  kiln_sparse_qgemm_fn sparse_qgemm;
  /* Since ABI 13; NULL in GPU models' sessions. */
  kiln_attention_fn attention;
  /* Since ABI 14; NULL in GPU models' sessions. */
  kiln_layer_norm_fn layer_norm;
  /* Since ABI 15; set only for GPU models' sessions. */
  kiln_gpu_check_fn gpu_check;
  /* Since ABI 17 (host memory, in CPU and GPU models' sessions). */
  kiln_alloc_fn alloc;
  kiln_release_fn release;
};

/* A profile region: the code generated for one ONNX node. */
typedef struct kiln_abi_region {
  const char *name;              /* the ONNX node name */
  const char *op_type;           /* its ONNX op type, e.g. "MatMul" */
} kiln_abi_region;

/* One graph input or output as compiled. */
typedef struct kiln_abi_tensor {
  const char *name;              /* ONNX value name */
  int32_t dtype;                 /* enum kiln_dtype */
  int32_t rank;
  const int64_t *dims;           /* rank entries; -1 for a symbolic dim */
  const char *const *dim_names;  /* rank entries; "" where the dim is unnamed */
} kiln_abi_tensor;

typedef struct kiln_model_abi {
  uint32_t abi_version;          /* KILN_ABI_VERSION */
  uint32_t num_inputs;
  uint32_t num_outputs;
  const kiln_abi_tensor *inputs;
  const kiln_abi_tensor *outputs;
  const char *producer;          /* e.g. "kiln 0.1 -O2 x86-64 (skylake)" */
  /* Runs the model once. args[0] points at a block of num_outputs memref
   * descriptors, back to back, that the model fills in; args[1 + i] points at
   * input i's descriptor; args[1 + num_inputs] is the run's
   * kiln_runtime_context. Every output's `allocated` pointer is a fresh
   * block from the context's `alloc` (ABI 17; before, from malloc()) that
   * the caller must free once, never an input; two outputs
   * may share one block (a value returned twice, a view of another output),
   * which the runtime then copies apart. The model keeps no state between
   * calls, so concurrent calls from several threads are safe. */
  void (*run)(void **args);
  uint32_t num_regions;
  const kiln_abi_region *regions;  /* NULL when num_regions is 0 */
  const char *pipeline;          /* the MLIR pass pipeline that built it */
  /* Since ABI 6. A CPU model has gpu_arch 0 and no image. A GPU model
   * (`kiln compile --target cuda:sm_XY`) has gpu_arch XY (compute
   * capability X.Y) and its kernels in gpu_image: a CUDA fatbin (cubin for
   * sm_XY plus PTX) or PTX text, as cuModuleLoadData takes it (with
   * `--gpu-emulation`, a CPU library for the test driver:
   * kiln_gpu_emulation.h). A GPU model that launches no kernel (all its
   * work cuBLASLt GEMMs and copies) has gpu_image NULL and size 0. */
  uint32_t gpu_arch;
  uint32_t gpu_precision;        /* enum kiln_gpu_precision: its GEMMs' */
  const void *gpu_image;
  uint64_t gpu_image_size;
  /* Since ABI 6. The CPU the model's code was compiled for (LLVM's name,
   * e.g. "skylake-avx512", "x86-64-v3") and the instruction set extensions
   * it may use, as LLVM writes them: "+avx2,+fma,..." ("" for none). Only
   * the x86 features the runtime can ask the CPU about are listed
   * (kiln_x86_features.def); kiln_model_load checks them before any of the
   * model's code runs and refuses the model on a CPU that lacks one
   * (KILN_STATUS_UNSUPPORTED_CPU) instead of letting it die of SIGILL.
   * A GPU model's host code is compiled for generic x86-64: no features. */
  const char *target_cpu;
  const char *target_features;
} kiln_model_abi;

/* The symbol every compiled model exports. */
typedef const kiln_model_abi *(*kiln_model_abi_fn)(void);
#define KILN_MODEL_ABI_SYMBOL "kiln_model_abi"

#ifdef __cplusplus
}
#endif

#endif /* KILN_ABI_H */
