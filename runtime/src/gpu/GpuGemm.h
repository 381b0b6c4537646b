//===- GpuGemm.h - kiln_gemm_desc on the GPU through cuBLASLt ---*- C++ -*-===//
//
// A GPU model calls the same kiln_runtime_context::gemm as a CPU model, with
// device pointers in the descriptor (kiln_abi.h). This runs it with
// cuBLASLt on the session's stream: row-major C = A * B is the column-major
// C^T = B^T * A^T, each operand's strides pick its transpose and leading
// dimension, and the descriptor's batch dims become cuBLASLt's strided
// batch. Plans (layouts, the chosen algorithm) are cached per shape and
// types. The operands are fp32, or (a_type, c_type) fp16 or bf16 in
// memory: 16-bit A and B then multiply under plain COMPUTE_32F (exact
// products, fp32 sums), which the model's precision must name.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_GPU_GPUGEMM_H
#define KILN_RUNTIME_GPU_GPUGEMM_H

#include "CublasLt.h"
#include "kiln/kiln_abi.h"

#include <memory>
#include <string>
#include <unordered_map>

namespace kiln {

class GpuGemm {
public:
  /// `precision` is the model's kiln_gpu_precision.
  GpuGemm(const cublaslt::Library &library, cublaslt::Handle handle, void *workspace,
          size_t workspaceBytes, int precision);
  ~GpuGemm();
  GpuGemm(const GpuGemm &) = delete;
  GpuGemm &operator=(const GpuGemm &) = delete;

  /// Enqueues `desc` on `stream`; an error message, or empty.
  std::string run(const kiln_gemm_desc &desc, cublaslt::Stream stream);

  struct Plan;
  struct Types;

private:
  /// The data and compute types `desc` runs with; an error message, or empty.
  std::string typesOf(const kiln_gemm_desc &desc, Types &types) const;
  std::string planFor(const kiln_gemm_desc &desc, const Types &types, int64_t batchCount,
                      const int64_t strides[4], const Plan *&plan);

  const cublaslt::Library &library;
  cublaslt::Handle handle;
  void *workspace;
  size_t workspaceBytes;
  int precision; // enum kiln_gpu_precision
  std::unordered_map<std::string, std::unique_ptr<Plan>> plans;
};

} // namespace kiln

#endif // KILN_RUNTIME_GPU_GPUGEMM_H
