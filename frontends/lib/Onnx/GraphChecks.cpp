//===- GraphChecks.cpp - ONNX checker rules the importer enforces ---------===//
//
// A model from a fuzzer or a broken exporter can break the rules ONNX's
// checker enforces: a value assigned twice, a node reading a value nothing
// (or only a later node) produces, a node without op type or with more or
// fewer inputs or outputs than its op takes, an attribute whose value sits in
// a field of another type. Each is an error here, located at the node, before
// the node handlers see the graph.
//
//===----------------------------------------------------------------------===//

#include "GraphChecks.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;
using namespace mlir::kiln::onnx_import;

std::string mlir::kiln::onnx_import::nodeName(const onnx::NodeProto &node, size_t index) {
  if (!node.name().empty())
    return node.name();
  return (node.op_type().empty() ? "node" : node.op_type()) + "_" + std::to_string(index);
}

Location mlir::kiln::onnx_import::nodeLocation(MLIRContext *context,
                                               const onnx::NodeProto &node, size_t index) {
  return NameLoc::get(StringAttr::get(context, nodeName(node, index)),
                      NameLoc::get(StringAttr::get(context, node.op_type())));
}

/// What is wrong with an attribute in itself, or "": no name, no type, or a
/// value in a field of another type than its type says (ONNX's "type field
/// and data field mismatch").
static std::string attributeProblem(const onnx::AttributeProto &attr) {
  using A = onnx::AttributeProto;
  if (attr.name().empty())
    return "an attribute has no name";
  std::string name = "attribute '" + attr.name() + "'";
  if (attr.type() == A::UNDEFINED)
    return name + " has no type";
  std::pair<bool, A::AttributeType> fields[] = {
      {attr.has_f(), A::FLOAT},
      {attr.has_i(), A::INT},
      {attr.has_s(), A::STRING},
      {attr.has_t(), A::TENSOR},
      {attr.has_g(), A::GRAPH},
      {attr.has_sparse_tensor(), A::SPARSE_TENSOR},
      {attr.has_tp(), A::TYPE_PROTO},
      {attr.floats_size() > 0, A::FLOATS},
      {attr.ints_size() > 0, A::INTS},
      {attr.strings_size() > 0, A::STRINGS},
      {attr.tensors_size() > 0, A::TENSORS},
      {attr.graphs_size() > 0, A::GRAPHS},
      {attr.sparse_tensors_size() > 0, A::SPARSE_TENSORS},
      {attr.type_protos_size() > 0, A::TYPE_PROTOS}};
  for (auto [set, type] : fields)
    if (set && type != attr.type())
      return name + " has type " + A::AttributeType_Name(attr.type()) +
             " but holds a value of type " + A::AttributeType_Name(type);
  return "";
}

/// Checks the node's input and output counts against its op's arity.
static LogicalResult checkArity(const onnx::NodeProto &node, OpArity arity, Location loc) {
  auto check = [&](StringRef what, int count, int min, int max) {
    if (count >= min && count <= max)
      return success();
    InFlightDiagnostic diag = emitError(loc)
                              << "ONNX " << node.op_type() << ": the node has " << count
                              << " " << what << (count == 1 ? "" : "s") << ", the op takes ";
    if (max == kVariadic)
      diag << "at least " << min;
    else if (min == max)
      diag << min;
    else
      diag << min << " to " << max;
    return failure();
  };
  if (failed(check("input", node.input_size(), arity.minInputs, arity.maxInputs)) ||
      failed(check("output", node.output_size(), arity.minOutputs, arity.maxOutputs)))
    return failure();
  // Only a variadic output list (Split's) may leave its first entry empty.
  if (arity.maxOutputs != kVariadic && node.output(0).empty()) {
    emitError(loc) << "ONNX " << node.op_type() << ": output 0 is required but has no name";
    return failure();
  }
  return success();
}

LogicalResult mlir::kiln::onnx_import::checkGraphStructure(const onnx::GraphProto &graph,
                                                           int64_t opset, Location fileLoc,
                                                           bool checkArity) {
  // What produces each value seen so far, for messages.
  llvm::StringMap<std::string> producedBy;
  for (const onnx::ValueInfoProto &input : graph.input()) {
    if (input.name().empty()) {
      emitError(fileLoc) << "a graph input has no name";
      return failure();
    }
    if (!producedBy.try_emplace(input.name(), "graph input '" + input.name() + "'").second) {
      emitError(fileLoc) << "graph input '" << input.name() << "' is listed twice";
      return failure();
    }
  }
  llvm::StringSet<> initializers;
  for (const onnx::TensorProto &init : graph.initializer()) {
    if (init.name().empty()) {
      emitError(fileLoc) << "an initializer has no name";
      return failure();
    }
    if (!initializers.insert(init.name()).second) {
      emitError(fileLoc) << "initializer '" << init.name() << "' is given twice";
      return failure();
    }
    // A graph input may share its name: the initializer is its default.
    producedBy.try_emplace(init.name(), "initializer '" + init.name() + "'");
  }
  // The first node writing each name, to tell a value produced too late
  // from one produced nowhere.
  llvm::StringMap<size_t> firstWriter;
  for (auto [index, node] : llvm::enumerate(graph.node()))
    for (const std::string &output : node.output())
      if (!output.empty())
        firstWriter.try_emplace(output, index);

  for (auto [index, node] : llvm::enumerate(graph.node())) {
    Location loc = nodeLocation(fileLoc.getContext(), node, index);
    if (node.op_type().empty()) {
      emitError(loc) << "the node has no op_type";
      return failure();
    }
    auto error = [&, &node = node] { return emitError(loc) << "ONNX " << node.op_type() << ": "; };
    llvm::StringSet<> attributeNames;
    for (const onnx::AttributeProto &attr : node.attribute()) {
      std::string problem = attributeProblem(attr);
      if (problem.empty() && !attributeNames.insert(attr.name()).second)
        problem = "attribute '" + attr.name() + "' is given twice";
      if (!problem.empty()) {
        error() << problem;
        return failure();
      }
    }
    bool defaultDomain = node.domain().empty() || node.domain() == "ai.onnx";
    if (std::optional<OpArity> arity = lookupOpArity(node.op_type(), opset);
        checkArity && arity && defaultDomain && failed(::checkArity(node, *arity, loc)))
      return failure();
    for (const std::string &input : node.input()) {
      if (input.empty() || producedBy.count(input))
        continue;
      auto writer = firstWriter.find(input);
      if (writer == firstWriter.end())
        error() << "input '" << input
                << "' is not produced by any node, initializer or graph input";
      else
        error() << "input '" << input << "' is produced by node '"
                << nodeName(graph.node(writer->second), writer->second)
                << "', which does not come before it; ONNX graphs must be "
                   "topologically sorted";
      return failure();
    }
    for (const std::string &output : node.output()) {
      if (output.empty())
        continue;
      auto [it, inserted] =
          producedBy.try_emplace(output, "node '" + nodeName(node, index) + "'");
      if (!inserted) {
        error() << "output '" << output << "' is already produced by " << it->second
                << " (an ONNX value is assigned once)";
        return failure();
      }
    }
  }
  for (const onnx::ValueInfoProto &output : graph.output()) {
    if (!producedBy.count(output.name())) {
      emitError(fileLoc) << "graph output '" << output.name() << "' is produced by no node";
      return failure();
    }
  }
  return success();
}
