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
// Taken: one output (its loops' sizes static or symbolic: then read on the
// host), a body whose yield is combine(out, v)
// (or combine(v, out)) for combine an f32 add, mul, max or min, or an
// integer (up to 32 bits) add, mul, and, or, xor, max or min (whose
// identity starts each lane), `out` used nowhere else, maps whose results
// are loop dims or constants, and the reduced dims the last dims of every
// input that has them, contiguous, so that a warp's reads coalesce. Several
// reduced dims are strided flattened (ReduceSum over the last two axes; a
// run-time check's "any index out of range" over all the ids). The sum's
// order changes (a tree of partial sums instead of a left fold): the
// floats differ from the CPU's within rounding; integers do not. A
// linalg.fill of the output right before the reduction is folded into it
// (lane 0 combines the fill's value with the total): one launch, not two.
// Where the reduced elements split evenly into at most 32 a lane, a lane
// loads all of its elements first and then combines them in order
// (straight-line code); otherwise a loop does both, element by element.
//
//===----------------------------------------------------------------------===//

#include "ReductionKernels.h"
#include "WarpKernels.h"
#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/TypeSwitch.h"

#include <limits>

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNGPUWARPREDUCTIONS
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln::gpu_warps;
namespace gpu_reductions = mlir::kiln::gpu_reductions;

namespace {

/// The combiner and where each lane's partial starts: its identity.
struct Combiner {
  Operation *op;
  TypedAttr identity;
};

/// The integer combiners' identities, for a `width`-bit integer.
std::optional<APInt> integerIdentity(Operation *combine, unsigned width) {
  return llvm::TypeSwitch<Operation *, std::optional<APInt>>(combine)
      .Case<arith::AddIOp, arith::OrIOp, arith::XOrIOp, arith::MaxUIOp>(
          [&](auto) { return APInt::getZero(width); })
      .Case<arith::MulIOp>([&](auto) { return APInt(width, 1); })
      .Case<arith::AndIOp, arith::MinUIOp>([&](auto) { return APInt::getAllOnes(width); })
      .Case<arith::MaxSIOp>([&](auto) { return APInt::getSignedMinValue(width); })
      .Case<arith::MinSIOp>([&](auto) { return APInt::getSignedMaxValue(width); })
      .Default([](Operation *) { return std::nullopt; });
}

std::optional<Combiner> combinerOf(linalg::GenericOp op) {
  Block &body = op.getRegion().front();
  BlockArgument out = body.getArgument(body.getNumArguments() - 1);
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  Operation *combine = yield.getValues().front().getDefiningOp();
  if (!combine || combine->getNumOperands() != 2 || !out.hasOneUse() || !combine->hasOneUse() ||
      !llvm::is_contained(combine->getOperands(), out))
    return std::nullopt;
  Builder b(op.getContext());
  // Integers up to 32 bits: the shuffles move them as an i32.
  if (auto integer = dyn_cast<IntegerType>(out.getType())) {
    std::optional<APInt> identity = integer.getWidth() <= 32
                                        ? integerIdentity(combine, integer.getWidth())
                                        : std::nullopt;
    if (!identity)
      return std::nullopt;
    return Combiner{combine, b.getIntegerAttr(integer, *identity)};
  }
  if (!out.getType().isF32())
    return std::nullopt;
  constexpr float inf = std::numeric_limits<float>::infinity();
  constexpr float nan = std::numeric_limits<float>::quiet_NaN();
  auto f32 = [&](float value) -> std::optional<Combiner> {
    return Combiner{combine, b.getF32FloatAttr(value)};
  };
  return llvm::TypeSwitch<Operation *, std::optional<Combiner>>(combine)
      .Case<arith::AddFOp>([&](auto) { return f32(-0.0f); })
      .Case<arith::MulFOp>([&](auto) { return f32(1.0f); })
      .Case<arith::MaximumFOp>([&](auto) { return f32(-inf); })
      .Case<arith::MinimumFOp>([&](auto) { return f32(inf); })
      // maxnum(NaN, x) = x: NaN is where they start.
      .Case<arith::MaxNumFOp, arith::MinNumFOp>([&](auto) { return f32(nan); })
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

/// Whether consecutive values of the reduced dims, flattened (the last
/// fastest), read consecutive elements of `input`: a warp's 32 reads are
/// then one memory transaction. True where the input has none of them
/// (every lane reads the same element).
bool coalesced(linalg::GenericOp op, OpOperand *input, ArrayRef<unsigned> reductionDims) {
  auto type = dyn_cast<MemRefType>(input->get().getType());
  AffineMap map = op.getMatchingIndexingMap(input);
  SmallVector<std::optional<unsigned>> positions;
  for (unsigned dim : reductionDims)
    positions.push_back(map.getResultPosition(getAffineDimExpr(dim, op.getContext())));
  if (!type || llvm::none_of(positions, [](auto p) { return p.has_value(); }))
    return true;
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(type.getStridesAndOffset(strides, offset)))
    return false;
  // The reduced dims are the input's last dims, in the loops' order, and
  // contiguous together: an identity layout's last dims are, whatever
  // their sizes (symbolic ones included); another layout's where its
  // strides say so.
  unsigned rank = map.getNumResults(), count = reductionDims.size();
  if (rank < count)
    return false;
  for (unsigned i = 0; i < count; ++i)
    if (positions[i] != rank - count + i)
      return false;
  if (type.getLayout().isIdentity())
    return true;
  // Innermost first: each dim's stride the product of the sizes inside it
  // (a dim of size 1 is never stepped along; past a symbolic size the
  // product is unknown).
  std::optional<int64_t> expected = 1;
  for (unsigned i = count; i-- > 0;) {
    unsigned position = rank - count + i;
    if (type.getDimSize(position) == 1)
      continue;
    if (!expected || strides[position] != *expected)
      return false;
    expected = type.isDynamicDim(position) ? std::nullopt
                                           : std::optional(*expected * type.getDimSize(position));
  }
  return true;
}

bool takes(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInits() != 1 ||
      op.getNumReductionLoops() == 0 || !combinerOf(op))
    return false;
  // The output is indexed by the parallel loops alone: one element a warp.
  SmallVector<unsigned> reductionDims;
  op.getReductionDims(reductionDims);
  AffineMap output = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  if (llvm::any_of(reductionDims, [&](unsigned dim) { return output.isFunctionOfDim(dim); }))
    return false;
  if (!llvm::all_of(op.getIndexingMapsArray(), [](AffineMap map) {
        return llvm::all_of(map.getResults(),
                            [](AffineExpr e) { return isa<AffineDimExpr, AffineConstantExpr>(e); });
      }))
    return false;
  // A warp's lanes read 32 neighbouring elements of the reduced dims: one
  // memory transaction where they are contiguous in every input that has
  // them, 32 where they are not. There a thread per output element reads
  // better (neighbouring threads, neighbouring elements of the contiguous
  // dim, which is then a parallel one): a MatMul's B, a reduction over a
  // middle axis. But not with one output element (a run-time check's
  // "any" over strided index components): one warp beats one thread.
  bool oneOutput = llvm::all_of(op.getStaticLoopRanges(), [&, d = 0u](int64_t range) mutable {
    return op.getIteratorTypesArray()[d++] == utils::IteratorType::reduction || range == 1;
  });
  return oneOutput || llvm::all_of(op.getDpsInputOperands(), [&](OpOperand *input) {
           return coalesced(op, input, reductionDims);
         });
}

void lower(linalg::GenericOp op, int64_t warpsPerBlock) {
  Location loc = op.getLoc();
  // The output's initial value: a fill's right before (every output
  // element is stored below, so the fill goes: a launch less), else loaded.
  OpOperand *init = op.getDpsInitOperand(0);
  linalg::FillOp fill = gpu_reductions::fillOfOutputBefore(op);
  OpBuilder b(op);
  // The loops' sizes: constants, or read on the host (memref.dim) where
  // symbolic.
  SmallVector<OpFoldResult> ranges;
  for (Range range : cast<linalg::LinalgOp>(op.getOperation()).createLoopRanges(b, loc))
    ranges.push_back(range.size);
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  SmallVector<OpFoldResult> parallelRanges, reducedRanges;
  for (auto [i, type] : llvm::enumerate(iterators))
    (type == utils::IteratorType::reduction ? reducedRanges : parallelRanges)
        .push_back(ranges[i]);
  Combiner combiner = *combinerOf(op);
  std::optional<int64_t> staticCount = 1;
  OpFoldResult reducedCount = b.getIndexAttr(1);
  for (OpFoldResult range : reducedRanges) {
    std::optional<int64_t> known = getConstantIntValue(range);
    staticCount = known && staticCount ? std::optional<int64_t>(*staticCount * *known)
                                       : std::nullopt;
    reducedCount = staticCount ? OpFoldResult(b.getIndexAttr(*staticCount))
                               : OpFoldResult(arith::MulIOp::create(
                                     b, loc, getValueOrCreateConstantIndexOp(b, loc, reducedCount),
                                     getValueOrCreateConstantIndexOp(b, loc, range)));
  }
  // Statically empty: the outputs keep their initial values, or there are
  // none. (Where a symbolic count is 0, the lanes combine nothing into
  // the initial value, or the grid is empty.)
  if (staticCount == 0 || llvm::any_of(parallelRanges, [](OpFoldResult range) {
        return isConstantIntValue(range, 0);
      })) {
    op.erase();
    return;
  }
  // The lanes stride the reduced dims flattened, the last fastest.
  WarpRow row = launchWarpPerRow(b, loc, parallelRanges, reducedCount, warpsPerBlock);
  // The loop values: the warp's output element, and the reduced indices of
  // the flattened index `reduced`.
  auto loopsAt = [&](OpBuilder &at, Value reduced) {
    SmallVector<Value> reducedIndices(reducedRanges.size());
    for (size_t d = reducedRanges.size(); d-- > 0;) {
      if (d == 0) {
        reducedIndices[d] = reduced;
        break;
      }
      Value extent = getValueOrCreateConstantIndexOp(at, loc, reducedRanges[d]);
      reducedIndices[d] = arith::RemUIOp::create(at, loc, reduced, extent);
      reduced = arith::DivUIOp::create(at, loc, reduced, extent);
    }
    SmallVector<Value> loops;
    size_t nextParallel = 0, nextReduced = 0;
    for (utils::IteratorType type : iterators)
      loops.push_back(type == utils::IteratorType::reduction ? reducedIndices[nextReduced++]
                                                             : row.leading[nextParallel++]);
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
  // The body up to the combiner for the flattened index `reduced`: the
  // inputs' elements loaded, the values the combiner takes besides `out`.
  auto element = [&](OpBuilder &at, Value reduced) {
    SmallVector<Value> loops = loopsAt(at, reduced);
    IRMapping mapping;
    for (OpOperand *input : op.getDpsInputOperands()) {
      auto indices = *indicesOf(at, loc, op.getMatchingIndexingMap(input), loops);
      mapping.map(op.getMatchingBlockArgument(input),
                  memref::LoadOp::create(at, loc, input->get(), indices));
    }
    for (Operation &inner : body.without_terminator()) {
      if (&inner == combiner.op)
        continue;
      if (auto index = dyn_cast<linalg::IndexOp>(inner)) {
        mapping.map(index.getResult(), loops[index.getDim()]);
        continue;
      }
      at.clone(inner, mapping);
    }
    return mapping;
  };
  // The combiner takes the lane's partial where it took `out`.
  auto accumulate = [&](OpBuilder &at, IRMapping &mapping, Value partial) {
    mapping.map(out, partial);
    return at.clone(*combiner.op, mapping)->getResult(0);
  };
  Value partial = arith::ConstantOp::create(row.b, loc, combiner.identity);
  if (int64_t share = staticCount ? evenShareInRegisters(*staticCount) : 0) {
    // A lane's elements all loaded first, then combined in order: its
    // loads wait on memory together, not one after another as a loop's.
    SmallVector<IRMapping> elements;
    for (int64_t i = 0; i < share; ++i) {
      Value offset = arith::ConstantIndexOp::create(row.b, loc, i * kWarpSize);
      elements.push_back(element(row.b, arith::AddIOp::create(row.b, loc, row.lane, offset)));
    }
    for (IRMapping &mapping : elements)
      partial = accumulate(row.b, mapping, partial);
  } else {
    auto loop = scf::ForOp::create(
        row.b, loc, row.lane, row.n, row.stride, ValueRange{partial},
        [&](OpBuilder &at, Location, Value reduced, ValueRange carried) {
          IRMapping mapping = element(at, reduced);
          scf::YieldOp::create(at, loc, accumulate(at, mapping, carried.front()));
        });
    partial = loop.getResult(0);
  }
  Value total = warpReduce(row.b, loc, partial, combine);
  Value zero = arith::ConstantIndexOp::create(row.b, loc, 0);
  Value first = arith::CmpIOp::create(row.b, loc, arith::CmpIPredicate::eq, row.lane, zero);
  auto store = scf::IfOp::create(row.b, loc, first, /*withElseRegion=*/false);
  OpBuilder s = OpBuilder::atBlockBegin(store.thenBlock());
  s.setInsertionPoint(store.thenBlock()->getTerminator());
  SmallVector<Value> at = *indicesOf(s, loc, op.getMatchingIndexingMap(init), loopsAt(s, zero));
  Value initial = fill ? fill.getInputs().front()
                              : memref::LoadOp::create(s, loc, init->get(), at).getResult();
  if (fill)
    fill.erase();
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
    for (linalg::GenericOp op : gpu_reductions::topLevelGenerics(getOperation(), takes))
      lower(op, warpsPerBlock);
  }
};

} // namespace
