//===- KilnShapeInference.cpp - Result type inference of kiln ops ---------===//
//
// Every kiln op derives its result type here, from operand types, attributes
// and, for shape-carrying operands, whatever values are known at compile
// time. Unknown dims become `?`; invalid inputs are diagnosed at `loc`.
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/KilnOps.h"
#include "kiln/Dialect/Kiln/KilnShapeUtils.h"
#include "mlir/Dialect/Traits.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/Support/CheckedArithmetic.h"

using namespace mlir;
using namespace mlir::kiln;

static constexpr int64_t kDyn = ShapedType::kDynamic;

static RankedTensorType rankedType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

static Type tensorOf(ArrayRef<int64_t> shape, Type elementType) {
  return RankedTensorType::get(shape, elementType);
}

/// Product of dims, or kDyn if any is unknown.
static int64_t staticProduct(ArrayRef<int64_t> dims) {
  int64_t product = 1;
  for (int64_t d : dims) {
    if (d == kDyn)
      return kDyn;
    product *= d;
  }
  return product;
}

//===----------------------------------------------------------------------===//
// Shared helpers
//===----------------------------------------------------------------------===//

bool mlir::kiln::areCompatibleTensorTypes(TypeRange lhs, TypeRange rhs) {
  if (lhs.size() != rhs.size())
    return false;
  for (auto [l, r] : llvm::zip(lhs, rhs)) {
    auto lt = dyn_cast<RankedTensorType>(l), rt = dyn_cast<RankedTensorType>(r);
    if (!lt || !rt)
      return l == r;
    if (lt.getElementType() != rt.getElementType() ||
        failed(verifyCompatibleShape(lt.getShape(), rt.getShape())))
      return false;
  }
  return true;
}

LogicalResult mlir::kiln::inferBroadcastResultType(
    std::optional<Location> loc, Type lhs, Type rhs, Type resultElementType,
    SmallVectorImpl<Type> &inferred) {
  auto lt = cast<RankedTensorType>(lhs), rt = cast<RankedTensorType>(rhs);
  if (lt.getElementType() != rt.getElementType())
    return emitOptionalError(loc, "operand element types differ: ", lt,
                             " vs ", rt);
  if (!resultElementType)
    resultElementType = lt.getElementType();
  SmallVector<int64_t> shape;
  if (!OpTrait::util::getBroadcastedShape(lt.getShape(), rt.getShape(), shape))
    return emitOptionalError(loc, "operands are not broadcastable: ", lt,
                             " and ", rt);
  inferred.push_back(tensorOf(shape, resultElementType));
  return success();
}

std::optional<SmallVector<int64_t>> mlir::kiln::getConstantIntValues(Value value) {
  DenseIntElementsAttr attr;
  if (!value || !matchPattern(value, m_Constant(&attr)))
    return std::nullopt;
  SmallVector<int64_t> values;
  for (const APInt &v : attr.getValues<APInt>())
    values.push_back(v.getSExtValue());
  return values;
}

std::optional<SmallVector<double>> mlir::kiln::getConstantFloatValues(Value value) {
  DenseFPElementsAttr attr;
  if (!value || !matchPattern(value, m_Constant(&attr)))
    return std::nullopt;
  SmallVector<double> values;
  for (const APFloat &v : attr.getValues<APFloat>())
    values.push_back(v.convertToDouble());
  return values;
}

std::optional<SmallVector<int64_t>> mlir::kiln::getPartialShapeValues(Value shape) {
  if (auto values = getConstantIntValues(shape))
    return values;
  auto type = dyn_cast<RankedTensorType>(shape.getType());
  if (!type || type.getRank() > 1 || !type.hasStaticShape())
    return std::nullopt;
  int64_t length = type.getNumElements();
  Operation *def = shape.getDefiningOp();
  if (auto concat = dyn_cast_or_null<ConcatOp>(def)) {
    SmallVector<int64_t> values;
    for (Value part : concat.getInputs()) {
      auto partValues = getPartialShapeValues(part);
      if (!partValues)
        return SmallVector<int64_t>(length, kDyn);
      values.append(*partValues);
    }
    return values;
  }
  if (auto unsqueeze = dyn_cast_or_null<UnsqueezeOp>(def))
    return getPartialShapeValues(unsqueeze.getInput());
  if (auto squeeze = dyn_cast_or_null<SqueezeOp>(def))
    return getPartialShapeValues(squeeze.getInput());
  if (auto cast = dyn_cast_or_null<CastOp>(def))
    if (isa<IntegerType>(rankedType(cast.getInput()).getElementType()))
      return getPartialShapeValues(cast.getInput());
  if (auto gather = dyn_cast_or_null<GatherOp>(def)) {
    // Entries of a shape picked at constant positions.
    auto from = getPartialShapeValues(gather.getData());
    auto at = getConstantIntValues(gather.getIndices());
    if (!from || !at || rankedType(gather.getData()).getRank() != 1)
      return SmallVector<int64_t>(length, kDyn);
    SmallVector<int64_t> values;
    for (int64_t i : *at) {
      std::optional<int64_t> entry = normalizeAxis(i, from->size());
      values.push_back(entry ? (*from)[*entry] : kDyn);
    }
    return values;
  }
  if (auto shapeOp = dyn_cast_or_null<ShapeOp>(def)) {
    ArrayRef<int64_t> dims = rankedType(shapeOp.getInput()).getShape();
    return SmallVector<int64_t>(dims.slice(shapeOp.getStart(),
                                           shapeOp.getEnd() - shapeOp.getStart()));
  }
  return SmallVector<int64_t>(length, kDyn);
}

std::optional<int64_t> mlir::kiln::normalizeAxis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return std::nullopt;
  return axis < 0 ? axis + rank : axis;
}

std::optional<int64_t> mlir::kiln::boundedElementCount(ArrayRef<int64_t> shape) {
  int64_t count = 1;
  for (int64_t d : shape) {
    if (d == kDyn)
      continue;
    if (d < 0 || std::max<int64_t>(d, 1) > kMaxTensorElements / count)
      return std::nullopt;
    count *= std::max<int64_t>(d, 1);
  }
  return count;
}

std::optional<int64_t> mlir::kiln::checkedSum(ArrayRef<int64_t> terms) {
  std::optional<int64_t> sum = 0;
  for (int64_t term : terms)
    if (!(sum = llvm::checkedAdd(*sum, term)))
      return std::nullopt;
  return sum;
}

std::optional<int64_t> mlir::kiln::windowSpan(int64_t in, int64_t kernel, int64_t dilation,
                                              int64_t padBegin, int64_t padEnd) {
  // Inference may run before the verifier rejects a negative kernel or
  // dilation, so every step is checked.
  std::optional<int64_t> steps = llvm::checkedSub(kernel, int64_t(1));
  std::optional<int64_t> reach = steps ? llvm::checkedMul(dilation, *steps) : std::nullopt;
  std::optional<int64_t> padded = checkedSum({in, padBegin, padEnd});
  if (!reach || !padded)
    return std::nullopt;
  std::optional<int64_t> span = llvm::checkedSub(*padded, *reach);
  return span ? llvm::checkedSub(*span, int64_t(1)) : std::nullopt;
}

LogicalResult mlir::kiln::refineResultTypes(Operation *op) {
  auto inferable = dyn_cast<InferTypeOpInterface>(op);
  if (!inferable)
    return success();
  SmallVector<Type> types;
  if (failed(inferable.inferReturnTypes(
          op->getContext(), op->getLoc(), op->getOperands(),
          op->getRawDictionaryAttrs(), op->getPropertiesStorage(),
          op->getRegions(), types)))
    return failure();
  if (types.size() != op->getNumResults())
    return op->emitError("inferred ") << types.size() << " results, op has "
                                      << op->getNumResults();
  for (Type type : types) {
    auto ranked = dyn_cast<RankedTensorType>(type);
    if (!ranked)
      continue;
    if (llvm::any_of(ranked.getShape(), [](int64_t d) { return d < 0 && d != kDyn; }))
      return emitError(op->getLoc(), "the result ") << type << " has a negative dim";
    if (!boundedElementCount(ranked.getShape()))
      return emitError(op->getLoc(), "the result ")
             << type << " has more than 2^40 elements; Kiln cannot compile tensors that large";
  }
  for (auto [result, type] : llvm::zip(op->getResults(), types))
    result.setType(type);
  return success();
}

//===----------------------------------------------------------------------===//
// Constants and generators
//===----------------------------------------------------------------------===//

LogicalResult ConstantOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &inferred) {
  inferred.push_back(adaptor.getValue().getType());
  return success();
}

LogicalResult ConstantOfShapeOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &inferred) {
  auto shape = getPartialShapeValues(adaptor.getShape());
  if (!shape)
    return emitOptionalError(loc, "the shape operand needs a static length");
  for (int64_t d : *shape)
    if (d < 0 && d != kDyn)
      return emitOptionalError(loc, "negative dim ", d, " in shape");
  inferred.push_back(tensorOf(*shape, adaptor.getValue().getType()));
  return success();
}

LogicalResult RangeOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &inferred) {
  Type elementType = rankedType(adaptor.getStart()).getElementType();
  int64_t size = kDyn;
  auto start = getConstantIntValues(adaptor.getStart());
  auto limit = getConstantIntValues(adaptor.getLimit());
  auto delta = getConstantIntValues(adaptor.getDelta());
  if (start && limit && delta && start->size() == 1 && limit->size() == 1 &&
      delta->size() == 1) {
    if ((*delta)[0] == 0)
      return emitOptionalError(loc, "range delta is zero");
    int64_t span = (*limit)[0] - (*start)[0];
    int64_t d = (*delta)[0];
    size = std::max<int64_t>(0, (span + d + (d > 0 ? -1 : 1)) / d);
  }
  inferred.push_back(tensorOf({size}, elementType));
  return success();
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

LogicalResult WhereOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &inferred) {
  auto xt = rankedType(adaptor.getX()), yt = rankedType(adaptor.getY());
  if (xt.getElementType() != yt.getElementType())
    return emitOptionalError(loc, "x and y element types differ: ", xt, " vs ", yt);
  SmallVector<int64_t> xy, all;
  if (!OpTrait::util::getBroadcastedShape(xt.getShape(), yt.getShape(), xy) ||
      !OpTrait::util::getBroadcastedShape(
          xy, rankedType(adaptor.getCondition()).getShape(), all))
    return emitOptionalError(loc, "condition, x and y are not broadcastable");
  inferred.push_back(tensorOf(all, xt.getElementType()));
  return success();
}

LogicalResult IsNaNOp::inferReturnTypes(MLIRContext *context, std::optional<Location>,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &inferred) {
  inferred.push_back(
      tensorOf(rankedType(adaptor.getInput()).getShape(), IntegerType::get(context, 1)));
  return success();
}

LogicalResult IsInfOp::inferReturnTypes(MLIRContext *context, std::optional<Location>,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &inferred) {
  inferred.push_back(
      tensorOf(rankedType(adaptor.getInput()).getShape(), IntegerType::get(context, 1)));
  return success();
}

LogicalResult CastOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &inferred) {
  inferred.push_back(
      tensorOf(rankedType(adaptor.getInput()).getShape(), adaptor.getTo()));
  return success();
}

//===----------------------------------------------------------------------===//
// Contractions
//===----------------------------------------------------------------------===//

LogicalResult MatMulOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  auto lt = rankedType(adaptor.getLhs()), rt = rankedType(adaptor.getRhs());
  if (lt.getElementType() != rt.getElementType())
    return emitOptionalError(loc, "operand element types differ: ", lt, " vs ", rt);
  if (lt.getRank() == 0 || rt.getRank() == 0)
    return emitOptionalError(loc, "matmul operands must have rank >= 1");
  // numpy: a 1-D lhs is a row vector, a 1-D rhs a column vector; the added
  // dim is dropped from the result.
  SmallVector<int64_t> l(lt.getShape()), r(rt.getShape());
  bool lhsVector = l.size() == 1, rhsVector = r.size() == 1;
  if (lhsVector)
    l.insert(l.begin(), 1);
  if (rhsVector)
    r.push_back(1);
  int64_t k1 = l.back(), k2 = r[r.size() - 2];
  if (k1 != kDyn && k2 != kDyn && k1 != k2)
    return emitOptionalError(loc, "contraction dims differ: ", k1, " vs ", k2);
  SmallVector<int64_t> batch;
  if (!OpTrait::util::getBroadcastedShape(ArrayRef(l).drop_back(2),
                                          ArrayRef(r).drop_back(2), batch))
    return emitOptionalError(loc, "batch dims are not broadcastable: ", lt, " and ", rt);
  if (!lhsVector)
    batch.push_back(l[l.size() - 2]);
  if (!rhsVector)
    batch.push_back(r.back());
  inferred.push_back(tensorOf(batch, lt.getElementType()));
  return success();
}

LogicalResult GemmOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &inferred) {
  auto at = rankedType(adaptor.getA()), bt = rankedType(adaptor.getB());
  if (at.getRank() != 2 || bt.getRank() != 2)
    return emitOptionalError(loc, "gemm operands A and B must be 2-D");
  if (at.getElementType() != bt.getElementType())
    return emitOptionalError(loc, "operand element types differ: ", at, " vs ", bt);
  int64_t m = at.getDimSize(adaptor.getTransA() ? 1 : 0);
  int64_t ka = at.getDimSize(adaptor.getTransA() ? 0 : 1);
  int64_t kb = bt.getDimSize(adaptor.getTransB() ? 1 : 0);
  int64_t n = bt.getDimSize(adaptor.getTransB() ? 0 : 1);
  if (ka != kDyn && kb != kDyn && ka != kb)
    return emitOptionalError(loc, "contraction dims differ: ", ka, " vs ", kb);
  inferred.push_back(tensorOf({m, n}, at.getElementType()));
  return success();
}

LogicalResult ConvOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &inferred) {
  auto xt = rankedType(adaptor.getInput()), wt = rankedType(adaptor.getWeight());
  int64_t spatial = xt.getRank() - 2;
  if (spatial < 1 || wt.getRank() != xt.getRank())
    return emitOptionalError(loc, "conv needs input and weight of equal rank >= 3");
  for (Value v : {adaptor.getWeight(), adaptor.getBias()})
    if (v && rankedType(v).getElementType() != xt.getElementType())
      return emitOptionalError(loc, "operand element types differ: ", xt, " vs ",
                               v.getType());
  ArrayRef<int64_t> strides = adaptor.getStrides(), pads = adaptor.getPads(),
                    dilations = adaptor.getDilations();
  if ((int64_t)strides.size() != spatial || (int64_t)dilations.size() != spatial ||
      (int64_t)pads.size() != 2 * spatial)
    return emitOptionalError(loc, "conv needs ", spatial, " strides and dilations and ",
                             2 * spatial, " pads");
  SmallVector<int64_t> shape{xt.getDimSize(0), wt.getDimSize(0)};
  for (int64_t i = 0; i < spatial; ++i) {
    int64_t in = xt.getDimSize(i + 2), k = wt.getDimSize(i + 2);
    if (strides[i] < 1 || dilations[i] < 1)
      return emitOptionalError(loc, "strides and dilations must be positive");
    if (in == kDyn || k == kDyn) {
      shape.push_back(kDyn);
      continue;
    }
    std::optional<int64_t> span = windowSpan(in, k, dilations[i], pads[i], pads[i + spatial]);
    if (!span)
      return emitOptionalError(loc, "the sizes of dim ", i + 2, " overflow int64");
    if (*span < 0)
      return emitOptionalError(loc, "kernel larger than padded input in dim ", i + 2);
    shape.push_back(*span / strides[i] + 1);
  }
  inferred.push_back(tensorOf(shape, xt.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// Reductions and normalisations
//===----------------------------------------------------------------------===//

LogicalResult mlir::kiln::inferReducedType(std::optional<Location> loc,
                                           Value input, ArrayRef<int64_t> axes,
                                           bool keepdims, Type elementType,
                                           SmallVectorImpl<Type> &inferred) {
  auto type = rankedType(input);
  SmallVector<int64_t> shape;
  for (int64_t axis : axes)
    if (axis < 0 || axis >= type.getRank())
      return emitOptionalError(loc, "reduction axis ", axis, " out of range for ", type);
  for (int64_t i = 0; i < type.getRank(); ++i) {
    if (!llvm::is_contained(axes, i))
      shape.push_back(type.getDimSize(i));
    else if (keepdims)
      shape.push_back(1);
  }
  inferred.push_back(tensorOf(shape, elementType ? elementType : type.getElementType()));
  return success();
}

LogicalResult ArgMaxOp::inferReturnTypes(MLIRContext *context,
                                         std::optional<Location> loc, Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  int64_t axis = adaptor.getAxis();
  return inferReducedType(loc, adaptor.getInput(), ArrayRef<int64_t>(axis),
                          adaptor.getKeepdims(), IntegerType::get(context, 64),
                          inferred);
}

LogicalResult ArgMinOp::inferReturnTypes(MLIRContext *context,
                                         std::optional<Location> loc, Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  int64_t axis = adaptor.getAxis();
  return inferReducedType(loc, adaptor.getInput(), ArrayRef<int64_t>(axis),
                          adaptor.getKeepdims(), IntegerType::get(context, 64),
                          inferred);
}

LogicalResult HardmaxOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &inferred) {
  inferred.push_back(adaptor.getInput().getType());
  return success();
}

LogicalResult CumSumOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  inferred.push_back(adaptor.getInput().getType());
  return success();
}

LogicalResult RmsNormOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &inferred) {
  inferred.push_back(adaptor.getInput().getType());
  return success();
}

LogicalResult SoftmaxOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &inferred) {
  inferred.push_back(adaptor.getInput().getType());
  return success();
}

LogicalResult LayerNormOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &inferred) {
  inferred.push_back(adaptor.getInput().getType());
  return success();
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

LogicalResult GatherOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  auto data = rankedType(adaptor.getData());
  int64_t axis = adaptor.getAxis();
  if (axis < 0 || axis >= data.getRank())
    return emitOptionalError(loc, "gather axis ", axis, " out of range for ", data);
  SmallVector<int64_t> shape(data.getShape().take_front(axis));
  llvm::append_range(shape, rankedType(adaptor.getIndices()).getShape());
  llvm::append_range(shape, data.getShape().drop_front(axis + 1));
  inferred.push_back(tensorOf(shape, data.getElementType()));
  return success();
}

LogicalResult GatherElementsOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                                 Adaptor adaptor,
                                                 SmallVectorImpl<Type> &inferred) {
  inferred.push_back(tensorOf(rankedType(adaptor.getIndices()).getShape(),
                              rankedType(adaptor.getData()).getElementType()));
  return success();
}

LogicalResult GatherNDOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &inferred) {
  auto data = rankedType(adaptor.getData()), indices = rankedType(adaptor.getIndices());
  int64_t batch = adaptor.getBatchDims(), q = indices.getRank(), r = data.getRank();
  if (q < 1 || batch < 0 || batch >= std::min(q, r))
    return emitOptionalError(loc, "gather_nd needs 0 <= batch_dims < min(rank(data), rank(indices))");
  int64_t m = indices.getDimSize(q - 1);
  if (m == kDyn || m < 1 || batch + m > r)
    return emitOptionalError(loc, "the index tuple length (last dim of indices) must be static and "
                                  "within rank(data) - batch_dims");
  for (int64_t i = 0; i < batch; ++i)
    if (data.getDimSize(i) != kDyn && indices.getDimSize(i) != kDyn &&
        data.getDimSize(i) != indices.getDimSize(i))
      return emitOptionalError(loc, "batch dim ", i, " differs between data and indices");
  SmallVector<int64_t> shape(indices.getShape().drop_back());
  llvm::append_range(shape, data.getShape().drop_front(batch + m));
  inferred.push_back(tensorOf(shape, data.getElementType()));
  return success();
}

LogicalResult ReshapeOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &inferred) {
  auto input = rankedType(adaptor.getInput());
  auto target = getPartialShapeValues(adaptor.getShape());
  if (!target)
    return emitOptionalError(loc, "the shape operand needs a static length");
  SmallVector<int64_t> shape;
  int64_t inferIndex = -1;
  for (auto [i, d] : llvm::enumerate(*target)) {
    if (d == 0 && !adaptor.getAllowzero()) {
      if ((int64_t)i >= input.getRank())
        return emitOptionalError(loc, "shape copies dim ", i, " of a rank-",
                                 input.getRank(), " input");
      shape.push_back(input.getDimSize(i));
    } else if (d == -1) {
      if (inferIndex >= 0)
        return emitOptionalError(loc, "shape has more than one -1");
      inferIndex = i;
      shape.push_back(kDyn);
    } else if (d < 0 && d != kDyn) {
      return emitOptionalError(loc, "invalid dim ", d, " in shape");
    } else {
      shape.push_back(d);
    }
  }
  int64_t total = staticProduct(input.getShape());
  if (inferIndex >= 0) {
    SmallVector<int64_t> rest(shape);
    rest.erase(rest.begin() + inferIndex);
    int64_t known = staticProduct(rest);
    if (total != kDyn && known != kDyn) {
      if (known == 0 || total % known != 0)
        return emitOptionalError(loc, "cannot reshape ", input, " to ",
                                 "a shape with ", known, " x -1 elements");
      shape[inferIndex] = total / known;
    }
  } else if (total != kDyn && staticProduct(shape) != kDyn &&
             total != staticProduct(shape)) {
    return emitOptionalError(loc, "cannot reshape ", input, " (", total,
                             " elements) to ", staticProduct(shape), " elements");
  }
  inferred.push_back(tensorOf(shape, input.getElementType()));
  return success();
}

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &inferred) {
  auto input = rankedType(adaptor.getInput());
  ArrayRef<int64_t> perm = adaptor.getPerm();
  if ((int64_t)perm.size() != input.getRank())
    return emitOptionalError(loc, "perm has ", perm.size(), " entries for a rank-",
                             input.getRank(), " input");
  SmallVector<int64_t> shape;
  for (int64_t p : perm) {
    if (p < 0 || p >= input.getRank())
      return emitOptionalError(loc, "perm entry ", p, " out of range");
    shape.push_back(input.getDimSize(p));
  }
  inferred.push_back(tensorOf(shape, input.getElementType()));
  return success();
}

/// ONNX Slice's clamping of one start/end pair; returns the slice length.
static int64_t sliceLength(int64_t dim, int64_t start, int64_t end, int64_t step) {
  auto clamp = [&](int64_t v, int64_t lo, int64_t hi) {
    if (v < 0)
      v += dim;
    return std::min(std::max(v, lo), hi);
  };
  if (step > 0) {
    start = clamp(start, 0, dim);
    end = clamp(end, 0, dim);
    return end > start ? (end - start + step - 1) / step : 0;
  }
  start = clamp(start, 0, dim - 1);
  end = clamp(end, -1, dim - 1);
  // A negative end that stays below -dim means "through index 0".
  return start > end ? (start - end - step - 1) / -step : 0;
}

LogicalResult SliceOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &inferred) {
  auto input = rankedType(adaptor.getInput());
  SmallVector<int64_t> shape(input.getShape());
  auto axes = getConstantIntValues(adaptor.getAxes());
  if (!axes) {
    inferred.push_back(tensorOf(SmallVector<int64_t>(input.getRank(), kDyn),
                                input.getElementType()));
    return success();
  }
  auto starts = getConstantIntValues(adaptor.getStarts());
  auto ends = getConstantIntValues(adaptor.getEnds());
  auto steps = getConstantIntValues(adaptor.getSteps());
  for (auto [i, rawAxis] : llvm::enumerate(*axes)) {
    auto axis = normalizeAxis(rawAxis, input.getRank());
    if (!axis)
      return emitOptionalError(loc, "slice axis ", rawAxis, " out of range");
    int64_t dim = input.getDimSize(*axis);
    if (steps && i < steps->size() && (*steps)[i] == 0)
      return emitOptionalError(loc, "slice step is zero");
    if (!starts || !ends || !steps || dim == kDyn || i >= starts->size() ||
        i >= ends->size() || i >= steps->size()) {
      shape[*axis] = kDyn;
      continue;
    }
    shape[*axis] = sliceLength(dim, (*starts)[i], (*ends)[i], (*steps)[i]);
  }
  inferred.push_back(tensorOf(shape, input.getElementType()));
  return success();
}

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  if (adaptor.getInputs().empty())
    return emitOptionalError(loc, "concat needs at least one input");
  auto first = rankedType(adaptor.getInputs().front());
  int64_t axis = adaptor.getAxis();
  if (axis < 0 || axis >= first.getRank())
    return emitOptionalError(loc, "concat axis ", axis, " out of range for ", first);
  SmallVector<int64_t> shape(first.getShape());
  shape[axis] = 0;
  for (Value v : adaptor.getInputs()) {
    auto t = rankedType(v);
    if (t.getRank() != first.getRank() || t.getElementType() != first.getElementType())
      return emitOptionalError(loc, "concat inputs differ in rank or element type");
    for (int64_t i = 0; i < t.getRank(); ++i) {
      int64_t d = t.getDimSize(i);
      if (i == axis) {
        shape[i] = (shape[i] == kDyn || d == kDyn) ? kDyn : shape[i] + d;
      } else if (shape[i] == kDyn) {
        shape[i] = d;
      } else if (d != kDyn && d != shape[i]) {
        return emitOptionalError(loc, "concat inputs differ in dim ", i);
      }
    }
  }
  inferred.push_back(tensorOf(shape, first.getElementType()));
  return success();
}

LogicalResult SplitOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &inferred) {
  auto input = rankedType(adaptor.getInput());
  int64_t axis = adaptor.getAxis();
  if (axis < 0 || axis >= input.getRank())
    return emitOptionalError(loc, "split axis ", axis, " out of range for ", input);
  for (int64_t size : adaptor.getSizes()) {
    if (size < 0)
      return emitOptionalError(loc, "negative split size ", size);
    SmallVector<int64_t> shape(input.getShape());
    shape[axis] = size;
    inferred.push_back(tensorOf(shape, input.getElementType()));
  }
  return success();
}

LogicalResult ExpandOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &inferred) {
  auto input = rankedType(adaptor.getInput());
  auto target = getPartialShapeValues(adaptor.getShape());
  if (!target)
    return emitOptionalError(loc, "the shape operand needs a static length");
  for (int64_t d : *target)
    if (d < 0 && d != kDyn)
      return emitOptionalError(loc, "negative dim ", d, " in shape");
  // Bidirectional broadcast; an unknown target dim of 1 keeps the input dim,
  // so a `?` target dim only stays `?` where the input dim is 1 or `?`.
  int64_t rank = std::max<int64_t>(input.getRank(), target->size());
  SmallVector<int64_t> shape(rank);
  for (int64_t i = 0; i < rank; ++i) {
    int64_t ii = i - (rank - input.getRank()), ti = i - (rank - target->size());
    int64_t a = ii >= 0 ? input.getDimSize(ii) : 1;
    int64_t b = ti >= 0 ? (*target)[ti] : 1;
    if (a == 1)
      shape[i] = b;
    else if (b == 1 || b == kDyn)
      shape[i] = a;
    else if (a == kDyn || a == b)
      shape[i] = b;
    else
      return emitOptionalError(loc, "cannot expand ", input, ": dim ", ii,
                               " is ", a, ", target is ", b);
  }
  inferred.push_back(tensorOf(shape, input.getElementType()));
  return success();
}

LogicalResult TileOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &inferred) {
  auto input = rankedType(adaptor.getInput());
  auto repeats = getPartialShapeValues(adaptor.getRepeats());
  if (!repeats || (int64_t)repeats->size() != input.getRank())
    return emitOptionalError(loc, "tile needs one repeat per input dim");
  for (int64_t r : *repeats)
    if (r < 0 && r != kDyn)
      return emitOptionalError(loc, "negative repeat ", r);
  SmallVector<int64_t> shape;
  for (auto [d, r] : llvm::zip(input.getShape(), *repeats))
    shape.push_back(d == kDyn || r == kDyn ? kDyn : d * r);
  inferred.push_back(tensorOf(shape, input.getElementType()));
  return success();
}

LogicalResult UnsqueezeOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &inferred) {
  auto input = rankedType(adaptor.getInput());
  int64_t rank = input.getRank() + adaptor.getAxes().size();
  SmallVector<int64_t> shape;
  auto inputDims = input.getShape();
  for (int64_t i = 0; i < rank; ++i) {
    if (llvm::is_contained(adaptor.getAxes(), i)) {
      shape.push_back(1);
    } else {
      if (inputDims.empty())
        return emitOptionalError(loc, "unsqueeze axes out of range or repeated");
      shape.push_back(inputDims.front());
      inputDims = inputDims.drop_front();
    }
  }
  if (!inputDims.empty())
    return emitOptionalError(loc, "unsqueeze axes out of range or repeated");
  inferred.push_back(tensorOf(shape, input.getElementType()));
  return success();
}

LogicalResult SqueezeOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &inferred) {
  auto input = rankedType(adaptor.getInput());
  SmallVector<int64_t> shape;
  for (int64_t axis : adaptor.getAxes())
    if (axis < 0 || axis >= input.getRank())
      return emitOptionalError(loc, "squeeze axis ", axis, " out of range for ", input);
  for (int64_t i = 0; i < input.getRank(); ++i)
    if (!llvm::is_contained(adaptor.getAxes(), i))
      shape.push_back(input.getDimSize(i));
  inferred.push_back(tensorOf(shape, input.getElementType()));
  return success();
}

LogicalResult TriluOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &inferred) {
  inferred.push_back(adaptor.getInput().getType());
  return success();
}

//===----------------------------------------------------------------------===//
// Shape queries
//===----------------------------------------------------------------------===//

LogicalResult ShapeOp::inferReturnTypes(MLIRContext *context, std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &inferred) {
  int64_t rank = rankedType(adaptor.getInput()).getRank();
  int64_t start = adaptor.getStart(), end = adaptor.getEnd();
  if (start < 0 || end > rank || start > end)
    return emitOptionalError(loc, "shape range [", start, ", ", end,
                             ") is not within rank ", rank);
  inferred.push_back(tensorOf({end - start}, IntegerType::get(context, 64)));
  return success();
}

LogicalResult SizeOp::inferReturnTypes(MLIRContext *context, std::optional<Location>,
                                       Adaptor, SmallVectorImpl<Type> &inferred) {
  inferred.push_back(tensorOf({}, IntegerType::get(context, 64)));
  return success();
}
