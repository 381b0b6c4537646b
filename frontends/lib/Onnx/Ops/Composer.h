//===- Composer.h - Building an ONNX op from a chain of kiln ops -*- C++ -*-===//
//
// Ops that ONNX defines as functions (Attention, the losses, the windows...)
// become a dozen or more kiln ops each. Checking every step for failure
// would bury the math, so a Composer threads failure through: a step whose
// op fails (the error is reported at the node) or that gets a null operand
// yields a null Value, and the handler checks once, when it binds outputs.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_FRONTENDS_ONNX_OPS_COMPOSER_H
#define KILN_FRONTENDS_ONNX_OPS_COMPOSER_H

#include "../NodeImporter.h"

namespace mlir::kiln::onnx_import {

class Composer {
public:
  explicit Composer(NodeImporter &n) : n(n) {}

  NodeImporter &node() { return n; }
  OpBuilder &builder() { return n.getBuilder(); }

  /// OpTy of `operands`; null when an operand is null or the op fails.
  template <typename OpTy>
  Value op(ValueRange operands, ArrayRef<NamedAttribute> attrs = {}) {
    if (llvm::any_of(operands, [](Value v) { return !v; }))
      return {};
    auto result = n.create<OpTy>(operands, attrs);
    return succeeded(result) ? *result : Value();
  }

  // Elementwise arithmetic (numpy broadcasting).
  Value add(Value a, Value b) { return op<AddOp>({a, b}); }
  Value sub(Value a, Value b) { return op<SubOp>({a, b}); }
  Value mul(Value a, Value b) { return op<MulOp>({a, b}); }
  Value div(Value a, Value b) { return op<DivOp>({a, b}); }
  Value where(Value c, Value x, Value y) { return op<WhereOp>({c, x, y}); }

  /// A 0-D constant of the element type of `like`.
  Value scalarLike(Value like, double value) {
    return like ? n.scalarConstant(elementType(like), value) : Value();
  }
  Value scalar(Type element, double value) { return n.scalarConstant(element, value); }
  Value ints(ArrayRef<int64_t> values) { return n.i64Constant(values); }

  /// `v` converted to `element` (itself when it has that type already).
  Value cast(Value v, Type element) {
    if (!v || elementType(v) == element)
      return v;
    return op<CastOp>({v}, {named("to", TypeAttr::get(element))});
  }
  Value reshape(Value v, Value shape) { return op<ReshapeOp>({v, shape}); }
  /// Reshape to a constant ONNX shape (0 copies a dim, -1 is inferred).
  Value reshape(Value v, ArrayRef<int64_t> shape) { return reshape(v, ints(shape)); }
  Value transpose(Value v, ArrayRef<int64_t> perm) {
    return op<TransposeOp>({v}, {named("perm", builder().getDenseI64ArrayAttr(perm))});
  }
  Value unsqueeze(Value v, ArrayRef<int64_t> axes) {
    return op<UnsqueezeOp>({v}, {named("axes", builder().getDenseI64ArrayAttr(axes))});
  }
  Value squeeze(Value v, ArrayRef<int64_t> axes) {
    return op<SqueezeOp>({v}, {named("axes", builder().getDenseI64ArrayAttr(axes))});
  }
  Value concat(ValueRange values, int64_t axis) {
    return op<ConcatOp>(values, {named("axis", builder().getI64IntegerAttr(axis))});
  }
  /// Reduction OpTy over the sorted `axes`.
  template <typename OpTy>
  Value reduce(Value v, ArrayRef<int64_t> axes, bool keepdims) {
    return op<OpTy>({v}, {named("axes", builder().getDenseI64ArrayAttr(axes)),
                          named("keepdims", builder().getBoolAttr(keepdims))});
  }
  /// The dims [start, end) of `v` as a 1-D i64 tensor (folds when static).
  Value shape(Value v, int64_t start, int64_t end) {
    return op<ShapeOp>({v}, {named("start", builder().getI64IntegerAttr(start)),
                             named("end", builder().getI64IntegerAttr(end))});
  }
  /// `v`[starts:ends] along `axes`, step 1, with constant bounds.
  Value slice(Value v, ArrayRef<int64_t> starts, ArrayRef<int64_t> ends, ArrayRef<int64_t> axes) {
    SmallVector<int64_t> steps(axes.size(), 1);
    return op<SliceOp>({v, ints(starts), ints(ends), ints(axes), ints(steps)});
  }
  Value softmax(Value v, int64_t axis, bool log = false) {
    return op<SoftmaxOp>({v}, {named("axis", builder().getI64IntegerAttr(axis)),
                               named("log", builder().getBoolAttr(log))});
  }

  /// Binds output i; fails when an earlier step failed.
  LogicalResult output(size_t i, Value v) {
    if (!v)
      return failure();
    n.setOutput(i, v);
    return success();
  }

  static Type elementType(Value v) {
    return mlir::cast<RankedTensorType>(v.getType()).getElementType();
  }
  static RankedTensorType typeOf(Value v) { return mlir::cast<RankedTensorType>(v.getType()); }
  NamedAttribute named(StringRef name, Attribute value) { return n.named(name, value); }

private:
  NodeImporter &n;
};

} // namespace mlir::kiln::onnx_import

#endif // KILN_FRONTENDS_ONNX_OPS_COMPOSER_H
