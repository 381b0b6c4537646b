//===- StridedCopyToLinalg.cpp - Keep memref.copy off memrefCopy ----------===//
//
// A compiled model must not call into MLIR's C runner utilities (the
// runtime ships without them), and the LLVM lowering of a memref.copy that
// is not between two contiguous buffers is exactly such a call. linalg.copy
// lowers to loops instead.
//
//===----------------------------------------------------------------------===//

#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Utils/MemRefUtils.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNSTRIDEDCOPYTOLINALG
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {
/// Mirrors the memcpy condition of MemRefToLLVM's copy lowering: identity
/// layout, or strides that make the buffer one contiguous block.
bool isContiguous(MemRefType type) {
  return type.getLayout().isIdentity() || memref::isStaticShapeAndContiguousRowMajor(type);
}

struct StridedCopyToLinalgCopy : OpRewritePattern<memref::CopyOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(memref::CopyOp op, PatternRewriter &rewriter) const override {
    auto source = dyn_cast<MemRefType>(op.getSource().getType());
    auto target = dyn_cast<MemRefType>(op.getTarget().getType());
    if (!source || !target)
      return rewriter.notifyMatchFailure(op, "unranked copies are not rewritten");
    if (isContiguous(source) && isContiguous(target))
      return rewriter.notifyMatchFailure(op, "a contiguous copy lowers to memcpy");
    rewriter.replaceOpWithNewOp<linalg::CopyOp>(op, op.getSource(), op.getTarget());
    return success();
  }
};

struct StridedCopyToLinalgPass
    : mlir::kiln::impl::KilnStridedCopyToLinalgBase<StridedCopyToLinalgPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<StridedCopyToLinalgCopy>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
