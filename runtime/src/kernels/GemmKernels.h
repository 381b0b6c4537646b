//===- GemmKernels.h - sgemm's per-ISA micro-kernels ------------*- C++ -*-===//
//
// Internal to the runtime. sgemm (Gemm.cpp) cuts C into tiles of MR x NR
// and computes each with a micro-kernel of one family, from panels that the
// family's own pack functions copied out of A and B:
//
//   packed A: an MR x kc panel stored k-major, a[p*MR + i] = A(i, p)
//   packed B: a kc x NR panel stored k-major, b[p*NR + j] = B(p, j)
//
// Both are zero-padded to full MR and NR, so a kernel always computes a
// full tile; only its store to C is cut to rows x cols. The A panel is
// 64-byte aligned. B panels lie NR*kc floats apart when packed at run time,
// or NR*k apart in a B prepacked at compile time for this NR
// (kiln_gemm_desc::b_panel), which is read in place at whatever alignment
// the model gave it: kernels load B unaligned.
//
// Each family lives in its own file, built with its own -m flags, with its
// pack functions and its vectorized epilogue (GemmEpilogue.h). Those files
// include only <immintrin.h>, kiln_abi.h, this header (which define no
// inline functions), GemmPack.h and GemmEpilogue.h (internal linkage
// throughout): an inline function emitted there could be compiled with
// AVX-512 and then chosen by the linker for every caller.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_KERNELS_GEMMKERNELS_H
#define KILN_RUNTIME_KERNELS_GEMMKERNELS_H

#include "kiln/kiln_abi.h"

#include <cstdint>

namespace kiln {
struct GemmArgs;
class ThreadPool;

/// C[i*ldc + j] = (accumulate ? C[i*ldc + j] : 0) + sum_p a[p*MR+i] * b[p*NR+j]
/// for i < rows <= MR, j < cols <= NR. With accumulate false, C is not read.
/// A non-null `next` is the kc x NR panel of B the caller runs next, not yet
/// in cache (a prepacked B met for the first time): the kernel prefetches it
/// into L2 a row per step of k, so it arrives while this panel is computed.
using GemmMicroKernelFn = void (*)(int64_t kc, const float *a, const float *b, float *c,
                                   int64_t ldc, int64_t rows, int64_t cols, bool accumulate,
                                   const float *next);
/// Packs rows x kc of A (rows <= MR; `a` points at its element (0, 0)) into
/// one zero-padded panel at dst.
using GemmPackAFn = void (*)(const float *a, int64_t rowStride, int64_t colStride, int64_t rows,
                             int64_t kc, float *dst);
/// Packs kc x cols of B into ceil(cols / NR) consecutive panels at dst.
using GemmPackBFn = void (*)(const float *b, int64_t rowStride, int64_t colStride, int64_t kc,
                             int64_t cols, float *dst);
/// The epilogue of kiln_gemm_desc on rows x cols of C: c[i*ldc + j] =
/// act(c[i*ldc + j] + bias[j]) + residual[i*residualRowStride + j], where a
/// null bias or residual is no term (GemmEpilogue.h).
using GemmEpilogueFn = void (*)(float *c, int64_t ldc, int64_t rows, int64_t cols,
                                const float *bias, int64_t activation, const float *residual,
                                int64_t residualRowStride);

struct GemmMicroKernel {
  const char *name; // "avx512", "avx2", "portable"
  int64_t mr, nr;   // the tile
  /// Cache blocking for this tile: a kc x nc block of packed B stays in L2
  /// while one packed panel of A (mr x kc, in L1) sweeps across it.
  int64_t kc, nc;
  GemmMicroKernelFn run;
  GemmPackAFn packA;
  GemmPackBFn packB;
  GemmEpilogueFn epilogue;
};

enum class GemmFamily { Portable, Avx2, Avx512 };

/// Whether this build has the family and this CPU can run it.
bool gemmFamilySupported(GemmFamily family);

/// The family's kernel if supported, else the best supported one below it.
const GemmMicroKernel &gemmMicroKernel(GemmFamily family);

/// sgemm and gemm with a given kernel (they use the one picked for this CPU).
void sgemmWith(const GemmMicroKernel &kernel, const GemmArgs &args, ThreadPool *pool);
void gemmWith(const GemmMicroKernel &kernel, const kiln_gemm_desc &desc, ThreadPool *pool);

/// Defined by GemmPortable.cpp, GemmAvx2.cpp and GemmAvx512.cpp; the last
/// two exist only in x86 builds (KILN_GEMM_X86).
extern const GemmMicroKernel gemmPortableKernel;
extern const GemmMicroKernel gemmAvx2Kernel;
extern const GemmMicroKernel gemmAvx512Kernel;

} // namespace kiln

#endif // KILN_RUNTIME_KERNELS_GEMMKERNELS_H
