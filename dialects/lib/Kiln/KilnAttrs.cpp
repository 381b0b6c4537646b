//===- KilnAttrs.cpp - kiln dialect attributes and their verification -----===//
//
// Every discardable `kiln.*` attribute (KilnBase.td lists them) is checked
// where it appears: its kind and, where it names operands, against the op it
// is on. An unknown `kiln.*` name is an error rather than something a pass
// might silently ignore (or trust).
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/KilnDialect.h"

#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cfloat>

using namespace mlir;
using namespace mlir::kiln;

#include "kiln/Dialect/Kiln/KilnEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "kiln/Dialect/Kiln/KilnAttrs.cpp.inc"

void KilnDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "kiln/Dialect/Kiln/KilnAttrs.cpp.inc"
      >();
}

namespace {

/// An error for attribute `name` on `op` that is not of kind `kind`.
LogicalResult wrongKind(Operation *op, StringAttr name, StringRef kind) {
  return op->emitOpError("attribute '") << name.getValue() << "' must be " << kind;
}

/// The epilogue's operand numbers must name distinct operands of `op`, the
/// GEMM's result one of them, and `op` must have one result or init to
/// write (the GEMM's output, in place).
LogicalResult verifyGemmEpilogue(Operation *op, GemmEpilogueAttr epilogue) {
  int64_t operands = op->getNumOperands();
  auto valid = [&](int64_t index, bool optional) {
    return (optional && index == -1) || (index >= 0 && index < operands);
  };
  if (!valid(epilogue.getGemm(), false) || !valid(epilogue.getBias(), true) ||
      !valid(epilogue.getResidual(), true))
    return op->emitOpError("'kiln.gemm_epilogue' names an operand it does not have (")
           << operands << " operands): " << epilogue;
  int64_t gemm = epilogue.getGemm(), bias = epilogue.getBias(), residual = epilogue.getResidual();
  if (gemm == bias || gemm == residual || (bias != -1 && bias == residual))
    return op->emitOpError("'kiln.gemm_epilogue' gives one operand two roles: ") << epilogue;
  return success();
}

/// What the runtime's int8 GEMM takes as a static activation quantization
/// (kiln_qgemm_desc's float A with a_scale): uint8 storage over all of
/// 0..255, f32 expressed, one scale that is a positive normal f32.
bool isActivationQuantization(Attribute value) {
  auto type = dyn_cast<TypeAttr>(value);
  auto uniform = type ? dyn_cast<quant::UniformQuantizedType>(type.getValue()) : nullptr;
  if (!uniform || uniform.isSigned() || uniform.getStorageTypeIntegralWidth() != 8 ||
      uniform.getStorageTypeMin() != 0 || uniform.getStorageTypeMax() != 255 ||
      !uniform.getExpressedType().isF32())
    return false;
  double scale = uniform.getScale();
  return scale >= FLT_MIN && scale <= FLT_MAX && double(float(scale)) == scale &&
         uniform.getZeroPoint() >= 0 && uniform.getZeroPoint() <= 255;
}

/// Checks an op attribute; `kind` names what it must be on failure.
LogicalResult verifyOpAttribute(KilnDialect &dialect, Operation *op, NamedAttribute attribute) {
  StringAttr name = attribute.getName();
  Attribute value = attribute.getValue();
  if (name == dialect.getGemmEpilogueAttrHelper().getName()) {
    auto epilogue = dyn_cast<GemmEpilogueAttr>(value);
    if (!epilogue)
      return wrongKind(op, name, "a #kiln.gemm_epilogue");
    return verifyGemmEpilogue(op, epilogue);
  }
  if (name == dialect.getPackedRhsAttrHelper().getName()) {
    auto width = dyn_cast<IntegerAttr>(value);
    if (!width || width.getType().isIndex() || width.getInt() <= 0)
      return wrongKind(op, name, "a positive integer (the panel width)");
    return success();
  }
  if (name == dialect.getGemmTileAttrHelper().getName()) {
    auto tile = dyn_cast<DictionaryAttr>(value);
    if (!isa<ModuleOp>(op) || !tile || !tile.getAs<StringAttr>("target") ||
        !tile.getAs<IntegerAttr>("mr") || !tile.getAs<IntegerAttr>("nr"))
      return wrongKind(op, name, "a {target, mr, nr} dictionary on the module");
    return success();
  }
  if (name == dialect.getActivationQuantizationAttrHelper().getName()) {
    auto table = dyn_cast<DictionaryAttr>(value);
    if (!isa<ModuleOp>(op) || !table)
      return wrongKind(op, name, "a dictionary on the module (ONNX node name to quantized type)");
    for (NamedAttribute entry : table)
      if (!isActivationQuantization(entry.getValue()))
        return op->emitOpError("attribute '")
               << name.getValue() << "': node '" << entry.getName().getValue()
               << "' must map to a type !quant.uniform<u8:f32, scale:zero_point> (uint8 over "
                  "0..255, a scale that is a positive normal f32 value), got "
               << entry.getValue();
    return success();
  }
  if (name == dialect.getLayerInputMagnitudeAttrHelper().getName()) {
    auto table = dyn_cast<DictionaryAttr>(value);
    if (!isa<ModuleOp>(op) || !table)
      return wrongKind(op, name, "a dictionary on the module (ONNX node name to magnitudes)");
    for (NamedAttribute entry : table) {
      auto magnitudes = dyn_cast<DenseFPElementsAttr>(entry.getValue());
      auto finite = [](const APFloat &x) { return x.isFinite() && !x.isNegative(); };
      if (!magnitudes || !magnitudes.getElementType().isF32() ||
          magnitudes.getType().getRank() != 1 ||
          !llvm::all_of(magnitudes.getValues<APFloat>(), finite))
        return op->emitOpError("attribute '")
               << name.getValue() << "': node '" << entry.getName().getValue()
               << "' must map to a 1-D f32 tensor of finite values >= 0, got " << entry.getValue();
    }
    return success();
  }
  if (name == dialect.getProfileRegionsAttrHelper().getName()) {
    auto regions = dyn_cast<ArrayAttr>(value);
    auto isRegion = [](Attribute region) {
      auto pair = dyn_cast<ArrayAttr>(region);
      return pair && pair.size() == 2 && llvm::all_of(pair, llvm::IsaPred<StringAttr>);
    };
    if (!isa<ModuleOp>(op) || !regions || !llvm::all_of(regions, isRegion))
      return wrongKind(op, name, "an array of [node name, op type] string pairs on the module");
    return success();
  }
  if (name == dialect.getParallelAttrHelper().getName() ||
      name == dialect.getParallelBodyAttrHelper().getName()) {
    if (!isa<UnitAttr>(value))
      return wrongKind(op, name, "a unit attribute");
    return success();
  }
  if (name == dialect.getParallelNoaliasAttrHelper().getName()) {
    // Parameter numbers of the function once lowered to LLVM (memref
    // descriptors expanded), so only their sign can be checked here.
    auto params = dyn_cast<DenseI64ArrayAttr>(value);
    if (!params || !isa<FunctionOpInterface>(op) ||
        llvm::any_of(params.asArrayRef(), [](int64_t p) { return p < 0; }))
      return wrongKind(op, name, "an array of parameter numbers on a function");
    return success();
  }
  return op->emitOpError("has an unknown kiln attribute '") << name.getValue() << "'";
}

/// Checks an attribute of a function's argument (`isArgument`) or result.
LogicalResult verifyValueAttribute(KilnDialect &dialect, Operation *op, Type type,
                                   NamedAttribute attribute, bool isArgument) {
  StringAttr name = attribute.getName();
  Attribute value = attribute.getValue();
  if (isArgument && name == dialect.getRuntimeContextAttrHelper().getName()) {
    // An index, or the integer it becomes in the LLVM dialect.
    if (!isa<UnitAttr>(value) || !(type.isIndex() || type.isSignlessInteger(64)))
      return wrongKind(op, name, "a unit attribute on an index argument");
    return success();
  }
  if ((isArgument && name == dialect.getInputNameAttrHelper().getName()) ||
      (!isArgument && name == dialect.getOutputNameAttrHelper().getName())) {
    if (!isa<StringAttr>(value))
      return wrongKind(op, name, "a string");
    return success();
  }
  if (isArgument && name == dialect.getDimNamesAttrHelper().getName()) {
    auto names = dyn_cast<ArrayAttr>(value);
    auto shaped = dyn_cast<ShapedType>(type);
    // A lowered function's argument (the LLVM dialect's pointer or
    // descriptor field in the tensor's place) keeps the tensor's names
    // until kiln compile drops them.
    bool lowered = !shaped && (type.getDialect().getNamespace() == "llvm" ||
                               type.isSignlessInteger(64));
    if (!names || !llvm::all_of(names, llvm::IsaPred<StringAttr>) ||
        (!lowered && (!shaped || !shaped.hasRank() || int64_t(names.size()) != shaped.getRank())))
      return wrongKind(op, name, "one string per dim of a ranked argument");
    return success();
  }
  return op->emitOpError("has an unknown kiln ")
         << (isArgument ? "argument" : "result") << " attribute '" << name.getValue() << "'";
}

} // namespace

LogicalResult KilnDialect::verifyOperationAttribute(Operation *op, NamedAttribute attribute) {
  return verifyOpAttribute(*this, op, attribute);
}

LogicalResult KilnDialect::verifyRegionArgAttribute(Operation *op, unsigned region,
                                                    unsigned argument, NamedAttribute attribute) {
  Type type = op->getRegion(region).empty()
                  ? Type()
                  : op->getRegion(region).getArgument(argument).getType();
  if (auto function = dyn_cast<FunctionOpInterface>(op); function && region == 0)
    type = function.getArgumentTypes()[argument];
  if (!type)
    return op->emitOpError("kiln argument attributes belong on function arguments");
  return verifyValueAttribute(*this, op, type, attribute, /*isArgument=*/true);
}

LogicalResult KilnDialect::verifyRegionResultAttribute(Operation *op, unsigned region,
                                                       unsigned result, NamedAttribute attribute) {
  auto function = dyn_cast<FunctionOpInterface>(op);
  if (!function)
    return op->emitOpError("kiln result attributes belong on function results");
  return verifyValueAttribute(*this, op, function.getResultTypes()[result], attribute,
                              /*isArgument=*/false);
}
