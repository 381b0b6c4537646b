//===- OnnxImporter.h - ONNX protobuf to the kiln dialect -------*- C++ -*-===//
//
// The ONNX frontend's whole public surface: read a .onnx file (and its
// external-data files) into a module holding one `func.func @main` of kiln
// ops. Problems are MLIR diagnostics located at the ONNX node's name.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_FRONTENDS_ONNX_ONNXIMPORTER_H
#define KILN_FRONTENDS_ONNX_ONNXIMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringMap.h"
#include <string>

namespace mlir::kiln {

/// ONNX (default domain) opsets the importer accepts. Models at opsets 7..12
/// are converted to opset 13 when read (ONNX's version converter).
inline constexpr int64_t kMinOnnxOpset = 13;
inline constexpr int64_t kMaxOnnxOpset = 23;

struct OnnxImportOptions {
  /// Static dims for graph inputs, by input name; replaces symbolic dims.
  /// A dim the model names (ONNX dim_param) takes the same size in every
  /// input that has a dim of that name.
  llvm::StringMap<llvm::SmallVector<int64_t>> inputShapes;
  /// Sizes of named symbolic dims (`--dim batch=1`, like ONNX Runtime's
  /// free dimension overrides), in every input that has them.
  llvm::StringMap<int64_t> namedDims;
};

/// Parses `--input-shape` text `name=1x128,other=2x3` into `options`.
/// Returns an error message, or an empty string on success.
std::string parseInputShapes(llvm::StringRef text, OnnxImportOptions &options);

/// Parses `--dim` text `batch=1,sequence=128` into `options`. Returns an
/// error message, or an empty string on success.
std::string parseNamedDims(llvm::StringRef text, OnnxImportOptions &options);

/// Imports the model at `path`. Emits diagnostics through the context's
/// diagnostic engine and returns null on any error.
OwningOpRef<ModuleOp> importOnnxModel(llvm::StringRef path, MLIRContext &context,
                                      const OnnxImportOptions &options);

/// The ONNX op types (default domain) the importer has a handler for.
llvm::SmallVector<llvm::StringRef> supportedOnnxOps();

} // namespace mlir::kiln

#endif // KILN_FRONTENDS_ONNX_ONNXIMPORTER_H
