//===- RunTimeBroadcast.cpp - ONNX broadcasting of dims known at run time -===//
//
// A `?` dim may be 1 when the model runs while the other operands' dims at
// that position are not, and ONNX then broadcasts it. Indexing maps cannot
// say "index 0 if this dim turns out to be 1", so an operand whose dim may
// broadcast is passed through an scf.if that, only when some dim of it does
// broadcast at run time, copies it out to the full size first. Where the
// dims are proven equal (traceDim: the same symbol, named input dims, the
// same static size), nothing is emitted: the Transformer graphs' dims are
// all proven, so they keep their fused loops and GEMM epilogues. A dim that
// cannot be 1 where the others are 2 or more (min(S, 512): position ids
// sliced out of a constant arange to the sequence length) meets them
// equal or fails the run: it is checked, never copied.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "RuntimeCalls.h"
#include "ShapeOperands.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Interfaces/InferIntRangeInterface.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

namespace {

/// One dim of the result: its size, and where that size comes from.
struct ResultDim {
  Value size;
  DimSource source;
};

/// Whether a size is that of a dim of one of the function's inputs.
bool isInputDim(const DimSource &source) {
  return source.tensor && isa<BlockArgument>(source.tensor);
}

/// Dim `j` of `operand` where it lines up with result dim `p` (right-aligned),
/// or -1 when the operand has no such dim.
int64_t alignedDim(RankedTensorType operand, int64_t resultRank, int64_t p) {
  int64_t j = p - (resultRank - operand.getRank());
  return j >= 0 ? j : -1;
}

/// Whether dim `j` of `operand` is a `?` that may differ from the result's
/// size at run time (and so may be a 1 that broadcasts).
bool mayBroadcast(Value operand, int64_t j, const ResultDim &result) {
  if (!cast<RankedTensorType>(operand.getType()).isDynamicDim(j))
    return false;
  return !(traceDim(operand, j) == result.source);
}

/// The values an index value may take in runs where the result dim `size`
/// is 2 or more, as MLIR's integer range inference (InferIntRangeInterface)
/// of the ops that compute it from that size says; any dim is >= 0. Values
/// of other sources are unknown (any value), and so is anything more than
/// `kDepth` ops away. Each value is inferred once (shape arithmetic shares
/// its operands).
class RangesWhereSizeIsAtLeastTwo {
public:
  explicit RangesWhereSizeIsAtLeastTwo(const DimSource &size) : size(size) {}

  ConstantIntRanges of(Value v, unsigned depth = kDepth) {
    auto known = ranges.find(v);
    if (known != ranges.end())
      return known->second;
    ConstantIntRanges range = infer(v, depth);
    ranges.try_emplace(v, range);
    return range;
  }

private:
  static constexpr unsigned kDepth = 12;

  ConstantIntRanges infer(Value v, unsigned depth) {
    unsigned width = ConstantIntRanges::getStorageBitwidth(v.getType());
    ConstantIntRanges unknown = ConstantIntRanges::maxRange(width);
    // Index values, the i64 they are cast to and back, and conditions.
    if (width != IndexType::kInternalStorageBitWidth && !v.getType().isInteger(1))
      return unknown;
    auto atLeast = [&](int64_t min) {
      return ConstantIntRanges::fromSigned(APInt(width, min), APInt::getSignedMaxValue(width));
    };
    if (v.getType().isIndex()) {
      DimSource source = traceIndex(v);
      if (source == size)
        return atLeast(2);
      if (source.tensor)
        return atLeast(0);
    }
    auto op = v.getDefiningOp<InferIntRangeInterface>();
    if (!op || depth == 0 || op->getNumResults() != 1)
      return unknown;
    SmallVector<ConstantIntRanges> operands;
    for (Value operand : op->getOperands()) {
      if (!operand.getType().isSignlessIntOrIndex())
        return unknown;
      operands.push_back(of(operand, depth - 1));
    }
    ConstantIntRanges result = unknown;
    op.inferResultRanges(operands, [&](Value, const ConstantIntRanges &r) { result = r; });
    return result;
  }

  const DimSource &size;
  DenseMap<Value, ConstantIntRanges> ranges;
};

/// Whether `operandDim`, a `?` dim that may differ from the result's, can
/// be 1 in a run where the result's size is not (an operand to copy out in
/// the runs where it broadcasts). A dim computed from the size by ops that
/// keep it at 2 or more there (the sequence length clamped to a
/// constant's) cannot: it equals the size or fails the run's check.
bool mayBeBroadcastingOne(Value operandDim, const ResultDim &result) {
  ConstantIntRanges range = RangesWhereSizeIsAtLeastTwo(result.source).of(operandDim);
  return range.smin().sle(1) && range.smax().sge(1);
}

/// `operand` copied out to `sizes` along its dims in `broadcastDims`
/// (the others keep their size): element i reads index i where the dim
/// matches the size and index 0 where it does not (a 1 that broadcasts; or,
/// when the run has already failed its broadcast check, any size: index 0
/// keeps the read in bounds unless the dim is empty, which reads nothing).
Value copyBroadcast(OpBuilder &b, Location loc, Value operand,
                    ArrayRef<std::pair<int64_t, Value>> broadcastDims) {
  IndexMath m{b, loc};
  auto type = cast<RankedTensorType>(operand.getType());
  int64_t rank = type.getRank();
  SmallVector<Value> sizes(rank), operandDims(rank);
  for (int64_t j = 0; j < rank; ++j)
    sizes[j] = operandDims[j] = m.dim(operand, j);
  for (auto [j, size] : broadcastDims)
    sizes[j] = size;
  SmallVector<Value> dynamicSizes;
  for (int64_t j = 0; j < rank; ++j)
    if (type.isDynamicDim(j))
      dynamicSizes.push_back(sizes[j]);
  Value init = emptyWithDims(b, loc, type, dynamicSizes);
  // The elements of the broadcast dims: 0 only when one of them is empty
  // but not in the result, i.e. when the run's broadcast check has failed;
  // nothing is read then.
  Value broadcastElements = m.c(1);
  SmallVector<Value> keepsIndex(rank); // per broadcast dim: operand dim == size
  for (auto [j, size] : broadcastDims) {
    broadcastElements = m.mul(broadcastElements, operandDims[j]);
    keepsIndex[j] = m.cmp(arith::CmpIPredicate::eq, operandDims[j], size);
  }
  auto copy = linalg::GenericOp::create(
      b, loc, TypeRange{type}, ValueRange{}, ValueRange{init},
      SmallVector<AffineMap>{b.getMultiDimIdentityMap(rank)}, parallelIterators(rank),
      [&](OpBuilder &nb, Location nl, ValueRange) {
        IndexMath n{nb, nl};
        SmallVector<Value> index;
        for (int64_t j = 0; j < rank; ++j) {
          Value i = linalg::IndexOp::create(nb, nl, j);
          index.push_back(keepsIndex[j] ? n.select(keepsIndex[j], i, n.c(0)) : i);
        }
        linalg::YieldOp::create(
            nb, nl, extractGathered(nb, nl, operand, index, broadcastElements, true));
      });
  return copy.getResult(0);
}

} // namespace

bool mlir::kiln::lowering::canEmitRuntimeCheck(OpBuilder &b) {
  // Checks fail the run through its context; a function without one (a
  // kiln-opt test, a helper) gets none.
  Operation *parent = b.getInsertionBlock()->getParentOp();
  auto func = dyn_cast<func::FuncOp>(parent);
  if (!func)
    func = parent->getParentOfType<func::FuncOp>();
  return func && runtimeContextArgument(func);
}

void mlir::kiln::lowering::emitRuntimeCheck(OpBuilder &b, Location loc, Value failed,
                                            StringRef message) {
  if (matchPattern(failed, m_Zero()) || !canEmitRuntimeCheck(b))
    return;
  RuntimeCheckOp::create(b, loc, failed, message);
}

RunTimeBroadcast mlir::kiln::lowering::broadcastAtRunTime(OpBuilder &b, Location loc,
                                                          StringRef opType,
                                                          ValueRange operands,
                                                          RankedTensorType resultType,
                                                          bool firstIsOutputSize,
                                                          BroadcastCopies copies) {
  IndexMath m{b, loc};
  int64_t rank = resultType.getRank();
  Value one = m.c(1);
  Value failed;
  auto fail = [&](Value bad) { orInto(b, loc, failed, bad); };

  // The size of each result dim. A static size other than 1 is it (the
  // others must be it or 1). Otherwise, unless every operand's dim is proven
  // the same, the code is specialised: one operand's dim is taken as the
  // size (the first that is an input's dim, else the first), so that later
  // ops can still prove their dims equal to it, and the others broadcast
  // from 1 at run time. That operand's dim being the 1 that broadcasts is
  // the case left out: it fails the run with a message rather than
  // returning a wrong shape.
  SmallVector<ResultDim> result(rank);
  Value sizeIsBroadcast;
  for (int64_t p = 0; p < rank; ++p) {
    if (!resultType.isDynamicDim(p)) {
      result[p].size = m.c(resultType.getDimSize(p));
      result[p].source = DimSource{resultType.getDimSize(p), {}, {}, 0};
      continue;
    }
    std::optional<std::pair<Value, int64_t>> primary;
    for (Value operand : operands) {
      auto type = cast<RankedTensorType>(operand.getType());
      int64_t j = alignedDim(type, rank, p);
      if (j < 0 || type.getDimSize(j) == 1)
        continue; // a static 1 broadcasts through its indexing map
      if (!type.isDynamicDim(j)) {
        primary = {operand, j};
        break;
      }
      if (!primary || (!firstIsOutputSize && isInputDim(traceDim(operand, j)) &&
                       !isInputDim(traceDim(primary->first, primary->second))))
        primary = {operand, j};
    }
    if (!primary) {
      result[p].size = one; // every operand is 1 there
      result[p].source = DimSource{1, {}, {}, 0};
      continue;
    }
    auto [primaryOperand, primaryDim] = *primary;
    result[p].size = dimValue(b, loc, primaryOperand, primaryDim);
    result[p].source = traceDim(primaryOperand, primaryDim);
    // Fails when the size is 1 and another operand's unproven dim is not.
    for (Value operand : operands) {
      auto type = cast<RankedTensorType>(operand.getType());
      int64_t j = alignedDim(type, rank, p);
      if (j < 0 || !mayBroadcast(operand, j, result[p]))
        continue;
      Value bad = arith::AndIOp::create(
          b, loc, m.cmp(arith::CmpIPredicate::eq, result[p].size, one),
          m.cmp(arith::CmpIPredicate::ne, dimValue(b, loc, operand, j), one));
      sizeIsBroadcast =
          sizeIsBroadcast ? arith::OrIOp::create(b, loc, sizeIsBroadcast, bad).getResult() : bad;
    }
  }

  // Every operand dim is 1 or the size; operands whose `?` dims may be a
  // broadcasting 1 are copied out when one is.
  RunTimeBroadcast out;
  for (Value operand : operands) {
    auto type = cast<RankedTensorType>(operand.getType());
    SmallVector<std::pair<int64_t, Value>> broadcastDims;
    Value differs;
    for (int64_t p = 0; p < rank; ++p) {
      int64_t j = alignedDim(type, rank, p);
      if (j < 0 || !mayBroadcast(operand, j, result[p]))
        continue;
      Value d = dimValue(b, loc, operand, j);
      Value notSize = m.cmp(arith::CmpIPredicate::ne, d, result[p].size);
      fail(arith::AndIOp::create(b, loc, notSize, m.cmp(arith::CmpIPredicate::ne, d, one)));
      if (!mayBeBroadcastingOne(d, result[p]))
        continue; // equal or the run fails: read as it is
      differs = differs ? arith::OrIOp::create(b, loc, differs, notSize).getResult() : notSize;
      broadcastDims.push_back({j, result[p].size});
    }
    if (!differs || matchPattern(differs, m_Zero()) || copies == BroadcastCopies::ChecksOnly) {
      out.operands.push_back(operand);
      continue;
    }
    if (copies == BroadcastCopies::Always) {
      out.operands.push_back(copyBroadcast(b, loc, operand, broadcastDims));
      continue;
    }
    auto branch = scf::IfOp::create(b, loc, TypeRange{type}, differs, /*withElseRegion=*/true);
    OpBuilder thenBuilder = branch.getThenBodyBuilder();
    scf::YieldOp::create(thenBuilder, loc, copyBroadcast(thenBuilder, loc, operand, broadcastDims));
    OpBuilder elseBuilder = branch.getElseBodyBuilder();
    scf::YieldOp::create(elseBuilder, loc, operand);
    out.operands.push_back(branch.getResult(0));
  }
  if (sizeIsBroadcast)
    emitRuntimeCheck(
        b, loc, sizeIsBroadcast,
        describeNode(loc, opType) +
            ": a dim of an input is 1 at run time and broadcasts against a larger dim of "
            "another input, where Kiln compiled this node taking that dim as the output's "
            "size (a dim only known at run time); give the model's inputs fixed sizes with "
            "--input-shape, or feed shapes that do not broadcast there");
  if (failed)
    emitRuntimeCheck(b, loc, failed,
                     describeNode(loc, opType) +
                         ": the inputs' shapes cannot be broadcast together (at run time a dim "
                         "is neither 1 nor the size of the other inputs' dims there)");
  for (int64_t p = 0; p < rank; ++p)
    if (resultType.isDynamicDim(p))
      out.resultDims.push_back(result[p].size);
  return out;
}
