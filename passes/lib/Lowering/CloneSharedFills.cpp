//===- CloneSharedFills.cpp - A fill of its own for each destination ------===//
//
// CSE leaves one linalg.fill of the zeros (or the `false`) that several
// contractions and reductions start from. One-shot bufferization can then
// write only one of them in place: each other gets a fresh buffer and a
// copy of the filled one. On the GPU path each such copy is a kernel that
// reads the filled buffer before the op can start (bert-tiny: one before
// every contraction of the kernels path and every run-time check's
// reduction); a fill of its own only writes, and kiln-gpu-warp-reductions
// folds a fill right before its reduction into the reduction's kernel.
//
//===----------------------------------------------------------------------===//

#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNCLONESHAREDFILLS
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

/// The uses of `fill`'s result as another op's destination (DPS init), in
/// program order.
SmallVector<OpOperand *> destinationUses(linalg::FillOp fill) {
  SmallVector<OpOperand *> uses;
  for (OpOperand &use : fill.getResult(0).getUses())
    if (auto user = dyn_cast<DestinationStyleOpInterface>(use.getOwner());
        user && user.isDpsInit(&use))
      uses.push_back(&use);
  // Users inside regions are ordered by their ancestor in the fill's block.
  Block *block = fill->getBlock();
  llvm::stable_sort(uses, [&](OpOperand *a, OpOperand *b) {
    Operation *x = block->findAncestorOpInBlock(*a->getOwner());
    Operation *y = block->findAncestorOpInBlock(*b->getOwner());
    return x && y && x != y && x->isBeforeInBlock(y);
  });
  return uses;
}

/// A copy of `fill` (and of the tensor.empty it fills, if it fills one)
/// right before the op of `use`, which then writes the copy.
void giveOwnFill(linalg::FillOp fill, OpOperand *use) {
  OpBuilder b(use->getOwner());
  IRMapping mapping;
  Value init = fill.getDpsInitOperand(0)->get();
  if (auto empty = init.getDefiningOp<tensor::EmptyOp>())
    mapping.map(init, b.clone(*empty)->getResult(0));
  use->set(b.clone(*fill, mapping)->getResult(0));
}

struct CloneSharedFillsPass
    : mlir::kiln::impl::KilnCloneSharedFillsBase<CloneSharedFillsPass> {
  void runOnOperation() override {
    SmallVector<linalg::FillOp> fills;
    getOperation().walk([&](linalg::FillOp fill) {
      if (fill.hasPureTensorSemantics())
        fills.push_back(fill);
    });
    for (linalg::FillOp fill : fills) {
      SmallVector<OpOperand *> uses = destinationUses(fill);
      // Where every use writes it, the first keeps the original; a use
      // that reads it keeps it otherwise.
      bool onlyWritten = uses.size() == size_t(std::distance(fill.getResult(0).use_begin(),
                                                             fill.getResult(0).use_end()));
      for (OpOperand *use : ArrayRef(uses).drop_front(onlyWritten ? 1 : 0))
        giveOwnFill(fill, use);
    }
  }
};

} // namespace
