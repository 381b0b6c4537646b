/*===- fake_bert.c - A hand-written model with a BERT-like signature ------===*
 *
 * Three int64 inputs that share the symbolic dims `batch` and `sequence`, as
 * exported BERT models have, for testing symbolic-dim binding and kiln-run's
 * random inputs:
 *
 *   inputs   input_ids      int64 [batch, sequence]
 *            attention_mask int64 [batch, sequence]
 *            token_type_ids int64 [batch, sequence]
 *   outputs  masked_ids     int64 [batch, sequence]
 *                             = input_ids * attention_mask + 1000 * token_type_ids
 *            lengths        int64 [batch]   = row sums of attention_mask
 *            total          float64 []      = sum of masked_ids (rank 0)
 *
 *===----------------------------------------------------------------------===*/
#include "kiln/kiln_abi.h"

#include <stdint.h>
#include <stdlib.h>

#define EXPORT __attribute__((visibility("default")))

typedef struct {
  void *allocated, *aligned;
  int64_t offset;
} memref0;
typedef struct {
  int64_t *allocated, *aligned;
  int64_t offset, sizes[1], strides[1];
} memref1_i64;
typedef struct {
  int64_t *allocated, *aligned;
  int64_t offset, sizes[2], strides[2];
} memref2_i64;

static const int64_t bs_dims[] = {-1, -1};
static const char *const bs_names[] = {"batch", "sequence"};
static const int64_t b_dims[] = {-1};
static const char *const b_names[] = {"batch"};

static const kiln_abi_tensor inputs[] = {
    {"input_ids", KILN_DTYPE_INT64, 2, bs_dims, bs_names},
    {"attention_mask", KILN_DTYPE_INT64, 2, bs_dims, bs_names},
    {"token_type_ids", KILN_DTYPE_INT64, 2, bs_dims, bs_names},
};
/* Rank 0: dims and dim_names are NULL, as `kiln compile` emits them. */
static const kiln_abi_tensor outputs[] = {
    {"masked_ids", KILN_DTYPE_INT64, 2, bs_dims, bs_names},
    {"lengths", KILN_DTYPE_INT64, 1, b_dims, b_names},
    {"total", KILN_DTYPE_FLOAT64, 0, NULL, NULL},
};

typedef struct {
  memref2_i64 masked;
  memref1_i64 lengths;
  memref0 total;
} results;

#define AT(m, i, j) (m)->aligned[(m)->offset + (i) * (m)->strides[0] + (j) * (m)->strides[1]]

static void run(void **args) {
  results *out = (results *)args[0];
  const memref2_i64 *ids = (const memref2_i64 *)args[1];
  const memref2_i64 *mask = (const memref2_i64 *)args[2];
  const memref2_i64 *types = (const memref2_i64 *)args[3];
  int64_t b = ids->sizes[0], s = ids->sizes[1];

  int64_t *masked = (int64_t *)malloc((size_t)(b * s) * sizeof(int64_t) + 1);
  int64_t *lengths = (int64_t *)malloc((size_t)b * sizeof(int64_t) + 1);
  double *total = (double *)malloc(sizeof(double));
  *total = 0;
  for (int64_t i = 0; i < b; ++i) {
    lengths[i] = 0;
    for (int64_t j = 0; j < s; ++j) {
      int64_t v = AT(ids, i, j) * AT(mask, i, j) + 1000 * AT(types, i, j);
      masked[i * s + j] = v;
      lengths[i] += AT(mask, i, j);
      *total += (double)v;
    }
  }
  out->masked = (memref2_i64){masked, masked, 0, {b, s}, {s, 1}};
  out->lengths = (memref1_i64){lengths, lengths, 0, {b}, {1}};
  out->total = (memref0){total, total, 0};
}

static const kiln_model_abi abi = {
    KILN_ABI_VERSION, 3, 3, inputs, outputs, "fake_bert.c (hand-written test model)", run,
};

/* The exported symbol is `kiln_model_abi`, but C cannot name a function like
 * the kiln_abi.h typedef, so the C name differs and an asm label sets the
 * symbol. */
EXPORT const kiln_model_abi *model_abi(void) __asm__(KILN_MODEL_ABI_SYMBOL);
const kiln_model_abi *model_abi(void) { return &abi; }
