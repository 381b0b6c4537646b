//===- ScatterToLinalg.cpp - scatter_elements and scatter_nd to loops -----===//
//
// A scatter writes each update where its index points, so it is a loop
// over the updates, not a linalg.generic (whose results are written at the
// loop indices): an scf.for nest carrying the result tensor, which starts
// as the data and takes one tensor.insert per update. Bufferization makes
// the inserts stores into one copy of the data; duplicate indices combine
// in order (the last update wins with reduction "none", as in ONNX's
// reference).
//
// Indices out of range, and `?` dims whose run-time sizes contradict the op
// (updates larger than the data they go to), fail the run with a message
// naming the node; meanwhile indices are clamped and the loops bounded so
// that no write leaves the result.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

namespace {

/// `old` combined with `update` by an ONNX scatter reduction.
Value combine(OpBuilder &b, Location loc, StringRef reduction, Value old, Value update) {
  if (reduction == "none")
    return update;
  Type type = old.getType();
  bool isUnsigned = isUnsignedElement(type);
  Type body = signless(type);
  Value x = reinterpret(b, loc, old, body), y = reinterpret(b, loc, update, body);
  Value result;
  if (isa<FloatType>(body)) {
    if (reduction == "add")
      result = arith::AddFOp::create(b, loc, x, y);
    else if (reduction == "mul")
      result = arith::MulFOp::create(b, loc, x, y);
    else if (reduction == "max")
      result = arith::MaximumFOp::create(b, loc, x, y);
    else
      result = arith::MinimumFOp::create(b, loc, x, y);
  } else if (reduction == "add") {
    result = arith::AddIOp::create(b, loc, x, y);
  } else if (reduction == "mul") {
    result = arith::MulIOp::create(b, loc, x, y);
  } else if (reduction == "max") {
    result = isUnsigned ? (Value)arith::MaxUIOp::create(b, loc, x, y)
                        : (Value)arith::MaxSIOp::create(b, loc, x, y);
  } else {
    result = isUnsigned ? (Value)arith::MinUIOp::create(b, loc, x, y)
                        : (Value)arith::MinSIOp::create(b, loc, x, y);
  }
  return reinterpret(b, loc, result, type);
}

/// What a scatter's loops need: their bounds (each the least of the dims
/// the loop indexes, so that a failed size check still reads and writes in
/// bounds) and whether those dims disagree at run time.
struct LoopBounds {
  IndexMath m;
  SmallVector<Value> upper;
  Value mismatch;

  /// Loop `loop` indexes `dim`, which must equal (or, `atMost`, be no
  /// larger than) the size the loop runs over.
  void bound(size_t loop, Value dim, bool atMost = false) {
    Value size = upper[loop];
    Value bad = m.cmp(atMost ? arith::CmpIPredicate::sgt : arith::CmpIPredicate::ne, size, dim);
    mismatch = mismatch ? m.b.createOrFold<arith::OrIOp>(m.loc, mismatch, bad) : bad;
    upper[loop] = m.min(size, dim);
  }
  /// No update is written when the indexed dim `dim` is empty (every index
  /// into it fails the run's check, and none can be clamped into it).
  void skipWhenEmpty(Value dim) {
    if (upper.empty())
      return;
    Value empty = m.cmp(arith::CmpIPredicate::eq, dim, m.c(0));
    upper[0] = m.select(empty, m.c(0), upper[0]);
  }
};

/// Loops over every dim of `updates`.
LoopBounds loopsOver(OpBuilder &b, Location loc, Value updates) {
  LoopBounds bounds{IndexMath{b, loc}, {}, Value()};
  for (int64_t d = 0, e = cast<RankedTensorType>(updates.getType()).getRank(); d < e; ++d)
    bounds.upper.push_back(bounds.m.dim(updates, d));
  return bounds;
}

/// The loop nest over `bounds`, starting from `data`; `position` gives the
/// result element update u[ivs] goes to.
Value scatterLoops(OpBuilder &b, Location loc, StringRef opType, LoopBounds &bounds, Value data,
                   Value updates, StringRef reduction,
                   function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange)> position) {
  if (bounds.mismatch)
    emitRuntimeCheck(b, loc, bounds.mismatch,
                     describeNode(loc, opType) +
                         ": the shapes of data, indices and updates do not agree");
  SmallVector<Value> lower(bounds.upper.size(), bounds.m.c(0)),
      steps(bounds.upper.size(), bounds.m.c(1));
  scf::LoopNest nest = scf::buildLoopNest(
      b, loc, lower, bounds.upper, steps, ValueRange{data},
      [&](OpBuilder &nb, Location nl, ValueRange ivs, ValueRange acc) -> scf::ValueVector {
        SmallVector<Value> at = position(nb, nl, ivs);
        Value update = tensor::ExtractOp::create(nb, nl, updates, ivs);
        Value value =
            reduction == "none"
                ? update
                : combine(nb, nl, reduction, tensor::ExtractOp::create(nb, nl, acc[0], at), update);
        return {tensor::InsertOp::create(nb, nl, value, acc[0], at).getResult()};
      });
  return nest.results.empty() ? data : nest.results.front();
}

struct ScatterElementsToLoops : OpRewritePattern<ScatterElementsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ScatterElementsOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value data = op.getData(), indices = op.getIndices(), updates = op.getUpdates();
    int64_t axis = op.getAxis();
    LoopBounds bounds = loopsOver(rewriter, loc, updates);
    IndexMath &m = bounds.m;
    Value axisDim = m.dim(data, axis);
    for (size_t d = 0; d < bounds.upper.size(); ++d) {
      bounds.bound(d, m.dim(indices, d));
      if ((int64_t)d != axis)
        bounds.bound(d, m.dim(data, d), /*atMost=*/true);
    }
    bounds.skipWhenEmpty(axisDim);
    checkIndicesInRange(rewriter, loc, indices, axisDim, "ScatterElements");
    Value result = scatterLoops(rewriter, loc, "ScatterElements", bounds, data, updates,
                                op.getReduction(), [&](OpBuilder &b, Location l, ValueRange ivs) {
                                  SmallVector<Value> at(ivs);
                                  Value raw =
                                      toIndex(b, l, tensor::ExtractOp::create(b, l, indices, ivs));
                                  at[axis] = wrapAndClampIndex(b, l, raw, axisDim);
                                  return at;
                                });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct ScatterNDToLoops : OpRewritePattern<ScatterNDOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ScatterNDOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value data = op.getData(), indices = op.getIndices(), updates = op.getUpdates();
    auto indicesType = cast<RankedTensorType>(indices.getType());
    int64_t q = indicesType.getRank(), tuple = indicesType.getDimSize(q - 1);
    // Loops over updates: the q - 1 tuple dims of indices, then the slice
    // dims, which are data's from `tuple` on.
    LoopBounds bounds = loopsOver(rewriter, loc, updates);
    IndexMath &m = bounds.m;
    for (size_t d = 0; d < bounds.upper.size(); ++d)
      bounds.bound(d, (int64_t)d < q - 1 ? m.dim(indices, d) : m.dim(data, tuple + d - (q - 1)));
    for (int64_t j = 0; j < tuple; ++j)
      bounds.skipWhenEmpty(m.dim(data, j));
    checkIndexTuplesInRange(rewriter, loc, indices, data, 0, "ScatterND");
    Value result = scatterLoops(rewriter, loc, "ScatterND", bounds, data, updates,
                                op.getReduction(), [&](OpBuilder &b, Location l, ValueRange ivs) {
                                  IndexMath bm{b, l};
                                  SmallVector<Value> tupleIndex(ivs.take_front(q - 1)), at;
                                  tupleIndex.push_back(Value());
                                  for (int64_t j = 0; j < tuple; ++j) {
                                    tupleIndex.back() = bm.c(j);
                                    Value raw = toIndex(
                                        b, l, tensor::ExtractOp::create(b, l, indices, tupleIndex));
                                    at.push_back(wrapAndClampIndex(b, l, raw, bm.dim(data, j)));
                                  }
                                  llvm::append_range(at, ivs.drop_front(q - 1));
                                  return at;
                                });
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void mlir::kiln::lowering::populateScatterLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<ScatterElementsToLoops, ScatterNDToLoops>(patterns.getContext());
}
