//===- WarpKernels.cpp - Kernels in which a warp owns a row ---------------===//

#include "WarpKernels.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

namespace mlir::kiln::gpu_warps {

/// A launch of `warpsPerBlock` warps per block over the rows of a buffer
/// whose dims are `leadingShape` and a last dim of `n` (each a constant or,
/// for symbolic dims, an index value of the host code); its body is left
/// to the caller through the returned WarpRow.
WarpRow launchWarpPerRow(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> leadingShape,
                         OpFoldResult n, int64_t warpsPerBlock) {
  auto index = [&](OpBuilder &at, int64_t v) { return arith::ConstantIndexOp::create(at, loc, v); };
  auto value = [&](OpBuilder &at, OpFoldResult size) -> Value {
    if (std::optional<int64_t> known = getConstantIntValue(size))
      return index(at, *known);
    return cast<Value>(size);
  };
  std::optional<int64_t> staticRows = 1;
  for (OpFoldResult dim : leadingShape) {
    std::optional<int64_t> known = getConstantIntValue(dim);
    staticRows = known && staticRows ? std::optional<int64_t>(*staticRows * *known) : std::nullopt;
  }
  // Fewer rows than a block's warps: one block of just those warps.
  int64_t warps = staticRows ? std::max<int64_t>(1, std::min(warpsPerBlock, *staticRows))
                             : warpsPerBlock;
  Value rows = index(b, 1);
  for (OpFoldResult dim : leadingShape)
    rows = arith::MulIOp::create(b, loc, rows, value(b, dim));
  Value blocks = staticRows ? index(b, (*staticRows + warps - 1) / warps)
                            : arith::CeilDivUIOp::create(b, loc, rows, index(b, warps)).getResult();
  Value one = index(b, 1);
  auto launch = gpu::LaunchOp::create(b, loc, blocks, one, one, index(b, warps * kWarpSize), one,
                                      one);
  Block &body = launch.getBody().front();
  OpBuilder k = OpBuilder::atBlockEnd(&body);
  auto terminator = gpu::TerminatorOp::create(k, loc);
  k.setInsertionPoint(terminator);
  Value warpSize = index(k, kWarpSize);
  Value thread = launch.getThreadIds().x;
  Value warp = arith::DivUIOp::create(k, loc, thread, warpSize);
  Value lane = arith::RemUIOp::create(k, loc, thread, warpSize);
  Value row = arith::AddIOp::create(
      k, loc, arith::MulIOp::create(k, loc, launch.getBlockIds().x, index(k, warps)), warp);
  // A whole warp is in or out of range: the guard never splits a warp, so
  // every lane of a running warp meets the shuffles.
  if (!staticRows || *staticRows % warps != 0) {
    Value bound = staticRows ? index(k, *staticRows) : rows;
    Value inRange = arith::CmpIOp::create(k, loc, arith::CmpIPredicate::ult, row, bound);
    auto guard = scf::IfOp::create(k, loc, inRange, /*withElseRegion=*/false);
    k.setInsertionPoint(guard.thenBlock()->getTerminator());
  }
  // The row's indices, the innermost dim fastest.
  SmallVector<Value> leading(leadingShape.size());
  Value rest = row;
  for (int64_t d = int64_t(leadingShape.size()) - 1; d >= 0; --d) {
    Value extent = value(k, leadingShape[d]);
    leading[d] = d == 0 ? rest : arith::RemUIOp::create(k, loc, rest, extent).getResult();
    if (d > 0)
      rest = arith::DivUIOp::create(k, loc, rest, extent);
  }
  return {k, std::move(leading), lane, value(k, n), warpSize};
}

/// `combine` over the warp's 32 values of `value`, in every lane.
Value warpReduce(OpBuilder &b, Location loc, Value value,
                 function_ref<Value(OpBuilder &, Value, Value)> combine) {
  // Shuffles move 32 or 64 bits: narrower integers (an i1 "any") go as
  // an i32 and come back.
  Type type = value.getType();
  bool widened = type.isInteger() && type.getIntOrFloatBitWidth() < 32;
  for (int32_t offset = kWarpSize / 2; offset >= 1; offset /= 2) {
    Value moved = widened ? arith::ExtUIOp::create(b, loc, b.getI32Type(), value) : value;
    Value other = gpu::ShuffleOp::create(b, loc, moved, offset, int32_t(kWarpSize),
                                         gpu::ShuffleMode::XOR)
                      .getShuffleResult();
    if (widened)
      other = arith::TruncIOp::create(b, loc, type, other);
    value = combine(b, value, other);
  }
  return value;
}

LogicalResult checkWarpsPerBlock(Operation *op, StringRef pass, int64_t warpsPerBlock) {
  if (warpsPerBlock >= 1 && warpsPerBlock <= 1024 / kWarpSize)
    return success();
  return op->emitError() << pass << ": warps-per-block must be in [1, 32], not " << warpsPerBlock;
}

} // namespace mlir::kiln::gpu_warps
