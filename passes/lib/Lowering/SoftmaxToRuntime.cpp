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

namespace {

constexpr StringLiteral kSoftmaxFunction = "kiln_rt_softmax";

static_assert(sizeof(kiln_softmax_desc) == KILN_SOFTMAX_DESC_FIELDS * sizeof(int64_t),
              "kiln_softmax_desc must stay an array of 64-bit fields");

void lowerSoftmax(IRRewriter &rewriter, SoftmaxRowsOp op, Value context, Value descriptor) {
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  SmallVector<Value> fields(KILN_SOFTMAX_DESC_FIELDS,
                           arith::ConstantIndexOp::create(rewriter, loc, 0));
  auto set = [&](size_t offset, Value value) { fields[lowering::descriptorWord(offset)] = value; };
#define KILN_FIELD(name) offsetof(kiln_softmax_desc, name)
  SmallVector<Value, 4> sizes =
      lowering::setRowsOfXAndY<kiln_softmax_desc>(rewriter, loc, op.getX(), op.getInit(), set);
  if (Value addend = op.getAddend()) {
    Value failed;
    lowering::setAddend<kiln_softmax_desc>(rewriter, loc, addend, sizes, failed, set);
    if (failed)
      lowering::emitRuntimeCheck(rewriter, loc, failed,
                                 lowering::describeNode(loc, "Softmax") +
                                     lowering::kMaskBroadcastMessage);
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
                                                        "kiln.softmax_rows", "kiln-softmax-to-runtime", lowerSoftmax, /*f32Only=*/true)))
      signalPassFailure();
  }
};

} // namespace
