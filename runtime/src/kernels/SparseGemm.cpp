//===- SparseGemm.cpp - fp32 GEMM with a sparse B: strips, threads --------===//
//
// Dense A (m x k) times a sparse constant B (k x n, its nonzero 1 x W
// blocks, kiln_sparse_pack.h). The loop nest, on one tile of C per thread:
//
//   for each strip of up to 64 rows           A's rows, transposed: k x 64
//     for each range of kRangeColumns columns
//       kernel: each block column in registers, its stored blocks
//               streaming past (SparseGemmStrip.h); C written by rows
//       epilogue on the range (still in cache)  bias, activation, residual
//
// Why vectorize over M with A transposed: a stored block of B is a few
// scalars (W = 1 or 4) at an arbitrary step p of k, so vectors must run
// along a dimension where the operand is dense. Running them along N (C's
// rows) would need blocks 16 columns wide, which 1x4-block and
// unstructured pruning do not give; running them along M needs A's column
// p contiguous, hence A transposed into a strip of k rows of 64 floats,
// once per strip and reused by every column of C. Each stored value is then
// a broadcast against 4 vectors of A, and each vector of A serves W
// columns. The strip (k x 64 floats: 192 KiB at k = 768, 768 KiB at
// k = 3072) stays in L2, where the blocks' rows of it are met in order of
// p, and the stored blocks stream from memory once per strip.
//
// A batch of GEMMs is one parallel loop over (GEMM, tile) pairs, cut as
// for the dense GEMM (GemmShared.h).
//
//===----------------------------------------------------------------------===//

#include "SparseGemm.h"
#include "Gemm.h"
#include "GemmShared.h"
#include "SparseGemmKernels.h"
#include "kiln/kiln_sparse_pack.h"

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

// Generated code fills the descriptor as an array of int64 and the context
// by position: both layouts are the ABI.
static_assert(sizeof(kiln_sparse_gemm_desc) == KILN_SPARSE_GEMM_DESC_FIELDS * sizeof(int64_t),
              "kiln_sparse_gemm_desc: every field is 64 bits wide");
static_assert(offsetof(kiln_runtime_context, sparse_gemm) == 12 * sizeof(void *),
              "kiln_runtime_context::sparse_gemm: appended after `qgemm`");

namespace kiln {
namespace {

/// Columns computed between two epilogues: a 64-row range of 128 columns
/// of C is 32 KiB, still in L1 when the epilogue reads it.
constexpr int64_t kRangeColumns = 128;

/// One GEMM of a batch as its tiles see it.
struct Problem {
  int64_t m, n, k;
  const float *a;
  int64_t aRowStride, aColStride;
  const uint8_t *b;
  float *c;
  int64_t ldc;
  bool accumulate;
  const float *bias;
  int64_t activation;
  const float *residual;
  int64_t residualRowStride;
};

Problem problemAt(const kiln_sparse_gemm_desc &d, int64_t index) {
  const int64_t b0 = index / d.batch[1], b1 = index % d.batch[1];
  auto offset = [&](const int64_t *stride) { return b0 * stride[0] + b1 * stride[1]; };
  return {d.m,
          d.n,
          d.k,
          d.a + offset(d.batch_stride_a),
          d.a_rs,
          d.a_cs,
          static_cast<const uint8_t *>(d.b) + offset(d.batch_stride_b),
          d.c + offset(d.batch_stride_c),
          d.ldc,
          d.accumulate != 0,
          d.bias,
          d.activation,
          d.residual ? d.residual + offset(d.batch_stride_residual) : nullptr,
          d.residual_rs};
}

/// C[i0:i1, j0:j1] of one GEMM on the calling thread; j0 is a multiple of
/// kSparseChunkColumns (so of W).
void sparseTile(const SparseGemmMicroKernel &kernel, GemmEpilogueFn epilogue, const Problem &g,
                int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
  int64_t k, n, w, stored;
  kiln_sparse_header(g.b, &k, &n, &w, &stored);
  const int64_t stripRows = std::min(kSparseStripRows, roundUp(i1 - i0, 16));
  const int64_t atFloats = roundUp(std::max<int64_t>(g.k, 1) * stripRows, 16);
  auto *at = static_cast<float *>(
      gemmPackBuffer((atFloats + kSparseChunkColumns * stripRows) * sizeof(float)));
  SparseStrip s;
  s.starts = reinterpret_cast<const int32_t *>(g.b + KILN_SPARSE_HEADER_BYTES);
  s.blockRows = reinterpret_cast<const int32_t *>(g.b + kiln_sparse_rows_offset(n, w));
  s.values = reinterpret_cast<const float *>(g.b + kiln_sparse_values_offset(n, w, stored));
  s.width = w;
  s.ldc = g.ldc;
  s.accumulate = g.accumulate;
  s.at = at;
  s.scratch = at + atFloats;
  const bool hasEpilogue = g.bias || g.residual || g.activation != KILN_GEMM_ACT_NONE;
  for (int64_t ir = i0; ir < i1; ir += kSparseStripRows) {
    s.rows = std::min(kSparseStripRows, i1 - ir);
    s.stride = roundUp(s.rows, 16);
    kernel.transposeA(g.a + ir * g.aRowStride, g.aRowStride, g.aColStride, s.rows, g.k, s.stride, at);
    for (int64_t jc = j0; jc < j1; jc += kRangeColumns) {
      s.cols = std::min(kRangeColumns, j1 - jc);
      s.q0 = jc / w;
      s.c = g.c + ir * g.ldc + jc;
      kernel.run(s);
      if (hasEpilogue)
        epilogue(s.c, g.ldc, s.rows, s.cols, g.bias ? g.bias + jc : nullptr, g.activation,
                 g.residual ? g.residual + ir * g.residualRowStride + jc : nullptr,
                 g.residualRowStride);
    }
  }
}

/// Rejects what no GEMM can run (generated code never asks for it): the
/// header of every B of the batch is checked.
void checkDesc(const kiln_sparse_gemm_desc &d) {
  if (d.activation < KILN_GEMM_ACT_NONE || d.activation > KILN_GEMM_ACT_RELU)
    throw std::invalid_argument("kiln_sparse_gemm_desc: unknown activation " +
                                std::to_string(d.activation));
  if (!d.b)
    throw std::invalid_argument("kiln_sparse_gemm_desc: no B");
  for (int64_t index = 0; index < d.batch[0] * d.batch[1]; ++index) {
    int64_t k, n, w, stored;
    kiln_sparse_header(problemAt(d, index).b, &k, &n, &w, &stored);
    if (k != d.k || n != d.n)
      throw std::invalid_argument("kiln_sparse_gemm_desc: B is " + std::to_string(k) + " x " +
                                  std::to_string(n) + ", the GEMM " + std::to_string(d.k) +
                                  " x " + std::to_string(d.n));
    if (!kiln_sparse_width_ok(w) || stored < 0 || stored > k * kiln_sparse_block_columns(n, w))
      throw std::invalid_argument("kiln_sparse_gemm_desc: B has blocks of " + std::to_string(w) +
                                  " (" + std::to_string(stored) + " stored)");
  }
}

/// KILN_GEMM_KERNEL=portable or avx2 (as for the dense GEMM) picks the
/// portable kernel, as do CPUs without AVX-512.
const SparseGemmMicroKernel &selectedKernel() {
  static const SparseGemmMicroKernel &kernel = sparseGemmMicroKernel(
      std::strcmp(sgemmKernelName(), "avx512") == 0 ? SparseGemmFamily::Avx512
                                                    : SparseGemmFamily::Portable);
  return kernel;
}

} // namespace

bool sparseGemmFamilySupported(SparseGemmFamily family) {
  switch (family) {
  case SparseGemmFamily::Portable:
    return true;
#ifdef KILN_GEMM_X86
  case SparseGemmFamily::Avx512:
    return __builtin_cpu_supports("avx512f");
#endif
  default:
    return false;
  }
}

const SparseGemmMicroKernel &sparseGemmMicroKernel(SparseGemmFamily family) {
#ifdef KILN_GEMM_X86
  if (family == SparseGemmFamily::Avx512 && sparseGemmFamilySupported(family))
    return sparseGemmAvx512Kernel;
#endif
  (void)family;
  return sparseGemmPortableKernel;
}

void sparseGemmWith(const SparseGemmMicroKernel &kernel, GemmEpilogueFn epilogue,
                    const kiln_sparse_gemm_desc &d, ThreadPool *pool) {
  if (d.m <= 0 || d.n <= 0 || d.batch[0] <= 0 || d.batch[1] <= 0)
    return;
  checkDesc(d);
  const int64_t batch = d.batch[0] * d.batch[1];
  int64_t k, n, w, stored;
  kiln_sparse_header(d.b, &k, &n, &w, &stored);
  // A stored multiply-add costs about twice a dense one (kiln_sparse_cost).
  const int64_t work = batch * d.m * std::max<int64_t>(stored * w, 1) * 2;
  const int64_t threads = gemmThreads(pool, work);
  const Tiling t = threads == 1 ? Tiling{d.m, d.n, 1}
                                : chooseTiling(kSparseStripRows, kSparseChunkColumns, d.m, d.n,
                                               batch, threads, 0);
  forEachTile(pool, threads, batch, d.m, d.n, t,
              [&](int64_t index, int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
                sparseTile(kernel, epilogue, problemAt(d, index), i0, i1, j0, j1);
              });
}

void sparseGemm(const kiln_sparse_gemm_desc &desc, ThreadPool *pool) {
  const SparseGemmMicroKernel &kernel = selectedKernel();
  const GemmFamily family =
      &kernel == &sparseGemmPortableKernel ? GemmFamily::Portable : GemmFamily::Avx512;
  sparseGemmWith(kernel, gemmMicroKernel(family).epilogue, desc, pool);
}

const char *sparseGemmKernelName() { return selectedKernel().name; }

} // namespace kiln
