//===- ModelAbi.h - Emit the kiln_model_abi table into LLVM IR --*- C++ -*-===//
#ifndef KILN_COMPILER_MODELABI_H
#define KILN_COMPILER_MODELABI_H

#include "kiln/Compiler/Compile.h"
#include <string>

namespace llvm {
class Module;
} // namespace llvm

namespace mlir::kiln {

/// The GPU target's compiled kernels (a CUDA fatbin, or PTX text), taken
/// out of the lowered module: the ABI table carries them.
struct GpuImage {
  int arch = 0; ///< compute capability XY; 0 for a CPU model
  GpuPrecision precision = GpuPrecision::Fp32;
  std::string bytes;
};

/// Adds the exported `kiln_model_abi()` table and `run` trampoline for the
/// lowered @main to `module`. Sets `error` and fails when @main's C
/// interface does not match the signature.
LogicalResult addModelAbi(llvm::Module &module, const ModelSignature &signature,
                          llvm::ArrayRef<ProfileRegion> regions, llvm::StringRef producer,
                          llvm::StringRef pipeline, const GpuImage &gpu, std::string &error);

} // namespace mlir::kiln

#endif // KILN_COMPILER_MODELABI_H
