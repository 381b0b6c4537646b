//===- ResizeOps.cpp - ONNX Resize ----------------------------------------===//
//
// Resize's scales (constant or computed at run time) or constant sizes,
// given for `axes`, become one full-rank scales operand of kiln.resize; its
// roi (tf_crop_and_resize) likewise.
//
//===----------------------------------------------------------------------===//

#include "../NodeImporter.h"
#include "kiln/Dialect/Kiln/KilnShapeUtils.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::onnx_import;

/// Whether the optional input i is given (present and not an empty tensor).
static bool isGiven(NodeImporter &n, size_t i) {
  Value v = n.input(i);
  auto type = v ? cast<RankedTensorType>(v.getType()) : RankedTensorType();
  return v && !(type.hasStaticShape() && type.getNumElements() == 0);
}

/// A 1-D f64 constant.
static Value f64Constant(NodeImporter &n, ArrayRef<double> values) {
  auto type = RankedTensorType::get({(int64_t)values.size()}, n.getBuilder().getF64Type());
  return ConstantOp::create(n.getBuilder(), n.getLoc(), DenseElementsAttr::get(type, values));
}

/// Resize's per-axis values `v` (`groups` groups of one value per axis:
/// scales have one, roi two) spread to every dim: picks[j] says which
/// value dim j of group g takes, with `defaults[g]` for dims not in `axes`.
/// A run-time `v` is gathered from v ++ defaults.
static FailureOr<Value> spreadToDims(NodeImporter &n, Value v, ArrayRef<int64_t> axes,
                                     int64_t rank, ArrayRef<double> defaults) {
  int64_t count = axes.size(), groups = defaults.size();
  SmallVector<int64_t> picks;
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t d = 0; d < rank; ++d) {
      auto it = llvm::find(axes, d);
      picks.push_back(it == axes.end() ? groups * count + g
                                       : g * count + (it - axes.begin()));
    }
  bool identity = llvm::equal(picks, llvm::seq<int64_t>(0, groups * rank));
  if (identity)
    return v;
  Type element = cast<RankedTensorType>(v.getType()).getElementType();
  if (auto values = getConstantFloatValues(v)) {
    SmallVector<double> spread;
    for (int64_t p : picks)
      spread.push_back(p < groups * count ? (*values)[p] : defaults[p - groups * count]);
    return n.create<CastOp>({f64Constant(n, spread)}, {n.named("to", TypeAttr::get(element))});
  }
  auto fill = n.create<CastOp>({f64Constant(n, defaults)}, {n.named("to", TypeAttr::get(element))});
  if (failed(fill))
    return failure();
  auto extended = n.create<ConcatOp>({v, *fill}, {n.named("axis", n.getBuilder().getI64IntegerAttr(0))});
  if (failed(extended))
    return failure();
  return n.create<GatherOp>({*extended, n.i64Constant(picks)},
                            {n.named("axis", n.getBuilder().getI64IntegerAttr(0))});
}

/// Resize (opsets 13 to 19) with scales (constant or computed at run time)
/// or constant sizes, mapped to every dim through `axes`. With sizes, the
/// scale of a dim is size / dim (or, with keep_aspect_ratio_policy, the
/// smallest or largest of those) and the result's dims are known.
static LogicalResult importResize(NodeImporter &n) {
  auto x = n.requiredInput(0);
  if (failed(x))
    return failure();
  auto xt = n.inputType(0);
  int64_t rank = xt.getRank();
  auto normalizedAxes = n.axesOrAll(n.intsAttr("axes"), rank);
  if (failed(normalizedAxes))
    return failure();
  SmallVector<int64_t> axes = *normalizedAxes;
  int64_t count = axes.size();
  std::string mode = n.stringAttr("mode", "nearest");
  std::string transform = n.stringAttr("coordinate_transformation_mode", "half_pixel");
  Builder &b = n.getBuilder();
  SmallVector<NamedAttribute> attrs{
      n.named("mode", b.getStringAttr(mode)),
      n.named("coordinate_transformation_mode", b.getStringAttr(transform)),
      n.named("nearest_mode", b.getStringAttr(n.stringAttr("nearest_mode", "round_prefer_floor"))),
      n.named("cubic_coeff_a", b.getF64FloatAttr(n.floatAttr("cubic_coeff_a", -0.75f))),
      n.named("exclude_outside", b.getBoolAttr(n.intAttr("exclude_outside", 0) != 0)),
      n.named("extrapolation_value",
              b.getF64FloatAttr(n.floatAttr("extrapolation_value", 0.0f)))};

  // A result dim computed in double, which must be a valid dim (scales from
  // a file can be negative, NaN or huge: found by kiln-fuzz-import).
  auto resultDim = [&](int64_t d, double size) -> FailureOr<int64_t> {
    if (!(size >= 0 && size < 0x1p62)) {
      n.emitError() << "dim " << d << " would be resized to " << size
                    << "; scales must be positive and give dims below 2^62";
      return failure();
    }
    return (int64_t)size;
  };

  // The scales of every dim, and the result's dims where they are known.
  Value scales;
  std::optional<SmallVector<double>> knownScales;
  SmallVector<int64_t> sizes(xt.getShape());
  if (isGiven(n, 2)) {
    // The policy only adjusts sizes given as 'sizes'.
    n.attributeHasNoEffect("keep_aspect_ratio_policy");
    Value given = n.input(2);
    if (cast<RankedTensorType>(given.getType()).getRank() != 1 ||
        cast<RankedTensorType>(given.getType()).getDimSize(0) != count) {
      n.emitError() << "input 'scales' needs " << count << " values, got " << given.getType();
      return failure();
    }
    auto spread = spreadToDims(n, given, axes, rank, {1.0});
    if (failed(spread))
      return failure();
    scales = *spread;
    knownScales = getConstantFloatValues(scales);
    for (int64_t d = 0; d < rank; ++d)
      if (!knownScales)
        sizes[d] = llvm::is_contained(axes, d) ? ShapedType::kDynamic : sizes[d];
      else if (!ShapedType::isDynamic(sizes[d])) {
        double scale = (*knownScales)[d];
        auto dim = resultDim(d, scale > 0 ? std::floor((double)sizes[d] * scale) : -1.0);
        if (failed(dim))
          return failure();
        sizes[d] = *dim;
      }
  } else if (isGiven(n, 3)) {
    auto sizesIn = n.constantInts(3, "sizes");
    if (failed(sizesIn))
      return failure();
    if ((int64_t)sizesIn->size() != count) {
      n.emitError() << "input 'sizes' needs " << count << " values, got " << sizesIn->size();
      return failure();
    }
    knownScales = SmallVector<double>(rank, 1.0);
    for (auto [i, axis] : llvm::enumerate(axes)) {
      if (xt.isDynamicDim(axis)) {
        n.emitError() << "resizing dim " << axis << " to a given size needs it static; "
                         "specialise the input with --input-shape";
        return failure();
      }
      (*knownScales)[axis] = (double)(*sizesIn)[i] / (double)xt.getDimSize(axis);
      sizes[axis] = (*sizesIn)[i];
    }
    std::string policy = n.stringAttr("keep_aspect_ratio_policy", "stretch");
    if (policy == "not_larger" || policy == "not_smaller") {
      double scale = (*knownScales)[axes.front()];
      for (int64_t axis : axes)
        scale = policy == "not_larger" ? std::min(scale, (*knownScales)[axis])
                                       : std::max(scale, (*knownScales)[axis]);
      for (int64_t axis : axes) {
        (*knownScales)[axis] = scale;
        auto dim = resultDim(axis, scale * (double)xt.getDimSize(axis) + 0.5);
        if (failed(dim))
          return failure();
        sizes[axis] = *dim;
      }
    } else if (policy != "stretch") {
      n.emitError() << "unknown keep_aspect_ratio_policy '" << policy << "'";
      return failure();
    }
    scales = f64Constant(n, *knownScales);
  } else {
    n.emitError() << "needs one of the inputs 'scales' and 'sizes'";
    return failure();
  }
  if (n.intAttr("antialias", 0) != 0 && mode != "nearest") {
    // The filter's footprint depends on the scale, so it must be known.
    if (!knownScales) {
      n.emitError() << "antialias=1 needs scales known at compile time";
      return failure();
    }
    attrs.push_back(n.named("antialias", b.getBoolAttr(true)));
  }
  if (llvm::none_of(sizes, ShapedType::isDynamic))
    attrs.push_back(n.named("sizes", b.getDenseI64ArrayAttr(sizes)));
  SmallVector<Value> operands{*x, scales};
  if (transform == "tf_crop_and_resize") {
    if (!isGiven(n, 1) || cast<RankedTensorType>(n.inputType(1)).getRank() != 1 ||
        n.inputType(1).getDimSize(0) != 2 * count) {
      n.emitError() << "tf_crop_and_resize needs a 'roi' of " << 2 * count << " values";
      return failure();
    }
    auto roi = spreadToDims(n, n.input(1), axes, rank, {0.0, 1.0});
    if (failed(roi))
      return failure();
    operands.push_back(*roi);
  }
  return n.createOutput<ResizeOp>(operands, attrs);
}

/// GridSample: opset 16 names the modes bilinear and bicubic, opset 20
/// linear and cubic (and allows any number of spatial dims).
static LogicalResult importGridSample(NodeImporter &n) {
  auto x = n.requiredInput(0);
  auto grid = n.requiredInput(1);
  if (failed(x) || failed(grid))
    return failure();
  std::string mode = n.stringAttr("mode", n.getOpset() < 20 ? "bilinear" : "linear");
  if (mode == "bilinear")
    mode = "linear";
  else if (mode == "bicubic")
    mode = "cubic";
  if (mode != "linear" && mode != "nearest" && mode != "cubic") {
    n.emitError() << "unknown mode '" << mode << "'";
    return failure();
  }
  std::string padding = n.stringAttr("padding_mode", "zeros");
  if (padding != "zeros" && padding != "border" && padding != "reflection") {
    n.emitError() << "unknown padding_mode '" << padding << "'";
    return failure();
  }
  OpBuilder &b = n.getBuilder();
  return n.createOutput<GridSampleOp>(
      {*x, *grid}, {n.named("mode", b.getStringAttr(mode)),
                    n.named("padding_mode", b.getStringAttr(padding)),
                    n.named("align_corners", b.getBoolAttr(n.intAttr("align_corners", 0) != 0))});
}

void mlir::kiln::onnx_import::registerResizeOps(llvm::StringMap<OpHandler> &t) {
  t["Resize"] = importResize;
  t["GridSample"] = importGridSample;
}
