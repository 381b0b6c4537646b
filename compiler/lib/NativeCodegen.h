//===- NativeCodegen.h - Host code generation steps -------------*- C++ -*-===//
//
// The steps from an LLVM module to a host shared library, shared by the
// model's emitter (NativeEmitter.cpp) and the GPU emulation's kernels
// library (GpuEmulation.cpp).
//
//===----------------------------------------------------------------------===//
#ifndef KILN_COMPILER_NATIVECODEGEN_H
#define KILN_COMPILER_NATIVECODEGEN_H

#include "kiln/Compiler/Compile.h"
#include "mlir/IR/Location.h"
#include "mlir/Support/LLVM.h"
#include <memory>

namespace llvm {
class Module;
class TargetMachine;
} // namespace llvm

namespace mlir::kiln::native {

/// The host's target machine for `options` (--mcpu, --mattr, -O level).
FailureOr<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(const CompileOptions &options, Location loc);

/// LLVM's default module pipeline at -O`level` (nothing at -O0).
void optimize(llvm::Module &module, llvm::TargetMachine &machine, int level);

/// Writes `module` as an object file at `path`.
LogicalResult emitObjectFile(llvm::Module &module, llvm::TargetMachine &machine, Location loc,
                             llvm::StringRef path);

/// Links the object file `objectPath` into a shared library at `path` (via
/// a temporary name, renamed into place only on success).
LogicalResult linkSharedLibrary(Location loc, llvm::StringRef objectPath, llvm::StringRef path);

} // namespace mlir::kiln::native

#endif // KILN_COMPILER_NATIVECODEGEN_H
