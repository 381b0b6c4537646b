//===- ResizeToLinalg.cpp - kiln.resize to a linalg.generic ---------------===//
//
// One linalg.generic over the result. For each resized dim the body maps the
// output index to an input coordinate (coordinate_transformation_mode, in
// f64 as ONNX's reference does) and turns it into taps, pairs of an input
// index (clamped to the input: the reference pads by repeating the edge)
// and a weight: one tap for nearest, two for linear, four for cubic. The
// result is the sum, over every combination of one tap per dim, of the
// product of the weights times the input element there (tensor.extract).
// Dims whose scale is a constant 1 (and that tf_crop_and_resize does not
// crop) are copied: their tap is the output index itself.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "kiln/Dialect/Kiln/KilnShapeUtils.h"
#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

namespace {

/// An input index and its weight (null for a weight of 1).
struct Tap {
  Value index;
  Value weight;
};

/// What the body needs to know about one resized dim (values defined
/// outside the generic).
struct ResizedDim {
  Value in;          // index: the input size
  Value inF;         // f64: the input size
  Value scale;       // f64
  std::optional<double> knownScale;
  Value outF;        // f64: the output size
  Value roiStart;    // f64, tf_crop_and_resize only
  Value roiEnd;      // f64, tf_crop_and_resize only
};

/// Element `i` of the 1-D float tensor `v` as an f64 (folded for constants).
Value elementAsF64(OpBuilder &b, Location loc, Value v, int64_t i) {
  Value index = arith::ConstantIndexOp::create(b, loc, i);
  Value e = b.createOrFold<tensor::ExtractOp>(loc, v, ValueRange{index});
  if (e.getType().isF64())
    return e;
  return b.createOrFold<arith::ExtFOp>(loc, b.getF64Type(), e);
}

struct ResizeToGeneric : OpRewritePattern<ResizeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ResizeOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    IndexMath m{rewriter, loc};
    FloatMath f{rewriter, loc};
    Value x = op.getInput();
    auto type = cast<RankedTensorType>(x.getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank();
    StringRef transform = op.getCoordinateTransformationMode();
    bool crop = transform == "tf_crop_and_resize";
    auto constantScales = getConstantFloatValues(op.getScales());
    auto constantRoi = getConstantFloatValues(op.getRoi());

    SmallVector<std::optional<ResizedDim>> dims;
    SmallVector<Value> dynamicDims;
    for (int64_t i = 0; i < rank; ++i) {
      bool fullRoi = !crop || (constantRoi && (*constantRoi)[i] == 0.0 &&
                               (*constantRoi)[i + rank] == 1.0);
      bool copied = constantScales && (*constantScales)[i] == 1.0 && fullRoi &&
                    resultType.getDimSize(i) == type.getDimSize(i);
      ResizedDim dim;
      dim.in = m.dim(x, i);
      if (resultType.isDynamicDim(i)) {
        // floor(in * scale), as inferred when the scales are known.
        Value scale = elementAsF64(rewriter, loc, op.getScales(), i);
        Value size = math::FloorOp::create(rewriter, loc, f.mul(f.fromIndex(dim.in), scale));
        dynamicDims.push_back(f.toIndex(size));
      }
      if (copied) {
        dims.push_back(std::nullopt);
        continue;
      }
      dim.inF = f.fromIndex(dim.in);
      dim.scale = elementAsF64(rewriter, loc, op.getScales(), i);
      if (constantScales)
        dim.knownScale = (*constantScales)[i];
      else if (op.getAntialias())
        return rewriter.notifyMatchFailure(op, "antialias needs constant scales");
      dim.outF = f.mul(dim.scale, dim.inF);
      if (crop) {
        dim.roiStart = elementAsF64(rewriter, loc, op.getRoi(), i);
        dim.roiEnd = elementAsF64(rewriter, loc, op.getRoi(), i + rank);
      }
      dims.push_back(dim);
    }
    SmallVector<Value> outSizes;
    for (int64_t i = 0, next = 0; i < rank; ++i)
      outSizes.push_back(resultType.isDynamicDim(i) ? dynamicDims[next++]
                                                    : m.c(resultType.getDimSize(i)));

    Value init = emptyWithDims(rewriter, loc, resultType, dynamicDims);
    Type element = resultType.getElementType();
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{resultType}, ValueRange{}, ValueRange{init},
        ArrayRef<AffineMap>{rewriter.getMultiDimIdentityMap(rank)}, parallelIterators(rank),
        [&](OpBuilder &b, Location l, ValueRange) {
          FloatMath bf{b, l};
          IndexMath bm{b, l};
          SmallVector<SmallVector<Tap>> taps;
          Value outside; // tf_crop_and_resize: the coordinate lies outside the input
          for (int64_t i = 0; i < rank; ++i) {
            Value loop = linalg::IndexOp::create(b, l, i);
            if (!dims[i]) {
              taps.push_back({Tap{loop, Value()}});
              continue;
            }
            const ResizedDim &d = *dims[i];
            Value coordinate = inputCoordinate(op, bf, bf.fromIndex(loop), d,
                                               bf.fromIndex(outSizes[i]));
            if (crop) {
              Value below = bf.cmp(arith::CmpFPredicate::OLT, coordinate, bf.c(0));
              Value above =
                  bf.cmp(arith::CmpFPredicate::OGT, coordinate, bf.sub(d.inF, bf.c(1)));
              Value out = arith::OrIOp::create(b, l, below, above);
              outside = outside ? (Value)arith::OrIOp::create(b, l, outside, out) : out;
            }
            taps.push_back(tapsFor(op, bf, bm, coordinate, d));
          }
          Value v = combine(b, l, x, taps, element);
          if (outside) {
            Value extrapolation = scalarConstant(b, l, signless(element),
                                                 op.getExtrapolationValue().convertToDouble());
            v = reinterpret(b, l,
                            arith::SelectOp::create(b, l, outside, extrapolation,
                                                    reinterpret(b, l, v, signless(element))),
                            element);
          }
          linalg::YieldOp::create(b, l, v);
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }

  /// The input coordinate of output coordinate `xo` of a dim.
  static Value inputCoordinate(ResizeOp op, const FloatMath &f, Value xo, const ResizedDim &d,
                               Value outInt) {
    StringRef transform = op.getCoordinateTransformationMode();
    Value half = f.c(0.5);
    Value isOne = f.cmp(arith::CmpFPredicate::OEQ, d.outF, f.c(1));
    Value halfPixel = f.sub(f.div(f.add(xo, half), d.scale), half);
    if (transform == "half_pixel")
      return halfPixel;
    if (transform == "asymmetric")
      return f.div(xo, d.scale);
    if (transform == "pytorch_half_pixel")
      return f.select(isOne, f.c(-0.5), halfPixel);
    Value inMinusOne = f.sub(d.inF, f.c(1));
    if (transform == "align_corners")
      return f.select(isOne, f.c(0),
                      f.div(f.mul(xo, inMinusOne), f.sub(d.outF, f.c(1))));
    if (transform == "half_pixel_symmetric") {
      Value adjustment = f.div(outInt, d.outF);
      Value offset = f.mul(f.div(d.inF, f.c(2)), f.sub(f.c(1), adjustment));
      return f.add(offset, halfPixel);
    }
    // tf_crop_and_resize
    Value span = f.mul(f.sub(d.roiEnd, d.roiStart), inMinusOne);
    Value mapped = f.select(isOne, f.div(span, f.c(2)),
                            f.div(f.mul(xo, span), f.sub(d.outF, f.c(1))));
    return f.add(mapped, f.mul(d.roiStart, inMinusOne));
  }

  /// The taps of input coordinate `c` of a dim.
  static SmallVector<Tap> tapsFor(ResizeOp op, const FloatMath &f, const IndexMath &m, Value c,
                                  const ResizedDim &d) {
    OpBuilder &b = f.b;
    Location l = f.loc;
    // i0 = ceil(c) - 1 and ratio = c - i0 in (0, 1]: the reference prefers the
    // neighbours below c, so an integer c is the upper neighbour at ratio 1.
    Value i0 = f.sub(math::CeilOp::create(b, l, c), f.c(1));
    Value ratio = f.sub(c, i0);
    Value lowIndex = f.toIndex(i0);
    auto clamped = [&](Value i) { return m.min(m.max(i, m.c(0)), m.sub(d.in, m.c(1))); };
    StringRef mode = op.getMode();
    if (mode == "nearest") {
      using P = arith::CmpFPredicate;
      Value isInteger = f.cmp(P::OEQ, ratio, f.c(1));
      Value upper;
      StringRef nearest = op.getNearestMode();
      if (nearest == "round_prefer_floor")
        upper = f.cmp(P::OGT, ratio, f.c(0.5));
      else if (nearest == "round_prefer_ceil")
        upper = f.cmp(P::OGE, ratio, f.c(0.5));
      else
        upper = arith::ConstantIntOp::create(b, l, nearest == "ceil", 1);
      upper = arith::OrIOp::create(b, l, upper, isInteger);
      Value index = m.select(upper, m.add(lowIndex, m.c(1)), lowIndex);
      return {Tap{clamped(index), Value()}};
    }
    SmallVector<int64_t> offsets;
    SmallVector<Value> weights;
    if (op.getAntialias() && *d.knownScale < 1.0) {
      antialiasTaps(op, f, ratio, *d.knownScale, offsets, weights);
    } else if (mode == "linear") {
      offsets = {0, 1};
      weights = {f.sub(f.c(1), ratio), ratio};
    } else {
      offsets = {-1, 0, 1, 2};
      weights = keysCubicWeights(f, ratio, op.getCubicCoeffA().convertToDouble());
    }
    SmallVector<Tap> taps;
    Value total = f.c(0);
    for (auto [offset, weight] : llvm::zip(offsets, weights)) {
      Value index = m.add(lowIndex, m.c(offset));
      if (op.getExcludeOutside()) {
        Value inside = arith::AndIOp::create(
            b, l, m.cmp(arith::CmpIPredicate::sge, index, m.c(0)),
            m.cmp(arith::CmpIPredicate::slt, index, d.in));
        weight = f.select(inside, weight, f.c(0));
        total = f.add(total, weight);
      }
      taps.push_back(Tap{clamped(index), weight});
    }
    if (op.getExcludeOutside())
      for (Tap &tap : taps)
        tap.weight = f.div(tap.weight, total);
    return taps;
  }

  /// The taps of antialiased downsampling by `scale` < 1: the filter is
  /// stretched by 1 / scale, so offsets start .. 1 - start around i0 with
  /// start = floor(-support / scale) + 1, each weighted by the filter at
  /// (offset - ratio) * scale, normalised to sum to 1.
  static void antialiasTaps(ResizeOp op, const FloatMath &f, Value ratio, double scale,
                            SmallVectorImpl<int64_t> &offsets, SmallVectorImpl<Value> &weights) {
    OpBuilder &b = f.b;
    Location l = f.loc;
    bool cubic = op.getMode() == "cubic";
    double a = op.getCubicCoeffA().convertToDouble();
    int64_t start = (int64_t)std::floor((cubic ? -2.0 : -1.0) / scale) + 1;
    Value total = f.c(0);
    for (int64_t offset = start; offset < 2 - start; ++offset) {
      Value t = math::AbsFOp::create(b, l, f.mul(f.sub(f.c((double)offset), ratio), f.c(scale)));
      Value w;
      if (!cubic) {
        // max(0, 1 - |t|)
        w = arith::MaximumFOp::create(b, l, f.sub(f.c(1), t), f.c(0));
      } else {
        // Keys' kernel: |t| <= 1, 1 < |t| < 2, else 0.
        Value t2 = f.mul(t, t), t3 = f.mul(t2, t);
        Value nearW = f.add(f.sub(f.mul(f.c(a + 2), t3), f.mul(f.c(a + 3), t2)), f.c(1));
        Value farW = f.sub(f.add(f.sub(f.mul(f.c(a), t3), f.mul(f.c(5 * a), t2)), f.mul(f.c(8 * a), t)),
                           f.c(4 * a));
        w = f.select(f.cmp(arith::CmpFPredicate::OLE, t, f.c(1)), nearW,
                     f.select(f.cmp(arith::CmpFPredicate::OLT, t, f.c(2)), farW, f.c(0)));
      }
      offsets.push_back(offset);
      weights.push_back(w);
      total = f.add(total, w);
    }
    for (Value &w : weights)
      w = f.div(w, total);
  }

  /// sum over one tap per dim of the weights' product times x there.
  static Value combine(OpBuilder &b, Location l, Value x, ArrayRef<SmallVector<Tap>> taps,
                       Type element) {
    SmallVector<int64_t> counts;
    for (const auto &dimTaps : taps)
      counts.push_back(dimTaps.size());
    return sumOverTaps(
        b, l, counts, element, [&](int64_t i, int64_t tap) { return taps[i][tap].weight; },
        [&](ArrayRef<int64_t> choice) {
          SmallVector<Value> indices;
          for (auto [dimTaps, tap] : llvm::zip(taps, choice))
            indices.push_back(dimTaps[tap].index);
          return (Value)tensor::ExtractOp::create(b, l, x, indices);
        });
  }
};

} // namespace

void mlir::kiln::lowering::populateResizeLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<ResizeToGeneric>(patterns.getContext());
}
