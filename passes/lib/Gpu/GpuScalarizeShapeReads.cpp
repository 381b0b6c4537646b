//===- GpuScalarizeShapeReads.cpp - Host reads of computed shapes ---------===//
//
// With symbolic dims a graph may compute a shape with ops on shape tensors
// (PyTorch's TorchScript export of expand: Where(Equal(shape, -1), 1,
// shape), shape a Concat of dims) and the host code then reads its
// elements (tensor.extract: the Expand's output sizes and checks). On the
// CPU that is host memory; on the GPU those ops would be kernels writing
// device memory the host cannot read. Here each such read of an element is
// computed from the operands' elements instead (scalar arithmetic on the
// dims, host code), and the tensor ops die:
//
//  * an element of an elementwise linalg.generic is its body applied to
//    the inputs' elements at the mapped indices;
//  * an element of tensor.insert_slice (static offsets, unit strides) is
//    the source's where the slice covers it, else the destination's;
//  * an element of tensor.expand_shape (static) is the source's;
//  * tensor.extract of tensor.from_elements or of a constant folds
//    upstream (canonicalization, run after this pass).
//
// Only reads in the function's own block (the host's) of small integer
// tensors (at most 16 elements) are rewritten; reads inside a kernel's body
// (a gather) and reads of data stay. Both rewrites compute the same
// value, so the CPU would be unaffected, but only the GPU path runs it.
//
//===----------------------------------------------------------------------===//

#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNGPUSCALARIZESHAPEREADS
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

/// Whether `extract` is host code: directly in a function's body.
bool readByHost(tensor::ExtractOp extract) {
  return isa<FunctionOpInterface>(extract->getParentOp());
}

/// Whether `tensor` holds sizes: a few integers (a shape, its entries, a
/// mask over them), not data. (A check's i1 flag reduced on the device is
/// read by the host too, but kiln-lower-runtime-checks wants that read as
/// it is.)
bool isShapeTensor(Value tensor) {
  constexpr int64_t kMaxElements = 16;
  auto type = dyn_cast<RankedTensorType>(tensor.getType());
  Type element = type ? type.getElementType() : Type();
  if (!type || !type.hasStaticShape() || type.getNumElements() > kMaxElements)
    return false;
  // i1: the mask of a shape's entries (Equal(shape, -1)), never a 0-d flag.
  return element.isIndex() || (element.isSignlessInteger() &&
                               (element.getIntOrFloatBitWidth() > 1 || type.getRank() > 0));
}

/// extract(generic(ins...), i) -> body(extract(in_k, map_k(i))...) for an
/// elementwise generic that does not read its init.
struct ExtractOfElementwise : OpRewritePattern<tensor::ExtractOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tensor::ExtractOp extract,
                                PatternRewriter &rewriter) const override {
    auto generic = extract.getTensor().getDefiningOp<linalg::GenericOp>();
    if (!readByHost(extract) || !isShapeTensor(extract.getTensor()) || !generic ||
        !generic.hasPureTensorSemantics() || generic.getNumReductionLoops() != 0)
      return rewriter.notifyMatchFailure(extract, "not an element of an elementwise generic");
    unsigned result = cast<OpResult>(extract.getTensor()).getResultNumber();
    OpOperand *init = generic.getDpsInitOperand(result);
    AffineMap outputMap = generic.getMatchingIndexingMap(init);
    if (!outputMap.isPermutation() ||
        llvm::any_of(generic.getRegionOutputArgs(),
                     [](BlockArgument arg) { return !arg.use_empty(); }))
      return rewriter.notifyMatchFailure(extract, "the generic reads its init or permutes oddly");
    if (llvm::any_of(generic.getIndexingMapsArray(),
                     [](AffineMap map) { return !map.isProjectedPermutation(); }))
      return rewriter.notifyMatchFailure(extract, "an input map is not a projected permutation");
    Location loc = extract.getLoc();
    // The loop indices of the element: the output map inverted.
    SmallVector<Value> loops(generic.getNumLoops());
    for (auto [position, index] : llvm::enumerate(extract.getIndices()))
      loops[outputMap.getDimPosition(position)] = index;
    IRMapping mapping;
    for (OpOperand *input : generic.getDpsInputOperands()) {
      Value value = input->get();
      BlockArgument arg = generic.getMatchingBlockArgument(input);
      if (!isa<RankedTensorType>(value.getType())) {
        mapping.map(arg, value); // a scalar operand
        continue;
      }
      AffineMap map = generic.getMatchingIndexingMap(input);
      SmallVector<Value> indices;
      for (AffineExpr expr : map.getResults())
        indices.push_back(loops[cast<AffineDimExpr>(expr).getPosition()]);
      mapping.map(arg, tensor::ExtractOp::create(rewriter, loc, value, indices));
    }
    Block *body = generic.getBody();
    for (Operation &op : body->without_terminator()) {
      if (auto index = dyn_cast<linalg::IndexOp>(op)) {
        mapping.map(index.getResult(), loops[index.getDim()]);
        continue;
      }
      rewriter.clone(op, mapping);
    }
    auto yield = cast<linalg::YieldOp>(body->getTerminator());
    rewriter.replaceOp(extract, mapping.lookupOrDefault(yield.getOperand(result)));
    return success();
  }
};

/// extract(insert_slice(source into dest), i) -> the source's element
/// where the slice covers i, else the destination's (static offsets and
/// sizes, unit strides, constant indices, no rank reduction).
struct ExtractOfInsertSlice : OpRewritePattern<tensor::ExtractOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tensor::ExtractOp extract,
                                PatternRewriter &rewriter) const override {
    auto insert = extract.getTensor().getDefiningOp<tensor::InsertSliceOp>();
    if (!readByHost(extract) || !insert ||
        insert.getSourceType().getRank() != insert.getType().getRank())
      return rewriter.notifyMatchFailure(extract, "not an element of a same-rank insert_slice");
    std::optional<SmallVector<int64_t>> offsets =
        getConstantIntValues(insert.getMixedOffsets());
    std::optional<SmallVector<int64_t>> sizes = getConstantIntValues(insert.getMixedSizes());
    std::optional<SmallVector<int64_t>> indices =
        getConstantIntValues(getAsOpFoldResult(extract.getIndices()));
    if (!offsets || !sizes || !indices || !insert.hasUnitStride())
      return rewriter.notifyMatchFailure(extract, "symbolic offsets, sizes or indices");
    bool inside = true;
    SmallVector<Value> sourceIndices;
    for (auto [index, offset, size] : llvm::zip_equal(*indices, *offsets, *sizes)) {
      inside &= index >= offset && index < offset + size;
      sourceIndices.push_back(
          arith::ConstantIndexOp::create(rewriter, extract.getLoc(), index - offset));
    }
    if (inside)
      rewriter.replaceOpWithNewOp<tensor::ExtractOp>(extract, insert.getSource(), sourceIndices);
    else
      rewriter.replaceOpWithNewOp<tensor::ExtractOp>(extract, insert.getDest(),
                                                     extract.getIndices());
    return success();
  }
};

/// extract(expand_shape(source), i) -> the source's element that i's
/// group-wise linearized indices name (static shapes, constant indices).
struct ExtractOfExpandShape : OpRewritePattern<tensor::ExtractOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tensor::ExtractOp extract,
                                PatternRewriter &rewriter) const override {
    auto expand = extract.getTensor().getDefiningOp<tensor::ExpandShapeOp>();
    std::optional<SmallVector<int64_t>> indices =
        getConstantIntValues(getAsOpFoldResult(extract.getIndices()));
    if (!readByHost(extract) || !expand || !indices || !expand.getResultType().hasStaticShape())
      return rewriter.notifyMatchFailure(extract, "not a constant element of a static expand");
    ArrayRef<int64_t> shape = expand.getResultType().getShape();
    SmallVector<Value> sourceIndices;
    for (const ReassociationIndices &group : expand.getReassociationIndices()) {
      int64_t linear = 0;
      for (int64_t d : group)
        linear = linear * shape[d] + (*indices)[d];
      sourceIndices.push_back(arith::ConstantIndexOp::create(rewriter, extract.getLoc(), linear));
    }
    rewriter.replaceOpWithNewOp<tensor::ExtractOp>(extract, expand.getSrc(), sourceIndices);
    return success();
  }
};

struct GpuScalarizeShapeReadsPass
    : mlir::kiln::impl::KilnGpuScalarizeShapeReadsBase<GpuScalarizeShapeReadsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<ExtractOfElementwise, ExtractOfInsertSlice, ExtractOfExpandShape>(
        &getContext());
    tensor::ExtractOp::getCanonicalizationPatterns(patterns, &getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
