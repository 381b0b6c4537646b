//===- ExposeLayerInputs.cpp - Linear layers' A as outputs, to calibrate --===//
//
// The calibration build of `--quantize int8-static`: the fp32 model, with
// the activation each quantized layer reads returned as an extra output.
// tools/kiln runs it on the calibration data and picks each layer's static
// scale and zero point from what those outputs hold (kiln_qgemm_desc's
// float A with a_scale). The observation happens outside the model so that
// the calibration methods (min/max, percentile, entropy) are host code over
// the values, not IR; the cost is one copy of each A per run.
//
//===----------------------------------------------------------------------===//

#include "../Lowering/LoweringUtils.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringMap.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNEXPOSELAYERINPUTS
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using namespace mlir::kiln;

namespace {

struct ExposeLayerInputsPass
    : mlir::kiln::impl::KilnExposeLayerInputsBase<ExposeLayerInputsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto main = module.lookupSymbol<func::FuncOp>("main");
    if (!main || main.isExternal() || !main.getBody().hasOneBlock()) {
      module.emitError("kiln-expose-layer-inputs needs the model's func.func @main");
      return signalPassFailure();
    }
    // The layers in the order `nodes` names them (the outputs' order).
    llvm::StringMap<Value> inputs;
    for (const std::string &node : nodes)
      inputs[node] = nullptr;
    main.walk([&](Operation *op) {
      if (!isa<MatMulOp, GemmOp>(op))
        return;
      std::optional<std::pair<StringRef, StringRef>> node = lowering::onnxNodeOf(op->getLoc());
      if (!node)
        return;
      auto it = inputs.find(node->first);
      if (it != inputs.end() && !it->second)
        it->second = op->getOperand(0);
    });
    auto ret = cast<func::ReturnOp>(main.getBody().front().getTerminator());
    SmallVector<Value> results(ret.getOperands());
    unsigned first = results.size();
    for (const std::string &node : nodes) {
      Value a = inputs[node];
      if (!a) {
        module.emitError("kiln-expose-layer-inputs: no MatMul or Gemm node is named '")
            << node << "'";
        return signalPassFailure();
      }
      results.push_back(a);
    }
    OpBuilder builder(ret);
    SmallVector<DictionaryAttr> attrs;
    for (unsigned i = 0; i < first; ++i)
      attrs.push_back(main.getResultAttrDict(i));
    for (const std::string &node : nodes)
      attrs.push_back(builder.getDictionaryAttr(builder.getNamedAttr(
          "kiln.output_name", builder.getStringAttr("calibration:" + node))));
    func::ReturnOp::create(builder, ret.getLoc(), results);
    ret.erase();
    SmallVector<Type> types = llvm::to_vector(ValueRange(results).getTypes());
    main.setFunctionType(builder.getFunctionType(main.getArgumentTypes(), types));
    main.setAllResultAttrs(attrs);
  }
};

} // namespace
