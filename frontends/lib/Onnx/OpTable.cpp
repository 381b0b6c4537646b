//===- OpTable.cpp - ONNX op type to handler ------------------------------===//
//
// One table for the default domain; each op family registers its handlers
// (Ops/*.cpp). Handlers see the model's opset and branch on it where an op's
// signature changed (attributes that became inputs, say).
//
//===----------------------------------------------------------------------===//

#include "NodeImporter.h"
#include "kiln/Frontends/Onnx/OnnxImporter.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::onnx_import;

/// ONNX's input and output counts of every op with a handler, in opsets 13
/// to 23 (lookupOpArity adjusts the few that changed in between).
static const llvm::StringMap<OpArity> &arityTable() {
  static const llvm::StringMap<OpArity> table = [] {
    llvm::StringMap<OpArity> t;
    auto add = [&](OpArity arity, std::initializer_list<StringRef> ops) {
      for (StringRef op : ops)
        t[op] = arity;
    };
    add({0, 0, 1, 1}, {"Constant"});
    add({1, 1, 1, 1},
        {"Abs", "Acos", "Acosh", "ArgMax", "ArgMin", "Asin", "Asinh", "Atan", "Atanh",
         "AveragePool", "BitwiseNot", "Cast", "Ceil", "ConstantOfShape", "Cos", "Cosh",
         "DepthToSpace", "Elu", "Erf", "Exp", "EyeLike", "Flatten", "Floor", "Gelu",
         "GlobalAveragePool", "GlobalMaxPool", "HardSigmoid", "HardSwish", "Hardmax",
         "Identity", "IsInf", "IsNaN", "LeakyRelu", "Log", "LogSoftmax", "LpPool",
         "MeanVarianceNormalization", "Mish", "Neg", "Not", "Reciprocal", "Relu", "Round",
         "Selu", "Shape", "Sigmoid", "Sign", "Sin", "Sinh", "Size", "Softmax", "Softplus",
         "Softsign", "SpaceToDepth", "Sqrt", "Tan", "Tanh", "ThresholdedRelu", "Transpose"});
    // Ops composed of other kiln ops (Ops/AttentionOps.cpp, LossOps.cpp,
    // GeneratorOps.cpp, EinsumOps.cpp and the families' files).
    add({1, 1, 1, 1}, {"BlackmanWindow", "Celu", "HammingWindow", "HannWindow", "Shrink"});
    add({1, 1, 1, 1}, {"Det", "LRN"});
    add({2, 2, 1, 1}, {"Compress", "ReverseSequence"});
    add({2, 3, 1, 1}, {"MaxUnpool"});
    add({3, 3, 1, 1}, {"Col2Im"});
    add({2, 2, 1, 1}, {"AffineGrid", "CenterCropPad"});
    add({1, kVariadic, 1, 1}, {"Einsum"});
    add({2, 3, 1, 1}, {"NegativeLogLikelihoodLoss"});
    add({2, 3, 1, 2}, {"SoftmaxCrossEntropyLoss"});
    add({3, 4, 1, 1}, {"RotaryEmbedding"});
    add({3, 6, 1, 4}, {"Attention"});
    add({1, 1, 1, 2}, {"MaxPool"});
    add({1, 1, 3, 3}, {"DynamicQuantizeLinear"});
    add({1, 2, 1, 1},
        {"ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax", "ReduceMean",
         "ReduceMin", "ReduceProd", "ReduceSum", "ReduceSumSquare", "Squeeze", "Trilu"});
    add({1, 2, 1, kVariadic}, {"Split"});
    add({1, 3, 1, 1}, {"Clip"});
    add({1, 3, 1, 2}, {"Dropout"});
    add({1, 4, 1, 1}, {"Resize"});
    add({1, kVariadic, 1, 1}, {"Concat", "Max", "Mean", "Min", "Sum"});
    add({2, 2, 1, 1},
        {"Add", "And", "BitShift", "BitwiseAnd", "BitwiseOr", "BitwiseXor", "CastLike", "CumSum",
         "Div", "Equal", "Expand", "Gather", "GatherElements", "GatherND", "Greater",
         "GreaterOrEqual", "Less", "LessOrEqual", "MatMul", "Mod", "Mul", "Or", "PRelu", "Pow",
         "RMSNormalization", "Reshape", "Sub", "Tile", "Unsqueeze", "Xor"});
    add({2, 2, 1, 1}, {"GridSample"});
    add({2, 2, 2, 2}, {"TopK"});
    add({2, 3, 1, 1}, {"Conv", "ConvTranspose", "DequantizeLinear", "Gemm", "QuantizeLinear"});
    add({2, 4, 1, 1}, {"ConvInteger", "MatMulInteger"});
    add({2, 3, 1, 3}, {"LayerNormalization"});
    add({2, 4, 1, 1}, {"Pad"});
    add({3, 3, 1, 1}, {"GroupNormalization", "InstanceNormalization", "OneHot", "Range", "Scatter",
                       "ScatterElements", "ScatterND", "Where"});
    add({3, 5, 1, 1}, {"Slice"});
    add({5, 5, 1, 3}, {"BatchNormalization"});
    add({8, 8, 1, 1}, {"QLinearMatMul"});
    return t;
  }();
  return table;
}

std::optional<OpArity> mlir::kiln::onnx_import::lookupOpArity(StringRef opType,
                                                              int64_t opset) {
  auto it = arityTable().find(opType);
  if (it == arityTable().end())
    return std::nullopt;
  OpArity arity = it->second;
  // Before opset 18, Pad had no axes input and the Reduce ops but ReduceSum
  // took axes as an attribute; before 14, BatchNormalization had 5 outputs.
  if (opset < 18 && opType == "Pad")
    arity.maxInputs = 3;
  if (opset < 18 && opType.starts_with("Reduce") && opType != "ReduceSum")
    arity.maxInputs = 1;
  if (opset < 14 && opType == "BatchNormalization")
    arity.maxOutputs = 5;
  return arity;
}

static const llvm::StringMap<OpHandler> &opTable() {
  static const llvm::StringMap<OpHandler> table = [] {
    llvm::StringMap<OpHandler> t;
    registerElementwiseOps(t);
    registerContractionOps(t);
    registerReductionOps(t);
    registerShapeOps(t);
    registerNNOps(t);
    registerNormalizationOps(t);
    registerRearrangeOps(t);
    registerResizeOps(t);
    registerAttentionOps(t);
    registerLossOps(t);
    registerGeneratorOps(t);
    registerEinsumOps(t);
    registerIndexingOps(t);
    registerQuantizationOps(t);
    for (const auto &entry : t)
      if (!arityTable().contains(entry.getKey()))
        llvm::report_fatal_error("ONNX " + entry.getKey() + " has a handler but no arity");
    return t;
  }();
  return table;
}

OpHandler mlir::kiln::onnx_import::lookupOpHandler(StringRef opType) {
  return opTable().lookup(opType);
}

SmallVector<StringRef> mlir::kiln::supportedOnnxOps() {
  SmallVector<StringRef> names;
  for (const auto &entry : opTable())
    names.push_back(entry.getKey());
  llvm::sort(names);
  return names;
}
