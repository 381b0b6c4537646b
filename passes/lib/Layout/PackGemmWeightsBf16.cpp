//===- PackGemmWeightsBf16.cpp - Constant GEMM weights as bf16 panels -----===//
//
// `kiln compile --quantize bf16`: every constant fp32 GEMM weight that
// kiln-pack-gemm-weights would pack (MatMul, Gemm and im2col convolution
// weights, also transposed) is rounded to bf16 here, once, and stored in
// the layout the runtime's bf16 kernels read in place (kiln_bf16_pack.h):
//
//   packed[q][t][w][s] = bf16(B(2t + s, q*W + w)), zero past K and N,
//
// a tensor<ceil(N/W) x K2/2 x W x 2 x bf16> (K2 = K rounded up to even,
// W = KILN_BF16_PANEL for every target) read through (n floordiv W,
// k floordiv 2, n mod W, k mod 2), with the weight widened back by an
// arith.extf in the body (Bf16Contractions.h). The weight takes half the
// bytes of fp32, and kiln-contraction-to-runtime-gemm turns the
// contraction into a kiln.fgemm with that B, whose runtime call (b_type
// bf16) also rounds A to bf16 and sums exact products in fp32 (vdpbf16ps).
//
// The data is one flat tensor<... x bf16> constant, expanded to the 4-D
// view: LLVM makes an array constant per innermost row of a constant, and
// rows of 2 values (one per pair) took 40 M of them for BERT-base (twice
// the compile time and 300 MiB more memory than fp32 on MiniLM).
//
// Contractions whose ONNX node name or op type is in `exclude` stay fp32.
// The rewritten ones are marked kiln.packed_rhs = W, so that
// kiln-pack-gemm-weights, which runs next, leaves them alone.
//
//===----------------------------------------------------------------------===//

#include "../Lowering/Bf16Contractions.h"
#include "../Lowering/LoweringUtils.h"
#include "GemmWeights.h"
#include "kiln/Dialect/Kiln/KilnDialect.h"
#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringSet.h"

#include "kiln/kiln_bf16_pack.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNPACKGEMMWEIGHTSBF16
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::layout;

namespace {

/// Makes block argument 1 (B's element) bf16 and widens it to f32 where
/// the body used it.
void widenWeightInBody(RewriterBase &rewriter, linalg::GenericOp op) {
  Block &body = op.getRegion().front();
  BlockArgument weight = body.getArgument(1);
  weight.setType(rewriter.getBF16Type());
  rewriter.setInsertionPointToStart(&body);
  Value widened = arith::ExtFOp::create(rewriter, op.getLoc(), rewriter.getF32Type(), weight);
  rewriter.replaceAllUsesExcept(weight, widened, widened.getDefiningOp());
}

struct PackGemmWeightsBf16Pass
    : mlir::kiln::impl::KilnPackGemmWeightsBf16Base<PackGemmWeightsBf16Pass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *context = &getContext();
    llvm::StringSet<> excluded;
    for (const std::string &name : exclude)
      excluded.insert(name);
    SmallVector<std::pair<linalg::GenericOp, PackableWeight>> contractions;
    module.walk([&](linalg::GenericOp op) {
      if (lowering::namesAnyNodeOf(op.getLoc(), excluded))
        return;
      if (std::optional<PackableWeight> weight = packableWeight(op))
        contractions.emplace_back(op, *weight);
    });

    constexpr int64_t panel = KILN_BF16_PANEL;
    llvm::StringSet<> packedResources;
    IRRewriter rewriter(context);
    for (auto &[op, weight] : contractions) {
      auto value = cast<ElementsAttr>(weight.constant.getValue());
      std::optional<ArrayRef<float>> data = floatsOf(value);
      if (!data)
        continue;
      WeightView view = viewOf(weightMatrixShape(op, weight), weight);
      std::vector<uint16_t> packed(size_t(kiln_bf16_packed_size(view.k, view.n, panel)));
      kiln_bf16_pack_b(data->data(), view.kStride, view.nStride, view.k, view.n, panel,
                       packed.data());
      auto packedType = RankedTensorType::get(
          {(view.n + panel - 1) / panel, kiln_bf16_packed_k(view.k) / 2, panel, 2},
          rewriter.getBF16Type());
      auto flatType = RankedTensorType::get({int64_t(packed.size())}, rewriter.getBF16Type());
      ElementsAttr packedValue;
      if (auto resource = dyn_cast<DenseResourceElementsAttr>(value)) {
        StringRef name = resource.getRawHandle().getKey();
        packedResources.insert(name);
        packedValue = DenseResourceElementsAttr::get(
            flatType, (name + "_bf16_panels" + Twine(panel)).str(),
            HeapAsmResourceBlob::allocateAndCopyInferAlign(ArrayRef<uint16_t>(packed), 64));
      } else {
        packedValue = DenseElementsAttr::getFromRawBuffer(
            flatType, ArrayRef<char>(reinterpret_cast<const char *>(packed.data()),
                                       packed.size() * sizeof(uint16_t)));
      }

      rewriter.setInsertionPoint(op);
      auto flatConstant = arith::ConstantOp::create(rewriter, weight.constant.getLoc(),
                                                     cast<TypedAttr>(packedValue));
      auto packedConstant = tensor::ExpandShapeOp::create(
          rewriter, weight.constant.getLoc(), packedType, flatConstant,
          SmallVector<ReassociationIndices>{{0, 1, 2, 3}});
      SmallVector<AffineMap> maps = op.getIndexingMapsArray();
      maps[1] = lowering::bf16PanelMap(op.getNumLoops(), weight.kLoop, weight.nLoop, panel,
                                       context);
      rewriter.modifyOpInPlace(op, [&] {
        op->setOperand(1, packedConstant);
        op.setIndexingMapsAttr(rewriter.getAffineMapArrayAttr(maps));
        op->setAttr(kiln::KilnDialect::PackedRhsAttrHelper::getNameStr(),
                    rewriter.getI64IntegerAttr(panel));
      });
      widenWeightInBody(rewriter, op);
    }
    if (contractions.empty())
      return;
    releaseUnusedWeights(module, packedResources);
    // The portable kernel gives the same numbers, but at a fraction of the
    // speed: worth a word when the target cannot run the fast one.
    // (At the module's location, not on the op: a warning on an op prints
    // the whole module with it.)
    if (!hardwareBf16)
      emitWarning(module.getLoc(), "the target CPU has no AVX512_BF16: the ")
          << contractions.size()
          << " bf16 GEMMs run the runtime's portable bf16 kernel (the same results, much "
             "slower than fp32) unless the CPU that runs the model has it";
  }
};

} // namespace
