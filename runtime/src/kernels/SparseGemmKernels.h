//===- SparseGemmKernels.h - The sparse GEMM's per-ISA kernels --*- C++ -*-===//
//
// Internal to the runtime. SparseGemm.cpp cuts C into strips of up to
// kSparseStripRows rows, copies the strip's rows of A transposed (k rows of
// 16r floats, zero past the strip's rows: row p holds A's column p) and
// hands a kernel of one family a range of C's columns of the strip (a
// SparseStrip). The kernel computes them from the stored blocks of B
// (kiln_sparse_pack.h) and writes them to C; the epilogue (the fp32
// family's, GemmEpilogue.h) runs after it on the same range.
//
// Each family lives in its own file, built with its own -m flags, and
// instantiates SparseGemmStrip.h with its vector type; as for the dense
// kernels (GemmKernels.h), this header defines no inline functions.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_KERNELS_SPARSEGEMMKERNELS_H
#define KILN_RUNTIME_KERNELS_SPARSEGEMMKERNELS_H

#include "GemmKernels.h"
#include "kiln/kiln_abi.h"

#include <cstdint>

namespace kiln {
class ThreadPool;

/// The rows of one strip: 4 vectors of 16 (SparseGemm.cpp says why).
constexpr int64_t kSparseStripRows = 64;
/// The columns a kernel computes before writing them to C at once: one
/// vector of 16, and a multiple of every block width.
constexpr int64_t kSparseChunkColumns = 16;

/// One call of a kernel: C[i*ldc + j] = (accumulate ? C[i*ldc + j] : 0) +
/// sum over the stored blocks of j's block column of A(i, p) * B(p, j), for
/// i < rows and j < cols, j counted from block column q0's first column.
struct SparseStrip {
  const float *at;  // the strip of A transposed: at[p*stride + i] = A(i, p)
  int64_t stride;   // 16 * ceil(rows / 16) floats
  const int32_t *starts, *blockRows; // of the blob
  const float *values;
  int64_t width;    // W
  int64_t q0;       // the first block column; q0 * W is a multiple of 16
  float *c;         // C at the strip's first row and column q0 * W
  int64_t ldc;
  int64_t rows, cols;
  bool accumulate;
  float *scratch;   // kSparseChunkColumns * stride floats, 64-byte aligned
};

using SparseStripFn = void (*)(const SparseStrip &strip);
/// rows x k of A (a[i*rowStride + p*colStride]) transposed into dst:
/// dst[p*stride + i] = A(i, p), zero for rows <= i < stride; dst is 64-byte
/// aligned, stride a multiple of 16.
using SparseTransposeFn = void (*)(const float *a, int64_t rowStride, int64_t colStride,
                                   int64_t rows, int64_t k, int64_t stride, float *dst);

struct SparseGemmMicroKernel {
  const char *name; // "avx512", "portable"
  SparseStripFn run;
  SparseTransposeFn transposeA;
};

enum class SparseGemmFamily { Portable, Avx512 };

/// Whether this build has the family and this CPU can run it.
bool sparseGemmFamilySupported(SparseGemmFamily family);

/// The family's kernel if supported, else the portable one.
const SparseGemmMicroKernel &sparseGemmMicroKernel(SparseGemmFamily family);

/// sparseGemm with a given kernel and epilogue (that of an fp32 family,
/// GemmKernels.h; sparseGemm uses those picked for this CPU).
void sparseGemmWith(const SparseGemmMicroKernel &kernel, GemmEpilogueFn epilogue,
                    const kiln_sparse_gemm_desc &desc, ThreadPool *pool);

/// Defined by SparseGemmPortable.cpp and SparseGemmAvx512.cpp (x86 builds
/// only, KILN_GEMM_X86).
extern const SparseGemmMicroKernel sparseGemmPortableKernel;
extern const SparseGemmMicroKernel sparseGemmAvx512Kernel;

} // namespace kiln

#endif // KILN_RUNTIME_KERNELS_SPARSEGEMMKERNELS_H
