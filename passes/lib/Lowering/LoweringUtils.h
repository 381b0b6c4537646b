//===- LoweringUtils.h - Shared helpers of the kiln-to-linalg lowering -*- C++ -*-===//
//
// Internal to passes/lib/Lowering: the pattern files share how they build
// result tensors with run-time dims and broadcasting indexing maps.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_PASSES_LOWERING_LOWERINGUTILS_H
#define KILN_PASSES_LOWERING_LOWERINGUTILS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/StringSet.h"

namespace mlir::kiln::lowering {

/// The run-time size of every dim of `type` that is dynamic, taken from
/// `sources`: the first source value with a dynamic dim at the same
/// (right-aligned) position supplies it.
SmallVector<Value> dynamicDimsFrom(OpBuilder &b, Location loc, RankedTensorType type,
                                   ValueRange sources);

/// tensor.empty of `type` with its dynamic dims taken from `sources`.
Value emptyLike(OpBuilder &b, Location loc, RankedTensorType type, ValueRange sources);

/// tensor.empty of `type` whose dynamic dims are `dynamicDims` (in order).
Value emptyWithDims(OpBuilder &b, Location loc, RankedTensorType type,
                    ValueRange dynamicDims);

/// The indexing map that reads `operand` (right-aligned numpy broadcasting)
/// inside loops over `resultRank` dims: static size-1 dims that the result
/// broadcasts read index 0.
AffineMap broadcastMap(MLIRContext *context, RankedTensorType operand,
                       RankedTensorType result);

/// Operands of an op with ONNX (multidirectional) broadcasting, ready for
/// loops over the result with broadcastMap indexing maps, and the result's
/// dynamic dims (in order).
struct RunTimeBroadcast {
  SmallVector<Value> operands;
  SmallVector<Value> resultDims;
};

/// When an operand whose `?` dims may broadcast is copied out to the
/// result's size: only in runs where one does (an scf.if: the CPU), or in
/// every run (the GPU, whose host code cannot hold a buffer a branch chose;
/// the copy is the operand itself where nothing broadcasts), or never
/// (ChecksOnly: the run's checks alone, for a caller that does not read
/// the operands, such as one that drops an addend of zeros).
enum class BroadcastCopies { WhenBroadcasting, Always, ChecksOnly };

/// Broadcasts `operands` to `resultType` as ONNX does when the model runs:
/// a `?` dim that is 1 at run time where the result's is not is broadcast
/// (the operand is copied out to the result's size, as `copies` says), and
/// dims that are neither 1 nor the size fail the run with a message naming
/// the node (`opType` and `loc`). Dims proven equal at compile time
/// (RunTimeBroadcast.cpp) cost nothing. `firstIsOutputSize`: the first
/// operand has the result's shape (unidirectional broadcasting, as Gemm's C
/// to the product).
RunTimeBroadcast broadcastAtRunTime(OpBuilder &b, Location loc, StringRef opType,
                                    ValueRange operands, RankedTensorType resultType,
                                    bool firstIsOutputSize = false,
                                    BroadcastCopies copies = BroadcastCopies::WhenBroadcasting);

/// What kiln-prepare-gemm-epilogues marked on an elementwise consumer of a
/// contraction (#kiln.gemm_epilogue): its input numbers of the contraction's
/// result, the bias and the residual (-1: none) and the activation (a
/// GemmActivation, the value of kiln_gemm_activation).
struct EpilogueMarks {
  int64_t gemm, bias, residual, activation;
};

/// `consumer`'s marks, if it has them and they fit its inputs: the gemm
/// operand is an input, bias and residual are inputs or -1, and there are
/// no other inputs.
std::optional<EpilogueMarks> epilogueMarksOf(linalg::GenericOp consumer);

/// The ONNX node an op was lowered from and its op type: the first NameLoc
/// with a NameLoc child. (A NameLoc without one names an initializer: a
/// weight, not code.)
std::optional<std::pair<StringRef, StringRef>> onnxNodeOf(Location loc);

/// Whether `names` holds the name or op type of any ONNX node in `loc`: of
/// every layer a fused op came from (kiln-fuse-sibling-matmuls), so that
/// excluding one layer from quantization excludes the GEMM it is part of.
bool namesAnyNodeOf(Location loc, const llvm::StringSet<> &names);

/// Places kiln.runtime_check(failed, message) unless `failed` is constant
/// false or the function has no kiln.runtime_context argument to fail
/// through (a kiln-opt test, a helper).
void emitRuntimeCheck(OpBuilder &b, Location loc, Value failed, StringRef message);

/// Whether emitRuntimeCheck places checks at `b`'s insertion point (the
/// function has a kiln.runtime_context argument). Code that counts on a
/// check having passed (a gather reading its indices unclamped) must not
/// where it does not.
bool canEmitRuntimeCheck(OpBuilder &b);

/// Whether `predicate` holds for any element of `tensor` (an i1, computed
/// by one reduction over the tensor).
Value anyElement(OpBuilder &b, Location loc, Value tensor,
                 function_ref<Value(OpBuilder &, Location, Value)> predicate);

/// Fails the run (kiln.runtime_check) when any element of the integer
/// tensor `indices` lies outside [-bound, bound), the range ONNX allows an
/// index into a dim of size `bound` (an index value). `what` names the op
/// for the message, e.g. "Gather"; the node comes from `loc`. The check is
/// one reduction over the indices, before and apart from the gather, which
/// clamps them so that its reads stay in bounds either way.
void checkIndicesInRange(OpBuilder &b, Location loc, Value indices, Value bound,
                         StringRef what);

/// checkIndicesInRange for each component j of the index tuples in the
/// last dim of `indices` (of static length), against dim `firstDim + j` of
/// `data`: GatherND's and ScatterND's indices.
void checkIndexTuplesInRange(OpBuilder &b, Location loc, Value indices, Value data,
                             int64_t firstDim, StringRef what);

/// Whether `indices` are known at compile time (a constant, or a slice of
/// one) and each lies in [0, dim): a gather reads them as they are. With
/// `component` >= 0, only the elements at that position of the last dim
/// (one component of GatherND's index tuples).
bool constantIndicesInDim(Value indices, int64_t dim, int64_t component = -1);

/// The index `raw` (an index value) into a dim of size `dim` with a
/// negative one counted from the end.
Value wrapIndex(OpBuilder &b, Location loc, Value raw, Value dim);

/// The index `raw` (an index value) into a dim of size `dim` with a
/// negative one counted from the end, clamped into [0, dim - 1] so that an
/// out-of-range one (which fails the run's index check) still reads or
/// writes in bounds.
Value wrapAndClampIndex(OpBuilder &b, Location loc, Value raw, Value dim);

/// data[index], the gathered element, read only when `axisDim` (the size
/// of the dim the gather indexes) is not 0: when it can be 0 at run time
/// (a symbolic dim), no index is valid, the run fails its index check, and
/// a clamped index would still point outside the data; the element is then
/// 0. `mayBeEmpty` false (a static, non-zero dim) reads directly.
Value extractGathered(OpBuilder &b, Location loc, Value data, ValueRange index, Value axisDim,
                      bool mayBeEmpty);

/// "node 'Gather_3' (Gather)" from an op's location (the importer names ops
/// after their ONNX node and op type), or "a Gather" (`opType`) when it has
/// none.
std::string describeNode(Location loc, StringRef opType);

/// Whether `value` is read by `user` alone, so that folding its producer
/// into `user` drops it.
inline bool onlyFeeds(Value value, Operation *user) {
  return value.hasOneUse() && *value.getUsers().begin() == user;
}

/// The one float a constant holds (a splat of any shape and float type),
/// if it is one.
std::optional<double> splatFloatOf(Value value);

/// A zero/identity-like scalar constant of `type` (float or integer).
Value scalarConstant(OpBuilder &b, Location loc, Type type, double value);

/// acc + x * y, float or integer: a contraction's body.
Value multiplyAdd(OpBuilder &b, Location loc, Value x, Value y, Value acc);

/// A zero-filled tensor of `type` whose dynamic dims are `dynamicDims`.
Value zeroFilled(OpBuilder &b, Location loc, RankedTensorType type, ValueRange dynamicDims);

/// All-parallel iterator types for `rank` loops.
SmallVector<utils::IteratorType> parallelIterators(int64_t rank);

/// Fails the run (naming the node, as checkIndicesInRange) when `nonEmpty`
/// and [lowest, highest] (index scalars) leaves [-bound, bound).
void checkIndexSpanInRange(OpBuilder &b, Location loc, Value lowest, Value highest,
                           Value nonEmpty, Value bound, StringRef what);

/// Casts an integer or index scalar to `index`.
Value toIndex(OpBuilder &b, Location loc, Value v);

/// Arithmetic on `index` values, folded as it is built (constant operands
/// give constants, so static shapes leave no code behind).
struct IndexMath {
  OpBuilder &b;
  Location loc;
  Value c(int64_t v) const;
  Value add(Value l, Value r) const;
  Value sub(Value l, Value r) const;
  Value mul(Value l, Value r) const;
  Value floorDiv(Value l, Value r) const;
  Value ceilDiv(Value l, Value r) const;
  Value min(Value l, Value r) const;
  Value max(Value l, Value r) const;
  Value cmp(arith::CmpIPredicate p, Value l, Value r) const;
  Value select(Value c, Value t, Value f) const;
  /// The size of dim `d` of `tensor` (a constant where static).
  Value dim(Value tensor, int64_t d) const;
};

/// f64 arithmetic inside a body (Resize and GridSample compute coordinates
/// and weights in f64).
struct FloatMath {
  OpBuilder &b;
  Location loc;
  Value c(double v) const { return scalarConstant(b, loc, b.getF64Type(), v); }
  Value add(Value l, Value r) const { return arith::AddFOp::create(b, loc, l, r); }
  Value sub(Value l, Value r) const { return arith::SubFOp::create(b, loc, l, r); }
  Value mul(Value l, Value r) const { return arith::MulFOp::create(b, loc, l, r); }
  Value div(Value l, Value r) const { return arith::DivFOp::create(b, loc, l, r); }
  Value cmp(arith::CmpFPredicate p, Value l, Value r) const {
    return arith::CmpFOp::create(b, loc, p, l, r);
  }
  Value select(Value c, Value t, Value f) const { return arith::SelectOp::create(b, loc, c, t, f); }
  Value fromIndex(Value i) const {
    return arith::SIToFPOp::create(b, loc, b.getF64Type(),
                                   arith::IndexCastOp::create(b, loc, b.getI64Type(), i));
  }
  Value toIndex(Value f) const {
    return arith::IndexCastOp::create(b, loc, b.getIndexType(),
                                      arith::FPToSIOp::create(b, loc, b.getI64Type(), f));
  }
};

/// Keys' cubic convolution weights, coefficient `a`, of the 4 neighbours at
/// distances 1 + r, r, 1 - r and 2 - r of a coordinate `ratio` = r in [0, 1]
/// past its lower neighbour.
inline SmallVector<Value> keysCubicWeights(const FloatMath &f, Value ratio, double a) {
  auto nearWeight = [&](Value t) { // |t| <= 1: ((A + 2) t - (A + 3)) t^2 + 1
    return f.add(f.mul(f.sub(f.mul(f.c(a + 2), t), f.c(a + 3)), f.mul(t, t)), f.c(1));
  };
  auto farWeight = [&](Value t) { // 1 < |t| < 2: ((A t - 5A) t + 8A) t - 4A
    return f.sub(f.mul(f.add(f.mul(f.sub(f.mul(f.c(a), t), f.c(5 * a)), t), f.c(8 * a)), t),
                 f.c(4 * a));
  };
  Value oneMinus = f.sub(f.c(1), ratio);
  return {farWeight(f.add(ratio, f.c(1))), nearWeight(ratio), nearWeight(oneMinus),
          farWeight(f.add(oneMinus, f.c(1)))};
}

/// An interpolation over taps (Resize, GridSample): the sum, over every
/// combination `choice` of one of the counts[i] taps of each dim i, of the
/// product of the taps' weights (`weight(i, tap)`; null weighs 1) times
/// `read(choice)`, the element there, computed in f64 and returned as
/// `element`. A single unweighted combination (nearest) is just its element.
Value sumOverTaps(OpBuilder &b, Location loc, ArrayRef<int64_t> counts, Type element,
                  llvm::function_ref<Value(int64_t, int64_t)> weight,
                  llvm::function_ref<Value(ArrayRef<int64_t>)> read);

/// Whether `type` (or its element type) is an unsigned integer (ONNX
/// uint8 .. uint64), which arith does not take.
bool isUnsignedElement(Type type);

/// `type` made signless where it is an unsigned integer.
Type signless(Type type);

/// The scalar `v` as a value of `type`, which differs from its type in
/// signedness at most: the same bits. Bodies of linalg.generic ops over
/// unsigned tensors use it to get arith's signless integers (the cast is an
/// unrealized_conversion_cast: both sides become the same LLVM integer and
/// reconcile-unrealized-casts removes the pair).
Value reinterpret(OpBuilder &b, Location loc, Value v, Type type);

/// Patterns of each op family (one file each).
/// Whether the payload of `op` (2 inputs, 1 init) is `out + a * b` in
/// either operand order: the contraction kiln.matmul and kiln.gemm lower to.
bool isMultiplyAccumulate(linalg::GenericOp op);

/// Whether the payload of `op` (2 inputs, 1 f32 init) is `out + extf(a) *
/// extf(b)` with a and b of one 16-bit type (kiln-gpu-half-storage's GEMM
/// operands); that type, else null.
Type halfMultiplyAccumulateType(linalg::GenericOp op);

/// The next op after `op` in its block that may read or write a buffer in
/// use: pure ops (constants, dims, get_global), allocs and deallocs (before
/// the memory plan), run-time checks, lowered or not (they only end the
/// run), and stores into stack arrays (a run-time reshape's dims) are
/// passed over.
Operation *nextBufferAccess(Operation *op);

/// Whether `op` copies its one input (f32) into its init (f16 or bf16) of
/// the same shape, element by element, through a plain arith.truncf: the
/// copy kiln-gpu-half-storage puts after a GEMM, which the GEMM can do as
/// it stores its result.
bool isStoreConversion(linalg::GenericOp op);

/// The two factors of `op`'s body if it is `yield acc + x * y` with acc the
/// accumulator (the init's block argument) and nothing else but those ops
/// and `extraOps` more (a conversion of a factor, say).
std::optional<std::pair<Value, Value>> accumulatedFactors(linalg::GenericOp op,
                                                          unsigned extraOps = 0);

void populateElementwiseLoweringPatterns(RewritePatternSet &patterns, BroadcastCopies copies);
void populateContractionLoweringPatterns(RewritePatternSet &patterns, BroadcastCopies copies);
void populateReductionLoweringPatterns(RewritePatternSet &patterns);
void populateDataMovementLoweringPatterns(RewritePatternSet &patterns, BroadcastCopies copies);
void populateShapeLoweringPatterns(RewritePatternSet &patterns);
void populateGatherNDLoweringPatterns(RewritePatternSet &patterns);
/// GatherND whose index tuples, and Gather whose indices, are grids of
/// Ranges (IndexGrids.h), applied before the other lowerings, while the
/// grids are kiln ops.
void populateGatherNDOfGridsLoweringPatterns(RewritePatternSet &patterns);
void populateGatherOfGridsLoweringPatterns(RewritePatternSet &patterns);
/// Comparisons of a Range grid with a constant that hold everywhere
/// (arange(S) >= 0, GridComparisons.cpp), lowered with the grid gathers.
void populateGridComparisonLoweringPatterns(RewritePatternSet &patterns);
void populateGatherElementsLoweringPatterns(RewritePatternSet &patterns);
void populateScanLoweringPatterns(RewritePatternSet &patterns);
void populatePadLoweringPatterns(RewritePatternSet &patterns);
void populatePoolingLoweringPatterns(RewritePatternSet &patterns);
void populateResizeLoweringPatterns(RewritePatternSet &patterns);
void populateGridSampleLoweringPatterns(RewritePatternSet &patterns);
void populateQuantizationLoweringPatterns(RewritePatternSet &patterns);
void populateScatterLoweringPatterns(RewritePatternSet &patterns);
void populateTopKLoweringPatterns(RewritePatternSet &patterns);
void populateConvLoweringPatterns(RewritePatternSet &patterns);
void populateConvTransposeLoweringPatterns(RewritePatternSet &patterns);

} // namespace mlir::kiln::lowering

#endif // KILN_PASSES_LOWERING_LOWERINGUTILS_H
