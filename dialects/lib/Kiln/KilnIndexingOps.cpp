//===- KilnIndexingOps.cpp - Verifiers and type inference of KilnIndexingOps.td ===//
//
// top_k, scatter_elements and scatter_nd: the result types they infer and
// the shape invariants they check. Dims that are `?` are checked when the
// model runs (the lowering's run-time checks).
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/KilnOps.h"
#include "llvm/ADT/StringSwitch.h"

using namespace mlir;
using namespace mlir::kiln;

static constexpr int64_t kDyn = ShapedType::kDynamic;

static RankedTensorType rankedType(Value v) { return cast<RankedTensorType>(v.getType()); }

/// Whether two dims may be equal (either is `?`, or they are).
static bool mayEqual(int64_t a, int64_t b) { return a == kDyn || b == kDyn || a == b; }

//===----------------------------------------------------------------------===//
// top_k
//===----------------------------------------------------------------------===//

LogicalResult TopKOp::inferReturnTypes(MLIRContext *context, std::optional<Location> loc,
                                       Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  auto input = rankedType(adaptor.getInput());
  int64_t axis = adaptor.getAxis(), k = adaptor.getK();
  if (axis < 0 || axis >= input.getRank())
    return emitOptionalError(loc, "axis ", axis, " out of range for rank ", input.getRank());
  int64_t size = input.getDimSize(axis);
  if (k < 0 || (size != kDyn && k > size))
    return emitOptionalError(loc, "k = ", k, " is not within the ", size, " elements along axis ",
                             axis);
  SmallVector<int64_t> shape(input.getShape());
  shape[axis] = k;
  inferred.push_back(RankedTensorType::get(shape, input.getElementType()));
  inferred.push_back(RankedTensorType::get(shape, IntegerType::get(context, 64)));
  return success();
}

LogicalResult TopKOp::verify() {
  Type element = rankedType(getInput()).getElementType();
  if (!isa<FloatType>(element) && !(isa<IntegerType>(element) && !element.isInteger(1)))
    return emitOpError("needs float or integer elements, got ") << element;
  return success();
}

//===----------------------------------------------------------------------===//
// The scatters
//===----------------------------------------------------------------------===//

/// `reduction` must be one ONNX knows, and updates must have the data's
/// element type.
static LogicalResult verifyScatter(Operation *op, StringRef reduction) {
  bool known = llvm::StringSwitch<bool>(reduction)
                   .Cases("none", "add", "mul", "max", "min", true)
                   .Default(false);
  if (!known)
    return op->emitOpError("reduction must be none, add, mul, max or min, not '")
           << reduction << "'";
  Type element = rankedType(op->getOperand(0)).getElementType();
  if (rankedType(op->getOperand(2)).getElementType() != element)
    return op->emitOpError("updates must have the data's element type ") << element;
  if (element.isInteger(1) && reduction != "none")
    return op->emitOpError("reduction '") << reduction << "' needs numbers, not booleans";
  return success();
}

LogicalResult ScatterElementsOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                                  Adaptor adaptor,
                                                  SmallVectorImpl<Type> &inferred) {
  auto data = rankedType(adaptor.getData()), indices = rankedType(adaptor.getIndices()),
       updates = rankedType(adaptor.getUpdates());
  int64_t rank = data.getRank(), axis = adaptor.getAxis();
  if (indices.getRank() != rank || updates.getRank() != rank)
    return emitOptionalError(loc, "indices and updates must have the data's rank ", rank);
  if (axis < 0 || axis >= rank)
    return emitOptionalError(loc, "axis ", axis, " out of range for rank ", rank);
  for (int64_t d = 0; d < rank; ++d) {
    if (!mayEqual(indices.getDimSize(d), updates.getDimSize(d)))
      return emitOptionalError(loc, "indices and updates differ in dim ", d);
    // Outside the axis an update goes to its own position.
    int64_t u = updates.getDimSize(d), n = data.getDimSize(d);
    if (d != axis && u != kDyn && n != kDyn && u > n)
      return emitOptionalError(loc, "updates dim ", d, " (", u, ") exceeds the data's (", n, ")");
  }
  inferred.push_back(data);
  return success();
}

LogicalResult ScatterElementsOp::verify() { return verifyScatter(*this, getReduction()); }

LogicalResult ScatterNDOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor adaptor, SmallVectorImpl<Type> &inferred) {
  auto data = rankedType(adaptor.getData()), indices = rankedType(adaptor.getIndices()),
       updates = rankedType(adaptor.getUpdates());
  int64_t q = indices.getRank(), r = data.getRank();
  int64_t m = q < 1 ? kDyn : indices.getDimSize(q - 1);
  if (m == kDyn || m < 1 || m > r)
    return emitOptionalError(loc, "the index tuple length (last dim of indices) must be static "
                                  "and within the data's rank");
  // updates.shape == indices.shape[:-1] + data.shape[m:]
  SmallVector<int64_t> expected(indices.getShape().drop_back());
  llvm::append_range(expected, data.getShape().drop_front(m));
  if (updates.getRank() != (int64_t)expected.size())
    return emitOptionalError(loc, "updates must have rank ", expected.size());
  for (auto [d, pair] : llvm::enumerate(llvm::zip(updates.getShape(), expected)))
    if (!mayEqual(std::get<0>(pair), std::get<1>(pair)))
      return emitOptionalError(loc, "updates dim ", d, " must be ", std::get<1>(pair));
  inferred.push_back(data);
  return success();
}

LogicalResult ScatterNDOp::verify() { return verifyScatter(*this, getReduction()); }
