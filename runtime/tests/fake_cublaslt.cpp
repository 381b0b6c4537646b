//===- fake_cublaslt.cpp - cuBLASLt on the CPU, for tests -----------------===//
//
// The cuBLASLt entry points the runtime loads (runtime/src/gpu/CublasLt.h),
// in the fake CUDA driver's library so that KILN_CUBLASLT can name it too:
// a matmul is work on the fake driver's stream (run at once, or recorded
// while the stream is captured into a CUDA graph and run by each replay),
// computed on host memory as cuBLASLt documents it: column-major layouts,
// op(A) and op(B), strided batches, alpha and beta, the bias / ReLU /
// GELU-tanh epilogues. The tensor-core compute types round A and B as the
// tensor cores read them (fp16, bf16 or TF32, to nearest even) and sum in
// double, so that a model's fp16 GEMMs differ from fp32 as much as on a GPU
// (the rounding of the inputs; not the order of the sums). Matrices may be
// stored as fp16 or bf16 (CUDA_R_16F, CUDA_R_16BF): read exactly, D (and
// the bias, which has D's type) rounded to nearest even from the fp32
// result, as half_bits.h says. Layouts and types cuBLASLt would reject are
// rejected (the type combinations: supportedTypes).
//
// gpu_gemm_test.cpp checks the runtime's mapping of kiln_gemm_desc onto
// these calls; models compiled with --gpu-gemm=cublas --gpu-emulation run
// their GEMMs here (ctest gpu-models-emulated). FAKE_CUBLASLT_REPORT=1
// prints the number of matmul calls at exit.
//
//===----------------------------------------------------------------------===//

#include "fake_cuda_stream.h"
#include "gpu/CublasLt.h"
#include "half_bits.h"
#include "kiln/kiln_bf16_pack.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace lt = kiln::cublaslt;

namespace {

constexpr lt::Status kInvalidValue = 7;  // CUBLAS_STATUS_INVALID_VALUE
constexpr lt::Status kNotSupported = 15; // CUBLAS_STATUS_NOT_SUPPORTED

struct Desc {
  int computeType = 0;
  int32_t transA = lt::OP_N, transB = lt::OP_N;
  uint32_t epilogue = lt::EPILOGUE_DEFAULT;
  const void *bias = nullptr; // of D's type
};
struct Layout {
  int type; // CUDA_R_32F, _16F or _16BF
  uint64_t rows, cols;
  int64_t ld;
  int32_t batch = 1;
  int64_t stride = 0;
};

int matmulCalls = 0;

Desc &desc(lt::MatmulDesc d) { return *reinterpret_cast<Desc *>(d); }
Layout &layout(lt::Layout l) { return *reinterpret_cast<Layout *>(l); }

template <typename T> lt::Status setFrom(T &field, const void *value, size_t bytes) {
  if (bytes != sizeof(T))
    return kInvalidValue;
  std::memcpy(&field, value, bytes);
  return lt::SUCCESS;
}

/// `x` with its mantissa rounded to `bits` bits (to nearest even), as the
/// tensor cores read fp32 inputs for the fast compute types.
float roundMantissa(float x, int bits) {
  uint32_t u;
  std::memcpy(&u, &x, 4);
  if ((u & 0x7f800000u) == 0x7f800000u)
    return x; // inf, NaN
  int drop = 23 - bits;
  uint32_t half = 1u << (drop - 1), lsb = (u >> drop) & 1u;
  u = (u + half - 1 + lsb) & ~((1u << drop) - 1);
  float y;
  std::memcpy(&y, &u, 4);
  return y;
}

/// An fp32 input element as the compute type reads it.
float asComputed(float x, int computeType) {
  switch (computeType) {
  case lt::COMPUTE_32F_FAST_TF32: return roundMantissa(x, 10);
  case lt::COMPUTE_32F_FAST_16BF: return roundMantissa(x, 7);
  case lt::COMPUTE_32F_FAST_16F: return half_bits::halfToFloat(half_bits::halfFromFloat(x));
  default: return x;
  }
}

bool isSixteenBit(int type) { return type == lt::CUDA_R_16F || type == lt::CUDA_R_16BF; }

size_t elementBytes(int type) { return isSixteenBit(type) ? 2 : 4; }

/// Element `index` of a matrix of `type` at `base` (exact).
float load(const void *base, int type, int64_t index) {
  if (!isSixteenBit(type))
    return static_cast<const float *>(base)[index];
  uint16_t h = static_cast<const uint16_t *>(base)[index];
  return type == lt::CUDA_R_16F ? half_bits::halfToFloat(h) : kiln_bf16_to_float(h);
}

/// Stores `x` as element `index` of a matrix of `type`, rounded to it.
void store(void *base, int type, int64_t index, float x) {
  if (!isSixteenBit(type)) {
    static_cast<float *>(base)[index] = x;
    return;
  }
  static_cast<uint16_t *>(base)[index] =
      type == lt::CUDA_R_16F ? half_bits::halfFromFloat(x) : half_bits::bf16FromFloat(x);
}

/// Where batch `batch` of a matrix starts, in bytes: its strided batch
/// offset counts elements of its type.
int64_t batchBytes(const Layout &l, int32_t batch) {
  return int64_t(batch) * l.stride * int64_t(elementBytes(l.type));
}

/// The type combinations cuBLASLt runs (cublasLtMatmul's table, real
/// types): A and B of one type, C and D of one type; fp32 A and B with an
/// fp32 C and D under COMPUTE_32F or a tensor-core type (FAST_*); fp16 or
/// bf16 A and B with a C and D of their type or fp32, under COMPUTE_32F
/// only (the products of 16-bit inputs are exact: no FAST_* to ask for).
bool supportedTypes(const Desc &f, const Layout &a, const Layout &b, const Layout &c,
                    const Layout &d) {
  if (a.type != b.type || c.type != d.type)
    return false;
  if (isSixteenBit(a.type))
    return f.computeType == lt::COMPUTE_32F && (d.type == a.type || d.type == lt::CUDA_R_32F);
  return d.type == lt::CUDA_R_32F;
}

void matmul(const Desc &f, float alpha, float beta, const void *aP, Layout la, const void *bP,
            Layout lb, const void *cP, Layout lc, void *dP, Layout ld) {
  int64_t m = int64_t(ld.rows), n = int64_t(ld.cols);
  int64_t k = int64_t(f.transA == lt::OP_N ? la.cols : la.rows);
  std::vector<float> out(size_t(m * n));
  // op(A) and op(B) as the compute type reads them, row-major: the sums
  // below then walk contiguous memory (emulated models run many GEMMs).
  std::vector<double> a(size_t(m * k)), b(size_t(k * n)), row(static_cast<size_t>(n));
  for (int32_t batch = 0; batch < ld.batch; ++batch) {
    const char *A = static_cast<const char *>(aP) + batchBytes(la, batch),
               *B = static_cast<const char *>(bP) + batchBytes(lb, batch),
               *C = static_cast<const char *>(cP) + batchBytes(lc, batch);
    char *D = static_cast<char *>(dP) + batchBytes(ld, batch);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t p = 0; p < k; ++p)
        a[size_t(i * k + p)] = asComputed(
            load(A, la.type, f.transA == lt::OP_N ? i + p * la.ld : p + i * la.ld),
            f.computeType);
    for (int64_t p = 0; p < k; ++p)
      for (int64_t j = 0; j < n; ++j)
        b[size_t(p * n + j)] = asComputed(
            load(B, lb.type, f.transB == lt::OP_N ? p + j * lb.ld : j + p * lb.ld),
            f.computeType);
    for (int64_t i = 0; i < m; ++i) {
      std::fill(row.begin(), row.end(), 0.0);
      for (int64_t p = 0; p < k; ++p) {
        double x = a[size_t(i * k + p)];
        const double *bRow = &b[size_t(p * n)];
        for (int64_t j = 0; j < n; ++j)
          row[size_t(j)] += x * bRow[j];
      }
      for (int64_t j = 0; j < n; ++j) {
        double v = alpha * row[size_t(j)] + (beta != 0 ? beta * load(C, lc.type, i + j * lc.ld)
                                                       : 0.0);
        if (f.epilogue & lt::EPILOGUE_BIAS)
          v += load(f.bias, ld.type, i); // one bias per row of D
        if (f.epilogue & lt::EPILOGUE_RELU)
          v = std::max(v, 0.0);
        if (f.epilogue & lt::EPILOGUE_GELU)
          v = 0.5 * v * (1 + std::tanh(0.7978845608028654 * (v + 0.044715 * v * v * v)));
        out[size_t(i + j * m)] = float(v);
      }
    }
    // D may be C: written once every element is computed.
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j)
        store(D, ld.type, i + j * ld.ld, out[size_t(i + j * m)]);
  }
}

} // namespace

#define FAKE_LT extern "C" __attribute__((visibility("default"))) lt::Status

/// Matmuls issued (run or recorded), for tests.
extern "C" __attribute__((visibility("default"))) int *fake_cublaslt_matmul_calls() {
  return &matmulCalls;
}

/// With FAKE_CUBLASLT_REPORT=1, the count on stderr when the library goes
/// (the process's end): what a model's run asked of cuBLASLt, for lit tests.
__attribute__((destructor)) static void reportMatmulCalls() {
  const char *report = std::getenv("FAKE_CUBLASLT_REPORT");
  if (report && std::strcmp(report, "1") == 0)
    std::fprintf(stderr, "fake cuBLASLt: %d matmul calls\n", matmulCalls);
}

FAKE_LT cublasLtCreate(lt::Handle *handle) {
  *handle = reinterpret_cast<lt::Handle>(&matmulCalls);
  return lt::SUCCESS;
}
FAKE_LT cublasLtDestroy(lt::Handle) { return lt::SUCCESS; }
extern "C" __attribute__((visibility("default"))) const char *cublasLtGetStatusString(lt::Status) {
  return "a status of the fake cuBLASLt";
}
FAKE_LT cublasLtMatmulDescCreate(lt::MatmulDesc *d, int computeType, int scaleType) {
  if (scaleType != lt::CUDA_R_32F)
    return kInvalidValue;
  auto *fake = new Desc;
  fake->computeType = computeType;
  *d = reinterpret_cast<lt::MatmulDesc>(fake);
  return lt::SUCCESS;
}
FAKE_LT cublasLtMatmulDescDestroy(lt::MatmulDesc d) {
  delete &desc(d);
  return lt::SUCCESS;
}
FAKE_LT cublasLtMatmulDescSetAttribute(lt::MatmulDesc d, int attribute, const void *value,
                                       size_t bytes) {
  Desc &f = desc(d);
  switch (attribute) {
  case lt::DESC_TRANSA: return setFrom(f.transA, value, bytes);
  case lt::DESC_TRANSB: return setFrom(f.transB, value, bytes);
  case lt::DESC_EPILOGUE: return setFrom(f.epilogue, value, bytes);
  case lt::DESC_BIAS_POINTER: return setFrom(f.bias, value, bytes);
  default: return kInvalidValue;
  }
}
FAKE_LT cublasLtMatrixLayoutCreate(lt::Layout *out, int type, uint64_t rows, uint64_t cols,
                                   int64_t ld) {
  // Column-major, ld >= rows.
  if ((type != lt::CUDA_R_32F && !isSixteenBit(type)) || ld < int64_t(rows))
    return kInvalidValue;
  *out = reinterpret_cast<lt::Layout>(new Layout{type, rows, cols, ld});
  return lt::SUCCESS;
}
FAKE_LT cublasLtMatrixLayoutDestroy(lt::Layout x) {
  delete &layout(x);
  return lt::SUCCESS;
}
FAKE_LT cublasLtMatrixLayoutSetAttribute(lt::Layout x, int attribute, const void *value,
                                         size_t bytes) {
  if (attribute == lt::LAYOUT_BATCH_COUNT)
    return setFrom(layout(x).batch, value, bytes);
  if (attribute == lt::LAYOUT_STRIDED_BATCH_OFFSET)
    return setFrom(layout(x).stride, value, bytes);
  return kInvalidValue;
}
FAKE_LT cublasLtMatmulPreferenceCreate(lt::Preference *p) {
  *p = reinterpret_cast<lt::Preference>(&matmulCalls);
  return lt::SUCCESS;
}
FAKE_LT cublasLtMatmulPreferenceDestroy(lt::Preference) { return lt::SUCCESS; }
FAKE_LT cublasLtMatmulPreferenceSetAttribute(lt::Preference, int, const void *, size_t) {
  return lt::SUCCESS;
}
FAKE_LT cublasLtMatmulAlgoGetHeuristic(lt::Handle, lt::MatmulDesc d, lt::Layout a, lt::Layout b,
                                       lt::Layout c, lt::Layout dd, lt::Preference, int,
                                       lt::HeuristicResult *results, int *returned) {
  // op(A) is m x k, op(B) k x n, C and D m x n (cuBLAS's names).
  Desc &f = desc(d);
  Layout &la = layout(a), &lb = layout(b), &lc = layout(c), &ld = layout(dd);
  uint64_t m = f.transA == lt::OP_N ? la.rows : la.cols;
  uint64_t k = f.transA == lt::OP_N ? la.cols : la.rows;
  uint64_t kb = f.transB == lt::OP_N ? lb.rows : lb.cols;
  uint64_t n = f.transB == lt::OP_N ? lb.cols : lb.rows;
  if (k != kb || lc.rows != m || lc.cols != n || ld.rows != m || ld.cols != n ||
      la.batch != ld.batch || lb.batch != ld.batch || lc.batch != ld.batch)
    return kInvalidValue;
  if (!supportedTypes(f, la, lb, lc, ld))
    return kNotSupported;
  results[0] = {};
  results[0].state = lt::SUCCESS;
  *returned = 1;
  return lt::SUCCESS;
}
FAKE_LT cublasLtMatmul(lt::Handle, lt::MatmulDesc d, const void *alpha, const void *a,
                       lt::Layout aDesc, const void *b, lt::Layout bDesc, const void *beta,
                       const void *c, lt::Layout cDesc, void *dOut, lt::Layout dDesc,
                       const lt::Algo *, void *, size_t, lt::Stream) {
  ++matmulCalls;
  // Everything the call names is read now, as cuBLASLt does: the
  // descriptors may be destroyed before the work runs (or is replayed).
  Desc f = desc(d);
  float alphaValue = *static_cast<const float *>(alpha);
  float betaValue = *static_cast<const float *>(beta);
  Layout la = layout(aDesc), lb = layout(bDesc), lc = layout(cDesc), ld = layout(dDesc);
  if (!supportedTypes(f, la, lb, lc, ld))
    return kNotSupported;
  fake_cuda::enqueueWork([=] { matmul(f, alphaValue, betaValue, a, la, b, lb, c, lc, dOut, ld); });
  return lt::SUCCESS;
}
