//===- GpuRowKernels.cpp - Row softmax and layer norm as warp kernels -----===//
//
// On the CPU, kiln.softmax_rows and kiln.layer_norm_rows are runtime calls.
// On the GPU the generic path would run them as the loops of
// kiln-lower-to-linalg: four to six kernels, each reduction one thread per
// row walking the whole row alone (neighbouring threads a row apart, so
// their loads never coalesce). Here each op becomes one kernel in which a
// warp owns a row: its 32 lanes stride along the row together (neighbouring
// lanes, neighbouring elements), each keeps a partial max or sum, and a
// butterfly of shuffles (xor 16, 8, 4, 2, 1) leaves every lane with the
// row's total. Where the row splits evenly into at most 32 values a lane
// (rows of up to 1024: BERT's 768, attention's keys), each lane loads its
// values into registers once, all loads issued before the first use, and
// every pass works on those: a lane's loads then wait on memory together
// rather than one after another, as a loop's would (the loop, for other
// rows, reads the row from memory once and from cache after). The same
// sums in the same order either way.
//
// The butterfly gives every lane the same float, bit for bit: at each step
// lanes i and i^k add the same two values, in either order, and addition
// commutes.
//
//===----------------------------------------------------------------------===//

#include "../Lowering/LoweringUtils.h"
#include "../Lowering/RuntimeCalls.h"
#include "AddendBroadcast.h"
#include "HalfStorage.h"
#include "WarpKernels.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

#include <functional>
#include <limits>

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNGPUROWKERNELS
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::gpu_warps;

namespace {

/// The lane's elements of a row (columns lane, lane + 32, ...) and their
/// values (`value` of the column: the element as a pass reads it), for the
/// passes over them: in registers, loaded once up front, where the row
/// (`n` long) splits evenly into at most 32 a lane (evenShareInRegisters);
/// else (or where `n` is known only at run time) a loop per pass that
/// computes each value again.
class LaneElements {
public:
  using ValueAt = std::function<Value(OpBuilder &, Value column)>;
  LaneElements(WarpRow &row, Location loc, std::optional<int64_t> n, ValueAt value)
      : row(row), loc(loc), value(std::move(value)) {
    for (int64_t i = 0; n && i < evenShareInRegisters(*n); ++i) {
      Value offset = arith::ConstantIndexOp::create(row.b, loc, i * kWarpSize);
      columns.push_back(arith::AddIOp::create(row.b, loc, row.lane, offset));
    }
    for (Value column : columns)
      values.push_back(this->value(row.b, column));
  }

  /// `step` over the elements in column order, carrying `init` (or nothing):
  /// it gets the column, the value and the carried value and returns the
  /// next.
  Value fold(Value init,
             function_ref<Value(OpBuilder &, Value column, Value value, Value carried)> step) {
    if (!columns.empty()) {
      for (auto [column, v] : llvm::zip(columns, values))
        init = step(row.b, column, v, init);
      return init;
    }
    SmallVector<Value> inits;
    if (init)
      inits.push_back(init);
    auto loop = scf::ForOp::create(
        row.b, loc, row.lane, row.n, row.stride, inits,
        [&](OpBuilder &b, Location, Value column, ValueRange carried) {
          Value last = carried.empty() ? Value() : carried.front();
          Value next = step(b, column, value(b, column), last);
          scf::YieldOp::create(b, loc, next ? ValueRange{next} : ValueRange{});
        });
    return init ? loop.getResult(0) : Value();
  }

private:
  WarpRow &row;
  Location loc;
  ValueAt value;
  SmallVector<Value> columns, values;
};

SmallVector<Value> withColumn(ArrayRef<Value> leading, Value column) {
  SmallVector<Value> indices(leading);
  indices.push_back(column);
  return indices;
}

Value f32Constant(OpBuilder &b, Location loc, float value) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(value));
}

/// An element of `buffer` as f32 (extended from 16-bit half storage,
/// kiln-gpu-half-storage).
Value loadF32(OpBuilder &b, Location loc, Value buffer, ValueRange indices) {
  return half_storage::extendFromStorage(b, loc, memref::LoadOp::create(b, loc, buffer, indices));
}

/// Stores the f32 `value` into `buffer`, rounded as half storage rounds if
/// `buffer` is 16-bit.
void storeF32(OpBuilder &b, Location loc, Value value, Value buffer, ValueRange indices) {
  if (auto half = dyn_cast<FloatType>(cast<MemRefType>(buffer.getType()).getElementType());
      half && !half.isF32())
    value = half_storage::truncateForStorage(b, loc, value, half);
  memref::StoreOp::create(b, loc, value, buffer, indices);
}

/// A row op's buffer x split into its rows: the sizes of the dims but the
/// last (constants, or the host's index values for symbolic dims) and the
/// last.
struct RowShape {
  SmallVector<OpFoldResult> leading;
  OpFoldResult n;
  /// Whether a static dim is 0: no element to write.
  bool empty = false;
};

/// x's rows (fails, naming the op, unless x is a buffer of rank 1 or more
/// and init has its type's shape); symbolic dims read before `op`.
FailureOr<RowShape> rowShape(OpBuilder &b, Operation *op, Value x, Value init) {
  auto xType = dyn_cast<MemRefType>(x.getType());
  auto initType = dyn_cast<MemRefType>(init.getType());
  if (!xType || !initType)
    return op->emitError("kiln-gpu-row-kernels runs after bufferization; this op is on tensors");
  if (initType.getShape() != xType.getShape())
    return op->emitError("a row op's input and output must have one shape, not ")
           << xType << " and " << initType;
  if (xType.getRank() < 1)
    return op->emitError("a row kernel takes a buffer of rank 1 or more, not ") << xType;
  RowShape shape;
  for (int64_t d = 0; d < xType.getRank(); ++d) {
    OpFoldResult size = b.getIndexAttr(xType.getDimSize(d));
    if (xType.isDynamicDim(d))
      size = memref::DimOp::create(b, op->getLoc(), x, d).getResult();
    (d + 1 == xType.getRank() ? shape.n : shape.leading.emplace_back()) = size;
  }
  shape.empty = llvm::is_contained(xType.getShape(), 0);
  return shape;
}

/// The host's checks of the addend's dims against x's (x's shape is the
/// scores'), run before the launch, and its i1s per `?` dim: 1 at run time.
SmallVector<Value> addendBroadcast(OpBuilder &b, Location loc, Value addend, const RowShape &x) {
  SmallVector<OpFoldResult> sizes(x.leading);
  sizes.push_back(x.n);
  Value failed;
  SmallVector<Value> isOne = gpu_addend::broadcastAtRunTime(b, loc, addend, sizes, failed);
  if (failed)
    lowering::emitRuntimeCheck(b, loc, failed,
                               lowering::describeNode(loc, "Softmax") +
                                   lowering::kMaskBroadcastMessage);
  return isOne;
}

/// The addend's indices for the element at (leading, column) of x.
SmallVector<Value> addendIndices(OpBuilder &b, Location loc, MemRefType addend,
                                 ArrayRef<Value> isOneAtRunTime, ArrayRef<Value> leading,
                                 Value column) {
  SmallVector<Value> indices;
  int64_t rank = addend.getRank(), xRank = int64_t(leading.size()) + 1;
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  for (int64_t d = 0; d < rank; ++d) {
    int64_t xDim = xRank - rank + d;
    Value own = xDim < 0 ? zero : xDim == xRank - 1 ? column : leading[xDim];
    if (Value isOne = isOneAtRunTime[d])
      indices.push_back(arith::SelectOp::create(b, loc, isOne, zero, own));
    else
      indices.push_back(addend.getDimSize(d) == 1 ? zero : own);
  }
  return indices;
}

/// softmax(scale * x + addend) along each row: the row's max, the sum of
/// exp(v - max), then exp(v - max) * (1 / sum), v recomputed each time.
LogicalResult lowerSoftmax(SoftmaxRowsOp op, int64_t warpsPerBlock) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  auto shape = rowShape(b, op, op.getX(), op.getInit());
  if (failed(shape))
    return failure();
  if (shape->empty) {
    op.erase(); // no element to write
    return success();
  }
  Value addend = op.getAddend();
  SmallVector<Value> broadcast;
  if (addend)
    broadcast = addendBroadcast(b, loc, addend, *shape);
  WarpRow row = launchWarpPerRow(b, loc, shape->leading, shape->n, warpsPerBlock);
  float scale = op.getScale().convertToFloat();
  auto value = [&](OpBuilder &at, Value column) {
    Value v = loadF32(at, loc, op.getX(), withColumn(row.leading, column));
    if (scale != 1.0f)
      v = arith::MulFOp::create(at, loc, v, f32Constant(at, loc, scale));
    if (addend) {
      auto type = cast<MemRefType>(addend.getType());
      Value term = loadF32(at, loc, addend,
                           addendIndices(at, loc, type, broadcast, row.leading, column));
      v = arith::AddFOp::create(at, loc, v, term);
    }
    return v;
  };
  auto max = [&](OpBuilder &at, Value l, Value r) -> Value {
    return arith::MaximumFOp::create(at, loc, l, r);
  };
  auto add = [&](OpBuilder &at, Value l, Value r) -> Value {
    return arith::AddFOp::create(at, loc, l, r);
  };
  LaneElements elements(row, loc, getConstantIntValue(shape->n), value);
  Value lowest = f32Constant(row.b, loc, -std::numeric_limits<float>::infinity());
  Value partialMax = elements.fold(lowest, [&](OpBuilder &at, Value, Value v, Value m) {
    return max(at, m, v);
  });
  Value rowMax = warpReduce(row.b, loc, partialMax, max);
  auto shifted = [&](OpBuilder &at, Value v) -> Value {
    return math::ExpOp::create(at, loc, arith::SubFOp::create(at, loc, v, rowMax));
  };
  Value partialSum = elements.fold(f32Constant(row.b, loc, 0.0f),
                                   [&](OpBuilder &at, Value, Value v, Value s) {
                                     return add(at, s, shifted(at, v));
                                   });
  Value rowSum = warpReduce(row.b, loc, partialSum, add);
  Value reciprocal = arith::DivFOp::create(row.b, loc, f32Constant(row.b, loc, 1.0f), rowSum);
  elements.fold(Value(), [&](OpBuilder &at, Value column, Value v, Value) -> Value {
    Value p = arith::MulFOp::create(at, loc, shifted(at, v), reciprocal);
    storeF32(at, loc, p, op.getInit(), withColumn(row.leading, column));
    return Value();
  });
  op.erase();
  return success();
}

/// (x - mean) * (1 / sqrt(var + epsilon)) * scale + bias along each row, the
/// runtime's arithmetic: the mean as the first value plus the mean of the
/// others' differences from it (exact near it, small sums when the row sits
/// far from 0), the variance from the deviations in a second pass.
LogicalResult lowerLayerNorm(LayerNormRowsOp op, int64_t warpsPerBlock) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  auto shape = rowShape(b, op, op.getX(), op.getInit());
  if (failed(shape))
    return failure();
  std::optional<int64_t> staticN = getConstantIntValue(shape->n);
  if (!staticN)
    return op.emitError("the GPU's layer norm needs a static last dim (the normalized one), "
                        "not ")
           << op.getX().getType();
  int64_t n = *staticN;
  for (Value vector : {op.getScale(), op.getBias()}) {
    auto type = vector ? dyn_cast<MemRefType>(vector.getType()) : MemRefType();
    if (vector && (!type || type.getRank() != 1 || type.getDimSize(0) != n))
      return op.emitError("the layer norm's scale and bias must be buffers of ")
             << n << " values here, not " << vector.getType();
  }
  if (shape->empty) {
    op.erase(); // no element to write
    return success();
  }
  WarpRow row = launchWarpPerRow(b, loc, shape->leading, shape->n, warpsPerBlock);
  auto load = [&](OpBuilder &at, Value column) -> Value {
    return loadF32(at, loc, op.getX(), withColumn(row.leading, column));
  };
  auto add = [&](OpBuilder &at, Value l, Value r) -> Value {
    return arith::AddFOp::create(at, loc, l, r);
  };
  Value count = f32Constant(row.b, loc, float(n));
  Value first = load(row.b, arith::ConstantIndexOp::create(row.b, loc, 0));
  Value zero = f32Constant(row.b, loc, 0.0f);
  LaneElements elements(row, loc, n, load);
  Value partial = elements.fold(zero, [&](OpBuilder &at, Value, Value x, Value s) {
    return add(at, s, arith::SubFOp::create(at, loc, x, first));
  });
  Value sum = warpReduce(row.b, loc, partial, add);
  Value mean = arith::AddFOp::create(row.b, loc, first,
                                     arith::DivFOp::create(row.b, loc, sum, count));
  Value partialSquares = elements.fold(zero, [&](OpBuilder &at, Value, Value x, Value s) {
    Value d = arith::SubFOp::create(at, loc, x, mean);
    return add(at, s, arith::MulFOp::create(at, loc, d, d));
  });
  Value squares = warpReduce(row.b, loc, partialSquares, add);
  Value variance = arith::DivFOp::create(row.b, loc, squares, count);
  Value epsilon = f32Constant(row.b, loc, op.getEpsilon().convertToFloat());
  Value deviation = math::SqrtOp::create(row.b, loc, arith::AddFOp::create(row.b, loc, variance, epsilon));
  Value inverse = arith::DivFOp::create(row.b, loc, f32Constant(row.b, loc, 1.0f), deviation);
  elements.fold(Value(), [&](OpBuilder &at, Value column, Value x, Value) -> Value {
    Value d = arith::SubFOp::create(at, loc, x, mean);
    Value y = arith::MulFOp::create(at, loc, arith::MulFOp::create(at, loc, d, inverse),
                                    memref::LoadOp::create(at, loc, op.getScale(), column));
    if (Value bias = op.getBias())
      y = arith::AddFOp::create(at, loc, y, memref::LoadOp::create(at, loc, bias, column));
    storeF32(at, loc, y, op.getInit(), withColumn(row.leading, column));
    return Value();
  });
  op.erase();
  return success();
}

struct GpuRowKernelsPass : mlir::kiln::impl::KilnGpuRowKernelsBase<GpuRowKernelsPass> {
  using Base::Base;
  void runOnOperation() override {
    if (failed(checkWarpsPerBlock(getOperation(), "kiln-gpu-row-kernels", warpsPerBlock)))
      return signalPassFailure();
    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) {
      if (isa<SoftmaxRowsOp, LayerNormRowsOp>(op))
        ops.push_back(op);
    });
    for (Operation *op : ops) {
      LogicalResult lowered = isa<SoftmaxRowsOp>(op)
                                  ? lowerSoftmax(cast<SoftmaxRowsOp>(op), warpsPerBlock)
                                  : lowerLayerNorm(cast<LayerNormRowsOp>(op), warpsPerBlock);
      if (failed(lowered))
        return signalPassFailure();
    }
  }
};

} // namespace
