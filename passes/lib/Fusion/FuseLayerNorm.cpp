//===- FuseLayerNorm.cpp - A layer norm spelled out in graph ops, as one op -===//
//
// ONNX has LayerNormalization only from opset 17, so exporters targeting
// an older opset (torch.onnx.export's TorchScript path, tf2onnx) write it
// out: ReduceMean, Sub, Pow (or Mul), ReduceMean, Add epsilon, Sqrt, Div,
// then Mul by the scale and Add of the bias. As graph ops that is two
// reductions and a few elementwise loops (on the GPU, five or six kernels
// where kiln.layer_norm is one; on the CPU, loops where the runtime's row
// layer norm is one call). This pass recognizes the chain and puts one
// kiln.layer_norm in its place, as onnxruntime's LayerNormFusion does,
// before kiln-layer-norm-to-ukernel looks for layer norms.
//
// kiln.layer_norm computes what the chain computes, in the same order
// (mean, deviations, mean of their squares, plus epsilon, square root,
// quotient, times scale, plus bias): each is a chain of the same roundings
// that differs only where the lowering sums in another order. A chain
// whose intermediate values something else reads too is left as it is:
// fusing it would compute them twice.
//
//===----------------------------------------------------------------------===//

#include "../Lowering/LoweringUtils.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNFUSELAYERNORM
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// The first of the trailing axes [first, rank) that `mean` averages over
/// with its dims kept; nullopt for any other set of axes. (The verifier
/// keeps axes sorted, unique and within the rank.)
std::optional<int64_t> trailingAxesFrom(ReduceMeanOp mean) {
  int64_t rank = cast<RankedTensorType>(mean.getInput().getType()).getRank();
  ArrayRef<int64_t> axes = mean.getAxes();
  if (!mean.getKeepdims() || axes.empty() || axes.back() != rank - 1 ||
      axes.front() != rank - int64_t(axes.size()))
    return std::nullopt;
  return axes.front();
}

/// The element types kiln.layer_norm's epsilon (an f32) represents as the
/// graph's constant did.
bool hasNormalizableElements(Type type) {
  return isa<Float32Type, Float16Type, BFloat16Type>(getElementTypeOrSelf(type));
}

/// The op computing `centered` squared: Pow(centered, 2) or
/// Mul(centered, centered), of centered's type; null otherwise.
Operation *squaring(Value squares, Value centered) {
  if (squares.getType() != centered.getType())
    return nullptr;
  if (auto pow = squares.getDefiningOp<PowOp>()) {
    std::optional<double> exponent = lowering::splatFloatOf(pow.getRhs());
    return pow.getLhs() == centered && exponent == 2.0 ? pow : nullptr;
  }
  auto mul = squares.getDefiningOp<MulOp>();
  return mul && mul.getLhs() == centered && mul.getRhs() == centered ? mul : nullptr;
}

/// (x - mean(x)) / sqrt(mean((x - mean(x))^2) + epsilon), both means over
/// the same trailing axes, → kiln.layer_norm of x with a scale of ones and
/// no bias (the patterns below fold those in).
struct DecomposedLayerNorm : OpRewritePattern<DivOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(DivOp div, PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(div.getType());
    auto centered = div.getLhs().getDefiningOp<SubOp>();
    auto root = div.getRhs().getDefiningOp<SqrtOp>();
    if (!hasNormalizableElements(type) || !centered || !root || centered.getType() != type)
      return rewriter.notifyMatchFailure(div, "not a quotient of deviations by a square root");
    Value x = centered.getLhs();
    auto mean = centered.getRhs().getDefiningOp<ReduceMeanOp>();
    std::optional<int64_t> axis = mean ? trailingAxesFrom(mean) : std::nullopt;
    if (x.getType() != type || !axis || mean.getInput() != x ||
        !lowering::onlyFeeds(mean, centered))
      return rewriter.notifyMatchFailure(div, "not x minus its mean over trailing axes");
    auto shifted = root.getOperand().getDefiningOp<AddOp>();
    if (!shifted || !lowering::onlyFeeds(shifted, root) || !lowering::onlyFeeds(root, div))
      return rewriter.notifyMatchFailure(div, "not the square root of a sum");
    // The variance plus epsilon, in either order; epsilon may be any splat
    // constant that does not widen the variance's type.
    Value variance;
    std::optional<double> epsilon;
    for (auto [v, e] : {std::pair{shifted.getLhs(), shifted.getRhs()},
                        std::pair{shifted.getRhs(), shifted.getLhs()}})
      if (!variance && v.getType() == shifted.getType())
        if ((epsilon = lowering::splatFloatOf(e)))
          variance = v;
    auto varianceMean = variance ? variance.getDefiningOp<ReduceMeanOp>() : nullptr;
    if (!varianceMean || !lowering::onlyFeeds(variance, shifted) ||
        trailingAxesFrom(varianceMean) != axis)
      return rewriter.notifyMatchFailure(div, "not a mean over the same axes plus a constant");
    Operation *square = squaring(varianceMean.getInput(), centered);
    if (!square || !lowering::onlyFeeds(varianceMean.getInput(), varianceMean) ||
        !llvm::all_of(centered->getUsers(),
                      [&](Operation *user) { return user == square || user == div; }))
      return rewriter.notifyMatchFailure(div, "not the mean of the deviations squared");

    // A scale of ones of the normalized dims' shape (one value when any of
    // them is known only at run time); a scale folded in later replaces it.
    ArrayRef<int64_t> normalized = type.getShape().drop_front(*axis);
    Type element = type.getElementType();
    auto onesType = ShapedType::isDynamicShape(normalized)
                        ? RankedTensorType::get({}, element)
                        : RankedTensorType::get(normalized, element);
    Value ones = ConstantOp::create(
        rewriter, mean.getLoc(),
        DenseElementsAttr::get(onesType, rewriter.getFloatAttr(element, 1.0)));
    Location loc = rewriter.getFusedLoc({mean.getLoc(), centered.getLoc(), square->getLoc(),
                                         varianceMean.getLoc(), shifted.getLoc(), root.getLoc(),
                                         div.getLoc()});
    Value norm = LayerNormOp::create(rewriter, loc, type, x, ones, /*bias=*/Value(),
                                     rewriter.getI64IntegerAttr(*axis),
                                     rewriter.getF32FloatAttr(float(*epsilon)));
    rewriter.replaceOp(div, norm);
    return success();
  }
};

/// Whether `param` can be a scale or bias of `norm` as it is of the
/// elementwise op after it: of the element type and a static shape that
/// broadcasts to the normalized dims (each of its dims 1 or theirs), so
/// the op after it did not broadcast the layer norm's result any further.
bool isNormalizedParameter(Value param, LayerNormOp norm) {
  auto type = cast<RankedTensorType>(param.getType());
  auto input = cast<RankedTensorType>(norm.getType());
  ArrayRef<int64_t> normalized = input.getShape().drop_front(norm.getAxis());
  if (type.getElementType() != input.getElementType() || !type.hasStaticShape() ||
      type.getRank() > int64_t(normalized.size()))
    return false;
  ArrayRef<int64_t> aligned = normalized.take_back(type.getRank());
  return llvm::all_of(llvm::zip(type.getShape(), aligned), [](auto dims) {
    auto [dim, normalizedDim] = dims;
    return dim == 1 || dim == normalizedDim;
  });
}

/// Whether `value` is a constant of ones.
bool isOnes(Value value) { return lowering::splatFloatOf(value) == 1.0; }

/// The layer norm that `operand` is and the other operand of `op`, when
/// `op` is all that reads it and leaves its type as it is.
template <typename BinaryOp>
std::optional<std::pair<LayerNormOp, Value>> layerNormOperand(BinaryOp op) {
  for (auto [a, other] :
       {std::pair{op.getLhs(), op.getRhs()}, std::pair{op.getRhs(), op.getLhs()}}) {
    auto norm = a.template getDefiningOp<LayerNormOp>();
    if (norm && lowering::onlyFeeds(norm, op) && norm.getType() == op.getType() &&
        isNormalizedParameter(other, norm))
      return std::pair{norm, other};
  }
  return std::nullopt;
}

/// layer_norm(x, ones) * scale → layer_norm(x, scale).
struct FoldScale : OpRewritePattern<MulOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MulOp mul, PatternRewriter &rewriter) const override {
    auto operands = layerNormOperand(mul);
    if (!operands || operands->first.getBias() || !isOnes(operands->first.getScale()))
      return rewriter.notifyMatchFailure(mul, "not a layer norm without scale times a scale");
    auto [norm, scale] = *operands;
    Location loc = rewriter.getFusedLoc({norm.getLoc(), mul.getLoc()});
    Value scaled = LayerNormOp::create(rewriter, loc, norm.getType(), norm.getInput(), scale,
                                       /*bias=*/Value(), norm.getAxisAttr(), norm.getEpsilonAttr());
    rewriter.replaceOp(mul, scaled);
    return success();
  }
};

/// layer_norm(x, scale) + bias → layer_norm(x, scale, bias).
struct FoldBias : OpRewritePattern<AddOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AddOp add, PatternRewriter &rewriter) const override {
    auto operands = layerNormOperand(add);
    if (!operands || operands->first.getBias())
      return rewriter.notifyMatchFailure(add, "not a layer norm without bias plus a bias");
    auto [norm, bias] = *operands;
    Location loc = rewriter.getFusedLoc({norm.getLoc(), add.getLoc()});
    Value shifted = LayerNormOp::create(rewriter, loc, norm.getType(), norm.getInput(),
                                        norm.getScale(), bias, norm.getAxisAttr(),
                                        norm.getEpsilonAttr());
    rewriter.replaceOp(add, shifted);
    return success();
  }
};

struct FuseLayerNormPass : mlir::kiln::impl::KilnFuseLayerNormBase<FuseLayerNormPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<DecomposedLayerNorm, FoldScale, FoldBias>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
