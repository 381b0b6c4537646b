//===- ModelAbi.h - Emit the kiln_model_abi table into LLVM IR --*- C++ -*-===//
#ifndef KILN_COMPILER_MODELABI_H
#define KILN_COMPILER_MODELABI_H

#include "kiln/Compiler/Compile.h"

namespace llvm {
class Module;
} // namespace llvm

namespace mlir::kiln {

/// Adds the exported `kiln_model_abi()` table and `run` trampoline for the
/// lowered @main to `module`. Sets `error` and fails when @main's C
/// interface does not match the signature.
LogicalResult addModelAbi(llvm::Module &module, const ModelSignature &signature,
                          llvm::ArrayRef<ProfileRegion> regions, llvm::StringRef producer,
                          llvm::StringRef pipeline, std::string &error);

} // namespace mlir::kiln

#endif // KILN_COMPILER_MODELABI_H
