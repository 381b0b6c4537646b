//===- Import.cpp - ONNX model to cleaned-up kiln IR ----------------------===//

#include "kiln/Compiler/Import.h"
#include "kiln/Passes/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::kiln;

LogicalResult mlir::kiln::cleanUpGraph(ModuleOp module) {
  PassManager pm(module.getContext());
  OpPassManager &func = pm.nest<func::FuncOp>();
  // Folding makes shape operands constant; inference then makes their
  // users' types static, which lets the next round fold further.
  for (int round = 0; round < 2; ++round) {
    func.addPass(createCanonicalizerPass());
    func.addPass(createKilnInferShapes());
  }
  func.addPass(createCSEPass());
  func.addPass(createCanonicalizerPass());
  return pm.run(module);
}

OwningOpRef<ModuleOp> mlir::kiln::importAndCleanUp(StringRef path, MLIRContext &context,
                                                   const OnnxImportOptions &options) {
  OwningOpRef<ModuleOp> module = importOnnxModel(path, context, options);
  if (!module || failed(cleanUpGraph(*module)))
    return nullptr;
  return module;
}
