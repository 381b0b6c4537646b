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

/// Explicit pads for auto_pad SAME_UPPER / SAME_LOWER (needs static dims).
static FailureOr<SmallVector<int64_t>> samePads(NodeImporter &n, bool upper,
                                                ArrayRef<int64_t> strides,
                                                ArrayRef<int64_t> dilations) {
  auto x = n.inputType(0), w = n.inputType(1);
  int64_t spatial = x.getRank() - 2;
  SmallVector<int64_t> pads(2 * spatial, 0);
  for (int64_t i = 0; i < spatial; ++i) {
    int64_t in = x.getDimSize(i + 2), k = w.getDimSize(i + 2);
    if (ShapedType::isDynamic(in) || ShapedType::isDynamic(k)) {
      n.emitError() << "auto_pad SAME needs static spatial dims; specialise the "
                       "input with --input-shape";
      return failure();
    }
    int64_t out = (in + strides[i] - 1) / strides[i];
    int64_t total = std::max<int64_t>(0, (out - 1) * strides[i] + (k - 1) * dilations[i] + 1 - in);
    pads[i] = upper ? total / 2 : total - total / 2;
    pads[i + spatial] = total - pads[i];
  }
  return pads;
}

static LogicalResult importConv(NodeImporter &n) {
  auto x = n.requiredInput(0), w = n.requiredInput(1);
  if (failed(x) || failed(w))
    return failure();
  int64_t spatial = n.inputType(0).getRank() - 2;
  if (spatial < 1) {
    n.emitError() << "input must have rank >= 3 (N, C, spatial...)";
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
  std::string autoPad = n.stringAttr("auto_pad", "NOTSET");
  SmallVector<int64_t> pads(2 * spatial, 0);
  if (autoPad == "NOTSET") {
    pads = n.intsAttr("pads").value_or(pads);
  } else if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    auto same = samePads(n, autoPad == "SAME_UPPER", strides, dilations);
    if (failed(same))
      return failure();
    pads = *same;
  } else if (autoPad != "VALID") {
    n.emitError() << "unknown auto_pad '" << autoPad << "'";
    return failure();
  }
  SmallVector<Value> operands{*x, *w};
  if (Value b = n.input(2))
    operands.push_back(b);
  Builder &builder = n.getBuilder();
  return n.createOutput<ConvOp>(
      operands, {n.named("strides", builder.getDenseI64ArrayAttr(strides)),
                 n.named("pads", builder.getDenseI64ArrayAttr(pads)),
                 n.named("dilations", builder.getDenseI64ArrayAttr(dilations)),
                 n.named("group", builder.getI64IntegerAttr(n.intAttr("group", 1)))});
}

void mlir::kiln::onnx_import::registerContractionOps(llvm::StringMap<OpHandler> &t) {
  t["MatMul"] = importMatMul;
  t["Gemm"] = importGemm;
  t["Conv"] = importConv;
}
