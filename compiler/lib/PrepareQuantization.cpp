//===- PrepareQuantization.cpp - Calibration outputs, calibrated types ----===//
//
// `--quantize int8-static` takes two compiles: the calibration build, the
// fp32 model with each quantized layer's A as an extra output
// (kiln-expose-layer-inputs), and the int8 build, whose module carries the
// scales chosen from those outputs as !quant.uniform types by ONNX node
// name (kiln.activation_quantization, verified by the kiln dialect and read
// by kiln-quantize-contractions). tools/kiln/Calibration.cpp runs the first
// and chooses the scales.
//
//===----------------------------------------------------------------------===//

#include "kiln/Compiler/Compile.h"
#include "kiln/Dialect/Kiln/KilnDialect.h"
#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Quant/IR/QuantTypes.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"

using namespace mlir;
using namespace mlir::kiln;

LogicalResult mlir::kiln::prepareQuantization(ModuleOp module, const CompileOptions &options) {
  MLIRContext *context = module.getContext();
  if (!options.exposeLayerInputs.empty()) {
    PassManager pm(context);
    KilnExposeLayerInputsOptions expose;
    expose.nodes.assign(options.exposeLayerInputs.begin(), options.exposeLayerInputs.end());
    pm.addPass(createKilnExposeLayerInputs(expose));
    if (failed(pm.run(module)))
      return failure();
  }
  if (!options.layerInputMagnitude.empty()) {
    Builder b(context);
    SmallVector<NamedAttribute> table;
    for (const auto &[node, magnitudes] : options.layerInputMagnitude)
      table.push_back(b.getNamedAttr(
          node, DenseElementsAttr::get(
                    RankedTensorType::get({int64_t(magnitudes.size())}, b.getF32Type()),
                    ArrayRef<float>(magnitudes))));
    context->getOrLoadDialect<KilnDialect>()->getLayerInputMagnitudeAttrHelper().setAttr(
        module, b.getDictionaryAttr(table));
    if (failed(verify(module)))
      return failure();
  }
  if (!options.staticActivations || options.quantize != Quantization::Int8)
    return success();
  if (options.activationQuantization.empty())
    return emitError(module.getLoc(), "--quantize int8-static has no calibrated activation "
                                      "ranges: give it --calibration-data DIR");
  Builder b(context);
  auto u8 = b.getIntegerType(8);
  SmallVector<NamedAttribute> table;
  for (const auto &[node, q] : options.activationQuantization)
    table.push_back(b.getNamedAttr(
        node, TypeAttr::get(quant::UniformQuantizedType::get(
                  /*flags=*/0, u8, b.getF32Type(), double(q.scale), int64_t(q.zeroPoint),
                  /*storageTypeMin=*/0, /*storageTypeMax=*/255))));
  context->getOrLoadDialect<KilnDialect>()->getActivationQuantizationAttrHelper().setAttr(
      module, b.getDictionaryAttr(table));
  return verify(module);
}
