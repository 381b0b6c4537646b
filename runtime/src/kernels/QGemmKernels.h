//===- QGemmKernels.h - qgemm's per-ISA int8 micro-kernels ------*- C++ -*-===//
//
// Internal to the runtime. qgemm (QGemm.cpp) quantizes (or copies) the rows
// of A a tile of C needs into a buffer of uint8 rows, `lda` bytes apart and
// zero past k to a multiple of 4, then cuts C into tiles of at most MR x NR
// and runs a micro-kernel of one family on each, over all of k: B is read
// in place from its packed layout (kiln_qgemm_pack.h), so the int32 sums
// never leave registers before they are dequantized into C.
//
// Each family lives in its own file built with its own -m flags, like the
// fp32 kernels (GemmKernels.h, which says why everything those files
// include has internal linkage); the epilogue after dequantization is the
// fp32 family's (GemmMicroKernel::epilogue).
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_KERNELS_QGEMMKERNELS_H
#define KILN_RUNTIME_KERNELS_QGEMMKERNELS_H

#include "kiln/kiln_abi.h"

#include <cstdint>

namespace kiln {
class ThreadPool;
template <class Packed> struct GemmMicroKernelOf;
using GemmMicroKernel = GemmMicroKernelOf<float>;

/// How one row of A was quantized: A(i, p) ~ scale * (Aq(i, p) - zeroPoint).
struct QGemmRow {
  float scale;
  int32_t zeroPoint;
};

/// One tile for a micro-kernel: C[i*ldc + j] for i < rows, j < cols.
struct QGemmTile {
  int64_t groups;           // k rounded up to 4, over 4
  const uint8_t *a;         // row i at a + i*lda (uint8, or int16 when the
  int64_t lda;              //   kernel widens); rows up to its tile height
                            //   are readable (zero padding)
  const QGemmRow *rowQuant; // `rows` entries
  const int8_t *b;          // the tile's first column in packed B
  int64_t panelStride;      // bytes from one panel of B to the next
  const int32_t *colSum;    // at the tile's first column (padded to 16)
  const float *bScale;      // at the tile's first column (cols valid)
  float *c;
  int64_t ldc;
  int64_t rows, cols;
  bool accumulate;
};

using QGemmMicroKernelFn = void (*)(const QGemmTile &tile);
/// c[j] = (accumulate ? c[j] : 0) + float(s[j] - q.zeroPoint * colSum[j]) *
/// (q.scale * bScale[j]) for j < count <= 16, in float in that order: one
/// row of sums into C. s and colSum hold 16 readable values. The sparse
/// int8 GEMM calls its family's to give the dense GEMM's bits.
using QGemmDequantizeFn = void (*)(const int32_t *s, const int32_t *colSum, QGemmRow q,
                                   const float *bScale, float *c, int64_t count, bool accumulate);
/// Widens `rows` rows of k4 uint8 values (row i at a + i*lda) to int16 in
/// place, for a kernel that reads A as int16 (QGemmMicroKernel::widen).
using QGemmWidenFn = void (*)(uint8_t *a, int64_t rows, int64_t k4, int64_t lda);
/// Quantizes `rows` rows of a float A (row i at a + i*rs, columns cs
/// apart) as kiln_qgemm_desc says, into dst + i*lda (zero from k to the
/// next multiple of 4) and rowQuant[i]: each row with its own range, or,
/// when `fixed` is not null, every row with *fixed (a static scale and
/// zero point, values outside the range saturating at 0 and 255).
using QGemmQuantizeFn = void (*)(const float *a, int64_t rs, int64_t cs, int64_t rows, int64_t k,
                                 const QGemmRow *fixed, uint8_t *dst, int64_t lda,
                                 QGemmRow *rowQuant);

struct QGemmMicroKernel {
  const char *name; // "avx512vnni", "avxvnni", "avx2", "portable"
  int64_t mr, nr;   // the largest tile
  QGemmMicroKernelFn run;
  QGemmQuantizeFn quantize;
  /// Null when the kernel reads A as bytes; else A's rows are widened to
  /// int16 by this before the kernel runs (QGemmTile::lda is then 2*k4).
  QGemmWidenFn widen;
  const GemmMicroKernel *fp32; // for its epilogue
  QGemmDequantizeFn dequantize; // the one its tiles use
};

enum class QGemmFamily { Portable, Avx2, AvxVnni, Avx512Vnni };

/// Whether this build has the family and this CPU can run it.
bool qgemmFamilySupported(QGemmFamily family);

/// The family's kernel if supported, else the best supported one below it.
const QGemmMicroKernel &qgemmMicroKernel(QGemmFamily family);

/// qgemm with a given kernel (qgemm uses the one picked for this CPU).
void qgemmWith(const QGemmMicroKernel &kernel, const kiln_qgemm_desc &desc, ThreadPool *pool);

/// The kernel qgemm picked for this CPU (KILN_QGEMM_KERNEL may lower it).
const QGemmMicroKernel &qgemmSelectedMicroKernel();

/// One GEMM of a kiln_qgemm_desc's batch as its tiles see it; the sparse
/// int8 GEMM reads the same descriptor (its b another layout).
struct QGemmProblem {
  int64_t m, n, k;
  const void *a;
  int64_t aType, aRowStride, aColStride;
  QGemmRow aQuant; // the whole tensor's: uint8 A, or float A with a_scale
  bool aStatic;    // float A quantized with aQuant, not per row
  const uint8_t *b;
  const float *bScale;
  float *c;
  int64_t ldc;
  bool accumulate;
  const float *bias;
  int64_t activation;
  const float *residual;
  int64_t residualRowStride;
};

/// GEMM `index` (b0 * batch[1] + b1) of the batch.
QGemmProblem qgemmProblemAt(const kiln_qgemm_desc &desc, int64_t index);

/// Throws std::invalid_argument for what no int8 GEMM runs: an unknown
/// activation or a_type, a static a_scale that is not a positive normal
/// float, k outside [0, KILN_QGEMM_MAX_K].
void qgemmCheckDesc(const kiln_qgemm_desc &desc);

/// Rows i0 .. i0 + rows of g's A as uint8 at dst (lda >= k bytes apart,
/// zero from k to lda), quantized by `kernel` or copied, with their
/// quantization in rowQuant; then zero rows up to `paddedRows`.
void qgemmPrepareA(const QGemmMicroKernel &kernel, const QGemmProblem &g, int64_t i0,
                   int64_t rows, int64_t paddedRows, uint8_t *dst, int64_t lda,
                   QGemmRow *rowQuant);

/// The AVX2 family's dequantization of `count` <= 8 columns of one row
/// (QGemmTile.h) and its QGemmQuantizeFn, which the AVX-VNNI family shares
/// (QGemmAvx2.cpp; x86 builds only).
void qgemmDequantizeAvx2(const int32_t *sums, const int32_t *colSum, QGemmRow q,
                         const float *bScale, float *c, int64_t count, bool accumulate);
void qgemmQuantizeAvx2(const float *a, int64_t rs, int64_t cs, int64_t rows, int64_t k,
                       const QGemmRow *fixed, uint8_t *dst, int64_t lda, QGemmRow *rowQuant);
/// QGemmDequantizeFn of the AVX2 and AVX-VNNI families: qgemmDequantizeAvx2
/// on each half.
void qgemmDequantize16Avx2(const int32_t *s, const int32_t *colSum, QGemmRow q,
                           const float *bScale, float *c, int64_t count, bool accumulate);

/// Defined by QGemmPortable.cpp, QGemmAvx2.cpp, QGemmAvxVnni.cpp and
/// QGemmAvx512Vnni.cpp; all but the first only in x86 builds.
extern const QGemmMicroKernel qgemmPortableKernel;
extern const QGemmMicroKernel qgemmAvx2Kernel;
extern const QGemmMicroKernel qgemmAvxVnniKernel;
extern const QGemmMicroKernel qgemmAvx512VnniKernel;

} // namespace kiln

#endif // KILN_RUNTIME_KERNELS_QGEMMKERNELS_H
