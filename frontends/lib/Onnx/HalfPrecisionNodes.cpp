//===- HalfPrecisionNodes.cpp - f16/bf16 nodes computed in f32 ------------===//
//
// ONNX says a node's result has its inputs' type, not in what precision it
// is computed. ORT's CPU provider computes a float16 model in f32: it runs
// the nodes that have no float16 kernel (nearly all) on f32 values and
// drops the casts between them, so only the graph's outputs are rounded.
// Kiln does the same: every node with 16-bit float inputs (all of one type)
// reads their f32 values, and its f32 results are cast to the 16-bit type
// only for readers that keep that type (Cast, the graph's outputs; the other
// casts are dead and go). Its f32 inputs (Resize's scales, Pow's exponent)
// stay as they are; its ONNX schema's type constraints say which of its
// results are of the 16-bit type. The ops ORT has float16 kernels for
// (QuantizeLinear, DequantizeLinear) compute in f32 too, but on their
// inputs rounded, and their results stay rounded.
//
//===----------------------------------------------------------------------===//

#include "HalfPrecisionNodes.h"
#include "kiln/kiln_bf16_pack.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/StringSet.h"
#include "onnx/defs/schema.h"
#include <cstring>

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::onnx_import;

/// The op types that keep 16-bit inputs as they are: conversions, whose
/// rounding to the 16-bit type is what the model asks for (ORT drops a
/// Cast to float16 that f32 arithmetic reads; Kiln keeps it), and ops that
/// only read their input's shape.
static bool keepsStorageType(StringRef opType) {
  static const llvm::StringSet<> ops = {"Cast", "CastLike", "Shape", "Size", "EyeLike"};
  return ops.contains(opType);
}

/// The op types that read and give 16-bit values rounded, computing in f32
/// in between: those ORT's CPU provider has float16 kernels for, whose
/// inputs it rounds and whose results it gives as 16-bit values.
static bool roundsAtItsEdges(StringRef opType) {
  return opType == "QuantizeLinear" || opType == "DequantizeLinear";
}

/// The type constraint (ONNX's type string: "T", "T1") of input or output
/// `index` of a node per its schema, or "" without one: the last formal
/// parameter of a variadic op stands for all that follow.
static std::string typeString(const std::vector<onnx::OpSchema::FormalParameter> &formals,
                              int index) {
  if (formals.empty())
    return "";
  return formals[std::min<size_t>(index, formals.size() - 1)].GetTypeStr();
}

/// The f32 value of IEEE half-precision bits (exact). (bfloat16's:
/// kiln_bf16_to_float, the runtime's.)
static float halfBitsToFloat(uint16_t h) {
  uint32_t exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  float magnitude = float(mantissa) * 0x1p-24f; // zero or subnormal
  if (exponent != 0) {
    uint32_t bits = exponent == 0x1f ? 0x7f800000u | (mantissa << 13) // inf, NaN (payload kept)
                                     : ((exponent + 112) << 23) | (mantissa << 13);
    std::memcpy(&magnitude, &bits, sizeof bits);
  }
  return (h & 0x8000u) ? -magnitude : magnitude; // negation flips only the sign bit
}

/// The 16-bit float type of the node's 16-bit float inputs, or null when
/// there are none, or both 16-bit types, or an f64 input (which f32 would
/// round). Other float inputs may be f32 (Resize's scales, Pow's exponent).
static FloatType commonHalfType(const onnx::NodeProto &node, const ValueMap &values) {
  FloatType half;
  for (const std::string &name : node.input()) {
    Value value = name.empty() ? Value() : values.lookup(name);
    auto tensor = value ? dyn_cast<RankedTensorType>(value.getType()) : nullptr;
    auto element = tensor ? dyn_cast<FloatType>(tensor.getElementType()) : nullptr;
    if (!element || element.isF32())
      continue;
    if (!(element.isF16() || element.isBF16()) || (half && element != half))
      return {};
    half = element;
  }
  return half;
}

LogicalResult HalfPrecisionNodes::widenInputs(NodeImporter &node, ValueMap &values) {
  replaced.clear();
  half = keepsStorageType(node.getNode().op_type()) ? FloatType()
                                                    : commonHalfType(node.getNode(), values);
  if (!half)
    return success();
  roundedEdges = roundsAtItsEdges(node.getNode().op_type());
  schema = onnx::OpSchemaRegistry::Schema(node.getNode().op_type(),
                                          static_cast<int>(node.getOpset()));
  halfTypeStrings.clear();
  Type f32 = node.getBuilder().getF32Type();
  for (auto [index, name] : llvm::enumerate(node.getNode().input())) {
    Value value = name.empty() ? Value() : values.lookup(name);
    if (!value || getElementTypeOrSelf(value.getType()) != half)
      continue;
    if (schema)
      halfTypeStrings.insert(typeString(schema->inputs(), index));
    // The f32 value a widened node computed it from or else its exact f32
    // copy: a weight's, made now, or for a graph input (or a small
    // constant, which folds) a cast.
    Value wide = roundedEdges ? Value() : unroundedValues.lookup(value);
    if (!wide) {
      Value &exact = exactWideValues[value];
      if (!exact)
        exact = widenedConstant(node, value);
      if (!exact) {
        FailureOr<Value> cast =
            node.create<CastOp>({value}, {node.named("to", TypeAttr::get(f32))});
        if (failed(cast))
          return failure();
        exact = *cast;
      }
      wide = exact;
    }
    replaced.emplace_back(name, value);
    values[name] = wide;
  }
  return success();
}

LogicalResult HalfPrecisionNodes::narrowOutputs(NodeImporter &node, ValueMap &values) {
  if (!half)
    return success();
  for (auto &[name, value] : replaced)
    values[name] = value;
  const onnx::NodeProto &proto = node.getNode();
  for (int i = 0; i < proto.output_size(); ++i) {
    Value result = proto.output(i).empty() ? Value() : values.lookup(proto.output(i));
    if (!result || !getElementTypeOrSelf(result.getType()).isF32())
      continue;
    // An output whose type is not that of a 16-bit input (LayerNormalization's
    // Mean, in stash_type; Resize's Y of an f32 X with an f16 roi) stays f32.
    // Without a schema (ops newer than libonnx's registry) every f32 output
    // is taken for the 16-bit type.
    if (schema && !halfTypeStrings.contains(typeString(schema->outputs(), i)))
      continue;
    FailureOr<Value> narrowed =
        node.create<CastOp>({result}, {node.named("to", TypeAttr::get(half))});
    if (failed(narrowed))
      return failure();
    values[proto.output(i)] = *narrowed;
    if (!roundedEdges)
      unroundedValues[*narrowed] = result;
  }
  return success();
}

/// An f32 copy of a 16-bit weight (a dense_resource constant), converted
/// now so that the compiled model neither converts it on each run nor
/// loses it to kiln-pack-gemm-weights (which packs constants only); null
/// for anything else.
Value HalfPrecisionNodes::widenedConstant(NodeImporter &node, Value value) {
  auto constant = value.getDefiningOp<ConstantOp>();
  auto resource = constant ? dyn_cast<DenseResourceElementsAttr>(constant.getValue()) : nullptr;
  AsmResourceBlob *blob = resource ? resource.getRawHandle().getBlob() : nullptr;
  if (!blob)
    return {};
  auto type = cast<RankedTensorType>(resource.getType());
  ArrayRef<char> data = blob->getData();
  int64_t count = type.getNumElements();
  if ((int64_t)data.size() != count * 2)
    return {};
  SmallVector<float> floats(count);
  for (int64_t i = 0; i < count; ++i) {
    uint16_t bits;
    std::memcpy(&bits, data.data() + 2 * i, sizeof bits);
    floats[i] = half.isF16() ? halfBitsToFloat(bits) : kiln_bf16_to_float(bits);
  }
  RankedTensorType wideType = type.clone(Float32Type::get(node.getContext()));
  auto attr = DenseResourceElementsAttr::get(
      wideType, resource.getRawHandle().getKey().str() + ".f32",
      HeapAsmResourceBlob::allocateAndCopyWithAlign(
          ArrayRef<char>(reinterpret_cast<const char *>(floats.data()), count * sizeof(float)),
          alignof(std::max_align_t)));
  return ConstantOp::create(node.getBuilder(), constant.getLoc(), attr);
}
