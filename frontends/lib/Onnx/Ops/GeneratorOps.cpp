//===- GeneratorOps.cpp - ONNX window functions and AffineGrid ------------===//
//
// Ops that generate a tensor of coordinates or weights from a size: the
// Hann, Hamming and Blackman windows (opset 17) and AffineGrid (opset 20),
// the sampling grid of an affine transform.
//
//===----------------------------------------------------------------------===//

#include "../OnnxTensors.h"
#include "Composer.h"

#include <cmath>

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::onnx_import;

/// The cosine-sum window a0 - a1 cos(x) + a2 cos(2x) with x = 2 pi n / N,
/// n in [0, size), N = size (periodic) or size - 1 (symmetric), as the
/// window ops' function bodies compute it: in float, then cast to
/// output_datatype.
static LogicalResult importCosineWindow(NodeImporter &n, double a0, double a1, double a2) {
  auto size = n.requiredInput(0);
  if (failed(size))
    return failure();
  auto sizeType = n.inputType(0);
  if (sizeType.getNumElements() != 1 || !isa<IntegerType>(sizeType.getElementType())) {
    n.emitError() << "size must be an integer scalar, got " << sizeType;
    return failure();
  }
  int64_t outputCode = n.intAttr("output_datatype", onnx::TensorProto::FLOAT);
  Type output = getElementType(n.getContext(), outputCode);
  if (!output) {
    n.emitError() << "output_datatype " << dataTypeName(outputCode) << " is not supported";
    return failure();
  }
  Composer c(n);
  Type f32 = c.builder().getF32Type();
  Value count = c.reshape(*size, ArrayRef<int64_t>{});
  Value indices =
      c.cast(c.op<RangeOp>({c.scalarLike(count, 0), count, c.scalarLike(count, 1)}), f32);
  Value length = c.cast(count, f32);
  if (n.intAttr("periodic", 1) == 0)
    length = c.sub(length, c.scalar(f32, 1.0));
  Value angle = c.mul(indices, c.div(c.scalar(f32, 2 * M_PI), length));
  Value window = c.sub(c.scalar(f32, a0), c.mul(c.scalar(f32, a1), c.op<CosOp>({angle})));
  if (a2 != 0.0)
    window =
        c.add(window, c.mul(c.scalar(f32, a2), c.op<CosOp>({c.mul(angle, c.scalar(f32, 2.0))})));
  return c.output(0, c.cast(window, output));
}

/// The normalised coordinates in [-1, 1] of `size` samples along one axis:
/// the pixel corners with align_corners, else the pixel centres.
static SmallVector<double> axisCoordinates(int64_t size, bool alignCorners) {
  SmallVector<double> coordinates;
  for (int64_t i = 0; i < size; ++i) {
    if (alignCorners)
      coordinates.push_back(size == 1 ? -1.0 : -1.0 + 2.0 * i / (size - 1));
    else
      coordinates.push_back(-1.0 + (2.0 * i + 1.0) / size);
  }
  return coordinates;
}

/// AffineGrid: theta [N, k, k + 1] (k = 2 or 3) applied to the homogeneous
/// coordinates (x, y[, z], 1) of every point of the spatial size given by
/// the constant `size` [N, C, (D,) H, W]: grid [N, (D,) H, W, k].
static LogicalResult importAffineGrid(NodeImporter &n) {
  auto theta = n.requiredInput(0);
  auto size = n.constantInts(1, "size");
  if (failed(theta) || failed(size))
    return failure();
  auto thetaType = n.inputType(0);
  int64_t k = (int64_t)size->size() - 2;
  if ((k != 2 && k != 3) || thetaType.getRank() != 3 ||
      (thetaType.getDimSize(1) != ShapedType::kDynamic && thetaType.getDimSize(1) != k) ||
      (thetaType.getDimSize(2) != ShapedType::kDynamic && thetaType.getDimSize(2) != k + 1)) {
    n.emitError() << "needs size [N, C, H, W] with theta [N, 2, 3], or size [N, C, D, H, W] "
                     "with theta [N, 3, 4]; got "
                  << size->size() << " sizes and " << thetaType;
    return failure();
  }
  SmallVector<int64_t> spatial(size->begin() + 2, size->end());
  if (llvm::any_of(spatial, [](int64_t d) { return d < 1; })) {
    n.emitError() << "spatial sizes must be positive";
    return failure();
  }
  bool alignCorners = n.intAttr("align_corners", 0) != 0;
  // Points in row-major order of the spatial dims, each (x, y[, z], 1) with
  // x along the last dim.
  SmallVector<SmallVector<double>> axes;
  for (int64_t d : spatial)
    axes.push_back(axisCoordinates(d, alignCorners));
  int64_t points = 1;
  for (int64_t d : spatial)
    points *= d;
  SmallVector<double> base;
  for (int64_t p = 0; p < points; ++p) {
    SmallVector<int64_t> index(k);
    for (int64_t i = k - 1, rest = p; i >= 0; --i) {
      index[i] = rest % spatial[i];
      rest /= spatial[i];
    }
    for (int64_t i = k - 1; i >= 0; --i)
      base.push_back(axes[i][index[i]]);
    base.push_back(1.0);
  }
  Type element = thetaType.getElementType();
  if (!isa<FloatType>(element)) {
    n.emitError() << "theta must be a float tensor, got " << thetaType;
    return failure();
  }
  auto baseType = RankedTensorType::get({points, k + 1}, element);
  SmallVector<APFloat> values;
  for (double v : base) {
    APFloat value(v);
    bool lost;
    value.convert(cast<FloatType>(element).getFloatSemantics(), APFloat::rmNearestTiesToEven,
                  &lost);
    values.push_back(value);
  }
  Composer c(n);
  Value grid =
      ConstantOp::create(c.builder(), n.getLoc(), DenseElementsAttr::get(baseType, values));
  Value transformed = c.op<MatMulOp>({grid, c.transpose(*theta, {0, 2, 1})});
  SmallVector<int64_t> shape{0};
  shape.append(spatial.begin(), spatial.end());
  shape.push_back(k);
  return c.output(0, c.reshape(transformed, shape));
}

void mlir::kiln::onnx_import::registerGeneratorOps(llvm::StringMap<OpHandler> &t) {
  t["HannWindow"] = [](NodeImporter &n) { return importCosineWindow(n, 0.5, 0.5, 0.0); };
  t["HammingWindow"] = [](NodeImporter &n) {
    return importCosineWindow(n, 25.0 / 46.0, 21.0 / 46.0, 0.0);
  };
  t["BlackmanWindow"] = [](NodeImporter &n) { return importCosineWindow(n, 0.42, 0.5, 0.08); };
  t["AffineGrid"] = importAffineGrid;
}
