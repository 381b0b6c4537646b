//===- SparseQGemmKernels.h - The sparse int8 GEMM's per-ISA kernels -*- C++ -*-===//
//
// Internal to the runtime. SparseQGemm.cpp cuts C into strips of up to
// kSparseQStripRows rows, quantizes (or copies) the strip's rows of A as
// the dense int8 GEMM does (qgemmPrepareA, with the dense family's
// quantization), transposes them into k rows of 64 uint8 values (row p
// holds A's column p, zero past the strip's rows) and hands a kernel of one
// family a range of C's columns of the strip (a SparseQStrip). The kernel
// computes their exact int32 sums from the stored groups of B
// (kiln_sparse_qgemm_pack.h) and dequantizes them into C: with the dense
// family's QGemmDequantizeFn a row at a time (portable), or with the same
// float operations a column at a time (AVX-512, SparseQGemmAvx512Vnni.cpp
// says why); the epilogue (the dense family's fp32 one) runs after it on
// the same range. So every float operation is the dense int8 GEMM's, and
// C is its bits.
//
// Each family lives in its own file, built with its own -m flags; as for
// the other kernels (GemmKernels.h), this header defines no inline
// functions.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_KERNELS_SPARSEQGEMMKERNELS_H
#define KILN_RUNTIME_KERNELS_SPARSEQGEMMKERNELS_H

#include "QGemmKernels.h"
#include "kiln/kiln_abi.h"

#include <cstdint>

namespace kiln {
class ThreadPool;

/// The rows of one strip: 4 vectors of 16 int32 lanes, and the bytes of one
/// row of the transposed A (a cache line).
constexpr int64_t kSparseQStripRows = 64;
/// The columns a kernel sums before dequantizing them: the 16 a
/// QGemmDequantizeFn takes, a multiple of every block width.
constexpr int64_t kSparseQChunkColumns = 16;

/// One call of a kernel: C[i*ldc + j] = (accumulate ? C[i*ldc + j] : 0) +
/// dequantize(sum over the stored groups of j's block column of
/// Aq(i, p) * B(p, j)) for i < rows and j < cols, j counted from block
/// column q0's first column.
struct SparseQStrip {
  const uint8_t *at;         // A transposed: at[p*64 + i] = Aq(i, p), 64-byte aligned
  const int32_t *starts;     // of the blob: groups per block column
  const uint16_t *groupRows; // 4 per group
  const int8_t *values;      // 4W per group
  int64_t width;             // W
  int64_t q0;                // the first block column; q0 * W is a multiple of 16
  const int32_t *colSum;     // at column q0 * W (16 readable past the last)
  const float *bScale;       // at column q0 * W
  const QGemmRow *rowQuant;  // the strip's rows'
  float *c;                  // C at the strip's first row and column q0 * W
  int64_t ldc;
  int64_t rows, cols;
  bool accumulate;
  int32_t *scratch; // kSparseQChunkColumns * 64 int32, 64-byte aligned
  QGemmDequantizeFn dequantize;
};

using SparseQStripFn = void (*)(const SparseQStrip &strip);
/// 64 rows of k uint8 values (row i at a + i*lda) transposed into dst:
/// dst[p*64 + i] = a[i*lda + p] for p < k; dst is 64-byte aligned.
using SparseQTransposeFn = void (*)(const uint8_t *a, int64_t lda, int64_t k, uint8_t *dst);

struct SparseQGemmMicroKernel {
  const char *name; // "avx512vnni", "portable"
  SparseQStripFn run;
  SparseQTransposeFn transposeA;
};

enum class SparseQGemmFamily { Portable, Avx512Vnni };

/// Whether this build has the family and this CPU can run it.
bool sparseQgemmFamilySupported(SparseQGemmFamily family);

/// The family's kernel if supported, else the portable one.
const SparseQGemmMicroKernel &sparseQgemmMicroKernel(SparseQGemmFamily family);

/// sparseQgemm with a given kernel and the dense int8 family whose
/// quantization, dequantization and epilogue it uses (sparseQgemm: those
/// picked for this CPU, qgemmSelectedMicroKernel).
void sparseQgemmWith(const SparseQGemmMicroKernel &kernel, const QGemmMicroKernel &dense,
                     const kiln_qgemm_desc &desc, ThreadPool *pool);

/// The portable transposition, which the AVX-512 family shares.
void sparseQTransposePortable(const uint8_t *a, int64_t lda, int64_t k, uint8_t *dst);

/// Defined by SparseQGemmPortable.cpp and SparseQGemmAvx512Vnni.cpp (x86
/// builds only, KILN_GEMM_X86).
extern const SparseQGemmMicroKernel sparseQgemmPortableKernel;
extern const SparseQGemmMicroKernel sparseQgemmAvx512VnniKernel;

} // namespace kiln

#endif // KILN_RUNTIME_KERNELS_SPARSEQGEMMKERNELS_H
