/*===- kiln_sparse_qgemm_pack.h - The sparse int8 B of sparse_qgemm --------===*
 *
 * The one definition of the layout in which `kiln compile` stores a sparse
 * int8 GEMM weight (the b of a kiln_qgemm_desc handed to
 * kiln_runtime_context::sparse_qgemm, kiln_abi.h) and the runtime's sparse
 * int8 kernels read it: header-only C99 like kiln_sparse_pack.h, whose
 * blocks it shares, so the compiler packs with the code the runtime's
 * tests check. The layout is the same for every ISA.
 *
 * B is k x n, int8 (symmetric, per-column scales kept apart), B(p, j). It
 * is cut into blocks of 1 row by W consecutive columns (W = 1 or 4,
 * kiln_sparse_width_ok) and only blocks with a nonzero value are stored,
 * as for fp32; then each block column's stored blocks, in order of p, are
 * taken four at a time: a group of 4 rows p0..p3 (the last group of a
 * column padded with its last row again, weight 0). With NB = ceil(n / W)
 * block columns, S stored blocks and G groups, the blob is, at byte
 * offsets from its start:
 *
 *   header   8 int64: k, n, W, S, G, then 3 zeros                 at 0
 *   starts   NB + 1 int32: block column q's groups are             at 64
 *            starts[q] .. starts[q + 1] - 1
 *   rows     4G uint16: the rows p of each group's 4 slots          at R
 *            (k <= KILN_QGEMM_MAX_K = 65536, so p fits)
 *   values   4WG int8: group g, column c of its block, slot t at   at V
 *            byte 4(gW + c) + t = B(rows[4g + t], qW + c)
 *            (0 in padded slots and past n)
 *   colsum   N16 int32 (n rounded up to 16): colsum[j] =           at C
 *            sum_p B(p, j), 0 past n
 *
 * with R, V and C the ends of the part before rounded up to 64 bytes.
 *
 * Why groups of 4 rows: `vpdpbusd` adds 4 products of u8 x s8 per int32
 * lane. The kernels keep a strip of A transposed (k rows of 64 uint8
 * values of A's column p) and, for each group, interleave its 4 rows of A
 * into lanes of 4 bytes (A(i, p0..p3)) that one `vpdpbusd` multiplies by
 * the broadcast dword of one column's 4 weights: W columns per interleave
 * (SparseQGemm.cpp). The column sums serve A's zero point as in
 * kiln_qgemm_pack.h: sum_p (a - za) * b = sum_p a*b - za * colsum; the
 * products are exact, so C is the dense int8 GEMM's bit for bit.
 *
 * A blob should be 64-byte aligned for speed; 4-byte alignment suffices.
 *
 *===----------------------------------------------------------------------===*/
#ifndef KILN_SPARSE_QGEMM_PACK_H
#define KILN_SPARSE_QGEMM_PACK_H

#include "kiln_sparse_pack.h"

#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Stored rows per group: the products `vpdpbusd` adds per int32 lane. */
#define KILN_SPARSE_QGEMM_GROUP 4

/* n rounded up to 16: the column sums a kernel reads a vector at a time. */
static inline int64_t kiln_sparse_qgemm_colsum_count(int64_t n) { return (n + 15) / 16 * 16; }

/* R, V and C above, and the blob's size in bytes, for g groups. */
static inline int64_t kiln_sparse_qgemm_rows_offset(int64_t n, int64_t w) {
  return kiln_sparse_rows_offset(n, w);
}
static inline int64_t kiln_sparse_qgemm_values_offset(int64_t n, int64_t w, int64_t g) {
  return kiln_sparse_qgemm_rows_offset(n, w) + kiln_sparse_round64(2 * KILN_SPARSE_QGEMM_GROUP * g);
}
static inline int64_t kiln_sparse_qgemm_colsum_offset(int64_t n, int64_t w, int64_t g) {
  return kiln_sparse_qgemm_values_offset(n, w, g) +
         kiln_sparse_round64(KILN_SPARSE_QGEMM_GROUP * w * g);
}
static inline int64_t kiln_sparse_qgemm_packed_size(int64_t n, int64_t w, int64_t g) {
  return kiln_sparse_qgemm_colsum_offset(n, w, g) + 4 * kiln_sparse_qgemm_colsum_count(n);
}

/* Whether block (p, q) of the k x n int8 matrix B(p, j) = b[p*rs + j*cs]
 * (strides in elements) has a nonzero value. */
static inline int kiln_sparse_qgemm_block_nonzero(const int8_t *b, int64_t rs, int64_t cs,
                                                  int64_t n, int64_t w, int64_t p, int64_t q) {
  int64_t j;
  for (j = q * w; j < q * w + w && j < n; ++j)
    if (b[p * rs + j * cs] != 0)
      return 1;
  return 0;
}

/* S and G above for blocks of width w. */
static inline void kiln_sparse_qgemm_count(const int8_t *b, int64_t rs, int64_t cs, int64_t k,
                                           int64_t n, int64_t w, int64_t *stored, int64_t *groups) {
  int64_t q, p, column;
  *stored = 0;
  *groups = 0;
  for (q = 0; q < kiln_sparse_block_columns(n, w); ++q) {
    column = 0;
    for (p = 0; p < k; ++p)
      column += kiln_sparse_qgemm_block_nonzero(b, rs, cs, n, w, p, q);
    *stored += column;
    *groups += (column + KILN_SPARSE_QGEMM_GROUP - 1) / KILN_SPARSE_QGEMM_GROUP;
  }
}

/* Packs B into dst: kiln_sparse_qgemm_packed_size(n, w, g) bytes, g from
 * kiln_sparse_qgemm_count, padding zeroed. */
static inline void kiln_sparse_qgemm_pack_b(const int8_t *b, int64_t rs, int64_t cs, int64_t k,
                                            int64_t n, int64_t w, void *dst) {
  uint8_t *out = (uint8_t *)dst;
  int64_t s, g, q, p, c, j, slot = 0, group;
  kiln_sparse_qgemm_count(b, rs, cs, k, n, w, &s, &g);
  {
    const int64_t nb = kiln_sparse_block_columns(n, w);
    const int64_t header[8] = {k, n, w, s, g, 0, 0, 0};
    const int64_t rows = kiln_sparse_qgemm_rows_offset(n, w);
    const int64_t values = kiln_sparse_qgemm_values_offset(n, w, g);
    const int64_t sums = kiln_sparse_qgemm_colsum_offset(n, w, g);
    int32_t word;
    uint16_t row = 0;
    memset(out, 0, (size_t)kiln_sparse_qgemm_packed_size(n, w, g));
    memcpy(out, header, sizeof header);
    /* slot counts the 4G slots; a column starts at a whole group. */
    for (q = 0; q < nb; ++q) {
      word = (int32_t)(slot / KILN_SPARSE_QGEMM_GROUP);
      memcpy(out + KILN_SPARSE_HEADER_BYTES + 4 * q, &word, 4);
      for (p = 0; p < k; ++p) {
        if (!kiln_sparse_qgemm_block_nonzero(b, rs, cs, n, w, p, q))
          continue;
        row = (uint16_t)p;
        memcpy(out + rows + 2 * slot, &row, 2);
        group = slot / KILN_SPARSE_QGEMM_GROUP;
        for (c = 0; c < w; ++c)
          out[values + 4 * (group * w + c) + slot % KILN_SPARSE_QGEMM_GROUP] =
              (uint8_t)(q * w + c < n ? b[p * rs + (q * w + c) * cs] : 0);
        ++slot;
      }
      /* Padded slots read the last row again (in cache) times 0. */
      for (; slot % KILN_SPARSE_QGEMM_GROUP; ++slot)
        memcpy(out + rows + 2 * slot, &row, 2);
    }
    word = (int32_t)(slot / KILN_SPARSE_QGEMM_GROUP);
    memcpy(out + KILN_SPARSE_HEADER_BYTES + 4 * nb, &word, 4);
    for (j = 0; j < n; ++j) {
      int32_t sum = 0;
      for (p = 0; p < k; ++p)
        sum += b[p * rs + j * cs];
      memcpy(out + sums + 4 * j, &sum, 4);
    }
  }
}

/* The header of a blob: k, n, W, S, G. */
static inline void kiln_sparse_qgemm_header(const void *blob, int64_t *k, int64_t *n, int64_t *w,
                                            int64_t *s, int64_t *g) {
  int64_t header[5];
  memcpy(header, blob, sizeof header);
  *k = header[0];
  *n = header[1];
  *w = header[2];
  *s = header[3];
  *g = header[4];
}

/* The estimated time of a sparse int8 GEMM of m rows on blocks of width w
 * in g groups, against `dense` = m*n*k, the dense int8 GEMM's, in the same
 * unit: the compiler goes sparse where this is below `dense`. Each group
 * is 4 * w multiply-adds (padding included); per multiply-add the sparse
 * kernel takes about KILN_SPARSE_QGEMM_COST_W4 (W = 4) and
 * KILN_SPARSE_QGEMM_COST_W1 (W = 1) times the dense int8 kernel's time per
 * multiply-add, as kiln-sparse-gemm-bench measured them on BERT-base's
 * shapes (M = 128, AVX-512 VNNI, docs/sparsity.md: 1.15 to 1.8 for W = 4
 * at 30% to 80% sparsity, 2.2 to 3.0 at 90%, where the fixed costs weigh
 * more; 2.6 to 3.7 for W = 1 at 50% to 80%): the break-even is 37.5% of
 * the 1x4 blocks zero, and 75% of the values zero unstructured (width 1). */
#define KILN_SPARSE_QGEMM_COST_W4 1.6
#define KILN_SPARSE_QGEMM_COST_W1 4.0
static inline double kiln_sparse_qgemm_cost(int64_t m, int64_t w, int64_t g) {
  return (double)m * (double)g * (double)(KILN_SPARSE_QGEMM_GROUP * w) *
         (w == 1 ? KILN_SPARSE_QGEMM_COST_W1 : KILN_SPARSE_QGEMM_COST_W4);
}

#ifdef __cplusplus
}
#endif

#endif /* KILN_SPARSE_QGEMM_PACK_H */
