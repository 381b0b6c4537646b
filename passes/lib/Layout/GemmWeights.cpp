//===- GemmWeights.cpp - Constant weights of contractions -----------------===//

#include "GemmWeights.h"
#include "../Lowering/LoweringUtils.h"
#include "kiln/Dialect/Kiln/KilnDialect.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"

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

/// Whether `value` is a tensor filled with zeros.
bool layout::isZeroFilled(Value value) {
  auto fill = value.getDefiningOp<linalg::FillOp>();
  return fill && matchPattern(fill.getDpsInputs()[0], m_AnyZeroFloat());
}

/// The loops of `op` but `skip`, in order, as dim exprs.
static SmallVector<AffineExpr> dimsExcept(linalg::GenericOp op, ArrayRef<unsigned> skip) {
  SmallVector<AffineExpr> dims;
  for (unsigned loop = 0; loop < op.getNumLoops(); ++loop)
    if (!llvm::is_contained(skip, loop))
      dims.push_back(getAffineDimExpr(loop, op.getContext()));
  return dims;
}

/// Whether A is read row-major as (batch..., m, k) and C written as
/// (batch..., m, n): every loop but n indexes A in loop order with k last,
/// every loop but k indexes C in loop order with n last. Then A collapses
/// to rows x K and C to rows x N.
bool layout::hasRowMajorOperands(linalg::GenericOp op, const PackableWeight &w) {
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  SmallVector<AffineExpr> aDims = dimsExcept(op, {w.nLoop, w.kLoop});
  aDims.push_back(getAffineDimExpr(w.kLoop, op.getContext()));
  SmallVector<AffineExpr> cDims = dimsExcept(op, {w.kLoop});
  // (packableWeight already made n C's innermost dim.)
  return aDims.size() >= 2 &&
         maps[0].getResults() == ArrayRef(aDims) && maps[2].getResults() == ArrayRef(cDims);
}

/// `value` of rank r >= 2 as a matrix: its leading dims collapsed into rows.
static Value asMatrix(OpBuilder &b, Location loc, Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  if (type.getRank() == 2)
    return value;
  ReassociationIndices rows = llvm::to_vector(llvm::seq<int64_t>(0, type.getRank() - 1));
  return tensor::CollapseShapeOp::create(
      b, loc, value, SmallVector<ReassociationIndices>{rows, {type.getRank() - 1}});
}

/// The marked epilogue that consumes `contraction`'s result.
static std::optional<RowsEpilogue> epilogueOf(linalg::GenericOp contraction) {
  // The consumer reads C and writes in place into it: its only user.
  Value c = contraction.getResult(0);
  if (c.use_empty() || !llvm::all_equal(c.getUsers()))
    return std::nullopt;
  auto consumer = dyn_cast<linalg::GenericOp>(*c.getUsers().begin());
  std::optional<lowering::EpilogueMarks> marks =
      consumer ? lowering::epilogueMarksOf(consumer) : std::nullopt;
  if (!marks || consumer.getNumResults() != 1 || consumer.getDpsInputs()[marks->gemm] != c)
    return std::nullopt;
  int64_t gemm = marks->gemm, bias = marks->bias, residual = marks->residual;
  RowsEpilogue epilogue{consumer, nullptr, nullptr, marks->activation};
  auto cType = cast<RankedTensorType>(c.getType());
  SmallVector<AffineMap> maps = consumer.getIndexingMapsArray();
  if (!maps[gemm].isIdentity() || !maps.back().isIdentity() ||
      consumer.getResult(0).getType() != cType)
    return std::nullopt;
  if (residual >= 0) {
    Value value = consumer.getDpsInputs()[residual];
    if (!maps[residual].isIdentity() || value.getType() != cType)
      return std::nullopt;
    epilogue.residual = value;
  }
  if (bias >= 0) {
    // A vector along the output's last dim, possibly with leading 1s.
    Value value = consumer.getDpsInputs()[bias];
    auto type = cast<RankedTensorType>(value.getType());
    AffineMap map = maps[bias];
    auto last = dyn_cast<AffineDimExpr>(map.getResults().back());
    if (!last || last.getPosition() != cType.getRank() - 1 ||
        type.getDimSize(type.getRank() - 1) != cType.getDimSize(cType.getRank() - 1) ||
        llvm::any_of(type.getShape().drop_back(), [](int64_t d) { return d != 1; }))
      return std::nullopt;
    epilogue.bias = value;
  }
  return epilogue;
}

layout::RowsUkernelOperands layout::rowsUkernelOperands(RewriterBase &rewriter,
                                                        linalg::GenericOp op) {
  Location loc = op.getLoc();
  RowsUkernelOperands operands;
  operands.epilogue = epilogueOf(op);
  operands.zeroInit = op.getDpsInits()[0];
  rewriter.setInsertionPoint(operands.epilogue ? operands.epilogue->op : op);
  operands.a = asMatrix(rewriter, loc, op.getDpsInputs()[0]);
  if (const std::optional<RowsEpilogue> &epilogue = operands.epilogue) {
    operands.activation = epilogue->activation;
    if (epilogue->residual)
      operands.residual = asMatrix(rewriter, loc, epilogue->residual);
    Value bias = epilogue->bias;
    if (bias && cast<RankedTensorType>(bias.getType()).getRank() != 1) {
      ReassociationIndices all = llvm::to_vector(
          llvm::seq<int64_t>(0, cast<RankedTensorType>(bias.getType()).getRank()));
      bias = tensor::CollapseShapeOp::create(rewriter, loc, bias,
                                             SmallVector<ReassociationIndices>{all});
    }
    operands.bias = bias;
  }
  // The output keeps C's shape: its leading dims are the rows.
  operands.init = tensor::EmptyOp::create(
      rewriter, loc, tensor::getMixedSizes(rewriter, loc, op.getDpsInits()[0]),
      rewriter.getF32Type());
  return operands;
}

void layout::replaceByRowsUkernel(RewriterBase &rewriter, linalg::GenericOp op,
                                  const RowsUkernelOperands &operands, Value result) {
  if (operands.epilogue) {
    rewriter.replaceOp(operands.epilogue->op, result);
    rewriter.eraseOp(op);
  } else {
    rewriter.replaceOp(op, result);
  }
  // The zero fill of C is dead now (the op overwrites its init).
  if (Operation *fill = operands.zeroInit.getDefiningOp(); fill && fill->use_empty())
    rewriter.eraseOp(fill);
}
