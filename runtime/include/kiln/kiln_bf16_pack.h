/*===- kiln_bf16_pack.h - The bf16 B of kiln_gemm_desc and its rounding ---===*
 *
 * The one definition of how `kiln compile --quantize bf16` rounds fp32
 * weights to bf16 and lays them out (kiln_gemm_desc with b_type
 * KILN_DTYPE_BFLOAT16, kiln_abi.h), and of how the runtime rounds A:
 * header-only C99, nothing but <stdint.h> and <string.h>, so the compiler
 * packs with the code the runtime's tests check.
 *
 * Rounding (kiln_bf16_from_float): to nearest, ties to even; NaN stays NaN
 * (quiet); fp32 subnormals become zero of their sign. That is what
 * AVX512_BF16's vcvtne2ps2bf16 does, so A rounded by the instruction and by
 * this function are the same bits.
 *
 * Layout: B is k x n, B(p, j). With K2 = k rounded up to even and a panel
 * width W (kiln_gemm_desc::b_panel), the packed B is ceil(n / W) panels of
 * K2 x W bf16 values, one after another; in panel q, the two steps of k of
 * one pair (p = 2t, 2t + 1) of one column lie side by side:
 *
 *   bf16[q*K2*W + (p / 2)*2W + (j % W)*2 + p % 2] = B(p, j), j = qW + j % W,
 *
 * zero past k and past n. One 32-bit word is the pair `vdpbf16ps` multiplies
 * with a pair of A, so a row of 16 words is 16 fp32 sums of 2 products.
 *
 *===----------------------------------------------------------------------===*/
#ifndef KILN_BF16_PACK_H
#define KILN_BF16_PACK_H

#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The panel width `kiln compile` packs bf16 weights with, for every target:
 * the AVX512_BF16 kernel's, which the portable kernel shares, so a model
 * runs on either without repacking. */
#define KILN_BF16_PANEL 32

/* K2 above. */
static inline int64_t kiln_bf16_packed_k(int64_t k) { return (k + 1) / 2 * 2; }

/* The number of bf16 values in a packed B of k x n with panels of w. */
static inline int64_t kiln_bf16_packed_size(int64_t k, int64_t n, int64_t w) {
  return (n + w - 1) / w * w * kiln_bf16_packed_k(k);
}

/* Where B(p, j) lies in a packed B of depth k and panel width w. */
static inline int64_t kiln_bf16_packed_offset(int64_t k, int64_t w, int64_t p, int64_t j) {
  return j / w * kiln_bf16_packed_k(k) * w + p / 2 * 2 * w + j % w * 2 + p % 2;
}

/* x rounded to bf16 (the bits): nearest, ties to even; NaN quiet; fp32
 * subnormals to zero of their sign. */
static inline uint16_t kiln_bf16_from_float(float x) {
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  if ((u & 0x7F800000u) == 0) /* zero or subnormal */
    return (uint16_t)((u >> 16) & 0x8000u);
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) /* NaN */
    return (uint16_t)((u >> 16) | 0x0040u);
  return (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

/* The float whose bits are bf16 `h` (exact). */
static inline float kiln_bf16_to_float(uint16_t h) {
  uint32_t u = (uint32_t)h << 16;
  float x;
  memcpy(&x, &u, sizeof x);
  return x;
}

/* Packs the k x n matrix B(p, j) = b[p*rs + j*cs] (strides in elements)
 * into dst, kiln_bf16_packed_size(k, n, w) values, rounding each. */
static inline void kiln_bf16_pack_b(const float *b, int64_t rs, int64_t cs, int64_t k, int64_t n,
                                    int64_t w, uint16_t *dst) {
  int64_t size = kiln_bf16_packed_size(k, n, w);
  for (int64_t i = 0; i < size; ++i)
    dst[i] = 0;
  for (int64_t p = 0; p < k; ++p)
    for (int64_t j = 0; j < n; ++j)
      dst[kiln_bf16_packed_offset(k, w, p, j)] = kiln_bf16_from_float(b[p * rs + j * cs]);
}

#ifdef __cplusplus
}
#endif

#endif /* KILN_BF16_PACK_H */
