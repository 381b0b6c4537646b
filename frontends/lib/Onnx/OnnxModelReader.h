//===- OnnxModelReader.h - Read and validate an ONNX file -------*- C++ -*-===//
#ifndef KILN_FRONTENDS_ONNX_ONNXMODELREADER_H
#define KILN_FRONTENDS_ONNX_ONNXMODELREADER_H

#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/StringRef.h"
#include <memory>

#include "onnx/onnx_pb.h"

namespace mlir::kiln::onnx_import {

/// Parses the model at `path` and checks it is an ONNX model with a supported
/// default-domain opset (returned in `opset`); a model at opset 7..12 is
/// converted to opset 13 first. Emits an error and returns null otherwise.
std::unique_ptr<onnx::ModelProto> readOnnxModel(llvm::StringRef path,
                                                MLIRContext &context,
                                                int64_t &opset);

} // namespace mlir::kiln::onnx_import

#endif // KILN_FRONTENDS_ONNX_ONNXMODELREADER_H
