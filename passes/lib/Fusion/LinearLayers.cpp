//===- LinearLayers.cpp - Linear layers in the kiln dialect ---------------===//

#include "LinearLayers.h"
#include "../Layout/GemmWeights.h"
#include "mlir/IR/DialectResourceBlobManager.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::graph;

std::optional<std::vector<float>> graph::constantFloats(Value value) {
  auto constant = value.getDefiningOp<ConstantOp>();
  if (!constant)
    return std::nullopt;
  if (std::optional<ArrayRef<float>> data = layout::floatsOf(constant.getValue()))
    return data->vec();
  auto dense = dyn_cast<DenseElementsAttr>(constant.getValue());
  if (!dense || !dense.getElementType().isF32())
    return std::nullopt;
  auto values = dense.getValues<float>();
  return std::vector<float>(values.begin(), values.end());
}

std::optional<Linear> graph::linearOf(MatMulOp matmul) {
  auto aType = cast<RankedTensorType>(matmul.getLhs().getType());
  auto wType = cast<RankedTensorType>(matmul.getRhs().getType());
  if (aType.getRank() < 2 || wType.getRank() != 2 || !wType.hasStaticShape() ||
      !wType.getElementType().isF32() || !aType.getElementType().isF32())
    return std::nullopt;
  std::optional<std::vector<float>> weight = constantFloats(matmul.getRhs());
  if (!weight)
    return std::nullopt;
  Linear linear{matmul, std::move(*weight), nullptr, {}, wType.getDimSize(0), wType.getDimSize(1)};
  Value y = matmul.getResult();
  if (y.hasOneUse())
    if (auto add = dyn_cast<AddOp>(*y.getUsers().begin()); add && add.getType() == y.getType()) {
      Value b = add.getLhs() == y ? add.getRhs() : add.getLhs();
      auto bType = cast<RankedTensorType>(b.getType());
      std::optional<std::vector<float>> bias = constantFloats(b);
      if (b != y && bias && bType.getRank() == 1 && bType.getDimSize(0) == linear.n) {
        linear.biasAdd = add;
        linear.bias = std::move(*bias);
      }
    }
  return linear;
}

Value graph::floatConstant(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                           ArrayRef<float> data, StringRef name) {
  auto type = RankedTensorType::get(shape, b.getF32Type());
  return ConstantOp::create(
      b, loc,
      DenseResourceElementsAttr::get(type, name,
                                     HeapAsmResourceBlob::allocateAndCopyInferAlign(data, 64)));
}
