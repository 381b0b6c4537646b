//===- FGemmToRuntime.cpp - kiln.fgemm to the runtime's float GEMM --------===//
//
// The one place where kiln.fgemm becomes a call: the op fills the
// function's kiln_gemm_desc (kiln_abi.h) and calls kiln_rt_gemm(ctx, desc),
// which the model ABI (compiler/lib/ModelAbi.cpp) binds to
// kiln_runtime_context::gemm. Field positions come from the struct itself
// (offsetof), so the compiler and the runtime cannot disagree on them; the
// op's indexing maps say which stride of each operand is which field.
//
//===----------------------------------------------------------------------===//

#include "RuntimeCalls.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "kiln/Passes/Passes.h"

#include "kiln/kiln_abi.h"

#include <cstddef>

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNFGEMMTORUNTIME
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;
using mlir::kiln::lowering::CallOperand;
using mlir::kiln::lowering::callOperand;

namespace {

constexpr StringLiteral kGemmFunction = "kiln_rt_gemm";

static_assert(sizeof(kiln_gemm_desc) == KILN_GEMM_DESC_FIELDS * sizeof(int64_t),
              "kiln_gemm_desc must stay an array of 64-bit fields");

/// The kiln_dtype of a 16-bit float element (the verifier allows no other).
int64_t dtypeOf(Type element) {
  return element.isF16() ? KILN_DTYPE_FLOAT16 : KILN_DTYPE_BFLOAT16;
}

/// One operand of the op as the call sees it: its address and, per loop of
/// the op, the stride that loop moves it by (0 where it does not use it).
struct LoopStrides {
  Value address;
  SmallVector<Value, FGemmOp::kNumLoops> byLoop;
};

LoopStrides loopStrides(OpBuilder &b, Location loc, Value buffer, AffineMap map, Value zero) {
  CallOperand operand = callOperand(b, loc, buffer);
  LoopStrides result{operand.address, SmallVector<Value, FGemmOp::kNumLoops>(FGemmOp::kNumLoops, zero)};
  for (auto [dim, e] : llvm::enumerate(map.getResults()))
    if (auto d = dyn_cast<AffineDimExpr>(e))
      result.byLoop[d.getPosition()] = operand.strides[dim];
  return result;
}

/// The size of each loop: the dim of the first operand (init, a, then a
/// strided b) that uses it; 1 for a loop no operand uses. k of a prepacked b
/// is its dim 1.
SmallVector<Value> loopSizes(OpBuilder &b, Location loc, FGemmOp op, Value one) {
  SmallVector<Value> sizes(FGemmOp::kNumLoops);
  SmallVector<unsigned> order = {op.getInitOperandNumber(), 0};
  if (!op.getPanelWidth())
    order.push_back(1);
  for (unsigned operand : order)
    for (auto [dim, e] : llvm::enumerate(op.getIndexingMap(operand).getResults()))
      if (auto d = dyn_cast<AffineDimExpr>(e); d && !sizes[d.getPosition()])
        sizes[d.getPosition()] = memref::DimOp::create(b, loc, op->getOperand(operand), dim);
  if (!sizes[FGemmOp::kK])
    sizes[FGemmOp::kK] = memref::DimOp::create(b, loc, op.getB(), 1);
  for (Value &size : sizes)
    if (!size)
      size = one;
  return sizes;
}

void lowerFGemm(IRRewriter &rewriter, FGemmOp op, Value context, Value descriptor) {
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  auto constant = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(rewriter, loc, v);
  };
  Value zero = constant(0), one = constant(1);
  auto strides = [&](Value buffer, unsigned operand) {
    return loopStrides(rewriter, loc, buffer, op.getIndexingMap(operand), zero);
  };
  SmallVector<Value> sizes = loopSizes(rewriter, loc, op, one);
  LoopStrides a = strides(op.getA(), 0), b = strides(op.getB(), 1);
  LoopStrides c = strides(op.getInit(), op.getInitOperandNumber());
  const int64_t panel = op.getPanelWidth();

  SmallVector<Value> fields(KILN_GEMM_DESC_FIELDS, zero);
  auto set = [&](size_t offset, Value value) { fields[lowering::descriptorWord(offset)] = value; };
#define KILN_FIELD(name) offsetof(kiln_gemm_desc, name)
  set(KILN_FIELD(m), sizes[FGemmOp::kM]);
  set(KILN_FIELD(n), sizes[FGemmOp::kN]);
  set(KILN_FIELD(k), sizes[FGemmOp::kK]);
  set(KILN_FIELD(a), a.address);
  set(KILN_FIELD(a_rs), a.byLoop[FGemmOp::kM]);
  set(KILN_FIELD(a_cs), a.byLoop[FGemmOp::kK]);
  set(KILN_FIELD(b), b.address);
  if (!panel) {
    set(KILN_FIELD(b_rs), b.byLoop[FGemmOp::kK]);
    set(KILN_FIELD(b_cs), b.byLoop[FGemmOp::kN]);
  }
  set(KILN_FIELD(b_panel), constant(panel));
  // A b prepacked as bf16 pairs (kiln-pack-gemm-weights-bf16; the verifier
  // checked its map and shape), or an fp32 b rounded as it is read.
  // 16-bit A and B (half storage, the GPU's): a_type and b_type both say
  // so. 16-bit C, bias and residual: c_type.
  Type aElement = cast<MemRefType>(op.getA().getType()).getElementType();
  if (!aElement.isF32()) {
    set(KILN_FIELD(a_type), constant(dtypeOf(aElement)));
    set(KILN_FIELD(b_type), constant(dtypeOf(aElement)));
  } else if (op.getBf16Inputs() ||
             cast<MemRefType>(op.getB().getType()).getElementType().isBF16()) {
    set(KILN_FIELD(b_type), constant(KILN_DTYPE_BFLOAT16));
  }
  if (Type cElement = cast<MemRefType>(op.getInit().getType()).getElementType(); !cElement.isF32())
    set(KILN_FIELD(c_type), constant(dtypeOf(cElement)));
  set(KILN_FIELD(c), c.address);
  // Without an m loop C has one row, and any ldc will do.
  set(KILN_FIELD(ldc), c.byLoop[FGemmOp::kM] == zero ? one : c.byLoop[FGemmOp::kM]);
  set(KILN_FIELD(accumulate), constant(op.getAccumulate() ? 1 : 0));
  set(KILN_FIELD(activation), constant(int64_t(op.getActivation())));
  if (std::optional<unsigned> bias = op.getBiasOperandNumber())
    set(KILN_FIELD(bias), strides(op.getBias(), *bias).address);
  std::optional<LoopStrides> residual;
  if (std::optional<unsigned> number = op.getResidualOperandNumber()) {
    residual = strides(op.getResidual(), *number);
    set(KILN_FIELD(residual), residual->address);
    set(KILN_FIELD(residual_rs), residual->byLoop[FGemmOp::kM]);
  }
  for (unsigned i = 0; i < 2; ++i) {
    unsigned loop = FGemmOp::kBatch0 + i;
    set(KILN_FIELD(batch[0]) + i * sizeof(int64_t), sizes[loop]);
    set(KILN_FIELD(batch_stride_a[0]) + i * sizeof(int64_t), a.byLoop[loop]);
    set(KILN_FIELD(batch_stride_b[0]) + i * sizeof(int64_t), b.byLoop[loop]);
    set(KILN_FIELD(batch_stride_c[0]) + i * sizeof(int64_t), c.byLoop[loop]);
    if (residual)
      set(KILN_FIELD(batch_stride_residual[0]) + i * sizeof(int64_t), residual->byLoop[loop]);
  }
#undef KILN_FIELD
  lowering::callWithDescriptor(rewriter, loc, kGemmFunction, context, descriptor, fields);
  rewriter.eraseOp(op);
}

struct FGemmToRuntimePass : mlir::kiln::impl::KilnFGemmToRuntimeBase<FGemmToRuntimePass> {
  void runOnOperation() override {
    auto always = [](FGemmOp) { return success(); }; // memrefs only, verified
    if (failed(lowering::lowerUkernelCalls<FGemmOp>(getOperation(), kGemmFunction,
                                                    KILN_GEMM_DESC_FIELDS, "kiln.fgemm", always,
                                                    lowerFGemm)))
      signalPassFailure();
  }
};

} // namespace
