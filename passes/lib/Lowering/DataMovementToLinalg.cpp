//===- DataMovementToLinalg.cpp - Data movement kiln ops to linalg/tensor -===//
//
// Gather, slice, expand, tile and trilu become a parallel linalg.generic over
// the result whose body computes the source index from linalg.index (and
// reads it with tensor.extract where the index is not an affine map); a
// slice whose steps are positive constants is a strided
// tensor.extract_slice instead. Transpose is linalg.transpose, concat a
// chain of tensor.insert_slice and split one tensor.extract_slice per
// result.
//
// Shape-carrying operands (slice bounds, expand's shape, tile's repeats,
// trilu's k) are read at run time (ShapeOperands.h: tensor.extract, or the
// scalar a producer already holds); they fold away when they are constants.
// A result dim that the result type leaves `?` is computed at run time the
// way ONNX defines it. Gather and slice of a small 1-D tensor at constant
// positions (shape arithmetic) build the result from scalars instead; a
// Gather of an affine grid of Ranges computes its indices (IndexGrids.h).
//
//===----------------------------------------------------------------------===//

#include "IndexGrids.h"
#include "LoweringUtils.h"
#include "RuntimeCalls.h"
#include "ShapeOperands.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "kiln/Dialect/Kiln/KilnShapeUtils.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

namespace {

Value indexConstant(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

// Index arithmetic, folded as it is built (constant shape operands leave
// constant offsets and sizes).
Value cmp(OpBuilder &b, Location loc, arith::CmpIPredicate p, Value l, Value r) {
  return b.createOrFold<arith::CmpIOp>(loc, p, l, r);
}
Value add(OpBuilder &b, Location loc, Value l, Value r) {
  return b.createOrFold<arith::AddIOp>(loc, l, r);
}
Value sub(OpBuilder &b, Location loc, Value l, Value r) {
  return b.createOrFold<arith::SubIOp>(loc, l, r);
}
Value mul(OpBuilder &b, Location loc, Value l, Value r) {
  return b.createOrFold<arith::MulIOp>(loc, l, r);
}
Value select(OpBuilder &b, Location loc, Value c, Value t, Value f) {
  return b.createOrFold<arith::SelectOp>(loc, c, t, f);
}
Value maxS(OpBuilder &b, Location loc, Value l, Value r) {
  return b.createOrFold<arith::MaxSIOp>(loc, l, r);
}
Value minS(OpBuilder &b, Location loc, Value l, Value r) {
  return b.createOrFold<arith::MinSIOp>(loc, l, r);
}

/// The linalg.index of every loop of the enclosing generic.
SmallVector<Value> loopIndices(OpBuilder &b, Location loc, int64_t rank) {
  SmallVector<Value> indices;
  for (int64_t i = 0; i < rank; ++i)
    indices.push_back(linalg::IndexOp::create(b, loc, i));
  return indices;
}

/// An output-only parallel linalg.generic over `init` whose body yields
/// `body(builder, loc, loop indices)`.
Value buildIndexGeneric(
    OpBuilder &b, Location loc, RankedTensorType resultType, Value init,
    function_ref<Value(OpBuilder &, Location, ArrayRef<Value>)> body) {
  int64_t rank = resultType.getRank();
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{resultType}, ValueRange{}, ValueRange{init},
      ArrayRef<AffineMap>{b.getMultiDimIdentityMap(rank)}, parallelIterators(rank),
      [&](OpBuilder &nb, Location nl, ValueRange) {
        Value v = body(nb, nl, loopIndices(nb, nl, rank));
        linalg::YieldOp::create(nb, nl, v);
      });
  return generic.getResult(0);
}

/// Shape arithmetic picks elements of small 1-D tensors (a shape) at constant
/// positions: build the result from those scalars (ShapeOperands.h), so that
/// a dim read from shape() stays a tensor.dim for the ops that use it.
bool isSmallVector(RankedTensorType type) {
  return type.getRank() == 1 && type.hasStaticShape() && type.getNumElements() <= 16;
}
/// `positions` are already normalised into [0, size).
Value pickElements(OpBuilder &b, Location loc, RankedTensorType resultType, Value data,
                   ArrayRef<int64_t> positions) {
  SmallVector<Value> elements;
  for (int64_t p : positions)
    elements.push_back(shapeElement(b, loc, data, p));
  return tensor::FromElementsOp::create(b, loc, resultType, elements);
}

//===----------------------------------------------------------------------===//
// Gather
//===----------------------------------------------------------------------===//

/// out[i_<axis, j..., k...] = data[i_<axis, wrap(indices[j...]), k...]
///
/// Where the indices are an affine grid of Range ops (IndexGrids.h: GPT-2's
/// position ids arange(S), TorchScript's flattened mask index b * S + s),
/// the generic computes each index from its loop indices, and the range
/// check is a few scalars on the host instead of a scan of the indices.
struct GatherToGeneric : OpRewritePattern<GatherOp> {
  /// gridsOnly: only a Gather whose indices are an affine grid.
  GatherToGeneric(MLIRContext *context, bool gridsOnly)
      : OpRewritePattern(context), gridsOnly(gridsOnly) {}

  LogicalResult matchAndRewrite(GatherOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value data = op.getData(), indices = op.getIndices();
    auto dataType = cast<RankedTensorType>(data.getType());
    auto indicesType = cast<RankedTensorType>(indices.getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t axis = op.getAxis(), q = indicesType.getRank(), rank = resultType.getRank();
    if (rank != dataType.getRank() - 1 + q)
      return rewriter.notifyMatchFailure(op, "result rank does not match data and indices");
    std::optional<SmallVector<GridTerm>> grid = affineGridOf(indices);
    if (gridsOnly && !grid)
      return rewriter.notifyMatchFailure(op, "its indices are no affine grid");

    auto constantIndices = getConstantIntValues(indices);
    if (isSmallVector(dataType) && resultType.hasStaticShape() && constantIndices &&
        (int64_t)constantIndices->size() == resultType.getNumElements()) {
      int64_t size = dataType.getDimSize(0);
      SmallVector<int64_t> positions;
      for (int64_t i : *constantIndices)
        if (auto p = normalizeAxis(i, size))
          positions.push_back(*p);
      if ((int64_t)positions.size() == resultType.getNumElements()) {
        rewriter.replaceOp(op, pickElements(rewriter, loc, resultType, data, positions));
        return success();
      }
    }

    SmallVector<Value> dynamicDims;
    for (int64_t i = 0; i < rank; ++i) {
      if (!resultType.isDynamicDim(i))
        continue;
      if (i < axis)
        dynamicDims.push_back(dimValue(rewriter, loc, data, i));
      else if (i < axis + q)
        dynamicDims.push_back(dimValue(rewriter, loc, indices, i - axis));
      else
        dynamicDims.push_back(dimValue(rewriter, loc, data, i - q + 1));
    }
    Value init = emptyWithDims(rewriter, loc, resultType, dynamicDims);
    Value axisDim = dimValue(rewriter, loc, data, axis);
    SmallVector<TermValues> gridScalars;
    // What the gather does to each index: count a negative one from the
    // end, clamp it into the dim (while a check that comes after the reads
    // fails the run), and read nothing from an empty dim.
    bool wrap = true, clamp = true, mayBeEmpty = true;
    if (grid) {
      for (const GridTerm &term : *grid)
        gridScalars.push_back(termValues(rewriter, loc, term));
      // In range by construction, or checked before the reads: every index
      // is one the dim has (so the dim has one).
      SmallVector<Value> extents;
      for (int64_t i = 0; i < q; ++i)
        extents.push_back(dimValue(rewriter, loc, indices, i));
      checkGridExtents(rewriter, loc, *grid, gridScalars, extents, "Gather");
      bool inRange = inRangeByConstruction(*grid, gridScalars, data, axis);
      if (!inRange)
        checkAffineGridInRange(rewriter, loc, gridScalars, axisDim, "Gather");
      clamp = mayBeEmpty =
          !inRange && !(checkedBeforeGather(gridScalars) && canEmitRuntimeCheck(rewriter));
      wrap = !inRange && (clamp || mayBeNegative(gridScalars));
    } else {
      checkIndicesInRange(rewriter, loc, indices, axisDim, "Gather");
      // Constant indices, each one the dim has (position ids that are a
      // constant arange, read broadcast over the batch): read as they are.
      wrap = clamp = mayBeEmpty = !constantIndicesInDim(indices, dataType.getDimSize(axis));
    }
    mayBeEmpty &= dataType.getDimSize(axis) == 0 || dataType.isDynamicDim(axis);

    // The indices are read through an indexing map (the loops axis..axis+q),
    // or computed from those loops (a grid); the data through tensor.extract
    // at the wrapped index.
    SmallVector<AffineExpr> indexExprs;
    for (int64_t i = 0; i < q; ++i)
      indexExprs.push_back(rewriter.getAffineDimExpr(axis + i));
    SmallVector<Value> inputs;
    SmallVector<AffineMap> maps;
    if (!grid) {
      inputs.push_back(indices);
      maps.push_back(AffineMap::get(rank, 0, indexExprs, op.getContext()));
    }
    maps.push_back(rewriter.getMultiDimIdentityMap(rank));
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{resultType}, inputs, ValueRange{init}, maps,
        parallelIterators(rank), [&](OpBuilder &b, Location l, ValueRange args) {
          // ONNX: an index in [-dim, 0) counts from the end. One outside
          // [-dim, dim) is an error in ONNX (a token id past the vocabulary,
          // a position past the table): checkIndicesInRange fails the run,
          // and meanwhile the index is clamped so every read stays inside
          // the data.
          SmallVector<Value> loops, source;
          Value index;
          if (grid) {
            loops = loopIndices(b, l, rank);
            index = affineGridIndex(b, l, *grid, gridScalars, ArrayRef<Value>(loops).slice(axis, q));
          } else {
            index = toIndex(b, l, args[0]);
          }
          // (A clamped index is wrapped first: clamp implies wrap.)
          if (clamp)
            index = wrapAndClampIndex(b, l, index, axisDim);
          else if (wrap)
            index = wrapIndex(b, l, index, axisDim);
          if (!grid)
            loops = loopIndices(b, l, rank);
          source.append(loops.begin(), loops.begin() + axis);
          source.push_back(index);
          source.append(loops.begin() + axis + q, loops.end());
          linalg::YieldOp::create(
              b, l, extractGathered(b, l, data, source, axisDim, mayBeEmpty));
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }

private:
  bool gridsOnly;
};

//===----------------------------------------------------------------------===//
// Transpose
//===----------------------------------------------------------------------===//

struct TransposeToLinalg : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(TransposeOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType = cast<RankedTensorType>(op.getType());
    ArrayRef<int64_t> perm = op.getPerm();
    SmallVector<Value> dynamicDims;
    for (int64_t i = 0; i < resultType.getRank(); ++i)
      if (resultType.isDynamicDim(i))
        dynamicDims.push_back(dimValue(rewriter, loc, op.getInput(), perm[i]));
    Value init = emptyWithDims(rewriter, loc, resultType, dynamicDims);
    auto transpose = linalg::TransposeOp::create(rewriter, loc, op.getInput(), init, perm);
    rewriter.replaceOp(op, transpose->getResults());
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Slice
//===----------------------------------------------------------------------===//

/// The effective start, step and length of one sliced dim of size `dim`,
/// clamped as ONNX Slice does: negative start/end count from the end; then
/// for step > 0 start and end clamp to [0, dim], for step < 0 start clamps
/// to [0, dim-1] and end to [-1, dim-1]; the length is
/// max(0, ceil((end - start) / step)).
struct SliceDim {
  Value start, step, length;
};
SliceDim clampSlice(OpBuilder &b, Location loc, Value dim, Value start, Value end,
                    Value step) {
  Value zero = indexConstant(b, loc, 0), minusOne = indexConstant(b, loc, -1);
  auto wrap = [&](Value v) {
    Value negative = cmp(b, loc, arith::CmpIPredicate::slt, v, zero);
    return select(b, loc, negative, add(b, loc, v, dim), v);
  };
  start = wrap(start);
  end = wrap(end);
  Value forward = cmp(b, loc, arith::CmpIPredicate::sgt, step, zero);
  Value hi = select(b, loc, forward, dim, add(b, loc, dim, minusOne));
  Value endLo = select(b, loc, forward, zero, minusOne);
  start = minS(b, loc, maxS(b, loc, start, zero), hi);
  end = minS(b, loc, maxS(b, loc, end, endLo), hi);
  Value length = b.createOrFold<arith::CeilDivSIOp>(loc, sub(b, loc, end, start), step);
  return {start, step, maxS(b, loc, length, zero)};
}

/// out[i...] = input[start_d + i_d * step_d ...]: tensor.extract_slice where
/// every step is a positive constant, else a linalg.generic.
struct SliceToGeneric : OpRewritePattern<SliceOp> {
  using OpRewritePattern::OpRewritePattern;

  /// Fails the run where steps or axes known only then are invalid (ONNX;
  /// onnxruntime fails too): a step of 0 (it would also trap in the length's
  /// division), an axis outside [-rank, rank), or one dim named twice.
  /// Constant ones are checked when importing.
  static void checkRunTimeParameters(PatternRewriter &rewriter, SliceOp op, int64_t count,
                                     int64_t rank) {
    Location loc = op.getLoc();
    using P = arith::CmpIPredicate;
    Value failed;
    if (!getConstantIntValues(op.getSteps()))
      for (int64_t i = 0; i < count; ++i)
        orInto(rewriter, loc, failed,
               cmp(rewriter, loc, P::eq, shapeElementAsIndex(rewriter, loc, op.getSteps(), i),
                   indexConstant(rewriter, loc, 0)));
    if (!getConstantIntValues(op.getAxes())) {
      SmallVector<Value> axes;
      for (int64_t i = 0; i < count; ++i) {
        Value axis = shapeElementAsIndex(rewriter, loc, op.getAxes(), i);
        orInto(rewriter, loc, failed,
               cmp(rewriter, loc, P::slt, axis, indexConstant(rewriter, loc, -rank)));
        orInto(rewriter, loc, failed,
               cmp(rewriter, loc, P::sge, axis, indexConstant(rewriter, loc, rank)));
        Value negative = cmp(rewriter, loc, P::slt, axis, indexConstant(rewriter, loc, 0));
        axis = select(rewriter, loc, negative,
                      add(rewriter, loc, axis, indexConstant(rewriter, loc, rank)), axis);
        for (Value earlier : axes)
          orInto(rewriter, loc, failed, cmp(rewriter, loc, P::eq, axis, earlier));
        axes.push_back(axis);
      }
    }
    if (failed)
      emitRuntimeCheck(rewriter, loc, failed,
                       describeNode(loc, "Slice") +
                           ": a step is 0, or an axis is out of range or repeated, at run time");
  }

  LogicalResult matchAndRewrite(SliceOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = op.getInput();
    auto inputType = cast<RankedTensorType>(input.getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t rank = inputType.getRank();
    auto paramsType = cast<RankedTensorType>(op.getStarts().getType());
    if (paramsType.getRank() != 1 || paramsType.isDynamicDim(0))
      return rewriter.notifyMatchFailure(op, "slice parameters need a static length");
    int64_t count = paramsType.getDimSize(0);
    auto constantAxes = getConstantIntValues(op.getAxes());
    if (constantAxes && llvm::any_of(*constantAxes, [&](int64_t axis) {
          return !normalizeAxis(axis, rank);
        }))
      return rewriter.notifyMatchFailure(op, "slice axis out of range");

    // A slice of a small 1-D tensor (a shape) with constant parameters.
    auto starts = getConstantIntValues(op.getStarts());
    auto ends = getConstantIntValues(op.getEnds());
    auto steps = getConstantIntValues(op.getSteps());
    if (isSmallVector(inputType) && inputType.getDimSize(0) > 0 && constantAxes && starts &&
        ends && steps && count == 1 && resultType.hasStaticShape() && (*steps)[0] != 0) {
      int64_t size = inputType.getDimSize(0), step = (*steps)[0];
      int64_t start = (*starts)[0], end = (*ends)[0];
      if (start < 0)
        start += size;
      if (end < 0)
        end += size;
      start = step > 0 ? std::clamp<int64_t>(start, 0, size)
                       : std::clamp<int64_t>(start, 0, size - 1);
      end = step > 0 ? std::clamp<int64_t>(end, 0, size) : std::clamp<int64_t>(end, -1, size - 1);
      SmallVector<int64_t> positions;
      for (int64_t p = start; step > 0 ? p < end : p > end; p += step)
        positions.push_back(p);
      if ((int64_t)positions.size() == resultType.getNumElements()) {
        rewriter.replaceOp(op, pickElements(rewriter, loc, resultType, input, positions));
        return success();
      }
    }

    checkRunTimeParameters(rewriter, op, count, rank);
    // Null entries: the dim is not sliced (start 0, step 1, the whole dim).
    SmallVector<SliceDim> dims(rank);
    for (int64_t i = 0; i < count; ++i) {
      Value start = shapeElementAsIndex(rewriter, loc, op.getStarts(), i);
      Value end = shapeElementAsIndex(rewriter, loc, op.getEnds(), i);
      Value step = shapeElementAsIndex(rewriter, loc, op.getSteps(), i);
      if (constantAxes) {
        int64_t axis = *normalizeAxis((*constantAxes)[i], rank);
        dims[axis] = clampSlice(rewriter, loc, dimValue(rewriter, loc, input, axis), start, end,
                                step);
        continue;
      }
      // Axes known only at run time: every dim selects this entry's
      // parameters where the (normalised) axis names it.
      Value axis = shapeElementAsIndex(rewriter, loc, op.getAxes(), i);
      Value negative = cmp(rewriter, loc, arith::CmpIPredicate::slt, axis,
                           indexConstant(rewriter, loc, 0));
      axis = select(rewriter, loc, negative,
                    add(rewriter, loc, axis, indexConstant(rewriter, loc, rank)), axis);
      for (int64_t d = 0; d < rank; ++d) {
        Value dim = dimValue(rewriter, loc, input, d);
        SliceDim clamped = clampSlice(rewriter, loc, dim, start, end, step);
        Value hit = cmp(rewriter, loc, arith::CmpIPredicate::eq, axis,
                        indexConstant(rewriter, loc, d));
        SliceDim &current = dims[d];
        if (!current.start)
          current = {indexConstant(rewriter, loc, 0), indexConstant(rewriter, loc, 1), dim};
        current = {select(rewriter, loc, hit, clamped.start, current.start),
                   select(rewriter, loc, hit, clamped.step, current.step),
                   select(rewriter, loc, hit, clamped.length, current.length)};
      }
    }

    // Every step a positive constant (the usual case): a strided
    // tensor.extract_slice, no copy.
    bool forward = llvm::all_of(dims, [](const SliceDim &dim) {
      auto step = dim.step ? getConstantIntValue(dim.step) : std::optional<int64_t>(1);
      return step && *step > 0;
    });
    if (forward) {
      SmallVector<OpFoldResult> offsets, sizes, strides;
      for (int64_t d = 0; d < rank; ++d) {
        offsets.push_back(dims[d].start ? getAsOpFoldResult(dims[d].start)
                                        : OpFoldResult(rewriter.getIndexAttr(0)));
        // A start clamped to the end of a static dim (an empty slice, as
        // ONNX allows) is an offset the slice's verifier rejects: any
        // offset will do for no elements.
        std::optional<int64_t> offset = getConstantIntValue(offsets.back());
        if (offset && !inputType.isDynamicDim(d) && inputType.getDimSize(d) > 0 &&
            *offset >= inputType.getDimSize(d))
          offsets.back() = rewriter.getIndexAttr(0);
        strides.push_back(dims[d].step ? getAsOpFoldResult(dims[d].step)
                                       : OpFoldResult(rewriter.getIndexAttr(1)));
        if (!resultType.isDynamicDim(d))
          sizes.push_back(rewriter.getIndexAttr(resultType.getDimSize(d)));
        else
          sizes.push_back(dims[d].start ? dims[d].length : dimValue(rewriter, loc, input, d));
      }
      rewriter.replaceOpWithNewOp<tensor::ExtractSliceOp>(op, resultType, input, offsets, sizes,
                                                          strides);
      return success();
    }

    SmallVector<Value> dynamicDims;
    for (int64_t d = 0; d < rank; ++d)
      if (resultType.isDynamicDim(d))
        dynamicDims.push_back(dims[d].start ? dims[d].length
                                            : dimValue(rewriter, loc, input, d));
    Value init = emptyWithDims(rewriter, loc, resultType, dynamicDims);
    Value result = buildIndexGeneric(
        rewriter, loc, resultType, init,
        [&](OpBuilder &b, Location l, ArrayRef<Value> loops) -> Value {
          SmallVector<Value> source;
          for (int64_t d = 0; d < rank; ++d)
            source.push_back(dims[d].start ? add(b, l, dims[d].start,
                                                 mul(b, l, loops[d], dims[d].step))
                                           : loops[d]);
          return tensor::ExtractOp::create(b, l, input, source);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Concat and split
//===----------------------------------------------------------------------===//

/// A chain of tensor.insert_slice into one tensor.empty, at offsets that add
/// up the inputs' sizes along the axis.
struct ConcatToInsertSlices : OpRewritePattern<ConcatOp> {
  using OpRewritePattern::OpRewritePattern;

  /// Fails the run unless every input has the result's size in each dim but
  /// `axis` (ONNX; ORT fails too): inserting a larger input would write
  /// past the result, a smaller one leave elements unwritten. Dims proven
  /// equal (traceDim) cost nothing.
  static void checkSameDims(PatternRewriter &rewriter, Location loc, ValueRange inputs,
                            int64_t axis, RankedTensorType resultType) {
    IndexMath m{rewriter, loc};
    Value failed;
    for (int64_t d = 0; d < resultType.getRank(); ++d) {
      if (d == axis)
        continue;
      Value first = inputs.front();
      for (Value v : inputs.drop_front()) {
        if (traceDim(v, d) == traceDim(first, d))
          continue;
        Value differs = m.cmp(arith::CmpIPredicate::ne, dimValue(rewriter, loc, v, d),
                              dimValue(rewriter, loc, first, d));
        failed = failed ? rewriter.createOrFold<arith::OrIOp>(loc, failed, differs) : differs;
      }
    }
    if (failed)
      emitRuntimeCheck(rewriter, loc, failed,
                       describeNode(loc, "Concat") +
                           ": the inputs' dims other than the axis differ at run time");
  }

  LogicalResult matchAndRewrite(ConcatOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t axis = op.getAxis(), rank = resultType.getRank();
    ValueRange inputs = op.getInputs();

    SmallVector<Value> dynamicDims;
    for (int64_t d = 0; d < rank; ++d) {
      if (!resultType.isDynamicDim(d))
        continue;
      if (d == axis) {
        Value total = dimValue(rewriter, loc, inputs.front(), d);
        for (Value v : inputs.drop_front())
          total = add(rewriter, loc, total, dimValue(rewriter, loc, v, d));
        dynamicDims.push_back(total);
        continue;
      }
      // Every input has the same size here: prefer one that knows it.
      Value source = inputs.front();
      for (Value v : inputs)
        if (!cast<RankedTensorType>(v.getType()).isDynamicDim(d)) {
          source = v;
          break;
        }
      dynamicDims.push_back(dimValue(rewriter, loc, source, d));
    }
    checkSameDims(rewriter, loc, inputs, axis, resultType);
    Value result = emptyWithDims(rewriter, loc, resultType, dynamicDims);

    OpFoldResult offset = rewriter.getIndexAttr(0);
    SmallVector<OpFoldResult> strides(rank, rewriter.getIndexAttr(1));
    for (Value v : inputs) {
      SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(rewriter, loc, v);
      SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0));
      offsets[axis] = offset;
      result = tensor::InsertSliceOp::create(rewriter, loc, v, result, offsets, sizes,
                                             strides);
      std::optional<int64_t> o = getConstantIntValue(offset),
                             s = getConstantIntValue(sizes[axis]);
      if (o && s)
        offset = rewriter.getIndexAttr(*o + *s);
      else
        offset = add(rewriter, loc, getValueOrCreateConstantIndexOp(rewriter, loc, offset),
                     getValueOrCreateConstantIndexOp(rewriter, loc, sizes[axis]));
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// One tensor.extract_slice per result, at the running sum of the sizes.
/// Over a `?` axis the run fails unless the sizes add up to it (ONNX; ORT
/// fails too): a shorter dim would be read past its end, a longer one cut.
struct SplitToExtractSlices : OpRewritePattern<SplitOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(SplitOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = op.getInput();
    int64_t axis = op.getAxis();
    auto inputType = cast<RankedTensorType>(input.getType());
    int64_t rank = inputType.getRank();
    if (inputType.isDynamicDim(axis)) {
      int64_t total = 0;
      for (int64_t size : op.getSizes())
        total += size;
      IndexMath m{rewriter, loc};
      emitRuntimeCheck(rewriter, loc,
                       m.cmp(arith::CmpIPredicate::ne, dimValue(rewriter, loc, input, axis),
                             m.c(total)),
                       describeNode(loc, "Split") + ": the split sizes add up to " +
                           std::to_string(total) + ", not to dim " + std::to_string(axis) +
                           " of the input at run time");
    }
    SmallVector<OpFoldResult> strides(rank, rewriter.getIndexAttr(1));
    SmallVector<Value> results;
    int64_t offset = 0;
    for (auto [result, size] : llvm::zip(op.getOutputs(), op.getSizes())) {
      auto resultType = cast<RankedTensorType>(result.getType());
      SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0)), sizes;
      offsets[axis] = rewriter.getIndexAttr(offset);
      for (int64_t d = 0; d < rank; ++d) {
        if (d == axis)
          sizes.push_back(rewriter.getIndexAttr(size));
        else if (!resultType.isDynamicDim(d))
          sizes.push_back(rewriter.getIndexAttr(resultType.getDimSize(d)));
        else
          sizes.push_back(dimValue(rewriter, loc, input, d));
      }
      Value slice = tensor::ExtractSliceOp::create(rewriter, loc, input, offsets, sizes, strides);
      if (slice.getType() != resultType) // a `?` result dim of static size
        slice = tensor::CastOp::create(rewriter, loc, resultType, slice);
      results.push_back(slice);
      offset += size;
    }
    rewriter.replaceOp(op, results);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Expand and tile
//===----------------------------------------------------------------------===//

/// Bidirectional broadcast to the run-time shape, as the elementwise ops
/// broadcast (broadcastAtRunTime): static size-1 input dims through the
/// indexing map, `?` dims that are 1 at run time by a copy taken only then.
struct ExpandToGeneric : OpRewritePattern<ExpandOp> {
  ExpandToGeneric(MLIRContext *context, BroadcastCopies copies)
      : OpRewritePattern(context), copies(copies) {}

  LogicalResult matchAndRewrite(ExpandOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = op.getInput(), shape = op.getShape();
    auto inputType = cast<RankedTensorType>(input.getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    auto shapeType = cast<RankedTensorType>(shape.getType());
    if (shapeType.isDynamicDim(0))
      return rewriter.notifyMatchFailure(op, "the shape operand needs a static length");
    int64_t rank = resultType.getRank(), inputRank = inputType.getRank();
    int64_t shapeRank = shapeType.getDimSize(0);
    if (rank != std::max(inputRank, shapeRank))
      return rewriter.notifyMatchFailure(op, "result rank does not match the shape");

    // The shape as a tensor of that shape (never read) broadcast against the
    // input: ONNX's Expand is that broadcast, `?` dims of 1 on either side
    // included.
    SmallVector<int64_t> targetShape;
    SmallVector<Value> targetDynamicDims;
    for (int64_t si = 0; si < shapeRank; ++si) {
      Value size = shapeElementAsIndex(rewriter, loc, shape, si);
      std::optional<int64_t> constant = getConstantIntValue(size);
      targetShape.push_back(constant ? *constant : ShapedType::kDynamic);
      if (!constant)
        targetDynamicDims.push_back(size);
    }
    Value target = tensor::EmptyOp::create(rewriter, loc, targetShape,
                                           resultType.getElementType(), targetDynamicDims);
    RunTimeBroadcast broadcast =
        broadcastAtRunTime(rewriter, loc, "Expand", {input, target}, resultType,
                           /*firstIsOutputSize=*/false, copies);
    input = broadcast.operands[0];
    Value init = emptyWithDims(rewriter, loc, resultType, broadcast.resultDims);
    SmallVector<AffineMap> maps{broadcastMap(op.getContext(), inputType, resultType),
                                rewriter.getMultiDimIdentityMap(rank)};
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{resultType}, ValueRange{input}, ValueRange{init}, maps,
        parallelIterators(rank), [&](OpBuilder &b, Location l, ValueRange args) {
          linalg::YieldOp::create(b, l, args[0]);
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }

  BroadcastCopies copies;
};

/// out[i...] = input[i_d mod dim_d ...]; result dim d is dim_d * repeats[d].
struct TileToGeneric : OpRewritePattern<TileOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(TileOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = op.getInput();
    auto inputType = cast<RankedTensorType>(input.getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t rank = inputType.getRank();
    SmallVector<Value> dims, dynamicDims;
    for (int64_t d = 0; d < rank; ++d) {
      dims.push_back(dimValue(rewriter, loc, input, d));
      if (resultType.isDynamicDim(d))
        dynamicDims.push_back(
            mul(rewriter, loc, dims[d], shapeElementAsIndex(rewriter, loc, op.getRepeats(), d)));
    }
    Value init = emptyWithDims(rewriter, loc, resultType, dynamicDims);
    Value result = buildIndexGeneric(
        rewriter, loc, resultType, init,
        [&](OpBuilder &b, Location l, ArrayRef<Value> loops) -> Value {
          SmallVector<Value> source;
          for (int64_t d = 0; d < rank; ++d)
            source.push_back(inputType.getDimSize(d) == 1
                                 ? indexConstant(b, l, 0)
                                 : (Value)arith::RemUIOp::create(b, l, loops[d], dims[d]));
          return tensor::ExtractOp::create(b, l, input, source);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Trilu
//===----------------------------------------------------------------------===//

/// Keeps x[..., i, j] where (upper ? j - i >= k : j - i <= k), else zero.
struct TriluToGeneric : OpRewritePattern<TriluOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(TriluOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType = cast<RankedTensorType>(op.getType());
    Type element = resultType.getElementType();
    auto intType = dyn_cast<IntegerType>(element);
    if (!isa<FloatType>(element) && !(intType && intType.isSignless()))
      return rewriter.notifyMatchFailure(op, "trilu needs a float or signless integer type");
    int64_t rank = resultType.getRank();
    Value init = emptyLike(rewriter, loc, resultType, op.getInput());
    if (!init)
      return rewriter.notifyMatchFailure(op, "a dynamic result dim has no source");
    Value k = shapeElementAsIndex(rewriter, loc, op.getK(), 0);
    bool upper = op.getUpper();
    SmallVector<AffineMap> maps(2, rewriter.getMultiDimIdentityMap(rank));
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{resultType}, ValueRange{op.getInput()}, ValueRange{init},
        maps, parallelIterators(rank), [&](OpBuilder &b, Location l, ValueRange args) {
          Value i = linalg::IndexOp::create(b, l, rank - 2);
          Value j = linalg::IndexOp::create(b, l, rank - 1);
          Value keep = cmp(b, l, upper ? arith::CmpIPredicate::sge : arith::CmpIPredicate::sle,
                           sub(b, l, j, i), k);
          Value v = select(b, l, keep, args[0], scalarConstant(b, l, element, 0));
          linalg::YieldOp::create(b, l, v);
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

} // namespace

void mlir::kiln::lowering::populateDataMovementLoweringPatterns(RewritePatternSet &patterns,
                                                                BroadcastCopies copies) {
  patterns.add<TransposeToLinalg, SliceToGeneric, ConcatToInsertSlices, SplitToExtractSlices,
               TileToGeneric, TriluToGeneric>(patterns.getContext());
  patterns.add<GatherToGeneric>(patterns.getContext(), /*gridsOnly=*/false);
  patterns.add<ExpandToGeneric>(patterns.getContext(), copies);
}

void mlir::kiln::lowering::populateGatherOfGridsLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<GatherToGeneric>(patterns.getContext(), /*gridsOnly=*/true);
}
