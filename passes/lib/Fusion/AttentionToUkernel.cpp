//===- AttentionToUkernel.cpp - Attention's heads as one runtime call -----===//
//
// After kiln-softmax-to-ukernel, attention is MatMul(Q, K^T), softmax_rows
// (with the scale and mask), MatMul(P, V): three runtime calls, the first
// writing each head's scores (sk x sk floats) to memory, the softmax reading
// and writing them, the second product reading them again, and usually a
// Transpose copying the output back to the heads-interleaved layout. The
// runtime's attention (kiln_attention_desc) does a few rows of a head at a
// time with the scores in L1, and writes the output in either layout. This
// pass hands it the three (or four) ops while they are still graph ops.
//
//===----------------------------------------------------------------------===//

#include "../Gpu/AttentionKernelShapes.h"
#include "../Lowering/LoweringUtils.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNATTENTIONTOUKERNEL
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// Whether `value` is an f32 tensor of rank 4.
bool isF32Rank4(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  return type && type.getRank() == 4 && type.getElementType().isF32();
}

/// The single user of `value`, if it has exactly one use.
Operation *soleUser(Value value) {
  return value.hasOneUse() ? *value.getUsers().begin() : nullptr;
}

/// Whether the scores are read by the softmax alone: besides it, only by
/// tensor.dims of a constant dim (symbolic shapes size the softmax's init
/// and check its mask with them), which are rebuilt from q and kt.
bool onlyFeedsSoftmax(Value scores, SoftmaxRowsOp softmax) {
  for (Operation *user : scores.getUsers()) {
    if (user == softmax)
      continue;
    auto dim = dyn_cast<tensor::DimOp>(user);
    if (!dim || !dim.getConstantIndex())
      return false;
  }
  return true;
}

/// The ops one kiln.attention replaces, consumers last.
struct Attention {
  MatMulOp scores;
  SoftmaxRowsOp softmax;
  MatMulOp output;
  TransposeOp interleave; // may be null
};

/// The attention around `softmax`, if it is one.
std::optional<Attention> match(SoftmaxRowsOp softmax) {
  Attention a;
  a.softmax = softmax;
  a.scores = softmax.getX().getDefiningOp<MatMulOp>();
  if (!softmax.hasTensorSemantics() || !a.scores || !onlyFeedsSoftmax(a.scores.getResult(), softmax))
    return std::nullopt;
  a.output = dyn_cast_or_null<MatMulOp>(soleUser(softmax.getResult()));
  if (!a.output || a.output.getLhs() != softmax.getResult() ||
      a.output.getRhs() == softmax.getResult())
    return std::nullopt;
  for (Value v : {a.scores.getLhs(), a.scores.getRhs(), a.scores.getResult(), a.output.getRhs(),
                  a.output.getResult()})
    if (!isF32Rank4(v))
      return std::nullopt;
  auto transpose = dyn_cast_or_null<TransposeOp>(soleUser(a.output.getResult()));
  if (transpose && transpose.getPerm() == ArrayRef<int64_t>{0, 2, 1, 3})
    a.interleave = transpose;
  return a;
}

/// What the op reads for `operand`: the input of a kiln.transpose that
/// makes it (the perm goes into the op, so that a transposed view of the
/// projections' output is read in place instead of copied), else itself.
std::pair<Value, DenseI64ArrayAttr> throughTranspose(Value operand) {
  if (auto transpose = operand.getDefiningOp<TransposeOp>())
    return {transpose.getInput(), transpose.getPermAttr()};
  return {operand, nullptr};
}

/// Dim `d` of q, kt or v as the op reads it (through its transpose's perm).
Value operandDim(OpBuilder &b, Location loc, Value operand, int64_t d) {
  auto [source, perm] = throughTranspose(operand);
  return tensor::DimOp::create(b, loc, source, perm ? perm[d] : d);
}

/// Numpy's broadcast of two dims that agree or are 1: a 1 takes the other
/// (the lowering checks the rest agree when the model runs).
Value broadcastDim(OpBuilder &b, Location loc, Value x, Value y) {
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value isOne = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, x, one);
  return arith::SelectOp::create(b, loc, isOne, y, x);
}

void rewrite(Attention a) {
  Operation *last = a.interleave ? a.interleave.getOperation() : a.output.getOperation();
  OpBuilder b(last);
  auto [qSource, qPerm] = throughTranspose(a.scores.getLhs());
  auto [ktSource, ktPerm] = throughTranspose(a.scores.getRhs());
  auto [vSource, vPerm] = throughTranspose(a.output.getRhs());
  Value q = a.scores.getLhs(), kt = a.scores.getRhs(), v = a.output.getRhs();
  auto resultType = cast<RankedTensorType>(last->getResult(0).getType());
  SmallVector<int64_t, 4> positions = a.interleave ? SmallVector<int64_t, 4>{0, 2, 1, 3}
                                                   : SmallVector<int64_t, 4>{0, 1, 2, 3};
  Location loc = b.getFusedLoc({a.scores.getLoc(), a.softmax.getLoc(), a.output.getLoc()});
  if (a.interleave)
    loc = b.getFusedLoc({loc, a.interleave.getLoc()});

  // The result's B, H, Sq, Dv: the broadcast batch dims of q, kt and v,
  // q's rows, v's columns (read through the perms: the transposes go).
  SmallVector<Value, 4> sizes(4);
  for (int64_t d = 0; d < 4; ++d) {
    if (!resultType.isDynamicDim(positions[d]))
      continue;
    if (d >= 2) {
      sizes[d] = d == 2 ? operandDim(b, loc, q, 2) : operandDim(b, loc, v, 3);
      continue;
    }
    Value qDim = operandDim(b, loc, q, d), ktDim = operandDim(b, loc, kt, d);
    Value qkDim = broadcastDim(b, loc, qDim, ktDim);
    sizes[d] = broadcastDim(b, loc, qkDim, operandDim(b, loc, v, d));
  }
  SmallVector<Value> dynamic;
  for (int64_t p = 0; p < 4; ++p)
    if (resultType.isDynamicDim(p))
      for (int64_t d = 0; d < 4; ++d)
        if (positions[d] == p)
          dynamic.push_back(sizes[d]);
  Value init = lowering::emptyWithDims(b, loc, resultType, dynamic);
  auto attention = AttentionOp::create(b, loc, resultType, qSource, ktSource, vSource,
                                       a.softmax.getAddend(), init, a.softmax.getScaleAttr(),
                                       a.interleave ? b.getUnitAttr() : UnitAttr(), qPerm, ktPerm,
                                       vPerm, /*bf16_inputs=*/UnitAttr());
  last->getResult(0).replaceAllUsesWith(attention.getResult());
  // The scores' sizes that other ops asked for: the broadcast batch dims
  // of q and kt, q's rows, kt's columns.
  for (Operation *user : llvm::make_early_inc_range(a.scores.getResult().getUsers())) {
    auto dim = dyn_cast<tensor::DimOp>(user);
    if (!dim)
      continue;
    OpBuilder at(dim);
    Location dimLoc = dim.getLoc();
    int64_t d = *dim.getConstantIndex();
    Value size;
    if (d >= 2) {
      size = d == 2 ? operandDim(at, dimLoc, q, 2) : operandDim(at, dimLoc, kt, 3);
    } else {
      Value qDim = operandDim(at, dimLoc, q, d), ktDim = operandDim(at, dimLoc, kt, d);
      size = broadcastDim(at, dimLoc, qDim, ktDim);
    }
    dim.replaceAllUsesWith(size);
    dim.erase();
  }
  // Consumers first: each fed only the next.
  if (a.interleave)
    a.interleave.erase();
  a.output.erase();
  Operation *softmaxInit = a.softmax.getInit().getDefiningOp<tensor::EmptyOp>();
  a.softmax.erase();
  if (softmaxInit && softmaxInit->use_empty())
    softmaxInit->erase();
  a.scores.erase();
  // The transposes read in place now, unless something else still reads them.
  llvm::SmallSetVector<Operation *, 3> transposes;
  for (Value operand : {q, kt, v})
    if (auto transpose = operand.getDefiningOp<TransposeOp>())
      transposes.insert(transpose);
  for (Operation *transpose : transposes)
    if (transpose->use_empty())
      transpose->erase();
}

/// Whether the GPU's attention kernel (kiln-gpu-attention-kernels) runs
/// `a`: head sizes it takes (AttentionKernelShapes.h); its batch, head,
/// query and key counts and the mask's dims may be symbolic.
bool runsOnGpu(Attention a) {
  auto shapeOf = [](Value v) { return cast<RankedTensorType>(v.getType()); };
  return gpu_attention::headSizeProblem(shapeOf(a.scores.getLhs()).getDimSize(3),
                                        shapeOf(a.output.getRhs()).getDimSize(3),
                                        shapeOf(a.scores.getRhs()).getDimSize(3))
      .empty();
}

struct AttentionToUkernelPass
    : mlir::kiln::impl::KilnAttentionToUkernelBase<AttentionToUkernelPass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<Attention> found;
    getOperation().walk([&](SoftmaxRowsOp op) {
      if (std::optional<Attention> a = match(op); a && (!gpu || runsOnGpu(*a)))
        found.push_back(*a);
    });
    for (Attention &a : found)
      rewrite(a);
  }
};

} // namespace
