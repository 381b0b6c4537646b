//===- GpuEmulationCalls.cpp - NVVM operations as calls of the emulator ---===//
//
// --gpu-emulation compiles the kernels for the host CPU, so that the GPU
// path's numerics can be tested where there is no GPU. Everything
// convert-gpu-to-nvvm leaves is plain LLVM dialect except the NVVM
// operations for what a CPU has no instruction for: the thread's position
// in the launch, warp shuffles, block barriers, the tensor cores' warp-wide
// products (mma.sync, m16n8k16 of f16 or bf16 into f32), matrix loads
// from shared memory (ldmatrix, 8x8 16-bit) and asynchronous copies to it
// (cp.async, its groups and waits). Each becomes a call of
// the function the test driver's emulator exports for it
// (kiln/kiln_gpu_emulation.h); any other NVVM operation is an error that
// names it, rather than a kernel that would compute something else.
//
//===----------------------------------------------------------------------===//

#include "kiln/Passes/Passes.h"
#include "kiln/kiln_gpu_emulation.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "llvm/ADT/TypeSwitch.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNGPUEMULATIONCALLS
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

/// The emulator's code for a special register operation, if `op` is one.
std::optional<int32_t> specialRegister(Operation *op) {
  return llvm::TypeSwitch<Operation *, std::optional<int32_t>>(op)
      .Case([](NVVM::ThreadIdXOp) { return KILN_EMU_TID_X; })
      .Case([](NVVM::ThreadIdYOp) { return KILN_EMU_TID_Y; })
      .Case([](NVVM::ThreadIdZOp) { return KILN_EMU_TID_Z; })
      .Case([](NVVM::BlockDimXOp) { return KILN_EMU_NTID_X; })
      .Case([](NVVM::BlockDimYOp) { return KILN_EMU_NTID_Y; })
      .Case([](NVVM::BlockDimZOp) { return KILN_EMU_NTID_Z; })
      .Case([](NVVM::BlockIdXOp) { return KILN_EMU_CTAID_X; })
      .Case([](NVVM::BlockIdYOp) { return KILN_EMU_CTAID_Y; })
      .Case([](NVVM::BlockIdZOp) { return KILN_EMU_CTAID_Z; })
      .Case([](NVVM::GridDimXOp) { return KILN_EMU_NCTAID_X; })
      .Case([](NVVM::GridDimYOp) { return KILN_EMU_NCTAID_Y; })
      .Case([](NVVM::GridDimZOp) { return KILN_EMU_NCTAID_Z; })
      .Case([](NVVM::LaneIdOp) { return KILN_EMU_LANEID; })
      .Case([](NVVM::WarpSizeOp) { return KILN_EMU_WARPSIZE; })
      .Default([](Operation *) { return std::nullopt; });
}

int32_t shuffleKind(NVVM::ShflKind kind) {
  switch (kind) {
  case NVVM::ShflKind::idx: return KILN_EMU_SHFL_IDX;
  case NVVM::ShflKind::up: return KILN_EMU_SHFL_UP;
  case NVVM::ShflKind::down: return KILN_EMU_SHFL_DOWN;
  case NVVM::ShflKind::bfly: return KILN_EMU_SHFL_BFLY;
  }
  llvm_unreachable("unknown shuffle kind");
}

/// The declaration of emulator function `name`, added to `module` once.
LLVM::LLVMFuncOp declare(gpu::GPUModuleOp module, StringRef name, Type result,
                         ArrayRef<Type> params) {
  if (auto existing = module.lookupSymbol<LLVM::LLVMFuncOp>(name))
    return existing;
  OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
  return LLVM::LLVMFuncOp::create(b, module.getLoc(), name,
                                  LLVM::LLVMFunctionType::get(result, params));
}

Value constantI32(OpBuilder &b, Location loc, int32_t value) {
  return LLVM::ConstantOp::create(b, loc, b.getI32Type(), value);
}

/// An array of `count` i32 on the lane's stack, through which a warp-wide
/// operation's registers go to and from the emulator, and its slot `i`.
Value stackWords(OpBuilder &b, Location loc, int64_t count) {
  auto pointer = LLVM::LLVMPointerType::get(b.getContext());
  return LLVM::AllocaOp::create(b, loc, pointer, b.getI32Type(),
                                LLVM::ConstantOp::create(b, loc, b.getI64Type(), count), 4);
}
Value wordAt(OpBuilder &b, Location loc, Value words, int64_t i) {
  return LLVM::GEPOp::create(b, loc, LLVM::LLVMPointerType::get(b.getContext()), b.getI32Type(),
                             words, ArrayRef<LLVM::GEPArg>{i});
}

/// shfl.sync as kiln_emu_shfl: the value goes as its 32 bits, and the
/// result's two halves become the value and, when asked for, the predicate.
void lowerShuffle(gpu::GPUModuleOp module, NVVM::ShflOp shuffle) {
  OpBuilder b(shuffle);
  Location loc = shuffle.getLoc();
  Type i32 = b.getI32Type(), i64 = b.getI64Type();
  LLVM::LLVMFuncOp callee = declare(module, KILN_EMU_SHFL_FN, i64, {i32, i32, i32, i32, i32});
  Value value = shuffle.getVal();
  Type valueType = value.getType();
  if (valueType != i32)
    value = LLVM::BitcastOp::create(b, loc, i32, value);
  Value packed =
      LLVM::CallOp::create(b, loc, callee,
                           ValueRange{constantI32(b, loc, shuffleKind(shuffle.getKind())),
                                      shuffle.getThreadMask(), value, shuffle.getOffset(),
                                      shuffle.getMaskAndClamp()})
          .getResult();
  Value result = LLVM::TruncOp::create(b, loc, i32, packed);
  if (valueType != i32)
    result = LLVM::BitcastOp::create(b, loc, valueType, result);
  if (shuffle.getReturnValueAndIsValid()) {
    Value high = LLVM::LShrOp::create(b, loc, packed, LLVM::ConstantOp::create(b, loc, i64, 32));
    Value valid = LLVM::TruncOp::create(b, loc, b.getI1Type(), high);
    Value pair = LLVM::UndefOp::create(b, loc, shuffle.getType());
    pair = LLVM::InsertValueOp::create(b, loc, pair, result, ArrayRef<int64_t>{0});
    result = LLVM::InsertValueOp::create(b, loc, pair, valid, ArrayRef<int64_t>{1});
  }
  shuffle.replaceAllUsesWith(result);
  shuffle.erase();
}

/// mma.sync m16n8k16 (f16 or bf16 A and B, f32 C and D, row-major A,
/// column-major B) as kiln_emu_mma: the lane's fragment registers go
/// through an array on its stack, D comes back in C's place.
LogicalResult lowerMma(gpu::GPUModuleOp module, NVVM::MmaOp mma) {
  NVVM::MMAShapeAttr shape = mma.getShape();
  std::optional<NVVM::MMATypes> aType = mma.getMultiplicandAPtxType();
  auto f32 = Float32Type::get(mma.getContext());
  bool f16 = aType == NVVM::MMATypes::f16, bf16 = aType == NVVM::MMATypes::bf16;
  if (shape.getM() != 16 || shape.getN() != 8 || shape.getK() != 16 || (!f16 && !bf16) ||
      mma.getLayoutA() != NVVM::MMALayout::row || mma.getLayoutB() != NVVM::MMALayout::col ||
      mma.getOperandA().size() != 4 || mma.getOperandB().size() != 2 ||
      mma.getOperandC().size() != 4 ||
      llvm::any_of(mma.getOperandC(), [&](Value c) { return c.getType() != f32; }))
    return mma.emitError("the GPU emulation runs mma.sync m16n8k16 of f16 or bf16 into f32 "
                         "(row-major A, column-major B) only");
  OpBuilder b(mma);
  Location loc = mma.getLoc();
  MLIRContext *context = mma.getContext();
  Type i32 = b.getI32Type();
  auto pointer = LLVM::LLVMPointerType::get(context);
  LLVM::LLVMFuncOp callee =
      declare(module, KILN_EMU_MMA_FN, LLVM::LLVMVoidType::get(context), {i32, pointer});
  Value words = stackWords(b, loc, 10);
  auto slot = [&](int64_t i) { return wordAt(b, loc, words, i); };
  int64_t i = 0;
  for (Value operand : llvm::concat<Value>(mma.getOperandA(), mma.getOperandB(),
                                           mma.getOperandC())) {
    Value bits = operand.getType() == i32 ? operand
                                          : LLVM::BitcastOp::create(b, loc, i32, operand);
    LLVM::StoreOp::create(b, loc, bits, slot(i++));
  }
  LLVM::CallOp::create(
      b, loc, callee,
      ValueRange{constantI32(b, loc, f16 ? KILN_EMU_MMA_F16 : KILN_EMU_MMA_BF16), words});
  Value result = LLVM::UndefOp::create(b, loc, mma.getType());
  for (int64_t j = 0; j < 4; ++j) {
    Value d = LLVM::LoadOp::create(b, loc, f32, slot(6 + j));
    result = LLVM::InsertValueOp::create(b, loc, result, d, ArrayRef<int64_t>{j});
  }
  mma.replaceAllUsesWith(result);
  mma.erase();
  return success();
}

/// ldmatrix (m8n8, 16-bit, 1, 2 or 4 matrices, transposed or not) as
/// kiln_emu_ldmatrix: the lane's row address goes as a generic pointer,
/// its registers come back through an array on its stack.
LogicalResult lowerLdmatrix(gpu::GPUModuleOp module, NVVM::LdMatrixOp load) {
  NVVM::LdStMatrixShapeAttr shape = load.getShape();
  int32_t matrices = int32_t(load.getNum());
  if (shape.getM() != 8 || shape.getN() != 8 || load.getEltType() != NVVM::LdStMatrixEltType::B16 ||
      (matrices != 1 && matrices != 2 && matrices != 4))
    return load.emitError("the GPU emulation runs ldmatrix m8n8 of 16-bit values (1, 2 or 4 "
                          "matrices) only");
  OpBuilder b(load);
  Location loc = load.getLoc();
  MLIRContext *context = load.getContext();
  Type i32 = b.getI32Type();
  auto pointer = LLVM::LLVMPointerType::get(context);
  LLVM::LLVMFuncOp callee = declare(module, KILN_EMU_LDMATRIX_FN, LLVM::LLVMVoidType::get(context),
                                    {i32, pointer, pointer});
  Value words = stackWords(b, loc, matrices);
  Value row = LLVM::AddrSpaceCastOp::create(b, loc, pointer, load.getPtr());
  bool transpose = load.getLayout() == NVVM::MMALayout::col;
  int32_t code = matrices | (transpose ? KILN_EMU_LDMATRIX_TRANS : 0);
  LLVM::CallOp::create(b, loc, callee, ValueRange{constantI32(b, loc, code), row, words});
  Value result;
  if (matrices == 1) {
    result = LLVM::LoadOp::create(b, loc, i32, words);
  } else {
    result = LLVM::UndefOp::create(b, loc, load.getType());
    for (int64_t j = 0; j < matrices; ++j) {
      Value value = LLVM::LoadOp::create(b, loc, i32, wordAt(b, loc, words, j));
      result = LLVM::InsertValueOp::create(b, loc, result, value, ArrayRef<int64_t>{j});
    }
  }
  load.replaceAllUsesWith(result);
  load.erase();
  return success();
}

/// cp.async (4, 8 or 16 bytes, whole: no source size) as
/// kiln_emu_cp_async with both addresses generic; its commit and wait as
/// kiln_emu_cp_async_commit and kiln_emu_cp_async_wait(n).
LogicalResult lowerAsyncCopy(gpu::GPUModuleOp module, Operation *op) {
  OpBuilder b(op);
  Location loc = op->getLoc();
  MLIRContext *context = op->getContext();
  auto pointer = LLVM::LLVMPointerType::get(context);
  Type i32 = b.getI32Type(), none = LLVM::LLVMVoidType::get(context);
  if (auto copy = dyn_cast<NVVM::CpAsyncOp>(op)) {
    if (copy.getCpSize())
      return copy.emitError("the GPU emulation runs cp.async of whole sizes only (no source "
                            "size operand)");
    LLVM::LLVMFuncOp callee = declare(module, KILN_EMU_CP_ASYNC_FN, none, {pointer, pointer, i32});
    Value dst = LLVM::AddrSpaceCastOp::create(b, loc, pointer, copy.getDst());
    Value src = LLVM::AddrSpaceCastOp::create(b, loc, pointer, copy.getSrc());
    LLVM::CallOp::create(b, loc, callee,
                         ValueRange{dst, src, constantI32(b, loc, int32_t(copy.getSize()))});
  } else if (isa<NVVM::CpAsyncCommitGroupOp>(op)) {
    LLVM::CallOp::create(b, loc, declare(module, KILN_EMU_CP_ASYNC_COMMIT_FN, none, {}),
                         ValueRange{});
  } else {
    auto wait = cast<NVVM::CpAsyncWaitGroupOp>(op);
    LLVM::CallOp::create(b, loc, declare(module, KILN_EMU_CP_ASYNC_WAIT_FN, none, {i32}),
                         ValueRange{constantI32(b, loc, int32_t(wait.getN()))});
  }
  op->erase();
  return success();
}

struct GpuEmulationCallsPass
    : mlir::kiln::impl::KilnGpuEmulationCallsBase<GpuEmulationCallsPass> {
  void runOnOperation() override {
    gpu::GPUModuleOp module = getOperation();
    SmallVector<Operation *> nvvmOps;
    module.walk([&](Operation *op) {
      if (isa<NVVM::NVVMDialect>(op->getDialect()))
        nvvmOps.push_back(op);
    });
    Type i32 = IntegerType::get(&getContext(), 32);
    for (Operation *op : nvvmOps) {
      OpBuilder b(op);
      if (std::optional<int32_t> which = specialRegister(op)) {
        if (op->getResult(0).getType() != i32) {
          op->emitError("the GPU emulation reads special registers as i32, not ")
              << op->getResult(0).getType();
          return signalPassFailure();
        }
        LLVM::LLVMFuncOp callee = declare(module, KILN_EMU_SPECIAL_REGISTER_FN, i32, {i32});
        Value read = LLVM::CallOp::create(b, op->getLoc(), callee,
                                          ValueRange{constantI32(b, op->getLoc(), *which)})
                         .getResult();
        op->getResult(0).replaceAllUsesWith(read);
        op->erase();
        continue;
      }
      if (auto shuffle = dyn_cast<NVVM::ShflOp>(op)) {
        lowerShuffle(module, shuffle);
        continue;
      }
      if (auto mma = dyn_cast<NVVM::MmaOp>(op)) {
        if (failed(lowerMma(module, mma)))
          return signalPassFailure();
        continue;
      }
      if (isa<NVVM::CpAsyncOp, NVVM::CpAsyncCommitGroupOp, NVVM::CpAsyncWaitGroupOp>(op)) {
        if (failed(lowerAsyncCopy(module, op)))
          return signalPassFailure();
        continue;
      }
      if (auto load = dyn_cast<NVVM::LdMatrixOp>(op)) {
        if (failed(lowerLdmatrix(module, load)))
          return signalPassFailure();
        continue;
      }
      auto barrier = dyn_cast<NVVM::BarrierOp>(op);
      if (isa<NVVM::Barrier0Op>(op) ||
          (barrier && !barrier.getNumberOfThreads() && !barrier.getReductionOp() &&
           !barrier.getRes() && !barrier.getBarrierId())) {
        LLVM::LLVMFuncOp callee = declare(module, KILN_EMU_BARRIER_FN,
                                          LLVM::LLVMVoidType::get(&getContext()), {});
        LLVM::CallOp::create(b, op->getLoc(), callee, ValueRange{});
        op->erase();
        continue;
      }
      op->emitError("the GPU emulation (--gpu-emulation) has no host form of '")
          << op->getName() << "'";
      return signalPassFailure();
    }
  }
};

} // namespace
