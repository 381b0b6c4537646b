//===- PackGemmWeights.cpp - Constant GEMM weights in micro-kernel layout -===//
//
// The runtime's GEMM micro-kernels read B as panels of W columns stored
// k-major (runtime/src/kernels/GemmKernels.h). Packing a weight into that
// layout on every run costs a full pass over it, from memory for BERT-size
// matrices, so constant weights are packed here, once, at compile time
// (the idea of IREE's data tiling and mmt4d):
//
//   packed[q][p][w] = B(p, q*W + w), zero where q*W + w >= N
//
// a tensor<ceil(N/W) x K x W>. The contraction keeps its exact meaning: B
// is now read through (n floordiv W, k, n mod W), so every later stage
// (and the loops it becomes if it never reaches the runtime) stays
// correct. kiln-contraction-to-runtime-gemm recognises that map and tells
// the runtime that B is prepacked. A transposed weight (a linalg.transpose
// of a constant, or a (n, k) map) is packed from its transposed view, so
// the transpose costs nothing at run time either; so are a convolution's
// filters, which its im2col lowering reads as a collapsed [F, C*KH*KW]
// matrix.
//
// W is the panel width of the target's micro-kernel; the pass records the
// target's tile on the module (kiln.gemm_tile) and W on each contraction
// it changed (kiln.packed_rhs).
//
//===----------------------------------------------------------------------===//

#include "../Lowering/LoweringUtils.h"
#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringSet.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNPACKGEMMWEIGHTS
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using mlir::kiln::lowering::isMultiplyAccumulate;

namespace {

/// The register tile of each runtime micro-kernel family (GemmAvx512.cpp,
/// GemmAvx2.cpp, GemmPortable.cpp); only nr shapes the packed layout.
struct GemmTile {
  StringRef target;
  int64_t mr, nr;
};
constexpr GemmTile kTiles[] = {{"avx512", 12, 32}, {"avx2", 6, 16}, {"portable", 4, 8}};

/// A weight of a contraction that can be packed: B's data and, per B dim,
/// whether it is the GEMM's k (else n).
struct PackableWeight {
  arith::ConstantOp constant;
  SmallVector<int64_t> perm; // B dim i is dim perm[i] of the constant
  unsigned kLoop, nLoop;
  bool kIsDim0; // of B as the contraction reads it
};

/// The f32 values of a constant, if the compiler holds them.
std::optional<ArrayRef<float>> floatsOf(ElementsAttr value) {
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
std::optional<std::pair<arith::ConstantOp, SmallVector<int64_t>>> constantSource(Value value) {
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
std::optional<PackableWeight> packableWeight(linalg::GenericOp op) {
  if (!op.hasPureTensorSemantics() || op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      !isMultiplyAccumulate(op) || op->hasAttr("kiln.packed_rhs"))
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

/// B as a K x N matrix inside the row-major constant it reads.
struct WeightView {
  int64_t k, n, kStride, nStride;
};

WeightView viewOf(ArrayRef<int64_t> constantShape, const PackableWeight &w) {
  // B's dim i is the constant's dim perm[i]; the constant is row-major.
  const int64_t stride[2] = {constantShape[1], 1};
  int64_t size0 = constantShape[w.perm[0]], size1 = constantShape[w.perm[1]];
  int64_t stride0 = stride[w.perm[0]], stride1 = stride[w.perm[1]];
  return w.kIsDim0 ? WeightView{size0, size1, stride0, stride1}
                   : WeightView{size1, size0, stride1, stride0};
}

/// packed[q][p][j] = B(p, q*panel + j), zero past n.
std::vector<float> packPanels(ArrayRef<float> data, const WeightView &v, int64_t panel) {
  const int64_t panels = (v.n + panel - 1) / panel;
  std::vector<float> packed(size_t(panels * v.k * panel), 0.0f);
  for (int64_t q = 0; q < panels; ++q)
    for (int64_t p = 0; p < v.k; ++p)
      for (int64_t j = 0; j < panel && q * panel + j < v.n; ++j)
        packed[size_t((q * v.k + p) * panel + j)] =
            data[size_t(p * v.kStride + (q * panel + j) * v.nStride)];
  return packed;
}

struct PackGemmWeightsPass : mlir::kiln::impl::KilnPackGemmWeightsBase<PackGemmWeightsPass> {
  using KilnPackGemmWeightsBase::KilnPackGemmWeightsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    const GemmTile *tile = llvm::find_if(kTiles, [&](const GemmTile &t) { return t.target == target; });
    if (tile == std::end(kTiles)) {
      module.emitError("unknown GEMM target '") << target
                                                << "'; expected avx512, avx2 or portable";
      return signalPassFailure();
    }
    MLIRContext *context = &getContext();
    Builder b(context);
    module->setAttr("kiln.gemm_tile",
                    b.getDictionaryAttr({b.getNamedAttr("target", b.getStringAttr(tile->target)),
                                         b.getNamedAttr("mr", b.getI64IntegerAttr(tile->mr)),
                                         b.getNamedAttr("nr", b.getI64IntegerAttr(tile->nr))}));
    const int64_t panel = tile->nr;

    // Weights used by several contractions (or other ops) are packed once
    // per use: each packed copy is a new constant, and CSE merges equal
    // ones only if their data is equal, which it is.
    llvm::StringSet<> packedResources;
    bool packedAny = false;
    SmallVector<linalg::GenericOp> contractions;
    module.walk([&](linalg::GenericOp op) { contractions.push_back(op); });
    IRRewriter rewriter(context);
    for (linalg::GenericOp op : contractions) {
      std::optional<PackableWeight> weight = packableWeight(op);
      if (!weight)
        continue;
      auto value = cast<ElementsAttr>(weight->constant.getValue());
      std::optional<ArrayRef<float>> data = floatsOf(value);
      if (!data)
        continue;
      // B's shape before any transpose: the constant's, collapsed to 2-D.
      auto bType = cast<RankedTensorType>(op.getDpsInputs()[1].getType());
      SmallVector<int64_t> matrixShape(2);
      for (int64_t i = 0; i < 2; ++i)
        matrixShape[weight->perm[i]] = bType.getDimSize(i);
      WeightView view = viewOf(matrixShape, *weight);
      std::vector<float> packed = packPanels(*data, view, panel);
      auto packedType =
          RankedTensorType::get({(view.n + panel - 1) / panel, view.k, panel}, b.getF32Type());
      ElementsAttr packedValue;
      if (auto resource = dyn_cast<DenseResourceElementsAttr>(value)) {
        StringRef name = resource.getRawHandle().getKey();
        packedResources.insert(name);
        packedValue = DenseResourceElementsAttr::get(
            packedType, (name + "_panels" + Twine(panel)).str(),
            HeapAsmResourceBlob::allocateAndCopyInferAlign(ArrayRef<float>(packed)));
      } else {
        packedValue = DenseElementsAttr::get(packedType, ArrayRef<float>(packed));
      }

      packedAny = true;
      rewriter.setInsertionPoint(op);
      auto packedConstant = arith::ConstantOp::create(rewriter, weight->constant.getLoc(),
                                                       cast<TypedAttr>(packedValue));
      AffineExpr nDim = rewriter.getAffineDimExpr(weight->nLoop);
      AffineExpr kDim = rewriter.getAffineDimExpr(weight->kLoop);
      SmallVector<AffineMap> maps = op.getIndexingMapsArray();
      maps[1] = AffineMap::get(op.getNumLoops(), 0,
                               {nDim.floorDiv(panel), kDim, nDim % panel}, context);
      rewriter.modifyOpInPlace(op, [&] {
        op->setOperand(1, packedConstant);
        op.setIndexingMapsAttr(rewriter.getAffineMapArrayAttr(maps));
        op->setAttr("kiln.packed_rhs", rewriter.getI64IntegerAttr(panel));
      });
    }
    if (packedAny)
      releaseUnusedWeights(module, packedResources);
  }

  /// Frees the data of weights that only packed contractions used: the
  /// transposes and constants feeding them are dead now, and compiling
  /// BERT-size models must not hold every weight twice.
  void releaseUnusedWeights(ModuleOp module, const llvm::StringSet<> &candidates) {
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
        DenseResourceElementsHandle::getManagerInterface(&getContext()).getBlobManager();
    for (const auto &entry : candidates)
      if (!stillUsed.contains(entry.getKey()))
        blobs.update(entry.getKey(), AsmResourceBlob());
  }
};

} // namespace
