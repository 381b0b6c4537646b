//===- IndexGrids.h - Index tensors that are functions of their position -*- C++ -*-===//
//
// Internal to passes/lib/Lowering (GatherNDToLinalg.cpp,
// DataMovementToLinalg.cpp): exporters build gather indices from Range ops
// (arange(batch), arange(keys), and b * S + s from them), broadcast by
// Unsqueeze and Expand. Such an index is a known function of its position,
// so a gather can compute it from its loop indices instead of reading a
// tensor built in memory, and check its range on the host from a few
// scalars instead of scanning it.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_PASSES_LOWERING_INDEXGRIDS_H
#define KILN_PASSES_LOWERING_INDEXGRIDS_H

#include "kiln/Dialect/Kiln/KilnOps.h"
#include "mlir/IR/Builders.h"

namespace mlir::kiln::lowering {

/// A tensor whose element at position i is start + delta * i[dim], where
/// start and delta are a Range's, read through Unsqueeze and Expand ops.
/// dim -1: no dim carries the coordinate (a Range of one element, or one
/// an Expand broadcast from a static 1). mayBroadcast: an Expand (or a
/// broadcasting Add) may have broadcast the Range's dim at run time, which
/// it did where the Range has one element (then every element is start).
struct IndexGrid {
  RangeOp range;
  int64_t dim = -1;
  bool mayBroadcast = false;
};

/// `v` as an IndexGrid, if its producers make it one.
std::optional<IndexGrid> gridOf(Value v);

/// One term of an affine grid: a grid times the product of `scales`
/// (one-element integer tensors: a size the graph read off a shape).
struct GridTerm {
  IndexGrid grid;
  SmallVector<Value> scales;
};

/// `v` as a sum of scaled grids (kiln.add of such, kiln.mul of one by a
/// one-element tensor), its terms' dims those of `v`: TorchScript's
/// flattened mask index b * S + s. A plain grid is a sum of one term.
std::optional<SmallVector<GridTerm>> affineGridOf(Value v);

/// The scalars a grid's elements are made of, read on the host: its first
/// value, its step, whether it is flat (every element the first), and how
/// many values it holds along its dim (the Range's, or one), and the
/// Range's length.
struct GridValues {
  Value start, delta, flat, count; // index, index, i1, index
  Value length;                    // index: the Range's
};
GridValues gridValues(OpBuilder &b, Location loc, const IndexGrid &grid);

/// A term's values on the host: its grid's, and the product of its scales.
/// scaleNonNegative: each scale is a dim or a constant >= 0.
struct TermValues {
  GridValues grid;
  Value scale; // index
  bool scaleNonNegative = false;
};
TermValues termValues(OpBuilder &b, Location loc, const GridTerm &term);

/// The index an affine grid holds at `position` (the grid tensor's
/// coordinates, as loop indices), inside a loop body.
Value affineGridIndex(OpBuilder &b, Location loc, ArrayRef<GridTerm> terms,
                      ArrayRef<TermValues> values, ArrayRef<Value> position);

/// Whether every index of the affine grid is in [0, dim `d` of `data`) by
/// construction: arange(n) itself with n that very dim (the mask read at
/// arange of its own dims). It then needs no check, and no clamp in the
/// gather (the grid may be flat, all zeros, only where the dim is 1).
bool inRangeByConstruction(ArrayRef<GridTerm> terms, ArrayRef<TermValues> values, Value data,
                           int64_t d);

/// Fails the run (naming `opName`'s node) where an affine grid holds an
/// index outside [-bound, bound): each term's extremes are its first and
/// last values times its scale, and the sum's are their sums, computed in
/// 64 bits as the gather computes each index. Where a step of that
/// arithmetic overflows, the index the graph means is past any dim and the
/// run fails too. So every index a run that passes computes is the one the
/// graph means, and lies within the extremes, inside [-bound, bound).
/// (A graph whose own index arithmetic wraps around its integer type is not
/// modelled: the graph's wrapped values may differ.)
void checkAffineGridInRange(OpBuilder &b, Location loc, ArrayRef<TermValues> values,
                            Value bound, StringRef opName);

/// Fails the run (naming `opName`'s node) where a term's grid holds a
/// number of values along its dim other than the extent of the grid
/// tensor's dim (`extents`, one per dim), unless it is flat: an Expand or
/// a broadcasting Add the graph may not do (ONNX broadcasts only a 1). The
/// grid's Unsqueeze, Expand and Add ops are never lowered, so their own
/// checks do not run; the gather's range check and its unclamped reads
/// count on every position along the dim holding a value of the Range.
void checkGridExtents(OpBuilder &b, Location loc, ArrayRef<GridTerm> terms,
                      ArrayRef<TermValues> values, ArrayRef<Value> extents, StringRef opName);

/// Whether checkAffineGridInRange's check runs before any gather reads:
/// its scalars are made of constants and dims only, no tensor element.
/// (On the GPU path, kiln-lower-runtime-checks defers a check that reads
/// tensor data until the run's kernels are done: the gather must then
/// clamp its indices, as it does for indices it reads from a tensor.)
bool checkedBeforeGather(ArrayRef<TermValues> values);

/// Whether the affine grid may hold a negative index (which counts from
/// the end of the dim): not where every term's start and step are
/// constants >= 0 and its scales dims or constants >= 0.
bool mayBeNegative(ArrayRef<TermValues> values);

} // namespace mlir::kiln::lowering

#endif // KILN_PASSES_LOWERING_INDEXGRIDS_H
