//===- ReassociateReductions.cpp - Let LLVM vectorize float reductions ----===//
//
// LLVM's loop vectorizer widens a float sum only when it may reorder the
// additions (the `reassoc` fast-math flag); without it every softmax sum,
// layer-norm mean and reduce op stays one scalar add per element. ONNX
// leaves the summation order of its reductions unspecified, so Kiln allows
// reordering in the combiner of every reduction. `contract` also lets
// multiply-adds fuse into FMAs there.
//
//===----------------------------------------------------------------------===//

#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNREASSOCIATEREDUCTIONS
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {
struct ReassociateReductionsPass
    : mlir::kiln::impl::KilnReassociateReductionsBase<ReassociateReductionsPass> {
  void runOnOperation() override {
    auto allowed = arith::FastMathFlags::reassoc | arith::FastMathFlags::contract;
    getOperation().walk([&](linalg::GenericOp generic) {
      if (generic.getNumReductionLoops() == 0)
        return;
      generic.getRegion().walk([&](arith::ArithFastMathInterface op) {
        arith::FastMathFlags flags = op.getFastMathFlagsAttr()
                                         ? op.getFastMathFlagsAttr().getValue()
                                         : arith::FastMathFlags::none;
        op->setAttr(op.getFastMathAttrName(),
                    arith::FastMathFlagsAttr::get(op->getContext(), flags | allowed));
      });
    });
  }
};
} // namespace
