//===- SoftmaxToUkernel.cpp - Attention's softmax as one runtime call -----===//
//
// Attention computes softmax(QK^T * scale + mask) over the last axis. As
// linalg loops that is five passes over the scores (scale and mask, max,
// exp, sum, quotient), three of them writing; the runtime's row softmax
// (kiln_softmax_desc) does it in one read and one write of each row, the
// rows staying in L1 in between. This pass hands it the whole expression
// while it is still three graph ops, before the lowering splits them.
//
//===----------------------------------------------------------------------===//

#include "../Lowering/LoweringUtils.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"

#include <cmath>

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNSOFTMAXTOUKERNEL
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// The one f32 a constant holds (a splat of any shape), if it is one.
std::optional<float> splatF32Of(Value value) {
  if (!getElementTypeOrSelf(value.getType()).isF32())
    return std::nullopt;
  std::optional<double> splat = lowering::splatFloatOf(value);
  return splat ? std::optional<float>(float(*splat)) : std::nullopt;
}

/// The one bool a constant holds (a splat of any shape, or an Expand of
/// one), if it is one.
std::optional<bool> splatBoolOf(Value value) {
  if (auto expand = value.getDefiningOp<ExpandOp>())
    return splatBoolOf(expand.getInput());
  DenseElementsAttr dense;
  if (!matchPattern(value, m_Constant(&dense)) || !dense.isSplat() ||
      !dense.getElementType().isInteger(1))
    return std::nullopt;
  return dense.getSplatValue<bool>();
}

/// Whether every element of `value` is a zero by construction: a splat
/// constant 0, an Expand of one, or a Where whose condition is a constant
/// choosing one (ViT's dynamo export: its all-true mask becomes
/// where(expand(true), 0, -inf) of the scores' batch).
bool isZeroEverywhere(Value value) {
  if (std::optional<float> splat = splatF32Of(value))
    return *splat == 0.0f;
  if (auto expand = value.getDefiningOp<ExpandOp>())
    return isZeroEverywhere(expand.getInput());
  if (auto where = value.getDefiningOp<WhereOp>())
    if (std::optional<bool> condition = splatBoolOf(where.getCondition()))
      return isZeroEverywhere(*condition ? where.getX() : where.getY());
  return false;
}

/// What the softmax computes on: x, times scale, plus addend (may be
/// null), and the ops that computed it, which the ukernel replaces.
struct SoftmaxInput {
  Value x, addend;
  float scale = 1.0f;
  Operation *add = nullptr, *scaling = nullptr;
};

/// (x, scale) when `value` is x * scale computed for `user` alone: a
/// multiplication by a scalar constant, or a division by a power of two
/// (whose 1/c is exact, so x/c == x * (1/c) and nothing rounds otherwise).
std::optional<std::pair<Value, float>> scaled(Value value, Operation *user) {
  if (!lowering::onlyFeeds(value, user))
    return std::nullopt;
  Type type = value.getType();
  if (auto mul = value.getDefiningOp<MulOp>()) {
    for (auto [x, c] : {std::pair{mul.getLhs(), mul.getRhs()}, {mul.getRhs(), mul.getLhs()}})
      if (x.getType() == type)
        if (std::optional<float> scale = splatF32Of(c))
          return std::pair{x, *scale};
  } else if (auto div = value.getDefiningOp<DivOp>(); div && div.getLhs().getType() == type) {
    std::optional<float> divisor = splatF32Of(div.getRhs());
    int exponent;
    if (divisor && std::isnormal(*divisor) && std::isnormal(1.0f / *divisor) &&
        std::frexp(std::fabs(*divisor), &exponent) == 0.5f)
      return std::pair{div.getLhs(), 1.0f / *divisor};
  }
  return std::nullopt;
}

/// The softmax's input taken apart: an add of a mask (the operand that is
/// not the scores, which have the softmax's type) and a scaling of the
/// scores, each folded only when the softmax is all that reads it.
SoftmaxInput takeApart(SoftmaxOp softmax) {
  SoftmaxInput in{softmax.getInput()};
  Type type = in.x.getType();
  Operation *user = softmax;
  if (auto add = in.x.getDefiningOp<AddOp>(); add && lowering::onlyFeeds(in.x, softmax)) {
    // The scores have the softmax's type; when both operands do, the one
    // that is scaled (the other is a full mask).
    std::pair<Value, Value> pairs[] = {{add.getLhs(), add.getRhs()}, {add.getRhs(), add.getLhs()}};
    std::optional<std::pair<Value, Value>> chosen;
    for (auto [scores, mask] : pairs)
      if (scores.getType() == type && (!chosen || (!scaled(chosen->first, add) && scaled(scores, add))))
        chosen = std::pair{scores, mask};
    if (chosen) {
      std::tie(in.x, in.addend) = *chosen;
      in.add = add;
      user = add;
    }
  }
  if (auto scaling = scaled(in.x, user)) {
    in.scaling = in.x.getDefiningOp();
    std::tie(in.x, in.scale) = *scaling;
  }
  return in;
}

void rewrite(SoftmaxOp softmax, bool maskBroadcastInKernel) {
  OpBuilder b(softmax);
  Location loc = softmax.getLoc();
  auto type = cast<RankedTensorType>(softmax.getType());
  SoftmaxInput in = takeApart(softmax);
  SmallVector<Location> locations{loc};
  for (Operation *op : {in.add, in.scaling})
    if (op)
      locations.push_back(op->getLoc());
  Value addend = in.addend;
  if (addend && isZeroEverywhere(addend)) {
    // Adding zeros changes no score (-0 + 0 is +0, which exp does not
    // tell from -0): the addend goes, and with it the kernel that fills
    // it where its shape is symbolic. Its shape is checked all the same,
    // as the Add's lowering would.
    lowering::broadcastAtRunTime(b, in.add->getLoc(), "Add", ValueRange{in.x, addend}, type,
                                 /*firstIsOutputSize=*/true,
                                 lowering::BroadcastCopies::ChecksOnly);
    addend = nullptr;
  }
  if (addend && !maskBroadcastInKernel) {
    // As the Add's own lowering: a `?` dim of the mask that is 1 at run
    // time where the scores' is not is copied out; other mismatches fail
    // the run, naming the Add.
    lowering::RunTimeBroadcast broadcast = lowering::broadcastAtRunTime(
        b, in.add->getLoc(), "Add", ValueRange{in.x, addend}, type, /*firstIsOutputSize=*/true,
        lowering::BroadcastCopies::WhenBroadcasting);
    addend = broadcast.operands[1];
  }
  SmallVector<Value> dims;
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (type.isDynamicDim(d))
      dims.push_back(tensor::DimOp::create(b, loc, in.x, d));
  Value init = lowering::emptyWithDims(b, loc, type, dims);
  auto rows = SoftmaxRowsOp::create(b, b.getFusedLoc(locations), type, in.x, addend, init,
                                    b.getF32FloatAttr(in.scale));
  softmax.replaceAllUsesWith(rows.getResult());
  // Consumers first: each folded op fed only the next.
  softmax.erase();
  for (Operation *op : {in.add, in.scaling})
    if (op)
      op->erase();
}

struct SoftmaxToUkernelPass
    : mlir::kiln::impl::KilnSoftmaxToUkernelBase<SoftmaxToUkernelPass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<SoftmaxOp> softmaxes;
    getOperation().walk([&](SoftmaxOp op) {
      auto type = cast<RankedTensorType>(op.getType());
      if (!op.getLog() && type.getElementType().isF32() && type.getRank() >= 1 &&
          type.getRank() <= SoftmaxRowsOp::kMaxRank && op.getAxis() == int64_t(type.getRank()) - 1)
        softmaxes.push_back(op);
    });
    for (SoftmaxOp op : softmaxes)
      rewrite(op, maskBroadcastInKernel);
  }
};

} // namespace
