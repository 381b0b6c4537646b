//===- GpuThreadReductions.cpp - A reduction's output in a register -------===//
//
// The reductions kiln-gpu-warp-reductions leaves (a MatMul on the kernels
// path, a reduction over a middle axis: their reduced dims are strided, so
// a thread per output element reads better than a warp) would reach
// kiln-gpu-map-parallel-loops as convert-linalg-to-parallel-loops writes
// them: each iteration of the reduction loop loads the output element from
// memory and stores it back (LLVM cannot keep it in a register: the
// output's buffer may alias the inputs' as far as it knows, all views of
// one arena). Here such a linalg.generic becomes the scf.parallel over its
// parallel dims itself, with its reduction loops as scf.for inside that
// carry the output element as an iter_arg: one load before them (or, when a
// linalg.fill of the output comes right before, the fill's value: that
// fill's kernel goes) and one store after. The arithmetic and its order
// are the generic's own: the same floats.
//
//===----------------------------------------------------------------------===//

#include "ReductionKernels.h"
#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNGPUTHREADREDUCTIONS
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
namespace gpu_reductions = mlir::kiln::gpu_reductions;

namespace {

bool takes(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInits() != 1 ||
      op.getNumReductionLoops() == 0 ||
      llvm::any_of(op.getStaticLoopRanges(), ShapedType::isDynamic))
    return false;
  // One thread per output element: every parallel loop indexes it, and no
  // reduction loop does.
  AffineMap outputMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  for (auto [loop, type] : llvm::enumerate(op.getIteratorTypesArray()))
    if ((type == utils::IteratorType::parallel) != outputMap.isFunctionOfDim(loop))
      return false;
  // Carrying the output in a register is the generic's meaning only when
  // no input is the output's buffer (bufferization never makes one).
  Value output = op.getDpsInits().front();
  return llvm::none_of(op.getDpsInputs(), [&](Value input) { return input == output; });
}

/// The indices `map` gives at the loop values `loops`.
SmallVector<Value> indicesAt(OpBuilder &b, Location loc, AffineMap map, ValueRange loops) {
  SmallVector<Value> indices;
  for (unsigned i = 0; i < map.getNumResults(); ++i)
    indices.push_back(getValueOrCreateConstantIndexOp(
        b, loc,
        affine::makeComposedFoldedAffineApply(b, loc, map.getSubMap({i}),
                                              getAsOpFoldResult(loops))));
  return indices;
}

void lower(linalg::GenericOp op) {
  Location loc = op.getLoc();
  OpBuilder b(op);
  OpOperand *init = op.getDpsInitOperand(0);
  linalg::FillOp fill = gpu_reductions::fillOfOutputBefore(op);
  SmallVector<int64_t> loopRanges = op.getStaticLoopRanges();
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  SmallVector<unsigned> parallel, reduced;
  for (auto [i, type] : llvm::enumerate(iterators))
    (type == utils::IteratorType::parallel ? parallel : reduced).push_back(unsigned(i));
  auto index = [&](int64_t v) { return arith::ConstantIndexOp::create(b, loc, v).getResult(); };
  Block &body = op.getRegion().front();

  // The loop values, by the generic's loop number.
  SmallVector<Value> loops(iterators.size());
  auto build = [&](OpBuilder &at) {
    Value initial = fill
                        ? fill.getInputs().front()
                        : memref::LoadOp::create(
                              at, loc, init->get(),
                              indicesAt(at, loc, op.getMatchingIndexingMap(init), loops))
                              .getResult();
    // The reduction loops nested in the generic's order, the output
    // element carried through them.
    std::function<Value(OpBuilder &, size_t, Value)> nest = [&](OpBuilder &in, size_t level,
                                                               Value carried) -> Value {
      unsigned loop = reduced[level];
      auto forOp = scf::ForOp::create(
          in, loc, index(0), index(loopRanges[loop]), index(1),
          ValueRange{carried}, [&](OpBuilder &inner, Location, Value iv, ValueRange args) {
            loops[loop] = iv;
            Value next;
            if (level + 1 < reduced.size()) {
              next = nest(inner, level + 1, args.front());
            } else {
              IRMapping mapping;
              for (OpOperand *input : op.getDpsInputOperands())
                mapping.map(op.getMatchingBlockArgument(input),
                            memref::LoadOp::create(
                                inner, loc, input->get(),
                                indicesAt(inner, loc, op.getMatchingIndexingMap(input), loops)));
              mapping.map(op.getMatchingBlockArgument(init), args.front());
              for (Operation &inside : body.without_terminator()) {
                if (auto index = dyn_cast<linalg::IndexOp>(inside)) {
                  mapping.map(index.getResult(), loops[index.getDim()]);
                  continue;
                }
                inner.clone(inside, mapping);
              }
              next = mapping.lookupOrDefault(
                  cast<linalg::YieldOp>(body.getTerminator()).getValues().front());
            }
            scf::YieldOp::create(inner, loc, next);
          });
      return forOp.getResult(0);
    };
    Value result = nest(at, 0, initial);
    memref::StoreOp::create(at, loc, result, init->get(),
                            indicesAt(at, loc, op.getMatchingIndexingMap(init), loops));
  };
  if (parallel.empty()) {
    build(b);
  } else {
    SmallVector<Value> lower, upper, steps;
    for (unsigned loop : parallel) {
      lower.push_back(index(0));
      upper.push_back(index(loopRanges[loop]));
      steps.push_back(index(1));
    }
    scf::ParallelOp::create(b, loc, lower, upper, steps,
                            [&](OpBuilder &in, Location, ValueRange ivs) {
                              for (auto [loop, iv] : llvm::zip(parallel, ivs))
                                loops[loop] = iv;
                              build(in);
                            });
  }
  op.erase();
  if (fill)
    fill.erase();
}

struct GpuThreadReductionsPass
    : mlir::kiln::impl::KilnGpuThreadReductionsBase<GpuThreadReductionsPass> {
  void runOnOperation() override {
    for (linalg::GenericOp op : gpu_reductions::topLevelGenerics(getOperation(), takes))
      lower(op);
  }
};

} // namespace
