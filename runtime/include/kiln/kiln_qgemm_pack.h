/*===- kiln_qgemm_pack.h - The packed int8 B of kiln_qgemm_desc ------------===*
 *
 * The one definition of the layout in which `kiln compile` stores the int8
 * weights of a quantized GEMM (kiln_qgemm_desc::b, kiln_abi.h) and the
 * runtime's int8 micro-kernels read them: header-only C99, nothing but
 * <stdint.h>, so the compiler packs with the same code the runtime's tests
 * check. The layout is the same for every ISA.
 *
 * B is k x n, int8, B(p, j). With K4 = k rounded up to a multiple of 4 and
 * N16 = n rounded up to a multiple of 16, the packed B is
 * kiln_qgemm_packed_size(k, n) = N16*K4 + 4*N16 bytes:
 *
 *   N16/16 panels of 16 columns, K4*16 bytes each, one after another;
 *   in panel q, 64 bytes per group of 4 steps of k (g = p / 4), with
 *     byte[q*K4*16 + g*64 + (j % 16)*4 + p % 4] = B(p, j), j = 16q + j % 16,
 *   0 past k and past n; then
 *   N16 int32 column sums, little-endian, at byte N16*K4:
 *     colsum[j] = sum_p B(p, j) (0 past n),
 *   which the runtime needs for A's zero point:
 *     sum_p (a - za) * b = sum_p a*b - za * colsum.
 *
 * One 64-byte group is what `vpdpbusd` multiplies by a broadcast of 4 bytes
 * of A: 16 int32 sums of 4 products each (two 32-byte halves for ymm). The
 * column sums start 64-byte aligned when the blob does; a blob should be
 * 64-byte aligned for speed, any alignment is correct.
 *
 *===----------------------------------------------------------------------===*/
#ifndef KILN_QGEMM_PACK_H
#define KILN_QGEMM_PACK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KILN_QGEMM_PANEL 16 /* columns per panel */
#define KILN_QGEMM_GROUP 4  /* steps of k per group */

/* K4 and N16 above. */
static inline int64_t kiln_qgemm_packed_k(int64_t k) { return (k + 3) / 4 * 4; }
static inline int64_t kiln_qgemm_packed_n(int64_t n) { return (n + 15) / 16 * 16; }

/* The byte size of a packed B of k x n. */
static inline int64_t kiln_qgemm_packed_size(int64_t k, int64_t n) {
  return kiln_qgemm_packed_n(n) * kiln_qgemm_packed_k(k) + 4 * kiln_qgemm_packed_n(n);
}

/* Where B(p, j) lies in a packed B of depth k. */
static inline int64_t kiln_qgemm_packed_offset(int64_t k, int64_t p, int64_t j) {
  return j / 16 * kiln_qgemm_packed_k(k) * 16 + p / 4 * 64 + j % 16 * 4 + p % 4;
}

/* Where the column sums start (int32 each). */
static inline int64_t kiln_qgemm_colsum_offset(int64_t k, int64_t n) {
  return kiln_qgemm_packed_n(n) * kiln_qgemm_packed_k(k);
}

/* Packs the k x n matrix B(p, j) = b[p*rs + j*cs] (strides in elements:
 * rs = n, cs = 1 for row-major, rs = 1, cs = k for column-major) into
 * kiln_qgemm_packed_size(k, n) bytes at dst, column sums included. */
static inline void kiln_qgemm_pack_b(const int8_t *b, int64_t rs, int64_t cs, int64_t k, int64_t n,
                                     void *dst) {
  uint8_t *out = (uint8_t *)dst;
  const int64_t k4 = kiln_qgemm_packed_k(k), n16 = kiln_qgemm_packed_n(n);
  uint8_t *sums = out + kiln_qgemm_colsum_offset(k, n);
  int64_t j, p;
  for (j = 0; j < n16; ++j) {
    int32_t sum = 0;
    for (p = 0; p < k4; ++p) {
      const int8_t v = p < k && j < n ? b[p * rs + j * cs] : 0;
      out[kiln_qgemm_packed_offset(k, p, j)] = (uint8_t)v;
      sum += v;
    }
    sums[4 * j] = (uint8_t)((uint32_t)sum & 0xFF);
    sums[4 * j + 1] = (uint8_t)(((uint32_t)sum >> 8) & 0xFF);
    sums[4 * j + 2] = (uint8_t)(((uint32_t)sum >> 16) & 0xFF);
    sums[4 * j + 3] = (uint8_t)(((uint32_t)sum >> 24) & 0xFF);
  }
}

#ifdef __cplusplus
}
#endif

#endif /* KILN_QGEMM_PACK_H */
