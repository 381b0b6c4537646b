//===- OpsetConversion.h - Old ONNX opsets up to opset 13 -------*- C++ -*-===//
#ifndef KILN_FRONTENDS_ONNX_OPSETCONVERSION_H
#define KILN_FRONTENDS_ONNX_OPSETCONVERSION_H

#include "mlir/IR/Location.h"
#include "mlir/Support/LLVM.h"

#include "onnx/onnx_pb.h"

namespace mlir::kiln::onnx_import {

/// The oldest default-domain opset that is converted (to opset 13) on import.
inline constexpr int64_t kOldestConvertedOnnxOpset = 7;
/// The opset old models are converted to.
inline constexpr int64_t kConvertedToOnnxOpset = 13;

/// Rewrites `model`, whose default-domain opset is `fromOpset`
/// (kOldestConvertedOnnxOpset..12), to opset 13 in place with ONNX's own
/// version converter. Weights are not copied: large and external
/// initializers are set aside while the converter runs and put back after.
/// On failure emits an error at `fileLoc` naming the opset and, where it can
/// tell, the node, and leaves `model` unusable.
LogicalResult convertToOpset13(onnx::ModelProto &model, int64_t fromOpset,
                               Location fileLoc);

} // namespace mlir::kiln::onnx_import

#endif // KILN_FRONTENDS_ONNX_OPSETCONVERSION_H
