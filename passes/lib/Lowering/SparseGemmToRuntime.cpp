//===- SparseGemmToRuntime.cpp - kiln.sparse_gemm to the runtime's sparse GEMM ===//
//
// The one place where kiln.sparse_gemm becomes a call: a bufferized op
// fills the function's kiln_sparse_gemm_desc (kiln_abi.h) and calls
// kiln_rt_sparse_gemm(ctx, desc), which the model ABI
// (compiler/lib/ModelAbi.cpp) binds to kiln_runtime_context::sparse_gemm.
// Field positions come from the struct itself (offsetof), so the compiler
// and the runtime cannot disagree on them.
//
//===----------------------------------------------------------------------===//

#include "RuntimeCalls.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "kiln/Passes/Passes.h"

#include "kiln/kiln_abi.h"

#include <cstddef>

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNSPARSEGEMMTORUNTIME
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;
using mlir::kiln::lowering::CallOperand;
using mlir::kiln::lowering::callOperand;

namespace {

constexpr StringLiteral kSparseGemmFunction = "kiln_rt_sparse_gemm";

static_assert(sizeof(kiln_sparse_gemm_desc) == KILN_SPARSE_GEMM_DESC_FIELDS * sizeof(int64_t),
              "kiln_sparse_gemm_desc must stay an array of 64-bit fields");

void lowerSparseGemm(IRRewriter &rewriter, SparseGemmOp op, Value context, Value descriptor) {
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  auto constant = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(rewriter, loc, v);
  };
  Value zero = constant(0), one = constant(1);
  SmallVector<Value> fields(KILN_SPARSE_GEMM_DESC_FIELDS, zero);
  auto set = [&](size_t offset, Value value) { fields[lowering::descriptorWord(offset)] = value; };
#define KILN_FIELD(name) offsetof(kiln_sparse_gemm_desc, name)
  CallOperand a = callOperand(rewriter, loc, op.getA());
  CallOperand c = callOperand(rewriter, loc, op.getInit());
  set(KILN_FIELD(m), memref::DimOp::create(rewriter, loc, op.getA(), 0));
  set(KILN_FIELD(n), constant(op.getN()));
  set(KILN_FIELD(k), constant(op.getK()));
  set(KILN_FIELD(a), a.address);
  set(KILN_FIELD(a_rs), a.strides[0]);
  set(KILN_FIELD(a_cs), a.strides[1]);
  set(KILN_FIELD(b), callOperand(rewriter, loc, op.getBPacked()).address);
  set(KILN_FIELD(c), c.address);
  set(KILN_FIELD(ldc), c.strides[c.strides.size() - 2]); // init's rows are contiguous
  set(KILN_FIELD(activation), constant(int64_t(op.getActivation())));
  if (Value bias = op.getBias())
    set(KILN_FIELD(bias), callOperand(rewriter, loc, bias).address);
  if (Value residual = op.getResidual()) {
    CallOperand r = callOperand(rewriter, loc, residual);
    set(KILN_FIELD(residual), r.address);
    set(KILN_FIELD(residual_rs), r.strides[0]);
  }
  // One GEMM: a batch of 1 x 1 (the batch strides stay 0).
  set(KILN_FIELD(batch[0]), one);
  set(KILN_FIELD(batch[1]), one);
#undef KILN_FIELD
  lowering::callWithDescriptor(rewriter, loc, kSparseGemmFunction, context, descriptor, fields);
  rewriter.eraseOp(op);
}

struct SparseGemmToRuntimePass
    : mlir::kiln::impl::KilnSparseGemmToRuntimeBase<SparseGemmToRuntimePass> {
  void runOnOperation() override {
    if (failed(lowering::lowerBufferizedUkernelCalls<SparseGemmOp>(getOperation(), kSparseGemmFunction, KILN_SPARSE_GEMM_DESC_FIELDS,
                                                        "kiln.sparse_gemm", "kiln-sparse-gemm-to-runtime", lowerSparseGemm)))
      signalPassFailure();
  }
};

} // namespace
