//===- ContractionOps.cpp - ONNX MatMul, Gemm, Conv and Det ---------------===//
//
// Det is composed: Gaussian elimination with partial pivoting, unrolled over
// the (static) matrix size.
//
//===----------------------------------------------------------------------===//

#include "Composer.h"
#include "kiln/Dialect/Kiln/KilnShapeUtils.h"
#include "llvm/Support/CheckedArithmetic.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::onnx_import;

static LogicalResult importMatMul(NodeImporter &n) {
  auto a = n.requiredInput(0), b = n.requiredInput(1);
  if (failed(a) || failed(b))
    return failure();
  return n.createOutput<MatMulOp>({*a, *b});
}

static LogicalResult importGemm(NodeImporter &n) {
  auto a = n.requiredInput(0), b = n.requiredInput(1);
  if (failed(a) || failed(b))
    return failure();
  SmallVector<Value> operands{*a, *b};
  if (Value c = n.input(2))
    operands.push_back(c);
  Builder &builder = n.getBuilder();
  return n.createOutput<GemmOp>(
      operands, {n.named("alpha", builder.getF32FloatAttr(n.floatAttr("alpha", 1.0f))),
                 n.named("beta", builder.getF32FloatAttr(n.floatAttr("beta", 1.0f))),
                 n.named("transA", builder.getBoolAttr(n.intAttr("transA", 0) != 0)),
                 n.named("transB", builder.getBoolAttr(n.intAttr("transB", 0) != 0))});
}

/// A Conv or ConvTranspose node's kernel_shape, which only restates the
/// weight's spatial dims (input 1, rank checked): an error where it does not.
static LogicalResult checkKernelShape(NodeImporter &n) {
  std::optional<SmallVector<int64_t>> kernel = n.intsAttr("kernel_shape");
  if (!kernel)
    return success();
  auto wShape = n.inputType(1).getShape().drop_front(2);
  bool matches = kernel->size() == wShape.size();
  for (auto [k, d] : llvm::zip(*kernel, wShape))
    matches &= ShapedType::isDynamic(d) || k == d;
  if (!matches)
    n.emitError() << "kernel_shape does not match the weight's spatial dims";
  return success(matches);
}

FailureOr<ConvNode> mlir::kiln::onnx_import::readConvNode(NodeImporter &n) {
  auto x = n.requiredInput(0), w = n.requiredInput(1);
  if (failed(x) || failed(w))
    return failure();
  int64_t spatial = n.inputType(0).getRank() - 2;
  if (spatial < 1) {
    n.emitError() << "input must have rank >= 3 (N, C, spatial...)";
    return failure();
  }
  if (n.inputType(1).getRank() != spatial + 2) {
    n.emitError() << "the weight must have the input's rank " << spatial + 2 << ", got "
                  << n.inputType(1);
    return failure();
  }
  auto orOnes = [&](StringRef name) {
    return n.intsAttr(name).value_or(SmallVector<int64_t>(spatial, 1));
  };
  SmallVector<int64_t> strides = orOnes("strides"), dilations = orOnes("dilations");
  if ((int64_t)strides.size() != spatial || (int64_t)dilations.size() != spatial) {
    n.emitError() << "strides and dilations need " << spatial << " entries";
    return failure();
  }
  if (failed(checkKernelShape(n)))
    return failure();
  auto pads = windowPads(n, n.inputType(0).getShape().drop_front(2),
                         n.inputType(1).getShape().drop_front(2), strides, dilations);
  if (failed(pads))
    return failure();
  Builder &builder = n.getBuilder();
  return ConvNode{*x,
                  *w,
                  {n.named("strides", builder.getDenseI64ArrayAttr(strides)),
                   n.named("pads", builder.getDenseI64ArrayAttr(*pads)),
                   n.named("dilations", builder.getDenseI64ArrayAttr(dilations)),
                   n.named("group", builder.getI64IntegerAttr(n.intAttr("group", 1)))}};
}

static LogicalResult importConv(NodeImporter &n) {
  auto conv = readConvNode(n);
  if (failed(conv))
    return failure();
  SmallVector<Value> operands{conv->input, conv->weight};
  if (Value b = n.input(2))
    operands.push_back(b);
  return n.createOutput<ConvOp>(operands, conv->attrs);
}

/// Python's a // b (floor division): ONNX's pad split of a negative total.
static int64_t floorDiv(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

static LogicalResult importConvTranspose(NodeImporter &n) {
  auto x = n.requiredInput(0), w = n.requiredInput(1);
  if (failed(x) || failed(w))
    return failure();
  auto xt = n.inputType(0), wt = n.inputType(1);
  int64_t spatial = xt.getRank() - 2;
  if (spatial < 1 || wt.getRank() != xt.getRank()) {
    n.emitError() << "input and weight need one rank >= 3 (N, C, spatial...)";
    return failure();
  }
  if (failed(checkKernelShape(n)))
    return failure();
  auto attrOr = [&](StringRef name, int64_t value) {
    return n.intsAttr(name).value_or(SmallVector<int64_t>(spatial, value));
  };
  SmallVector<int64_t> strides = attrOr("strides", 1), dilations = attrOr("dilations", 1),
                       extra = attrOr("output_padding", 0);
  SmallVector<int64_t> pads = n.intsAttr("pads").value_or(SmallVector<int64_t>(2 * spatial, 0));
  std::string autoPad = n.stringAttr("auto_pad", "NOTSET");
  std::optional<SmallVector<int64_t>> outputShape = n.intsAttr("output_shape");
  if (outputShape && (int64_t)outputShape->size() == spatial + 2)
    outputShape->erase(outputShape->begin(), outputShape->begin() + 2);
  if ((int64_t)strides.size() != spatial || (int64_t)dilations.size() != spatial ||
      (int64_t)extra.size() != spatial || (int64_t)pads.size() != 2 * spatial ||
      (outputShape && (int64_t)outputShape->size() != spatial)) {
    n.emitError() << "strides, dilations, output_padding and output_shape need " << spatial
                  << " entries, pads " << 2 * spatial;
    return failure();
  }
  bool same = autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER";
  if (!same && autoPad != "NOTSET" && autoPad != "VALID") {
    n.emitError() << "unknown auto_pad '" << autoPad << "'";
    return failure();
  }
  // An output shape (given, or the input's times the strides for SAME)
  // fixes the pads: the total the natural size exceeds it by, split evenly,
  // the odd one at the end for SAME_UPPER, at the beginning otherwise.
  if (same && !outputShape) {
    outputShape.emplace();
    for (int64_t i = 0; i < spatial; ++i)
      outputShape->push_back(ShapedType::isDynamic(xt.getDimSize(i + 2))
                                 ? ShapedType::kDynamic
                                 : xt.getDimSize(i + 2) * strides[i]);
  }
  if (outputShape) {
    for (int64_t i = 0; i < spatial; ++i) {
      int64_t in = xt.getDimSize(i + 2), k = wt.getDimSize(i + 2);
      if (ShapedType::isDynamic(in) || ShapedType::isDynamic(k)) {
        n.emitError() << "output_shape and auto_pad " << autoPad
                      << " need static spatial dims; specialise the input with --input-shape";
        return failure();
      }
      // Checked arithmetic: a malformed model's sizes must give an error.
      std::optional<int64_t> strided = llvm::checkedMul(strides[i], in - 1),
                             reach = llvm::checkedMul(k - 1, dilations[i]), sum;
      if (strided && reach)
        sum = mlir::kiln::checkedSum({*strided, extra[i], *reach, 1});
      if (sum)
        sum = llvm::checkedSub(*sum, (*outputShape)[i]);
      if (!sum) {
        n.emitError() << "the sizes of spatial dim " << i << " overflow int64";
        return failure();
      }
      int64_t total = *sum;
      int64_t half = floorDiv(total, 2);
      pads[i] = autoPad == "SAME_UPPER" ? half : total - half;
      pads[i + spatial] = total - pads[i];
    }
  }
  SmallVector<Value> operands{*x, *w};
  if (Value b = n.input(2))
    operands.push_back(b);
  Builder &builder = n.getBuilder();
  return n.createOutput<ConvTransposeOp>(
      operands, {n.named("strides", builder.getDenseI64ArrayAttr(strides)),
                 n.named("pads", builder.getDenseI64ArrayAttr(pads)),
                 n.named("dilations", builder.getDenseI64ArrayAttr(dilations)),
                 n.named("output_padding", builder.getDenseI64ArrayAttr(extra)),
                 n.named("group", builder.getI64IntegerAttr(n.intAttr("group", 1)))});
}

/// The largest matrix Det unrolls its elimination for.
static constexpr int64_t kMaxDetSize = 64;

/// Det of [..., M, M]: M steps of Gaussian elimination with partial
/// pivoting. Each step swaps the row of the largest |entry| of the first
/// column to the top (a GatherElements; a swap negates the determinant),
/// multiplies the determinant by the pivot and replaces the matrix by its
/// Schur complement. A zero pivot (a singular matrix) makes the determinant
/// 0 and divides by 1 instead, so that no NaN follows.
static LogicalResult importDet(NodeImporter &n) {
  auto x = n.requiredInput(0);
  if (failed(x))
    return failure();
  auto type = cast<RankedTensorType>(x->getType());
  int64_t rank = type.getRank();
  if (rank < 2 || type.getDimSize(rank - 1) != type.getDimSize(rank - 2) ||
      ShapedType::isDynamic(type.getDimSize(rank - 1)) || type.getDimSize(rank - 1) < 1) {
    n.emitError() << "needs square matrices [..., M, M] with a static M >= 1, got " << type;
    return failure();
  }
  int64_t size = type.getDimSize(rank - 1);
  if (size > kMaxDetSize) {
    n.emitError() << "matrices larger than " << kMaxDetSize << "x" << kMaxDetSize
                  << " are not supported, got " << size << "x" << size;
    return failure();
  }
  Composer c(n);
  OpBuilder &b = c.builder();
  int64_t rows = rank - 2, cols = rank - 1;
  Type i64 = b.getI64Type();
  Value a = *x, det = c.scalarLike(*x, 1.0);
  for (int64_t m = size; m > 1; --m) {
    Value column = c.slice(a, {0}, {1}, {cols});
    Value pivotRow = c.op<ArgMaxOp>({c.op<AbsOp>({column})},
                                    {c.named("axis", b.getI64IntegerAttr(rows)),
                                     c.named("keepdims", b.getBoolAttr(true))});
    SmallVector<int64_t> steps;
    for (int64_t i = 0; i < m; ++i)
      steps.push_back(i);
    Value row = c.reshape(c.ints(steps), {m, 1});
    Value top = c.op<EqualOp>({row, c.scalar(i64, 0)});
    Value order = c.where(c.op<EqualOp>({row, pivotRow}), c.scalar(i64, 0),
                          c.where(top, pivotRow, row));
    a = c.op<GatherElementsOp>({a, c.op<ExpandOp>({order, c.shape(a, 0, rank)})},
                               {c.named("axis", b.getI64IntegerAttr(rows))});
    Value swapped = c.op<EqualOp>({pivotRow, c.scalar(i64, 0)});
    det = c.mul(det, c.where(swapped, c.scalarLike(*x, 1.0), c.scalarLike(*x, -1.0)));
    Value pivot = c.slice(a, {0, 0}, {1, 1}, {rows, cols});
    det = c.mul(det, pivot);
    Value zero = c.op<EqualOp>({pivot, c.scalarLike(*x, 0.0)});
    Value divisor = c.where(zero, c.scalarLike(*x, 1.0), pivot);
    Value lower = c.slice(a, {1, 0}, {m, 1}, {rows, cols});
    Value upper = c.slice(a, {0, 1}, {1, m}, {rows, cols});
    Value rest = c.slice(a, {1, 1}, {m, m}, {rows, cols});
    a = c.sub(rest, c.mul(c.div(lower, divisor), upper));
  }
  return c.output(0, c.squeeze(c.mul(det, a), {rows, cols}));
}

void mlir::kiln::onnx_import::registerContractionOps(llvm::StringMap<OpHandler> &t) {
  t["MatMul"] = importMatMul;
  t["Gemm"] = importGemm;
  t["Conv"] = importConv;
  t["ConvTranspose"] = importConvTranspose;
  t["Det"] = importDet;
}
