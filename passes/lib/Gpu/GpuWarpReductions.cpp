//===- GpuWarpReductions.cpp - A reduction's outputs, a warp each ---------===//
//
// After kiln-gpu-row-kernels, the reductions left on the GPU path are
// linalg.generic ops: ReduceMean/ReduceSum/ReduceMax over an axis, and the
// layer norms that exporters spell out op by op (the mean, the variance).
// kiln-gpu-map-parallel-loops would run each output element's whole
// reduction in one thread, neighbouring threads a reduction apart. Here a
// warp owns an output element instead: its 32 lanes stride the reduced dim
// together, each keeps a partial result of the generic's combiner, and the
// warp's butterfly of shuffles combines them (WarpKernels.h); lane 0 then
// combines the output's initial value with the total and stores it.
//
// Taken: one output, one reduction loop, a body whose yield is
// combine(out, v) (or combine(v, out)) for combine an f32 add, mul, max
// or min (whose identity starts each lane), `out` used nowhere else, maps
// whose results are loop dims or constants, and the reduced dim contiguous
// (stride 1) in every input that has it, so that a warp's reads coalesce. The sum's order changes
// (a tree of partial sums instead of a left fold): the floats differ from
// the CPU's within rounding.
//
//===----------------------------------------------------------------------===//

#include "WarpKernels.h"
#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/TypeSwitch.h"

#include <limits>

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNGPUWARPREDUCTIONS
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln::gpu_warps;

namespace {

/// The combiner and where each lane's partial starts: its identity.
struct Combiner {
  Operation *op;
  float identity;
};

std::optional<Combiner> combinerOf(linalg::GenericOp op) {
  Block &body = op.getRegion().front();
  BlockArgument out = body.getArgument(body.getNumArguments() - 1);
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  Operation *combine = yield.getValues().front().getDefiningOp();
  if (!combine || combine->getNumOperands() != 2 || !out.hasOneUse() || !combine->hasOneUse() ||
      !llvm::is_contained(combine->getOperands(), out) || !out.getType().isF32())
    return std::nullopt;
  constexpr float inf = std::numeric_limits<float>::infinity();
  constexpr float nan = std::numeric_limits<float>::quiet_NaN();
  return llvm::TypeSwitch<Operation *, std::optional<Combiner>>(combine)
      .Case<arith::AddFOp>([&](auto) { return Combiner{combine, -0.0f}; })
      .Case<arith::MulFOp>([&](auto) { return Combiner{combine, 1.0f}; })
      .Case<arith::MaximumFOp>([&](auto) { return Combiner{combine, -inf}; })
      .Case<arith::MinimumFOp>([&](auto) { return Combiner{combine, inf}; })
      // maxnum(NaN, x) = x: NaN is where they start.
      .Case<arith::MaxNumFOp, arith::MinNumFOp>([&](auto) { return Combiner{combine, nan}; })
      .Default([](Operation *) { return std::nullopt; });
}

/// Indices of `map` (results loop dims or constants) at the loop values.
std::optional<SmallVector<Value>> indicesOf(OpBuilder &b, Location loc, AffineMap map,
                                            ArrayRef<Value> loops) {
  SmallVector<Value> indices;
  for (AffineExpr result : map.getResults()) {
    if (auto dim = dyn_cast<AffineDimExpr>(result))
      indices.push_back(loops[dim.getPosition()]);
    else if (auto constant = dyn_cast<AffineConstantExpr>(result))
      indices.push_back(arith::ConstantIndexOp::create(b, loc, constant.getValue()));
    else
      return std::nullopt;
  }
  return indices;
}

bool takes(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInits() != 1 ||
      op.getNumReductionLoops() != 1 || !combinerOf(op))
    return false;
  if (llvm::any_of(op.getStaticLoopRanges(), ShapedType::isDynamic))
    return false;
  // The output is indexed by the parallel loops alone: one element a warp.
  SmallVector<unsigned> reductionDims;
  op.getReductionDims(reductionDims);
  AffineMap output = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  if (output.isFunctionOfDim(reductionDims.front()))
    return false;
  if (!llvm::all_of(op.getIndexingMapsArray(), [](AffineMap map) {
        return llvm::all_of(map.getResults(),
                            [](AffineExpr e) { return isa<AffineDimExpr, AffineConstantExpr>(e); });
      }))
    return false;
  // A warp's lanes read 32 neighbouring elements of the reduced dim: one
  // memory transaction where that dim is contiguous in every input that
  // has it, 32 where it is not. There a thread per output element reads
  // better (neighbouring threads, neighbouring elements of the contiguous
  // dim, which is then a parallel one): a MatMul's B, a reduction over a
  // middle axis.
  AffineExpr reduced = getAffineDimExpr(reductionDims.front(), op.getContext());
  return llvm::all_of(op.getDpsInputOperands(), [&](OpOperand *input) {
    auto type = dyn_cast<MemRefType>(input->get().getType());
    std::optional<unsigned> position =
        op.getMatchingIndexingMap(input).getResultPosition(reduced);
    if (!type || !position)
      return true; // a scalar, or the same element for every lane
    SmallVector<int64_t> strides;
    int64_t offset;
    return succeeded(type.getStridesAndOffset(strides, offset)) && strides[*position] == 1;
  });
}

void lower(linalg::GenericOp op, int64_t warpsPerBlock) {
  Location loc = op.getLoc();
  OpBuilder b(op);
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  int64_t reductionLoop = -1;
  SmallVector<int64_t> parallelRanges;
  for (auto [i, type] : llvm::enumerate(iterators)) {
    if (type == utils::IteratorType::reduction)
      reductionLoop = int64_t(i);
    else
      parallelRanges.push_back(ranges[i]);
  }
  Combiner combiner = *combinerOf(op);
  if (ranges[reductionLoop] == 0 || llvm::is_contained(parallelRanges, 0)) {
    op.erase(); // the outputs keep their initial values, or there are none
    return;
  }
  WarpRow row = launchWarpPerRow(b, loc, parallelRanges, ranges[reductionLoop], warpsPerBlock);
  // The loop values: the warp's output element, and the reduced index.
  auto loopsAt = [&](Value reduced) {
    SmallVector<Value> loops;
    size_t next = 0;
    for (utils::IteratorType type : iterators)
      loops.push_back(type == utils::IteratorType::reduction ? reduced : row.leading[next++]);
    return loops;
  };
  Block &body = op.getRegion().front();
  BlockArgument out = body.getArgument(body.getNumArguments() - 1);
  auto combine = [&](OpBuilder &at, Value l, Value r) -> Value {
    IRMapping operands;
    operands.map(combiner.op->getOperand(0), l);
    operands.map(combiner.op->getOperand(1), r);
    return at.clone(*combiner.op, operands)->getResult(0);
  };
  Value identity = arith::ConstantOp::create(row.b, loc, row.b.getF32FloatAttr(combiner.identity));
  auto loop = scf::ForOp::create(
      row.b, loc, row.lane, row.n, row.stride, ValueRange{identity},
      [&](OpBuilder &at, Location, Value reduced, ValueRange carried) {
        SmallVector<Value> loops = loopsAt(reduced);
        IRMapping mapping;
        for (OpOperand *input : op.getDpsInputOperands()) {
          auto indices = *indicesOf(at, loc, op.getMatchingIndexingMap(input), loops);
          mapping.map(op.getMatchingBlockArgument(input),
                      memref::LoadOp::create(at, loc, input->get(), indices));
        }
        // The body up to the combiner, with this iteration's values; the
        // combiner takes the lane's partial where it took `out`.
        for (Operation &inner : body.without_terminator()) {
          if (&inner == combiner.op)
            continue;
          if (auto index = dyn_cast<linalg::IndexOp>(inner)) {
            mapping.map(index.getResult(), loops[index.getDim()]);
            continue;
          }
          at.clone(inner, mapping);
        }
        mapping.map(out, carried.front());
        Value next = at.clone(*combiner.op, mapping)->getResult(0);
        scf::YieldOp::create(at, loc, next);
      });
  Value total = warpReduce(row.b, loc, loop.getResult(0), combine);
  Value zero = arith::ConstantIndexOp::create(row.b, loc, 0);
  Value first = arith::CmpIOp::create(row.b, loc, arith::CmpIPredicate::eq, row.lane, zero);
  auto store = scf::IfOp::create(row.b, loc, first, /*withElseRegion=*/false);
  OpBuilder s = OpBuilder::atBlockBegin(store.thenBlock());
  s.setInsertionPoint(store.thenBlock()->getTerminator());
  OpOperand *init = op.getDpsInitOperand(0);
  SmallVector<Value> at = *indicesOf(s, loc, op.getMatchingIndexingMap(init), loopsAt(zero));
  Value initial = memref::LoadOp::create(s, loc, init->get(), at);
  // combine(out, total), the operands in the body's order.
  Value result = combiner.op->getOperand(0) == out ? combine(s, initial, total)
                                                    : combine(s, total, initial);
  memref::StoreOp::create(s, loc, result, init->get(), at);
  op.erase();
}

struct GpuWarpReductionsPass
    : mlir::kiln::impl::KilnGpuWarpReductionsBase<GpuWarpReductionsPass> {
  using Base::Base;
  void runOnOperation() override {
    if (failed(checkWarpsPerBlock(getOperation(), "kiln-gpu-warp-reductions", warpsPerBlock)))
      return signalPassFailure();
    if (getOperation().isExternal())
      return;
    SmallVector<linalg::GenericOp> reductions;
    // Top-level ops only: a generic inside a loop is someone else's loop.
    for (Operation &op : getOperation().getBody().front())
      if (auto generic = dyn_cast<linalg::GenericOp>(op); generic && takes(generic))
        reductions.push_back(generic);
    for (linalg::GenericOp op : reductions)
      lower(op, warpsPerBlock);
  }
};

} // namespace
