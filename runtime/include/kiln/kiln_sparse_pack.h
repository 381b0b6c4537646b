/*===- kiln_sparse_pack.h - The sparse B of kiln_sparse_gemm_desc ----------===*
 *
 * The one definition of the layout in which `kiln compile` stores a sparse
 * constant GEMM weight (kiln_sparse_gemm_desc::b, kiln_abi.h) and the
 * runtime's sparse kernels read it: header-only C99, nothing but <stdint.h>
 * and <string.h>, so the compiler packs with the code the runtime's tests
 * check. The layout is the same for every ISA.
 *
 * B is k x n, fp32, B(p, j). It is cut into blocks of 1 row of k by W
 * consecutive columns of n (the block width: 1 or 4, kiln_sparse_width_ok),
 * and only the blocks with a nonzero value are stored: with NB = ceil(n / W)
 * block columns (block column q holds columns qW .. qW + W - 1, zero past
 * n) and S stored blocks, the blob is, at byte offsets from its start:
 *
 *   header   8 int64: k, n, W, S, then 4 zeros                 at 0
 *   starts   NB + 1 int32: block column q's blocks are          at 64
 *            starts[q] .. starts[q + 1] - 1 (starts[0] = 0, starts[NB] = S)
 *   rows     S int32: the row p (step of k) of each block,      at R
 *            increasing within a block column
 *   values   S * W floats: block s's W values, column by        at V
 *            column, values[s*W + c] = B(rows[s], qW + c)
 *
 * with R and V the ends of the part before rounded up to 64 bytes
 * (kiln_sparse_rows_offset, kiln_sparse_values_offset). A value is left
 * out only when its whole block is zero (+0 or -0): a zero weight then
 * contributes nothing to C, even against an infinite or NaN activation.
 *
 * Why 1 x W blocks of columns: the kernels keep a strip of A transposed
 * (k x 16r rows) in cache and, for each stored block, load 16r rows of A's
 * column p once and multiply them by the block's W broadcast values into
 * W x r accumulators of C (SparseGemm.cpp). W = 4 amortizes that load over
 * 4 columns and makes 1x4-block-pruned weights (and dense-ish ones) fast;
 * W = 1 stores no zeros at all, which unstructured sparsity needs: at 90%
 * unstructured sparsity 34% of 1x4 blocks are nonzero but they hold 71%
 * zeros. The compiler picks W per weight by the cost model of
 * kiln_sparse_cost.
 *
 * A blob should be 64-byte aligned for speed; 4-byte alignment suffices.
 *
 *===----------------------------------------------------------------------===*/
#ifndef KILN_SPARSE_PACK_H
#define KILN_SPARSE_PACK_H

#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KILN_SPARSE_HEADER_BYTES 64

/* Whether the kernels take blocks of width w. */
static inline int kiln_sparse_width_ok(int64_t w) { return w == 1 || w == 4; }

/* NB above. */
static inline int64_t kiln_sparse_block_columns(int64_t n, int64_t w) { return (n + w - 1) / w; }

static inline int64_t kiln_sparse_round64(int64_t bytes) { return (bytes + 63) / 64 * 64; }

/* R and V above, and the blob's size in bytes, for s stored blocks. */
static inline int64_t kiln_sparse_rows_offset(int64_t n, int64_t w) {
  return KILN_SPARSE_HEADER_BYTES + kiln_sparse_round64(4 * (kiln_sparse_block_columns(n, w) + 1));
}
static inline int64_t kiln_sparse_values_offset(int64_t n, int64_t w, int64_t s) {
  return kiln_sparse_rows_offset(n, w) + kiln_sparse_round64(4 * s);
}
static inline int64_t kiln_sparse_packed_size(int64_t n, int64_t w, int64_t s) {
  return kiln_sparse_values_offset(n, w, s) + 4 * w * s;
}

/* Whether block (p, q) of the k x n matrix B(p, j) = b[p*rs + j*cs] (strides
 * in elements) has a nonzero value. */
static inline int kiln_sparse_block_nonzero(const float *b, int64_t rs, int64_t cs, int64_t n,
                                            int64_t w, int64_t p, int64_t q) {
  int64_t j;
  for (j = q * w; j < q * w + w && j < n; ++j)
    if (b[p * rs + j * cs] != 0.0f)
      return 1;
  return 0;
}

/* S above: the blocks of width w of B with a nonzero value. */
static inline int64_t kiln_sparse_count_blocks(const float *b, int64_t rs, int64_t cs, int64_t k,
                                               int64_t n, int64_t w) {
  int64_t count = 0, p, q;
  for (q = 0; q < kiln_sparse_block_columns(n, w); ++q)
    for (p = 0; p < k; ++p)
      count += kiln_sparse_block_nonzero(b, rs, cs, n, w, p, q);
  return count;
}

/* Packs B into dst: kiln_sparse_packed_size(n, w, s) bytes, s from
 * kiln_sparse_count_blocks, padding zeroed. */
static inline void kiln_sparse_pack_b(const float *b, int64_t rs, int64_t cs, int64_t k, int64_t n,
                                      int64_t w, void *dst) {
  uint8_t *out = (uint8_t *)dst;
  const int64_t s = kiln_sparse_count_blocks(b, rs, cs, k, n, w);
  const int64_t nb = kiln_sparse_block_columns(n, w);
  const int64_t header[8] = {k, n, w, s, 0, 0, 0, 0};
  int64_t q, p, c, stored = 0;
  int32_t word;
  memset(out, 0, (size_t)kiln_sparse_packed_size(n, w, s));
  memcpy(out, header, sizeof header);
  for (q = 0; q < nb; ++q) {
    word = (int32_t)stored;
    memcpy(out + KILN_SPARSE_HEADER_BYTES + 4 * q, &word, 4);
    for (p = 0; p < k; ++p) {
      if (!kiln_sparse_block_nonzero(b, rs, cs, n, w, p, q))
        continue;
      word = (int32_t)p;
      memcpy(out + kiln_sparse_rows_offset(n, w) + 4 * stored, &word, 4);
      for (c = 0; c < w; ++c) {
        const float v = q * w + c < n ? b[p * rs + (q * w + c) * cs] : 0.0f;
        memcpy(out + kiln_sparse_values_offset(n, w, s) + 4 * (stored * w + c), &v, 4);
      }
      ++stored;
    }
  }
  word = (int32_t)stored;
  memcpy(out + KILN_SPARSE_HEADER_BYTES + 4 * nb, &word, 4);
}

/* The header of a blob: k, n, W, S. */
static inline void kiln_sparse_header(const void *blob, int64_t *k, int64_t *n, int64_t *w,
                                      int64_t *s) {
  int64_t header[4];
  memcpy(header, blob, sizeof header);
  *k = header[0];
  *n = header[1];
  *w = header[2];
  *s = header[3];
}

/* The estimated time of a sparse GEMM of m rows on blocks of width w
 * holding s stored blocks, against `dense` = m*n*k, the dense GEMM's, in
 * the same unit: the compiler goes sparse where this is below `dense`.
 * Measured on BERT-base's shapes (M = 128, 768 x 768, 3072 x 768,
 * 768 x 3072; kiln-sparse-gemm-bench, AVX-512, docs/performance.md), per
 * multiply-add of a stored value the sparse kernels take about
 * KILN_SPARSE_COST_W4 (W = 4) and KILN_SPARSE_COST_W1 (W = 1) times the
 * dense kernel's time per multiply-add (measured 1.2 to 1.7 for W = 4 at
 * 30% to 80% sparsity, about 3.0 to 3.3 for W = 1 at 70% to 80%; the
 * constants lean to dense): the break-even sparsity is 1 - 1/cost, 37.5%
 * of the 1x4 blocks zero, 71% of the values zero unstructured. */
#define KILN_SPARSE_COST_W4 1.6
#define KILN_SPARSE_COST_W1 3.5
static inline double kiln_sparse_cost(int64_t m, int64_t w, int64_t s) {
  return (double)m * (double)s * (double)w * (w == 1 ? KILN_SPARSE_COST_W1 : KILN_SPARSE_COST_W4);
}

#ifdef __cplusplus
}
#endif

#endif /* KILN_SPARSE_PACK_H */
