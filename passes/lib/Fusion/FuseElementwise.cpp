//===- FuseElementwise.cpp - One loop nest for chains of elementwise ops --===//
//
// Lowered one by one, a chain such as GELU's div/erf/add/mul/mul or
// softmax's sub/exp/sum/div is a loop nest and a full intermediate buffer
// per op: memory traffic, not arithmetic, sets its time. Upstream's linalg
// elementwise fusion folds a producer into its consumer's loop nest; Kiln
// steers it so that
//
//  * a producer is only fused into its single user (fusing into several
//    would recompute it, e.g. softmax's exp, once per user), and
//  * nothing is fused into a contraction (two inputs and a reduction): its
//    body must stay `out + a * b` for kiln-contraction-to-runtime-gemm,
//    which turns it into a call of the runtime's GEMM. (A transpose feeding
//    a matmul is not lost: the GEMM reads it through strides.)
//
//===----------------------------------------------------------------------===//

#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNFUSEELEMENTWISE
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

bool isContraction(Operation *op) {
  auto generic = dyn_cast<linalg::GenericOp>(op);
  return generic && generic.getNumReductionLoops() > 0 && generic.getNumDpsInputs() > 1;
}

struct FuseElementwisePass : mlir::kiln::impl::KilnFuseElementwiseBase<FuseElementwisePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    linalg::populateElementwiseOpsFusionPatterns(patterns, [](OpOperand *fused) {
      Operation *producer = fused->get().getDefiningOp();
      return producer && producer->hasOneUse() && !isContraction(fused->getOwner());
    });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
