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
// (the rounding of the inputs; not the order of the sums). Layouts and
// types cuBLASLt would reject are rejected.
//
// gpu_gemm_test.cpp checks the runtime's mapping of kiln_gemm_desc onto
// these calls; models compiled with --gpu-gemm=cublas --gpu-emulation run
// their GEMMs here (ctest gpu-models-emulated). FAKE_CUBLASLT_REPORT=1
// prints the number of matmul calls at exit.
//
//===----------------------------------------------------------------------===//

#include "fake_cuda_stream.h"
#include "gpu/CublasLt.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace lt = kiln::cublaslt;

namespace {

constexpr lt::Status kInvalidValue = 7; // CUBLAS_STATUS_INVALID_VALUE

struct Desc {
  int computeType = 0;
  int32_t transA = lt::OP_N, transB = lt::OP_N;
  uint32_t epilogue = lt::EPILOGUE_DEFAULT;
  const float *bias = nullptr;
};
struct Layout {
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

/// An input element as the compute type reads it.
float asComputed(float x, int computeType) {
  switch (computeType) {
  case lt::COMPUTE_32F_FAST_TF32: return roundMantissa(x, 10);
  case lt::COMPUTE_32F_FAST_16BF: return roundMantissa(x, 7);
  case lt::COMPUTE_32F_FAST_16F: {
    // fp16: 10 mantissa bits, largest finite 65504, subnormals below 2^-14.
    if (std::fabs(x) >= 65520.0f)
      return std::copysign(INFINITY, x);
    if (std::fabs(x) < 6.103515625e-05f) // 2^-14: a fixed step of 2^-24
      return std::nearbyint(x * 16777216.0f) / 16777216.0f;
    return roundMantissa(x, 10);
  }
  default: return x;
  }
}

void matmul(const Desc &f, float alpha, float beta, const float *aP, Layout la, const float *bP,
            Layout lb, const float *cP, Layout lc, float *dP, Layout ld) {
  int64_t m = int64_t(ld.rows), n = int64_t(ld.cols);
  int64_t k = int64_t(f.transA == lt::OP_N ? la.cols : la.rows);
  std::vector<float> out(size_t(m * n));
  // op(A) and op(B) as the compute type reads them, row-major: the sums
  // below then walk contiguous memory (emulated models run many GEMMs).
  std::vector<double> a(size_t(m * k)), b(size_t(k * n)), row(static_cast<size_t>(n));
  for (int32_t batch = 0; batch < ld.batch; ++batch) {
    const float *A = aP + batch * la.stride, *B = bP + batch * lb.stride;
    const float *C = cP + batch * lc.stride;
    float *D = dP + batch * ld.stride;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t p = 0; p < k; ++p)
        a[size_t(i * k + p)] = asComputed(
            f.transA == lt::OP_N ? A[i + p * la.ld] : A[p + i * la.ld], f.computeType);
    for (int64_t p = 0; p < k; ++p)
      for (int64_t j = 0; j < n; ++j)
        b[size_t(p * n + j)] = asComputed(
            f.transB == lt::OP_N ? B[p + j * lb.ld] : B[j + p * lb.ld], f.computeType);
    for (int64_t i = 0; i < m; ++i) {
      std::fill(row.begin(), row.end(), 0.0);
      for (int64_t p = 0; p < k; ++p) {
        double x = a[size_t(i * k + p)];
        const double *bRow = &b[size_t(p * n)];
        for (int64_t j = 0; j < n; ++j)
          row[size_t(j)] += x * bRow[j];
      }
      for (int64_t j = 0; j < n; ++j) {
        double v = alpha * row[size_t(j)] + (beta != 0 ? beta * C[i + j * lc.ld] : 0.0);
        if (f.epilogue & lt::EPILOGUE_BIAS)
          v += f.bias[i]; // one bias per row of D
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
        D[i + j * ld.ld] = out[size_t(i + j * m)];
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
  if (type != lt::CUDA_R_32F || ld < int64_t(rows))
    return kInvalidValue;
  *out = reinterpret_cast<lt::Layout>(new Layout{rows, cols, ld});
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
  auto *aP = static_cast<const float *>(a), *bP = static_cast<const float *>(b),
       *cP = static_cast<const float *>(c);
  auto *dP = static_cast<float *>(dOut);
  fake_cuda::enqueueWork([=] { matmul(f, alphaValue, betaValue, aP, la, bP, lb, cP, lc, dP, ld); });
  return lt::SUCCESS;
}
