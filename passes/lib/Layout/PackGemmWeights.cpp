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

#include "GemmWeights.h"
#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringSet.h"

#include "kiln/kiln_abi.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNPACKGEMMWEIGHTS
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln::layout;

namespace {

/// The register tile of each runtime micro-kernel family (kiln_abi.h, the
/// one definition the kernels use too); only nr shapes the packed layout.
struct GemmTile {
  StringRef target;
  int64_t mr, nr;
};
constexpr GemmTile kTiles[] = {
    {"avx512", KILN_GEMM_TILE_AVX512_MR, KILN_GEMM_TILE_AVX512_NR},
    {"avx2", KILN_GEMM_TILE_AVX2_MR, KILN_GEMM_TILE_AVX2_NR},
    {"portable", KILN_GEMM_TILE_PORTABLE_MR, KILN_GEMM_TILE_PORTABLE_NR}};

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
    module->setAttr(kiln::KilnDialect::GemmTileAttrHelper::getNameStr(),
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
      WeightView view = viewOf(weightMatrixShape(op, *weight), *weight);
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
        op->setAttr(kiln::KilnDialect::PackedRhsAttrHelper::getNameStr(),
                    rewriter.getI64IntegerAttr(panel));
      });
    }
    if (packedAny)
      releaseUnusedWeights(module, packedResources);
  }
};

} // namespace
