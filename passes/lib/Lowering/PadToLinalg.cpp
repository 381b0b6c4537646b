//===- PadToLinalg.cpp - kiln.pad to tensor.pad or a linalg.generic -------===//
//
// Negative pads crop first (tensor.extract_slice); the positive ones then
// pad the cropped tensor, as ONNX defines it. Constant mode is tensor.pad;
// reflect, edge and wrap are a linalg.generic over the result whose body
// maps each index back into the input and reads it with tensor.extract.
// What the verifier rejects for static dims (a crop longer than the dim,
// padding an empty dim other than with a constant, a reflect pad not below
// the dim) fails the run for `?` dims: each would read outside the input.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "RuntimeCalls.h"
#include "kiln/Dialect/Kiln/KilnOps.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

namespace {

/// Index `i` of a padded dim mapped into the `n` input elements: `i` is
/// already shifted by the begin pad, so it lies in [-pad, n + pad).
Value sourceIndex(const IndexMath &m, StringRef mode, Value i, Value n) {
  using P = arith::CmpIPredicate;
  Value zero = m.c(0), last = m.sub(n, m.c(1));
  if (mode == "edge")
    return m.min(m.max(i, zero), last);
  if (mode == "reflect") {
    // Mirror at 0 and at n - 1 without repeating the edge (pads < n). One
    // op per statement: the order of the ops must not depend on the
    // compiler's order of evaluating arguments.
    Value negated = m.sub(zero, i);
    Value below = m.cmp(P::slt, i, zero);
    Value mirrored = m.select(below, negated, i);
    Value back = m.sub(m.add(last, last), mirrored);
    Value above = m.cmp(P::sgt, mirrored, last);
    return m.select(above, back, mirrored);
  }
  // wrap: i mod n, in [0, n).
  Value r = m.b.createOrFold<arith::RemSIOp>(m.loc, i, n);
  Value wrapped = m.add(r, n);
  Value negative = m.cmp(P::slt, r, zero);
  return m.select(negative, wrapped, r);
}

/// Fails the run where a `?` dim of `x` cannot take `pads` in `mode`: the
/// run-time form of PadOp's verifier for static dims.
void checkDynamicDims(const IndexMath &m, PadOp op, Value x, StringRef mode,
                      ArrayRef<int64_t> pads) {
  using P = arith::CmpIPredicate;
  auto type = cast<RankedTensorType>(x.getType());
  int64_t rank = type.getRank();
  Value failed;
  bool crops = false, grows = false;
  for (int64_t i = 0; i < rank; ++i) {
    if (!type.isDynamicDim(i))
      continue;
    int64_t begin = pads[i], end = pads[i + rank];
    int64_t crop = std::max<int64_t>(0, -begin) + std::max<int64_t>(0, -end);
    Value n = m.sub(m.dim(x, i), m.c(crop)); // the dim after the crop
    if (crop) {
      crops = true;
      orInto(m.b, m.loc, failed, m.cmp(P::slt, n, m.c(0)));
    }
    int64_t grow = std::max<int64_t>({begin, end, 0});
    if (mode == "constant" || grow == 0)
      continue;
    // Edge and wrap need an element; reflect one more than its pad.
    grows = true;
    int64_t least = mode == "reflect" ? grow + 1 : 1;
    orInto(m.b, m.loc, failed, m.cmp(P::slt, n, m.c(least)));
  }
  if (!failed)
    return;
  std::string padded = mode == "reflect" ? "a reflect pad not below the dim it pads"
                                         : "an empty dim padded in " + mode.str() + " mode";
  std::string why = crops && grows ? "a crop longer than the dim, or " + padded
                    : crops        ? std::string("a crop longer than the dim")
                                   : padded;
  emitRuntimeCheck(m.b, m.loc, failed,
                   describeNode(op.getLoc(), "Pad") +
                       ": the input is too short at run time for its pads (" + why + ")");
}

struct PadToTensor : OpRewritePattern<PadOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(PadOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    IndexMath m{rewriter, loc};
    Value x = op.getInput();
    auto type = cast<RankedTensorType>(x.getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank();
    ArrayRef<int64_t> pads = op.getPads();
    StringRef mode = op.getMode();
    checkDynamicDims(m, op, x, mode, pads);

    // Crop where pads are negative.
    if (llvm::any_of(pads, [](int64_t p) { return p < 0; })) {
      SmallVector<OpFoldResult> offsets, sizes, strides(rank, rewriter.getIndexAttr(1));
      for (int64_t i = 0; i < rank; ++i) {
        int64_t begin = std::max<int64_t>(0, -pads[i]), end = std::max<int64_t>(0, -pads[i + rank]);
        offsets.push_back(rewriter.getIndexAttr(begin));
        if (!type.isDynamicDim(i))
          sizes.push_back(rewriter.getIndexAttr(type.getDimSize(i) - begin - end));
        else
          sizes.push_back(m.sub(m.dim(x, i), m.c(begin + end)));
      }
      x = tensor::ExtractSliceOp::create(rewriter, loc, x, offsets, sizes, strides);
      type = cast<RankedTensorType>(x.getType());
    }
    SmallVector<int64_t> low, high;
    for (int64_t i = 0; i < rank; ++i) {
      low.push_back(std::max<int64_t>(0, pads[i]));
      high.push_back(std::max<int64_t>(0, pads[i + rank]));
    }

    Value result;
    if (mode == "constant") {
      Type element = type.getElementType();
      Value padValue;
      if (Value v = op.getValue()) {
        auto vt = cast<RankedTensorType>(v.getType());
        padValue = tensor::ExtractOp::create(rewriter, loc, v,
                                             SmallVector<Value>(vt.getRank(), m.c(0)));
      } else {
        padValue = reinterpret(rewriter, loc,
                               scalarConstant(rewriter, loc, signless(element), 0), element);
      }
      SmallVector<OpFoldResult> lowAttrs, highAttrs;
      for (int64_t i = 0; i < rank; ++i) {
        lowAttrs.push_back(rewriter.getIndexAttr(low[i]));
        highAttrs.push_back(rewriter.getIndexAttr(high[i]));
      }
      result = tensor::PadOp::create(rewriter, loc, Type(), x, lowAttrs, highAttrs, padValue);
    } else {
      SmallVector<Value> dynamicDims;
      for (int64_t i = 0; i < rank; ++i)
        if (resultType.isDynamicDim(i))
          dynamicDims.push_back(m.add(m.dim(x, i), m.c(low[i] + high[i])));
      Value init = emptyWithDims(rewriter, loc, resultType, dynamicDims);
      SmallVector<Value> inputDims;
      for (int64_t i = 0; i < rank; ++i)
        inputDims.push_back(m.dim(x, i));
      auto generic = linalg::GenericOp::create(
          rewriter, loc, TypeRange{resultType}, ValueRange{}, ValueRange{init},
          ArrayRef<AffineMap>{rewriter.getMultiDimIdentityMap(rank)}, parallelIterators(rank),
          [&](OpBuilder &b, Location l, ValueRange) {
            IndexMath bm{b, l};
            SmallVector<Value> source;
            for (int64_t i = 0; i < rank; ++i) {
              Value shifted = bm.sub(linalg::IndexOp::create(b, l, i), bm.c(low[i]));
              source.push_back(low[i] || high[i] ? sourceIndex(bm, mode, shifted, inputDims[i])
                                                 : shifted);
            }
            linalg::YieldOp::create(b, l, Value(tensor::ExtractOp::create(b, l, x, source)));
          });
      result = generic.getResult(0);
    }
    if (result.getType() != resultType)
      result = tensor::CastOp::create(rewriter, loc, resultType, result);
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void mlir::kiln::lowering::populatePadLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<PadToTensor>(patterns.getContext());
}
