//===- OpTable.cpp - ONNX op type to handler ------------------------------===//
//
// One table for the default domain; each op family registers its handlers
// (Ops/*.cpp). Handlers see the model's opset and branch on it where an op's
// signature changed (attributes that became inputs, say).
//
//===----------------------------------------------------------------------===//

#include "NodeImporter.h"
#include "kiln/Frontends/Onnx/OnnxImporter.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::onnx_import;

static const llvm::StringMap<OpHandler> &opTable() {
  static const llvm::StringMap<OpHandler> table = [] {
    llvm::StringMap<OpHandler> t;
    registerElementwiseOps(t);
    registerContractionOps(t);
    registerReductionOps(t);
    registerShapeOps(t);
    registerNNOps(t);
    registerNormalizationOps(t);
    registerRearrangeOps(t);
    registerResizeOps(t);
    return t;
  }();
  return table;
}

OpHandler mlir::kiln::onnx_import::lookupOpHandler(StringRef opType) {
  return opTable().lookup(opType);
}

SmallVector<StringRef> mlir::kiln::supportedOnnxOps() {
  SmallVector<StringRef> names;
  for (const auto &entry : opTable())
    names.push_back(entry.getKey());
  llvm::sort(names);
  return names;
}
