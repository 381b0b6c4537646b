//===- GridSampleToLinalg.cpp - kiln.grid_sample to a linalg.generic ------===//
//
// One linalg.generic over the result (N, C, O1, ..., Ok). For each input
// spatial dim the body reads its normalised coordinate from the grid
// (tensor.extract; the grid lists the last dim's first), maps it to an input
// coordinate in f64 (align_corners), rounds it half to even for nearest, and
// moves it inside the input for border (clamp) and reflection (mirror) padding,
// as ONNX's reference does. The coordinate's taps, pairs of an input index and
// a weight (one for nearest, two for linear, four for cubic), are padded again
// per index: zeros masks the indices outside the input, border clamps them,
// reflection mirrors them. Indices are clamped to the input before the read,
// so every tensor.extract stays in bounds. The result is the sum, over every
// combination of one tap per dim, of the weights' product times the element.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

namespace {

/// One input spatial dim: its size and the borders coordinates are kept in
/// (f64 values defined outside the generic).
struct SampledDim {
  Value size;       // f64
  Value low, high;  // [-0.5, size - 0.5], or [0, size - 1] with align_corners
};

/// A tap of one dim: an integral f64 input coordinate (maybe outside the
/// input) and its weight (null for a weight of 1).
struct Tap {
  Value at;
  Value weight;
};

struct GridSampleToGeneric : OpRewritePattern<GridSampleOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(GridSampleOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    IndexMath m{rewriter, loc};
    FloatMath f{rewriter, loc};
    Value x = op.getInput(), grid = op.getGrid();
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t rank = resultType.getRank(), spatial = rank - 2;
    bool align = op.getAlignCorners();

    SmallVector<Value> dynamicDims;
    for (int64_t i = 0; i < rank; ++i)
      if (resultType.isDynamicDim(i))
        dynamicDims.push_back(i < 2 ? m.dim(x, i) : m.dim(grid, i - 1));
    SmallVector<SampledDim> dims;
    for (int64_t i = 0; i < spatial; ++i) {
      Value size = f.fromIndex(m.dim(x, i + 2));
      dims.push_back({size, align ? f.c(0) : f.c(-0.5),
                      align ? f.sub(size, f.c(1)) : f.sub(size, f.c(0.5))});
    }

    Value init = emptyWithDims(rewriter, loc, resultType, dynamicDims);
    Type element = resultType.getElementType();
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{resultType}, ValueRange{}, ValueRange{init},
        ArrayRef<AffineMap>{rewriter.getMultiDimIdentityMap(rank)}, parallelIterators(rank),
        [&](OpBuilder &b, Location l, ValueRange) {
          FloatMath bf{b, l};
          SmallVector<Value> loops;
          for (int64_t i = 0; i < rank; ++i)
            loops.push_back(linalg::IndexOp::create(b, l, i));
          SmallVector<SmallVector<Tap>> taps;
          for (int64_t i = 0; i < spatial; ++i) {
            SmallVector<Value> at{loops[0]};
            at.append(loops.begin() + 2, loops.end());
            at.push_back(arith::ConstantIndexOp::create(b, l, spatial - 1 - i));
            Value g = tensor::ExtractOp::create(b, l, grid, at);
            if (!g.getType().isF64())
              g = arith::ExtFOp::create(b, l, b.getF64Type(), g);
            taps.push_back(tapsFor(op, bf, coordinate(op, bf, g, dims[i]), dims[i]));
          }
          linalg::YieldOp::create(b, l, combine(op, b, l, loops, taps, dims, element));
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }

  /// The input coordinate of the normalised grid value `g`: rounded for
  /// nearest, and moved inside the borders for border and reflection padding.
  static Value coordinate(GridSampleOp op, const FloatMath &f, Value g, const SampledDim &d) {
    using P = arith::CmpFPredicate;
    Value plusOne = f.add(g, f.c(1));
    Value c = op.getAlignCorners() ? f.mul(f.div(plusOne, f.c(2)), f.sub(d.size, f.c(1)))
                                   : f.div(f.sub(f.mul(plusOne, d.size), f.c(1)), f.c(2));
    if (op.getMode() == "nearest")
      c = math::RoundEvenOp::create(f.b, f.loc, c);
    StringRef padding = op.getPaddingMode();
    if (padding == "reflection")
      return reflect(f, c, d);
    if (padding == "border") {
      Value below = f.cmp(P::OLT, c, d.low);
      Value above = f.cmp(P::OGT, c, d.high);
      Value outside = arith::OrIOp::create(f.b, f.loc, below, above);
      return f.select(outside, clampToInput(f, c, d), c);
    }
    return c;
  }

  /// `c` clamped to [0, size - 1] (NaN becomes 0).
  static Value clampToInput(const FloatMath &f, Value c, const SampledDim &d) {
    Value low = arith::MaxNumFOp::create(f.b, f.loc, c, f.c(0));
    return arith::MinNumFOp::create(f.b, f.loc, low, f.sub(d.size, f.c(1)));
  }

  /// `c` mirrored at the borders until it lies between them.
  static Value reflect(const FloatMath &f, Value c, const SampledDim &d) {
    using P = arith::CmpFPredicate;
    OpBuilder &b = f.b;
    Value span = f.sub(d.high, d.low);
    Value below = f.cmp(P::OLT, c, d.low), above = f.cmp(P::OGT, c, d.high);
    Value distance = f.select(below, f.sub(d.low, c), f.sub(c, d.high));
    Value flips = math::FloorOp::create(b, f.loc, f.div(distance, span));
    Value rest = f.sub(distance, f.mul(flips, span));
    Value half = math::FloorOp::create(b, f.loc, f.div(flips, f.c(2)));
    Value odd = f.cmp(P::OEQ, f.sub(flips, f.mul(half, f.c(2))), f.c(1));
    Value fromLow = f.select(odd, f.sub(d.high, rest), f.add(d.low, rest));
    Value fromHigh = f.select(odd, f.add(d.low, rest), f.sub(d.high, rest));
    return f.select(below, fromLow, f.select(above, fromHigh, c));
  }

  /// The taps of input coordinate `c`.
  static SmallVector<Tap> tapsFor(GridSampleOp op, const FloatMath &f, Value c,
                                  const SampledDim &d) {
    StringRef mode = op.getMode();
    if (mode == "nearest")
      return {Tap{c, Value()}};
    Value low = math::FloorOp::create(f.b, f.loc, c);
    Value ratio = f.sub(c, low);
    SmallVector<int64_t> offsets{0, 1};
    SmallVector<Value> weights{f.sub(f.c(1), ratio), ratio};
    if (mode == "cubic") {
      offsets = {-1, 0, 1, 2};
      weights = keysCubicWeights(f, ratio, -0.75);
    }
    SmallVector<Tap> taps;
    for (auto [offset, weight] : llvm::zip(offsets, weights))
      taps.push_back(Tap{f.add(low, f.c((double)offset)), weight});
    return taps;
  }

  /// The sum over one tap per dim of the weights' product times the input
  /// element there, or 0 where zeros padding masks one of the taps.
  static Value combine(GridSampleOp op, OpBuilder &b, Location l, ArrayRef<Value> loops,
                       ArrayRef<SmallVector<Tap>> taps, ArrayRef<SampledDim> dims,
                       Type element) {
    using P = arith::CmpFPredicate;
    FloatMath f{b, l};
    StringRef padding = op.getPaddingMode();
    // Per dim and tap: the index read and, for zeros padding, whether it is
    // inside the input.
    SmallVector<SmallVector<std::pair<Value, Value>>> reads;
    for (auto [dimTaps, d] : llvm::zip(taps, dims)) {
      auto &dimReads = reads.emplace_back();
      for (const Tap &tap : dimTaps) {
        Value at = padding == "reflection" ? reflect(f, tap.at, d) : tap.at;
        Value inside;
        if (padding == "zeros") {
          Value notBelow = f.cmp(P::OGE, at, f.c(0));
          Value notAbove = f.cmp(P::OLT, at, d.size);
          inside = arith::AndIOp::create(b, l, notBelow, notAbove);
        }
        dimReads.push_back({f.toIndex(clampToInput(f, at, d)), inside});
      }
    }
    Type compute = signless(element);
    Value zero = scalarConstant(b, l, compute, 0);
    SmallVector<int64_t> counts;
    for (const auto &dimTaps : taps)
      counts.push_back(dimTaps.size());
    return sumOverTaps(
        b, l, counts, element, [&](int64_t i, int64_t tap) { return taps[i][tap].weight; },
        [&](ArrayRef<int64_t> choice) {
          SmallVector<Value> indices{loops[0], loops[1]};
          Value inside;
          for (auto [dimReads, tap] : llvm::zip(reads, choice)) {
            auto [index, in] = dimReads[tap];
            indices.push_back(index);
            if (in)
              inside = inside ? (Value)arith::AndIOp::create(b, l, inside, in) : in;
          }
          Value v = tensor::ExtractOp::create(b, l, op.getInput(), indices);
          if (!inside)
            return v;
          Value masked = arith::SelectOp::create(b, l, inside, reinterpret(b, l, v, compute), zero);
          return reinterpret(b, l, masked, element);
        });
  }
};

} // namespace

void mlir::kiln::lowering::populateGridSampleLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<GridSampleToGeneric>(patterns.getContext());
}
