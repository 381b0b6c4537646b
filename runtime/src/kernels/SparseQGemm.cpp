//===- SparseQGemm.cpp - int8 GEMM with a sparse B: strips, threads -------===//
//
// Dense A (m x k, float quantized here or uint8) times a sparse constant
// int8 B (k x n, its nonzero 1 x W blocks in groups of 4 rows,
// kiln_sparse_qgemm_pack.h). The loop nest, on one tile of C per thread:
//
//   for each strip of up to 64 rows           A's rows quantized as the dense
//                                             int8 GEMM does, transposed:
//                                             k rows of 64 bytes
//     for each range of kRangeColumns columns
//       kernel: each block column's sums in registers, its groups
//               streaming past; dequantized, then written
//               to C by rows
//       epilogue on the range (still in cache)  bias, activation, residual
//
// Why this shape: as for the fp32 sparse GEMM (SparseGemm.cpp), a stored
// block is a few weights at an arbitrary step p of k, so vectors run along
// M, where A is dense: 16 int32 lanes are 16 rows of C. `vpdpbusd` adds 4
// products per lane, so the stored rows of a block column are taken 4 at a
// time (a group) and the kernel interleaves the group's 4 rows of the
// transposed A into lanes of 4 bytes; each interleave serves the block's W
// columns, each a broadcast dword of 4 weights. The transposed strip
// (k x 64 bytes: 48 KiB at k = 768, 192 KiB at k = 3072) stays in L2.
//
// The quantization of A and the epilogue are the dense int8 family's own
// functions (QGemmMicroKernel), the dequantization its float operations,
// and the int32 sums are exact in any order, so C is what qgemm gives for
// the dense B, bit for bit.
//
//===----------------------------------------------------------------------===//

#include "SparseQGemm.h"
#include "GemmKernels.h"
#include "GemmShared.h"
#include "SparseQGemmKernels.h"
#include "kiln/kiln_qgemm_pack.h"
#include "kiln/kiln_sparse_qgemm_pack.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <stdexcept>
#include <string>

static_assert(offsetof(kiln_runtime_context, sparse_qgemm) == 14 * sizeof(void *),
              "kiln_runtime_context::sparse_qgemm: appended after `softmax`");

namespace kiln {
namespace {

/// Columns computed between two epilogues: a 64-row range of 128 columns
/// of C is 32 KiB, still in L1 when the epilogue reads it.
constexpr int64_t kRangeColumns = 128;

/// C[i0:i1, j0:j1] of one GEMM on the calling thread; j0 is a multiple of
/// kSparseQChunkColumns (so of W).
void sparseQTile(const SparseQGemmMicroKernel &kernel, const QGemmMicroKernel &dense,
                 const QGemmProblem &g, int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
  int64_t k, n, w, stored, groups;
  kiln_sparse_qgemm_header(g.b, &k, &n, &w, &stored, &groups);
  const int64_t lda = kiln_qgemm_packed_k(g.k);
  const size_t rowsBytes = size_t(roundUp(kSparseQStripRows * lda, 64));
  const size_t atBytes = size_t(roundUp(std::max<int64_t>(g.k, 1) * kSparseQStripRows, 64));
  const size_t scratchBytes = 2 * kSparseQChunkColumns * kSparseQStripRows * sizeof(int32_t);
  auto *buffer = static_cast<uint8_t *>(
      gemmPackBuffer(rowsBytes + atBytes + scratchBytes + kSparseQStripRows * sizeof(QGemmRow)));
  uint8_t *aRows = buffer, *at = buffer + rowsBytes;
  auto *rowQuant = reinterpret_cast<QGemmRow *>(at + atBytes + scratchBytes);
  SparseQStrip s;
  s.at = at;
  s.starts = reinterpret_cast<const int32_t *>(g.b + KILN_SPARSE_HEADER_BYTES);
  s.groupRows = reinterpret_cast<const uint16_t *>(g.b + kiln_sparse_qgemm_rows_offset(n, w));
  s.values = reinterpret_cast<const int8_t *>(g.b + kiln_sparse_qgemm_values_offset(n, w, groups));
  const auto *colSum =
      reinterpret_cast<const int32_t *>(g.b + kiln_sparse_qgemm_colsum_offset(n, w, groups));
  s.width = w;
  s.rowQuant = rowQuant;
  s.ldc = g.ldc;
  s.accumulate = g.accumulate;
  s.scratch = reinterpret_cast<int32_t *>(at + atBytes);
  s.dequantize = dense.dequantize;
  const bool hasEpilogue = g.bias || g.residual || g.activation != KILN_GEMM_ACT_NONE;
  for (int64_t ir = i0; ir < i1; ir += kSparseQStripRows) {
    s.rows = std::min(kSparseQStripRows, i1 - ir);
    qgemmPrepareA(dense, g, ir, s.rows, kSparseQStripRows, aRows, lda, rowQuant);
    kernel.transposeA(aRows, lda, g.k, at);
    for (int64_t jc = j0; jc < j1; jc += kRangeColumns) {
      s.cols = std::min(kRangeColumns, j1 - jc);
      s.q0 = jc / w;
      s.colSum = colSum + jc;
      s.bScale = g.bScale + jc;
      s.c = g.c + ir * g.ldc + jc;
      kernel.run(s);
      if (hasEpilogue)
        dense.fp32->epilogue(
            s.c, g.ldc, s.rows, s.cols, g.bias ? g.bias + jc : nullptr, g.activation,
            g.residual ? g.residual + ir * g.residualRowStride + jc : nullptr, g.residualRowStride);
    }
  }
}

/// Rejects what no GEMM can run (generated code never asks for it): what
/// qgemm rejects, and a B whose header disagrees (every B of the batch).
void checkDesc(const kiln_qgemm_desc &d) {
  qgemmCheckDesc(d);
  if (!d.b)
    throw std::invalid_argument("sparse_qgemm: no B");
  for (int64_t index = 0; index < d.batch[0] * d.batch[1]; ++index) {
    int64_t k, n, w, stored, groups;
    kiln_sparse_qgemm_header(qgemmProblemAt(d, index).b, &k, &n, &w, &stored, &groups);
    if (k != d.k || n != d.n)
      throw std::invalid_argument("sparse_qgemm: B is " + std::to_string(k) + " x " +
                                  std::to_string(n) + ", the GEMM " + std::to_string(d.k) + " x " +
                                  std::to_string(d.n));
    if (!kiln_sparse_width_ok(w) || stored < 0 || stored > k * kiln_sparse_block_columns(n, w) ||
        groups < (stored + 3) / 4 || groups > stored)
      throw std::invalid_argument("sparse_qgemm: B has blocks of " + std::to_string(w) + " (" +
                                  std::to_string(stored) + " stored in " + std::to_string(groups) +
                                  " groups)");
  }
}

/// The AVX-512 VNNI kernel where the dense int8 GEMM runs its AVX-512 VNNI
/// family (KILN_QGEMM_KERNEL lowers both), else the portable one.
const SparseQGemmMicroKernel &selectedKernel() {
  static const SparseQGemmMicroKernel &kernel =
      sparseQgemmMicroKernel(std::strcmp(qgemmSelectedMicroKernel().name, "avx512vnni") == 0
                                 ? SparseQGemmFamily::Avx512Vnni
                                 : SparseQGemmFamily::Portable);
  return kernel;
}

} // namespace

bool sparseQgemmFamilySupported(SparseQGemmFamily family) {
  if (family == SparseQGemmFamily::Portable)
    return true;
  return qgemmFamilySupported(QGemmFamily::Avx512Vnni);
}

const SparseQGemmMicroKernel &sparseQgemmMicroKernel(SparseQGemmFamily family) {
#ifdef KILN_GEMM_X86
  if (family == SparseQGemmFamily::Avx512Vnni && sparseQgemmFamilySupported(family))
    return sparseQgemmAvx512VnniKernel;
#endif
  (void)family;
  return sparseQgemmPortableKernel;
}

void sparseQgemmWith(const SparseQGemmMicroKernel &kernel, const QGemmMicroKernel &dense,
                     const kiln_qgemm_desc &d, ThreadPool *pool) {
  checkDesc(d);
  if (d.m <= 0 || d.n <= 0 || d.batch[0] <= 0 || d.batch[1] <= 0)
    return;
  const int64_t batch = d.batch[0] * d.batch[1];
  int64_t k, n, w, stored, groups;
  kiln_sparse_qgemm_header(d.b, &k, &n, &w, &stored, &groups);
  // As the dense int8 GEMM counts its work (a quarter of an fp32
  // multiply-add each), at the stored multiply-adds' cost.
  const int64_t work = batch * d.m * std::max<int64_t>(groups * 4 * w, 1) / 2;
  const int64_t threads = gemmThreads(pool, work);
  const Tiling t = threads == 1 ? Tiling{d.m, d.n, 1}
                                : chooseTiling(kSparseQStripRows, kSparseQChunkColumns, d.m, d.n,
                                               batch, threads, 0);
  forEachTile(pool, threads, batch, d.m, d.n, t,
              [&](int64_t index, int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
                sparseQTile(kernel, dense, qgemmProblemAt(d, index), i0, i1, j0, j1);
              });
}

void sparseQgemm(const kiln_qgemm_desc &desc, ThreadPool *pool) {
  sparseQgemmWith(selectedKernel(), qgemmSelectedMicroKernel(), desc, pool);
}

const char *sparseQgemmKernelName() { return selectedKernel().name; }

} // namespace kiln
