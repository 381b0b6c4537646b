//===- ReductionToLinalg.cpp - Reductions, softmax, norms, argmax/argmin --===//
//
// All of them are built from one helper, `reduce`, that folds a tensor over a
// set of dims into the tensor of the remaining dims; softmax, layer_norm and
// rms_norm read those partial results back with maps that drop the reduced
// dims, hardmax compares with the argmax. batch_norm, elementwise with
// per-channel parameters, lives here with the other normalisations.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "RuntimeCalls.h"
#include "ShapeOperands.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "mlir/Dialect/Math/IR/Math.h"

#include <functional>

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

namespace {

/// Owning: ReduceToGeneric stores the lambda it picks before the call (a
/// function_ref to that temporary dangled).
using Combine = std::function<Value(OpBuilder &, Location, Value element, Value acc)>;

/// The map from `rank` loops to the loops not in `reduced`.
AffineMap keptDimsMap(MLIRContext *context, ArrayRef<bool> reduced) {
  SmallVector<AffineExpr> exprs;
  for (auto [i, r] : llvm::enumerate(reduced))
    if (!r)
      exprs.push_back(getAffineDimExpr(i, context));
  return AffineMap::get(reduced.size(), 0, exprs, context);
}

/// Folds `input` over the dims flagged in `reduced` with `combine`, starting
/// from `initial`; the result has the remaining dims in order.
Value reduce(OpBuilder &b, Location loc, Value input, ArrayRef<bool> reduced,
             Value initial, Combine combine) {
  auto type = cast<RankedTensorType>(input.getType());
  SmallVector<int64_t> shape;
  SmallVector<Value> dynamicDims;
  for (int64_t i = 0; i < type.getRank(); ++i) {
    if (reduced[i])
      continue;
    shape.push_back(type.getDimSize(i));
    if (type.isDynamicDim(i))
      dynamicDims.push_back(tensor::DimOp::create(b, loc, input, i));
  }
  auto resultType = RankedTensorType::get(shape, initial.getType());
  Value empty = emptyWithDims(b, loc, resultType, dynamicDims);
  Value init = linalg::FillOp::create(b, loc, initial, empty).getResult(0);
  SmallVector<utils::IteratorType> iterators;
  for (bool r : reduced)
    iterators.push_back(r ? utils::IteratorType::reduction : utils::IteratorType::parallel);
  SmallVector<AffineMap> maps{b.getMultiDimIdentityMap(type.getRank()),
                              keptDimsMap(b.getContext(), reduced)};
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{resultType}, ValueRange{input}, ValueRange{init}, maps, iterators,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        linalg::YieldOp::create(nb, nloc, combine(nb, nloc, args[0], args[1]));
      });
  return generic.getResult(0);
}

/// The number of elements in the reduced dims, as a scalar of `type`.
Value reducedCount(OpBuilder &b, Location loc, Value input, ArrayRef<bool> reduced,
                   Type type) {
  auto inputType = cast<RankedTensorType>(input.getType());
  Value count = arith::ConstantIndexOp::create(b, loc, 1);
  for (int64_t i = 0; i < inputType.getRank(); ++i)
    if (reduced[i])
      count = arith::MulIOp::create(b, loc, count,
                                    tensor::DimOp::create(b, loc, input, i).getResult());
  Value asInt = arith::IndexCastOp::create(b, loc, b.getI64Type(), count);
  if (isa<FloatType>(type))
    return arith::SIToFPOp::create(b, loc, type, asInt); // 0 / 0: NaN, as numpy's mean
  // An integer mean of nothing is 0 (onnxruntime's), not a division by 0.
  asInt = arith::MaxSIOp::create(b, loc, asInt, arith::ConstantIntOp::create(b, loc, 1, 64));
  return arith::TruncIOp::create(b, loc, type, asInt).getResult();
}

/// Reshapes a reduced tensor to the op's keepdims result type (size-1 dims
/// where the reduced dims were).
Value restoreReducedDims(OpBuilder &b, Location loc, Value reducedValue,
                         ArrayRef<bool> reduced, RankedTensorType resultType) {
  if (reducedValue.getType() == resultType)
    return reducedValue;
  SmallVector<ReassociationIndices> groups;
  ReassociationIndices pending;
  for (auto [i, r] : llvm::enumerate(reduced)) {
    pending.push_back(i);
    if (!r) {
      groups.push_back(pending);
      pending.clear();
    }
  }
  if (!pending.empty() && !groups.empty())
    groups.back().append(pending.begin(), pending.end());
  return tensor::ExpandShapeOp::create(b, loc, resultType, reducedValue, groups);
}

/// Bools order false < true, as unsigned values (signed, i1 true is -1).
bool isBool(Type type) { return type.isInteger(1); }

Value lowest(OpBuilder &b, Location loc, Type type) {
  if (auto f = dyn_cast<FloatType>(type))
    return arith::ConstantOp::create(
        b, loc, FloatAttr::get(f, APFloat::getInf(f.getFloatSemantics(), /*Negative=*/true)));
  unsigned bits = type.getIntOrFloatBitWidth();
  return arith::ConstantOp::create(
      b, loc,
      IntegerAttr::get(type, isBool(type) ? APInt::getMinValue(1) : APInt::getSignedMinValue(bits)));
}

Value highest(OpBuilder &b, Location loc, Type type) {
  if (auto f = dyn_cast<FloatType>(type))
    return arith::ConstantOp::create(
        b, loc, FloatAttr::get(f, APFloat::getInf(f.getFloatSemantics(), /*Negative=*/false)));
  unsigned bits = type.getIntOrFloatBitWidth();
  return arith::ConstantOp::create(
      b, loc,
      IntegerAttr::get(type, isBool(type) ? APInt::getMaxValue(1) : APInt::getSignedMaxValue(bits)));
}

Value add(OpBuilder &b, Location loc, Value x, Value y) {
  return isa<FloatType>(x.getType()) ? (Value)arith::AddFOp::create(b, loc, x, y)
                                     : (Value)arith::AddIOp::create(b, loc, x, y);
}
Value mul(OpBuilder &b, Location loc, Value x, Value y) {
  return isa<FloatType>(x.getType()) ? (Value)arith::MulFOp::create(b, loc, x, y)
                                     : (Value)arith::MulIOp::create(b, loc, x, y);
}
Value maximum(OpBuilder &b, Location loc, Value x, Value y) {
  if (isa<FloatType>(x.getType()))
    return arith::MaximumFOp::create(b, loc, x, y);
  if (isBool(x.getType()))
    return arith::MaxUIOp::create(b, loc, x, y);
  return arith::MaxSIOp::create(b, loc, x, y);
}
Value minimum(OpBuilder &b, Location loc, Value x, Value y) {
  if (isa<FloatType>(x.getType()))
    return arith::MinimumFOp::create(b, loc, x, y);
  if (isBool(x.getType()))
    return arith::MinUIOp::create(b, loc, x, y);
  return arith::MinSIOp::create(b, loc, x, y);
}

SmallVector<bool> reducedFlags(int64_t rank, ArrayRef<int64_t> axes) {
  SmallVector<bool> reduced(rank, false);
  for (int64_t a : axes)
    reduced[a] = true;
  return reduced;
}

/// Applies `fn(elements...)` elementwise to `inputs` read through `maps`,
/// producing a tensor shaped like `like`.
Value mapElements(OpBuilder &b, Location loc, Value like, ValueRange inputs,
                  ArrayRef<AffineMap> maps, Type elementType,
                  function_ref<Value(OpBuilder &, Location, ValueRange)> fn) {
  auto likeType = cast<RankedTensorType>(like.getType());
  auto resultType = RankedTensorType::get(likeType.getShape(), elementType);
  Value init = emptyLike(b, loc, resultType, ValueRange{like});
  SmallVector<AffineMap> allMaps(maps);
  allMaps.push_back(b.getMultiDimIdentityMap(likeType.getRank()));
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{resultType}, inputs, ValueRange{init}, allMaps,
      parallelIterators(likeType.getRank()),
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        linalg::YieldOp::create(nb, nloc, fn(nb, nloc, args.drop_back()));
      });
  return generic.getResult(0);
}

template <typename OpTy>
struct ReduceToGeneric : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = op.getInput();
    auto inputType = cast<RankedTensorType>(input.getType());
    Type element = inputType.getElementType();
    if (!element.isSignlessIntOrFloat())
      return rewriter.notifyMatchFailure(op, "unsupported element type");
    SmallVector<bool> reduced = reducedFlags(inputType.getRank(), op.getAxes());
    Value initial;
    Combine combine;
    if constexpr (std::is_same_v<OpTy, ReduceSumOp> || std::is_same_v<OpTy, ReduceMeanOp>) {
      initial = scalarConstant(rewriter, loc, element, 0);
      combine = [](OpBuilder &b, Location l, Value x, Value acc) { return add(b, l, x, acc); };
    } else if constexpr (std::is_same_v<OpTy, ReduceProdOp>) {
      // Floats narrower than f64 multiply in f64, rounded once at the end:
      // the reduction's order is the vectorizer's, and a product near the
      // float range overflowed (or underflowed) in one order and not in
      // another (difftest seed 25, graph 267: -inf where the product is
      // -3.6e37). In f64 the partial products of floats stay in range.
      auto floatType = dyn_cast<FloatType>(element);
      Type accumulator =
          floatType && floatType.getWidth() < 64 ? Type(rewriter.getF64Type()) : element;
      initial = scalarConstant(rewriter, loc, accumulator, 1);
      combine = [accumulator](OpBuilder &b, Location l, Value x, Value acc) {
        if (x.getType() != accumulator)
          x = arith::ExtFOp::create(b, l, accumulator, x);
        return mul(b, l, x, acc);
      };
    } else if constexpr (std::is_same_v<OpTy, ReduceMaxOp>) {
      initial = lowest(rewriter, loc, element);
      combine = [](OpBuilder &b, Location l, Value x, Value acc) { return maximum(b, l, x, acc); };
    } else {
      initial = highest(rewriter, loc, element);
      combine = [](OpBuilder &b, Location l, Value x, Value acc) { return minimum(b, l, x, acc); };
    }
    Value result = reduce(rewriter, loc, input, reduced, initial, combine);
    if (initial.getType() != element) { // a product accumulated wider
      auto id = rewriter.getMultiDimIdentityMap(
          cast<RankedTensorType>(result.getType()).getRank());
      result = mapElements(rewriter, loc, result, ValueRange{result}, {id}, element,
                           [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                             return arith::TruncFOp::create(b, l, element, a[0]);
                           });
    }
    if constexpr (std::is_same_v<OpTy, ReduceMeanOp>) {
      Value count = reducedCount(rewriter, loc, input, reduced, element);
      auto id = rewriter.getMultiDimIdentityMap(
          cast<RankedTensorType>(result.getType()).getRank());
      result = mapElements(rewriter, loc, result, ValueRange{result}, {id}, element,
                           [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                             if (isa<FloatType>(element))
                               return arith::DivFOp::create(b, l, a[0], count);
                             return arith::DivSIOp::create(b, l, a[0], count);
                           });
    }
    rewriter.replaceOp(op, restoreReducedDims(rewriter, loc, result, reduced,
                                              cast<RankedTensorType>(op.getType())));
    return success();
  }
};

/// The index (i64) of the maximum (or minimum) of `input` along `axis`, as
/// a tensor of the other dims: the first occurrence, or the last with
/// `last`.
Value argExtremum(OpBuilder &b, Location loc, Value input, int64_t axis, bool isMax,
                  bool last) {
  auto inputType = cast<RankedTensorType>(input.getType());
  Type element = inputType.getElementType();
  SmallVector<bool> reduced = reducedFlags(inputType.getRank(), {axis});
  SmallVector<int64_t> shape;
  SmallVector<Value> dynamicDims;
  for (int64_t i = 0; i < inputType.getRank(); ++i) {
    if (reduced[i])
      continue;
    shape.push_back(inputType.getDimSize(i));
    if (inputType.isDynamicDim(i))
      dynamicDims.push_back(tensor::DimOp::create(b, loc, input, i));
  }
  auto valueType = RankedTensorType::get(shape, element);
  auto indexType = RankedTensorType::get(shape, b.getI64Type());
  Value start = isMax ? lowest(b, loc, element) : highest(b, loc, element);
  Value values =
      linalg::FillOp::create(b, loc, start, emptyWithDims(b, loc, valueType, dynamicDims))
          .getResult(0);
  Value indices = linalg::FillOp::create(b, loc, scalarConstant(b, loc, b.getI64Type(), 0),
                                         emptyWithDims(b, loc, indexType, dynamicDims))
                      .getResult(0);
  SmallVector<utils::IteratorType> iterators;
  for (bool r : reduced)
    iterators.push_back(r ? utils::IteratorType::reduction : utils::IteratorType::parallel);
  AffineMap kept = keptDimsMap(b.getContext(), reduced);
  SmallVector<AffineMap> maps{b.getMultiDimIdentityMap(inputType.getRank()), kept, kept};
  using FP = arith::CmpFPredicate;
  using IP = arith::CmpIPredicate;
  FP floatPredicate = isMax ? (last ? FP::OGE : FP::OGT) : (last ? FP::OLE : FP::OLT);
  IP intPredicate = isMax ? (last ? IP::sge : IP::sgt) : (last ? IP::sle : IP::slt);
  if (isBool(element))
    intPredicate = isMax ? (last ? IP::uge : IP::ugt) : (last ? IP::ule : IP::ult);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{valueType, indexType}, ValueRange{input}, ValueRange{values, indices},
      maps, iterators, [&](OpBuilder &nb, Location l, ValueRange args) {
        Value x = args[0], best = args[1], bestIndex = args[2];
        Value index = arith::IndexCastOp::create(nb, l, nb.getI64Type(),
                                                 linalg::IndexOp::create(nb, l, axis));
        Value better = isa<FloatType>(element)
                           ? (Value)arith::CmpFOp::create(nb, l, floatPredicate, x, best)
                           : (Value)arith::CmpIOp::create(nb, l, intPredicate, x, best);
        // The first element always wins so an all -inf row still gets index 0.
        Value isFirst = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::eq, index,
                                              scalarConstant(nb, l, nb.getI64Type(), 0));
        better = arith::OrIOp::create(nb, l, better, isFirst);
        linalg::YieldOp::create(nb, l,
                                ValueRange{arith::SelectOp::create(nb, l, better, x, best),
                                           arith::SelectOp::create(nb, l, better, index,
                                                                   bestIndex)});
      });
  return generic.getResult(1);
}

/// argmax and argmin: argExtremum, with the axis kept as size 1 if asked.
/// An empty axis has no extremum: the run fails (as in onnxruntime) rather
/// than return index 0 of nothing.
template <typename OpTy, bool isMax>
struct ArgExtremumToGeneric : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpTy op, PatternRewriter &rewriter) const override {
    Value input = op.getInput();
    auto inputType = cast<RankedTensorType>(input.getType());
    if (!inputType.getElementType().isSignlessIntOrFloat())
      return rewriter.notifyMatchFailure(op, "unsupported element type");
    int64_t axis = op.getAxis();
    IndexMath m{rewriter, op.getLoc()};
    emitRuntimeCheck(rewriter, op.getLoc(),
                     m.cmp(arith::CmpIPredicate::eq, m.dim(input, axis), m.c(0)),
                     describeNode(op.getLoc(), isMax ? "ArgMax" : "ArgMin") +
                         ": the axis it reduces is empty");
    Value result = argExtremum(rewriter, op.getLoc(), input, axis, isMax,
                               op.getSelectLastIndex());
    rewriter.replaceOp(op, restoreReducedDims(rewriter, op.getLoc(), result,
                                              reducedFlags(inputType.getRank(), {axis}),
                                              cast<RankedTensorType>(op.getType())));
    return success();
  }
};

/// hardmax(x)[..., i, ...] = i == argmax(x)[...] ? 1 : 0 along the axis.
struct HardmaxToGeneric : OpRewritePattern<HardmaxOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(HardmaxOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getInput();
    auto type = cast<RankedTensorType>(x.getType());
    int64_t axis = op.getAxis();
    Value indices = argExtremum(rewriter, loc, x, axis, /*isMax=*/true, /*last=*/false);
    AffineMap kept = keptDimsMap(rewriter.getContext(), reducedFlags(type.getRank(), {axis}));
    Type element = type.getElementType();
    Value result = mapElements(rewriter, loc, x, ValueRange{indices}, {kept}, element,
                               [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                                 Value i = arith::IndexCastOp::create(
                                     b, l, b.getI64Type(), linalg::IndexOp::create(b, l, axis));
                                 Value hit = arith::CmpIOp::create(
                                     b, l, arith::CmpIPredicate::eq, i, a[0]);
                                 return arith::SelectOp::create(
                                     b, l, hit, scalarConstant(b, l, element, 1),
                                     scalarConstant(b, l, element, 0));
                               });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// softmax(x) = exp(x - max) / sum(exp(x - max)) along one axis;
/// log-softmax = x - max - log(sum(exp(x - max))).
struct SoftmaxToGeneric : OpRewritePattern<SoftmaxOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(SoftmaxOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getInput();
    auto type = cast<RankedTensorType>(x.getType());
    Type element = type.getElementType();
    SmallVector<bool> reduced = reducedFlags(type.getRank(), {(int64_t)op.getAxis()});
    AffineMap id = rewriter.getMultiDimIdentityMap(type.getRank());
    AffineMap kept = keptDimsMap(rewriter.getContext(), reduced);
    Value max = reduce(rewriter, loc, x, reduced, lowest(rewriter, loc, element),
                       [](OpBuilder &b, Location l, Value v, Value acc) {
                         return maximum(b, l, v, acc);
                       });
    Value shifted = mapElements(rewriter, loc, x, ValueRange{x, max}, {id, kept}, element,
                                [](OpBuilder &b, Location l, ValueRange a) -> Value {
                                  return arith::SubFOp::create(b, l, a[0], a[1]);
                                });
    Value exp = mapElements(rewriter, loc, x, ValueRange{shifted}, {id}, element,
                            [](OpBuilder &b, Location l, ValueRange a) -> Value {
                              return math::ExpOp::create(b, l, a[0]);
                            });
    Value sum = reduce(rewriter, loc, exp, reduced, scalarConstant(rewriter, loc, element, 0),
                       [](OpBuilder &b, Location l, Value v, Value acc) {
                         return add(b, l, v, acc);
                       });
    Value result;
    if (op.getLog())
      result = mapElements(rewriter, loc, x, ValueRange{shifted, sum}, {id, kept}, element,
                           [](OpBuilder &b, Location l, ValueRange a) -> Value {
                             return arith::SubFOp::create(b, l, a[0],
                                                          math::LogOp::create(b, l, a[1]));
                           });
    else
      result = mapElements(rewriter, loc, x, ValueRange{exp, sum}, {id, kept}, element,
                           [](OpBuilder &b, Location l, ValueRange a) -> Value {
                             return arith::DivFOp::create(b, l, a[0], a[1]);
                           });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// y = (x - mean) / sqrt(var + eps) * scale + bias over the dims [axis, rank).
/// Fails the run where a dim of `params` (the scale and bias, aligned with
/// the input's last dims) is neither a static 1, which broadcasts through
/// its indexing map, nor the input's dim there (ONNX; ORT fails too): the
/// loops take their sizes from the input and would read past a shorter
/// parameter. Dims proven equal and static ones (compared when compiling)
/// cost nothing.
void checkTrailingParameters(PatternRewriter &rewriter, Location loc, StringRef opType, Value x,
                             ValueRange params) {
  int64_t rank = cast<RankedTensorType>(x.getType()).getRank();
  Value failed;
  for (Value param : params) {
    if (!param)
      continue;
    auto type = cast<RankedTensorType>(param.getType());
    for (int64_t j = 0; j < type.getRank(); ++j) {
      int64_t p = rank - type.getRank() + j;
      if (p >= 0 && type.getDimSize(j) != 1)
        requireSameDimAtRunTime(rewriter, loc, param, j, x, p, failed);
    }
  }
  if (failed)
    emitRuntimeCheck(rewriter, loc, failed,
                     describeNode(loc, opType) +
                         ": the scale's or bias' dims and the input's normalized dims differ "
                         "at run time");
}

struct LayerNormToGeneric : OpRewritePattern<LayerNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LayerNormOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getInput();
    auto type = cast<RankedTensorType>(x.getType());
    Type element = type.getElementType();
    checkTrailingParameters(rewriter, loc, "LayerNormalization", x,
                            {op.getScale(), op.getBias()});
    SmallVector<bool> reduced(type.getRank(), false);
    for (int64_t i = op.getAxis(); i < type.getRank(); ++i)
      reduced[i] = true;
    AffineMap id = rewriter.getMultiDimIdentityMap(type.getRank());
    AffineMap kept = keptDimsMap(rewriter.getContext(), reduced);
    auto sumOf = [&](Value v) {
      return reduce(rewriter, loc, v, reduced, scalarConstant(rewriter, loc, element, 0),
                    [](OpBuilder &b, Location l, Value e, Value acc) { return add(b, l, e, acc); });
    };
    Value count = reducedCount(rewriter, loc, x, reduced, element);
    Value sum = sumOf(x);
    Value centered = mapElements(rewriter, loc, x, ValueRange{x, sum}, {id, kept}, element,
                                 [&](OpBuilder &b, Location l, ValueRange a) -> Value {
                                   Value mean = arith::DivFOp::create(b, l, a[1], count);
                                   return arith::SubFOp::create(b, l, a[0], mean);
                                 });
    Value squares = mapElements(rewriter, loc, x, ValueRange{centered}, {id}, element,
                                [](OpBuilder &b, Location l, ValueRange a) -> Value {
                                  return arith::MulFOp::create(b, l, a[0], a[0]);
                                });
    Value sumSquares = sumOf(squares);
    double epsilon = op.getEpsilon().convertToDouble();
    SmallVector<Value> inputs{centered, sumSquares, op.getScale()};
    SmallVector<AffineMap> maps{id, kept,
                                broadcastMap(op.getContext(),
                                             cast<RankedTensorType>(op.getScale().getType()), type)};
    if (op.getBias()) {
      inputs.push_back(op.getBias());
      maps.push_back(broadcastMap(op.getContext(),
                                  cast<RankedTensorType>(op.getBias().getType()), type));
    }
    Value result = mapElements(
        rewriter, loc, x, inputs, maps, element,
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value variance = arith::DivFOp::create(b, l, a[1], count);
          Value shiftedVar =
              arith::AddFOp::create(b, l, variance, scalarConstant(b, l, element, epsilon));
          Value normalized =
              arith::DivFOp::create(b, l, a[0], math::SqrtOp::create(b, l, shiftedVar));
          Value scaled = arith::MulFOp::create(b, l, normalized, a[2]);
          return a.size() > 3 ? (Value)arith::AddFOp::create(b, l, scaled, a[3]) : scaled;
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// y = x / sqrt(mean(x^2) + eps) * scale over the dims [axis, rank).
struct RmsNormToGeneric : OpRewritePattern<RmsNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(RmsNormOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getInput();
    auto type = cast<RankedTensorType>(x.getType());
    checkTrailingParameters(rewriter, loc, "RMSNormalization", x, {op.getScale()});
    Type element = type.getElementType();
    SmallVector<bool> reduced(type.getRank(), false);
    for (int64_t i = op.getAxis(); i < type.getRank(); ++i)
      reduced[i] = true;
    AffineMap id = rewriter.getMultiDimIdentityMap(type.getRank());
    AffineMap kept = keptDimsMap(rewriter.getContext(), reduced);
    Value sumSquares = reduce(rewriter, loc, x, reduced, scalarConstant(rewriter, loc, element, 0),
                              [](OpBuilder &b, Location l, Value e, Value acc) {
                                return add(b, l, mul(b, l, e, e), acc);
                              });
    Value count = reducedCount(rewriter, loc, x, reduced, element);
    double epsilon = op.getEpsilon().convertToDouble();
    AffineMap scaleMap = broadcastMap(op.getContext(),
                                      cast<RankedTensorType>(op.getScale().getType()), type);
    Value result = mapElements(
        rewriter, loc, x, ValueRange{x, sumSquares, op.getScale()}, {id, kept, scaleMap},
        element, [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value meanSquare = arith::DivFOp::create(b, l, a[1], count);
          Value shifted =
              arith::AddFOp::create(b, l, meanSquare, scalarConstant(b, l, element, epsilon));
          Value normalized = arith::DivFOp::create(b, l, a[0], math::SqrtOp::create(b, l, shifted));
          return arith::MulFOp::create(b, l, normalized, a[2]);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// y = (x - mean[c]) / sqrt(var[c] + eps) * scale[c] + bias[c], c = dim 1.
/// The parameters' length must be the channel count (ONNX; ORT fails too);
/// where either is `?` that is checked when the model runs, as the loop's
/// size would otherwise be taken from whichever is static (linalg's
/// canonicalization does), reading past the shorter.
struct BatchNormToGeneric : OpRewritePattern<BatchNormOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(BatchNormOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getInput();
    auto type = cast<RankedTensorType>(x.getType());
    Type element = type.getElementType();
    Value failed;
    for (Value param : {op.getScale(), op.getBias(), op.getMean(), op.getVariance()})
      requireSameDimAtRunTime(rewriter, loc, param, 0, x, 1, failed);
    if (failed)
      emitRuntimeCheck(rewriter, loc, failed,
                       describeNode(loc, "BatchNormalization") +
                           ": the input's channels (dim 1) and the length of its scale, bias, "
                           "mean or variance differ at run time");
    AffineMap id = rewriter.getMultiDimIdentityMap(type.getRank());
    AffineMap channel = AffineMap::get(type.getRank(), 0, rewriter.getAffineDimExpr(1));
    double epsilon = op.getEpsilon().convertToDouble();
    Value result = mapElements(
        rewriter, loc, x, ValueRange{x, op.getScale(), op.getBias(), op.getMean(), op.getVariance()},
        {id, channel, channel, channel, channel}, element,
        [&](OpBuilder &b, Location l, ValueRange a) -> Value {
          Value centered = arith::SubFOp::create(b, l, a[0], a[3]);
          Value shiftedVar = arith::AddFOp::create(b, l, a[4], scalarConstant(b, l, element, epsilon));
          Value normalized =
              arith::DivFOp::create(b, l, centered, math::SqrtOp::create(b, l, shiftedVar));
          return arith::AddFOp::create(b, l, arith::MulFOp::create(b, l, normalized, a[1]), a[2]);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void mlir::kiln::lowering::populateReductionLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<ReduceToGeneric<ReduceSumOp>, ReduceToGeneric<ReduceMeanOp>,
               ReduceToGeneric<ReduceMaxOp>, ReduceToGeneric<ReduceMinOp>,
               ReduceToGeneric<ReduceProdOp>, ArgExtremumToGeneric<ArgMaxOp, true>,
               ArgExtremumToGeneric<ArgMinOp, false>, HardmaxToGeneric, SoftmaxToGeneric,
               LayerNormToGeneric, RmsNormToGeneric, BatchNormToGeneric>(patterns.getContext());
}
