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
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::kiln::lowering {

constexpr StringLiteral kRuntimeContextAttr = "kiln.runtime_context";

/// The function's kiln.runtime_context argument, or null.
inline Value runtimeContextArgument(func::FuncOp func) {
  for (unsigned i = 0; i < func.getNumArguments(); ++i)
    if (func.getArgAttr(i, kRuntimeContextAttr))
      return func.getArgument(i);
  return nullptr;
}

/// Declares the private runtime call `name`(ctx, desc) at the top of
/// `module`, both addresses as index (a descriptor call: kiln_rt_gemm,
/// kiln_rt_qgemm), unless it exists.
inline void declareDescriptorCall(ModuleOp module, StringRef name) {
  if (module.lookupSymbol(name))
    return;
  OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
  auto type = b.getFunctionType({b.getIndexType(), b.getIndexType()}, {});
  func::FuncOp::create(b, module.getLoc(), name, type).setPrivate();
}

/// The private constant memref.global `symbol` holding `text` and a NUL (a
/// C string for the runtime: a kernel name, a message), made at the top of
/// `module` unless it exists.
inline memref::GlobalOp cStringGlobal(ModuleOp module, StringRef symbol, StringRef text) {
  if (auto existing = module.lookupSymbol<memref::GlobalOp>(symbol))
    return existing;
  OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
  SmallVector<int8_t> bytes(text.begin(), text.end());
  bytes.push_back(0);
  auto type = MemRefType::get({int64_t(bytes.size())}, b.getI8Type());
  auto value = DenseElementsAttr::get(RankedTensorType::get(type.getShape(), b.getI8Type()),
                                      ArrayRef<int8_t>(bytes));
  return memref::GlobalOp::create(b, module.getLoc(), symbol, b.getStringAttr("private"), type,
                                  value, /*constant=*/true, /*alignment=*/nullptr);
}

/// The address of `global`'s first byte, as an index, at b's insertion point.
inline Value cStringAddress(OpBuilder &b, Location loc, memref::GlobalOp global) {
  Value buffer = memref::GetGlobalOp::create(b, loc, global.getType(), global.getSymName());
  return memref::ExtractAlignedPointerAsIndexOp::create(b, loc, buffer);
}

} // namespace mlir::kiln::lowering

#endif // KILN_PASSES_LOWERING_RUNTIMECALLS_H
