//===- GemmWeights.cpp - Constant weights of contractions -----------------===//

#include "GemmWeights.h"
#include "../Lowering/LoweringUtils.h"
#include "kiln/Dialect/Kiln/KilnDialect.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectResourceBlobManager.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::layout;
using mlir::kiln::lowering::isMultiplyAccumulate;

/// The f32 values of a constant, if the compiler holds them.
std::optional<ArrayRef<float>> layout::floatsOf(ElementsAttr value) {
  if (auto resource = dyn_cast<DenseF32ResourceElementsAttr>(value))
    return resource.tryGetAsArrayRef();
  if (auto dense = dyn_cast<DenseElementsAttr>(value); dense && !dense.isSplat())
    if (auto raw = dense.getRawData(); raw.size() == dense.getNumElements() * sizeof(float))
      return ArrayRef<float>(reinterpret_cast<const float *>(raw.data()), dense.getNumElements());
  return std::nullopt;
}

/// The constant behind `value`, looking through one linalg.transpose and
/// then one tensor.collapse_shape to 2-D (a conv's filters as a matrix:
/// collapsing keeps the row-major order, so the data is the same).
static std::optional<std::pair<arith::ConstantOp, SmallVector<int64_t>>> constantSource(Value value) {
  SmallVector<int64_t> perm{0, 1};
  if (auto transpose = value.getDefiningOp<linalg::TransposeOp>()) {
    perm = llvm::to_vector(transpose.getPermutation());
    value = transpose.getInput();
  }
  if (auto collapse = value.getDefiningOp<tensor::CollapseShapeOp>();
      collapse && collapse.getResultType().getRank() == 2)
    value = collapse.getSrc();
  auto constant = value.getDefiningOp<arith::ConstantOp>();
  auto type = constant ? dyn_cast<RankedTensorType>(constant.getType()) : nullptr;
  if (!type || !type.hasStaticShape())
    return std::nullopt;
  return std::make_pair(constant, perm);
}

/// The weight of `op` if it is an f32 contraction whose B is a constant
/// matrix indexed by exactly the reduction loop and one parallel loop that
/// is the innermost dim of the output (the kernel's n).
std::optional<PackableWeight> layout::packableWeight(linalg::GenericOp op) {
  if (!op.hasPureTensorSemantics() || op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      !isMultiplyAccumulate(op) || op->hasAttr(KilnDialect::PackedRhsAttrHelper::getNameStr()))
    return std::nullopt;
  auto bType = dyn_cast<RankedTensorType>(op.getDpsInputs()[1].getType());
  if (!bType || bType.getRank() != 2 || !bType.hasStaticShape() || !bType.getElementType().isF32())
    return std::nullopt;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  AffineMap bMap = maps[1], aMap = maps[0], cMap = maps[2];
  auto d0 = dyn_cast<AffineDimExpr>(bMap.getResult(0));
  auto d1 = dyn_cast<AffineDimExpr>(bMap.getResult(1));
  auto cLast = cMap.getNumResults() ? dyn_cast<AffineDimExpr>(cMap.getResults().back()) : nullptr;
  if (!d0 || !d1 || !cLast || d0 == d1)
    return std::nullopt;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  auto isReduction = [&](AffineDimExpr d) {
    return iterators[d.getPosition()] == utils::IteratorType::reduction;
  };
  if (isReduction(d0) == isReduction(d1) ||
      llvm::count(iterators, utils::IteratorType::reduction) != 1)
    return std::nullopt;
  AffineDimExpr k = isReduction(d0) ? d0 : d1, n = isReduction(d0) ? d1 : d0;
  // n must be the output's innermost dim and not index A (else it is a
  // batch-like loop the GEMM does not see as n).
  if (cLast != n || aMap.isFunctionOfDim(n.getPosition()) || !aMap.isFunctionOfDim(k.getPosition()))
    return std::nullopt;
  auto source = constantSource(op.getDpsInputs()[1]);
  if (!source)
    return std::nullopt;
  return PackableWeight{source->first, source->second, k.getPosition(), n.getPosition(), k == d0};
}


WeightView layout::viewOf(ArrayRef<int64_t> constantShape, const PackableWeight &w) {
  // B's dim i is the constant's dim perm[i]; the constant is row-major.
  const int64_t stride[2] = {constantShape[1], 1};
  int64_t size0 = constantShape[w.perm[0]], size1 = constantShape[w.perm[1]];
  int64_t stride0 = stride[w.perm[0]], stride1 = stride[w.perm[1]];
  return w.kIsDim0 ? WeightView{size0, size1, stride0, stride1}
                   : WeightView{size1, size0, stride1, stride0};
}

SmallVector<int64_t> layout::weightMatrixShape(linalg::GenericOp op, const PackableWeight &w) {
  auto bType = cast<RankedTensorType>(op.getDpsInputs()[1].getType());
  SmallVector<int64_t> shape(2);
  for (int64_t i = 0; i < 2; ++i)
    shape[w.perm[i]] = bType.getDimSize(i);
  return shape;
}

/// Frees the data of weights that only rewritten contractions used: the
/// transposes and constants feeding them are dead now, and compiling
/// BERT-size models must not hold every weight twice.
void layout::releaseUnusedWeights(ModuleOp module, const llvm::StringSet<> &candidates) {
  // Transposes and collapses first: that makes the constants they read
  // dead too.
  auto eraseDead = [&](auto opType) {
    using OpTy = decltype(opType);
    SmallVector<OpTy> dead;
    module.walk([&](OpTy op) {
      if (op->use_empty())
        dead.push_back(op);
    });
    for (OpTy op : dead)
      op->erase();
  };
  eraseDead(linalg::TransposeOp());
  eraseDead(tensor::CollapseShapeOp());
  eraseDead(arith::ConstantOp());
  llvm::StringSet<> stillUsed;
  module.walk([&](arith::ConstantOp constant) {
    if (auto resource = dyn_cast<DenseResourceElementsAttr>(constant.getValue()))
      stillUsed.insert(resource.getRawHandle().getKey());
  });
  DialectResourceBlobManager &blobs =
      DenseResourceElementsHandle::getManagerInterface(module.getContext()).getBlobManager();
  for (const auto &entry : candidates)
    if (!stillUsed.contains(entry.getKey()))
      blobs.update(entry.getKey(), AsmResourceBlob());
}
