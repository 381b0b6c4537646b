//===- ParallelCallsToRuntime.cpp - Outlined loop bodies on the threads ---===//
//
// Runs on the LLVM dialect, after kiln-outline-parallel-loops' calls
//
//   llvm.call @body(%lo, %hi, %ctx, %cost, %a1, ..., %an) {kiln.parallel}
//
// went through convert-to-llvm (memref captures are descriptor scalars by
// now). Each becomes: a closure (a stack struct of lo, ctx, cost, a1..an),
// a trampoline `(ptr closure, i64 begin, i64 end)` of the runtime's
// kiln_parallel_body_fn type that loads them and calls
// @body(lo + begin, lo + end, ctx, cost, a1..an), and
//
//   llvm.call @kiln_rt_parallel_for(%ctx, trampoline, closure, hi - lo, %cost)
//
// declared with all-i64 parameters, which the model ABI (compiler/lib/
// ModelAbi.cpp) routes to kiln_runtime_context::parallel_for.
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/KilnDialect.h"
#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNPARALLELCALLSTORUNTIME
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

constexpr StringLiteral kParallelFor = "kiln_rt_parallel_for";
constexpr StringLiteral kParallelCallAttr = kiln::KilnDialect::ParallelAttrHelper::getNameStr();
constexpr StringLiteral kParallelBodyAttr =
    kiln::KilnDialect::ParallelBodyAttrHelper::getNameStr();
constexpr StringLiteral kNoAliasAttr =
    kiln::KilnDialect::ParallelNoaliasAttrHelper::getNameStr();

struct ParallelCallsToRuntimePass
    : mlir::kiln::impl::KilnParallelCallsToRuntimeBase<ParallelCallsToRuntimePass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *ctx = &getContext();
    Type i64 = IntegerType::get(ctx, 64);
    Type ptr = LLVM::LLVMPointerType::get(ctx);

    // The bodies' noalias facts, from the call sites' memory plan.
    for (auto func : module.getOps<LLVM::LLVMFuncOp>()) {
      auto params = func->getAttrOfType<DenseI64ArrayAttr>(kNoAliasAttr);
      func->removeAttr(kNoAliasAttr);
      if (!func->removeAttr(kParallelBodyAttr))
        continue;
      func.setLinkage(LLVM::Linkage::Internal);
      if (!params)
        continue;
      for (int64_t i : params.asArrayRef())
        if (i < func.getNumArguments() && isa<LLVM::LLVMPointerType>(func.getArgument(i).getType()))
          func.setArgAttr(i, LLVM::LLVMDialect::getNoAliasAttrName(), UnitAttr::get(ctx));
    }

    SmallVector<LLVM::CallOp> calls;
    module.walk([&](LLVM::CallOp call) {
      if (call->hasAttr(kParallelCallAttr))
        calls.push_back(call);
    });
    if (calls.empty())
      return;

    SymbolTable symbols(module);
    LLVM::LLVMFuncOp runtime = symbols.lookup<LLVM::LLVMFuncOp>(kParallelFor);
    if (!runtime) {
      OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
      runtime = LLVM::LLVMFuncOp::create(
          b, module.getLoc(), kParallelFor,
          LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx), SmallVector<Type>(5, i64)));
      symbols.insert(runtime);
    }

    bool failedAny = false;
    for (LLVM::CallOp call : calls) {
      std::optional<StringRef> calleeName = call.getCallee();
      auto callee = calleeName ? symbols.lookup<LLVM::LLVMFuncOp>(*calleeName) : nullptr;
      ValueRange operands = call.getArgOperands();
      auto parent = call->getParentOfType<LLVM::LLVMFuncOp>();
      if (!callee || call.getNumResults() != 0 || operands.size() < 4 ||
          llvm::any_of(operands.take_front(4), [&](Value v) { return v.getType() != i64; }) ||
          !parent) {
        call.emitError("a parallel call must call a function directly, return nothing, and "
                       "pass (lo, hi, ctx, cost) as i64 first");
        failedAny = true;
        continue;
      }
      Location loc = call.getLoc();
      Value lo = operands[0], hi = operands[1], context = operands[2], cost = operands[3];
      // What the trampoline needs: lo, ctx, cost, the captures.
      SmallVector<Value> fields{lo, context, cost};
      llvm::append_range(fields, operands.drop_front(4));
      SmallVector<Type> fieldTypes;
      for (Value v : fields)
        fieldTypes.push_back(v.getType());
      auto closureType = LLVM::LLVMStructType::getLiteral(ctx, fieldTypes);

      // One closure slot per call site, in the entry block (not in a loop).
      OpBuilder eb = OpBuilder::atBlockBegin(&parent.getBody().front());
      Value one = LLVM::ConstantOp::create(eb, loc, i64, eb.getI64IntegerAttr(1));
      Value closure = LLVM::AllocaOp::create(eb, loc, ptr, closureType, one);

      OpBuilder b(call);
      for (auto [k, v] : llvm::enumerate(fields)) {
        Value slot = LLVM::GEPOp::create(b, loc, ptr, closureType, closure,
                                         ArrayRef<LLVM::GEPArg>{0, (int32_t)k});
        LLVM::StoreOp::create(b, loc, v, slot);
      }

      // The trampoline.
      OpBuilder mb = OpBuilder::atBlockEnd(module.getBody());
      std::string name = (*calleeName + "_trampoline").str();
      for (unsigned i = 0; symbols.lookup(name); ++i)
        name = (*calleeName + "_trampoline" + Twine(i)).str();
      auto trampoline = LLVM::LLVMFuncOp::create(
          mb, loc, name,
          LLVM::LLVMFunctionType::get(LLVM::LLVMVoidType::get(ctx), {ptr, i64, i64}),
          LLVM::Linkage::Internal);
      symbols.insert(trampoline);
      Block *entry = trampoline.addEntryBlock(mb);
      OpBuilder tb = OpBuilder::atBlockBegin(entry);
      SmallVector<Value> loaded;
      for (auto [k, type] : llvm::enumerate(fieldTypes)) {
        Value slot = LLVM::GEPOp::create(tb, loc, ptr, closureType, entry->getArgument(0),
                                         ArrayRef<LLVM::GEPArg>{0, (int32_t)k});
        loaded.push_back(LLVM::LoadOp::create(tb, loc, type, slot));
      }
      SmallVector<Value> args{LLVM::AddOp::create(tb, loc, loaded[0], entry->getArgument(1)),
                              LLVM::AddOp::create(tb, loc, loaded[0], entry->getArgument(2)),
                              loaded[1], loaded[2]};
      args.append(loaded.begin() + 3, loaded.end());
      LLVM::CallOp::create(tb, loc, callee, args);
      LLVM::ReturnOp::create(tb, loc, ValueRange{});

      // The runtime call.
      Value function = LLVM::PtrToIntOp::create(
          b, loc, i64, LLVM::AddressOfOp::create(b, loc, ptr, trampoline.getSymName()));
      Value closureInt = LLVM::PtrToIntOp::create(b, loc, i64, closure);
      Value n = LLVM::SubOp::create(b, loc, hi, lo);
      LLVM::CallOp::create(b, loc, runtime, ValueRange{context, function, closureInt, n, cost});
      call.erase();
    }
    if (failedAny)
      signalPassFailure();
  }
};
} // namespace
