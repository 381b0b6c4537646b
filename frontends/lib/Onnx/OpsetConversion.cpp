//===- OpsetConversion.cpp - Old ONNX opsets up to opset 13 ---------------===//
//
// Models exported at opsets 7..12 are rewritten to opset 13 by ONNX's own C++
// version converter (libonnx) before import, so the importer only knows the
// opset 13+ forms (Softmax over the last axis, axes and split sizes as inputs,
// Clip bounds as inputs, Resize instead of Upsample, ...).
//
// The converter copies the whole model twice (into its graph IR and back)
// and its IR drops external-data references, so weights are set aside first:
// every initializer that is stored externally or is larger than a few
// kilobytes is swapped out for a data-less stand-in with the same name, type and
// dims (what shape inference and the adapters need), and swapped back in by
// name afterwards. Small initializers stay: adapters and shape inference may
// read them (shape and axes tensors).
//
//===----------------------------------------------------------------------===//

#include "OpsetConversion.h"
#include "GraphChecks.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/Regex.h"

#include "onnx/shape_inference/implementation.h"
#include "onnx/version_converter/convert.h"

#include <exception>

using namespace mlir;
using namespace mlir::kiln::onnx_import;

namespace {

/// Initializers up to this size stay in the model while it is converted.
constexpr size_t kKeptInitializerBytes = 4096;

using TensorList = google::protobuf::RepeatedPtrField<onnx::TensorProto>;

/// Moves the large and external initializers of `graph` into the returned
/// list, leaving data-less stand-ins (name, type, dims) in their place.
TensorList setWeightsAside(onnx::GraphProto &graph) {
  TensorList aside;
  for (onnx::TensorProto &tensor : *graph.mutable_initializer()) {
    bool external = tensor.data_location() == onnx::TensorProto::EXTERNAL;
    if (!external && tensor.ByteSizeLong() <= kKeptInitializerBytes)
      continue;
    onnx::TensorProto *original = aside.Add();
    original->Swap(&tensor);
    tensor.set_name(original->name());
    tensor.set_data_type(original->data_type());
    *tensor.mutable_dims() = original->dims();
  }
  return aside;
}

/// Swaps the set-aside initializers back over their stand-ins in the
/// converted graph. An initializer the converter dropped stays dropped.
void putWeightsBack(onnx::GraphProto &graph, TensorList &aside) {
  llvm::StringMap<onnx::TensorProto *> byName;
  for (onnx::TensorProto &original : aside)
    byName[original.name()] = &original;
  for (onnx::TensorProto &tensor : *graph.mutable_initializer()) {
    auto it = byName.find(tensor.name());
    if (it == byName.end() || !it->second)
      continue;
    tensor.Swap(it->second);
    it->second = nullptr;
  }
}

/// ONNX's assertion messages start with its source location
/// ("/path/BaseConverter.h:68: adapter_lookup: Assertion `false` failed: ");
/// keeps what follows.
std::string conciseMessage(const char *what) {
  std::string message = what ? what : "";
  static constexpr llvm::StringLiteral marker = "failed: ";
  size_t at = message.find(marker.data());
  if (at != std::string::npos)
    message = message.substr(at + marker.size());
  while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
    message.pop_back();
  return message;
}

/// The first default-domain node whose op type the converter's message
/// names (e.g. "No Adapter From Version $9 for Upsample"), or null.
const onnx::NodeProto *nodeNamedIn(const std::string &message,
                                   const onnx::GraphProto &graph) {
  for (const onnx::NodeProto &node : graph.node()) {
    if (!node.domain().empty() && node.domain() != "ai.onnx")
      continue;
    llvm::Regex word("(^|[^A-Za-z0-9_])" + llvm::Regex::escape(node.op_type()) +
                     "($|[^A-Za-z0-9_])");
    if (word.match(message))
      return &node;
  }
  return nullptr;
}

} // namespace

LogicalResult mlir::kiln::onnx_import::convertToOpset13(onnx::ModelProto &model,
                                                        int64_t fromOpset,
                                                        Location fileLoc) {
  auto fail = [&](const std::string &why) {
    InFlightDiagnostic diag = emitError(fileLoc);
    diag << "cannot convert the model from ONNX opset " << fromOpset << " to "
         << kConvertedToOnnxOpset;
    if (const onnx::NodeProto *node = nodeNamedIn(why, model.graph()))
      diag << " at node '" << node->name() << "' (" << node->op_type() << ")";
    diag << ": " << why;
    return failure();
  };
  // ONNX's converter returns a null graph for these and then dereferences it.
  if (model.ir_version() < 2)
    return fail("the model's IR version " + std::to_string(model.ir_version()) +
                " is too old for ONNX's version converter");

  // ONNX's converter trusts the graph's structure: a graph output nothing
  // produces is a null pointer in its IR, which it dereferences (found by
  // kiln-fuzz-import). The checks of the import proper, but for the op
  // arities, which are those of opset 13 on: they run again after.
  if (failed(checkGraphStructure(model.graph(), fromOpset, fileLoc, /*checkArity=*/false)))
    return failure();
  // Nor does it check subgraphs (If, Loop, Scan), which Kiln does not import.
  for (const onnx::NodeProto &node : model.graph().node())
    for (const onnx::AttributeProto &attr : node.attribute())
      if (attr.has_g() || attr.graphs_size() > 0)
        return fail("node '" + node.name() + "' (" + node.op_type() +
                    ") has a subgraph, and Kiln does not import control flow");

  TensorList aside = setWeightsAside(*model.mutable_graph());
  onnx::ModelProto converted;
  try {
    // The Softmax adapter needs input ranks: infer what the exporter left
    // out. Inference errors are not fatal (the default options ignore them).
    onnx::shape_inference::InferShapes(model);
    converted = onnx::version_conversion::ConvertVersion(
        model, static_cast<int>(kConvertedToOnnxOpset));
  } catch (const std::exception &error) {
    return fail(conciseMessage(error.what()));
  } catch (...) {
    return fail("ONNX's version converter failed with an unknown exception");
  }
  putWeightsBack(*converted.mutable_graph(), aside);
  model.Swap(&converted);
  return success();
}
