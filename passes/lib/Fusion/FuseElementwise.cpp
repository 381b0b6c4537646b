//===- FuseElementwise.cpp - One loop nest for chains of elementwise ops --===//
//
// Lowered one by one, a chain such as GELU's div/erf/add/mul/mul or
// softmax's sub/exp/sum/div is a loop nest and a full intermediate buffer
// per op: memory traffic, not arithmetic, sets its time. Upstream's linalg
// elementwise fusion folds a producer into its consumer's loop nest; Kiln
// steers it so that
//
//  * a producer is only fused into its single user (fusing into several
//    would recompute it, e.g. softmax's exp, once per user), and
//  * nothing is fused into a contraction (two inputs and a reduction): its
//    body must stay `out + a * b` for kiln-contraction-to-runtime-gemm,
//    which turns it into a call of the runtime's GEMM, and
//  * a producer of more than a few operations an element is not fused into
//    a consumer that reads it broadcast, which would recompute it for each
//    element the broadcast repeats (a mask's gather, once per query).
//
// A linalg.transpose feeding a contraction is the exception that is folded:
// it only permutes indices, so the contraction reads the transpose's input
// through the permuted map and its body stays as it is. The GEMM then reads
// attention's Q, K^T and V through strides, with no copy of each.
//
// An elementwise op that reads a contraction's result through a
// tensor.expand_shape (GPT-2's Conv1D computes [B*S, N] and views it as
// [B, S, N] before its GELU or residual add) is rewritten to run on the
// collapsed shape, with the expand after it, so that it meets the
// contraction (or the bias add a Gemm node puts on it) directly: then it
// fuses with the rest of the chain and
// kiln-prepare-gemm-epilogues can fold it into the GEMM. The same is done
// through a tensor.reshape that only splits the contraction's rows (the
// form such a view takes when batch and sequence are both symbolic).
//
// A tensor.expand_shape of an index grid (a generic with no inputs, such as
// a Range's arange(S) when S is symbolic, viewed as [1, 1, S, 1] for a
// causal mask) becomes the grid computed over the expanded shape. The grid
// is then an elementwise producer like any other and fuses into its reader;
// left as it was, it stays a loop nest (a GPU kernel) of its own.
//
//===----------------------------------------------------------------------===//

#include "UnitDimViews.h"
#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNFUSEELEMENTWISE
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

bool isContraction(Operation *op) {
  auto generic = dyn_cast<linalg::GenericOp>(op);
  return generic && generic.getNumReductionLoops() > 0 && generic.getNumDpsInputs() > 1;
}

/// contraction(transpose(x)) -> contraction(x) with the input's map
/// permuted: the transpose's result dim i is its input's dim perm[i], so
/// input dim perm[i] is read at what the map gave for result dim i.
struct FoldTransposeIntoContraction : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp op, PatternRewriter &rewriter) const override {
    if (!isContraction(op) || !op.hasPureTensorSemantics())
      return failure();
    for (OpOperand *input : op.getDpsInputOperands()) {
      auto transpose = input->get().getDefiningOp<linalg::TransposeOp>();
      if (!transpose || !transpose.hasPureTensorSemantics())
        continue;
      ArrayRef<int64_t> perm = transpose.getPermutation();
      // Transposes that keep the innermost dim, on either operand: the GEMM
      // packs rows that stay contiguous a vector at a time. One that moves
      // the innermost dim only on B (attention's K^T), whose columns are
      // then contiguous and which the GEMM packs by 4 x 4 blocks transposed
      // in registers; A would be gathered one float at a time.
      bool keepsInnermost = !perm.empty() && perm.back() == int64_t(perm.size()) - 1;
      if (!keepsInnermost && input->getOperandNumber() != 1)
        continue;
      AffineMap map = op.getMatchingIndexingMap(input);
      SmallVector<AffineExpr> results(perm.size());
      for (auto [i, source] : llvm::enumerate(perm))
        results[source] = map.getResult(i);
      SmallVector<AffineMap> maps = op.getIndexingMapsArray();
      maps[input->getOperandNumber()] =
          AffineMap::get(map.getNumDims(), map.getNumSymbols(), results, op.getContext());
      rewriter.modifyOpInPlace(op, [&] {
        input->set(transpose.getInput());
        op.setIndexingMapsAttr(rewriter.getAffineMapArrayAttr(maps));
      });
      return success();
    }
    return failure();
  }
};

/// elementwise(tensor.reshape(C), ...) -> tensor.reshape(elementwise(C, ...))
/// where C is a linalg op's [M, N] result (a contraction, or an elementwise
/// op moved here before: the rest of the chain follows it) and the reshape
/// only splits its rows ([M, N] -> [d0, ..., N]: GPT-2's Conv1D with
/// symbolic batch and sequence, which cannot be an expand_shape with two `?`
/// dims in one group in MLIR 22). The op then runs over [M, N]: C's identity reads become
/// reads of C, other operands of the full shape are collapsed to [M, N],
/// and ones broadcast along N (a bias) or scalars keep their meaning.
struct ElementwiseBeforeRowSplit : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp op, PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics() || op.getNumReductionLoops() != 0 ||
        op.getNumDpsInits() != 1 || op->getNumResults() != 1 ||
        !op.getIndexingMapsArray().back().isIdentity() ||
        !op.getRegionOutputArgs().front().use_empty() ||
        !op.getBody()->getOps<linalg::IndexOp>().empty())
      return failure();
    auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
    const int64_t rank = resultType.getRank();
    if (rank < 3)
      return failure();
    tensor::ReshapeOp split;
    for (OpOperand *input : op.getDpsInputOperands()) {
      auto reshape = input->get().getDefiningOp<tensor::ReshapeOp>();
      auto sourceType = reshape ? cast<RankedTensorType>(reshape.getSource().getType()) : nullptr;
      if (reshape && reshape.getResult().getType() == resultType &&
          op.getMatchingIndexingMap(input).isIdentity() && sourceType.getRank() == 2 &&
          !sourceType.isDynamicDim(1) && !resultType.isDynamicDim(rank - 1) &&
          sourceType.getDimSize(1) == resultType.getDimSize(rank - 1) &&
          reshape.getSource().getDefiningOp<linalg::GenericOp>()) {
        split = reshape;
        break;
      }
    }
    if (!split)
      return failure();

    MLIRContext *ctx = op.getContext();
    Location loc = op.getLoc();
    Value gemm = split.getSource();
    auto flatType = cast<RankedTensorType>(gemm.getType());
    AffineMap identity = AffineMap::getMultiDimIdentityMap(2, ctx);
    SmallVector<ReassociationIndices> rows{llvm::to_vector(llvm::seq<int64_t>(0, rank - 1)),
                                           {rank - 1}};
    SmallVector<Value> inputs;
    SmallVector<AffineMap> maps;
    for (OpOperand *input : op.getDpsInputOperands()) {
      AffineMap map = op.getMatchingIndexingMap(input);
      Value value = input->get();
      if (map.isIdentity() && value.getType() == resultType) {
        inputs.push_back(value == split.getResult()
                             ? gemm
                             : (Value)tensor::CollapseShapeOp::create(rewriter, loc, value, rows));
        maps.push_back(identity);
      } else if (map.getNumResults() == 1 &&
                 map.getResult(0) == rewriter.getAffineDimExpr(rank - 1)) {
        inputs.push_back(value);
        maps.push_back(AffineMap::get(2, 0, {rewriter.getAffineDimExpr(1)}, ctx));
      } else if (map.getNumResults() == 0) {
        inputs.push_back(value);
        maps.push_back(AffineMap::get(2, 0, {}, ctx));
      } else {
        return failure();
      }
    }
    maps.push_back(identity);
    auto newType = RankedTensorType::get(flatType.getShape(), resultType.getElementType());
    // The row count from the producer's init, not its result: another use
    // of the result would keep it from fusing with this op.
    SmallVector<Value> dims;
    if (newType.isDynamicDim(0)) {
      auto producer = gemm.getDefiningOp<linalg::GenericOp>();
      Value init = producer.getDpsInitOperand(cast<OpResult>(gemm).getResultNumber())->get();
      dims.push_back(tensor::DimOp::create(rewriter, loc, init, 0));
    }
    Value init = tensor::EmptyOp::create(rewriter, loc, newType, dims);
    auto flat = linalg::GenericOp::create(
        rewriter, loc, TypeRange{newType}, inputs, ValueRange{init}, maps,
        SmallVector<utils::IteratorType>(2, utils::IteratorType::parallel));
    rewriter.inlineRegionBefore(op.getRegion(), flat.getRegion(), flat.getRegion().begin());
    rewriter.replaceOpWithNewOp<tensor::ReshapeOp>(op, resultType, flat.getResult(0),
                                                   split.getShape());
    return success();
  }
};

/// collapse_shape(tensor.reshape(x)) -> x where the reshape only split x's
/// rows and the collapse joins them again ([M, N] -> [d0, ..., N] -> [M, N]).
struct CollapseOfRowSplit : OpRewritePattern<tensor::CollapseShapeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tensor::CollapseShapeOp op,
                                PatternRewriter &rewriter) const override {
    auto reshape = op.getSrc().getDefiningOp<tensor::ReshapeOp>();
    if (!reshape || reshape.getSource().getType() != op.getResultType())
      return failure();
    auto flatType = op.getResultType();
    const int64_t rank = op.getSrcType().getRank();
    SmallVector<ReassociationIndices> groups = op.getReassociationIndices();
    if (flatType.getRank() != 2 || flatType.isDynamicDim(1) || groups.size() != 2 ||
        groups[1] != ReassociationIndices{rank - 1})
      return failure();
    rewriter.replaceOp(op, reshape.getSource());
    return success();
  }
};

/// expand_shape(G) -> G' where G is an index grid (a generic with no
/// inputs whose body computes each element from its loop indices) and G'
/// computes the same over the expanded shape: each of G's indices is its
/// group's expanded indices linearized. G is left to its other users (a
/// Range read both as [1, S] and as [1, 1, S, 1]); with none it is erased.
struct ExpandIndexGrid : OpRewritePattern<tensor::ExpandShapeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tensor::ExpandShapeOp op,
                                PatternRewriter &rewriter) const override {
    auto grid = op.getSrc().getDefiningOp<linalg::GenericOp>();
    if (!grid || !grid.hasPureTensorSemantics() || grid.getNumDpsInputs() != 0 ||
        grid->getNumResults() != 1 || grid.getNumReductionLoops() != 0 ||
        !grid.getIndexingMapsArray().front().isIdentity() ||
        !grid.getRegionOutputArgs().front().use_empty())
      return failure();
    Location loc = op.getLoc();
    RankedTensorType type = op.getResultType();
    SmallVector<OpFoldResult> sizes = op.getMixedOutputShape();
    Value init = tensor::EmptyOp::create(rewriter, loc, sizes, type.getElementType());
    const int64_t rank = type.getRank();
    auto expanded = linalg::GenericOp::create(
        rewriter, loc, TypeRange{type}, ValueRange{}, ValueRange{init},
        SmallVector<AffineMap>{rewriter.getMultiDimIdentityMap(rank)},
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel));
    Block *body = rewriter.createBlock(&expanded.getRegion(), {}, {type.getElementType()}, {loc});
    rewriter.setInsertionPointToStart(body);
    // Index of source dim g: the group's indices in row-major order; a
    // dim of extent 1 adds nothing.
    SmallVector<Value> sourceIndices;
    for (const ReassociationIndices &group : op.getReassociationIndices()) {
      Value index;
      for (int64_t dim : group) {
        if (type.getDimSize(dim) == 1)
          continue;
        Value loop = linalg::IndexOp::create(rewriter, loc, dim);
        if (!index) {
          index = loop;
          continue;
        }
        Value extent = getValueOrCreateConstantIndexOp(rewriter, loc, sizes[dim]);
        index = arith::AddIOp::create(
            rewriter, loc, arith::MulIOp::create(rewriter, loc, index, extent), loop);
      }
      sourceIndices.push_back(index ? index : arith::ConstantIndexOp::create(rewriter, loc, 0));
    }
    IRMapping mapping;
    for (Operation &inner : grid.getBody()->getOperations()) {
      if (auto index = dyn_cast<linalg::IndexOp>(inner))
        mapping.map(index.getResult(), sourceIndices[index.getDim()]);
      else
        rewriter.clone(inner, mapping);
    }
    rewriter.replaceOp(op, expanded.getResult(0));
    return success();
  }
};

/// Whether `value` is a contraction's result, or an elementwise op's that
/// reads one (within a few ops): what a GEMM epilogue can still absorb. A
/// Gemm node with its C input (TorchScript's GPT-2 Conv1D, addmm) adds its
/// bias on the [M, N] result before the view to [B, S, N].
bool comesFromContraction(Value value, unsigned depth = 0) {
  constexpr unsigned kMaxElementwiseOps = 4;
  auto producer = value.getDefiningOp<linalg::GenericOp>();
  if (!producer)
    return false;
  if (isContraction(producer))
    return true;
  if (depth == kMaxElementwiseOps || producer.getNumReductionLoops() != 0)
    return false;
  return llvm::any_of(producer.getDpsInputs(),
                      [&](Value input) { return comesFromContraction(input, depth + 1); });
}

/// Whether `fused` is an elementwise op's operand that views a
/// contraction's result (or an elementwise op on it) through a
/// tensor.expand_shape.
bool readsExpandedContraction(OpOperand *fused) {
  auto expand = fused->get().getDefiningOp<tensor::ExpandShapeOp>();
  auto consumer = dyn_cast<linalg::GenericOp>(fused->getOwner());
  return expand && consumer && !isContraction(consumer) &&
         consumer.getNumReductionLoops() == 0 && comesFromContraction(expand.getSrc());
}

/// Whether fusing `fused`'s producer into its consumer would compute each
/// element of the producer many times over for little saved: the consumer
/// reads it broadcast (some of the consumer's loops, not all of extent 1,
/// index nothing of it) and the producer does more than a few operations an
/// element (a gather's index arithmetic and loads). all-MiniLM-L6-v2's
/// mask, a GatherND of [B, 1, 1, S] read by a Where over [B, 1, S, S]: fused,
/// its gather ran S times for each element (21 us of 11.3 ms at S = 128).
bool recomputesCostlyBroadcast(OpOperand *fused) {
  constexpr size_t kCheapOps = 4;
  auto consumer = dyn_cast<linalg::GenericOp>(fused->getOwner());
  auto producer = fused->get().getDefiningOp<linalg::GenericOp>();
  if (!consumer || !producer)
    return false;
  // The body's operations but its yield and the loop indices it reads
  // (linalg.index computes nothing).
  size_t ops = llvm::count_if(producer.getBody()->without_terminator(),
                              [](Operation &op) { return !isa<linalg::IndexOp>(op); });
  if (ops <= kCheapOps)
    return false;
  AffineMap map = consumer.getMatchingIndexingMap(fused);
  SmallVector<int64_t> extents = consumer.getStaticLoopRanges();
  for (unsigned loop = 0; loop < map.getNumDims(); ++loop)
    if (!map.isFunctionOfDim(loop) && extents[loop] != 1)
      return true;
  return false;
}

struct FuseElementwisePass : mlir::kiln::impl::KilnFuseElementwiseBase<FuseElementwisePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldTransposeIntoContraction, ElementwiseBeforeRowSplit, CollapseOfRowSplit,
                 ExpandIndexGrid>(
        &getContext());
    kiln::fusion::populateUnitDimViewPatterns(patterns);
    linalg::populateFoldReshapeOpsByCollapsingPatterns(patterns, readsExpandedContraction);
    linalg::populateElementwiseOpsFusionPatterns(patterns, [](OpOperand *fused) {
      Operation *producer = fused->get().getDefiningOp();
      return producer && producer->hasOneUse() && !isContraction(fused->getOwner()) &&
             !recomputesCostlyBroadcast(fused);
    });
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
