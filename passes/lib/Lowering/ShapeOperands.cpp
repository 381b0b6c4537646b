//===- ShapeOperands.cpp - Reading shape-carrying operands at run time ----===//

#include "ShapeOperands.h"
#include "LoweringUtils.h"
#include "RuntimeCalls.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "kiln/Dialect/Kiln/KilnShapeUtils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"
#include "mlir/Interfaces/FunctionInterfaces.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

bool DimSource::operator==(const DimSource &other) const {
  if (!ShapedType::isDynamic(staticSize) || !ShapedType::isDynamic(other.staticSize))
    return staticSize == other.staticSize;
  if (value || other.value)
    return value == other.value;
  return tensor == other.tensor && index == other.index;
}

DimSource mlir::kiln::lowering::traceIndex(Value v) {
  // Sizes cast from index to i64 and back keep their value.
  Value uncast = v;
  while (auto cast = uncast.getDefiningOp<arith::IndexCastOp>())
    uncast = cast.getIn();
  if (uncast.getType().isIndex())
    v = uncast;
  if (auto c = getConstantIntValue(v))
    return {*c, {}, {}, 0};
  if (auto dim = v.getDefiningOp<tensor::DimOp>())
    if (auto index = dim.getConstantIndex())
      if (isa<RankedTensorType>(dim.getSource().getType()))
        return traceDim(dim.getSource(), *index);
  return {ShapedType::kDynamic, v, {}, 0};
}

/// A dynamic dim of a function argument named in the `kiln.dim_names`
/// argument attribute (ONNX dim_param, which means the same size wherever
/// it appears): the first argument dim of that name, so that the dims of
/// input_ids and attention_mask called "batch" are one symbol.
static DimSource namedArgumentDim(BlockArgument arg, int64_t d) {
  auto func = dyn_cast_or_null<FunctionOpInterface>(arg.getOwner()->getParentOp());
  if (!func || arg.getOwner() != &func.getFunctionBody().front())
    return {ShapedType::kDynamic, {}, arg, d};
  auto nameOf = [&](unsigned argIndex, int64_t dim) -> StringAttr {
    auto names = func.getArgAttrOfType<ArrayAttr>(argIndex, "kiln.dim_names");
    if (!names || dim >= (int64_t)names.size())
      return {};
    auto name = dyn_cast<StringAttr>(names[dim]);
    return name && !name.getValue().empty() ? name : StringAttr();
  };
  StringAttr name = nameOf(arg.getArgNumber(), d);
  if (!name)
    return {ShapedType::kDynamic, {}, arg, d};
  for (BlockArgument other : func.getFunctionBody().front().getArguments()) {
    auto type = dyn_cast<RankedTensorType>(other.getType());
    if (!type)
      continue;
    for (int64_t k = 0; k < type.getRank(); ++k)
      if (type.isDynamicDim(k) && nameOf(other.getArgNumber(), k) == name)
        return {ShapedType::kDynamic, {}, other, k};
  }
  return {ShapedType::kDynamic, {}, arg, d};
}

DimSource mlir::kiln::lowering::traceDim(Value v, int64_t d) {
  while (true) {
    auto type = cast<RankedTensorType>(v.getType());
    if (!type.isDynamicDim(d))
      return {type.getDimSize(d), {}, {}, 0};
    Operation *def = v.getDefiningOp();
    if (auto cast = dyn_cast_or_null<tensor::CastOp>(def)) {
      if (!isa<RankedTensorType>(cast.getSource().getType()))
        break;
      v = cast.getSource();
      continue;
    }
    if (auto dps = dyn_cast_or_null<DestinationStyleOpInterface>(def)) {
      OpOperand *init = dps.getTiedOpOperand(cast<OpResult>(v));
      if (!init || !isa<RankedTensorType>(init->get().getType()))
        break;
      v = init->get();
      continue;
    }
    if (auto empty = dyn_cast_or_null<tensor::EmptyOp>(def))
      return traceIndex(empty.getDynamicSize(d));
    if (auto expand = dyn_cast_or_null<tensor::ExpandShapeOp>(def)) {
      OpFoldResult size = expand.getMixedOutputShape()[d];
      if (auto value = dyn_cast<Value>(size))
        return traceIndex(value);
      break;
    }
    if (auto reshape = dyn_cast_or_null<tensor::ReshapeOp>(def)) {
      // A reshape to a shape built from scalars: dim d is the d-th scalar.
      if (auto shape = reshape.getShape().getDefiningOp<tensor::FromElementsOp>())
        return traceIndex(shape.getElements()[d]);
      break;
    }
    if (auto slice = dyn_cast_or_null<tensor::ExtractSliceOp>(def)) {
      if (slice.getSourceType().getRank() != type.getRank())
        break; // rank-reducing
      OpFoldResult size = slice.getMixedSizes()[d];
      if (auto value = dyn_cast<Value>(size))
        return traceIndex(value);
      break;
    }
    if (auto collapse = dyn_cast_or_null<tensor::CollapseShapeOp>(def)) {
      // The one source dim of the group that is not a static 1.
      auto sourceType = collapse.getSrcType();
      SmallVector<ReassociationIndices> groups = collapse.getReassociationIndices();
      SmallVector<int64_t> nonUnit;
      for (int64_t s : groups[d])
        if (sourceType.getDimSize(s) != 1)
          nonUnit.push_back(s);
      if (nonUnit.size() != 1)
        break;
      d = nonUnit.front();
      v = collapse.getSrc();
      continue;
    }
    break;
  }
  if (auto arg = dyn_cast<BlockArgument>(v))
    return namedArgumentDim(arg, d);
  return {ShapedType::kDynamic, {}, v, d};
}

Monomial Monomial::operator*(const Monomial &other) const {
  Monomial product{factor * other.factor, symbols};
  product.symbols.append(other.symbols);
  return product;
}

std::optional<Monomial> Monomial::dividedBy(const Monomial &other) const {
  if (other.factor == 0 || factor % other.factor != 0)
    return std::nullopt;
  Monomial quotient{factor / other.factor, symbols};
  for (const DimSource &symbol : other.symbols) {
    auto *it = llvm::find(quotient.symbols, symbol);
    if (it == quotient.symbols.end())
      return std::nullopt;
    quotient.symbols.erase(it);
  }
  return quotient;
}

bool Monomial::operator==(const Monomial &other) const {
  auto quotient = dividedBy(other);
  return quotient && quotient->factor == 1 && quotient->isStatic();
}

static Monomial sourceMonomial(const DimSource &source) {
  if (!ShapedType::isDynamic(source.staticSize))
    return {source.staticSize, {}};
  if (source.value) {
    if (auto mul = source.value.getDefiningOp<arith::MulIOp>())
      return indexMonomial(mul.getLhs()) * indexMonomial(mul.getRhs());
    return {1, {source}};
  }
  if (auto collapse = source.tensor.getDefiningOp<tensor::CollapseShapeOp>()) {
    SmallVector<ReassociationIndices> groups = collapse.getReassociationIndices();
    Monomial product;
    for (int64_t s : groups[source.index])
      product = product * dimMonomial(collapse.getSrc(), s);
    return product;
  }
  return {1, {source}};
}

Monomial mlir::kiln::lowering::dimMonomial(Value v, int64_t d) {
  return sourceMonomial(traceDim(v, d));
}

Monomial mlir::kiln::lowering::indexMonomial(Value v) {
  return sourceMonomial(traceIndex(v));
}

Value mlir::kiln::lowering::materialize(OpBuilder &b, Location loc, const Monomial &m) {
  Value v;
  if (m.factor != 1 || m.isStatic())
    v = arith::ConstantIndexOp::create(b, loc, m.factor);
  for (const DimSource &symbol : m.symbols) {
    Value s = symbol.value ? symbol.value
                           : (Value)tensor::DimOp::create(b, loc, symbol.tensor, symbol.index);
    v = v ? (Value)arith::MulIOp::create(b, loc, v, s) : s;
  }
  return v;
}

Value mlir::kiln::lowering::dimValue(OpBuilder &b, Location loc, Value v, int64_t d) {
  DimSource source = traceDim(v, d);
  if (!ShapedType::isDynamic(source.staticSize))
    return arith::ConstantIndexOp::create(b, loc, source.staticSize);
  if (source.value)
    return source.value;
  return tensor::DimOp::create(b, loc, source.tensor, source.index);
}

/// The number of elements of a static-shaped ranked tensor, else -1.
static int64_t staticCount(Value v) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  return type && type.hasStaticShape() ? type.getNumElements() : -1;
}

/// The scalar at row-major position `i` of `v` as its producer defines it,
/// or null where it cannot be seen without reading the tensor.
static Value lookThrough(OpBuilder &b, Location loc, Value v, int64_t i) {
  Operation *def = v.getDefiningOp();
  if (!def || i < 0 || i >= staticCount(v))
    return {};

  if (auto fromElements = dyn_cast<tensor::FromElementsOp>(def))
    return fromElements.getElements()[i];

  DenseElementsAttr constant;
  if (matchPattern(v, m_Constant(&constant)))
    if (auto element = dyn_cast<TypedAttr>(constant.getValues<Attribute>()[i]))
      if (arith::ConstantOp::isBuildableWith(element, element.getType()))
        return arith::ConstantOp::create(b, loc, element);

  // Shape ops keep the row-major order: element i is element i of a source
  // with as many elements.
  Value source;
  if (isa<UnsqueezeOp, SqueezeOp, ReshapeOp, tensor::CastOp, tensor::ExpandShapeOp,
          tensor::CollapseShapeOp, tensor::ReshapeOp>(def))
    source = def->getOperand(0);
  if (source && staticCount(source) == staticCount(v))
    return shapeElement(b, loc, source, i);

  // A gather of a vector at constant positions (a dim picked off a shape),
  // still a kiln op where this runs ahead of Gather's lowering (the grid
  // gathers).
  if (auto gather = dyn_cast<GatherOp>(def)) {
    std::optional<SmallVector<int64_t>> positions = getConstantIntValues(gather.getIndices());
    int64_t size = staticCount(gather.getData());
    if (cast<RankedTensorType>(gather.getData().getType()).getRank() != 1 || !positions ||
        i >= int64_t(positions->size()) || size < 0)
      return {};
    if (std::optional<int64_t> p = normalizeAxis((*positions)[i], size))
      return shapeElement(b, loc, gather.getData(), *p);
    return {};
  }

  auto vectorType = cast<RankedTensorType>(v.getType());
  if (vectorType.getRank() != 1)
    return {};

  if (auto shape = dyn_cast<ShapeOp>(def))
    return arith::IndexCastOp::create(b, loc, vectorType.getElementType(),
                                      dimValue(b, loc, shape.getInput(),
                                               shape.getStart() + i));

  if (auto concat = dyn_cast<ConcatOp>(def)) {
    for (Value input : concat.getInputs()) {
      int64_t n = staticCount(input);
      if (n < 0)
        return {};
      if (i < n)
        return shapeElement(b, loc, input, i);
      i -= n;
    }
    return {};
  }

  // A chain of insert_slice into a 1-D tensor at static offsets.
  if (auto insert = dyn_cast<tensor::InsertSliceOp>(def)) {
    auto offset = getConstantIntValue(insert.getMixedOffsets()[0]);
    auto size = getConstantIntValue(insert.getMixedSizes()[0]);
    auto stride = getConstantIntValue(insert.getMixedStrides()[0]);
    if (!offset || !size || !stride || *stride != 1 ||
        cast<RankedTensorType>(insert.getSourceType()).getRank() != 1)
      return {};
    if (i >= *offset && i < *offset + *size)
      return shapeElement(b, loc, insert.getSource(), i - *offset);
    return shapeElement(b, loc, insert.getDest(), i);
  }
  return {};
}

Value mlir::kiln::lowering::shapeElement(OpBuilder &b, Location loc, Value shape,
                                         int64_t i) {
  if (Value seen = lookThrough(b, loc, shape, i))
    return seen;
  auto type = cast<RankedTensorType>(shape.getType());
  // Row-major position i as indices; a tensor with a dynamic dim is 1-D here
  // (or read at i = 0).
  SmallVector<Value> indices(type.getRank());
  for (int64_t d = type.getRank() - 1, rest = i; d >= 0; --d) {
    int64_t size = type.getDimSize(d);
    bool last = d == 0 || ShapedType::isDynamic(size);
    indices[d] = arith::ConstantIndexOp::create(b, loc, last ? rest : rest % size);
    rest = last ? 0 : rest / size;
  }
  return tensor::ExtractOp::create(b, loc, shape, indices);
}

Value mlir::kiln::lowering::shapeElementAsIndex(OpBuilder &b, Location loc, Value shape,
                                                int64_t i) {
  Value v = shapeElement(b, loc, shape, i);
  if (v.getType().isIndex())
    return v;
  if (auto cast = v.getDefiningOp<arith::IndexCastOp>())
    if (cast.getIn().getType().isIndex())
      return cast.getIn();
  return b.createOrFold<arith::IndexCastOp>(loc, b.getIndexType(), v);
}

Value mlir::kiln::lowering::checkRangeDelta(OpBuilder &b, Location loc, Value delta) {
  Type type = delta.getType();
  Value zero = scalarConstant(b, loc, type, 0);
  // Folded where the delta is a constant (1 in every arange): no check.
  Value isZero = isa<FloatType>(type)
                     ? b.createOrFold<arith::CmpFOp>(loc, arith::CmpFPredicate::OEQ, delta, zero)
                     : b.createOrFold<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, delta, zero);
  emitRuntimeCheck(b, loc, isZero, describeNode(loc, "Range") + ": delta is zero");
  return isZero;
}

bool mlir::kiln::lowering::isArangeOfDim(Value start, Value limit, Value delta) {
  std::optional<int64_t> first = getConstantIntValue(start), step = getConstantIntValue(delta);
  return first == 0 && step == 1 && traceIndex(limit).tensor;
}

void mlir::kiln::lowering::requireSameDimAtRunTime(OpBuilder &b, Location loc, Value a,
                                                   int64_t ad, Value c, int64_t cd,
                                                   Value &failed) {
  if (traceDim(a, ad) == traceDim(c, cd))
    return;
  requireEqualAtRunTime(b, loc, dimValue(b, loc, a, ad), dimValue(b, loc, c, cd), failed);
}
