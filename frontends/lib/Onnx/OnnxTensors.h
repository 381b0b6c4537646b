//===- OnnxTensors.h - ONNX data types and TensorProto contents -*- C++ -*-===//
#ifndef KILN_FRONTENDS_ONNX_ONNXTENSORS_H
#define KILN_FRONTENDS_ONNX_ONNXTENSORS_H

#include "mlir/IR/BuiltinAttributeInterfaces.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Location.h"

#include "onnx/onnx_pb.h"

namespace mlir::kiln::onnx_import {

/// The MLIR element type of an ONNX TensorProto.DataType, or null.
Type getElementType(MLIRContext *context, int32_t onnxType);

/// A readable name of an ONNX data type for error messages ("FLOAT", "STRING").
std::string dataTypeName(int32_t onnxType);

/// Converts an initializer or Constant value into an attribute. Large float
/// and int tensors become dense_resource blobs named `name`; small ones dense
/// elements (so shape arithmetic folds). `modelDir` resolves external data.
/// The tensor's raw bytes are released once copied, to bound peak memory.
/// Emits an error at `loc` and returns null on malformed data.
ElementsAttr convertTensor(onnx::TensorProto &tensor, StringRef name,
                           StringRef modelDir, Location loc);

} // namespace mlir::kiln::onnx_import

#endif // KILN_FRONTENDS_ONNX_ONNXTENSORS_H
