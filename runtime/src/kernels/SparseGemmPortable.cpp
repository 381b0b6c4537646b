//===- SparseGemmPortable.cpp - The sparse GEMM's kernel in plain C++ -----===//
//
// For CPUs without AVX-512 (and KILN_GEMM_KERNEL=portable or avx2). The
// loops are SparseGemmStrip.h's, so every element of C is the same sum in
// the same order as on AVX-512; only the rounding differs: here each
// product is rounded before it is added (built with -ffp-contract=off, on
// every architecture), where AVX-512 fuses them. The "vector" is an array
// of 16 floats, which the compiler may vectorize (SSE2, NEON).
//
//===----------------------------------------------------------------------===//

#include "SparseGemmStrip.h"

namespace kiln {
namespace {

struct Vec {
  struct Reg {
    float v[16];
  };
  static Reg zero() { return Reg{}; }
  static Reg load(const float *p) { return loadPartial(p, 16); }
  static void store(float *p, Reg v) { storePartial(p, v, 16); }
  static Reg fmaScalar(Reg a, float s, Reg acc) {
    for (int i = 0; i < 16; ++i)
      acc.v[i] += a.v[i] * s;
    return acc;
  }
  static Reg add(Reg a, Reg b) {
    for (int i = 0; i < 16; ++i)
      a.v[i] += b.v[i];
    return a;
  }
  static Reg loadPartial(const float *p, int64_t count) {
    Reg r{};
    for (int64_t i = 0; i < count; ++i)
      r.v[i] = p[i];
    return r;
  }
  static void storePartial(float *p, Reg v, int64_t count) {
    for (int64_t i = 0; i < count; ++i)
      p[i] = v.v[i];
  }
  static Reg gather(const float *p, int64_t stride, int64_t count) {
    Reg r{};
    for (int64_t i = 0; i < count; ++i)
      r.v[i] = p[i * stride];
    return r;
  }
};

void transposeA(const float *a, int64_t rowStride, int64_t colStride, int64_t rows, int64_t k,
                int64_t stride, float *dst) {
  transposeRest(a, rowStride, colStride, rows, k, stride, dst, 0, 0);
}

} // namespace

const SparseGemmMicroKernel sparseGemmPortableKernel = {"portable", sparseStrip<Vec>,
                                                        transposeA};

} // namespace kiln
