//===- AttentionKernelShapes.h - What the GPU's attention kernel runs -*- C++ -*-===//
//
// kiln-attention-to-ukernel{gpu=true} fuses only the attention that
// kiln-gpu-attention-kernels can run, and the kernel checks the same: one
// rule for both, here.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_PASSES_GPU_ATTENTIONKERNELSHAPES_H
#define KILN_PASSES_GPU_ATTENTIONKERNELSHAPES_H

#include "mlir/IR/BuiltinTypeInterfaces.h"

#include <cstdint>
#include <string>

namespace mlir::kiln::gpu_attention {

/// The kernel's largest head size (q's and v's): the output accumulator
/// is dv / 8 tiles of four registers per lane.
constexpr int64_t kMaxHeadSize = 256;

/// Why the kernel cannot take q's head size `d`, v's `dv` and `keys` keys
/// (ShapedType::kDynamic where symbolic), or "": the head sizes are static
/// (the kernel's loops over them are unrolled), q's filling whole 16-deep
/// mma steps, v's whole 8-wide output tiles; with no keys the output is
/// zeros, not a softmax's quotient (a symbolic count that is 0 when the
/// kernel runs gives zeros).
inline std::string headSizeProblem(int64_t d, int64_t dv, int64_t keys) {
  if (ShapedType::isDynamic(d) || ShapedType::isDynamic(dv))
    return "its head sizes (q's and v's last dims) must be static";
  if (!ShapedType::isDynamic(keys) && keys <= 0)
    return "attention over no keys";
  if (d <= 0 || d % 16 != 0 || d > kMaxHeadSize)
    return "the head size (" + std::to_string(d) + ") must be a multiple of 16 up to " +
           std::to_string(kMaxHeadSize);
  if (dv <= 0 || dv % 8 != 0 || dv > kMaxHeadSize)
    return "v's head size (" + std::to_string(dv) + ") must be a multiple of 8 up to " +
           std::to_string(kMaxHeadSize);
  return "";
}

} // namespace mlir::kiln::gpu_attention

#endif // KILN_PASSES_GPU_ATTENTIONKERNELSHAPES_H
