//===- InferShapes.cpp - Refine kiln result types in program order --------===//

#include "kiln/Dialect/Kiln/KilnOps.h"
#include "kiln/Dialect/Kiln/KilnShapeUtils.h"
#include "kiln/Passes/Passes.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNINFERSHAPES
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {
struct InferShapesPass : mlir::kiln::impl::KilnInferShapesBase<InferShapesPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    // Program order visits producers before users, so one walk suffices.
    WalkResult result = func.walk([](Operation *op) {
      if (!isa<KilnDialect>(op->getDialect()))
        return WalkResult::advance();
      return failed(refineResultTypes(op)) ? WalkResult::interrupt()
                                           : WalkResult::advance();
    });
    if (result.wasInterrupted())
      return signalPassFailure();

    // The function's results follow what its return op now yields.
    Operation *terminator = func.getBody().back().getTerminator();
    func.setType(FunctionType::get(func.getContext(), func.getArgumentTypes(),
                                   terminator->getOperandTypes()));
  }
};
} // namespace
