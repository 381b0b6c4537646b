//===- Import.h - ONNX model to cleaned-up kiln IR --------------*- C++ -*-===//
#ifndef KILN_COMPILER_IMPORT_H
#define KILN_COMPILER_IMPORT_H

#include "kiln/Frontends/Onnx/OnnxImporter.h"

namespace mlir::kiln {

/// Imports an ONNX model and runs the graph clean-up every later stage
/// starts from: folding (shape subgraphs collapse once shapes are known),
/// result type refinement, CSE and dead code removal. Diagnostics go to the
/// context's handler; returns null on error.
OwningOpRef<ModuleOp> importAndCleanUp(llvm::StringRef path, MLIRContext &context,
                                       const OnnxImportOptions &options);

/// The graph clean-up on its own (canonicalize, kiln-infer-shapes, cse).
LogicalResult cleanUpGraph(ModuleOp module);

} // namespace mlir::kiln

#endif // KILN_COMPILER_IMPORT_H
