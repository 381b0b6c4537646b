//===- KilnFolds.cpp - Folders and canonicalizations of kiln ops ----------===//
//
// Constant folding is what collapses ONNX shape-computing subgraphs
// (Shape -> Gather -> Unsqueeze -> Concat -> Reshape) once shapes are known,
// so folders cover the integer ops those subgraphs use. Folding is capped at
// kMaxFoldElements so that weights are never expanded in the compiler.
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/KilnOps.h"
#include "kiln/Dialect/Kiln/KilnShapeUtils.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/APSInt.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/TypeUtilities.h"
#include <cmath>

using namespace mlir;
using namespace mlir::kiln;

static constexpr int64_t kMaxFoldElements = 1 << 16;

/// The op's result type when it is static and small enough to fold into.
static RankedTensorType foldableType(Type type) {
  auto t = dyn_cast<RankedTensorType>(type);
  // The bounded count first: getNumElements() overflows on huge shapes.
  if (!t || !t.hasStaticShape() || !boundedElementCount(t.getShape()) ||
      t.getNumElements() > kMaxFoldElements)
    return {};
  return t;
}

static DenseElementsAttr dense(Attribute attr) {
  return dyn_cast_or_null<DenseElementsAttr>(attr);
}

/// Flat index in an operand of `operandShape` for each flat index of the
/// numpy broadcast result of `resultShape`.
static SmallVector<int64_t> broadcastIndices(ArrayRef<int64_t> resultShape,
                                             ArrayRef<int64_t> operandShape) {
  int64_t rank = resultShape.size(), offset = rank - operandShape.size();
  SmallVector<int64_t> strides(operandShape.size(), 0);
  for (int64_t i = operandShape.size() - 1, s = 1; i >= 0; --i) {
    strides[i] = operandShape[i] == 1 ? 0 : s;
    s *= operandShape[i];
  }
  int64_t total = ShapedType::getNumElements(resultShape);
  SmallVector<int64_t> map(total);
  SmallVector<int64_t> index(rank, 0);
  for (int64_t flat = 0; flat < total; ++flat) {
    int64_t src = 0;
    for (int64_t d = offset; d < rank; ++d)
      src += index[d] * strides[d - offset];
    map[flat] = src;
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++index[d] < resultShape[d])
        break;
      index[d] = 0;
    }
  }
  return map;
}

/// Folds an elementwise op over broadcast constant operands. `fn` maps the
/// operands' elements (APInt or APFloat) to a result element, or nullopt to
/// give up (division by zero, say).
template <typename In, typename Out, typename Fn>
static Attribute foldBroadcast(RankedTensorType resultType,
                               ArrayRef<DenseElementsAttr> operands, Fn fn) {
  SmallVector<SmallVector<int64_t>> maps;
  SmallVector<SmallVector<In>> values;
  for (DenseElementsAttr operand : operands) {
    maps.push_back(broadcastIndices(resultType.getShape(), operand.getType().getShape()));
    values.emplace_back(operand.getValues<In>().begin(), operand.getValues<In>().end());
  }
  SmallVector<Out> out;
  out.reserve(resultType.getNumElements());
  for (int64_t i = 0, e = resultType.getNumElements(); i < e; ++i) {
    SmallVector<In> args;
    for (size_t k = 0; k < operands.size(); ++k)
      args.push_back(values[k][maps[k][i]]);
    std::optional<Out> v = fn(args);
    if (!v)
      return {};
    out.push_back(*v);
  }
  return DenseElementsAttr::get(resultType, out);
}

/// Folds a binary arithmetic op with an integer and a float formula.
static Attribute foldArithmetic(
    Type resultType, ArrayRef<Attribute> operands,
    function_ref<std::optional<APInt>(const APInt &, const APInt &)> intFn,
    function_ref<std::optional<APFloat>(const APFloat &, const APFloat &)> floatFn) {
  auto type = foldableType(resultType);
  auto lhs = dense(operands[0]), rhs = dense(operands[1]);
  if (!type || !lhs || !rhs)
    return {};
  if (isa<IntegerType>(type.getElementType()) && intFn)
    return foldBroadcast<APInt, APInt>(
        type, {lhs, rhs}, [&](ArrayRef<APInt> a) { return intFn(a[0], a[1]); });
  if (isa<FloatType>(type.getElementType()) && floatFn)
    return foldBroadcast<APFloat, APFloat>(
        type, {lhs, rhs}, [&](ArrayRef<APFloat> a) { return floatFn(a[0], a[1]); });
  return {};
}

/// Folds a comparison; `pred` gets -1, 0 or 1 for lhs <, ==, > rhs.
static Attribute foldComparison(Type resultType, ArrayRef<Attribute> operands,
                                function_ref<bool(int)> pred) {
  auto type = foldableType(resultType);
  auto lhs = dense(operands[0]), rhs = dense(operands[1]);
  if (!type || !lhs || !rhs)
    return {};
  Type element = lhs.getElementType();
  auto boolOf = [&](int order) -> std::optional<APInt> {
    return APInt(1, pred(order) ? 1 : 0);
  };
  if (auto intType = dyn_cast<IntegerType>(element)) {
    bool isUnsigned = intType.isUnsigned() || intType.getWidth() == 1;
    return foldBroadcast<APInt, APInt>(type, {lhs, rhs}, [&](ArrayRef<APInt> a) {
      int order = isUnsigned ? (a[0].ult(a[1]) ? -1 : a[0] == a[1] ? 0 : 1)
                             : (a[0].slt(a[1]) ? -1 : a[0] == a[1] ? 0 : 1);
      return boolOf(order);
    });
  }
  if (isa<FloatType>(element))
    return foldBroadcast<APFloat, APInt>(type, {lhs, rhs}, [&](ArrayRef<APFloat> a)
                                                               -> std::optional<APInt> {
      APFloat::cmpResult c = a[0].compare(a[1]);
      if (c == APFloat::cmpUnordered)
        return APInt(1, 0); // every comparison with NaN is false
      return boolOf(c == APFloat::cmpLessThan ? -1 : c == APFloat::cmpEqual ? 0 : 1);
    });
  return {};
}

static Attribute foldLogic(Type resultType, ArrayRef<Attribute> operands,
                           function_ref<bool(bool, bool)> fn) {
  auto type = foldableType(resultType);
  auto lhs = dense(operands[0]), rhs = dense(operands[1]);
  if (!type || !lhs || !rhs)
    return {};
  return foldBroadcast<APInt, APInt>(type, {lhs, rhs}, [&](ArrayRef<APInt> a) {
    return std::optional<APInt>(APInt(1, fn(!a[0].isZero(), !a[1].isZero())));
  });
}

//===----------------------------------------------------------------------===//
// Constants and generators
//===----------------------------------------------------------------------===//

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

OpFoldResult ConstantOfShapeOp::fold(FoldAdaptor adaptor) {
  auto type = foldableType(getType());
  if (!type)
    return {};
  return SplatElementsAttr::get(type, adaptor.getValue());
}

OpFoldResult RangeOp::fold(FoldAdaptor adaptor) {
  auto type = foldableType(getType());
  auto start = dense(adaptor.getStart()), delta = dense(adaptor.getDelta());
  if (!type || !start || !delta)
    return {};
  int64_t n = type.getNumElements();
  if (isa<IntegerType>(type.getElementType())) {
    APInt s = *start.getValues<APInt>().begin(), d = *delta.getValues<APInt>().begin();
    SmallVector<APInt> values;
    for (int64_t i = 0; i < n; ++i)
      values.push_back(s + d * APInt(s.getBitWidth(), i, /*isSigned=*/true));
    return DenseElementsAttr::get(type, values);
  }
  if (!isa<FloatType>(type.getElementType()))
    return {};
  double s = (*start.getValues<APFloat>().begin()).convertToDouble();
  double d = (*delta.getValues<APFloat>().begin()).convertToDouble();
  SmallVector<APFloat> values;
  for (int64_t i = 0; i < n; ++i) {
    APFloat v(s + d * i);
    bool lost;
    v.convert(cast<FloatType>(type.getElementType()).getFloatSemantics(),
              APFloat::rmNearestTiesToEven, &lost);
    values.push_back(v);
  }
  return DenseElementsAttr::get(type, values);
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

OpFoldResult AddOp::fold(FoldAdaptor adaptor) {
  return foldArithmetic(
      getType(), adaptor.getOperands(),
      [](const APInt &a, const APInt &b) { return std::optional<APInt>(a + b); },
      [](const APFloat &a, const APFloat &b) { return std::optional<APFloat>(a + b); });
}

OpFoldResult SubOp::fold(FoldAdaptor adaptor) {
  return foldArithmetic(
      getType(), adaptor.getOperands(),
      [](const APInt &a, const APInt &b) { return std::optional<APInt>(a - b); },
      [](const APFloat &a, const APFloat &b) { return std::optional<APFloat>(a - b); });
}

OpFoldResult MulOp::fold(FoldAdaptor adaptor) {
  return foldArithmetic(
      getType(), adaptor.getOperands(),
      [](const APInt &a, const APInt &b) { return std::optional<APInt>(a * b); },
      [](const APFloat &a, const APFloat &b) { return std::optional<APFloat>(a * b); });
}

/// Unsigned integer elements (ONNX uint8..uint64) divide, compare and take
/// remainders as unsigned values.
static bool isUnsignedElement(Type type) {
  auto intType = dyn_cast<IntegerType>(getElementTypeOrSelf(type));
  return intType && intType.isUnsigned();
}

OpFoldResult DivOp::fold(FoldAdaptor adaptor) {
  bool isUnsigned = isUnsignedElement(getType());
  return foldArithmetic(
      getType(), adaptor.getOperands(),
      [isUnsigned](const APInt &a, const APInt &b) -> std::optional<APInt> {
        if (b.isZero())
          return std::nullopt;
        return isUnsigned ? a.udiv(b) : a.sdiv(b);
      },
      [](const APFloat &a, const APFloat &b) { return std::optional<APFloat>(a / b); });
}

OpFoldResult ModOp::fold(FoldAdaptor adaptor) {
  bool fmod = getFmod();
  bool isUnsigned = isUnsignedElement(getType());
  return foldArithmetic(
      getType(), adaptor.getOperands(),
      [fmod, isUnsigned](const APInt &a, const APInt &b) -> std::optional<APInt> {
        if (b.isZero())
          return std::nullopt;
        if (isUnsigned)
          return a.urem(b);
        APInt r = a.srem(b);
        // Without fmod the remainder takes the divisor's sign (Python %).
        if (!fmod && !r.isZero() && (r.isNegative() != b.isNegative()))
          r += b;
        return r;
      },
      nullptr);
}

OpFoldResult PowOp::fold(FoldAdaptor adaptor) {
  return foldArithmetic(getType(), adaptor.getOperands(), nullptr,
                        [](const APFloat &a, const APFloat &b) -> std::optional<APFloat> {
                          if (&a.getSemantics() != &APFloat::IEEEsingle())
                            return std::nullopt;
                          return APFloat(std::pow(a.convertToFloat(), b.convertToFloat()));
                        });
}

OpFoldResult MaxOp::fold(FoldAdaptor adaptor) {
  bool isUnsigned = isUnsignedElement(getType());
  return foldArithmetic(
      getType(), adaptor.getOperands(),
      [isUnsigned](const APInt &a, const APInt &b) {
        return std::optional<APInt>((isUnsigned ? a.uge(b) : a.sge(b)) ? a : b);
      },
      [](const APFloat &a, const APFloat &b) { return std::optional<APFloat>(maximum(a, b)); });
}

OpFoldResult MinOp::fold(FoldAdaptor adaptor) {
  bool isUnsigned = isUnsignedElement(getType());
  return foldArithmetic(
      getType(), adaptor.getOperands(),
      [isUnsigned](const APInt &a, const APInt &b) {
        return std::optional<APInt>((isUnsigned ? a.ule(b) : a.sle(b)) ? a : b);
      },
      [](const APFloat &a, const APFloat &b) { return std::optional<APFloat>(minimum(a, b)); });
}

OpFoldResult EqualOp::fold(FoldAdaptor adaptor) {
  return foldComparison(getType(), adaptor.getOperands(), [](int o) { return o == 0; });
}
OpFoldResult LessOp::fold(FoldAdaptor adaptor) {
  return foldComparison(getType(), adaptor.getOperands(), [](int o) { return o < 0; });
}
OpFoldResult LessEqualOp::fold(FoldAdaptor adaptor) {
  return foldComparison(getType(), adaptor.getOperands(), [](int o) { return o <= 0; });
}
OpFoldResult GreaterOp::fold(FoldAdaptor adaptor) {
  return foldComparison(getType(), adaptor.getOperands(), [](int o) { return o > 0; });
}
OpFoldResult GreaterEqualOp::fold(FoldAdaptor adaptor) {
  return foldComparison(getType(), adaptor.getOperands(), [](int o) { return o >= 0; });
}
OpFoldResult AndOp::fold(FoldAdaptor adaptor) {
  return foldLogic(getType(), adaptor.getOperands(), [](bool a, bool b) { return a && b; });
}
OpFoldResult OrOp::fold(FoldAdaptor adaptor) {
  return foldLogic(getType(), adaptor.getOperands(), [](bool a, bool b) { return a || b; });
}
OpFoldResult XorOp::fold(FoldAdaptor adaptor) {
  return foldLogic(getType(), adaptor.getOperands(), [](bool a, bool b) { return a != b; });
}

OpFoldResult WhereOp::fold(FoldAdaptor adaptor) {
  auto cond = dense(adaptor.getCondition());
  if (!cond)
    return {};
  // where(all true, x, y) = x and where(all false, x, y) = y when no
  // broadcasting is involved.
  if (cond.isSplat()) {
    Value chosen = cond.getSplatValue<bool>() ? getX() : getY();
    if (chosen.getType() == getType())
      return chosen;
  }
  auto type = foldableType(getType());
  auto x = dense(adaptor.getX()), y = dense(adaptor.getY());
  if (!type || !x || !y)
    return {};
  SmallVector<int64_t> cm = broadcastIndices(type.getShape(), cond.getType().getShape());
  SmallVector<int64_t> xm = broadcastIndices(type.getShape(), x.getType().getShape());
  SmallVector<int64_t> ym = broadcastIndices(type.getShape(), y.getType().getShape());
  SmallVector<bool> c(cond.getValues<bool>());
  SmallVector<Attribute> xs(x.getValues<Attribute>()), ys(y.getValues<Attribute>());
  SmallVector<Attribute> out;
  for (int64_t i = 0, e = type.getNumElements(); i < e; ++i)
    out.push_back(c[cm[i]] ? xs[xm[i]] : ys[ym[i]]);
  return DenseElementsAttr::get(type, out);
}

OpFoldResult NegOp::fold(FoldAdaptor adaptor) {
  auto type = foldableType(getType());
  auto input = dense(adaptor.getInput());
  if (!type || !input)
    return {};
  if (isa<IntegerType>(type.getElementType()))
    return foldBroadcast<APInt, APInt>(type, {input}, [](ArrayRef<APInt> a) {
      return std::optional<APInt>(-a[0]);
    });
  if (!isa<FloatType>(type.getElementType()))
    return {}; // index, complex, ...
  return foldBroadcast<APFloat, APFloat>(type, {input}, [](ArrayRef<APFloat> a) {
    return std::optional<APFloat>(neg(a[0]));
  });
}

OpFoldResult NotOp::fold(FoldAdaptor adaptor) {
  auto type = foldableType(getType());
  auto input = dense(adaptor.getInput());
  if (!type || !input)
    return {};
  return foldBroadcast<APInt, APInt>(type, {input}, [](ArrayRef<APInt> a) {
    return std::optional<APInt>(APInt(1, a[0].isZero() ? 1 : 0));
  });
}

OpFoldResult CastOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  auto type = foldableType(getType());
  auto input = dense(adaptor.getInput());
  if (!type || !input)
    return {};
  Type from = input.getElementType(), to = type.getElementType();
  auto toInt = dyn_cast<IntegerType>(to);
  auto toFloat = dyn_cast<FloatType>(to);
  if (auto fromInt = dyn_cast<IntegerType>(from)) {
    bool isSigned = fromInt.getWidth() != 1 && !fromInt.isUnsigned();
    if (toInt)
      return foldBroadcast<APInt, APInt>(type, {input}, [&](ArrayRef<APInt> a) {
        if (toInt.getWidth() == 1)
          return std::optional<APInt>(APInt(1, a[0].isZero() ? 0 : 1));
        return std::optional<APInt>(isSigned ? a[0].sextOrTrunc(toInt.getWidth())
                                             : a[0].zextOrTrunc(toInt.getWidth()));
      });
    if (toFloat)
      return foldBroadcast<APInt, APFloat>(type, {input}, [&](ArrayRef<APInt> a) {
        APFloat f(toFloat.getFloatSemantics());
        f.convertFromAPInt(a[0], isSigned, APFloat::rmNearestTiesToEven);
        return std::optional<APFloat>(f);
      });
  }
  if (isa<FloatType>(from)) {
    if (toFloat)
      return foldBroadcast<APFloat, APFloat>(type, {input}, [&](ArrayRef<APFloat> a) {
        APFloat f = a[0];
        bool lost;
        f.convert(toFloat.getFloatSemantics(), APFloat::rmNearestTiesToEven, &lost);
        return std::optional<APFloat>(f);
      });
    if (toInt && toInt.getWidth() > 1)
      return foldBroadcast<APFloat, APInt>(type, {input}, [&](ArrayRef<APFloat> a)
                                                                 -> std::optional<APInt> {
        APSInt i(toInt.getWidth(), toInt.isUnsigned());
        bool exact;
        if (a[0].convertToInteger(i, APFloat::rmTowardZero, &exact) & APFloat::opInvalidOp)
          return std::nullopt;
        return APInt(i);
      });
  }
  return {};
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

OpFoldResult GatherOp::fold(FoldAdaptor adaptor) {
  auto type = foldableType(getType());
  auto data = dense(adaptor.getData());
  auto indices = dense(adaptor.getIndices());
  if (type && !data && indices) {
    // Static entries of a shape whose other entries are symbolic (the
    // exports' x.size(0), Shape -> Gather, where dim 0 is static).
    auto partial = getPartialShapeValues(getData());
    std::optional<SmallVector<int64_t>> at = getConstantIntValues(getIndices());
    // (i64 alone: a shape cast to another type holds the same values, but
    // the attribute must be built in that type's width.)
    if (!partial || !at || cast<RankedTensorType>(getData().getType()).getRank() != 1 ||
        !type.getElementType().isInteger(64))
      return {};
    SmallVector<int64_t> picked;
    for (int64_t i : *at) {
      std::optional<int64_t> entry = normalizeAxis(i, partial->size());
      if (!entry || ShapedType::isDynamic((*partial)[*entry]))
        return {};
      picked.push_back((*partial)[*entry]);
    }
    return DenseIntElementsAttr::get(type, picked);
  }
  if (!type || !data || !indices)
    return {};
  ArrayRef<int64_t> shape = data.getType().getShape();
  int64_t axis = getAxis(), dim = shape[axis];
  int64_t outer = ShapedType::getNumElements(shape.take_front(axis));
  int64_t inner = ShapedType::getNumElements(shape.drop_front(axis + 1));
  SmallVector<Attribute> values(data.getValues<Attribute>());
  SmallVector<Attribute> out;
  SmallVector<int64_t> idx;
  for (const APInt &i : indices.getValues<APInt>()) {
    int64_t v = i.getSExtValue();
    if (v < -dim || v >= dim)
      return {}; // left for the verifier of the lowered code to report
    idx.push_back(v < 0 ? v + dim : v);
  }
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i : idx)
      for (int64_t n = 0; n < inner; ++n)
        out.push_back(values[(o * dim + i) * inner + n]);
  return DenseElementsAttr::get(type, out);
}

namespace {
/// gather(dequantize_linear(q)) -> dequantize_linear(gather(q)). The two
/// commute exactly (dequantizing is elementwise, with a scale per tensor or
/// per index of an axis the gather keeps), and after the gather only the
/// picked elements are dequantized: onnxruntime's QDQ models store the
/// embedding table in int8, and dequantizing all of BERT's 30522 x 768 rows
/// to look up 128 of them took half the model's time.
struct GatherBeforeDequantize : OpRewritePattern<GatherOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GatherOp op, PatternRewriter &rewriter) const override {
    auto dequantize = op.getData().getDefiningOp<DequantizeLinearOp>();
    if (!dequantize || dequantize.getBlockSize() != 0)
      return failure();
    auto indicesType = cast<RankedTensorType>(op.getIndices().getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    bool perTensor = dequantize.isPerTensor();
    int64_t axis = dequantize.getAxis(), gathered = op.getAxis();
    if (!perTensor && axis == gathered)
      return failure(); // the scales would have to be gathered too
    // The kept axis moves by the indices' rank less the gathered dim.
    int64_t newAxis = axis < gathered ? axis : axis - 1 + indicesType.getRank();
    if (perTensor)
      newAxis = std::clamp<int64_t>(newAxis, 0, std::max<int64_t>(resultType.getRank() - 1, 0));
    auto quantized = cast<RankedTensorType>(dequantize.getInput().getType());
    Value picked = GatherOp::create(rewriter, op.getLoc(),
                                    resultType.clone(quantized.getElementType()),
                                    dequantize.getInput(), op.getIndices(), gathered);
    rewriter.replaceOpWithNewOp<DequantizeLinearOp>(op, resultType, picked, dequantize.getScale(),
                                                    dequantize.getZeroPoint(), newAxis,
                                                    /*block_size=*/0);
    return success();
  }
};
} // namespace

void GatherOp::getCanonicalizationPatterns(RewritePatternSet &results, MLIRContext *context) {
  results.add<GatherBeforeDequantize>(context);
}

OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType() && getType().hasStaticShape())
    return getInput();
  auto type = foldableType(getType());
  if (auto input = dense(adaptor.getInput()); type && input)
    return input.reshape(type);
  // reshape(reshape(x, s1), s2) = reshape(x, s2) unless s2 copies dims (0).
  if (auto inner = getInput().getDefiningOp<ReshapeOp>()) {
    auto target = getConstantIntValues(getShape());
    if (target && !llvm::is_contained(*target, 0)) {
      getInputMutable().assign(inner.getInput());
      return getResult();
    }
  }
  return {};
}

/// Permutes a constant; `perm[i]` is the input dim of output dim i.
static Attribute transposeConstant(DenseElementsAttr input, RankedTensorType type,
                                   ArrayRef<int64_t> perm) {
  ArrayRef<int64_t> inShape = input.getType().getShape();
  int64_t rank = inShape.size();
  SmallVector<int64_t> inStrides(rank, 1);
  for (int64_t i = rank - 2; i >= 0; --i)
    inStrides[i] = inStrides[i + 1] * inShape[i + 1];
  SmallVector<Attribute> values(input.getValues<Attribute>()), out;
  SmallVector<int64_t> index(rank, 0);
  for (int64_t flat = 0, e = type.getNumElements(); flat < e; ++flat) {
    int64_t src = 0;
    for (int64_t d = 0; d < rank; ++d)
      src += index[d] * inStrides[perm[d]];
    out.push_back(values[src]);
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++index[d] < type.getDimSize(d))
        break;
      index[d] = 0;
    }
  }
  return DenseElementsAttr::get(type, out);
}

OpFoldResult TransposeOp::fold(FoldAdaptor adaptor) {
  if (llvm::equal(getPerm(), llvm::seq<int64_t>(0, getPerm().size())) &&
      getInput().getType() == getType())
    return getInput();
  auto type = foldableType(getType());
  auto input = dense(adaptor.getInput());
  if (!type || !input)
    return {};
  if (input.isSplat())
    return input.reshape(type);
  return transposeConstant(input, type, getPerm());
}

namespace {
/// transpose(transpose(x, p1), p2) = transpose(x, p1 o p2)
struct ComposeTransposes : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TransposeOp op, PatternRewriter &rewriter) const override {
    auto inner = op.getInput().getDefiningOp<TransposeOp>();
    if (!inner)
      return failure();
    SmallVector<int64_t> perm;
    for (int64_t p : op.getPerm())
      perm.push_back(inner.getPerm()[p]);
    // Only replace op by a value of its own type; check before creating the
    // composed op, since a failing pattern must leave the IR unchanged.
    auto inputType = cast<RankedTensorType>(inner.getInput().getType());
    SmallVector<int64_t> shape;
    for (int64_t p : perm)
      shape.push_back(inputType.getDimSize(p));
    if (RankedTensorType::get(shape, inputType.getElementType()) != op.getType())
      return failure();
    rewriter.replaceOpWithNewOp<TransposeOp>(op, inner.getInput(), perm);
    return success();
  }
};
} // namespace

void TransposeOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                              MLIRContext *context) {
  results.add<ComposeTransposes>(context);
}

OpFoldResult SliceOp::fold(FoldAdaptor adaptor) {
  auto type = foldableType(getType());
  auto input = dense(adaptor.getInput());
  auto starts = getConstantIntValues(getStarts());
  auto axes = getConstantIntValues(getAxes());
  auto steps = getConstantIntValues(getSteps());
  if (!type || !input || !starts || !axes || !steps)
    return {};
  ArrayRef<int64_t> inShape = input.getType().getShape();
  int64_t rank = inShape.size();
  SmallVector<int64_t> begin(rank, 0), step(rank, 1);
  for (auto [i, rawAxis] : llvm::enumerate(*axes)) {
    int64_t axis = *normalizeAxis(rawAxis, rank), dim = inShape[axis];
    int64_t s = (*starts)[i];
    if (s < 0)
      s += dim;
    step[axis] = (*steps)[i];
    // (std::max keeps clamp's bounds ordered for an empty dim.)
    begin[axis] = step[axis] > 0 ? std::clamp<int64_t>(s, 0, dim)
                                 : std::clamp<int64_t>(s, 0, std::max<int64_t>(dim - 1, 0));
  }
  SmallVector<int64_t> inStrides(rank, 1);
  for (int64_t i = rank - 2; i >= 0; --i)
    inStrides[i] = inStrides[i + 1] * inShape[i + 1];
  SmallVector<Attribute> values(input.getValues<Attribute>()), out;
  SmallVector<int64_t> index(rank, 0);
  for (int64_t flat = 0, e = type.getNumElements(); flat < e; ++flat) {
    int64_t src = 0;
    for (int64_t d = 0; d < rank; ++d)
      src += (begin[d] + index[d] * step[d]) * inStrides[d];
    out.push_back(values[src]);
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++index[d] < type.getDimSize(d))
        break;
      index[d] = 0;
    }
  }
  return DenseElementsAttr::get(type, out);
}

OpFoldResult ConcatOp::fold(FoldAdaptor adaptor) {
  if (getInputs().size() == 1 && getInputs().front().getType() == getType())
    return getInputs().front();
  auto type = foldableType(getType());
  if (!type)
    return {};
  int64_t axis = getAxis();
  int64_t outer = ShapedType::getNumElements(type.getShape().take_front(axis));
  SmallVector<SmallVector<Attribute>> parts;
  SmallVector<int64_t> chunk;
  for (Attribute attr : adaptor.getInputs()) {
    auto input = dense(attr);
    if (!input)
      return {};
    parts.emplace_back(input.getValues<Attribute>());
    chunk.push_back(ShapedType::getNumElements(input.getType().getShape().drop_front(axis)));
  }
  SmallVector<Attribute> out;
  for (int64_t o = 0; o < outer; ++o)
    for (size_t p = 0; p < parts.size(); ++p)
      out.append(parts[p].begin() + o * chunk[p], parts[p].begin() + (o + 1) * chunk[p]);
  return DenseElementsAttr::get(type, out);
}

OpFoldResult ExpandOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType() && getType().hasStaticShape())
    return getInput();
  auto type = foldableType(getType());
  auto input = dense(adaptor.getInput());
  if (!type || !input)
    return {};
  SmallVector<int64_t> map = broadcastIndices(type.getShape(), input.getType().getShape());
  SmallVector<Attribute> values(input.getValues<Attribute>()), out;
  for (int64_t src : map)
    out.push_back(values[src]);
  return DenseElementsAttr::get(type, out);
}

OpFoldResult UnsqueezeOp::fold(FoldAdaptor adaptor) {
  auto type = foldableType(getType());
  auto input = dense(adaptor.getInput());
  if (!type || !input)
    return {};
  return input.reshape(type);
}

OpFoldResult SqueezeOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  auto type = foldableType(getType());
  auto input = dense(adaptor.getInput());
  if (!type || !input)
    return {};
  return input.reshape(type);
}

//===----------------------------------------------------------------------===//
// Shape queries
//===----------------------------------------------------------------------===//

OpFoldResult ShapeOp::fold(FoldAdaptor) {
  auto dims = cast<RankedTensorType>(getInput().getType())
                  .getShape()
                  .slice(getStart(), getEnd() - getStart());
  if (ShapedType::isDynamicShape(dims))
    return {};
  return DenseIntElementsAttr::get(getType(), dims);
}

OpFoldResult SizeOp::fold(FoldAdaptor) {
  auto input = cast<RankedTensorType>(getInput().getType());
  if (!input.hasStaticShape())
    return {};
  return DenseIntElementsAttr::get(getType(), ArrayRef<int64_t>{input.getNumElements()});
}
