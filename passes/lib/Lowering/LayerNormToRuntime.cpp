//===- LayerNormToRuntime.cpp - kiln.layer_norm_rows to the runtime -------===//
//
// The one place where kiln.layer_norm_rows becomes a call: a bufferized op
// fills the function's kiln_layer_norm_desc (kiln_abi.h) and calls
// kiln_rt_layer_norm(ctx, desc), which the model ABI (compiler/lib/
// ModelAbi.cpp) binds to kiln_runtime_context::layer_norm. Field positions
// come from the struct itself (offsetof), so the compiler and the runtime
// cannot disagree on them.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "RuntimeCalls.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "kiln/Passes/Passes.h"

#include "kiln/kiln_abi.h"

#include <cstddef>

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNLAYERNORMTORUNTIME
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;
using mlir::kiln::lowering::callOperand;

namespace {

constexpr StringLiteral kLayerNormFunction = "kiln_rt_layer_norm";

static_assert(sizeof(kiln_layer_norm_desc) == KILN_LAYER_NORM_DESC_FIELDS * sizeof(int64_t),
              "kiln_layer_norm_desc must stay an array of 64-bit fields");

void lowerLayerNorm(IRRewriter &rewriter, LayerNormRowsOp op, Value context, Value descriptor) {
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  SmallVector<Value> fields(KILN_LAYER_NORM_DESC_FIELDS,
                           arith::ConstantIndexOp::create(rewriter, loc, 0));
  auto set = [&](size_t offset, Value value) { fields[lowering::descriptorWord(offset)] = value; };
#define KILN_FIELD(name) offsetof(kiln_layer_norm_desc, name)
  lowering::setRowsOfXAndY<kiln_layer_norm_desc>(rewriter, loc, op.getX(), op.getInit(), set);
  set(KILN_FIELD(scale), callOperand(rewriter, loc, op.getScale()).address);
  if (Value bias = op.getBias())
    set(KILN_FIELD(bias), callOperand(rewriter, loc, bias).address);
  set(KILN_FIELD(epsilon),
      lowering::doubleWord(rewriter, loc, op.getEpsilon().convertToDouble()));
#undef KILN_FIELD
  lowering::callWithDescriptor(rewriter, loc, kLayerNormFunction, context, descriptor, fields);
  rewriter.eraseOp(op);
}

struct LayerNormToRuntimePass
    : mlir::kiln::impl::KilnLayerNormToRuntimeBase<LayerNormToRuntimePass> {
  void runOnOperation() override {
    if (failed(lowering::lowerBufferizedUkernelCalls<LayerNormRowsOp>(
            getOperation(), kLayerNormFunction, KILN_LAYER_NORM_DESC_FIELDS,
            "kiln.layer_norm_rows", "kiln-layer-norm-to-runtime", lowerLayerNorm, /*f32Only=*/true)))
      signalPassFailure();
  }
};

} // namespace
