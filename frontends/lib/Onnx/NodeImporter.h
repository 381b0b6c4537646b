//===- NodeImporter.h - What an op handler sees of one ONNX node -*- C++ -*-===//
//
// Op handlers (Ops/*.cpp) turn one ONNX node into kiln ops. They read inputs
// and attributes through NodeImporter, build ops with `create<OpTy>` (which
// infers result types, reports failures at the node and folds constants), and
// bind outputs with `setOutput`.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_FRONTENDS_ONNX_NODEIMPORTER_H
#define KILN_FRONTENDS_ONNX_NODEIMPORTER_H

#include "kiln/Dialect/Kiln/KilnOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include "onnx/onnx_pb.h"

namespace mlir::kiln::onnx_import {

/// Values of the ONNX graph by name.
using ValueMap = llvm::StringMap<Value>;

class NodeImporter {
public:
  NodeImporter(OpBuilder &builder, const onnx::NodeProto &node, Location loc,
               int64_t opset, ValueMap &values)
      : builder(builder), node(node), loc(loc), opset(opset), values(values) {}

  OpBuilder &getBuilder() { return builder; }
  Location getLoc() const { return loc; }
  int64_t getOpset() const { return opset; }
  const onnx::NodeProto &getNode() const { return node; }
  MLIRContext *getContext() { return builder.getContext(); }

  /// An error at the node; the message names the op type.
  InFlightDiagnostic emitError() const;

  //--- Inputs -------------------------------------------------------------//
  size_t numInputs() const { return node.input_size(); }
  /// The i-th input, or a null Value when it is absent or omitted ("").
  Value input(size_t i);
  /// The i-th input, required: emits an error when absent.
  FailureOr<Value> requiredInput(size_t i);
  /// The values of an input that must be a compile-time int constant
  /// (axes, split sizes, pads): emits an error naming it otherwise.
  FailureOr<SmallVector<int64_t>> constantInts(size_t i, StringRef what);
  /// The values of an input that must be a compile-time float (or int)
  /// constant (Resize's scales and roi), as doubles.
  FailureOr<SmallVector<double>> constantFloats(size_t i, StringRef what);
  /// The single float value of an optional constant scalar input.
  FailureOr<std::optional<double>> constantScalar(size_t i, StringRef what);
  RankedTensorType inputType(size_t i) {
    return cast<RankedTensorType>(input(i).getType());
  }

  //--- Attributes ---------------------------------------------------------//
  // The typed readers check the attribute's type as ONNX's checker does: an
  // attribute of another type (Softmax's axis given as 1.5) is an error at
  // the node, which then fails to import; the reader returns its default
  // meanwhile, so handlers need not check.
  /// The attribute `name` (of any type), or null when the node lacks it.
  const onnx::AttributeProto *attribute(StringRef name) const;
  /// The attribute `name` if the node has it with type `type`; null when the
  /// node lacks it or it has another type (reported).
  const onnx::AttributeProto *attribute(StringRef name,
                                        onnx::AttributeProto::AttributeType type) const;
  int64_t intAttr(StringRef name, int64_t defaultValue) const;
  float floatAttr(StringRef name, float defaultValue) const;
  std::string stringAttr(StringRef name, StringRef defaultValue) const;
  std::optional<SmallVector<int64_t>> intsAttr(StringRef name) const;
  std::optional<SmallVector<float>> floatsAttr(StringRef name) const;
  const onnx::TensorProto *tensorAttr(StringRef name) const;
  /// Whether a typed reader met an attribute of the wrong type.
  bool hadAttributeTypeError() const { return attributeTypeError; }
  /// Records that attribute `name`, whatever its value, does not change
  /// what Kiln computes for the node (Dropout's seed at inference), so
  /// that leaving it unread is no error.
  void attributeHasNoEffect(StringRef name) { noEffectAttributes.insert(name); }
  /// Reports the first attribute of the node that the handler neither read
  /// nor marked as having no effect, unless its value is ONNX's default:
  /// Kiln would ignore it (AttributeUse.cpp).
  LogicalResult checkEveryAttributeRead() const;

  //--- Outputs ------------------------------------------------------------//
  size_t numOutputs() const { return node.output_size(); }
  /// True when output i exists and something in the graph reads it.
  bool isOutputUsed(size_t i) const;
  void setOutput(size_t i, Value value);

  //--- Building -----------------------------------------------------------//
  /// Builds OpTy with inferred result types and folds it when its operands
  /// are constants. Inference errors are reported at the node.
  template <typename OpTy>
  FailureOr<SmallVector<Value>> createMulti(ValueRange operands,
                                            ArrayRef<NamedAttribute> attrs,
                                            unsigned numResults) {
    auto placeholder = UnrankedTensorType::get(builder.getF32Type());
    SmallVector<Type> types(numResults, placeholder);
    auto op = OpTy::create(builder, loc, types, operands, attrs);
    return finishCreate(op.getOperation());
  }
  template <typename OpTy>
  FailureOr<Value> create(ValueRange operands, ArrayRef<NamedAttribute> attrs = {}) {
    auto results = createMulti<OpTy>(operands, attrs, 1);
    if (failed(results))
      return failure();
    return results->front();
  }

  /// Builds OpTy like `create` and binds its result to output 0.
  template <typename OpTy>
  LogicalResult createOutput(ValueRange operands, ArrayRef<NamedAttribute> attrs = {}) {
    auto result = create<OpTy>(operands, attrs);
    if (failed(result))
      return failure();
    setOutput(0, *result);
    return success();
  }

  /// An i64 1-D constant.
  Value i64Constant(ArrayRef<int64_t> values);
  /// A scalar (0-D) constant of `elementType`.
  Value scalarConstant(Type elementType, double value);

  NamedAttribute named(StringRef name, Attribute value) {
    return builder.getNamedAttr(name, value);
  }
  /// Normalises an ONNX axis for `rank`, reporting an out-of-range axis.
  FailureOr<int64_t> axis(int64_t value, int64_t rank);
  /// Normalises a list of ONNX axes for `rank` (in their order); every axis
  /// 0..rank-1 when there is no list.
  FailureOr<SmallVector<int64_t>> axesOrAll(std::optional<SmallVector<int64_t>> values,
                                           int64_t rank);

private:
  FailureOr<SmallVector<Value>> finishCreate(Operation *op);

  OpBuilder &builder;
  const onnx::NodeProto &node;
  Location loc;
  int64_t opset;
  ValueMap &values;
  mutable bool attributeTypeError = false;
  /// The attribute names handlers asked for (read or looked for).
  mutable llvm::StringSet<> readAttributes;
  llvm::StringSet<> noEffectAttributes;

public:
  /// Names read by later nodes or graph outputs (set by the graph importer).
  const llvm::StringSet<> *usedNames = nullptr;
  /// The model's folder, against which external data of tensor attributes
  /// (a Constant's value) is resolved.
  StringRef modelDir;
};

/// The explicit pads (begins, then ends) of a Conv or pooling node over
/// spatial dims of sizes `inputSpatial`: its `pads`, or those its auto_pad
/// (SAME_UPPER, SAME_LOWER, VALID) implies, which needs static dims.
FailureOr<SmallVector<int64_t>> windowPads(NodeImporter &n, ArrayRef<int64_t> inputSpatial,
                                           ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
                                           ArrayRef<int64_t> dilations);

/// A Conv-like node's input and weight (its inputs 0 and 1) and the
/// kiln.conv attributes it gives (strides, explicit pads, dilations, group).
struct ConvNode {
  Value input, weight;
  SmallVector<NamedAttribute> attrs;
};
FailureOr<ConvNode> readConvNode(NodeImporter &n);

/// A handler imports one node; it reports its own errors.
using OpHandler = LogicalResult (*)(NodeImporter &);

/// The handler for `opType` in the default domain, or null.
OpHandler lookupOpHandler(StringRef opType);

/// How many inputs and outputs a node of an op type may list, from ONNX's
/// schemas (omitted optional inputs count when followed by given ones).
struct OpArity {
  int minInputs, maxInputs, minOutputs, maxOutputs;
};
inline constexpr int kVariadic = INT32_MAX;

/// The arity of `opType` at `opset`; every op with a handler has one.
std::optional<OpArity> lookupOpArity(StringRef opType, int64_t opset);

// Registration of each op family (Ops/*.cpp) into the table.
void registerElementwiseOps(llvm::StringMap<OpHandler> &table);
void registerContractionOps(llvm::StringMap<OpHandler> &table);
void registerReductionOps(llvm::StringMap<OpHandler> &table);
void registerShapeOps(llvm::StringMap<OpHandler> &table);
void registerNNOps(llvm::StringMap<OpHandler> &table);
void registerNormalizationOps(llvm::StringMap<OpHandler> &table);
void registerRearrangeOps(llvm::StringMap<OpHandler> &table);
void registerResizeOps(llvm::StringMap<OpHandler> &table);
void registerAttentionOps(llvm::StringMap<OpHandler> &table);
void registerLossOps(llvm::StringMap<OpHandler> &table);
void registerGeneratorOps(llvm::StringMap<OpHandler> &table);
void registerEinsumOps(llvm::StringMap<OpHandler> &table);
void registerIndexingOps(llvm::StringMap<OpHandler> &table);
void registerQuantizationOps(llvm::StringMap<OpHandler> &table);

} // namespace mlir::kiln::onnx_import

#endif // KILN_FRONTENDS_ONNX_NODEIMPORTER_H
