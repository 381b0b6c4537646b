//===- ConvToLinalg.cpp - conv to linalg ----------------------------------===//
//
// kiln.conv (ONNX Conv, and ConvInteger widened to i32) lowers one of two
// ways, for any number of spatial dims, static or symbolic:
//
// - A GEMM a group over patches of the zero-padded input (im2col), so that
//   it runs on the runtime's GEMM (its weight packed at compile time where
//   ungrouped, like any MatMul's): ungrouped convolutions (ViT's patch
//   embedding, speech front ends) and grouped ones with 8 or more output
//   channels a group.
// - One linalg.generic that sums over each window of the padded input
//   directly: grouped convolutions with fewer output channels a group
//   (depthwise: one), whose GEMMs would be too narrow to pay for the
//   patches' copy.
//
// Symbolic spatial dims size the output at run time, after a check that
// fails the run, naming the node, where the kernel does not fit. Symbolic
// input channels and bias lengths are the ones the weight implies, checked
// when the model runs (for kiln.conv_transpose too): the operands are cast
// to them first.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"
#include "RuntimeCalls.h"
#include "kiln/Dialect/Kiln/KilnOps.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::lowering;

namespace {

/// The input zero-padded by the conv's pads (none: the input itself).
Value padInput(OpBuilder &b, ConvOp op) {
  Location loc = op.getLoc();
  Value input = op.getInput();
  ArrayRef<int64_t> pads = op.getPads();
  if (llvm::all_of(pads, [](int64_t p) { return p == 0; }))
    return input;
  int64_t spatial = pads.size() / 2;
  SmallVector<OpFoldResult> low(2, b.getIndexAttr(0)), high(2, b.getIndexAttr(0));
  for (int64_t i = 0; i < spatial; ++i) {
    low.push_back(b.getIndexAttr(pads[i]));
    high.push_back(b.getIndexAttr(pads[spatial + i]));
  }
  Type element = cast<RankedTensorType>(input.getType()).getElementType();
  return tensor::PadOp::create(b, loc, Type(), input, low, high,
                               scalarConstant(b, loc, element, 0));
}

/// The dims first, ..., first + count - 1.
ReassociationIndices dimRun(int64_t first, int64_t count) {
  return llvm::to_vector(llvm::seq<int64_t>(first, first + count));
}

/// Reassociation groups that merge dims first, ..., first + count - 1 (of
/// a shape of rank `rank`) and keep every other dim on its own.
SmallVector<ReassociationIndices> mergeRun(int64_t first, int64_t count, int64_t rank) {
  SmallVector<ReassociationIndices> groups;
  for (int64_t d = 0; d < first; ++d)
    groups.push_back({d});
  groups.push_back(dimRun(first, count));
  for (int64_t d = first + count; d < rank; ++d)
    groups.push_back({d});
  return groups;
}

/// The output's spatial sizes (index values, constants where static): a
/// symbolic one is (in + pads - extent) floordiv stride + 1, after a check
/// that fails the run, naming the node, where the kernel (`extent` wide
/// with its dilation) is wider than the padded input (onnxruntime fails
/// too).
SmallVector<Value> outputSizes(OpBuilder &b, ConvOp op) {
  Location loc = op.getLoc();
  IndexMath m{b, loc};
  auto resultType = cast<RankedTensorType>(op.getType());
  auto wt = cast<RankedTensorType>(op.getWeight().getType());
  ArrayRef<int64_t> strides = op.getStrides(), dilations = op.getDilations(),
                    pads = op.getPads();
  int64_t spatial = strides.size();
  SmallVector<Value> sizes;
  for (int64_t i = 0; i < spatial; ++i) {
    if (!resultType.isDynamicDim(2 + i)) {
      sizes.push_back(m.c(resultType.getDimSize(2 + i)));
      continue;
    }
    int64_t extent = dilations[i] * (wt.getDimSize(2 + i) - 1) + 1;
    Value span = m.sub(m.add(m.dim(op.getInput(), 2 + i), m.c(pads[i] + pads[spatial + i])),
                       m.c(extent));
    emitRuntimeCheck(b, loc, m.cmp(arith::CmpIPredicate::slt, span, m.c(0)),
                     describeNode(loc, "Conv") + ": the kernel (" + std::to_string(extent) +
                         " wide with its dilation) is wider than the padded input in dim " +
                         std::to_string(2 + i));
    sizes.push_back(m.add(m.floorDiv(m.max(span, m.c(0)), m.c(strides[i])), m.c(1)));
  }
  return sizes;
}

/// Whether the weight's shape and the input's channels are static: both
/// lowerings need them (a weight is a constant in exported models).
bool hasStaticChannelsAndKernel(ConvOp op) {
  return cast<RankedTensorType>(op.getWeight().getType()).hasStaticShape() &&
         !cast<RankedTensorType>(op.getInput().getType()).isDynamicDim(1);
}

/// The values of `sizes` where `shape` is dynamic, in order: a
/// tensor.empty's operands.
SmallVector<Value> dynamicOf(ArrayRef<int64_t> shape, ArrayRef<Value> sizes) {
  SmallVector<Value> dynamic;
  for (auto [dim, size] : llvm::zip_equal(shape, sizes))
    if (ShapedType::isDynamic(dim))
      dynamic.push_back(size);
  return dynamic;
}

/// Whether a group's GEMM is worth its patches: its `filters` (output
/// channels a group) and reduction depth (input channels a group times the
/// kernel's elements) fill at least part of a micro-kernel's tile. A
/// depthwise convolution (one channel a group) sums each window directly.
bool groupGemmPays(int64_t filters, int64_t depth) { return filters >= 8 && depth >= 8; }

/// The input channels and bias length a static weight implies, as ONNX
/// requires (ORT fails on other channels, and reads past a short bias):
/// Conv's weight is [M, C / group, k...], ConvTranspose's [C, M / group, k...].
int64_t inputChannels(ConvOp op, RankedTensorType w) { return op.getGroup() * w.getDimSize(1); }
int64_t inputChannels(ConvTransposeOp, RankedTensorType w) { return w.getDimSize(0); }
int64_t outputChannels(ConvOp, RankedTensorType w) { return w.getDimSize(0); }
int64_t outputChannels(ConvTransposeOp op, RankedTensorType w) {
  return op.getGroup() * w.getDimSize(1);
}

/// `?` input channels and bias length are the ones the weight implies:
/// checked when the model runs, then the operands are cast to them, so that
/// the lowerings see static sizes.
template <typename OpTy>
struct SizesFromWeight : OpRewritePattern<OpTy> {
  SizesFromWeight(MLIRContext *ctx) : OpRewritePattern<OpTy>(ctx, /*benefit=*/3) {}

  LogicalResult matchAndRewrite(OpTy op, PatternRewriter &rewriter) const override {
    auto xt = cast<RankedTensorType>(op.getInput().getType());
    auto wt = cast<RankedTensorType>(op.getWeight().getType());
    Value bias = op.getBias();
    bool dynamicBias = bias && cast<RankedTensorType>(bias.getType()).isDynamicDim(0);
    if (wt.isDynamicDim(0) || wt.isDynamicDim(1) || (!xt.isDynamicDim(1) && !dynamicBias))
      return rewriter.notifyMatchFailure(op, "sizes static, or the weight's symbolic");
    Location loc = op.getLoc();
    IndexMath m{rewriter, loc};
    StringRef opType = std::is_same_v<OpTy, ConvOp> ? "Conv" : "ConvTranspose";
    // Fails the run unless dim `d` of `v` is `size`, then casts `v` to it.
    auto fix = [&](Value v, int64_t d, int64_t size, StringRef what) -> Value {
      emitRuntimeCheck(rewriter, loc, m.cmp(arith::CmpIPredicate::ne, m.dim(v, d), m.c(size)),
                       describeNode(loc, opType) + ": " + what.str() + " " +
                           std::to_string(size) + " at run time, as the weight implies");
      auto type = cast<RankedTensorType>(v.getType());
      SmallVector<int64_t> shape(type.getShape());
      shape[d] = size;
      return tensor::CastOp::create(rewriter, loc, type.clone(shape), v);
    };
    Value input = op.getInput();
    if (xt.isDynamicDim(1))
      input = fix(input, 1, inputChannels(op, wt), "the input's channels (dim 1) are not");
    if (dynamicBias)
      bias = fix(bias, 0, outputChannels(op, wt), "the bias's length is not");
    rewriter.modifyOpInPlace(op, [&] {
      op.getInputMutable().assign(input);
      if (bias)
        op.getBiasMutable().assign(bias);
    });
    return success();
  }
};

/// A convolution with static channels and kernel as a GEMM a group over
/// patches (im2col):
///
///   patches[n, g, o..., c, k...] = X[n, g * C + c, o * stride + k * dilation ...]
///   product[n, g, p, m] = sum_q patches[n, g, p, q] * W[g, m, q] (+ bias[g, m])
///   Y[n, g * M + m, o...] = product[n, g, p, m]
///
/// with p = (o...) and q = (c, k...) collapsed, C input and M output
/// channels a group. Ungrouped, the g dims are left out, so the product is
/// [n, p, f] with W the GEMM's B read through a (n, k) map, as Gemm's
/// transB is: kiln-pack-gemm-weights packs a constant W, and the bias is a
/// per-column add that kiln-prepare-gemm-epilogues folds into the GEMM.
/// Grouped, g is a batch loop of the runtime's GEMM that A and B both move
/// with. The patches cost one copy of the input per kernel position that
/// overlaps (none for ViT's patch embedding, whose kernel equals its
/// stride); the product is transposed once into NCHW. Symbolic output
/// positions are not collapsed into p: they stay the GEMM's rows, the outer
/// ones batch loops of the runtime's GEMM.
struct ConvAsGemm : OpRewritePattern<ConvOp> {
  ConvAsGemm(MLIRContext *ctx) : OpRewritePattern(ctx, /*benefit=*/2) {}

  LogicalResult matchAndRewrite(ConvOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    IndexMath m{rewriter, loc};
    auto xt = cast<RankedTensorType>(op.getInput().getType());
    auto wt = cast<RankedTensorType>(op.getWeight().getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t rank = xt.getRank(), spatial = rank - 2, group = op.getGroup();
    if (!hasStaticChannelsAndKernel(op))
      return rewriter.notifyMatchFailure(op, "symbolic channels or kernel");
    const int64_t perGroupIn = wt.getDimSize(1), perGroupOut = wt.getDimSize(0) / group;
    ArrayRef<int64_t> kernel = wt.getShape().drop_front(2);
    const int64_t depth = perGroupIn * ShapedType::getNumElements(kernel);
    const bool grouped = group != 1;
    if (grouped && !groupGemmPays(perGroupOut, depth))
      return rewriter.notifyMatchFailure(op, "few channels a group: a direct convolution");
    Type element = xt.getElementType();
    ArrayRef<int64_t> strides = op.getStrides(), dilations = op.getDilations();
    auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };

    // The leading dims: n, and g where grouped.
    SmallVector<int64_t> leadShape{resultType.getDimSize(0)};
    SmallVector<Value> leadSizes{m.dim(op.getInput(), 0)};
    if (grouped) {
      leadShape.push_back(group);
      leadSizes.push_back(m.c(group));
    }
    const int64_t lead = leadShape.size();
    SmallVector<Value> outSizes = outputSizes(rewriter, op);
    ArrayRef<int64_t> outShape = resultType.getShape().drop_front(2);
    // The GEMM's rows: the output positions, collapsed to one dim where
    // static. Symbolic ones stay apart (the runtime's GEMM takes the outer
    // ones as batch loops): MLIR 22's expand-strided-metadata crashes on
    // the memref.expand_shape that would split p into several `?` dims.
    const bool flatRows = !ShapedType::isDynamicShape(outShape);
    SmallVector<int64_t> rowShape(outShape);
    SmallVector<Value> rowSizes(outSizes);
    if (flatRows) {
      rowShape.assign({ShapedType::getNumElements(outShape)});
      rowSizes.assign({m.c(rowShape[0])});
    }
    const int64_t rows = rowShape.size();
    auto withRows = [&](ArrayRef<int64_t> before, ArrayRef<int64_t> after) {
      SmallVector<int64_t> shape(before);
      llvm::append_range(shape, rowShape);
      llvm::append_range(shape, after);
      return shape;
    };
    auto sizesWithRows = [&](ArrayRef<Value> before, ArrayRef<Value> after) {
      SmallVector<Value> sizes(before);
      llvm::append_range(sizes, rowSizes);
      llvm::append_range(sizes, after);
      return sizes;
    };
    auto typed = [&](ArrayRef<int64_t> tail, ArrayRef<Value> tailSizes, Value &empty) {
      SmallVector<int64_t> shape(leadShape);
      llvm::append_range(shape, tail);
      SmallVector<Value> sizes(leadSizes);
      llvm::append_range(sizes, tailSizes);
      auto type = RankedTensorType::get(shape, element);
      empty = emptyWithDims(rewriter, loc, type, dynamicOf(shape, sizes));
      return type;
    };

    // Loops: lead..., o..., c, k...
    SmallVector<int64_t> patchTail(outShape);
    patchTail.push_back(perGroupIn);
    llvm::append_range(patchTail, kernel);
    SmallVector<Value> patchTailSizes(outSizes);
    for (int64_t size : ArrayRef<int64_t>(patchTail).drop_front(spatial))
      patchTailSizes.push_back(m.c(size));
    Value patchesInit;
    RankedTensorType patchesType = typed(patchTail, patchTailSizes, patchesInit);
    const int64_t patchLoops = patchesType.getRank(), channelLoop = lead + spatial;
    AffineExpr channel = grouped ? d(1) * perGroupIn + d(channelLoop) : d(channelLoop);
    SmallVector<AffineExpr> window{d(0), channel};
    for (int64_t i = 0; i < spatial; ++i)
      window.push_back(d(lead + i) * strides[i] + d(channelLoop + 1 + i) * dilations[i]);
    Value patches =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{patchesType}, ValueRange{padInput(rewriter, op)},
            ValueRange{patchesInit},
            SmallVector<AffineMap>{AffineMap::get(patchLoops, 0, window, ctx),
                                   rewriter.getMultiDimIdentityMap(patchLoops)},
            parallelIterators(patchLoops),
            [](OpBuilder &b, Location l, ValueRange a) { linalg::YieldOp::create(b, l, a[0]); })
            .getResult(0);
    SmallVector<ReassociationIndices> toRows =
        flatRows ? mergeRun(lead, spatial, patchLoops) : mergeRun(0, 1, patchLoops);
    toRows.truncate(lead + rows);
    toRows.push_back(dimRun(channelLoop, 1 + spatial));
    Value lhs = tensor::CollapseShapeOp::create(
        rewriter, loc, RankedTensorType::get(withRows(leadShape, {depth}), element), patches,
        toRows);

    // The weight as [g, m, q] ([f, q] ungrouped).
    Value rhs = op.getWeight();
    if (grouped) {
      SmallVector<int64_t> split{group, perGroupOut};
      llvm::append_range(split, wt.getShape().drop_front());
      rhs = tensor::ExpandShapeOp::create(rewriter, loc, RankedTensorType::get(split, element),
                                          rhs, mergeRun(0, 2, rank + 1));
    }
    SmallVector<int64_t> rhsShape;
    if (grouped)
      rhsShape.push_back(group);
    rhsShape.append({perGroupOut, depth});
    rhs = tensor::CollapseShapeOp::create(rewriter, loc, RankedTensorType::get(rhsShape, element),
                                          rhs, mergeRun(rhsShape.size() - 1, 1 + spatial,
                                                        rhsShape.size() + spatial));

    // Loops lead..., rows..., m, q.
    Value productInit;
    RankedTensorType productType =
        typed(withRows({}, {perGroupOut}), sizesWithRows({}, {m.c(perGroupOut)}), productInit);
    const int64_t filterLoop = lead + rows, depthLoop = filterLoop + 1, loops = depthLoop + 1;
    SmallVector<AffineExpr> rowExprs;
    for (int64_t i = 0; i < lead + rows; ++i)
      rowExprs.push_back(d(i));
    auto withRowLoops = [&](AffineExpr last) {
      SmallVector<AffineExpr> exprs(rowExprs);
      exprs.push_back(last);
      return AffineMap::get(loops, 0, exprs, ctx);
    };
    SmallVector<AffineExpr> rhsExprs;
    if (grouped)
      rhsExprs.push_back(d(1));
    rhsExprs.append({d(filterLoop), d(depthLoop)});
    SmallVector<utils::IteratorType> iterators = parallelIterators(loops - 1);
    iterators.push_back(utils::IteratorType::reduction);
    Value zero = scalarConstant(rewriter, loc, element, 0);
    Value product =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{productType}, ValueRange{lhs, rhs},
            ValueRange{linalg::FillOp::create(rewriter, loc, zero, productInit).getResult(0)},
            SmallVector<AffineMap>{withRowLoops(d(depthLoop)),
                                   AffineMap::get(loops, 0, rhsExprs, ctx),
                                   withRowLoops(d(filterLoop))},
            iterators,
            [](OpBuilder &b, Location l, ValueRange a) {
              linalg::YieldOp::create(b, l, multiplyAdd(b, l, a[0], a[1], a[2]));
            })
            .getResult(0);
    if (Value bias = op.getBias()) {
      SmallVector<AffineExpr> biasExprs;
      if (grouped) {
        bias = tensor::ExpandShapeOp::create(
            rewriter, loc, RankedTensorType::get({group, perGroupOut}, element), bias,
            SmallVector<ReassociationIndices>{{0, 1}});
        biasExprs.push_back(d(1));
      }
      int64_t productRank = productType.getRank();
      biasExprs.push_back(d(productRank - 1));
      AffineMap id = rewriter.getMultiDimIdentityMap(productRank);
      Value biasInit;
      (void)typed(withRows({}, {perGroupOut}), sizesWithRows({}, {m.c(perGroupOut)}), biasInit);
      product = linalg::GenericOp::create(
                    rewriter, loc, TypeRange{productType}, ValueRange{product, bias},
                    ValueRange{biasInit},
                    SmallVector<AffineMap>{id, AffineMap::get(productRank, 0, biasExprs, ctx),
                                           id},
                    parallelIterators(productRank),
                    [](OpBuilder &b, Location l, ValueRange a) {
                      Value sum = isa<FloatType>(a[0].getType())
                                      ? (Value)arith::AddFOp::create(b, l, a[0], a[1])
                                      : (Value)arith::AddIOp::create(b, l, a[0], a[1]);
                      linalg::YieldOp::create(b, l, sum);
                    })
                    .getResult(0);
    }

    // [lead..., rows..., m] -> [lead..., m, rows...] -> [n, f, rows...]
    // -> [n, f, o...] (rows flat).
    Value flatInit;
    (void)typed(withRows({perGroupOut}, {}), sizesWithRows({m.c(perGroupOut)}, {}), flatInit);
    SmallVector<int64_t> permutation = llvm::to_vector(llvm::seq<int64_t>(0, lead));
    permutation.push_back(lead + rows);
    llvm::append_range(permutation, llvm::seq<int64_t>(lead, lead + rows));
    Value flat =
        linalg::TransposeOp::create(rewriter, loc, product, flatInit, permutation).getResult()[0];
    if (grouped)
      flat = tensor::CollapseShapeOp::create(
          rewriter, loc,
          RankedTensorType::get(
              withRows({resultType.getDimSize(0), resultType.getDimSize(1)}, {}), element),
          flat, mergeRun(1, 2, 3 + rows));
    if (!flatRows || spatial == 1) {
      rewriter.replaceOp(op, flat);
      return success();
    }
    SmallVector<OpFoldResult> resultSizes{getAsOpFoldResult(leadSizes[0]),
                                          rewriter.getIndexAttr(resultType.getDimSize(1))};
    for (Value size : outSizes)
      resultSizes.push_back(getAsOpFoldResult(size));
    rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(op, resultType, flat,
                                                       mergeRun(2, spatial, rank), resultSizes);
    return success();
  }
};

/// Any convolution with static channels and kernel, as one linalg.generic
/// over the groups' output channels split from their group:
///
///   Y[n, g, m, o...] = bias[g * M + m]
///       + sum over c, k... of X[n, g * C + c, o * stride + k * dilation ...]
///                             * W[g, m, c, k...]
///
/// (X zero-padded; C input and M output channels a group), collapsed to
/// [n, g * M + m, o...]. Loops n, g, m, o... are the result's dims and c,
/// k... the weight's, so linalg sizes every loop from an operand; the last
/// o is the innermost loop (below).
struct ConvToGeneric : OpRewritePattern<ConvOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ConvOp op, PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    IndexMath m{rewriter, loc};
    auto xt = cast<RankedTensorType>(op.getInput().getType());
    auto wt = cast<RankedTensorType>(op.getWeight().getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t rank = xt.getRank(), spatial = rank - 2;
    if (!hasStaticChannelsAndKernel(op))
      return rewriter.notifyMatchFailure(op, "symbolic channels or kernel");
    Type element = xt.getElementType();
    int64_t group = op.getGroup(), perGroupIn = wt.getDimSize(1),
            perGroupOut = wt.getDimSize(0) / group;
    ArrayRef<int64_t> strides = op.getStrides(), dilations = op.getDilations();
    SmallVector<Value> sizes{m.dim(op.getInput(), 0), m.c(group), m.c(perGroupOut)};
    llvm::append_range(sizes, outputSizes(rewriter, op));
    SmallVector<int64_t> groupedShape{resultType.getDimSize(0), group, perGroupOut};
    llvm::append_range(groupedShape, resultType.getShape().drop_front(2));
    auto groupedType = RankedTensorType::get(groupedShape, element);
    SmallVector<Value> dynamicDims = dynamicOf(groupedShape, sizes);

    // Loops: n, g, m, o... but the last (parallel), c, k... (reduction),
    // the last o (parallel). With the last output dim innermost, the CPU's
    // inner loop runs along a row of the input and vectorizes, and that row
    // of sums stays in cache over the window. Measured against the sums
    // innermost (a window's few elements a loop, not vectorized), 1
    // thread, Zen 5: a 3x3 depthwise conv the same, 7x7 depthwise 6x
    // faster, ResNeXt's 4 channels a group 2.5x.
    const int64_t outer = 2 + spatial, channelLoop = outer, loops = 4 + 2 * spatial;
    auto d = [&](int64_t i) { return getAffineDimExpr(i, ctx); };
    auto kernelLoop = [&](int64_t i) { return channelLoop + 1 + i; };
    auto outLoop = [&](int64_t i) { return i + 1 < spatial ? 3 + i : loops - 1; };
    SmallVector<AffineExpr> inputExprs{d(0), d(1) * perGroupIn + d(channelLoop)};
    SmallVector<AffineExpr> weightExprs{d(1), d(2), d(channelLoop)}, outExprs{d(0), d(1), d(2)};
    for (int64_t i = 0; i < spatial; ++i) {
      inputExprs.push_back(d(outLoop(i)) * strides[i] + d(kernelLoop(i)) * dilations[i]);
      weightExprs.push_back(d(kernelLoop(i)));
      outExprs.push_back(d(outLoop(i)));
    }
    SmallVector<utils::IteratorType> iterators = parallelIterators(outer);
    iterators.append(1 + spatial, utils::IteratorType::reduction);
    iterators.push_back(utils::IteratorType::parallel);
    const int64_t parallel = rank + 1;

    SmallVector<int64_t> weightShape{group, perGroupOut};
    llvm::append_range(weightShape, wt.getShape().drop_front());
    Value weight = tensor::ExpandShapeOp::create(
        rewriter, loc, RankedTensorType::get(weightShape, element), op.getWeight(),
        mergeRun(0, 2, rank + 1));

    // The accumulator starts as the bias (broadcast) or zero.
    Value init;
    if (Value bias = op.getBias()) {
      Value grouped = tensor::ExpandShapeOp::create(
          rewriter, loc, RankedTensorType::get({group, perGroupOut}, element), bias,
          SmallVector<ReassociationIndices>{{0, 1}});
      AffineMap channel = AffineMap::get(parallel, 0, {d(1), d(2)}, ctx);
      init =
          linalg::GenericOp::create(
              rewriter, loc, TypeRange{groupedType}, ValueRange{grouped},
              ValueRange{emptyWithDims(rewriter, loc, groupedType, dynamicDims)},
              SmallVector<AffineMap>{channel, rewriter.getMultiDimIdentityMap(parallel)},
              parallelIterators(parallel),
              [](OpBuilder &b, Location l, ValueRange a) { linalg::YieldOp::create(b, l, a[0]); })
              .getResult(0);
    } else {
      init = zeroFilled(rewriter, loc, groupedType, dynamicDims);
    }

    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{groupedType}, ValueRange{padInput(rewriter, op), weight},
        ValueRange{init},
        SmallVector<AffineMap>{AffineMap::get(loops, 0, inputExprs, ctx),
                               AffineMap::get(loops, 0, weightExprs, ctx),
                               AffineMap::get(loops, 0, outExprs, ctx)},
        iterators, [](OpBuilder &b, Location l, ValueRange a) {
          linalg::YieldOp::create(b, l, multiplyAdd(b, l, a[0], a[1], a[2]));
        });
    rewriter.replaceOpWithNewOp<tensor::CollapseShapeOp>(op, resultType, generic.getResult(0),
                                                         mergeRun(1, 2, rank + 1));
    return success();
  }
};

} // namespace

void mlir::kiln::lowering::populateConvLoweringPatterns(RewritePatternSet &patterns) {
  // ConvTranspose's sizes too (its own lowering needs them static).
  patterns.add<SizesFromWeight<ConvOp>, SizesFromWeight<ConvTransposeOp>>(patterns.getContext());
  patterns.add<ConvAsGemm, ConvToGeneric>(patterns.getContext());
}
