//===- AttentionToRuntime.cpp - kiln.attention to the runtime's attention -===//
//
// The one place where kiln.attention becomes a call: a bufferized op fills
// the function's kiln_attention_desc (kiln_abi.h) and calls
// kiln_rt_attention(ctx, desc), which the model ABI (compiler/lib/
// ModelAbi.cpp) binds to kiln_runtime_context::attention. Field positions
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
#define GEN_PASS_DEF_KILNATTENTIONTORUNTIME
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;
using mlir::kiln::lowering::CallOperand;
using mlir::kiln::lowering::callOperand;

namespace {

constexpr StringLiteral kAttentionFunction = "kiln_rt_attention";

static_assert(sizeof(kiln_attention_desc) == KILN_ATTENTION_DESC_FIELDS * sizeof(int64_t),
              "kiln_attention_desc must stay an array of 64-bit fields");

void lowerAttention(IRRewriter &rewriter, AttentionOp op, Value context, Value descriptor) {
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  lowering::IndexMath m{rewriter, loc};
  Value zero = m.c(0);
  SmallVector<Value> fields(KILN_ATTENTION_DESC_FIELDS, zero);
  auto set = [&](size_t offset, Value value) { fields[lowering::descriptorWord(offset)] = value; };
#define KILN_FIELD(name) offsetof(kiln_attention_desc, name)
  Value q = op.getQ(), kt = op.getKt(), v = op.getV(), out = op.getInit();
  auto dimOf = [&](Value buffer, int64_t d) { return lowering::bufferDim(rewriter, loc, buffer, d); };
  SmallVector<int64_t, 4> positions = op.outputDims();
  // The result's B, H, Sq, Dv and the keys.
  Value batch[2] = {dimOf(out, positions[0]), dimOf(out, positions[1])};
  // Each operand through its perm: dim i of the op's view is dim perm[i].
  SmallVector<int64_t, 4> qPerm = op.qOrder(), ktPerm = op.ktOrder(), vPerm = op.vOrder();
  Value sq = dimOf(q, qPerm[2]), d = dimOf(q, qPerm[3]), sk = dimOf(kt, ktPerm[3]),
        dv = dimOf(v, vPerm[3]);
  set(KILN_FIELD(sq), sq);
  set(KILN_FIELD(sk), sk);
  set(KILN_FIELD(d), d);
  set(KILN_FIELD(dv), dv);
  set(KILN_FIELD(batch[0]), batch[0]);
  set(KILN_FIELD(batch[1]), batch[1]);

  // The products' inner dims, where the types leave them open.
  Value failed;
  lowering::requireEqualAtRunTime(rewriter, loc, d, dimOf(kt, ktPerm[2]), failed);
  lowering::requireEqualAtRunTime(rewriter, loc, sk, dimOf(v, vPerm[2]), failed);

  struct Operand {
    Value buffer;
    ArrayRef<int64_t> perm;
    size_t address, rowStride, colStride, batchStride;
  };
  for (const Operand &o : {Operand{q, qPerm, KILN_FIELD(q), KILN_FIELD(q_rs), KILN_FIELD(q_cs),
                                   KILN_FIELD(batch_stride_q)},
                           Operand{kt, ktPerm, KILN_FIELD(kt), KILN_FIELD(kt_rs),
                                   KILN_FIELD(kt_cs), KILN_FIELD(batch_stride_kt)},
                           Operand{v, vPerm, KILN_FIELD(v), KILN_FIELD(v_rs), KILN_FIELD(v_cs),
                                   KILN_FIELD(batch_stride_v)}}) {
    CallOperand call = callOperand(rewriter, loc, o.buffer);
    ArrayRef<int64_t> perm = o.perm;
    set(o.address, call.address);
    set(o.rowStride, call.strides[perm[2]]);
    set(o.colStride, call.strides[perm[3]]);
    for (int64_t b = 0; b < 2; ++b)
      set(o.batchStride + b * sizeof(int64_t),
          lowering::broadcastStride(rewriter, loc, o.buffer, call, perm[b], batch[b], failed));
  }
  CallOperand y = callOperand(rewriter, loc, out);
  set(KILN_FIELD(out), y.address);
  set(KILN_FIELD(out_rs), y.strides[positions[2]]);
  set(KILN_FIELD(batch_stride_out[0]), y.strides[positions[0]]);
  set(KILN_FIELD(batch_stride_out[1]), y.strides[positions[1]]);

  if (Value addend = op.getAddend()) // lined up with the scores (B, H, Sq, Sk)
    lowering::setAddend<kiln_attention_desc>(rewriter, loc, addend, {sk, sq, batch[1], batch[0]},
                                             failed, set);
  if (failed)
    lowering::emitRuntimeCheck(rewriter, loc, failed,
                               lowering::describeNode(loc, "MatMul") +
                                   lowering::kAttentionOperandsMessage);
  set(KILN_FIELD(products_type),
      m.c(op.getBf16Inputs() ? KILN_DTYPE_BFLOAT16 : KILN_DTYPE_FLOAT32));
  set(KILN_FIELD(scale), lowering::doubleWord(rewriter, loc, op.getScale().convertToDouble()));
#undef KILN_FIELD
  lowering::callWithDescriptor(rewriter, loc, kAttentionFunction, context, descriptor, fields);
  rewriter.eraseOp(op);
}

struct AttentionToRuntimePass
    : mlir::kiln::impl::KilnAttentionToRuntimeBase<AttentionToRuntimePass> {
  void runOnOperation() override {
    if (failed(lowering::lowerBufferizedUkernelCalls<AttentionOp>(
            getOperation(), kAttentionFunction, KILN_ATTENTION_DESC_FIELDS, "kiln.attention",
            "kiln-attention-to-runtime", lowerAttention, /*f32Only=*/true)))
      signalPassFailure();
  }
};

} // namespace
