//===- SoftmaxToRuntime.cpp - kiln.softmax_rows to the runtime's softmax --===//
//
// The one place where kiln.softmax_rows becomes a call: a bufferized op
// fills the function's kiln_softmax_desc (kiln_abi.h) and calls
// kiln_rt_softmax(ctx, desc), which the model ABI (compiler/lib/ModelAbi.cpp)
// binds to kiln_runtime_context::softmax. Field positions come from the
// struct itself (offsetof), so the compiler and the runtime cannot disagree
// on them.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "RuntimeCalls.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "kiln/Passes/Passes.h"

#include "kiln/kiln_abi.h"

#include <cstddef>

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNSOFTMAXTORUNTIME
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;
using mlir::kiln::lowering::CallOperand;
using mlir::kiln::lowering::callOperand;

namespace {

constexpr StringLiteral kSoftmaxFunction = "kiln_rt_softmax";

static_assert(sizeof(kiln_softmax_desc) == KILN_SOFTMAX_DESC_FIELDS * sizeof(int64_t),
              "kiln_softmax_desc must stay an array of 64-bit fields");

/// The dims of x the descriptor names, innermost first: n, m, batch[1],
/// batch[0]; a dim x does not have (rank < 4) is -1: size 1, stride 0.
int64_t xDim(int64_t rank, int64_t fromLast) { return rank - 1 - fromLast; }

void lowerSoftmax(IRRewriter &rewriter, SoftmaxRowsOp op, Value context, Value descriptor) {
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  lowering::IndexMath m{rewriter, loc};
  Value zero = m.c(0), one = m.c(1);
  SmallVector<Value> fields(KILN_SOFTMAX_DESC_FIELDS, zero);
  auto set = [&](size_t offset, Value value) { fields[lowering::descriptorWord(offset)] = value; };
#define KILN_FIELD(name) offsetof(kiln_softmax_desc, name)
  auto xType = cast<MemRefType>(op.getX().getType());
  const int64_t rank = xType.getRank();
  CallOperand x = callOperand(rewriter, loc, op.getX());
  CallOperand y = callOperand(rewriter, loc, op.getInit());
  // x's sizes innermost first (n, m, batch[1], batch[0]), 1 where x has
  // no such dim; each made once, for its descriptor word and the checks.
  SmallVector<Value, 4> sizes;
  for (int64_t fromLast = 0; fromLast < SoftmaxRowsOp::kMaxRank; ++fromLast) {
    int64_t d = xDim(rank, fromLast);
    sizes.push_back(d < 0                    ? one
                    : xType.isDynamicDim(d) ? memref::DimOp::create(rewriter, loc, op.getX(), d).getResult()
                                            : m.c(xType.getDimSize(d)));
  }
  auto size = [&](int64_t fromLast) { return sizes[fromLast]; };
  auto strideOf = [&](const CallOperand &operand, int64_t fromLast) {
    int64_t d = xDim(rank, fromLast);
    return d < 0 ? zero : operand.strides[d];
  };
  set(KILN_FIELD(n), size(0));
  set(KILN_FIELD(m), size(1));
  set(KILN_FIELD(batch[1]), size(2));
  set(KILN_FIELD(batch[0]), size(3));
  set(KILN_FIELD(x), x.address);
  set(KILN_FIELD(x_rs), strideOf(x, 1));
  set(KILN_FIELD(batch_stride_x[1]), strideOf(x, 2));
  set(KILN_FIELD(batch_stride_x[0]), strideOf(x, 3));
  set(KILN_FIELD(y), y.address);
  set(KILN_FIELD(y_rs), strideOf(y, 1));
  set(KILN_FIELD(batch_stride_y[1]), strideOf(y, 2));
  set(KILN_FIELD(batch_stride_y[0]), strideOf(y, 3));

  if (Value addend = op.getAddend()) {
    auto type = cast<MemRefType>(addend.getType());
    CallOperand a = callOperand(rewriter, loc, addend);
    Value failed;
    // The addend's stride along x's dim `fromLast`: 0 where it has no such
    // dim or it is 1 (broadcast), checked to be x's size where it is `?`.
    auto addendStride = [&](int64_t fromLast) -> Value {
      return lowering::broadcastStride(rewriter, loc, addend, a, type.getRank() - 1 - fromLast,
                                       size(fromLast), failed);
    };
    set(KILN_FIELD(addend), a.address);
    set(KILN_FIELD(addend_cs), addendStride(0));
    set(KILN_FIELD(addend_rs), addendStride(1));
    set(KILN_FIELD(batch_stride_addend[1]), addendStride(2));
    set(KILN_FIELD(batch_stride_addend[0]), addendStride(3));
    if (failed)
      lowering::emitRuntimeCheck(rewriter, loc, failed,
                                 lowering::describeNode(loc, "Softmax") +
                                     ": the mask's shape does not broadcast to the scores' (a dim "
                                     "is neither 1 nor theirs at run time)");
  }
  set(KILN_FIELD(scale), lowering::doubleWord(rewriter, loc, op.getScale().convertToDouble()));
#undef KILN_FIELD
  lowering::callWithDescriptor(rewriter, loc, kSoftmaxFunction, context, descriptor, fields);
  rewriter.eraseOp(op);
}

struct SoftmaxToRuntimePass
    : mlir::kiln::impl::KilnSoftmaxToRuntimeBase<SoftmaxToRuntimePass> {
  void runOnOperation() override {
    if (failed(lowering::lowerBufferizedUkernelCalls<SoftmaxRowsOp>(getOperation(), kSoftmaxFunction, KILN_SOFTMAX_DESC_FIELDS,
                                                        "kiln.softmax_rows", "kiln-softmax-to-runtime", lowerSoftmax)))
      signalPassFailure();
  }
};

} // namespace
