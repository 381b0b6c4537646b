//===- KilnOps.cpp - kiln op definitions and verifiers --------------------===//
//
// Verifiers check what result type inference cannot: attribute invariants
// and operand relations that do not change the result's shape.
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/KilnOps.h"
#include "kiln/Dialect/Kiln/KilnShapeUtils.h"
#include "mlir/Dialect/Traits.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::kiln;

static constexpr int64_t kDyn = ShapedType::kDynamic;

static RankedTensorType rankedType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

static bool isSortedUnique(ArrayRef<int64_t> values) {
  for (size_t i = 1; i < values.size(); ++i)
    if (values[i - 1] >= values[i])
      return false;
  return true;
}

/// A scalar operand: rank 0, or rank 1 with one element.
static bool isScalarLike(Value v) {
  auto t = rankedType(v);
  return t.getRank() == 0 || (t.getRank() == 1 && t.getDimSize(0) == 1);
}

LogicalResult mlir::kiln::verifyReductionAxes(Operation *op, ArrayRef<int64_t> axes) {
  int64_t rank = rankedType(op->getOperand(0)).getRank();
  if (!isSortedUnique(axes))
    return op->emitOpError("axes must be sorted and unique");
  if (!axes.empty() && (axes.front() < 0 || axes.back() >= rank))
    return op->emitOpError("axes must be within [0, ") << rank << ")";
  return success();
}

LogicalResult RangeOp::verify() {
  if (!isScalarLike(getStart()) || !isScalarLike(getLimit()) || !isScalarLike(getDelta()))
    return emitOpError("start, limit and delta must be scalars");
  Type element = rankedType(getStart()).getElementType();
  if (rankedType(getLimit()).getElementType() != element ||
      rankedType(getDelta()).getElementType() != element)
    return emitOpError("start, limit and delta must share an element type");
  return success();
}

LogicalResult GeluOp::verify() {
  if (getApproximate() != "none" && getApproximate() != "tanh")
    return emitOpError("approximate must be \"none\" or \"tanh\", got \"")
           << getApproximate() << "\"";
  return success();
}

LogicalResult GemmOp::verify() {
  if (!getC())
    return success();
  auto ct = rankedType(getC());
  if (ct.getRank() > 2)
    return emitOpError("C must have rank <= 2, got ") << ct;
  SmallVector<Type> broadcast;
  if (failed(inferBroadcastResultType(getLoc(), getType(), ct, Type(), broadcast)))
    return failure();
  if (failed(verifyCompatibleShape(cast<ShapedType>(broadcast.front()).getShape(),
                                   getType().getShape())))
    return emitOpError("C does not broadcast to the result ") << getType();
  return success();
}

LogicalResult ConvOp::verify() {
  auto xt = rankedType(getInput()), wt = rankedType(getWeight());
  // Verifiers run before result type inference, which reports bad ranks.
  if (xt.getRank() < 3 || wt.getRank() != xt.getRank())
    return success();
  int64_t group = getGroup();
  if (group < 1)
    return emitOpError("group must be positive");
  int64_t channels = xt.getDimSize(1), filterChannels = wt.getDimSize(1),
          outChannels = wt.getDimSize(0);
  if (channels != kDyn && filterChannels != kDyn && channels != filterChannels * group)
    return emitOpError("input has ") << channels << " channels, weight expects "
                                     << filterChannels << " x " << group << " groups";
  if (outChannels != kDyn && outChannels % group != 0)
    return emitOpError("output channels ") << outChannels << " not divisible by group " << group;
  if (getBias()) {
    auto bt = rankedType(getBias());
    if (bt.getRank() != 1 ||
        failed(verifyCompatibleShape({bt.getDimSize(0)}, {outChannels})))
      return emitOpError("bias must be 1-D with one value per output channel");
  }
  if (llvm::any_of(getPads(), [](int64_t p) { return p < 0; }))
    return emitOpError("pads must be non-negative");
  return success();
}

/// `axis` must index a dim of `op`'s first operand.
static LogicalResult verifyAxis(Operation *op, int64_t axis) {
  int64_t rank = rankedType(op->getOperand(0)).getRank();
  if (axis < 0 || axis >= rank)
    return op->emitOpError("axis ") << axis << " out of range for rank " << rank;
  return success();
}

LogicalResult ArgMaxOp::verify() { return verifyAxis(*this, getAxis()); }
LogicalResult ArgMinOp::verify() { return verifyAxis(*this, getAxis()); }
LogicalResult HardmaxOp::verify() { return verifyAxis(*this, getAxis()); }
LogicalResult CumSumOp::verify() { return verifyAxis(*this, getAxis()); }
LogicalResult SoftmaxOp::verify() { return verifyAxis(*this, getAxis()); }

/// layer_norm and rms_norm: `axis` is in range and every parameter has the
/// input's element type and broadcasts onto the normalised trailing dims.
static LogicalResult verifyNormalization(Operation *op, int64_t axis, ValueRange params) {
  if (failed(verifyAxis(op, axis)))
    return failure();
  auto xt = rankedType(op->getOperand(0));
  ArrayRef<int64_t> normalized = xt.getShape().drop_front(axis);
  for (Value param : params) {
    if (!param)
      continue;
    auto pt = rankedType(param);
    if (pt.getElementType() != xt.getElementType())
      return op->emitOpError("scale and bias must have the input's element type");
    SmallVector<int64_t> shape;
    if (pt.getRank() > (int64_t)normalized.size() ||
        !OpTrait::util::getBroadcastedShape(normalized, pt.getShape(), shape) ||
        failed(verifyCompatibleShape(shape, normalized)))
      return op->emitOpError("scale/bias ") << pt << " does not broadcast to the normalised dims";
  }
  return success();
}

LogicalResult LayerNormOp::verify() {
  return verifyNormalization(*this, getAxis(), {getScale(), getBias()});
}

LogicalResult RmsNormOp::verify() {
  return verifyNormalization(*this, getAxis(), {getScale()});
}

LogicalResult PReluOp::verify() {
  // The slope broadcasts to the input, never the other way round.
  auto xt = rankedType(getLhs());
  if (failed(verifyCompatibleShape(getType().getShape(), xt.getShape())))
    return emitOpError("slope ") << getRhs().getType() << " does not broadcast to the input "
                                 << xt;
  return success();
}

LogicalResult GatherOp::verify() {
  int64_t rank = rankedType(getData()).getRank();
  if (int64_t axis = getAxis(); axis < 0 || axis >= rank)
    return emitOpError("axis ") << axis << " out of range for rank " << rank;
  return success();
}

LogicalResult GatherElementsOp::verify() {
  auto data = rankedType(getData()), indices = rankedType(getIndices());
  if (data.getRank() != indices.getRank())
    return emitOpError("indices must have the data's rank ") << data.getRank() << ", got "
                                                               << indices;
  if (failed(verifyAxis(*this, getAxis())))
    return failure();
  // Outside the axis an index tuple reads the data at its own position.
  for (int64_t d = 0; d < data.getRank(); ++d)
    if (d != (int64_t)getAxis() && data.getDimSize(d) != kDyn && indices.getDimSize(d) != kDyn &&
        indices.getDimSize(d) > data.getDimSize(d))
      return emitOpError("indices dim ") << d << " (" << indices.getDimSize(d)
                                         << ") exceeds the data's (" << data.getDimSize(d) << ")";
  return success();
}

LogicalResult ReshapeOp::verify() {
  if (!rankedType(getShape()).hasStaticShape())
    return emitOpError("the shape operand needs a static length");
  return success();
}

LogicalResult TransposeOp::verify() {
  SmallVector<int64_t> sorted(getPerm());
  llvm::sort(sorted);
  for (auto [i, p] : llvm::enumerate(sorted))
    if (p != (int64_t)i)
      return emitOpError("perm is not a permutation of [0, ") << sorted.size() << ")";
  return success();
}

LogicalResult SliceOp::verify() {
  SmallVector<Value> params{getStarts(), getEnds(), getAxes(), getSteps()};
  int64_t length = rankedType(getStarts()).getRank() == 1
                       ? rankedType(getStarts()).getDimSize(0) : -1;
  for (Value v : params) {
    auto t = rankedType(v);
    if (t.getRank() != 1 || t.getDimSize(0) != length || length == kDyn)
      return emitOpError("starts, ends, axes and steps must be 1-D of one static length");
  }
  return success();
}

LogicalResult ConcatOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs at least one input");
  return success();
}

LogicalResult SplitOp::verify() {
  if (getOutputs().size() != getSizes().size())
    return emitOpError("has ") << getOutputs().size() << " results for "
                               << getSizes().size() << " sizes";
  auto input = rankedType(getInput());
  int64_t axis = getAxis();
  // An out-of-range axis is reported by result type inference.
  if (axis < 0 || axis >= input.getRank())
    return success();
  int64_t dim = input.getDimSize(axis);
  int64_t total = 0;
  for (int64_t s : getSizes())
    total += s;
  if (dim != kDyn && dim != total)
    return emitOpError("sizes sum to ") << total << ", dim " << getAxis() << " is " << dim;
  return success();
}

LogicalResult TileOp::verify() {
  if (rankedType(getRepeats()).getDimSize(0) != rankedType(getInput()).getRank())
    return emitOpError("needs one repeat per input dim");
  return success();
}

LogicalResult UnsqueezeOp::verify() {
  if (!isSortedUnique(getAxes()))
    return emitOpError("axes must be sorted and unique");
  return success();
}

LogicalResult SqueezeOp::verify() {
  if (!isSortedUnique(getAxes()))
    return emitOpError("axes must be sorted and unique");
  auto input = rankedType(getInput());
  for (int64_t axis : getAxes()) {
    // An out-of-range axis is reported by result type inference.
    if (axis < 0 || axis >= input.getRank())
      continue;
    int64_t d = input.getDimSize(axis);
    if (d != 1 && d != kDyn)
      return emitOpError("cannot squeeze dim ") << axis << " of size " << d;
  }
  return success();
}

/// and, or and xor are logic on i1 tensors.
static LogicalResult verifyLogicOperands(Operation *op) {
  for (Value v : op->getOperands())
    if (!rankedType(v).getElementType().isInteger(1))
      return op->emitOpError("operands must be tensors of i1, got ") << v.getType();
  return success();
}

LogicalResult AndOp::verify() { return verifyLogicOperands(*this); }
LogicalResult OrOp::verify() { return verifyLogicOperands(*this); }
LogicalResult XorOp::verify() { return verifyLogicOperands(*this); }

LogicalResult TriluOp::verify() {
  if (getType().getRank() < 2)
    return emitOpError("input must have rank >= 2");
  if (!isScalarLike(getK()))
    return emitOpError("k must be a scalar");
  return success();
}

LogicalResult ShapeOp::verify() {
  int64_t rank = rankedType(getInput()).getRank();
  int64_t start = getStart(), end = getEnd();
  if (start < 0 || end > rank || start > end)
    return emitOpError("range [") << start << ", " << end
                                  << ") is not within rank " << rank;
  return success();
}

LogicalResult RuntimeCheckOp::canonicalize(RuntimeCheckOp op, PatternRewriter &rewriter) {
  if (!matchPattern(op.getFailed(), m_Zero()))
    return failure();
  rewriter.eraseOp(op);
  return success();
}

#define GET_OP_CLASSES
#include "kiln/Dialect/Kiln/KilnOps.cpp.inc"
