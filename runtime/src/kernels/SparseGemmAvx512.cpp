//===- SparseGemmAvx512.cpp - The sparse GEMM's kernel for AVX-512F -------===//
//
// Built with -mavx512f; only called when the CPU has it. The loops are
// SparseGemmStrip.h's; here only the vector type: a zmm of 16 floats, each
// product added by one fused multiply-add (vfmadd231ps with the block's
// value as a broadcast memory operand).
//
//===----------------------------------------------------------------------===//

#include "SparseGemmStrip.h"

#include <immintrin.h>

namespace kiln {
namespace {

struct Vec {
  using Reg = __m512;
  static __mmask16 first(int64_t count) {
    return count >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << count) - 1);
  }
  static Reg zero() { return _mm512_setzero_ps(); }
  static Reg load(const float *p) { return _mm512_load_ps(p); }
  static void store(float *p, Reg v) { _mm512_store_ps(p, v); }
  static Reg fmaScalar(Reg a, float s, Reg acc) {
    return _mm512_fmadd_ps(a, _mm512_set1_ps(s), acc);
  }
  static Reg add(Reg a, Reg b) { return _mm512_add_ps(a, b); }
  static Reg loadPartial(const float *p, int64_t count) {
    return _mm512_maskz_loadu_ps(first(count), p);
  }
  static void storePartial(float *p, Reg v, int64_t count) {
    _mm512_mask_storeu_ps(p, first(count), v);
  }
  static Reg gather(const float *p, int64_t stride, int64_t count) {
    const __m512i lanes = _mm512_mullo_epi32(
        _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
        _mm512_set1_epi32(int(stride)));
    return _mm512_mask_i32gather_ps(_mm512_setzero_ps(), first(count), lanes, p, 4);
  }
};

/// 16 x 16 floats of A (rows rowStride apart) transposed into 16 rows of
/// dst, `stride` apart (64-byte aligned): pairs, then quads by shuffles
/// within 128-bit lanes, then the lanes themselves.
void transpose16(const float *a, int64_t rowStride, float *dst, int64_t stride) {
  __m512 r[16], t[16];
  for (int i = 0; i < 16; ++i)
    r[i] = _mm512_loadu_ps(a + i * rowStride);
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
    r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xEE);
    r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
  }
  for (int i = 0; i < 16; i += 8)
    for (int j = 0; j < 4; ++j) {
      t[i + j] = _mm512_shuffle_f32x4(r[i + j], r[i + 4 + j], 0x88);
      t[i + 4 + j] = _mm512_shuffle_f32x4(r[i + j], r[i + 4 + j], 0xDD);
    }
  for (int j = 0; j < 8; ++j) {
    _mm512_store_ps(dst + j * stride, _mm512_shuffle_f32x4(t[j], t[8 + j], 0x88));
    _mm512_store_ps(dst + (8 + j) * stride, _mm512_shuffle_f32x4(t[j], t[8 + j], 0xDD));
  }
}

/// SparseTransposeFn: blocks of 16 x 16 in registers where A's rows are
/// contiguous (a transposition element by element took half the time of
/// a 128 x 768 x 3072 GEMM at 80% sparsity), the edges one by one.
void transposeA(const float *a, int64_t rowStride, int64_t colStride, int64_t rows, int64_t k,
                int64_t stride, float *dst) {
  const int64_t fullRows = colStride == 1 ? rows / 16 * 16 : 0, fullK = k / 16 * 16;
  for (int64_t i0 = 0; i0 < fullRows; i0 += 16)
    for (int64_t p0 = 0; p0 < fullK; p0 += 16)
      transpose16(a + i0 * rowStride + p0, rowStride, dst + p0 * stride + i0, stride);
  transposeRest(a, rowStride, colStride, rows, k, stride, dst, fullRows, fullK);
}

} // namespace

const SparseGemmMicroKernel sparseGemmAvx512Kernel = {"avx512", sparseStrip<Vec>, transposeA};

} // namespace kiln
