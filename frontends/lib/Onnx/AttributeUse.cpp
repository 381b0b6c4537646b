//===- AttributeUse.cpp - No attribute of a node goes unread --------------===//
//
// An op handler reads the attributes it implements through NodeImporter,
// which records each name it is asked for. An attribute the handler never
// asked for is one Kiln would ignore: a Resize's antialias, a typo'd axis,
// an attribute of a newer opset. Computing on without it is a silent wrong
// result, so it is an error at the node, unless its value is the default
// ONNX's schema gives it (then ignoring it changes nothing) or the handler
// said that it has no effect on what Kiln computes (attributeHasNoEffect).
//
//===----------------------------------------------------------------------===//

#include "NodeImporter.h"

#include "onnx/defs/schema.h"

using namespace mlir;
using namespace mlir::kiln::onnx_import;

/// Whether `given` has the value of `schemaDefault` (a default of the types
/// exporters write; any other type counts as different).
static bool equalsDefault(const onnx::AttributeProto &given,
                          const onnx::AttributeProto &schemaDefault) {
  using A = onnx::AttributeProto;
  if (given.type() != schemaDefault.type())
    return false;
  switch (given.type()) {
  case A::INT:
    return given.i() == schemaDefault.i();
  case A::FLOAT:
    return given.f() == schemaDefault.f();
  case A::STRING:
    return given.s() == schemaDefault.s();
  case A::INTS:
    return std::equal(given.ints().begin(), given.ints().end(), schemaDefault.ints().begin(),
                      schemaDefault.ints().end());
  case A::FLOATS:
    return std::equal(given.floats().begin(), given.floats().end(),
                      schemaDefault.floats().begin(), schemaDefault.floats().end());
  default:
    return false;
  }
}

/// The attribute's value as the message shows it (scalars and short lists).
static std::string shownValue(const onnx::AttributeProto &attr) {
  using A = onnx::AttributeProto;
  auto list = [](const auto &values) {
    std::string s = "[";
    for (int i = 0; i < values.size() && i < 8; ++i)
      s += (i ? ", " : "") + std::to_string(values[i]);
    return s + (values.size() > 8 ? ", ...]" : "]");
  };
  switch (attr.type()) {
  case A::INT:
    return std::to_string(attr.i());
  case A::FLOAT:
    return std::to_string(attr.f());
  case A::STRING:
    return "'" + attr.s() + "'";
  case A::INTS:
    return list(attr.ints());
  case A::FLOATS:
    return list(attr.floats());
  default:
    return "a " + A::AttributeType_Name(attr.type());
  }
}

LogicalResult NodeImporter::checkEveryAttributeRead() const {
  // Only nodes of the default domain reach the handlers (checkSupportedOps).
  const onnx::OpSchema *schema =
      onnx::OpSchemaRegistry::Schema(node.op_type(), static_cast<int>(opset));
  for (const onnx::AttributeProto &attr : node.attribute()) {
    if (readAttributes.contains(attr.name()) || noEffectAttributes.contains(attr.name()))
      continue;
    const onnx::OpSchema::Attribute *known = nullptr;
    if (schema) {
      auto it = schema->attributes().find(attr.name());
      if (it != schema->attributes().end())
        known = &it->second;
    }
    if (known && !known->required && equalsDefault(attr, known->default_value))
      continue;
    InFlightDiagnostic diag = emitError();
    diag << "attribute '" << attr.name() << "' (" << shownValue(attr)
         << ") is not implemented: Kiln would ignore it and compute something other than "
            "the model says";
    // The schema may predate the model's opset (libonnx's registry stops
    // at the opset it was built with), so this is a hint, not the verdict.
    if (schema && !known)
      diag << " (" << node.op_type() << "-" << schema->SinceVersion()
           << " in ONNX has no attribute of that name)";
    return failure();
  }
  return success();
}
