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

/// What the host code is compiled for (kiln_model_abi::target_cpu and
/// target_features): the runtime checks the features against the CPU
/// before it loads the model.
struct TargetDescription {
  std::string cpu;      ///< LLVM's CPU name, e.g. "znver4"
  std::string features; ///< "+avx2,+fma,...": those of kiln_x86_features.def
};

/// Adds the exported `kiln_model_abi()` table and `run` trampoline for the
/// lowered @main to `module`. Sets `error` and fails when @main's C
/// interface does not match the signature.
LogicalResult addModelAbi(llvm::Module &module, const ModelSignature &signature,
                          llvm::ArrayRef<ProfileRegion> regions, llvm::StringRef producer,
                          llvm::StringRef pipeline, const GpuImage &gpu,
                          const TargetDescription &target, std::string &error);

} // namespace mlir::kiln

#endif // KILN_COMPILER_MODELABI_H
