//===- LowerRuntimeChecks.cpp - kiln.runtime_check to the runtime's fail --===//
//
// The lowering states what a run must satisfy as kiln.runtime_check ops
// (verified IR, no calls to declare from function passes); this module pass
// gives them their one meaning: a branch to kiln_rt_fail(ctx, message),
// which the model ABI routes to kiln_runtime_context::fail.
//
//===----------------------------------------------------------------------===//

#include "RuntimeCalls.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "kiln/Passes/Passes.h"
#include "mlir/Analysis/SliceAnalysis.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/StringMap.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNLOWERRUNTIMECHECKS
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

constexpr StringLiteral kFailFunction = "kiln_rt_fail";

/// Whether computing `value` reads buffer contents (a load or extract
/// somewhere in its backward slice).
bool readsBuffers(Value value) {
  SetVector<Operation *> slice;
  BackwardSliceOptions options;
  options.inclusive = true;
  options.omitUsesFromAbove = false;
  (void)getBackwardSlice(value, &slice, options);
  return llvm::any_of(slice, [](Operation *op) {
    return isa<memref::LoadOp, tensor::ExtractOp>(op) || !isMemoryEffectFree(op);
  });
}

struct LowerRuntimeChecksPass
    : mlir::kiln::impl::KilnLowerRuntimeChecksBase<LowerRuntimeChecksPass> {
  using Base::Base;

  /// A NUL-terminated constant holding `text`, one per distinct message.
  memref::GlobalOp message(StringRef text) {
    memref::GlobalOp &global = messages[text];
    if (!global)
      global = mlir::kiln::lowering::cStringGlobal(
          getOperation(), "__kiln_check_message_" + std::to_string(messages.size() - 1), text);
    return global;
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    bool called = false;
    SmallVector<kiln::RuntimeCheckOp> checks;
    module.walk([&](kiln::RuntimeCheckOp op) { checks.push_back(op); });
    for (kiln::RuntimeCheckOp check : checks) {
      if (matchPattern(check.getFailed(), m_Zero()) ||
          (dropDataDependent && readsBuffers(check.getFailed()))) {
        check.erase();
        continue;
      }
      auto func = check->getParentOfType<func::FuncOp>();
      Value context = func ? mlir::kiln::lowering::runtimeContextArgument(func) : Value();
      if (!context) {
        check.emitError("a run-time check needs the function's kiln.runtime_context argument");
        return signalPassFailure();
      }
      OpBuilder b(check);
      Location loc = check.getLoc();
      memref::GlobalOp text = message(check.getMessage());
      auto branch = scf::IfOp::create(b, loc, check.getFailed(), /*withElseRegion=*/false);
      b.setInsertionPoint(branch.thenBlock()->getTerminator());
      Value pointer = mlir::kiln::lowering::cStringAddress(b, loc, text);
      func::CallOp::create(b, loc, kFailFunction, TypeRange{}, ValueRange{context, pointer});
      check.erase();
      called = true;
    }
    if (called && !module.lookupSymbol(kFailFunction)) {
      OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
      Type index = b.getIndexType();
      func::FuncOp::create(b, module.getLoc(), kFailFunction, b.getFunctionType({index, index}, {}))
          .setPrivate();
    }
  }

  llvm::StringMap<memref::GlobalOp> messages;
};
} // namespace
