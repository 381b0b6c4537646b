//===- RuntimeCalls.h - How lowered code reaches the runtime ----*- C++ -*-===//
//
// Internal to passes/lib/Lowering. Lowered code calls the runtime through
// private `kiln_rt_*` functions whose first argument is the run's
// kiln_runtime_context (an `index` argument of the function, marked with
// kRuntimeContextAttr); the model ABI (compiler/lib/ModelAbi.cpp) gives them
// bodies that call through the context.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_PASSES_LOWERING_RUNTIMECALLS_H
#define KILN_PASSES_LOWERING_RUNTIMECALLS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::kiln::lowering {

constexpr StringLiteral kRuntimeContextAttr = "kiln.runtime_context";

/// The function's kiln.runtime_context argument, or null.
inline Value runtimeContextArgument(func::FuncOp func) {
  for (unsigned i = 0; i < func.getNumArguments(); ++i)
    if (func.getArgAttr(i, kRuntimeContextAttr))
      return func.getArgument(i);
  return nullptr;
}

} // namespace mlir::kiln::lowering

#endif // KILN_PASSES_LOWERING_RUNTIMECALLS_H
