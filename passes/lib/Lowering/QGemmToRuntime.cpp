//===- QGemmToRuntime.cpp - kiln.qgemm to the runtime's int8 GEMM ---------===//
//
// The one place where kiln.qgemm becomes a call: a bufferized op fills the
// function's kiln_qgemm_desc (kiln_abi.h) and calls kiln_rt_qgemm(ctx,
// desc), which the model ABI (compiler/lib/ModelAbi.cpp) binds to
// kiln_runtime_context::qgemm. Field positions come from the struct itself
// (offsetof), so the compiler and the runtime cannot disagree on them.
//
//===----------------------------------------------------------------------===//

#include "RuntimeCalls.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"

#include "kiln/kiln_abi.h"

#include <cstddef>

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNQGEMMTORUNTIME
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;
using mlir::kiln::lowering::CallOperand;
using mlir::kiln::lowering::callOperand;

namespace {

constexpr StringLiteral kQGemmFunction = "kiln_rt_qgemm";

static_assert(sizeof(kiln_qgemm_desc) == KILN_QGEMM_DESC_FIELDS * sizeof(int64_t),
              "kiln_qgemm_desc must stay an array of 64-bit fields");

void lowerQGemm(IRRewriter &rewriter, QGemmOp op, Value context, Value descriptor) {
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  auto constant = [&](int64_t v) -> Value { return arith::ConstantIndexOp::create(rewriter, loc, v); };
  Value zero = constant(0), one = constant(1);
  SmallVector<Value> fields(KILN_QGEMM_DESC_FIELDS, zero);
  auto set = [&](size_t offset, Value value) { fields[lowering::descriptorWord(offset)] = value; };
#define KILN_FIELD(name) offsetof(kiln_qgemm_desc, name)
  CallOperand a = callOperand(rewriter, loc, op.getA());
  CallOperand c = callOperand(rewriter, loc, op.getInit());
  set(KILN_FIELD(m), memref::DimOp::create(rewriter, loc, op.getA(), 0));
  set(KILN_FIELD(n), constant(op.getN()));
  set(KILN_FIELD(k), constant(op.getK()));
  set(KILN_FIELD(a), a.address);
  // A ui8 a is pre-quantized, per tensor; NULL scale and zero point mean 1 and 0.
  bool prequantized = cast<MemRefType>(op.getA().getType()).getElementType().isUnsignedInteger(8);
  set(KILN_FIELD(a_type), constant(prequantized ? KILN_DTYPE_UINT8 : KILN_DTYPE_FLOAT32));
  set(KILN_FIELD(a_rs), a.strides[0]);
  set(KILN_FIELD(a_cs), a.strides[1]);
  if (Value scale = op.getAScale())
    set(KILN_FIELD(a_scale), callOperand(rewriter, loc, scale).address);
  if (Value zeroPoint = op.getAZeroPoint())
    set(KILN_FIELD(a_zero_point), callOperand(rewriter, loc, zeroPoint).address);
  set(KILN_FIELD(b), callOperand(rewriter, loc, op.getBPacked()).address);
  set(KILN_FIELD(b_scale), callOperand(rewriter, loc, op.getBScale()).address);
  set(KILN_FIELD(c), c.address);
  set(KILN_FIELD(ldc), c.strides[c.strides.size() - 2]); // init's rows are contiguous
  set(KILN_FIELD(activation), constant(op.getActivation()));
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
  mlir::kiln::lowering::callWithDescriptor(rewriter, loc, kQGemmFunction, context, descriptor,
                                           fields);
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
