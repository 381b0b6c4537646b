//===- IndexGrids.cpp - Index tensors that are functions of their position ===//

#include "IndexGrids.h"
#include "LoweringUtils.h"
#include "ShapeOperands.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

std::optional<IndexGrid> mlir::kiln::lowering::gridOf(Value v) {
  if (auto range = v.getDefiningOp<RangeOp>()) {
    if (!getElementTypeOrSelf(range.getType()).isSignlessInteger())
      return std::nullopt;
    return IndexGrid{range, 0, false};
  }
  if (auto unsqueeze = v.getDefiningOp<UnsqueezeOp>()) {
    std::optional<IndexGrid> grid = gridOf(unsqueeze.getInput());
    if (!grid || grid->dim < 0)
      return grid;
    // The input's dims keep their order among the output's; the axes are
    // the output positions of the new dims.
    int64_t outputRank = cast<RankedTensorType>(unsqueeze.getType()).getRank();
    for (int64_t out = 0, in = 0; out < outputRank; ++out) {
      if (llvm::is_contained(unsqueeze.getAxes(), out))
        continue;
      if (in++ == grid->dim) {
        grid->dim = out;
        return grid;
      }
    }
    return std::nullopt;
  }
  if (auto expand = v.getDefiningOp<ExpandOp>()) {
    std::optional<IndexGrid> grid = gridOf(expand.getInput());
    if (!grid || grid->dim < 0)
      return grid;
    auto inputType = cast<RankedTensorType>(expand.getInput().getType());
    int64_t size = inputType.getDimSize(grid->dim);
    if (size == 1) {
      grid->dim = -1; // broadcast, or a dim of 1 whose coordinate is 0
      return grid;
    }
    grid->mayBroadcast |= ShapedType::isDynamic(size);
    grid->dim += cast<RankedTensorType>(expand.getType()).getRank() - inputType.getRank();
    return grid;
  }
  return std::nullopt;
}

/// Whether `v` is a one-element integer tensor (rank at most `rank`): a
/// scale an affine grid's term can carry.
static bool isScale(Value v, int64_t rank) {
  auto type = cast<RankedTensorType>(v.getType());
  return type.getElementType().isSignlessInteger() && type.hasStaticShape() &&
         type.getNumElements() == 1 && type.getRank() <= rank;
}

/// `operand`'s terms in the coordinates of the broadcast result of rank
/// `rank` (numpy alignment) with `others`: a dim of static size 1
/// broadcasts, so no dim carries its coordinate; one only known at run time
/// may, where another operand has a dim there that is not a static 1.
static std::optional<SmallVector<GridTerm>> termsIn(Value operand, int64_t rank,
                                                    ValueRange others) {
  std::optional<SmallVector<GridTerm>> terms = affineGridOf(operand);
  if (!terms)
    return std::nullopt;
  auto type = cast<RankedTensorType>(operand.getType());
  auto othersMayBeWider = [&](int64_t resultDim) {
    return llvm::any_of(others, [&](Value other) {
      auto otherType = cast<RankedTensorType>(other.getType());
      int64_t j = resultDim - (rank - otherType.getRank());
      return j >= 0 && otherType.getDimSize(j) != 1;
    });
  };
  for (GridTerm &term : *terms) {
    int64_t &dim = term.grid.dim;
    if (dim < 0)
      continue;
    if (type.getDimSize(dim) == 1) {
      dim = -1;
      continue;
    }
    int64_t resultDim = dim + rank - type.getRank();
    term.grid.mayBroadcast |= type.isDynamicDim(dim) && othersMayBeWider(resultDim);
    dim = resultDim;
  }
  return terms;
}

std::optional<SmallVector<GridTerm>> mlir::kiln::lowering::affineGridOf(Value v) {
  if (std::optional<IndexGrid> grid = gridOf(v))
    return SmallVector<GridTerm>{GridTerm{*grid, {}}};
  int64_t rank = cast<RankedTensorType>(v.getType()).getRank();
  if (auto add = v.getDefiningOp<AddOp>()) {
    std::optional<SmallVector<GridTerm>> lhs = termsIn(add.getLhs(), rank, add.getRhs());
    std::optional<SmallVector<GridTerm>> rhs =
        lhs ? termsIn(add.getRhs(), rank, add.getLhs()) : std::nullopt;
    if (!rhs)
      return std::nullopt;
    lhs->append(*rhs);
    return lhs;
  }
  if (auto mul = v.getDefiningOp<MulOp>()) {
    Value grid = mul.getLhs(), scale = mul.getRhs();
    if (!isScale(scale, rank))
      std::swap(grid, scale);
    if (!isScale(scale, rank))
      return std::nullopt;
    std::optional<SmallVector<GridTerm>> terms = termsIn(grid, rank, scale);
    if (terms)
      for (GridTerm &term : *terms)
        term.scales.push_back(scale);
    return terms;
  }
  return std::nullopt;
}

GridValues mlir::kiln::lowering::gridValues(OpBuilder &b, Location loc, const IndexGrid &grid) {
  IndexMath m{b, loc};
  RangeOp range = grid.range;
  auto scalar = [&](Value t) { return shapeElementAsIndex(b, loc, t, 0); };
  Value start = scalar(range.getStart()), delta = scalar(range.getDelta());
  // The Range's length, as its lowering computes it. A step of 0 fails the
  // run, as there (the grid stands in for the Range, which may never be
  // lowered); it counts as 1 here rather than divide by 0.
  Value zeroDelta = checkRangeDelta(b, range.getLoc(), shapeElement(b, loc, range.getDelta(), 0));
  Value length = m.dim(range, 0);
  if (cast<RankedTensorType>(range.getType()).isDynamicDim(0)) {
    Value limit = scalar(range.getLimit());
    Value step = m.select(zeroDelta, m.c(1), delta);
    length = isArangeOfDim(start, limit, delta)
                 ? limit
                 : m.max(m.ceilDiv(m.sub(limit, start), step), m.c(0));
  }
  Value flat = grid.mayBroadcast ? m.cmp(arith::CmpIPredicate::eq, length, m.c(1))
                                 : arith::ConstantIntOp::create(b, loc, 0, 1);
  Value count = grid.dim < 0 ? m.c(1) : m.select(flat, m.c(1), length);
  return {start, delta, flat, count, length};
}

TermValues mlir::kiln::lowering::termValues(OpBuilder &b, Location loc, const GridTerm &term) {
  IndexMath m{b, loc};
  Value scale = m.c(1);
  bool nonNegative = true;
  for (Value s : term.scales) {
    // A scale read off a shape (TorchScript's S in b * S + s) is that dim.
    Value factor = shapeElementAsIndex(b, loc, s, 0);
    std::optional<int64_t> constant = getConstantIntValue(factor);
    nonNegative &= constant ? *constant >= 0 : traceIndex(factor).tensor != nullptr;
    scale = m.mul(scale, factor);
  }
  return {gridValues(b, loc, term.grid), scale, nonNegative};
}

Value mlir::kiln::lowering::affineGridIndex(OpBuilder &b, Location loc, ArrayRef<GridTerm> terms,
                                            ArrayRef<TermValues> values,
                                            ArrayRef<Value> position) {
  IndexMath m{b, loc};
  Value index = m.c(0);
  for (auto [term, value] : llvm::zip_equal(terms, values)) {
    // start + delta * the coordinate of the grid's dim, times the scale.
    const GridValues &grid = value.grid;
    int64_t d = term.grid.dim;
    Value element =
        d < 0 ? grid.start
              : m.add(grid.start, m.mul(grid.delta, m.select(grid.flat, m.c(0), position[d])));
    index = m.add(index, m.mul(value.scale, element));
  }
  return index;
}

/// The value whose dims `v` has, through elementwise ops of one operand
/// (kiln.cast, the unary ops): the data a gather reads is often a graph
/// input cast (the attention mask to bool), still a kiln op while the
/// grids are lowered.
static Value sameDimsAs(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (def->getNumOperands() != 1 ||
        !(isa<CastOp>(def) || def->hasTrait<OpTrait::SameOperandsAndResultType>()))
      break;
    v = def->getOperand(0);
  }
  return v;
}

bool mlir::kiln::lowering::inRangeByConstruction(ArrayRef<GridTerm> terms,
                                                 ArrayRef<TermValues> values, Value data,
                                                 int64_t d) {
  if (terms.size() != 1 || !terms.front().scales.empty())
    return false;
  const GridValues &grid = values.front().grid;
  return getConstantIntValue(grid.start) == 0 && getConstantIntValue(grid.delta) == 1 &&
         traceIndex(grid.length) == traceDim(sameDimsAs(data), d);
}

namespace {
/// 64-bit arithmetic on index scalars (host code) that records whether any
/// step overflowed.
struct CheckedMath {
  OpBuilder &b;
  Location loc;
  Value overflowed;

  Value i64(Value index) const {
    return arith::IndexCastOp::create(b, loc, b.getI64Type(), index);
  }
  void note(Value flag) { overflowed = arith::OrIOp::create(b, loc, overflowed, flag); }
  Value negative(Value v) const {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, v,
                                 arith::ConstantIntOp::create(b, loc, 0, 64));
  }
  Value add(Value l, Value r) {
    Value sum = arith::AddIOp::create(b, loc, l, r);
    // Overflow: both operands' signs differ from the sum's.
    note(negative(arith::AndIOp::create(b, loc, arith::XOrIOp::create(b, loc, l, sum),
                                        arith::XOrIOp::create(b, loc, r, sum))));
    return sum;
  }
  Value sub(Value l, Value r) {
    Value difference = arith::SubIOp::create(b, loc, l, r);
    // Overflow: the operands' signs differ, and the result's is not l's.
    note(negative(arith::AndIOp::create(b, loc, arith::XOrIOp::create(b, loc, l, r),
                                        arith::XOrIOp::create(b, loc, l, difference))));
    return difference;
  }
  Value mul(Value l, Value r) {
    auto product = arith::MulSIExtendedOp::create(b, loc, l, r);
    // Overflow: the high word is not the low word's sign extension.
    Value sign = arith::ShRSIOp::create(b, loc, product.getLow(),
                                        arith::ConstantIntOp::create(b, loc, 63, 64));
    note(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, product.getHigh(), sign));
    return product.getLow();
  }
};
} // namespace

void mlir::kiln::lowering::checkAffineGridInRange(OpBuilder &b, Location loc,
                                                  ArrayRef<TermValues> values, Value bound,
                                                  StringRef opName) {
  IndexMath m{b, loc};
  CheckedMath c{b, loc, arith::ConstantIntOp::create(b, loc, 0, 1)};
  Value zero = arith::ConstantIntOp::create(b, loc, 0, 64);
  Value one = arith::ConstantIntOp::create(b, loc, 1, 64);
  Value lowest = zero, highest = zero;
  Value nonEmpty = arith::ConstantIntOp::create(b, loc, 1, 1);
  for (const TermValues &value : values) {
    const GridValues &grid = value.grid;
    Value scale = c.i64(value.scale), start = c.i64(grid.start);
    Value first = c.mul(scale, start);
    Value last = c.mul(
        scale, c.add(start, c.mul(c.i64(grid.delta), c.sub(c.i64(grid.count), one))));
    lowest = c.add(lowest, arith::MinSIOp::create(b, loc, first, last));
    highest = c.add(highest, arith::MaxSIOp::create(b, loc, first, last));
    nonEmpty = arith::AndIOp::create(b, loc, nonEmpty,
                                     m.cmp(arith::CmpIPredicate::sgt, grid.count, m.c(0)));
  }
  // An overflow fails the run as an index past the dim would.
  Value highestIndex = m.select(c.overflowed, bound, arith::IndexCastOp::create(
                                                         b, loc, b.getIndexType(), highest));
  checkIndexSpanInRange(b, loc, arith::IndexCastOp::create(b, loc, b.getIndexType(), lowest),
                        highestIndex, nonEmpty, bound, opName);
}

void mlir::kiln::lowering::checkGridExtents(OpBuilder &b, Location loc, ArrayRef<GridTerm> terms,
                                            ArrayRef<TermValues> values,
                                            ArrayRef<Value> extents, StringRef opName) {
  Value mismatch = arith::ConstantIntOp::create(b, loc, 0, 1);
  for (auto [term, value] : llvm::zip_equal(terms, values)) {
    int64_t d = term.grid.dim;
    if (d < 0 || traceIndex(value.grid.length) == traceIndex(extents[d]))
      continue;
    // A flat grid (a Range of one value broadcast) fits any extent.
    Value differs = b.createOrFold<arith::CmpIOp>(loc, arith::CmpIPredicate::ne,
                                                  value.grid.length, extents[d]);
    Value fits = b.createOrFold<arith::XOrIOp>(loc, value.grid.flat,
                                               arith::ConstantIntOp::create(b, loc, 1, 1));
    mismatch = b.createOrFold<arith::OrIOp>(
        loc, mismatch, b.createOrFold<arith::AndIOp>(loc, differs, fits));
  }
  if (matchPattern(mismatch, m_Zero()))
    return;
  emitRuntimeCheck(b, loc, mismatch,
                   describeNode(loc, opName) +
                       ": its indices, built from Range ops, broadcast a Range of more than "
                       "one value to another length");
}

/// Whether the scalar `v` is computed from constants and dims only. A
/// tensor element enters it only as an element of a dense constant at
/// constant indices, which canonicalization folds: kiln-lower-runtime-checks
/// then sees no tensor read, and places the check on the host.
static bool fromShapesOnly(Value v, unsigned depth = 0) {
  constexpr unsigned kMaxDepth = 32;
  if (matchPattern(v, m_Constant()))
    return true;
  Operation *def = v.getDefiningOp();
  if (!def || depth == kMaxDepth)
    return false;
  if (isa<tensor::DimOp>(def))
    return true;
  if (auto extract = dyn_cast<tensor::ExtractOp>(def)) {
    DenseElementsAttr elements;
    return matchPattern(extract.getTensor(), m_Constant(&elements)) &&
           llvm::all_of(extract.getIndices(),
                        [](Value i) { return matchPattern(i, m_Constant()); });
  }
  if (def->getNumRegions() != 0 || !isPure(def) ||
      llvm::any_of(def->getOperandTypes(), llvm::IsaPred<TensorType>))
    return false;
  return llvm::all_of(def->getOperands(),
                      [&](Value operand) { return fromShapesOnly(operand, depth + 1); });
}

bool mlir::kiln::lowering::checkedBeforeGather(ArrayRef<TermValues> values) {
  return llvm::all_of(values, [](const TermValues &value) {
    const GridValues &grid = value.grid;
    return fromShapesOnly(value.scale) && fromShapesOnly(grid.start) &&
           fromShapesOnly(grid.delta) && fromShapesOnly(grid.count);
  });
}

bool mlir::kiln::lowering::mayBeNegative(ArrayRef<TermValues> values) {
  auto nonNegativeConstant = [](Value v) {
    std::optional<int64_t> c = getConstantIntValue(v);
    return c && *c >= 0;
  };
  return !llvm::all_of(values, [&](const TermValues &value) {
    return value.scaleNonNegative && nonNegativeConstant(value.grid.start) &&
           nonNegativeConstant(value.grid.delta);
  });
}
