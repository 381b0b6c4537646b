//===- GemmKernels.h - sgemm's per-ISA micro-kernels ------------*- C++ -*-===//
//
// Internal to the runtime. sgemm (Gemm.cpp) cuts C into tiles of MR x NR
// and computes each with a micro-kernel of one family, from panels that the
// family's own pack functions copied out of A and B (or, in families with
// runStridedA, from a row-major A as it lies):
//
//   packed A: an MR x kc panel stored k-major, a[p*MR + i] = A(i, p)
//   packed B: a kc x NR panel stored k-major, b[p*NR + j] = B(p, j)
//
// Both are zero-padded to full MR and NR, so a kernel always computes a
// full tile; only its store to C is cut to rows x cols. B panels lie
// NR*kc floats apart when packed at run time, or NR*k apart in a B
// prepacked at compile time for this NR (kiln_gemm_desc::b_panel), which is
// read in place at whatever alignment the model gave it. An A panel may be
// a slice of K of a strip packed whole (Gemm.cpp packs all of A once when
// C has several blocks of columns), so it too has no alignment beyond its
// element's: kernels load both unaligned.
//
// Each family lives in its own file, built with its own -m flags, with its
// pack functions, its vectorized epilogue (GemmEpilogue.h) and row softmax
// (SoftmaxRows.h; AVX-512 also the column softmax, SoftmaxColumns.h), and
// layer norm (LayerNormRows.h). Those files include only <immintrin.h>,
// kiln_abi.h, this header (which defines no inline functions), GemmPack.h,
// GemmEpilogue.h, SoftmaxRows.h, SoftmaxColumns.h and LayerNormRows.h
// (internal linkage throughout): an inline function emitted there could be
// compiled with AVX-512 and then chosen by the linker for every caller.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_KERNELS_GEMMKERNELS_H
#define KILN_RUNTIME_KERNELS_GEMMKERNELS_H

#include "kiln/kiln_abi.h"

#include <cstdint>

namespace kiln {
struct GemmArgs;
class ThreadPool;

/// A family's packed element: float for sgemm's kernels; for the bf16
/// kernels (GemmBf16*.cpp), uint16_t bf16 values, a pair of steps of k of
/// one row (column) side by side, as kiln_bf16_pack.h lays out B:
///
///   packed A: a[(p/2)*2MR + 2i + p%2] = bf16(A(i, p)), MR x K2 per panel
///   packed B: b[(p/2)*2NR + 2j + p%2] = B(p, j),        K2 x NR per panel
///
/// with kc rounded up to even (K2) and zeros past it. In elements of the
/// packed type, the offsets of the fp32 layout hold with k replaced by K2,
/// so one driver (Gemm.cpp) serves both.
template <class Packed> struct GemmPacking;
template <> struct GemmPacking<float> {
  static constexpr int64_t kStepsPerGroup = 1;
};
template <> struct GemmPacking<uint16_t> {
  static constexpr int64_t kStepsPerGroup = 2;
};

/// C[i*ldc + j] = (accumulate ? C[i*ldc + j] : 0) + sum_p a(i, p) * b(p, j)
/// for i < rows <= MR, j < cols <= NR, p < kc, from packed panels. With
/// accumulate false, C is not read. A non-null `next` is the panel of B
/// the caller runs next, not yet in cache (a prepacked B met for the first
/// time): the kernel prefetches it into L2 a row per step of k, so it
/// arrives while this panel is computed.
template <class Packed>
using GemmMicroKernelFnOf = void (*)(int64_t kc, const Packed *a, const Packed *b, float *c,
                                     int64_t ldc, int64_t rows, int64_t cols, bool accumulate,
                                     const Packed *next);
/// Packs rows x kc of A (rows <= MR; `a` points at its element (0, 0)) into
/// one zero-padded panel at dst.
template <class Packed>
using GemmPackAFnOf = void (*)(const float *a, int64_t rowStride, int64_t colStride, int64_t rows,
                               int64_t kc, Packed *dst);
/// Packs kc x cols of an fp32 B into ceil(cols / NR) consecutive panels at
/// dst (the bf16 families round it to bf16 pairs: a B that is not
/// prepacked, since ABI 12).
template <class Packed>
using GemmPackBFnOf = void (*)(const float *b, int64_t rowStride, int64_t colStride, int64_t kc,
                               int64_t cols, Packed *dst);
/// The epilogue of kiln_gemm_desc on rows x cols of C: c[i*ldc + j] =
/// act(c[i*ldc + j] + bias[j]) + residual[i*residualRowStride + j], where a
/// null bias or residual is no term (GemmEpilogue.h).
using GemmEpilogueFn = void (*)(float *c, int64_t ldc, int64_t rows, int64_t cols,
                                const float *bias, int64_t activation, const float *residual,
                                int64_t residualRowStride);
/// `rows` rows of kiln_softmax_desc (SoftmaxRows.h) with the family's
/// vectors: x, y and addend at their first row, strides in elements.
using SoftmaxRowsFn = void (*)(const float *x, int64_t xRowStride, float *y, int64_t yRowStride,
                               const float *addend, int64_t addendRowStride,
                               int64_t addendColStride, int64_t rows, int64_t n, float scale);
/// The same softmax of rows <= mr rows of x (x overwritten on the way), the
/// result written as one packed panel of A (mr x n, rows past `rows` zero),
/// the layout packA gives: the fused attention's P goes to the product by V
/// without a packing pass (SoftmaxRows.h).
using SoftmaxToPanelFn = void (*)(float *x, int64_t xRowStride, const float *addend,
                                  int64_t addendRowStride, int64_t addendColStride, int64_t rows,
                                  int64_t n, float scale, float *panel);

/// `rows` rows of kiln_layer_norm_desc (LayerNormRows.h) with the family's
/// vectors: x and y at their first row, strides in elements.
using LayerNormRowsFn = void (*)(const float *x, int64_t xRowStride, float *y,
                                 int64_t yRowStride, const float *scale, const float *bias,
                                 int64_t rows, int64_t n, float epsilon);

/// The fp32 micro-kernel with A read in place, A(i, p) = a[i * aRowStride +
/// p * aColStride], rows past `rows` never read, instead of from a packed
/// panel (which is aRowStride 1, aColStride MR): sgemm and the fused
/// attention give it a row-major A (aColStride 1) whose strips they would
/// otherwise pack. The packing cost ~2% of all-MiniLM-L6-v2 at 1 thread;
/// its GEMMs now run ~2% faster (kiln run --profile), the model ~0.6%
/// (kiln-bench). The same sums as from a packed panel, bit for bit.
///
/// A non-null `warm` (with a null `next`) is the panel the caller runs
/// next, already in L2: the kernel fetches its first rows into L1 during
/// its own last steps of k, so that the next tile does not start by
/// waiting on them.
using GemmStridedAKernelFn = void (*)(int64_t kc, const float *a, int64_t aRowStride,
                                      int64_t aColStride, const float *b, float *c, int64_t ldc,
                                      int64_t rows, int64_t cols, bool accumulate,
                                      const float *next, const float *warm);

/// The softmax of kiln_softmax_desc down each of the nr columns of s (n
/// rows, nr floats apart), in place: the scores of n keys (rows) for nr
/// queries (columns), with a term per key, addend[p * keyStride], or with
/// perQuery a row of nr terms per key, addend[p * keyStride + j], or none.
/// The same floats per column as SoftmaxRowsFn on that query's row
/// (SoftmaxColumns.h).
using SoftmaxColumnsFn = void (*)(float *s, int64_t n, const float *addend, int64_t keyStride,
                                  bool perQuery, float scale);

template <class Packed> struct GemmMicroKernelOf {
  const char *name; // "avx512", "avx2", "portable", "avx512bf16", "portable-bf16"
  int64_t mr, nr;   // the tile
  /// Cache blocking for this tile: a kc x nc block of packed B stays in L2
  /// while one packed panel of A (mr x kc, in L1) sweeps across it.
  int64_t kc, nc;
  GemmMicroKernelFnOf<Packed> run;
  GemmPackAFnOf<Packed> packA;
  GemmPackBFnOf<Packed> packB;
  GemmEpilogueFn epilogue;
  /// The fp32 families' vector code for kiln_softmax_desc (null in bf16
  /// families): it lives with the epilogue, in the file built for its ISA.
  SoftmaxRowsFn softmaxRows;
  SoftmaxToPanelFn softmaxToPanel;
  /// And for kiln_layer_norm_desc, likewise.
  LayerNormRowsFn layerNormRows;
  /// `run` with A read in place (GemmStridedAKernelFn), where the family
  /// has it (AVX-512); null elsewhere, and in the bf16 families, whose A
  /// must be packed to bf16 pairs.
  GemmStridedAKernelFn runStridedA;
  /// The row softmax down the nr columns of a block of attention scores
  /// stored transposed (SoftmaxColumnsFn), where the family has it
  /// (AVX-512, with runStridedA); null elsewhere.
  SoftmaxColumnsFn softmaxColumns;
};

using GemmMicroKernelFn = GemmMicroKernelFnOf<float>;
using GemmPackAFn = GemmPackAFnOf<float>;
using GemmPackBFn = GemmPackBFnOf<float>;
using GemmMicroKernel = GemmMicroKernelOf<float>;
/// A bf16 family (b_type KILN_DTYPE_BFLOAT16): fp32 sums of exact products
/// of bf16 pairs, in the order of `vdpbf16ps` (GemmBf16Portable.cpp), so
/// every family gives the same sums.
using GemmBf16MicroKernel = GemmMicroKernelOf<uint16_t>;
/// The kc of every bf16 family: the sum of a slice of K starts from zero
/// and is then added to C, so the slices, and with them the sums' bits,
/// are the same on every CPU only if every family cuts K alike.
constexpr int64_t kGemmBf16Depth = 256;

enum class GemmFamily { Portable, Avx2, Avx512 };
enum class GemmBf16Family { Portable, Avx512Bf16 };

/// Whether this build has the family and this CPU can run it.
bool gemmFamilySupported(GemmFamily family);

/// The family sgemm and gemm run on this CPU (KILN_GEMM_KERNEL may force a
/// lower one).
const GemmMicroKernel &selectedGemmKernel();

/// The family's kernel if supported, else the best supported one below it.
const GemmMicroKernel &gemmMicroKernel(GemmFamily family);

/// Whether this build has the bf16 family and this CPU can run it.
bool gemmBf16FamilySupported(GemmBf16Family family);

/// The bf16 family's kernel if supported, else the portable one; its
/// epilogue is that of `epilogueFrom` (the fp32 family gemm runs), so that
/// bias, activation and residual are computed as in the fp32 GEMM.
GemmBf16MicroKernel gemmBf16MicroKernel(GemmBf16Family family,
                                        const GemmMicroKernel &epilogueFrom);

/// The bf16 family gemm runs with `fp32` (the fp32 family it picked, whose
/// epilogue it shares): AVX512_BF16 unless KILN_GEMM_KERNEL asks for a
/// family below avx512 (then the portable one, as on CPUs without it).
GemmBf16MicroKernel gemmBf16KernelFor(const GemmMicroKernel &fp32);

/// sgemm and gemm with a given kernel (they use the one picked for this
/// CPU); gemmWith takes an fp32 B, gemmBf16With a bf16 one (b_type).
void sgemmWith(const GemmMicroKernel &kernel, const GemmArgs &args, ThreadPool *pool);
void gemmWith(const GemmMicroKernel &kernel, const kiln_gemm_desc &desc, ThreadPool *pool);
void gemmBf16With(const GemmBf16MicroKernel &kernel, const kiln_gemm_desc &desc,
                  ThreadPool *pool);

/// Defined by GemmPortable.cpp, GemmAvx2.cpp and GemmAvx512.cpp; the last
/// two exist only in x86 builds (KILN_GEMM_X86).
extern const GemmMicroKernel gemmPortableKernel;
extern const GemmMicroKernel gemmAvx2Kernel;
extern const GemmMicroKernel gemmAvx512Kernel;
/// GemmBf16Portable.cpp and GemmAvx512Bf16.cpp (x86 builds only); their
/// `epilogue` is null (gemmBf16MicroKernel fills it in).
extern const GemmBf16MicroKernel gemmBf16PortableKernel;
extern const GemmBf16MicroKernel gemmAvx512Bf16Kernel;

} // namespace kiln

#endif // KILN_RUNTIME_KERNELS_GEMMKERNELS_H
