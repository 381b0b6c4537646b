//===- LoweringUtils.cpp - Shared helpers of the kiln-to-linalg lowering --===//

#include "LoweringUtils.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

SmallVector<Value> mlir::kiln::lowering::dynamicDimsFrom(OpBuilder &b, Location loc,
                                                         RankedTensorType type,
                                                         ValueRange sources) {
  SmallVector<Value> dims;
  int64_t rank = type.getRank();
  for (int64_t i = 0; i < rank; ++i) {
    if (!type.isDynamicDim(i))
      continue;
    Value found;
    for (Value source : sources) {
      auto st = dyn_cast<RankedTensorType>(source.getType());
      if (!st)
        continue;
      int64_t j = i - (rank - st.getRank());
      if (j >= 0 && st.isDynamicDim(j)) {
        found = tensor::DimOp::create(b, loc, source, j);
        break;
      }
    }
    dims.push_back(found); // null when no source has it: callers check
  }
  return dims;
}

Value mlir::kiln::lowering::emptyLike(OpBuilder &b, Location loc, RankedTensorType type,
                                      ValueRange sources) {
  SmallVector<Value> dims = dynamicDimsFrom(b, loc, type, sources);
  if (llvm::is_contained(dims, Value()))
    return {};
  return emptyWithDims(b, loc, type, dims);
}

Value mlir::kiln::lowering::emptyWithDims(OpBuilder &b, Location loc,
                                          RankedTensorType type, ValueRange dynamicDims) {
  return tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType(),
                                 dynamicDims);
}

AffineMap mlir::kiln::lowering::broadcastMap(MLIRContext *context,
                                             RankedTensorType operand,
                                             RankedTensorType result) {
  int64_t rank = result.getRank(), offset = rank - operand.getRank();
  SmallVector<AffineExpr> exprs;
  for (int64_t i = 0; i < operand.getRank(); ++i) {
    bool broadcast = operand.getDimSize(i) == 1 && result.getDimSize(i + offset) != 1;
    exprs.push_back(broadcast ? getAffineConstantExpr(0, context)
                              : getAffineDimExpr(i + offset, context));
  }
  return AffineMap::get(rank, 0, exprs, context);
}

Value mlir::kiln::lowering::scalarConstant(OpBuilder &b, Location loc, Type type,
                                           double value) {
  if (auto floatType = dyn_cast<FloatType>(type))
    return arith::ConstantOp::create(b, loc, FloatAttr::get(floatType, value));
  return arith::ConstantOp::create(b, loc, IntegerAttr::get(type, (int64_t)value));
}

SmallVector<utils::IteratorType> mlir::kiln::lowering::parallelIterators(int64_t rank) {
  return SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel);
}

Value mlir::kiln::lowering::toIndex(OpBuilder &b, Location loc, Value v) {
  if (v.getType().isIndex())
    return v;
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
}
