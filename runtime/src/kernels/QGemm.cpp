//===- QGemm.cpp - int8 matrix multiply: blocking, threads, dispatch ------===//
//
// One tile of C per thread, as for fp32 (Gemm.cpp), in this loop nest:
//
//   quantize (or copy) the tile's rows of A   uint8 rows, all of k
//   for each nc-wide block of columns         packed B: k x nc, stays in L2
//     for each mr-tall strip of rows          its rows of A stay in L1
//       for each nr-wide tile                 micro-kernel over all of k,
//                                             then dequantized into C,
//                                             then the epilogue (bias,
//                                             activation, residual)
//
// The epilogue runs on each tile (mr x nr, still in L1) rather than on the
// strip of nc columns, which has left L1 by then at nc ~ 1000: BERT-base
// int8 ran ~5% faster on one thread (medians of 16 alternating rounds, the
// FFN's GELU the most of it).
// k is not blocked: the sums stay int32 in registers from the first step of
// k to the dequantization, and a strip of A (mr rows of k bytes: 24 KiB at
// k = 3072) fits L1. A is quantized once per tile, not per block of B: a
// row is quantized with the range of all of it.
//
//===----------------------------------------------------------------------===//

#include "QGemm.h"
#include "GemmKernels.h"
#include "GemmShared.h"
#include "QGemmKernels.h"
#include "kiln/kiln_qgemm_pack.h"

#include <algorithm>
#include <cfloat>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <stdexcept>
#include <string>

// Generated code fills the descriptor as an array of int64 and the context
// by position: both layouts are the ABI.
static_assert(sizeof(kiln_qgemm_desc) == KILN_QGEMM_DESC_FIELDS * sizeof(int64_t),
              "kiln_qgemm_desc: every field is 64 bits wide");
static_assert(offsetof(kiln_runtime_context, qgemm) == 11 * sizeof(void *),
              "kiln_runtime_context::qgemm: appended after `fail`");

namespace kiln {

QGemmProblem qgemmProblemAt(const kiln_qgemm_desc &d, int64_t index) {
  const int64_t b0 = index / d.batch[1], b1 = index % d.batch[1];
  auto offset = [&](const int64_t *stride) { return b0 * stride[0] + b1 * stride[1]; };
  const int64_t aOffset = offset(d.batch_stride_a);
  const void *a = d.a_type == KILN_DTYPE_FLOAT32
                      ? static_cast<const void *>(static_cast<const float *>(d.a) + aOffset)
                      : static_cast<const void *>(static_cast<const uint8_t *>(d.a) + aOffset);
  return {d.m,
          d.n,
          d.k,
          a,
          d.a_type,
          d.a_rs,
          d.a_cs,
          {d.a_scale ? *d.a_scale : 1.0f, d.a_zero_point ? int32_t(*d.a_zero_point) : 0},
          d.a_type == KILN_DTYPE_FLOAT32 && d.a_scale != nullptr,
          static_cast<const uint8_t *>(d.b) + offset(d.batch_stride_b),
          d.b_scale + offset(d.batch_stride_b_scale),
          d.c + offset(d.batch_stride_c),
          d.ldc,
          d.accumulate != 0,
          d.bias,
          d.activation,
          d.residual ? d.residual + offset(d.batch_stride_residual) : nullptr,
          d.residual_rs};
}

void qgemmPrepareA(const QGemmMicroKernel &kernel, const QGemmProblem &g, int64_t i0,
                   int64_t rows, int64_t paddedRows, uint8_t *dst, int64_t lda,
                   QGemmRow *rowQuant) {
  if (g.aType == KILN_DTYPE_FLOAT32) {
    kernel.quantize(static_cast<const float *>(g.a) + i0 * g.aRowStride, g.aRowStride, g.aColStride,
                    rows, g.k, g.aStatic ? &g.aQuant : nullptr, dst, lda, rowQuant);
  } else {
    const uint8_t *a = static_cast<const uint8_t *>(g.a) + i0 * g.aRowStride;
    for (int64_t i = 0; i < rows; ++i) {
      const uint8_t *row = a + i * g.aRowStride;
      uint8_t *out = dst + i * lda;
      if (g.aColStride == 1)
        std::memcpy(out, row, size_t(g.k));
      else
        for (int64_t p = 0; p < g.k; ++p)
          out[p] = row[p * g.aColStride];
      std::fill(out + g.k, out + lda, uint8_t(0));
      rowQuant[i] = g.aQuant;
    }
  }
  std::fill(dst + rows * lda, dst + paddedRows * lda, uint8_t(0));
}

namespace {

/// The widest block of packed B (k4 bytes per column) to keep in L2: half
/// of it, as for fp32, in multiples of `unit`.
int64_t blockColumns(int64_t k4, int64_t unit) {
  const int64_t l2 = l2CacheBytes();
  const int64_t columns = l2 ? l2 / 2 / std::max<int64_t>(k4, 1) : 512;
  return std::max(unit, columns / unit * unit);
}

/// C[i0:i1, j0:j1] of one GEMM on the calling thread; j0 is a multiple of
/// `unit`, the tile width of the kernel rounded up to whole panels.
void qgemmTile(const QGemmMicroKernel &kernel, const QGemmProblem &g, int64_t unit, int64_t i0,
               int64_t i1, int64_t j0, int64_t j1) {
  const int64_t mr = kernel.mr, nr = kernel.nr;
  const int64_t k4 = kiln_qgemm_packed_k(g.k), lda = kernel.widen ? 2 * k4 : k4;
  const int64_t rows = i1 - i0, paddedRows = roundUp(rows, mr);
  const size_t aBytes = size_t(roundUp(paddedRows * lda, 64));
  auto *buffer = static_cast<uint8_t *>(gemmPackBuffer(aBytes + paddedRows * sizeof(QGemmRow)));
  QGemmRow *rowQuant = reinterpret_cast<QGemmRow *>(buffer + aBytes);
  qgemmPrepareA(kernel, g, i0, rows, paddedRows, buffer, lda, rowQuant);
  if (kernel.widen)
    kernel.widen(buffer, rows, k4, lda);

  const int64_t panelStride = k4 * KILN_QGEMM_PANEL;
  const auto *colSum = reinterpret_cast<const int32_t *>(g.b + kiln_qgemm_colsum_offset(g.k, g.n));
  const int64_t ncMax = balancedBlock(j1 - j0, blockColumns(k4, unit), unit);
  const bool epilogue = g.bias || g.residual || g.activation != KILN_GEMM_ACT_NONE;
  QGemmTile t;
  t.groups = k4 / 4;
  t.lda = lda;
  t.panelStride = panelStride;
  t.ldc = g.ldc;
  t.accumulate = g.accumulate;
  for (int64_t jc = j0; jc < j1; jc += ncMax) {
    const int64_t nc = std::min(ncMax, j1 - jc);
    for (int64_t ir = i0; ir < i1; ir += mr) {
      t.a = buffer + (ir - i0) * lda;
      t.rowQuant = rowQuant + (ir - i0);
      t.rows = std::min(mr, i1 - ir);
      for (int64_t j = jc; j < jc + nc; j += nr) {
        t.b = reinterpret_cast<const int8_t *>(g.b) + j / KILN_QGEMM_PANEL * panelStride +
              j % KILN_QGEMM_PANEL * 4;
        t.colSum = colSum + j;
        t.bScale = g.bScale + j;
        t.c = g.c + ir * g.ldc + j;
        t.cols = std::min(nr, jc + nc - j);
        kernel.run(t);
      }
      // This strip of C is final (k is not blocked) and still in cache: one
      // epilogue call over it rather than one per tile (a call per 8 x 48
      // tile cost more than its vectors).
      if (epilogue)
        kernel.fp32->epilogue(
            g.c + ir * g.ldc + jc, g.ldc, t.rows, nc, g.bias ? g.bias + jc : nullptr,
            g.activation, g.residual ? g.residual + ir * g.residualRowStride + jc : nullptr,
            g.residualRowStride);
    }
  }
}

} // namespace

/// Rejects what no GEMM can run (generated code never asks for it).
void qgemmCheckDesc(const kiln_qgemm_desc &d) {
  if (d.activation < KILN_GEMM_ACT_NONE || d.activation > KILN_GEMM_ACT_RELU)
    throw std::invalid_argument("kiln_qgemm_desc: unknown activation " +
                                std::to_string(d.activation));
  if (d.a_type != KILN_DTYPE_FLOAT32 && d.a_type != KILN_DTYPE_UINT8)
    throw std::invalid_argument("kiln_qgemm_desc: a_type " + std::to_string(d.a_type) +
                                " is neither float32 nor uint8");
  if (d.a_type == KILN_DTYPE_FLOAT32 && d.a_scale && !(*d.a_scale >= FLT_MIN && *d.a_scale <= FLT_MAX))
    throw std::invalid_argument("kiln_qgemm_desc: the static a_scale " + std::to_string(*d.a_scale) +
                                " is not a positive normal float");
  if (d.k < 0 || d.k > KILN_QGEMM_MAX_K)
    throw std::invalid_argument("kiln_qgemm_desc: k = " + std::to_string(d.k) +
                                " is outside [0, KILN_QGEMM_MAX_K]");
}

namespace {

/// The best family this CPU has, unless KILN_QGEMM_KERNEL (portable, avx2,
/// avxvnni or avx512vnni; for tests and benchmarks) asks for one below it.
const QGemmMicroKernel &pickKernel() {
  QGemmFamily family = QGemmFamily::Avx512Vnni;
  if (const char *forced = std::getenv("KILN_QGEMM_KERNEL")) {
    if (std::strcmp(forced, "portable") == 0)
      family = QGemmFamily::Portable;
    else if (std::strcmp(forced, "avx2") == 0)
      family = QGemmFamily::Avx2;
    else if (std::strcmp(forced, "avxvnni") == 0)
      family = QGemmFamily::AvxVnni;
  }
  return qgemmMicroKernel(family);
}

} // namespace

const QGemmMicroKernel &qgemmSelectedMicroKernel() {
  static const QGemmMicroKernel &kernel = pickKernel();
  return kernel;
}

bool qgemmFamilySupported(QGemmFamily family) {
  switch (family) {
  case QGemmFamily::Portable:
    return true;
#ifdef KILN_GEMM_X86
  case QGemmFamily::Avx2:
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  case QGemmFamily::AvxVnni:
    return qgemmFamilySupported(QGemmFamily::Avx2) && __builtin_cpu_supports("avxvnni");
  case QGemmFamily::Avx512Vnni:
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vnni");
#endif
  default:
    return false;
  }
}

const QGemmMicroKernel &qgemmMicroKernel(QGemmFamily family) {
#ifdef KILN_GEMM_X86
  // From the family asked for down, the first this CPU has.
  static const QGemmMicroKernel *const kernels[] = {&qgemmPortableKernel, &qgemmAvx2Kernel,
                                                    &qgemmAvxVnniKernel, &qgemmAvx512VnniKernel};
  for (int f = int(family); f > 0; --f)
    if (qgemmFamilySupported(QGemmFamily(f)))
      return *kernels[f];
#endif
  (void)family;
  return qgemmPortableKernel;
}

void qgemmWith(const QGemmMicroKernel &kernel, const kiln_qgemm_desc &d, ThreadPool *pool) {
  qgemmCheckDesc(d);
  if (d.m <= 0 || d.n <= 0 || d.batch[0] <= 0 || d.batch[1] <= 0)
    return;
  const int64_t batch = d.batch[0] * d.batch[1];
  // An int8 multiply-add costs about a quarter of an fp32 one.
  const int64_t threads = gemmThreads(pool, batch * d.m * d.n * std::max<int64_t>(d.k, 1) / 4);
  const int64_t unit = std::lcm(kernel.nr, int64_t(KILN_QGEMM_PANEL));
  const Tiling t = threads == 1 ? Tiling{d.m, d.n, 1}
                                : chooseTiling(kernel.mr, unit, d.m, d.n, batch, threads, 0);
  forEachTile(pool, threads, batch, d.m, d.n, t,
              [&](int64_t index, int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
                qgemmTile(kernel, qgemmProblemAt(d, index), unit, i0, i1, j0, j1);
              });
}

void qgemm(const kiln_qgemm_desc &desc, ThreadPool *pool) {
  qgemmWith(qgemmSelectedMicroKernel(), desc, pool);
}

const char *qgemmKernelName() { return qgemmSelectedMicroKernel().name; }

} // namespace kiln
