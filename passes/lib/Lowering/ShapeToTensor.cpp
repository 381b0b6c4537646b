//===- ShapeToTensor.cpp - Constants, shape queries and reshapes to tensor --===//
//
// kiln.constant becomes arith.constant (dense or dense_resource alike);
// shape and size read tensor.dim; reshape computes its target dims at run
// time the ONNX way and becomes tensor.collapse_shape/expand_shape where it
// can (dim by dim where the regrouping is provable, else through one dim),
// else tensor.reshape; unsqueeze and squeeze become tensor.expand_shape and
// tensor.collapse_shape; constant_of_shape is a linalg.fill of a
// tensor.empty with run-time dims, and range a linalg.generic over
// linalg.index.
//
// Shape operands are read at run time (ShapeOperands.h: tensor.extract, or
// the scalar a producer such as shape/concat/from_elements already holds)
// and fold away when they are constants; a result dim that the result type
// knows is always taken from the type.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "RuntimeCalls.h"
#include "ShapeOperands.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

namespace {

Value indexConstant(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

bool isSignlessOrFloat(Type type) {
  auto intType = dyn_cast<IntegerType>(type);
  return isa<FloatType>(type) || (intType && intType.isSignless());
}

//===----------------------------------------------------------------------===//
// Constants and generators
//===----------------------------------------------------------------------===//

struct ConstantToArith : OpRewritePattern<ConstantOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ConstantOp op, PatternRewriter &rewriter) const override {
    auto value = dyn_cast<TypedAttr>(op.getValue());
    if (!value || value.getType() != op.getType())
      return rewriter.notifyMatchFailure(op, "the value's type differs from the result's");
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(op, value);
    return success();
  }
};

/// tensor.empty with the run-time dims of the shape operand, filled.
struct ConstantOfShapeToFill : OpRewritePattern<ConstantOfShapeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ConstantOfShapeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType = cast<RankedTensorType>(op.getType());
    TypedAttr value = op.getValue();
    if (value.getType() != resultType.getElementType() ||
        !isSignlessOrFloat(value.getType()))
      return rewriter.notifyMatchFailure(op, "the value needs a float or signless type");
    SmallVector<Value> dynamicDims;
    for (int64_t d = 0; d < resultType.getRank(); ++d)
      if (resultType.isDynamicDim(d))
        dynamicDims.push_back(shapeElementAsIndex(rewriter, loc, op.getShape(), d));
    Value init = emptyWithDims(rewriter, loc, resultType, dynamicDims);
    Value fill = arith::ConstantOp::create(rewriter, loc, value);
    rewriter.replaceOp(op, linalg::FillOp::create(rewriter, loc, ValueRange{fill},
                                                  ValueRange{init})
                               ->getResults());
    return success();
  }
};

/// start + i * delta for i in [0, max(0, ceil((limit - start) / delta))).
struct RangeToGeneric : OpRewritePattern<RangeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(RangeOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType = cast<RankedTensorType>(op.getType());
    Type element = resultType.getElementType();
    if (!isSignlessOrFloat(element) || element.isInteger(1))
      return rewriter.notifyMatchFailure(op, "range needs a float or signless integer type");
    bool isFloat = isa<FloatType>(element);
    Value start = shapeElement(rewriter, loc, op.getStart(), 0);
    Value limit = shapeElement(rewriter, loc, op.getLimit(), 0);
    Value delta = shapeElement(rewriter, loc, op.getDelta(), 0);
    Value zeroDelta = checkRangeDelta(rewriter, loc, delta);

    SmallVector<Value> dynamicDims;
    if (resultType.isDynamicDim(0) && !isFloat && isArangeOfDim(start, limit, delta)) {
      // arange(x.size(d)): its length is that dim, never negative, and the
      // ops after it see it as the dim (a reshape to [B, 1, 1, S] of such
      // ranges' grid is then a view).
      dynamicDims.push_back(toIndex(rewriter, loc, limit));
    } else if (resultType.isDynamicDim(0)) {
      Value count;
      if (isFloat) {
        // The span in the element type, its quotient in f64 (as in
        // onnxruntime and numpy): in f32, -3.5 / -0.7f rounds to 5 where
        // the quotient is above 5, and the range would lose its last value.
        Type f64 = rewriter.getF64Type();
        auto wide = [&](Value v) -> Value {
          return v.getType() == f64 ? v : arith::ExtFOp::create(rewriter, loc, f64, v);
        };
        Value span = wide(arith::SubFOp::create(rewriter, loc, limit, start));
        Value steps = math::CeilOp::create(
            rewriter, loc, arith::DivFOp::create(rewriter, loc, span, wide(delta)));
        count = arith::FPToSIOp::create(rewriter, loc, rewriter.getI64Type(), steps);
      } else {
        // The division by a delta of 0 (checked above) or of -1 with the
        // most negative span would trap: those divide by 1 instead (-1 is
        // then a negation, which wraps as the span did).
        Value span = arith::SubIOp::create(rewriter, loc, limit, start);
        Value minusOne = scalarConstant(rewriter, loc, element, -1);
        Value byMinusOne =
            arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq, delta, minusOne);
        Value safe = arith::SelectOp::create(
            rewriter, loc, arith::OrIOp::create(rewriter, loc, byMinusOne, zeroDelta),
            scalarConstant(rewriter, loc, element, 1), delta);
        Value negated =
            arith::SubIOp::create(rewriter, loc, scalarConstant(rewriter, loc, element, 0), span);
        count = arith::SelectOp::create(rewriter, loc, byMinusOne, negated,
                                        arith::CeilDivSIOp::create(rewriter, loc, span, safe));
      }
      count = toIndex(rewriter, loc, count);
      dynamicDims.push_back(
          arith::MaxSIOp::create(rewriter, loc, count, indexConstant(rewriter, loc, 0)));
    }
    Value init = emptyWithDims(rewriter, loc, resultType, dynamicDims);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{resultType}, ValueRange{}, ValueRange{init},
        ArrayRef<AffineMap>{rewriter.getMultiDimIdentityMap(1)}, parallelIterators(1),
        [&](OpBuilder &b, Location l, ValueRange) {
          Value i = linalg::IndexOp::create(b, l, 0);
          Value v;
          if (isFloat) {
            Value i64 = arith::IndexCastOp::create(b, l, b.getI64Type(), i);
            Value fi = arith::SIToFPOp::create(b, l, element, i64);
            v = arith::AddFOp::create(b, l, start, arith::MulFOp::create(b, l, fi, delta));
          } else {
            Value ii = arith::IndexCastOp::create(b, l, element, i);
            v = arith::AddIOp::create(b, l, start, arith::MulIOp::create(b, l, ii, delta));
          }
          linalg::YieldOp::create(b, l, v);
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Shape queries
//===----------------------------------------------------------------------===//

/// The dims [start, end) as i64, gathered with tensor.from_elements.
struct ShapeToFromElements : OpRewritePattern<ShapeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ShapeOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    SmallVector<Value> dims;
    for (int64_t d = op.getStart(), e = op.getEnd(); d < e; ++d)
      dims.push_back(arith::IndexCastOp::create(rewriter, loc, rewriter.getI64Type(),
                                                dimValue(rewriter, loc, op.getInput(), d)));
    rewriter.replaceOpWithNewOp<tensor::FromElementsOp>(op, op.getType(), dims);
    return success();
  }
};

/// The product of all dims as a 0-D i64 tensor.
struct SizeToFromElements : OpRewritePattern<SizeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(SizeOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = op.getInput();
    Value total = indexConstant(rewriter, loc, 1);
    for (int64_t d = 0; d < cast<RankedTensorType>(input.getType()).getRank(); ++d)
      total = arith::MulIOp::create(rewriter, loc, total, dimValue(rewriter, loc, input, d));
    Value size = arith::IndexCastOp::create(rewriter, loc, rewriter.getI64Type(), total);
    rewriter.replaceOpWithNewOp<tensor::FromElementsOp>(op, op.getType(), ValueRange{size});
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Reshapes
//===----------------------------------------------------------------------===//

/// Groups the dims of `big` into one contiguous group per dim of `small`
/// whose product is that dim (static 1s of `big` may join any group); none
/// where that cannot be proven.
std::optional<SmallVector<ReassociationIndices>>
groupDims(ArrayRef<Monomial> big, ArrayRef<Monomial> small) {
  SmallVector<ReassociationIndices> groups;
  Monomial one;
  int64_t b = 0, nb = big.size();
  for (const Monomial &target : small) {
    ReassociationIndices group;
    Monomial product;
    do {
      if (b == nb)
        return std::nullopt;
      product = product * big[b];
      group.push_back(b++);
      if (!target.dividedBy(product))
        return std::nullopt;
    } while (!(product == target));
    groups.push_back(group);
  }
  for (; b < nb && big[b] == one && !groups.empty(); ++b)
    groups.back().push_back(b);
  if (small.empty() && llvm::all_of(big, [&](const Monomial &m) { return m == one; }))
    return groups;
  if (b != nb)
    return std::nullopt;
  return groups;
}

/// Whether every group of an expand_shape to `type` has at most one `?` dim:
/// expand-strided-metadata (MLIR 22) derives a group's `?` size from the
/// source size and the static sizes, and crashes on a group with two.
bool singleDynamicPerGroup(RankedTensorType type, ArrayRef<ReassociationIndices> groups) {
  return llvm::all_of(groups, [&](const ReassociationIndices &group) {
    return llvm::count_if(group, [&](int64_t d) { return type.isDynamicDim(d); }) <= 1;
  });
}

/// `source` reshaped to `type` (at most one `?` dim) through one dim:
/// collapse_shape to 1-D, then expand_shape with `outputShape` (a size per
/// dim of `type`, static where `type` is), with a tensor.cast where the
/// staticness of the 1-D tensor must change. The element counts must agree
/// at run time (as ONNX requires).
Value reshapeThroughFlat(OpBuilder &b, Location loc, Value source, RankedTensorType type,
                         ArrayRef<OpFoldResult> outputShape) {
  auto sourceType = cast<RankedTensorType>(source.getType());
  Type element = type.getElementType();
  int64_t rank = type.getRank(), sourceRank = sourceType.getRank();
  auto castTo = [&](Value v, RankedTensorType t) {
    return v.getType() == t ? v : (Value)tensor::CastOp::create(b, loc, t, v);
  };
  auto all = [](int64_t n) {
    return SmallVector<ReassociationIndices>{llvm::to_vector<2>(llvm::seq<int64_t>(0, n))};
  };
  if (rank == 0) {
    // One element: every source dim is 1.
    auto ones = RankedTensorType::get(SmallVector<int64_t>(sourceRank, 1), element);
    return tensor::CollapseShapeOp::create(b, loc, type, castTo(source, ones),
                                           ArrayRef<ReassociationIndices>{});
  }
  if (sourceRank == 0) {
    auto ones = RankedTensorType::get(SmallVector<int64_t>(rank, 1), element);
    SmallVector<OpFoldResult> unitSizes(rank, b.getIndexAttr(1));
    return castTo(tensor::ExpandShapeOp::create(b, loc, ones, source,
                                                ArrayRef<ReassociationIndices>{}, unitSizes),
                  type);
  }
  Value flat = source;
  if (sourceRank > 1) {
    int64_t count = sourceType.hasStaticShape() ? sourceType.getNumElements()
                                                : ShapedType::kDynamic;
    flat = tensor::CollapseShapeOp::create(b, loc, RankedTensorType::get({count}, element),
                                           source, all(sourceRank));
  }
  int64_t count = type.hasStaticShape() ? type.getNumElements() : ShapedType::kDynamic;
  flat = castTo(flat, RankedTensorType::get({count}, element));
  if (rank == 1)
    return castTo(flat, type);
  return tensor::ExpandShapeOp::create(b, loc, type, flat, all(rank), outputShape);
}

/// Each target dim the result type leaves `?` is, at run time: the input dim
/// where the shape entry is 0 (unless allowzero), total / (product of the
/// other dims) where it is -1, else the entry itself.
///
/// Where the entries are constants, dims of tensors, or values the input
/// has as a dim's size, every input and target dim is a Monomial of the
/// same symbols; if the target dims then
/// provably regroup the input dims, the result is a view
/// (tensor.collapse_shape/expand_shape, or tensor.reshape to the dims'
/// symbols where an expand_shape group would have two `?` dims; a -1 dim
/// that comes out static is made static and the view tensor.cast back to
/// the result type). Otherwise,
/// with at most one `?` result dim, it goes through 1-D (collapse_shape,
/// then expand_shape); else it is tensor.reshape to a tensor<Nxindex> of the
/// run-time dims (its memref.reshape needs finalize-memref-to-llvm: the
/// convert-to-llvm of MLIR 22 leaves it).
struct ReshapeToTensorReshape : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ReshapeOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = op.getInput(), shape = op.getShape();
    auto inputType = cast<RankedTensorType>(input.getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t rank = resultType.getRank(), inputRank = inputType.getRank();
    auto shapeType = cast<RankedTensorType>(shape.getType());
    if (shapeType.isDynamicDim(0) || shapeType.getDimSize(0) != rank)
      return rewriter.notifyMatchFailure(op, "the shape operand's length is not the rank");

    Value zero = indexConstant(rewriter, loc, 0);
    // Per dynamic dim: the entry and the entry with 0 resolved (`copied`).
    // Copying dim d where the entry is dim d of the input changes nothing.
    SmallVector<Value> entries(rank), copied(rank);
    SmallVector<DimSource> sources(rank);
    for (int64_t d = 0; d < rank; ++d) {
      if (!resultType.isDynamicDim(d))
        continue;
      entries[d] = copied[d] = shapeElementAsIndex(rewriter, loc, shape, d);
      sources[d] = traceIndex(entries[d]);
      bool sameDim = d < inputRank && sources[d] == traceDim(input, d);
      if (!op.getAllowzero() && d < inputRank && !sameDim) {
        Value isZero = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq,
                                             entries[d], zero);
        copied[d] = arith::SelectOp::create(rewriter, loc, isZero,
                                            dimValue(rewriter, loc, input, d), entries[d]);
      }
    }
    checkMinusOneDefined(rewriter, loc, op, entries);
    if (succeeded(rewriteAsView(op, rewriter, sources, copied)))
      return success();

    // An entry that is some tensor's dim or a constant other than -1 is not
    // the -1.
    Value one = indexConstant(rewriter, loc, 1), minusOne = indexConstant(rewriter, loc, -1);
    SmallVector<Value> dims(rank);
    SmallVector<bool> mayInfer(rank, false);
    for (int64_t d = 0; d < rank; ++d) {
      if (!resultType.isDynamicDim(d)) {
        dims[d] = indexConstant(rewriter, loc, resultType.getDimSize(d));
        continue;
      }
      mayInfer[d] = !sources[d].tensor && (ShapedType::isDynamic(sources[d].staticSize) ||
                                           sources[d].staticSize == -1);
    }
    if (llvm::is_contained(mayInfer, true)) {
      // known = product of all resolved dims with the -1 entry counted as 1;
      // the -1 dim is then total / known (a static dim is never the -1).
      Value total = one, known = one;
      for (int64_t d = 0; d < inputRank; ++d)
        total = arith::MulIOp::create(rewriter, loc, total, dimValue(rewriter, loc, input, d));
      SmallVector<Value> isInferred(rank);
      for (int64_t d = 0; d < rank; ++d) {
        Value factor = dims[d] ? dims[d] : copied[d];
        if (mayInfer[d]) {
          isInferred[d] = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::eq,
                                                entries[d], minusOne);
          factor = arith::SelectOp::create(rewriter, loc, isInferred[d], one, copied[d]);
        }
        known = arith::MulIOp::create(rewriter, loc, known, factor);
      }
      // An empty target (a 0 dim) leaves -1 ambiguous in ONNX; avoid / 0.
      Value divisor = arith::MaxSIOp::create(rewriter, loc, known, one);
      Value inferred = arith::DivSIOp::create(rewriter, loc, total, divisor);
      for (int64_t d = 0; d < rank; ++d)
        if (mayInfer[d])
          dims[d] = arith::SelectOp::create(rewriter, loc, isInferred[d], inferred, copied[d]);
    }
    for (int64_t d = 0; d < rank; ++d)
      if (!dims[d])
        dims[d] = copied[d];
    checkElementCount(rewriter, loc, input, dims);
    if (resultType.getNumDynamicDims() <= 1) {
      SmallVector<OpFoldResult> outputShape;
      for (int64_t d = 0; d < rank; ++d)
        outputShape.push_back(resultType.isDynamicDim(d)
                                  ? OpFoldResult(dims[d])
                                  : OpFoldResult(rewriter.getIndexAttr(resultType.getDimSize(d))));
      rewriter.replaceOp(op, reshapeThroughFlat(rewriter, loc, input, resultType, outputShape));
      return success();
    }
    auto shapeTensorType = RankedTensorType::get({rank}, rewriter.getIndexType());
    Value target = tensor::FromElementsOp::create(rewriter, loc, shapeTensorType, dims);
    rewriter.replaceOpWithNewOp<tensor::ReshapeOp>(op, resultType, input, target);
    return success();
  }

  /// Fails the run where the target shape has a -1 and its other sizes
  /// multiply to 0: ONNX leaves that -1 undefined (ORT fails too), where
  /// Kiln would pick 0 for it, or the size that regroups the input's dims.
  /// An entry 0 that copies an input dim (no allowzero) counts as that dim,
  /// read as the product of the dims it regroups (dimMonomial), so that no
  /// view of the input is kept alive for its size.
  static void checkMinusOneDefined(PatternRewriter &rewriter, Location loc, ReshapeOp op,
                                   ArrayRef<Value> entries) {
    IndexMath m{rewriter, loc};
    Value input = op.getInput();
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t inputRank = cast<RankedTensorType>(input.getType()).getRank();
    Value known = m.c(1), hasMinusOne;
    for (int64_t d = 0; d < resultType.getRank(); ++d) {
      if (!resultType.isDynamicDim(d)) {
        known = m.mul(known, m.c(resultType.getDimSize(d)));
        continue;
      }
      Value size = entries[d];
      if (!op.getAllowzero() && d < inputRank)
        size = m.select(m.cmp(arith::CmpIPredicate::eq, size, m.c(0)),
                        materialize(rewriter, loc, dimMonomial(input, d)), size);
      Value isMinusOne = m.cmp(arith::CmpIPredicate::eq, entries[d], m.c(-1));
      orInto(rewriter, loc, hasMinusOne, isMinusOne);
      known = m.mul(known, m.select(isMinusOne, m.c(1), size));
    }
    if (!hasMinusOne)
      return;
    Value undefined = arith::AndIOp::create(rewriter, loc, hasMinusOne,
                                            m.cmp(arith::CmpIPredicate::eq, known, m.c(0)));
    emitRuntimeCheck(rewriter, loc, undefined,
                     describeNode(loc, "Reshape") +
                         ": the target shape has a -1 and its other sizes multiply to 0, "
                         "which leaves the -1 undefined");
  }

  /// Fails the run unless the target dims (none negative) hold exactly the
  /// input's elements, as ONNX requires: a shape fed at run time that does
  /// not would otherwise make the reshaped tensor read past the input.
  static void checkElementCount(PatternRewriter &rewriter, Location loc, Value input,
                                ArrayRef<Value> dims) {
    IndexMath m{rewriter, loc};
    auto inputType = cast<RankedTensorType>(input.getType());
    Value inputCount = m.c(1), targetCount = m.c(1), negative = m.cmp(
        arith::CmpIPredicate::ne, m.c(0), m.c(0));
    for (int64_t i = 0; i < inputType.getRank(); ++i)
      inputCount = m.mul(inputCount, dimValue(rewriter, loc, input, i));
    for (Value d : dims) {
      targetCount = m.mul(targetCount, d);
      negative = rewriter.createOrFold<arith::OrIOp>(
          loc, negative, m.cmp(arith::CmpIPredicate::slt, d, m.c(0)));
    }
    Value failed = rewriter.createOrFold<arith::OrIOp>(
        loc, negative, m.cmp(arith::CmpIPredicate::ne, inputCount, targetCount));
    emitRuntimeCheck(rewriter, loc, failed,
                     describeNode(loc, "Reshape") +
                         ": the target shape, known at run time, does not hold the input's "
                         "elements (a negative size other than one -1, or a different number "
                         "of elements)");
  }

  /// The view, where the regrouping is provable (see above).
  static LogicalResult rewriteAsView(ReshapeOp op, PatternRewriter &rewriter,
                                     ArrayRef<DimSource> sources, ArrayRef<Value> copied) {
    Location loc = op.getLoc();
    Value input = op.getInput();
    auto inputType = cast<RankedTensorType>(input.getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t rank = resultType.getRank(), inputRank = inputType.getRank();

    SmallVector<Monomial> in, out(rank);
    Monomial total;
    for (int64_t i = 0; i < inputRank; ++i) {
      in.push_back(dimMonomial(input, i));
      total = total * in.back();
    }
    // The input dim whose size a value only known at run time is (an
    // Expand's run-time batch, say): then the value is a size, not -1, and
    // that dim's symbol.
    auto inputDimSized = [&](const DimSource &source) -> std::optional<int64_t> {
      for (int64_t i = 0; source.value && i < inputRank; ++i)
        if (traceDim(input, i) == source)
          return i;
      return std::nullopt;
    };
    int64_t inferredAt = -1;
    for (int64_t d = 0; d < rank; ++d) {
      if (!resultType.isDynamicDim(d)) {
        out[d] = Monomial{resultType.getDimSize(d), {}};
        continue;
      }
      const DimSource &source = sources[d];
      int64_t c = source.staticSize;
      if (source.tensor) {
        // A tensor's dim. Were it 0 at run time, the run-time dim is the
        // copied input dim, and the tensors are empty either way.
        out[d] = dimMonomial(source.tensor, source.index);
      } else if (c == -1 && inferredAt < 0) {
        inferredAt = d;
      } else if (c == 0 && !op.getAllowzero() && d < inputRank) {
        out[d] = in[d];
      } else if (c > 0 && !ShapedType::isDynamic(c)) {
        out[d] = Monomial{c, {}};
      } else if (std::optional<int64_t> i = inputDimSized(source)) {
        out[d] = in[*i];
      } else {
        return failure(); // a value only known at run time, or invalid
      }
    }
    if (inferredAt >= 0) {
      Monomial known;
      for (int64_t d = 0; d < rank; ++d)
        if (d != inferredAt)
          known = known * out[d];
      auto quotient = total.dividedBy(known);
      if (!quotient)
        return failure();
      out[inferredAt] = *quotient;
    }
    auto hasZero = [](ArrayRef<Monomial> dims) {
      return llvm::any_of(dims, [](const Monomial &m) { return m.factor == 0; });
    };
    if (hasZero(in) || hasZero(out))
      return failure();

    // The input and result types with the dims that are static made static.
    auto refine = [](RankedTensorType type, ArrayRef<Monomial> dims) {
      SmallVector<int64_t> shape(type.getShape());
      for (auto [d, m] : llvm::enumerate(dims))
        if (type.isDynamicDim(d) && m.isStatic())
          shape[d] = m.factor;
      return RankedTensorType::get(shape, type.getElementType());
    };
    RankedTensorType sourceType = refine(inputType, in), viewType = refine(resultType, out);
    Value source = input;
    if (sourceType != inputType)
      source = tensor::CastOp::create(rewriter, loc, sourceType, input);
    auto outputShape = [&]() {
      SmallVector<OpFoldResult> shape;
      for (int64_t d = 0; d < rank; ++d) {
        if (!viewType.isDynamicDim(d))
          shape.push_back(rewriter.getIndexAttr(viewType.getDimSize(d)));
        else if (d == inferredAt)
          shape.push_back(materialize(rewriter, loc, out[d]));
        else
          shape.push_back(copied[d]);
      }
      return shape;
    };

    Value view;
    auto groups = rank <= inputRank ? groupDims(in, out) : groupDims(out, in);
    if (groups && rank < inputRank) {
      view = tensor::CollapseShapeOp::create(rewriter, loc, viewType, source, *groups);
    } else if (groups && rank > inputRank && !singleDynamicPerGroup(viewType, *groups)) {
      // A proven regrouping that expand_shape cannot take ([B*S, N] to
      // [B, S, N]): tensor.reshape (a view too, memref.reshape) to the
      // dims as their symbols, so that the ops after it see B and S, not
      // run-time values (an Add with the residual then needs no broadcast
      // check). The symbols' product is the input's size by the proof.
      SmallVector<Value> dims;
      for (int64_t d = 0; d < rank; ++d)
        dims.push_back(materialize(rewriter, loc, out[d]));
      auto shapeType = RankedTensorType::get({rank}, rewriter.getIndexType());
      view = tensor::ReshapeOp::create(rewriter, loc, viewType, source,
                                       tensor::FromElementsOp::create(rewriter, loc, shapeType, dims));
    } else if (groups && rank > inputRank) {
      view = tensor::ExpandShapeOp::create(rewriter, loc, viewType, source, *groups,
                                           outputShape());
    } else if (groups) {
      view = source.getType() == viewType
                 ? source
                 : (Value)tensor::CastOp::create(rewriter, loc, viewType, source);
    } else {
      // No dim-by-dim regrouping (e.g. ?x? to ?x1 from [-1, 1]): through 1-D,
      // where the totals provably agree.
      Monomial outTotal;
      for (const Monomial &m : out)
        outTotal = outTotal * m;
      if (!(outTotal == total) || viewType.getNumDynamicDims() > 1)
        return failure();
      view = reshapeThroughFlat(rewriter, loc, source, viewType, outputShape());
    }
    if (viewType != resultType)
      view = tensor::CastOp::create(rewriter, loc, resultType, view);
    rewriter.replaceOp(op, view);
    return success();
  }
};

/// Groups the dims of a shape with the unit dims at `unitAxes` into one group
/// per other dim: unit dims join the group of the dim before them, leading
/// ones that of the first dim. No groups when every dim is a unit dim.
SmallVector<ReassociationIndices> unitDimGroups(int64_t fullRank,
                                                ArrayRef<int64_t> unitAxes) {
  SmallVector<ReassociationIndices> groups;
  int64_t kept = fullRank - (int64_t)unitAxes.size();
  if (kept == 0)
    return groups;
  groups.resize(kept);
  int64_t seen = 0;
  for (int64_t d = 0; d < fullRank; ++d) {
    bool unit = llvm::is_contained(unitAxes, d);
    if (!unit)
      ++seen;
    groups[std::max<int64_t>(seen - 1, 0)].push_back(d);
  }
  return groups;
}

/// The full-rank shape with unit dims at `unitAxes` and `kept` elsewhere.
SmallVector<int64_t> withUnitDims(ArrayRef<int64_t> kept, ArrayRef<int64_t> unitAxes) {
  SmallVector<int64_t> shape;
  for (int64_t d = 0, k = 0, e = kept.size() + unitAxes.size(); d < e; ++d)
    shape.push_back(llvm::is_contained(unitAxes, d) ? 1 : kept[k++]);
  return shape;
}

/// The shape without the dims at `axes`.
SmallVector<int64_t> withoutDims(ArrayRef<int64_t> shape, ArrayRef<int64_t> axes) {
  SmallVector<int64_t> kept;
  for (auto [d, size] : llvm::enumerate(shape))
    if (!llvm::is_contained(axes, (int64_t)d))
      kept.push_back(size);
  return kept;
}

/// tensor.expand_shape; an input whose type is less (or more) refined than
/// the result's is tensor.cast to match first.
struct UnsqueezeToExpandShape : OpRewritePattern<UnsqueezeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(UnsqueezeOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType = cast<RankedTensorType>(op.getType());
    ArrayRef<int64_t> axes = op.getAxes();
    for (int64_t axis : axes)
      if (axis < 0 || axis >= resultType.getRank() || resultType.getDimSize(axis) != 1)
        return rewriter.notifyMatchFailure(op, "unsqueeze axes must be unit result dims");
    auto sourceType = RankedTensorType::get(withoutDims(resultType.getShape(), axes),
                                            resultType.getElementType());
    Value input = op.getInput();
    if (input.getType() != sourceType)
      input = tensor::CastOp::create(rewriter, loc, sourceType, input);
    SmallVector<OpFoldResult> outputShape;
    for (int64_t d = 0, k = 0; d < resultType.getRank(); ++d) {
      if (llvm::is_contained(axes, d)) {
        outputShape.push_back(rewriter.getIndexAttr(1));
        continue;
      }
      outputShape.push_back(resultType.isDynamicDim(d)
                                ? OpFoldResult(dimValue(rewriter, loc, input, k))
                                : OpFoldResult(rewriter.getIndexAttr(resultType.getDimSize(d))));
      ++k;
    }
    rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(
        op, resultType, input, unitDimGroups(resultType.getRank(), axes), outputShape);
    return success();
  }
};

/// tensor.collapse_shape; the input is first tensor.cast to a type whose
/// squeezed dims are 1 (ONNX requires them to be: a `?` one is checked when
/// the model runs, as collapsing a longer dim would drop all but its first
/// entry) and whose other dims are the result's.
struct SqueezeToCollapseShape : OpRewritePattern<SqueezeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(SqueezeOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType = cast<RankedTensorType>(op.getType());
    ArrayRef<int64_t> axes = op.getAxes();
    auto sourceType = RankedTensorType::get(withUnitDims(resultType.getShape(), axes),
                                            resultType.getElementType());
    Value input = op.getInput();
    if (cast<RankedTensorType>(input.getType()).getRank() != sourceType.getRank())
      return rewriter.notifyMatchFailure(op, "squeeze axes do not match the ranks");
    Value failed;
    for (int64_t axis : axes)
      if (cast<RankedTensorType>(input.getType()).isDynamicDim(axis))
        orInto(rewriter, loc, failed,
               arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::ne,
                                     dimValue(rewriter, loc, input, axis),
                                     arith::ConstantIndexOp::create(rewriter, loc, 1)));
    if (failed)
      emitRuntimeCheck(rewriter, loc, failed,
                       describeNode(loc, "Squeeze") + ": a squeezed dim is not 1 at run time");
    if (input.getType() != sourceType)
      input = tensor::CastOp::create(rewriter, loc, sourceType, input);
    rewriter.replaceOpWithNewOp<tensor::CollapseShapeOp>(
        op, resultType, input, unitDimGroups(sourceType.getRank(), axes));
    return success();
  }
};

} // namespace

void mlir::kiln::lowering::populateShapeLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<ConstantToArith, ConstantOfShapeToFill, RangeToGeneric, ShapeToFromElements,
               SizeToFromElements, ReshapeToTensorReshape, UnsqueezeToExpandShape,
               SqueezeToCollapseShape>(patterns.getContext());
}
