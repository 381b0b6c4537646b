//===- CublasLt.h - cuBLASLt, loaded at run time ----------------*- C++ -*-===//
//
// A GPU model's GEMMs (kiln_runtime_context::gemm in a GPU session) run in
// cuBLASLt, dlopen()ed like the driver so that nothing of CUDA is linked.
// Only the entry points and constants used are declared, with cuBLASLt's
// own ABI (cublasLt.h, cublas_api.h, library_types.h of CUDA 12/13).
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_GPU_CUBLASLT_H
#define KILN_RUNTIME_GPU_CUBLASLT_H

#include "Symbols.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace kiln::cublaslt {

using Status = int; // cublasStatus_t
using Handle = struct cublasLtContext *;
using MatmulDesc = struct cublasLtMatmulDescOpaque *;
using Layout = struct cublasLtMatrixLayoutOpaque *;
using Preference = struct cublasLtMatmulPreferenceOpaque *;
using Stream = struct CUstream_st *;

struct Algo {
  uint64_t data[8];
};
struct HeuristicResult {
  Algo algo;
  size_t workspaceSize;
  Status state;
  float wavesCount;
  int reserved[4];
};

constexpr Status SUCCESS = 0;
// cudaDataType_t
constexpr int CUDA_R_32F = 0, CUDA_R_16F = 2, CUDA_R_16BF = 14;
// cublasComputeType_t
constexpr int COMPUTE_32F = 68, COMPUTE_32F_FAST_16F = 74, COMPUTE_32F_FAST_16BF = 75,
              COMPUTE_32F_FAST_TF32 = 77;
// cublasOperation_t
constexpr int32_t OP_N = 0, OP_T = 1;
// cublasLtMatmulDescAttributes_t
constexpr int DESC_TRANSA = 3, DESC_TRANSB = 4, DESC_EPILOGUE = 7, DESC_BIAS_POINTER = 8;
// cublasLtEpilogue_t
constexpr uint32_t EPILOGUE_DEFAULT = 1, EPILOGUE_RELU = 2, EPILOGUE_BIAS = 4,
                   EPILOGUE_GELU = 32;
// cublasLtMatrixLayoutAttribute_t
constexpr int LAYOUT_BATCH_COUNT = 5, LAYOUT_STRIDED_BATCH_OFFSET = 6;
// cublasLtMatmulPreferenceAttributes_t
constexpr int PREF_MAX_WORKSPACE_BYTES = 1, PREF_MIN_ALIGNMENT_A_BYTES = 5,
              PREF_MIN_ALIGNMENT_B_BYTES = 6, PREF_MIN_ALIGNMENT_C_BYTES = 7,
              PREF_MIN_ALIGNMENT_D_BYTES = 8;

struct Library {
  Status (*create)(Handle *handle);
  Status (*destroy)(Handle handle);
  const char *(*statusString)(Status status);
  Status (*descCreate)(MatmulDesc *desc, int computeType, int scaleType);
  Status (*descDestroy)(MatmulDesc desc);
  Status (*descSetAttribute)(MatmulDesc desc, int attribute, const void *value, size_t bytes);
  Status (*layoutCreate)(Layout *layout, int type, uint64_t rows, uint64_t cols, int64_t ld);
  Status (*layoutDestroy)(Layout layout);
  Status (*layoutSetAttribute)(Layout layout, int attribute, const void *value, size_t bytes);
  Status (*preferenceCreate)(Preference *preference);
  Status (*preferenceDestroy)(Preference preference);
  Status (*preferenceSetAttribute)(Preference preference, int attribute, const void *value,
                                   size_t bytes);
  Status (*algoGetHeuristic)(Handle handle, MatmulDesc desc, Layout a, Layout b, Layout c,
                             Layout d, Preference preference, int requested,
                             HeuristicResult *results, int *returned);
  Status (*matmul)(Handle handle, MatmulDesc desc, const void *alpha, const void *a, Layout aDesc,
                   const void *b, Layout bDesc, const void *beta, const void *c, Layout cDesc,
                   void *d, Layout dDesc, const Algo *algo, void *workspace,
                   size_t workspaceBytes, Stream stream);
};

/// The entry points `l` is filled from and the names they are looked up by.
std::vector<gpu::SymbolSlot> entryPoints(Library &l);

/// cuBLASLt, loaded on first use; null with `problem` set when missing
/// (KILN_CUBLASLT names the library to load, else libcublasLt.so.13, .12,
/// then the CUDA toolkit's).
const Library *library(std::string &problem);

/// "CUBLAS_STATUS_NOT_SUPPORTED" or the like.
std::string statusText(const Library &library, Status status);

} // namespace kiln::cublaslt

#endif // KILN_RUNTIME_GPU_CUBLASLT_H
