//===- LoweringUtils.cpp - Shared helpers of the kiln-to-linalg lowering --===//

#include "LoweringUtils.h"
#include "RuntimeCalls.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/TypeUtilities.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include <algorithm>
#include <limits>

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

std::optional<std::pair<Value, Value>>
mlir::kiln::lowering::accumulatedFactors(linalg::GenericOp op, unsigned extraOps) {
  Block &body = op.getRegion().front();
  if (body.getNumArguments() != 3 || body.getOperations().size() != 3 + extraOps)
    return std::nullopt;
  auto add = cast<linalg::YieldOp>(body.getTerminator()).getOperand(0).getDefiningOp<arith::AddFOp>();
  if (!add)
    return std::nullopt;
  Value acc = body.getArgument(2);
  Value product = add.getLhs() == acc ? add.getRhs() : add.getRhs() == acc ? add.getLhs() : Value();
  auto mul = product ? product.getDefiningOp<arith::MulFOp>() : nullptr;
  if (!mul)
    return std::nullopt;
  return std::make_pair(mul.getLhs(), mul.getRhs());
}

bool mlir::kiln::lowering::isMultiplyAccumulate(linalg::GenericOp op) {
  std::optional<std::pair<Value, Value>> factors = accumulatedFactors(op);
  if (!factors)
    return false;
  Block &body = op.getRegion().front();
  Value a = body.getArgument(0), b = body.getArgument(1);
  return (factors->first == a && factors->second == b) ||
         (factors->first == b && factors->second == a);
}

Type mlir::kiln::lowering::halfMultiplyAccumulateType(linalg::GenericOp op) {
  std::optional<std::pair<Value, Value>> factors = accumulatedFactors(op, /*extraOps=*/2);
  if (!factors)
    return nullptr;
  Block &body = op.getRegion().front();
  Value a = body.getArgument(0), b = body.getArgument(1);
  auto source = [](Value factor) {
    auto ext = factor.getDefiningOp<arith::ExtFOp>();
    return ext && ext.getType().isF32() ? ext.getIn() : Value();
  };
  Value x = source(factors->first), y = source(factors->second);
  bool operands = (x == a && y == b) || (x == b && y == a);
  Type type = a.getType();
  if (!operands || b.getType() != type || !(type.isF16() || type.isBF16()) ||
      !body.getArgument(2).getType().isF32())
    return nullptr;
  return type;
}

/// A run-time check once lowered (kiln-lower-runtime-checks): an scf.if
/// whose only effect is the call that fails the run, reading its message.
static bool isLoweredRuntimeCheck(Operation *op) {
  auto branch = dyn_cast<scf::IfOp>(op);
  if (!branch || branch->getNumResults() != 0 || !branch.getElseRegion().empty())
    return false;
  return llvm::all_of(branch.getThenRegion().front(), [](Operation &inner) {
    auto call = dyn_cast<func::CallOp>(inner);
    return (call && call.getCallee() == kFailFunction) ||
           isa<memref::ExtractAlignedPointerAsIndexOp, scf::YieldOp>(inner) ||
           isMemoryEffectFree(&inner);
  });
}

/// A stack array of sizes (a run-time reshape's target dims, which
/// memref.reshape reads): no tensor's buffer.
static bool isSizesArray(Value memref) {
  auto alloca = memref.getDefiningOp<memref::AllocaOp>();
  return alloca && alloca.getType().getElementType().isIndex();
}

Operation *mlir::kiln::lowering::nextBufferAccess(Operation *op) {
  for (op = op->getNextNode(); op; op = op->getNextNode()) {
    if (isMemoryEffectFree(op) ||
        isa<kiln::RuntimeCheckOp, memref::AllocOp, memref::DeallocOp>(op) ||
        isLoweredRuntimeCheck(op))
      continue;
    if (auto alloca = dyn_cast<memref::AllocaOp>(op); alloca && isSizesArray(alloca))
      continue;
    if (auto store = dyn_cast<memref::StoreOp>(op); store && isSizesArray(store.getMemRef()))
      continue;
    return op;
  }
  return nullptr;
}

bool mlir::kiln::lowering::isStoreConversion(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 1 || op.getNumDpsInits() != 1 ||
      op.getNumReductionLoops() != 0 ||
      !llvm::all_of(op.getIndexingMapsArray(), [](AffineMap m) { return m.isIdentity(); }))
    return false;
  auto source = cast<MemRefType>(op.getDpsInputs()[0].getType());
  auto target = cast<MemRefType>(op.getDpsInits()[0].getType());
  Type element = target.getElementType();
  if (!source.getElementType().isF32() || !(element.isF16() || element.isBF16()) ||
      source.getShape() != target.getShape())
    return false;
  Block &body = op.getRegion().front();
  auto truncation = body.getTerminator()->getOperand(0).getDefiningOp<arith::TruncFOp>();
  return body.getOperations().size() == 2 && truncation &&
         truncation.getIn() == body.getArgument(0);
}

SmallVector<Value> mlir::kiln::lowering::dynamicDimsFrom(OpBuilder &b, Location loc,
                                                         RankedTensorType type,
                                                         ValueRange sources) {
  SmallVector<Value> dims;
  int64_t rank = type.getRank();
  for (int64_t i = 0; i < rank; ++i) {
    if (!type.isDynamicDim(i))
      continue;
    Value found;
    for (Value source : sources) {
      auto st = dyn_cast<RankedTensorType>(source.getType());
      if (!st)
        continue;
      int64_t j = i - (rank - st.getRank());
      if (j >= 0 && st.isDynamicDim(j)) {
        found = tensor::DimOp::create(b, loc, source, j);
        break;
      }
    }
    dims.push_back(found); // null when no source has it: callers check
  }
  return dims;
}

Value mlir::kiln::lowering::emptyLike(OpBuilder &b, Location loc, RankedTensorType type,
                                      ValueRange sources) {
  SmallVector<Value> dims = dynamicDimsFrom(b, loc, type, sources);
  if (llvm::is_contained(dims, Value()))
    return {};
  return emptyWithDims(b, loc, type, dims);
}

Value mlir::kiln::lowering::emptyWithDims(OpBuilder &b, Location loc,
                                          RankedTensorType type, ValueRange dynamicDims) {
  return tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType(),
                                 dynamicDims);
}

AffineMap mlir::kiln::lowering::broadcastMap(MLIRContext *context,
                                             RankedTensorType operand,
                                             RankedTensorType result) {
  int64_t rank = result.getRank(), offset = rank - operand.getRank();
  SmallVector<AffineExpr> exprs;
  for (int64_t i = 0; i < operand.getRank(); ++i) {
    bool broadcast = operand.getDimSize(i) == 1 && result.getDimSize(i + offset) != 1;
    exprs.push_back(broadcast ? getAffineConstantExpr(0, context)
                              : getAffineDimExpr(i + offset, context));
  }
  return AffineMap::get(rank, 0, exprs, context);
}

Value mlir::kiln::lowering::scalarConstant(OpBuilder &b, Location loc, Type type,
                                           double value) {
  if (auto floatType = dyn_cast<FloatType>(type))
    return arith::ConstantOp::create(b, loc, FloatAttr::get(floatType, value));
  return arith::ConstantOp::create(b, loc, IntegerAttr::get(type, (int64_t)value));
}

SmallVector<utils::IteratorType> mlir::kiln::lowering::parallelIterators(int64_t rank) {
  return SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel);
}

Value mlir::kiln::lowering::multiplyAdd(OpBuilder &b, Location loc, Value x, Value y,
                                        Value acc) {
  if (isa<FloatType>(x.getType()))
    return arith::AddFOp::create(b, loc, acc, arith::MulFOp::create(b, loc, x, y));
  return arith::AddIOp::create(b, loc, acc, arith::MulIOp::create(b, loc, x, y));
}

Value mlir::kiln::lowering::zeroFilled(OpBuilder &b, Location loc, RankedTensorType type,
                                       ValueRange dynamicDims) {
  Value zero = scalarConstant(b, loc, type.getElementType(), 0);
  return linalg::FillOp::create(b, loc, zero, emptyWithDims(b, loc, type, dynamicDims))
      .getResult(0);
}

Value mlir::kiln::lowering::toIndex(OpBuilder &b, Location loc, Value v) {
  if (v.getType().isIndex())
    return v;
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
}

bool mlir::kiln::lowering::isUnsignedElement(Type type) {
  auto intType = dyn_cast<IntegerType>(getElementTypeOrSelf(type));
  return intType && intType.isUnsigned();
}

Type mlir::kiln::lowering::signless(Type type) {
  if (!isUnsignedElement(type))
    return type;
  return IntegerType::get(type.getContext(), type.getIntOrFloatBitWidth());
}

Value mlir::kiln::lowering::reinterpret(OpBuilder &b, Location loc, Value v, Type type) {
  if (v.getType() == type)
    return v;
  return UnrealizedConversionCastOp::create(b, loc, type, v).getResult(0);
}

using mlir::kiln::lowering::IndexMath;

Value IndexMath::c(int64_t v) const { return arith::ConstantIndexOp::create(b, loc, v); }
Value IndexMath::add(Value l, Value r) const { return b.createOrFold<arith::AddIOp>(loc, l, r); }
Value IndexMath::sub(Value l, Value r) const { return b.createOrFold<arith::SubIOp>(loc, l, r); }
Value IndexMath::mul(Value l, Value r) const { return b.createOrFold<arith::MulIOp>(loc, l, r); }
Value IndexMath::floorDiv(Value l, Value r) const {
  return b.createOrFold<arith::FloorDivSIOp>(loc, l, r);
}
Value IndexMath::ceilDiv(Value l, Value r) const {
  return b.createOrFold<arith::CeilDivSIOp>(loc, l, r);
}
Value IndexMath::min(Value l, Value r) const { return b.createOrFold<arith::MinSIOp>(loc, l, r); }
Value IndexMath::max(Value l, Value r) const { return b.createOrFold<arith::MaxSIOp>(loc, l, r); }
Value IndexMath::cmp(arith::CmpIPredicate p, Value l, Value r) const {
  return b.createOrFold<arith::CmpIOp>(loc, p, l, r);
}
Value IndexMath::select(Value cond, Value t, Value f) const {
  return b.createOrFold<arith::SelectOp>(loc, cond, t, f);
}
Value IndexMath::dim(Value tensor, int64_t d) const {
  auto type = cast<RankedTensorType>(tensor.getType());
  if (!type.isDynamicDim(d))
    return c(type.getDimSize(d));
  return tensor::DimOp::create(b, loc, tensor, d);
}

std::optional<double> mlir::kiln::lowering::splatFloatOf(Value value) {
  DenseElementsAttr dense;
  if (!matchPattern(value, m_Constant(&dense)) || !dense.isSplat() ||
      !isa<FloatType>(dense.getElementType()))
    return std::nullopt;
  return dense.getSplatValue<APFloat>().convertToDouble();
}

std::string mlir::kiln::lowering::describeNode(Location loc, StringRef opType) {
  std::string found;
  loc->walk([&](Location inner) {
    auto name = dyn_cast<NameLoc>(inner);
    if (!name || !isa<NameLoc>(name.getChildLoc()))
      return WalkResult::advance();
    // The importer's child location is the ONNX op type.
    found = "node '" + name.getName().str() + "' (" +
            cast<NameLoc>(name.getChildLoc()).getName().str() + ")";
    return WalkResult::interrupt();
  });
  return found.empty() ? "a " + opType.str() : found;
}

Value mlir::kiln::lowering::anyElement(
    OpBuilder &b, Location loc, Value tensor,
    function_ref<Value(OpBuilder &, Location, Value)> predicate) {
  // A reduction over every dim into an i1.
  Type i1 = b.getI1Type();
  Value falseValue = arith::ConstantOp::create(b, loc, b.getBoolAttr(false));
  Value init = tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{}, i1);
  init = linalg::FillOp::create(b, loc, falseValue, init).getResult(0);
  int64_t rank = cast<RankedTensorType>(tensor.getType()).getRank();
  SmallVector<AffineMap> maps{b.getMultiDimIdentityMap(rank),
                              AffineMap::get(rank, 0, {}, b.getContext())};
  SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::reduction);
  auto any = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, ValueRange{tensor}, ValueRange{init}, maps, iterators,
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value holds = predicate(nb, nl, args[0]);
        linalg::YieldOp::create(nb, nl, Value(arith::OrIOp::create(nb, nl, args[1], holds)));
      });
  return tensor::ExtractOp::create(b, loc, any.getResult(0), ValueRange{});
}

/// The message of an index range check.
static std::string indexRangeMessage(Location loc, StringRef what) {
  return mlir::kiln::lowering::describeNode(loc, what) +
         ": indices element out of data bounds (an index outside [-dim, dim) of the axis it "
         "indexes)";
}

/// Whether [lowest, highest] (index scalars) leaves [-bound, bound).
static Value outsideBounds(OpBuilder &b, Location loc, Value lowest, Value highest,
                           Value bound) {
  IndexMath m{b, loc};
  Value below = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, lowest,
                                      arith::SubIOp::create(b, loc, m.c(0), bound));
  Value above = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, highest, bound);
  return arith::OrIOp::create(b, loc, below, above);
}

/// Whether every element of `indices` whose position in the last dim is
/// `component` (every element: -1) lies in [lowest, bound), when `indices`
/// is a compile-time constant; std::nullopt when it is not. A slice of a
/// constant (BERT's position ids: the first `sequence` of a constant
/// arange) is in range where all the constant is; where some of it is not,
/// only the run can tell whether the slice holds it.
static std::optional<bool> constantWithin(Value indices, int64_t lowest, int64_t bound,
                                          int64_t component = -1) {
  Value sliced;
  if (auto slice = indices.getDefiningOp<tensor::ExtractSliceOp>())
    sliced = slice.getSource();
  else if (auto slice = indices.getDefiningOp<kiln::SliceOp>())
    sliced = slice.getInput(); // not lowered yet
  if (sliced && component < 0) {
    std::optional<bool> all = constantWithin(sliced, lowest, bound);
    return all && *all ? all : std::nullopt;
  }
  DenseIntElementsAttr values;
  if (!matchPattern(indices, m_Constant(&values)))
    return std::nullopt;
  int64_t last = values.getType().getRank() ? values.getType().getShape().back() : 1;
  int64_t position = 0;
  for (const APInt &value : values.getValues<APInt>()) {
    int64_t index = value.getSExtValue();
    if ((component < 0 || position++ % last == component) && (index < lowest || index >= bound))
      return false;
  }
  return true;
}

static std::optional<bool> constantInRange(Value indices, int64_t bound,
                                           int64_t component = -1) {
  return constantWithin(indices, -bound, bound, component);
}

bool mlir::kiln::lowering::constantIndicesInDim(Value indices, int64_t dim, int64_t component) {
  return dim > 0 && constantWithin(indices, 0, dim, component) == true;
}

/// The check of indices known at compile time: none when they are all in
/// range, else one that always fails the run (as a run-time check would).
static void checkConstantIndices(OpBuilder &b, Location loc, bool inRange, StringRef what) {
  if (inRange)
    return;
  mlir::kiln::lowering::emitRuntimeCheck(b, loc, arith::ConstantIntOp::create(b, loc, 1, 1),
                                         indexRangeMessage(loc, what));
}

void mlir::kiln::lowering::checkIndicesInRange(OpBuilder &b, Location loc, Value indices,
                                               Value bound, StringRef what) {
  auto func = b.getInsertionBlock()->getParentOp()->getParentOfType<func::FuncOp>();
  if (auto own = dyn_cast<func::FuncOp>(b.getInsertionBlock()->getParentOp()))
    func = own;
  if (!func || !runtimeContextArgument(func))
    return; // no check can be placed: skip the reduction too
  auto type = cast<RankedTensorType>(indices.getType());
  auto element = dyn_cast<IntegerType>(type.getElementType());
  if (!element || (type.hasStaticShape() && type.getNumElements() == 0))
    return;
  // Indices known at compile time (BERT's position ids) need no reduction.
  if (std::optional<int64_t> limit = getConstantIntValue(bound))
    if (std::optional<bool> inRange = constantInRange(indices, *limit))
      return checkConstantIndices(b, loc, *inRange, what);
  // Constant indices against a bound known only at run time (`x[:, 0]` of a
  // symbolic dim): only their extremes matter, so the host compares two
  // numbers with the bound instead of a reduction reading the constant.
  DenseIntElementsAttr values;
  if (matchPattern(indices, m_Constant(&values))) {
    int64_t lowest = std::numeric_limits<int64_t>::max();
    int64_t highest = std::numeric_limits<int64_t>::min();
    for (const APInt &value : values.getValues<APInt>()) {
      lowest = std::min(lowest, value.getSExtValue());
      highest = std::max(highest, value.getSExtValue());
    }
    IndexMath m{b, loc};
    Value outside = outsideBounds(b, loc, m.c(lowest), m.c(highest), bound);
    return emitRuntimeCheck(b, loc, outside, indexRangeMessage(loc, what));
  }
  // any(index < -bound || index >= bound).
  Value failed = anyElement(b, loc, indices, [&](OpBuilder &nb, Location nl, Value element) {
    Value index = arith::IndexCastOp::create(nb, nl, nb.getIndexType(), element);
    return outsideBounds(nb, nl, index, index, bound);
  });

  emitRuntimeCheck(b, loc, failed, indexRangeMessage(loc, what));
}

void mlir::kiln::lowering::checkIndexSpanInRange(OpBuilder &b, Location loc, Value lowest,
                                                 Value highest, Value nonEmpty, Value bound,
                                                 StringRef what) {
  Value outside = outsideBounds(b, loc, lowest, highest, bound);
  emitRuntimeCheck(b, loc, arith::AndIOp::create(b, loc, nonEmpty, outside),
                   indexRangeMessage(loc, what));
}

void mlir::kiln::lowering::checkIndexTuplesInRange(OpBuilder &b, Location loc, Value indices,
                                                   Value data, int64_t firstDim, StringRef what) {
  auto type = cast<RankedTensorType>(indices.getType());
  int64_t q = type.getRank();
  SmallVector<OpFoldResult> offsets(q, b.getIndexAttr(0)), strides(q, b.getIndexAttr(1));
  SmallVector<OpFoldResult> sizes = tensor::getMixedSizes(b, loc, indices);
  sizes.back() = b.getIndexAttr(1);
  IndexMath m{b, loc};
  for (int64_t j = 0; j < type.getDimSize(q - 1); ++j) {
    std::optional<int64_t> limit = getConstantIntValue(m.dim(data, firstDim + j));
    if (std::optional<bool> inRange = limit ? constantInRange(indices, *limit, j) : std::nullopt) {
      checkConstantIndices(b, loc, *inRange, what);
      continue;
    }
    offsets.back() = b.getIndexAttr(j);
    Value component = tensor::ExtractSliceOp::create(b, loc, indices, offsets, sizes, strides);
    checkIndicesInRange(b, loc, component, m.dim(data, firstDim + j), what);
  }
}

Value mlir::kiln::lowering::wrapIndex(OpBuilder &b, Location loc, Value raw, Value dim) {
  IndexMath m{b, loc};
  Value negative = m.cmp(arith::CmpIPredicate::slt, raw, m.c(0));
  return m.select(negative, m.add(raw, dim), raw);
}

Value mlir::kiln::lowering::wrapAndClampIndex(OpBuilder &b, Location loc, Value raw, Value dim) {
  IndexMath m{b, loc};
  // One statement per op: the order they are built in is the IR's, which
  // C++ leaves unspecified among a call's arguments.
  Value last = m.sub(dim, m.c(1));
  Value wrapped = wrapIndex(b, loc, raw, dim);
  Value low = m.max(wrapped, m.c(0));
  return m.min(low, last);
}

Value mlir::kiln::lowering::extractGathered(OpBuilder &b, Location loc, Value data,
                                            ValueRange index, Value axisDim, bool mayBeEmpty) {
  if (!mayBeEmpty)
    return tensor::ExtractOp::create(b, loc, data, index);
  Type element = cast<RankedTensorType>(data.getType()).getElementType();
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value nonEmpty = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt, axisDim, zero);
  auto read = scf::IfOp::create(b, loc, TypeRange{element}, nonEmpty, /*withElseRegion=*/true);
  OpBuilder then = read.getThenBodyBuilder();
  scf::YieldOp::create(then, loc, Value(tensor::ExtractOp::create(then, loc, data, index)));
  OpBuilder otherwise = read.getElseBodyBuilder();
  // arith takes signless integers only: an unsigned table's 0 is made
  // signless and reinterpreted.
  Value fill = arith::ConstantOp::create(otherwise, loc, otherwise.getZeroAttr(signless(element)));
  scf::YieldOp::create(otherwise, loc, reinterpret(otherwise, loc, fill, element));
  return read.getResult(0);
}

std::optional<std::pair<StringRef, StringRef>> lowering::onnxNodeOf(Location loc) {
  std::optional<std::pair<StringRef, StringRef>> found;
  loc->walk([&](Location inner) {
    auto name = dyn_cast<NameLoc>(inner);
    auto opType = name ? dyn_cast<NameLoc>(name.getChildLoc()) : nullptr;
    if (!opType)
      return WalkResult::advance();
    found = {name.getName(), opType.getName()};
    return WalkResult::interrupt();
  });
  return found;
}

bool lowering::namesAnyNodeOf(Location loc, const llvm::StringSet<> &names) {
  bool found = false;
  loc->walk([&](Location inner) {
    auto name = dyn_cast<NameLoc>(inner);
    auto opType = name ? dyn_cast<NameLoc>(name.getChildLoc()) : nullptr;
    if (opType && (names.contains(name.getName()) || names.contains(opType.getName()))) {
      found = true;
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return found;
}

Value mlir::kiln::lowering::sumOverTaps(OpBuilder &b, Location loc, ArrayRef<int64_t> counts,
                                        Type element,
                                        llvm::function_ref<Value(int64_t, int64_t)> weight,
                                        llvm::function_ref<Value(ArrayRef<int64_t>)> read) {
  FloatMath f{b, loc};
  int64_t rank = counts.size();
  SmallVector<int64_t> choice(rank, 0);
  Value sum;
  while (true) {
    Value product;
    for (int64_t i = 0; i < rank; ++i)
      if (Value w = weight(i, choice[i]))
        product = product ? f.mul(product, w) : w;
    Value v = read(choice);
    if (!product)
      return v;
    if (!v.getType().isF64())
      v = arith::ExtFOp::create(b, loc, b.getF64Type(), v);
    Value term = f.mul(product, v);
    sum = sum ? f.add(sum, term) : term;
    int64_t i = rank - 1;
    while (i >= 0 && ++choice[i] == counts[i])
      choice[i--] = 0;
    if (i < 0)
      break;
  }
  if (element.isF64())
    return sum;
  return arith::TruncFOp::create(b, loc, element, sum);
}

std::optional<EpilogueMarks> lowering::epilogueMarksOf(linalg::GenericOp consumer) {
  // The dialect verified the attribute against the op; what is left to
  // check is that it fits a GEMM epilogue: its operands are all inputs.
  auto marks = consumer->getContext()
                   ->getOrLoadDialect<KilnDialect>()
                   ->getGemmEpilogueAttrHelper()
                   .getAttr(consumer);
  if (!marks)
    return std::nullopt;
  EpilogueMarks m{marks.getGemm(), marks.getBias(), marks.getResidual(),
                  int64_t(marks.getActivation())};
  int64_t numInputs = consumer.getNumDpsInputs();
  auto isInput = [&](int64_t operand) { return operand >= -1 && operand < numInputs; };
  if (m.gemm < 0 || !isInput(m.gemm) || !isInput(m.bias) || !isInput(m.residual) ||
      numInputs != 1 + (m.bias >= 0) + (m.residual >= 0))
    return std::nullopt;
  return m;
}
