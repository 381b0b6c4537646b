//===- AddRuntimeContext.cpp - The entry function's runtime context -------===//
//
// The runtime-call passes find the run's kiln_runtime_context as the
// argument marked kiln.runtime_context (RuntimeCalls.h). kiln compile's
// pipeline starts with this pass; kiln-opt users run it on what kiln import
// wrote.
//
//===----------------------------------------------------------------------===//

#include "RuntimeCalls.h"
#include "kiln/Passes/Passes.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNADDRUNTIMECONTEXT
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

struct AddRuntimeContextPass
    : mlir::kiln::impl::KilnAddRuntimeContextBase<AddRuntimeContextPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto func = module.lookupSymbol<func::FuncOp>(function);
    if (!func) {
      module.emitError("kiln-add-runtime-context: no function '") << function << "'";
      return signalPassFailure();
    }
    if (mlir::kiln::lowering::runtimeContextArgument(func))
      return;
    MLIRContext *context = &getContext();
    StringAttr name = StringAttr::get(context, mlir::kiln::lowering::kRuntimeContextAttr);
    auto marker = DictionaryAttr::get(context, {NamedAttribute(name, UnitAttr::get(context))});
    if (failed(func.insertArgument(func.getNumArguments(), IndexType::get(context), marker,
                                   func.getLoc())))
      signalPassFailure();
  }
};

} // namespace
