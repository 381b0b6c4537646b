//===- LowerRuntimeChecks.cpp - kiln.runtime_check to the runtime's fail --===//
//
// The lowering states what a run must satisfy as kiln.runtime_check ops
// (verified IR, no calls to declare from function passes); this module pass
// gives them their one meaning: a branch to kiln_rt_fail(ctx, message),
// which the model ABI routes to kiln_runtime_context::fail.
//
// On the GPU path (`device-conditions`) a condition that reads tensor or
// buffer data is computed by kernels into device memory, which the host
// code cannot read during the run. Such a check is left alone on tensors
// (bufferization turns its tensor.extract of a 0-d i1 tensor into a load
// of a device buffer) and becomes kiln_rt_gpu_check(ctx, buffer, message)
// on buffers: the runtime copies the byte back after the run's work and
// fails the run on it (kiln_runtime_context::gpu_check).
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
#include "llvm/ADT/StringMap.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNLOWERRUNTIMECHECKS
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;
using mlir::kiln::lowering::kFailFunction;

namespace {

constexpr StringLiteral kDeviceCheckFunction = "kiln_rt_gpu_check";

/// What computing a check's condition reads: tensor elements (the check is
/// on tensors), buffer elements (on buffers), or neither.
struct DataReads {
  bool tensors = false, buffers = false;
};

DataReads dataReads(Value value) {
  SetVector<Operation *> slice;
  BackwardSliceOptions options;
  options.inclusive = true;
  options.omitUsesFromAbove = false;
  (void)getBackwardSlice(value, &slice, options);
  DataReads reads;
  for (Operation *op : slice) {
    reads.tensors |= isa<tensor::ExtractOp>(op);
    reads.buffers |= isa<memref::LoadOp>(op);
  }
  return reads;
}

/// The rank-0 i1 buffer `failed` is loaded from, or null: the one form of
/// a data-dependent condition the runtime reads back from the device.
TypedValue<MemRefType> deviceFlag(Value failed) {
  auto load = failed.getDefiningOp<memref::LoadOp>();
  if (!load || load.getMemRefType().getRank() != 0)
    return nullptr;
  return cast<TypedValue<MemRefType>>(load.getMemRef());
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
      if (matchPattern(check.getFailed(), m_Zero())) {
        check.erase();
        continue;
      }
      DataReads reads = deviceConditions ? dataReads(check.getFailed()) : DataReads();
      if (reads.tensors)
        continue; // for after bufferization
      bool onDevice = reads.buffers;
      auto func = check->getParentOfType<func::FuncOp>();
      Value context = func ? mlir::kiln::lowering::runtimeContextArgument(func) : Value();
      if (!context) {
        check.emitError("a run-time check needs the function's kiln.runtime_context argument");
        return signalPassFailure();
      }
      OpBuilder b(check);
      Location loc = check.getLoc();
      memref::GlobalOp text = message(check.getMessage());
      if (onDevice) {
        if (failed(lowerToDeviceCheck(b, check, context, text)))
          return signalPassFailure();
        continue;
      }
      auto branch = scf::IfOp::create(b, loc, check.getFailed(), /*withElseRegion=*/false);
      b.setInsertionPoint(branch.thenBlock()->getTerminator());
      Value pointer = mlir::kiln::lowering::cStringAddress(b, loc, text);
      func::CallOp::create(b, loc, kFailFunction, TypeRange{}, ValueRange{context, pointer});
      check.erase();
      called = true;
    }
    if (called)
      declare(kFailFunction, 2);
  }

  /// The check `failed` on the device: kiln_rt_gpu_check(ctx, flag,
  /// message) where `failed` is loaded from `flag`, a rank-0 i1 buffer
  /// (stored as a byte).
  LogicalResult lowerToDeviceCheck(OpBuilder &b, kiln::RuntimeCheckOp check, Value context,
                                   memref::GlobalOp text) {
    Location loc = check.getLoc();
    TypedValue<MemRefType> flag = deviceFlag(check.getFailed());
    if (!flag || !flag.getType().getElementType().isInteger(1))
      return check.emitError(
          "on the GPU path a run-time check whose condition reads tensor data must load it "
          "from a 0-d i1 buffer (a reduction's result), which the runtime reads back from the "
          "device; this condition is computed otherwise: from an input's values (a shape that "
          "depends on them, e.g. a Reshape's target or a Slice's bounds fed as an input: the "
          "GPU path needs such shapes known when compiling, make them initializers), or with "
          "symbolic dims from a shape the graph computes with ops kiln-gpu-scalarize-shape-reads "
          "cannot compute on the host (fix the symbolic input dims with --input-shape or "
          "--dim)");
    Value address = mlir::kiln::lowering::callOperand(b, loc, flag).address;
    Value pointer = mlir::kiln::lowering::cStringAddress(b, loc, text);
    func::CallOp::create(b, loc, kDeviceCheckFunction, TypeRange{},
                         ValueRange{context, address, pointer});
    Operation *load = check.getFailed().getDefiningOp();
    check.erase();
    if (load->use_empty())
      load->erase();
    declare(kDeviceCheckFunction, 3);
    return success();
  }

  /// Declares the runtime function `name`(ctx, ...), `arity` index
  /// parameters, unless it exists.
  void declare(StringRef name, unsigned arity) {
    ModuleOp module = getOperation();
    if (module.lookupSymbol(name))
      return;
    OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
    SmallVector<Type> parameters(arity, b.getIndexType());
    func::FuncOp::create(b, module.getLoc(), name, b.getFunctionType(parameters, {}))
        .setPrivate();
  }

  llvm::StringMap<memref::GlobalOp> messages;
};
} // namespace
