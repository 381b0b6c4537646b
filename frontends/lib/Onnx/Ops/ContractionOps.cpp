//===- ContractionOps.cpp - ONNX MatMul, Gemm and Conv --------------------===//

#include "../NodeImporter.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::onnx_import;

static LogicalResult importMatMul(NodeImporter &n) {
  auto a = n.requiredInput(0), b = n.requiredInput(1);
  if (failed(a) || failed(b))
    return failure();
  return n.createOutput<MatMulOp>({*a, *b});
}

static LogicalResult importGemm(NodeImporter &n) {
  auto a = n.requiredInput(0), b = n.requiredInput(1);
  if (failed(a) || failed(b))
    return failure();
  SmallVector<Value> operands{*a, *b};
  if (Value c = n.input(2))
    operands.push_back(c);
  Builder &builder = n.getBuilder();
  return n.createOutput<GemmOp>(
      operands, {n.named("alpha", builder.getF32FloatAttr(n.floatAttr("alpha", 1.0f))),
                 n.named("beta", builder.getF32FloatAttr(n.floatAttr("beta", 1.0f))),
                 n.named("transA", builder.getBoolAttr(n.intAttr("transA", 0) != 0)),
                 n.named("transB", builder.getBoolAttr(n.intAttr("transB", 0) != 0))});
}

FailureOr<ConvNode> mlir::kiln::onnx_import::readConvNode(NodeImporter &n) {
  auto x = n.requiredInput(0), w = n.requiredInput(1);
  if (failed(x) || failed(w))
    return failure();
  int64_t spatial = n.inputType(0).getRank() - 2;
  if (spatial < 1) {
    n.emitError() << "input must have rank >= 3 (N, C, spatial...)";
    return failure();
  }
  if (n.inputType(1).getRank() != spatial + 2) {
    n.emitError() << "the weight must have the input's rank " << spatial + 2 << ", got "
                  << n.inputType(1);
    return failure();
  }
  auto orOnes = [&](StringRef name) {
    return n.intsAttr(name).value_or(SmallVector<int64_t>(spatial, 1));
  };
  SmallVector<int64_t> strides = orOnes("strides"), dilations = orOnes("dilations");
  if ((int64_t)strides.size() != spatial || (int64_t)dilations.size() != spatial) {
    n.emitError() << "strides and dilations need " << spatial << " entries";
    return failure();
  }
  if (auto kernel = n.intsAttr("kernel_shape")) {
    auto wShape = n.inputType(1).getShape().drop_front(2);
    for (auto [k, d] : llvm::zip(*kernel, wShape))
      if (!ShapedType::isDynamic(d) && k != d) {
        n.emitError() << "kernel_shape does not match the weight's spatial dims";
        return failure();
      }
  }
  auto pads = windowPads(n, n.inputType(0).getShape().drop_front(2),
                         n.inputType(1).getShape().drop_front(2), strides, dilations);
  if (failed(pads))
    return failure();
  Builder &builder = n.getBuilder();
  return ConvNode{*x,
                  *w,
                  {n.named("strides", builder.getDenseI64ArrayAttr(strides)),
                   n.named("pads", builder.getDenseI64ArrayAttr(*pads)),
                   n.named("dilations", builder.getDenseI64ArrayAttr(dilations)),
                   n.named("group", builder.getI64IntegerAttr(n.intAttr("group", 1)))}};
}

static LogicalResult importConv(NodeImporter &n) {
  auto conv = readConvNode(n);
  if (failed(conv))
    return failure();
  SmallVector<Value> operands{conv->input, conv->weight};
  if (Value b = n.input(2))
    operands.push_back(b);
  return n.createOutput<ConvOp>(operands, conv->attrs);
}

void mlir::kiln::onnx_import::registerContractionOps(llvm::StringMap<OpHandler> &t) {
  t["MatMul"] = importMatMul;
  t["Gemm"] = importGemm;
  t["Conv"] = importConv;
}
