//===- Bf16ActivationProducts.cpp - Attention's products in bf16 ----------===//
//
// With `--quantize`, the GEMMs with constant weights run in int8 (or bf16),
// and what is left of the time in the matrix products is attention's: QK^T
// and its product with V, whose operands are both computed at run time. The
// fp32 GEMM already runs those near the FMA peak; rounding both operands to
// bf16 as the runtime packs them doubles that rate on CPUs with
// AVX512_BF16 (`vdpbf16ps`), and the rounding (8 bits of mantissa, relative
// error 2^-9) is below what int8 activations already carry (a step of a
// row's range / 255). onnxruntime's quantize_dynamic leaves these products
// in fp32; `--quantize-exclude` by node name or op type keeps them there.
//
// Only a kiln.fgemm whose b is read at run time qualifies: a prepacked b is
// a constant weight, which kiln-quantize-contractions quantized unless it
// was excluded, and an excluded layer stays fp32. A kiln.attention (both
// products read at run time) qualifies unless one of its nodes is excluded.
//
//===----------------------------------------------------------------------===//

#include "../Lowering/LoweringUtils.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "llvm/ADT/StringSet.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNBF16ACTIVATIONPRODUCTS
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// Whether `buffer` is (a view of) a constant: a global the model holds.
bool isConstantBuffer(Value buffer) {
  while (Operation *def = buffer.getDefiningOp()) {
    if (isa<memref::GetGlobalOp>(def))
      return true;
    auto view = dyn_cast<ViewLikeOpInterface>(def);
    if (!view)
      return false;
    buffer = view.getViewSource();
  }
  return false;
}

struct Bf16ActivationProductsPass
    : mlir::kiln::impl::KilnBf16ActivationProductsBase<Bf16ActivationProductsPass> {
  using Base::Base;

  void runOnOperation() override {
    llvm::StringSet<> excluded;
    for (const std::string &name : exclude)
      excluded.insert(name);
    getOperation().walk([&](FGemmOp op) {
      if (op.getPanelWidth() != 0 || op.getBf16Inputs() || isConstantBuffer(op.getB()) ||
          lowering::namesAnyNodeOf(op.getLoc(), excluded))
        return;
      op.setBf16Inputs(true);
    });
    // Attention's two products in one runtime call (kiln-attention-to-
    // ukernel): the same products, so the same rounding, unless one of
    // its MatMul nodes is excluded.
    getOperation().walk([&](AttentionOp op) {
      if (!op.getBf16Inputs() && !lowering::namesAnyNodeOf(op.getLoc(), excluded))
        op.setBf16Inputs(true);
    });
  }
};

} // namespace
