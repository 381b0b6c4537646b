//===- GpuEmulation.h - Kernels compiled for the host, for tests -*- C++ -*-===//
#ifndef KILN_COMPILER_GPUEMULATION_H
#define KILN_COMPILER_GPUEMULATION_H

#include "kiln/Compiler/Compile.h"
#include "mlir/Support/LLVM.h"
#include <string>

namespace mlir::gpu {
class GPUModuleOp;
} // namespace mlir::gpu

namespace mlir::kiln {

/// With --gpu-emulation: the kernels' module (LLVM dialect, its NVVM
/// operations already emulator calls: kiln-gpu-emulation-calls) compiled
/// for the host into a shared library, as the model's gpu_image:
/// KILN_GPU_EMULATION_MAGIC followed by the library's bytes
/// (kiln/kiln_gpu_emulation.h).
FailureOr<std::string> emulatedKernelsImage(gpu::GPUModuleOp kernels,
                                            const CompileOptions &options);

} // namespace mlir::kiln

#endif // KILN_COMPILER_GPUEMULATION_H
