//===- WarpKernels.h - Kernels in which a warp owns a row -------*- C++ -*-===//
//
// The launch and the cross-lane reduction that kiln-gpu-row-kernels and
// kiln-gpu-warp-reductions share: blocks of whole warps, one row (or one
// output element) per warp, the 32 lanes striding it together, and a
// butterfly of shuffles that leaves the warp's total in every lane.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_PASSES_GPU_WARPKERNELS_H
#define KILN_PASSES_GPU_WARPKERNELS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpDefinition.h"
#include "llvm/ADT/STLFunctionalExtras.h"

namespace mlir::kiln::gpu_warps {

constexpr int64_t kWarpSize = 32;

/// Inside a launch of one warp per row: where the row's code goes and which
/// row it is.
struct WarpRow {
  OpBuilder b;                 // inside the row's guard
  SmallVector<Value> leading;  // the row's indices in the dims of `leadingShape`
  Value lane;                  // 0 to 31
  Value n;                     // the row's length (index)
  Value stride;                // kWarpSize (index)
};

/// A launch of `warpsPerBlock` warps per block (fewer when there are fewer
/// rows) over rows indexed by `leadingShape`, each `n` long (constants, or
/// index values for symbolic dims); a warp out of range skips the body as
/// a whole, so every lane of a running warp meets the shuffles.
WarpRow launchWarpPerRow(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> leadingShape,
                         OpFoldResult n, int64_t warpsPerBlock);

/// How many of a warp's `n` elements each lane takes when they split evenly
/// into at most 32 a lane (lane, lane + 32, ...: then held in registers,
/// every load issued before the first use), else 0 (a loop per lane).
inline int64_t evenShareInRegisters(int64_t n) {
  constexpr int64_t kMaxPerLane = 32;
  return n % kWarpSize == 0 && n / kWarpSize <= kMaxPerLane ? n / kWarpSize : 0;
}

/// Fails, naming `pass`, unless a block can hold `warpsPerBlock` warps
/// (1 to 32: at most 1024 threads).
LogicalResult checkWarpsPerBlock(Operation *op, StringRef pass, int64_t warpsPerBlock);

/// `combine` over the warp's 32 values of `value` (an f32, or an integer of
/// up to 64 bits), in every lane (the same value in each: lanes i and i^k
/// combine the same two values).
Value warpReduce(OpBuilder &b, Location loc, Value value,
                 function_ref<Value(OpBuilder &, Value, Value)> combine);

} // namespace mlir::kiln::gpu_warps

#endif // KILN_PASSES_GPU_WARPKERNELS_H
