//===- FoldIntegerMatMuls.cpp - Pre-quantized MatMuls to int8 GEMMs -------===//
//
// A model quantized before Kiln sees it (onnxruntime's quantize_dynamic or
// quantize_static) spells its int8 Linear layers out in ONNX ops, which the
// importer keeps literal (QuantizationOps.cpp). The two spellings become a
// kiln.qgemm with its A pre-quantized (ui8, one scale and zero point for the
// whole tensor) and B packed here, once:
//
//   QOperator: f32(MatMulInteger(A, W, za, 0)) * (sa * sw) [+ bias]
//     = float(sum (A - za) * W) * (sa * sw[j]) [+ bias]     kiln.qgemm exactly
//   QDQ: MatMul(DQ(A, sa, za), DQ(W, sw, 0)) [+ bias], or a Gemm of them
//     = the same sum, rounded once where fp32 rounds every product and
//       partial sum (as onnxruntime, whose QDQ fusions compute it in int32
//       too): the same quantized values, the product to float rounding.
//   QLinearMatMul (quantize_static's QOperator format):
//     QuantizeLinear(f64(sum) * f64(sa * sw / sy), 1, zy)
//     = kiln.qgemm with column scales sa * sw[j] / sy, then QuantizeLinear
//       with scale 1: the float requantization onnxruntime computes.
//
// W must be a constant int8 K x N matrix with zero point 0 and sw one scale
// or one per column; A must be ui8, or int8 straight from a QuantizeLinear
// with constant zero points (then quantized to ui8 with both zero points
// moved by 128, which gives A + 128: the same differences A - za). Anything
// else (a nonzero weight zero point, per-row scales, a uint8 weight) stays
// as it is: correct loops.
//
//===----------------------------------------------------------------------===//

#include "../Lowering/LoweringUtils.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "llvm/ADT/StringSet.h"

#include "kiln/kiln_abi.h"
#include "kiln/kiln_qgemm_pack.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNFOLDINTEGERMATMULS
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// A constant int8 weight: K x N, row-major, and the resource it came from.
struct Int8Weight {
  int64_t k, n;
  std::vector<int8_t> values;
  StringRef resource; // "" for a dense constant
};

/// Whether `value` holds exactly one element.
bool isOneValue(Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  return type.hasStaticShape() && type.getNumElements() == 1;
}

/// The integer elements of a constant (8- or 32-bit if a resource), as
/// their type reads them, if the compiler holds them.
std::optional<std::vector<int64_t>> integersOf(Value value) {
  auto constant = value.getDefiningOp<ConstantOp>();
  if (!constant)
    return std::nullopt;
  auto type = cast<RankedTensorType>(constant.getType());
  auto element = dyn_cast<IntegerType>(type.getElementType());
  if (!element || !type.hasStaticShape())
    return std::nullopt;
  std::vector<int64_t> out;
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(constant.getValue())) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    unsigned bytes = element.getWidth() / 8;
    if (!blob || (bytes != 1 && bytes != 4) ||
        blob->getData().size() != size_t(type.getNumElements()) * bytes)
      return std::nullopt;
    const char *data = blob->getData().data();
    bool isUnsigned = element.isUnsigned();
    for (int64_t i = 0; i < type.getNumElements(); ++i) {
      if (bytes == 1)
        out.push_back(isUnsigned ? int64_t(uint8_t(data[i])) : int64_t(int8_t(data[i])));
      else if (isUnsigned)
        out.push_back(int64_t(reinterpret_cast<const uint32_t *>(data)[i]));
      else
        out.push_back(int64_t(reinterpret_cast<const int32_t *>(data)[i]));
    }
    return out;
  }
  auto dense = dyn_cast<DenseIntElementsAttr>(constant.getValue());
  if (!dense)
    return std::nullopt;
  for (const APInt &v : dense.getValues<APInt>())
    out.push_back(element.isUnsigned() ? int64_t(v.getZExtValue()) : v.getSExtValue());
  return out;
}

/// Whether `value` is a constant of zeros (an integer zero point).
bool isZeroConstant(Value value) {
  std::optional<std::vector<int64_t>> values = integersOf(value);
  return values && llvm::all_of(*values, [](int64_t v) { return v == 0; });
}

/// The tensor that `value` casts (MatMulInteger's operands and zero points
/// are widened to i32 by a kiln.cast), or null.
Value narrowSource(Value value) {
  auto cast = value.getDefiningOp<CastOp>();
  return cast ? cast.getInput() : Value();
}

/// MatMulInteger's B: a constant int8 K x N matrix widened to i32 (before
/// or after folding) minus a zero point of zeros, if any.
std::optional<Int8Weight> int8WeightOf(Value b) {
  if (auto sub = b.getDefiningOp<SubOp>()) {
    // (A zero point that broadcast the weight to a larger shape is no zero point.)
    if (sub.getType() != sub.getLhs().getType() ||
        (!isZeroConstant(sub.getRhs()) && !isZeroConstant(narrowSource(sub.getRhs()))))
      return std::nullopt;
    b = sub.getLhs();
  }
  if (Value narrow = narrowSource(b)) {
    auto element = cast<RankedTensorType>(narrow.getType()).getElementType();
    if (!element.isSignlessInteger(8))
      return std::nullopt;
    b = narrow;
  }
  auto type = cast<RankedTensorType>(b.getType());
  std::optional<std::vector<int64_t>> values = integersOf(b);
  if (type.getRank() != 2 || !values ||
      llvm::any_of(*values, [](int64_t v) { return v < -128 || v > 127; }))
    return std::nullopt;
  auto resource = dyn_cast<DenseResourceElementsAttr>(b.getDefiningOp<ConstantOp>().getValue());
  return Int8Weight{type.getDimSize(0), type.getDimSize(1),
                    std::vector<int8_t>(values->begin(), values->end()),
                    resource ? resource.getRawHandle().getKey() : StringRef()};
}

/// The N f32 column scales of a constant that is one scale or one per
/// column (shape N, or 1 x ... x N).
std::optional<std::vector<float>> columnScalesOf(Value scale, int64_t n) {
  auto constant = scale.getDefiningOp<ConstantOp>();
  auto type = cast<RankedTensorType>(scale.getType());
  if (!constant || !type.getElementType().isF32() || !type.hasStaticShape())
    return std::nullopt;
  bool perColumn = type.getRank() >= 1 && type.getShape().back() == n &&
                   type.getNumElements() == n;
  if (!isOneValue(scale) && !perColumn)
    return std::nullopt;
  auto elements = cast<ElementsAttr>(constant.getValue());
  std::optional<ArrayRef<float>> data;
  if (auto resource = dyn_cast<DenseF32ResourceElementsAttr>(elements))
    data = resource.tryGetAsArrayRef();
  std::vector<float> values;
  if (data)
    values.assign(data->begin(), data->end());
  else if (auto dense = dyn_cast<DenseFPElementsAttr>(elements))
    for (const APFloat &v : dense.getValues<APFloat>())
      values.push_back(v.convertToFloat());
  if (int64_t(values.size()) != type.getNumElements())
    return std::nullopt;
  if (values.size() == 1)
    values.assign(size_t(n), values[0]);
  return values;
}

/// A pre-quantized A: ui8 rows with one scale (null: 1) and zero point
/// (null: 0) for the tensor.
struct QuantizedA {
  Value data, scale, zeroPoint;
};

/// A one-value ui8 constant.
Value uint8Constant(PatternRewriter &rewriter, Location loc, int64_t value) {
  Type u8 = rewriter.getIntegerType(8, /*isSigned=*/false);
  return ConstantOp::create(
      rewriter, loc, DenseElementsAttr::get(RankedTensorType::get({}, u8), APInt(8, value)));
}

/// A's zero point as matched, built only once the whole pattern matched:
/// a ui8 tensor of the model, or a constant still to create.
struct ZeroPoint {
  Value tensor;
  std::optional<int64_t> constant;
  Value build(PatternRewriter &rewriter, Location loc) const {
    return constant ? uint8Constant(rewriter, loc, *constant) : tensor;
  }
};

/// The bias add that may consume a Linear layer's f32 output: add(x, b)
/// or add(b, x) with b a vector of N floats, x's only user, leaving x's type.
std::optional<std::pair<AddOp, Value>> biasAddOf(Value x) {
  if (!x.hasOneUse())
    return std::nullopt;
  auto add = dyn_cast<AddOp>(*x.getUsers().begin());
  if (!add || add.getType() != x.getType())
    return std::nullopt;
  Value bias = add.getLhs() == x ? add.getRhs() : add.getLhs();
  auto type = cast<RankedTensorType>(bias.getType());
  int64_t n = cast<RankedTensorType>(x.getType()).getShape().back();
  if (bias == x || type.getRank() != 1 || type.getDimSize(0) != n || !type.getElementType().isF32())
    return std::nullopt;
  return std::make_pair(add, bias);
}

/// One kiln.qgemm of `a` and the weight, f32 `resultType` ([rows..., N]),
/// with `bias` (may be null) in its epilogue, built at the rewriter's
/// insertion point.
Value createQGemm(PatternRewriter &rewriter, Location loc, const QuantizedA &a,
                  const Int8Weight &weight, ArrayRef<float> columnScales,
                  RankedTensorType resultType, Value bias) {
  std::vector<int8_t> packed(size_t(kiln_qgemm_packed_size(weight.k, weight.n)));
  kiln_qgemm_pack_b(weight.values.data(), weight.n, 1, weight.k, weight.n, packed.data());
  auto blobType = RankedTensorType::get({int64_t(packed.size())}, rewriter.getI8Type());
  std::string name = (weight.resource.empty() ? "int8_weight" : weight.resource.str()) + "_packed";
  Value packedB = ConstantOp::create(
      rewriter, loc,
      DenseResourceElementsAttr::get(
          blobType, name, HeapAsmResourceBlob::allocateAndCopyInferAlign(ArrayRef(packed), 64)));
  Value scales = ConstantOp::create(
      rewriter, loc,
      DenseElementsAttr::get(RankedTensorType::get({weight.n}, rewriter.getF32Type()),
                             columnScales));

  // A's leading dims are the rows, as they are the output's.
  auto aType = cast<RankedTensorType>(a.data.getType());
  int64_t rank = aType.getRank();
  lowering::IndexMath m{rewriter, loc};
  if (aType.isDynamicDim(rank - 1))
    lowering::emitRuntimeCheck(
        rewriter, loc, m.cmp(arith::CmpIPredicate::ne, m.dim(a.data, rank - 1), m.c(weight.k)),
        lowering::describeNode(loc, "MatMul") + ": A's columns are not B's " +
            std::to_string(weight.k) + " rows");
  Value matrix = a.data;
  if (rank > 2)
    matrix = tensor::CollapseShapeOp::create(
        rewriter, loc, matrix,
        SmallVector<ReassociationIndices>{llvm::to_vector(llvm::seq<int64_t>(0, rank - 1)),
                                          {rank - 1}});
  SmallVector<Value> rowDims;
  for (int64_t d = 0; d + 1 < rank; ++d)
    if (resultType.isDynamicDim(d))
      rowDims.push_back(tensor::DimOp::create(rewriter, loc, a.data, d));
  Value init = tensor::EmptyOp::create(rewriter, loc, resultType, rowDims);
  return QGemmOp::create(rewriter, loc, resultType, matrix, packedB, scales, a.scale, a.zeroPoint,
                         bias, /*residual=*/Value(), init, weight.k, weight.n, /*activation=*/0)
      .getResult();
}

/// Replaces `root` (f32 [rows..., N], the product of `a` and the weight)
/// and its bias add, if any, by one kiln.qgemm.
void replaceByQGemm(PatternRewriter &rewriter, Operation *root, const QuantizedA &a,
                    const Int8Weight &weight, ArrayRef<float> columnScales) {
  auto resultType = cast<RankedTensorType>(root->getResult(0).getType());
  std::optional<std::pair<AddOp, Value>> bias = biasAddOf(root->getResult(0));
  Operation *last = bias ? bias->first.getOperation() : root;
  rewriter.setInsertionPoint(last);
  Value result = createQGemm(rewriter, root->getLoc(), a, weight, columnScales, resultType,
                             bias ? bias->second : Value());
  rewriter.replaceOp(last, result);
  if (bias)
    rewriter.eraseOp(root);
}

/// Whether `a x weight` has the shape of a Linear layer: A is rows x K
/// (rank 2 or more), the product `resultType`.
bool isLinearLayer(Value a, const Int8Weight &weight, Type resultType) {
  auto aType = cast<RankedTensorType>(a.getType());
  auto result = cast<RankedTensorType>(resultType);
  return aType.getRank() >= 2 && result.getRank() == aType.getRank() &&
         result.getShape().back() == weight.n && weight.k <= KILN_QGEMM_MAX_K &&
         (aType.isDynamicDim(aType.getRank() - 1) || aType.getShape().back() == weight.k);
}

/// A ui8 zero point from a zero point widened to i32: the ui8 tensor it
/// widens, or a constant holding one value in [0, 255].
std::optional<ZeroPoint> uint8ZeroPointOf(Value wide) {
  if (!isOneValue(wide))
    return std::nullopt;
  if (Value narrow = narrowSource(wide)) {
    if (!cast<RankedTensorType>(narrow.getType()).getElementType().isUnsignedInteger(8))
      return std::nullopt;
    return ZeroPoint{narrow, std::nullopt};
  }
  std::optional<std::vector<int64_t>> value = integersOf(wide);
  if (!value || value->front() < 0 || value->front() > 255)
    return std::nullopt;
  return ZeroPoint{Value(), value->front()};
}

/// f32(MatMulInteger(A, W, za, 0)) * multiplier, with the multiplier
/// sa * sw or sw (one scale, or one per column, for the weight).
struct FoldMatMulInteger : OpRewritePattern<MulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MulOp mul, PatternRewriter &rewriter) const override {
    for (auto [product, multiplier] :
         {std::pair(mul.getLhs(), mul.getRhs()), std::pair(mul.getRhs(), mul.getLhs())}) {
      auto toFloat = product.getDefiningOp<CastOp>();
      auto matmul = toFloat ? toFloat.getInput().getDefiningOp<MatMulOp>() : nullptr;
      if (!matmul || !toFloat.getType().getElementType().isF32() ||
          !matmul.getType().getElementType().isSignlessInteger(32) ||
          mul.getType() != toFloat.getType() || !product.hasOneUse() ||
          !matmul->hasOneUse())
        continue;
      std::optional<Int8Weight> weight = int8WeightOf(matmul.getRhs());
      if (!weight || !isLinearLayer(matmul.getLhs(), *weight, matmul.getType()))
        continue;
      Value data, activationScale;
      std::optional<ZeroPoint> zeroPoint;
      if (!uint8ActivationOf(matmul.getLhs(), data, zeroPoint))
        continue;
      // sa * sw, either way round, or sw alone (sa = 1).
      std::optional<std::vector<float>> scales = columnScalesOf(multiplier, weight->n);
      if (!scales)
        if (auto both = multiplier.getDefiningOp<MulOp>())
          for (auto [sa, sw] : {std::pair(both.getLhs(), both.getRhs()),
                                std::pair(both.getRhs(), both.getLhs())})
            if (isOneValue(sa) && cast<RankedTensorType>(sa.getType()).getElementType().isF32() &&
                (scales = columnScalesOf(sw, weight->n))) {
              activationScale = sa;
              break;
            }
      if (!scales)
        continue;
      QuantizedA a{data, activationScale,
                   zeroPoint ? zeroPoint->build(rewriter, mul.getLoc()) : Value()};
      replaceByQGemm(rewriter, mul, a, *weight, *scales);
      return success();
    }
    return rewriter.notifyMatchFailure(mul, "not a rescaled MatMulInteger with an int8 weight");
  }

  /// MatMulInteger's A as the importer widens it: i32(A) - i32(za), or
  /// i32(A), with A ui8 and za one value.
  static bool uint8ActivationOf(Value wide, Value &data, std::optional<ZeroPoint> &zeroPoint) {
    auto shape = cast<RankedTensorType>(wide.getType()).getShape();
    if (auto sub = wide.getDefiningOp<SubOp>()) {
      if (!(zeroPoint = uint8ZeroPointOf(sub.getRhs())))
        return false;
      wide = sub.getLhs();
    }
    data = narrowSource(wide);
    auto type = data ? cast<RankedTensorType>(data.getType()) : nullptr;
    return type && type.getElementType().isUnsignedInteger(8) && type.getShape() == shape;
  }
};

/// W^T as a K x N weight.
Int8Weight transposed(const Int8Weight &w) {
  Int8Weight t{w.n, w.k, std::vector<int8_t>(w.values.size()), w.resource};
  for (int64_t i = 0; i < w.k; ++i)
    for (int64_t j = 0; j < w.n; ++j)
      t.values[size_t(j * w.k + i)] = w.values[size_t(i * w.n + j)];
  return t;
}

/// The weight of DequantizeLinear(W, sw, 0) as a constant int8 K x N
/// matrix (W, or W^T when `transposedW`), with its N column scales: one
/// for all of W, or one per output column (W's axis 1, axis 0 when
/// transposed). Else nullopt, with `why`.
std::optional<std::pair<Int8Weight, std::vector<float>>>
dequantizedWeightOf(DequantizeLinearOp w, bool transposedW, const char *&why) {
  if (w.getBlockSize() != 0 || (w.getZeroPoint() && !isZeroConstant(w.getZeroPoint()))) {
    why = "the weight is quantized in blocks or with a zero point other than 0";
    return std::nullopt;
  }
  std::optional<Int8Weight> weight = int8WeightOf(w.getInput());
  if (!weight) {
    why = "the weight is not a constant int8 matrix";
    return std::nullopt;
  }
  if (transposedW)
    *weight = transposed(*weight);
  std::optional<std::vector<float>> scales = columnScalesOf(w.getScale(), weight->n);
  if (!scales || (!isOneValue(w.getScale()) && w.getAxis() != (transposedW ? 0 : 1))) {
    why = "the weight's scales are not per column";
    return std::nullopt;
  }
  return std::make_pair(std::move(*weight), std::move(*scales));
}

/// MatMul(DequantizeLinear(A, sa, za), DequantizeLinear(W, sw, 0)).
struct FoldDequantizedMatMul : OpRewritePattern<MatMulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MatMulOp matmul, PatternRewriter &rewriter) const override {
    auto lhs = matmul.getLhs().getDefiningOp<DequantizeLinearOp>();
    auto rhs = matmul.getRhs().getDefiningOp<DequantizeLinearOp>();
    if (!lhs || !rhs || !matmul.getType().getElementType().isF32())
      return rewriter.notifyMatchFailure(matmul, "not a product of two DequantizeLinear");
    const char *why = "";
    auto weight = dequantizedWeightOf(rhs, /*transposedW=*/false, why);
    if (!weight)
      return rewriter.notifyMatchFailure(matmul, why);
    if (!isLinearLayer(lhs.getInput(), weight->first, matmul.getType()))
      return rewriter.notifyMatchFailure(matmul, "not a Linear layer");
    std::optional<QuantizedA> a = uint8Activation(rewriter, lhs);
    if (!a)
      return rewriter.notifyMatchFailure(matmul, "A is not quantized per tensor to 8 bits");
    replaceByQGemm(rewriter, matmul, *a, weight->first, weight->second);
    return success();
  }

  /// DequantizeLinear(A, sa, za)'s A as ui8: itself, or, for an int8 A
  /// from QuantizeLinear(x, s, z) with constant zero points, x quantized
  /// again to ui8 with z + 128 (which is A + 128) and za + 128. Builds
  /// nothing unless it succeeds.
  static std::optional<QuantizedA> uint8Activation(PatternRewriter &rewriter,
                                                   DequantizeLinearOp dq) {
    Value scale = dq.getScale(), zeroPoint = dq.getZeroPoint();
    if (!isOneValue(scale) || (zeroPoint && !isOneValue(zeroPoint)) || dq.getBlockSize() != 0)
      return std::nullopt;
    Value data = dq.getInput();
    auto type = cast<RankedTensorType>(data.getType());
    if (type.getElementType().isUnsignedInteger(8))
      return QuantizedA{data, scale, zeroPoint};
    auto quantize = data.getDefiningOp<QuantizeLinearOp>();
    if (!type.getElementType().isSignlessInteger(8) || !quantize ||
        !isOneValue(quantize.getScale()) || quantize.getBlockSize() != 0)
      return std::nullopt;
    // The signed zero points (absent: 0), moved by 128.
    auto shifted = [](Value signedZeroPoint) -> std::optional<int64_t> {
      if (!signedZeroPoint)
        return 128;
      std::optional<std::vector<int64_t>> value = integersOf(signedZeroPoint);
      if (!value || value->size() != 1)
        return std::nullopt;
      return value->front() + 128;
    };
    std::optional<int64_t> requantized = shifted(quantize.getZeroPoint()),
                           dequantized = shifted(zeroPoint);
    if (!requantized || !dequantized)
      return std::nullopt;
    Type u8 = rewriter.getIntegerType(8, /*isSigned=*/false);
    Value unsignedData = QuantizeLinearOp::create(
        rewriter, quantize.getLoc(), type.clone(u8), quantize.getInput(), quantize.getScale(),
        uint8Constant(rewriter, quantize.getLoc(), *requantized), u8,
        quantize.getAxis(), /*block_size=*/0);
    return QuantizedA{unsignedData, scale, uint8Constant(rewriter, dq.getLoc(), *dequantized)};
  }
};

/// Gemm(DequantizeLinear(A, sa, za), DequantizeLinear(W, sw, 0), bias):
/// quantize_static's QDQ spelling of a Gemm layer (BERT's pooler), with
/// alpha = beta = 1 and no transposed A. A transposed W (N x K, the usual
/// transB = 1) is transposed here, its scales per row of it.
struct FoldDequantizedGemm : OpRewritePattern<GemmOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(GemmOp gemm, PatternRewriter &rewriter) const override {
    auto lhs = gemm.getA().getDefiningOp<DequantizeLinearOp>();
    auto rhs = gemm.getB().getDefiningOp<DequantizeLinearOp>();
    if (!lhs || !rhs || !gemm.getType().getElementType().isF32() || gemm.getTransA() ||
        gemm.getAlpha().convertToFloat() != 1.0f ||
        (gemm.getC() && gemm.getBeta().convertToFloat() != 1.0f))
      return rewriter.notifyMatchFailure(gemm, "not a plain Gemm of two DequantizeLinear");
    const char *why = "";
    auto weight = dequantizedWeightOf(rhs, gemm.getTransB(), why);
    if (!weight)
      return rewriter.notifyMatchFailure(gemm, why);
    if (!isLinearLayer(lhs.getInput(), weight->first, gemm.getType()))
      return rewriter.notifyMatchFailure(gemm, "not a Linear layer");
    Value bias = gemm.getC();
    if (bias) {
      auto type = cast<RankedTensorType>(bias.getType());
      if (type.getRank() != 1 || type.getDimSize(0) != weight->first.n)
        return rewriter.notifyMatchFailure(gemm, "C is not a bias of N values");
    }
    std::optional<QuantizedA> a = FoldDequantizedMatMul::uint8Activation(rewriter, lhs);
    if (!a)
      return rewriter.notifyMatchFailure(gemm, "A is not quantized per tensor to 8 bits");
    rewriter.setInsertionPoint(gemm);
    rewriter.replaceOp(gemm, createQGemm(rewriter, gemm.getLoc(), *a, weight->first, weight->second,
                                         cast<RankedTensorType>(gemm.getType()), bias));
    return success();
  }
};

/// The one f32 value of a constant that holds one, if it is one.
std::optional<float> oneFloatOf(Value value) {
  std::optional<std::vector<float>> values = columnScalesOf(value, 1);
  if (!values || !isOneValue(value))
    return std::nullopt;
  return values->front();
}

/// QLinearMatMul as the importer spells it (QuantizationOps.cpp):
/// QuantizeLinear(f64(MatMulInteger(A, W, za, 0)) * f64((sa * sw) / sy),
/// 1, zy). With constant scales it is the int8 GEMM of A and W whose column
/// scales are the multipliers (sa * sw[j]) / sy, as float, then quantized
/// with scale 1 and zy: onnxruntime's own requantization, float(sum) times
/// a float multiplier. Where ONNX's reference keeps the product in double,
/// the float product can round to the other side of a .5 and move an output
/// by one step (tools/check_prequantized.py allows it).
struct FoldQLinearMatMul : OpRewritePattern<QuantizeLinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(QuantizeLinearOp quantize,
                                PatternRewriter &rewriter) const override {
    auto scaled = quantize.getInput().getDefiningOp<MulOp>();
    std::optional<double> unit = oneValueOfF64(quantize.getScale());
    if (!scaled || !unit || *unit != 1.0 || quantize.getBlockSize() != 0 ||
        !scaled->hasOneUse())
      return rewriter.notifyMatchFailure(quantize, "not a QLinearMatMul's requantization");
    for (auto [product, multiplier] : {std::pair(scaled.getLhs(), scaled.getRhs()),
                                       std::pair(scaled.getRhs(), scaled.getLhs())}) {
      auto wide = product.getDefiningOp<CastOp>();
      auto matmul = wide ? wide.getInput().getDefiningOp<MatMulOp>() : nullptr;
      if (!matmul || !matmul.getType().getElementType().isSignlessInteger(32) ||
          !product.hasOneUse() || !matmul->hasOneUse())
        continue;
      std::optional<Int8Weight> weight = int8WeightOf(matmul.getRhs());
      if (!weight || !isLinearLayer(matmul.getLhs(), *weight, matmul.getType()))
        continue;
      Value data;
      std::optional<ZeroPoint> zeroPoint;
      if (!FoldMatMulInteger::uint8ActivationOf(matmul.getLhs(), data, zeroPoint))
        continue;
      std::optional<std::vector<float>> multipliers = multipliersOf(multiplier, weight->n);
      if (!multipliers)
        continue;
      Location loc = quantize.getLoc();
      rewriter.setInsertionPoint(quantize);
      QuantizedA a{data, Value(), zeroPoint ? zeroPoint->build(rewriter, loc) : Value()};
      auto floatType = cast<RankedTensorType>(matmul.getType()).clone(rewriter.getF32Type());
      Value sums = createQGemm(rewriter, loc, a, *weight, *multipliers, floatType, Value());
      Value one = ConstantOp::create(
          rewriter, loc, DenseElementsAttr::get(RankedTensorType::get({}, rewriter.getF32Type()), 1.0f));
      rewriter.replaceOpWithNewOp<QuantizeLinearOp>(quantize, quantize.getType(), sums, one,
                                                    quantize.getZeroPoint(), quantize.getTo(),
                                                    quantize.getAxis(), /*block_size=*/0);
      return success();
    }
    return rewriter.notifyMatchFailure(quantize, "not a QLinearMatMul with an int8 weight");
  }

  /// The N float multipliers (sa * sw[j]) / sy that `multiplier` widens
  /// to f64: the importer's ops on constant scales, or the f64 constant
  /// they fold to (one value or one per column, each exactly a float).
  static std::optional<std::vector<float>> multipliersOf(Value multiplier, int64_t n) {
    DenseElementsAttr folded;
    if (matchPattern(multiplier, m_Constant(&folded)) && folded.getElementType().isF64()) {
      auto shape = folded.getType().getShape();
      bool perColumn = !shape.empty() && shape.back() == n && folded.getNumElements() == n;
      if (folded.getNumElements() != 1 && !perColumn) // (not per row: M x 1)
        return std::nullopt;
      std::vector<float> values;
      for (const APFloat &v : folded.getValues<APFloat>()) {
        double wide = v.convertToDouble();
        if (double(float(wide)) != wide)
          return std::nullopt;
        values.push_back(float(wide));
      }
      if (values.size() == 1)
        values.assign(size_t(n), values.front());
      return values;
    }
    auto wide = multiplier.getDefiningOp<CastOp>();
    auto divide = wide ? wide.getInput().getDefiningOp<DivOp>() : nullptr;
    auto scales = divide ? divide.getLhs().getDefiningOp<MulOp>() : nullptr;
    std::optional<float> outputScale = scales ? oneFloatOf(divide.getRhs()) : std::nullopt;
    if (!outputScale)
      return std::nullopt;
    for (auto [sa, sw] : {std::pair(scales.getLhs(), scales.getRhs()),
                          std::pair(scales.getRhs(), scales.getLhs())}) {
      std::optional<float> activationScale = oneFloatOf(sa);
      std::optional<std::vector<float>> values = columnScalesOf(sw, n);
      if (!activationScale || !values)
        continue;
      for (float &m : *values)
        m = (*activationScale * m) / *outputScale; // in float, as the importer's ops
      return values;
    }
    return std::nullopt;
  }

  /// The one f64 value of a constant (QuantizeLinear's scale 1 here).
  static std::optional<double> oneValueOfF64(Value value) {
    DenseElementsAttr dense;
    if (!isOneValue(value) || !matchPattern(value, m_Constant(&dense)) ||
        !dense.getElementType().isF64())
      return std::nullopt;
    return (*dense.getValues<APFloat>().begin()).convertToDouble();
  }
};

struct FoldIntegerMatMulsPass
    : mlir::kiln::impl::KilnFoldIntegerMatMulsBase<FoldIntegerMatMulsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    // The int8 weights' data, to release once nothing reads them.
    llvm::StringSet<> weights;
    module.walk([&](ConstantOp constant) {
      if (auto resource = dyn_cast<DenseResourceElementsAttr>(constant.getValue());
          resource && resource.getType().getElementType().isInteger(8))
        weights.insert(resource.getRawHandle().getKey());
    });
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldMatMulInteger, FoldDequantizedMatMul, FoldDequantizedGemm, FoldQLinearMatMul>(
        &getContext());
    // Only these rewrites (and the dead code they leave): no folding.
    GreedyRewriteConfig config;
    config.enableFolding(false).enableConstantCSE(false);
    if (failed(applyPatternsGreedily(module, std::move(patterns), config)))
      return signalPassFailure();
    module.walk([&](ConstantOp constant) {
      if (auto resource = dyn_cast<DenseResourceElementsAttr>(constant.getValue()))
        weights.erase(resource.getRawHandle().getKey());
    });
    DialectResourceBlobManager &blobs =
        DenseResourceElementsHandle::getManagerInterface(&getContext()).getBlobManager();
    for (const auto &entry : weights)
      blobs.update(entry.getKey(), AsmResourceBlob());
  }
};

} // namespace
