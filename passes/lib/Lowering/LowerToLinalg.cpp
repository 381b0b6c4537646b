//===- LowerToLinalg.cpp - The kiln-lower-to-linalg pass ------------------===//
//
// Applies each op family's patterns (ElementwiseToLinalg.cpp, ...) and
// reports every kiln op left behind, so a partial lowering never reaches
// the back end silently.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Transforms/WalkPatternRewriteDriver.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNLOWERTOLINALG
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {
struct LowerToLinalgPass : mlir::kiln::impl::KilnLowerToLinalgBase<LowerToLinalgPass> {
  using Base::Base;
  void runOnOperation() override {
    // A Gather or GatherND of index grids computes its indices from the
    // grids' Range ops (IndexGrids.h): first, while they are still kiln
    // ops. A walk, so that nothing else is folded ahead of the lowering.
    RewritePatternSet gridGathers(&getContext());
    lowering::populateGatherNDOfGridsLoweringPatterns(gridGathers);
    lowering::populateGatherOfGridsLoweringPatterns(gridGathers);
    lowering::populateGridComparisonLoweringPatterns(gridGathers);
    walkAndApplyPatterns(getOperation(), FrozenRewritePatternSet(std::move(gridGathers)));

    RewritePatternSet patterns(&getContext());
    lowering::BroadcastCopies copies = unconditionalBroadcastCopies
                                           ? lowering::BroadcastCopies::Always
                                           : lowering::BroadcastCopies::WhenBroadcasting;
    lowering::populateElementwiseLoweringPatterns(patterns, copies);
    lowering::populateDataMovementLoweringPatterns(patterns, copies);
    lowering::populateShapeLoweringPatterns(patterns);
    lowering::populateContractionLoweringPatterns(patterns, copies);
    lowering::populateReductionLoweringPatterns(patterns);
    lowering::populateGatherNDLoweringPatterns(patterns);
    lowering::populateGatherElementsLoweringPatterns(patterns);
    lowering::populateScanLoweringPatterns(patterns);
    lowering::populatePadLoweringPatterns(patterns);
    lowering::populatePoolingLoweringPatterns(patterns);
    lowering::populateResizeLoweringPatterns(patterns);
    lowering::populateGridSampleLoweringPatterns(patterns);
    lowering::populateQuantizationLoweringPatterns(patterns);
    lowering::populateScatterLoweringPatterns(patterns);
    lowering::populateTopKLoweringPatterns(patterns);
    lowering::populateConvLoweringPatterns(patterns);
    lowering::populateConvTransposeLoweringPatterns(patterns);
    // Top-down, so that an op's producers are lowered first and the shape
    // lowerings see tensor.dim chains and views rather than kiln ops
    // (ShapeOperands.h traces dims through them).
    GreedyRewriteConfig config;
    config.setUseTopDownTraversal(true);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      return signalPassFailure();

    bool leftOver = false;
    getOperation().walk([&](Operation *op) {
      // Run-time checks are the lowering's own output (kiln-lower-runtime-checks);
      // int8 GEMMs and row softmaxes become runtime calls after bufferization
      // (kiln-qgemm-to-runtime, kiln-softmax-to-runtime).
      if (!isa<KilnDialect>(op->getDialect()) || isa<RuntimeCheckOp, QGemmOp, SoftmaxRowsOp, LayerNormRowsOp, AttentionOp>(op))
        return;
      op->emitError("Kiln cannot lower '")
          << op->getName() << "' with these types to code yet";
      leftOver = true;
    });
    if (leftOver)
      signalPassFailure();
  }
};
} // namespace
