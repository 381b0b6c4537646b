//===- FlopCount.h - Floating-point work of a kiln module, by op type -*- C++ -*-===//
#ifndef KILN_COMPILER_FLOPCOUNT_H
#define KILN_COMPILER_FLOPCOUNT_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/raw_ostream.h"

namespace mlir::kiln {

/// Prints the FLOPs of @main per ONNX op type (the op type the importer
/// recorded in each op's location): 2 per multiply-add for matmul, gemm and
/// conv, none for data movement and integer ops, one per result element
/// for the other float ops. Ops with `?` dims are
/// counted apart, as unknown (give --input-shape to resolve them).
void printFlopsByOpType(ModuleOp module, llvm::raw_ostream &os);

} // namespace mlir::kiln

#endif // KILN_COMPILER_FLOPCOUNT_H
