//===- QGemmToRuntime.cpp - kiln.qgemm to the runtime's int8 GEMM ---------===//
//
// The one place where kiln.qgemm becomes a call: a bufferized op fills the
// function's kiln_qgemm_desc (kiln_abi.h) and calls kiln_rt_qgemm(ctx,
// desc), which the model ABI (compiler/lib/ModelAbi.cpp) binds to
// kiln_runtime_context::qgemm. The fields are QGemmDescriptor.h's.
//
//===----------------------------------------------------------------------===//

#include "QGemmDescriptor.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "kiln/Passes/Passes.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNQGEMMTORUNTIME
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

constexpr StringLiteral kQGemmFunction = "kiln_rt_qgemm";

void lowerQGemm(IRRewriter &rewriter, QGemmOp op, Value context, Value descriptor) {
  rewriter.setInsertionPoint(op);
  lowering::callWithDescriptor(rewriter, op.getLoc(), kQGemmFunction, context, descriptor,
                               lowering::qgemmDescriptorFields(rewriter, op, op.getActivation()));
  rewriter.eraseOp(op);
}

struct QGemmToRuntimePass : mlir::kiln::impl::KilnQGemmToRuntimeBase<QGemmToRuntimePass> {
  void runOnOperation() override {
    if (failed(lowering::lowerBufferizedUkernelCalls<QGemmOp>(getOperation(), kQGemmFunction,
                                                            KILN_QGEMM_DESC_FIELDS, "kiln.qgemm",
                                                            "kiln-qgemm-to-runtime", lowerQGemm)))
      signalPassFailure();
  }
};

} // namespace
