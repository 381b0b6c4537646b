//===- OnnxImporter.cpp - ONNX graph to a kiln function -------------------===//
//
// The graph becomes `func.func @main`: graph inputs are arguments (named by
// `kiln.input_name`, symbolic dims kept as `?` and named by `kiln.dim_names`),
// initializers are constants, every node goes through its op handler, and
// graph outputs are returned (named by `kiln.output_name`).
//
//===----------------------------------------------------------------------===//

#include "kiln/Frontends/Onnx/OnnxImporter.h"
#include "GraphChecks.h"
#include "HalfPrecisionNodes.h"
#include "NodeImporter.h"
#include "OnnxModelReader.h"
#include "OnnxTensors.h"
#include "kiln/Dialect/Kiln/KilnShapeUtils.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Path.h"

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::onnx_import;

std::string mlir::kiln::parseInputShapes(StringRef text, OnnxImportOptions &options) {
  SmallVector<StringRef> entries;
  text.split(entries, ',', -1, /*KeepEmpty=*/false);
  for (StringRef entry : entries) {
    entry = entry.trim();
    auto [name, dims] = entry.split('=');
    name = name.trim();
    if (name.empty() || dims.empty())
      return ("bad --input-shape entry '" + entry + "': expected name=DxDx...").str();
    SmallVector<int64_t> shape;
    SmallVector<StringRef> parts;
    dims.split(parts, 'x');
    for (StringRef part : parts) {
      int64_t d;
      if (part.trim().getAsInteger(10, d) || d < 0)
        return ("bad dim '" + part + "' in --input-shape entry '" + entry + "'").str();
      shape.push_back(d);
    }
    options.inputShapes[name] = shape;
  }
  return "";
}

std::string mlir::kiln::parseNamedDims(StringRef text, OnnxImportOptions &options) {
  SmallVector<StringRef> entries;
  text.split(entries, ',', -1, /*KeepEmpty=*/false);
  for (StringRef entry : entries) {
    entry = entry.trim();
    auto [name, value] = entry.split('=');
    name = name.trim();
    int64_t size;
    if (name.empty() || value.trim().getAsInteger(10, size) || size < 0)
      return ("bad --dim entry '" + entry + "': expected name=N with N >= 0 (e.g. batch=1)")
          .str();
    options.namedDims[name] = size;
  }
  return "";
}

namespace {

/// Imports one ONNX graph into a function.
class GraphImporter {
public:
  GraphImporter(MLIRContext &context, onnx::ModelProto &model, int64_t opset,
                StringRef modelPath, const OnnxImportOptions &options)
      : context(context), model(model), graph(*model.mutable_graph()), opset(opset),
        modelPath(modelPath), modelDir(llvm::sys::path::parent_path(modelPath)),
        options(options), builder(&context) {}

  OwningOpRef<ModuleOp> run();

private:
  LogicalResult checkSupportedOps();
  FailureOr<Type> inputType(const onnx::ValueInfoProto &info, ArrayAttr &dimNames);
  LogicalResult importInputs(func::FuncOp func);
  LogicalResult resolveNamedDims(const llvm::StringSet<> &initializers);
  /// Named dims' sizes: --dim, and those --input-shape gives named dims.
  llvm::StringMap<int64_t> namedDims;
  LogicalResult importInitializers();
  LogicalResult importNode(const onnx::NodeProto &node, size_t index);

  MLIRContext &context;
  onnx::ModelProto &model;
  onnx::GraphProto &graph;
  int64_t opset;
  StringRef modelPath;
  StringRef modelDir;
  const OnnxImportOptions &options;
  OpBuilder builder;
  ValueMap values;
  HalfPrecisionNodes halfPrecisionNodes;
  llvm::StringSet<> usedNames;
  Location fileLoc = UnknownLoc::get(&context);
};

} // namespace

LogicalResult GraphImporter::checkSupportedOps() {
  // op type -> names of the nodes using it, in graph order.
  std::vector<std::pair<std::string, SmallVector<std::string>>> unsupported;
  llvm::StringMap<size_t> indexOf;
  for (auto [index, node] : llvm::enumerate(graph.node())) {
    bool defaultDomain = node.domain().empty() || node.domain() == "ai.onnx";
    if (defaultDomain && lookupOpHandler(node.op_type()))
      continue;
    std::string opType = defaultDomain ? node.op_type()
                                       : node.domain() + "." + node.op_type();
    std::string name = nodeName(node, index);
    auto [it, inserted] = indexOf.try_emplace(opType, unsupported.size());
    if (inserted)
      unsupported.push_back({opType, {}});
    unsupported[it->second].second.push_back(name);
  }
  if (unsupported.empty())
    return success();
  InFlightDiagnostic diag = emitError(fileLoc);
  diag << "the model uses " << unsupported.size()
       << " unsupported ONNX op type(s): ";
  bool first = true;
  for (auto &[opType, nodes] : unsupported) {
    diag << (first ? "" : "; ") << opType << " (" << nodes.size() << " node"
         << (nodes.size() == 1 ? "" : "s") << ": ";
    first = false;
    for (size_t i = 0; i < nodes.size() && i < 3; ++i)
      diag << (i ? ", " : "") << "'" << nodes[i] << "'";
    if (nodes.size() > 3)
      diag << ", ...";
    diag << ")";
  }
  return failure();
}

FailureOr<Type> GraphImporter::inputType(const onnx::ValueInfoProto &info,
                                         ArrayAttr &dimNames) {
  if (!info.type().has_tensor_type()) {
    emitError(fileLoc) << "graph input '" << info.name()
                       << "' is not a tensor (sequences, maps and optionals are "
                          "not supported)";
    return failure();
  }
  const onnx::TypeProto::Tensor &tensor = info.type().tensor_type();
  Type elementType = getElementType(&context, tensor.elem_type());
  if (!elementType) {
    emitError(fileLoc) << "graph input '" << info.name() << "' has unsupported type "
                       << dataTypeName(tensor.elem_type());
    return failure();
  }
  auto specialised = options.inputShapes.find(info.name());
  if (!tensor.has_shape() && specialised == options.inputShapes.end()) {
    emitError(fileLoc) << "graph input '" << info.name()
                       << "' has no shape (not even a rank); give one with "
                          "--input-shape "
                       << info.name() << "=DxD...";
    return failure();
  }
  SmallVector<int64_t> shape;
  SmallVector<Attribute> names;
  for (const onnx::TensorShapeProto::Dimension &dim : tensor.shape().dim()) {
    if (dim.has_dim_value() && dim.dim_value() < 0) {
      emitError(fileLoc) << "graph input '" << info.name() << "' has a negative dim "
                         << dim.dim_value();
      return failure();
    }
    shape.push_back(dim.has_dim_value() ? dim.dim_value() : ShapedType::kDynamic);
    names.push_back(StringAttr::get(&context, dim.has_dim_param() ? dim.dim_param() : ""));
    // A named dim given a size (--dim, or another input's --input-shape).
    if (!dim.has_dim_value() && dim.has_dim_param())
      if (auto it = namedDims.find(dim.dim_param()); it != namedDims.end())
        shape.back() = it->second;
  }
  if (specialised != options.inputShapes.end()) {
    ArrayRef<int64_t> given = specialised->second;
    if (tensor.has_shape() && given.size() != shape.size()) {
      emitError(fileLoc) << "--input-shape gives input '" << info.name() << "' rank "
                         << given.size() << ", the model says rank " << shape.size();
      return failure();
    }
    for (size_t i = 0; i < shape.size(); ++i) {
      if (shape[i] != ShapedType::kDynamic && shape[i] != given[i]) {
        emitError(fileLoc) << "--input-shape sets dim " << i << " of input '"
                           << info.name() << "' to " << given[i]
                           << ", but the model fixes it at " << shape[i];
        return failure();
      }
    }
    shape.assign(given.begin(), given.end());
    names.resize(shape.size(), StringAttr::get(&context, ""));
  }
  if (!boundedElementCount(shape)) {
    emitError(fileLoc) << "graph input '" << info.name() << "' would have more than 2^40 "
                       << "elements (" << RankedTensorType::get(shape, elementType)
                       << "); Kiln cannot compile tensors that large";
    return failure();
  }
  dimNames = ArrayAttr::get(&context, names);
  return Type(RankedTensorType::get(shape, elementType));
}

/// The sizes of named dims: --dim's, plus those --input-shape gives an
/// input's named dims (so that `--input-shape input_ids=1x128` also sizes
/// attention_mask's dims called batch and sequence). Two different sizes
/// for one name, and a --dim name no input has, are errors.
LogicalResult GraphImporter::resolveNamedDims(const llvm::StringSet<> &initializers) {
  namedDims = options.namedDims;
  llvm::StringMap<std::string> givenBy; // name -> where its size came from
  for (const auto &entry : options.namedDims)
    givenBy[entry.getKey()] = "--dim";
  llvm::StringSet<> allNames;
  for (const onnx::ValueInfoProto &info : graph.input()) {
    if (initializers.contains(info.name()) || !info.type().has_tensor_type() ||
        !info.type().tensor_type().has_shape())
      continue;
    const auto &dims = info.type().tensor_type().shape().dim();
    auto given = options.inputShapes.find(info.name());
    for (int i = 0; i < dims.size(); ++i) {
      if (!dims[i].has_dim_param() || dims[i].has_dim_value())
        continue;
      StringRef name = dims[i].dim_param();
      allNames.insert(name);
      if (given == options.inputShapes.end() || i >= (int)given->second.size())
        continue;
      int64_t size = given->second[i];
      std::string where = "--input-shape " + info.name();
      auto [it, inserted] = namedDims.try_emplace(name, size);
      if (!inserted && it->second != size) {
        emitError(fileLoc) << "dim '" << name << "' is " << it->second << " by "
                           << givenBy[name] << " but " << size << " by " << where
                           << " (inputs' dims of one name have one size)";
        return failure();
      }
      givenBy.try_emplace(name, where);
    }
  }
  for (const auto &entry : options.namedDims) {
    if (allNames.contains(entry.getKey()))
      continue;
    InFlightDiagnostic diag = emitError(fileLoc)
                              << "--dim names '" << entry.getKey()
                              << "', which no input's dims are called";
    if (allNames.empty()) {
      diag << "; the inputs have no named dims";
    } else {
      SmallVector<StringRef> names;
      for (const auto &name : allNames)
        names.push_back(name.getKey());
      llvm::sort(names);
      diag << "; the named dims are:";
      for (StringRef name : names)
        diag << " '" << name << "'";
    }
    return failure();
  }
  return success();
}

LogicalResult GraphImporter::importInputs(func::FuncOp func) {
  llvm::StringSet<> initializers;
  for (const onnx::TensorProto &init : graph.initializer())
    initializers.insert(init.name());
  if (failed(resolveNamedDims(initializers)))
    return failure();
  // The importer accepts every specialised name only if it names an input.
  llvm::StringSet<> inputNames;
  SmallVector<Type> types;
  SmallVector<DictionaryAttr> argAttrs;
  for (const onnx::ValueInfoProto &info : graph.input()) {
    if (initializers.contains(info.name()))
      continue; // IR < 4 lists initializers among the inputs
    ArrayAttr dimNames;
    FailureOr<Type> type = inputType(info, dimNames);
    if (failed(type))
      return failure();
    inputNames.insert(info.name());
    types.push_back(*type);
    argAttrs.push_back(builder.getDictionaryAttr(
        {builder.getNamedAttr("kiln.input_name", builder.getStringAttr(info.name())),
         builder.getNamedAttr("kiln.dim_names", dimNames)}));
  }
  for (const auto &entry : options.inputShapes) {
    if (inputNames.contains(entry.getKey()))
      continue;
    InFlightDiagnostic diag = emitError(fileLoc)
                              << "--input-shape names '" << entry.getKey()
                              << "', which is not a graph input; inputs are:";
    for (const auto &name : inputNames)
      diag << " '" << name.getKey() << "'";
    return failure();
  }
  func.setType(builder.getFunctionType(types, {}));
  Block *entry = func.addEntryBlock();
  size_t argIndex = 0;
  for (const onnx::ValueInfoProto &info : graph.input()) {
    if (initializers.contains(info.name()))
      continue;
    func.setArgAttrs(argIndex, argAttrs[argIndex]);
    values[info.name()] = entry->getArgument(argIndex++);
  }
  builder.setInsertionPointToStart(entry);
  return success();
}

LogicalResult GraphImporter::importInitializers() {
  for (onnx::TensorProto &init : *graph.mutable_initializer()) {
    if (values.count(init.name()))
      continue; // an input with a default value: the input wins
    // Problems with the data are the file's; the constant is named after
    // the initializer.
    ElementsAttr attr = convertTensor(init, init.name(), modelDir, fileLoc);
    Location loc = NameLoc::get(StringAttr::get(&context, init.name()));
    if (!attr)
      return failure();
    values[init.name()] = ConstantOp::create(builder, loc, attr);
  }
  return success();
}

LogicalResult GraphImporter::importNode(const onnx::NodeProto &node, size_t index) {
  // checkGraphStructure saw that the node's input and output counts are
  // right and that every input is produced before it.
  Location loc = nodeLocation(&context, node, index);
  NodeImporter importer(builder, node, loc, opset, values);
  importer.usedNames = &usedNames;
  importer.modelDir = modelDir;
  if (failed(halfPrecisionNodes.widenInputs(importer, values)) ||
      failed(lookupOpHandler(node.op_type())(importer)) || importer.hadAttributeTypeError() ||
      failed(importer.checkEveryAttributeRead()) ||
      failed(halfPrecisionNodes.narrowOutputs(importer, values)))
    return failure();
  for (int i = 0; i < node.output_size(); ++i) {
    if (importer.isOutputUsed(i) && !values.count(node.output(i))) {
      emitError(loc) << "ONNX " << node.op_type() << ": output " << i << " ('"
                     << node.output(i) << "') is used but Kiln does not compute it";
      return failure();
    }
  }
  return success();
}

OwningOpRef<ModuleOp> GraphImporter::run() {
  fileLoc = FileLineColLoc::get(&context, modelPath, 0, 0);
  if (failed(checkGraphStructure(graph, opset, fileLoc)) || failed(checkSupportedOps()))
    return nullptr;
  for (const onnx::NodeProto &node : graph.node())
    for (const std::string &input : node.input())
      usedNames.insert(input);
  for (const onnx::ValueInfoProto &output : graph.output())
    usedNames.insert(output.name());

  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  builder.setInsertionPointToEnd(module->getBody());
  auto func = func::FuncOp::create(builder, fileLoc, "main", builder.getFunctionType({}, {}));
  if (failed(importInputs(func)) || failed(importInitializers()))
    return nullptr;
  for (auto [index, node] : llvm::enumerate(graph.node()))
    if (failed(importNode(node, index)))
      return nullptr;

  SmallVector<Value> results;
  SmallVector<Type> resultTypes;
  for (const onnx::ValueInfoProto &output : graph.output()) {
    Value v = values.lookup(output.name());
    if (!v) {
      emitError(fileLoc) << "graph output '" << output.name()
                         << "' is produced by no node";
      return nullptr;
    }
    results.push_back(v);
    resultTypes.push_back(v.getType());
  }
  func::ReturnOp::create(builder, fileLoc, results);
  func.setType(builder.getFunctionType(func.getArgumentTypes(), resultTypes));
  for (auto [i, output] : llvm::enumerate(graph.output()))
    func.setResultAttr(i, "kiln.output_name", builder.getStringAttr(output.name()));
  return module;
}

OwningOpRef<ModuleOp> mlir::kiln::importOnnxModel(StringRef path, MLIRContext &context,
                                                  const OnnxImportOptions &options) {
  context.loadDialect<KilnDialect, func::FuncDialect>();
  int64_t opset = 0;
  std::unique_ptr<onnx::ModelProto> model = onnx_import::readOnnxModel(path, context, opset);
  if (!model)
    return nullptr;
  return GraphImporter(context, *model, opset, path, options).run();
}
