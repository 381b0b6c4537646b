//===- ModuleSummary.h - A human-readable digest of a kiln module -*- C++ -*-===//
#ifndef KILN_COMPILER_MODULESUMMARY_H
#define KILN_COMPILER_MODULESUMMARY_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::kiln {

/// Prints the entry function's inputs and outputs (names, types, symbolic
/// dim names), op counts by kind, and the constants' element count and bytes.
void printModuleSummary(ModuleOp module, llvm::raw_ostream &os);

} // namespace mlir::kiln

#endif // KILN_COMPILER_MODULESUMMARY_H
