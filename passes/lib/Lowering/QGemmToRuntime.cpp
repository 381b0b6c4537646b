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
using mlir::kiln::lowering::kRuntimeContextAttr;
using mlir::kiln::lowering::runtimeContextArgument;

namespace {

constexpr StringLiteral kQGemmFunction = "kiln_rt_qgemm";

/// The 64-bit word of kiln_qgemm_desc at byte offset `offset`.
constexpr int64_t word(size_t offset) { return int64_t(offset / sizeof(int64_t)); }
static_assert(sizeof(kiln_qgemm_desc) == KILN_QGEMM_DESC_FIELDS * sizeof(int64_t),
              "kiln_qgemm_desc must stay an array of 64-bit fields");

/// A memref as the runtime sees it: the byte address of its first element
/// and its strides in elements.
struct CallOperand {
  Value address;
  SmallVector<Value> strides;
};

CallOperand callOperand(OpBuilder &b, Location loc, Value buffer) {
  auto type = cast<MemRefType>(buffer.getType());
  auto meta = memref::ExtractStridedMetadataOp::create(b, loc, buffer);
  Value pointer = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, buffer);
  int64_t bytes = type.getElementTypeBitWidth() / 8;
  Value offset = arith::MulIOp::create(b, loc, meta.getOffset(),
                                       arith::ConstantIndexOp::create(b, loc, bytes));
  return {arith::AddIOp::create(b, loc, pointer, offset),
          SmallVector<Value>(meta.getStrides().begin(), meta.getStrides().end())};
}

void lowerQGemm(IRRewriter &rewriter, QGemmOp op, Value context, Value descriptor) {
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  auto constant = [&](int64_t v) -> Value { return arith::ConstantIndexOp::create(rewriter, loc, v); };
  Value zero = constant(0), one = constant(1);
  SmallVector<Value> fields(KILN_QGEMM_DESC_FIELDS, zero);
  auto set = [&](size_t offset, Value value) { fields[word(offset)] = value; };
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
  for (auto [i, value] : llvm::enumerate(fields))
    memref::StoreOp::create(rewriter, loc, value, descriptor, constant(int64_t(i)));
  Value address = memref::ExtractAlignedPointerAsIndexOp::create(rewriter, loc, descriptor);
  func::CallOp::create(rewriter, loc, kQGemmFunction, TypeRange{}, ValueRange{context, address});
  rewriter.eraseOp(op);
}

struct QGemmToRuntimePass : mlir::kiln::impl::KilnQGemmToRuntimeBase<QGemmToRuntimePass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    IRRewriter rewriter(&getContext());
    bool called = false;
    WalkResult result = module.walk([&](func::FuncOp func) {
      SmallVector<QGemmOp> ops;
      func.walk([&](QGemmOp op) { ops.push_back(op); });
      if (ops.empty())
        return WalkResult::advance();
      Value context = runtimeContextArgument(func);
      if (!context) {
        ops.front().emitError("kiln.qgemm needs the runtime, but function '")
            << func.getSymName() << "' has no '" << kRuntimeContextAttr << "' argument";
        return WalkResult::interrupt();
      }
      // One descriptor per function: calls run one after another.
      rewriter.setInsertionPointToStart(&func.getBody().front());
      Value descriptor = memref::AllocaOp::create(
          rewriter, func.getLoc(),
          MemRefType::get({KILN_QGEMM_DESC_FIELDS}, rewriter.getIndexType()));
      for (QGemmOp op : ops) {
        if (op.hasTensorSemantics()) {
          op.emitError("kiln.qgemm must be bufferized before kiln-qgemm-to-runtime");
          return WalkResult::interrupt();
        }
        lowerQGemm(rewriter, op, context, descriptor);
      }
      called = true;
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      return signalPassFailure();
    if (called)
      mlir::kiln::lowering::declareDescriptorCall(module, kQGemmFunction);
  }
};

} // namespace
