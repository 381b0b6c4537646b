//===- ShapeOperands.h - Reading shape-carrying operands at run time -*- C++ -*-===//
//
// Internal to passes/lib/Lowering (DataMovementToLinalg.cpp, ShapeToTensor.cpp):
// reshape's shape, slice's bounds, expand's shape, tile's repeats and the
// like are tensors whose values may only be known at run time. These helpers
// read one element of such a tensor, looking through the producers that
// build shapes (concat of shape() and constants, unsqueeze, from_elements,
// insert_slice chains), so that a dim taken from another tensor stays a
// tensor.dim rather than a round trip through memory; and they trace where
// a dim's size comes from (DimSource, Monomial), which is what proves a
// reshape to a run-time shape a view.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_PASSES_LOWERING_SHAPEOPERANDS_H
#define KILN_PASSES_LOWERING_SHAPEOPERANDS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

namespace mlir::kiln::lowering {

/// Where the size of a dim comes from, traced back through the ops that
/// keep it (tensor.cast, the init of destination-style ops, tensor.empty's
/// sizes, expand/collapse_shape groups with one non-unit dim, tensor.reshape
/// to a from_elements shape, tensor.dim, index_cast):
/// a static size, an index value that holds it, or dim `index` of `tensor`
/// (the first that applies). Function arguments' dims that `kiln.dim_names`
/// gives the same name are one dim (that of the first such argument).
struct DimSource {
  int64_t staticSize = ShapedType::kDynamic;
  Value value;
  Value tensor;
  int64_t index = 0;
  bool operator==(const DimSource &other) const;
};
DimSource traceDim(Value v, int64_t d);
/// The DimSource of an index value (tensor.dim or a constant are traced).
DimSource traceIndex(Value v);

/// A dim size as a static factor times sizes known only at run time
/// (DimSources, compared as such): what lets a reshape with `?` dims be
/// proven a regrouping of dims.
struct Monomial {
  int64_t factor = 1;
  SmallVector<DimSource> symbols;

  bool isStatic() const { return symbols.empty(); }
  Monomial operator*(const Monomial &other) const;
  /// this / other where other divides this.
  std::optional<Monomial> dividedBy(const Monomial &other) const;
  bool operator==(const Monomial &other) const;
};
/// Dim `d` of `v` as a Monomial: traceDim, with a dim that collapse_shape
/// made from several dims, and an index value that is a product, split into
/// their factors.
Monomial dimMonomial(Value v, int64_t d);
Monomial indexMonomial(Value v);
/// The run-time value of a monomial.
Value materialize(OpBuilder &b, Location loc, const Monomial &m);

/// The run-time size of dim `d` of the ranked tensor `v`: an index constant
/// where it is static, the value that already holds it, else tensor.dim of
/// the tensor it is traced back to.
Value dimValue(OpBuilder &b, Location loc, Value v, int64_t d);

/// Or-s into `failed` (null or an i1) whether dim `ad` of `a` and dim `bd`
/// of `b` differ when the model runs; nothing where traceDim proves them
/// equal or both are static (compared when compiling).
void requireSameDimAtRunTime(OpBuilder &b, Location loc, Value a, int64_t ad, Value c,
                             int64_t cd, Value &failed);

/// Element `i` (row-major) of the small ranked tensor `shape` at run time, as
/// a value of its element type: the producer's scalar where it can be seen
/// through, else tensor.extract (which folds on constants).
Value shapeElement(OpBuilder &b, Location loc, Value shape, int64_t i);

/// shapeElement cast to index (an i64 that was cast from an index is
/// returned as that index).
Value shapeElementAsIndex(OpBuilder &b, Location loc, Value shape, int64_t i);

/// Whether a Range's scalars start, limit and delta are 0, a tensor's dim
/// and 1 (torch.arange(x.size(d))): its length is then that dim.
bool isArangeOfDim(Value start, Value limit, Value delta);

/// Whether a Range's `delta` (a scalar of its element type) is 0, an i1;
/// the run fails there, naming the node at `loc` (ONNX defines no range
/// for it; onnxruntime fails too).
Value checkRangeDelta(OpBuilder &b, Location loc, Value delta);

} // namespace mlir::kiln::lowering

#endif // KILN_PASSES_LOWERING_SHAPEOPERANDS_H
