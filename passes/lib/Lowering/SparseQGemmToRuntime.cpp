//===- SparseQGemmToRuntime.cpp - kiln.sparse_qgemm to the runtime --------===//
//
// The one place where kiln.sparse_qgemm becomes a call: a bufferized op
// fills the function's kiln_qgemm_desc (kiln_abi.h; b the sparse blob) and
// calls kiln_rt_sparse_qgemm(ctx, desc), which the model ABI
// (compiler/lib/ModelAbi.cpp) binds to kiln_runtime_context::sparse_qgemm.
// The fields are QGemmDescriptor.h's, as for kiln.qgemm.
//
//===----------------------------------------------------------------------===//

#include "QGemmDescriptor.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "kiln/Passes/Passes.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNSPARSEQGEMMTORUNTIME
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

constexpr StringLiteral kSparseQGemmFunction = "kiln_rt_sparse_qgemm";

void lowerSparseQGemm(IRRewriter &rewriter, SparseQGemmOp op, Value context, Value descriptor) {
  rewriter.setInsertionPoint(op);
  lowering::callWithDescriptor(
      rewriter, op.getLoc(), kSparseQGemmFunction, context, descriptor,
      lowering::qgemmDescriptorFields(rewriter, op, int64_t(op.getActivation())));
  rewriter.eraseOp(op);
}

struct SparseQGemmToRuntimePass
    : mlir::kiln::impl::KilnSparseQGemmToRuntimeBase<SparseQGemmToRuntimePass> {
  void runOnOperation() override {
    if (failed(lowering::lowerBufferizedUkernelCalls<SparseQGemmOp>(
            getOperation(), kSparseQGemmFunction, KILN_QGEMM_DESC_FIELDS, "kiln.sparse_qgemm",
            "kiln-sparse-qgemm-to-runtime", lowerSparseQGemm)))
      signalPassFailure();
  }
};

} // namespace
