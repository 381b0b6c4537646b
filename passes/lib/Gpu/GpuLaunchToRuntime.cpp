//===- GpuLaunchToRuntime.cpp - Kernel launches through the runtime -------===//
//
// The runtime, not generated code, owns the CUDA driver (loaded with dlopen
// so that CPU-only hosts need nothing of CUDA), the session's context,
// stream and loaded module. So a launch is a call of the runtime
// (kiln_runtime_context::gpu_launch) naming the kernel, rather than
// upstream's gpu-to-llvm lowering to mgpu* wrapper calls with a module
// loaded by a global constructor when the library is opened.
//
// All kernels go into one gpu.module so that the model has one binary,
// loaded once per session.
//
//===----------------------------------------------------------------------===//

#include "../Lowering/RuntimeCalls.h"
#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir::kiln {
#define GEN_PASS_DEF_KILNGPULAUNCHTORUNTIME
#include "kiln/Passes/Passes.h.inc"
} // namespace mlir::kiln

using namespace mlir;

namespace {

constexpr StringLiteral kLaunchFunction = "kiln_rt_gpu_launch";
constexpr StringLiteral kKernelModule = "kiln_kernels";

/// Moves every kernel into one gpu.module named kKernelModule. Outlining
/// names each kernel after the function it came from and its module
/// uniquely; the kernel takes its module's name. The device functions the
/// kernels call (outlining copies each into every module that needs it:
/// convert-math-to-funcs's integer powers) go once.
LogicalResult mergeKernelModules(ModuleOp module) {
  SmallVector<gpu::GPUModuleOp> modules(module.getOps<gpu::GPUModuleOp>());
  if (modules.empty())
    return success();
  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  auto merged = gpu::GPUModuleOp::create(b, module.getLoc(), kKernelModule);
  Block &target = merged.getBodyRegion().front();
  for (gpu::GPUModuleOp from : modules) {
    for (Operation &op : llvm::make_early_inc_range(from.getBodyRegion().front())) {
      if (auto callee = dyn_cast<func::FuncOp>(op)) {
        if (SymbolTable::lookupSymbolIn(merged, callee.getName()))
          callee.erase(); // a copy of the same top-level function
        else
          callee->moveBefore(&target, target.end());
        continue;
      }
      auto kernel = dyn_cast<gpu::GPUFuncOp>(op);
      if (!kernel)
        return op.emitError("a kernel module holds something other than kernels and the "
                            "functions they call");
      if (SymbolTable::lookupSymbolIn(merged, from.getName()))
        return kernel.emitError("two kernel modules are named ") << from.getName();
      kernel.setName(from.getName());
      kernel->moveBefore(&target, target.end());
    }
    from.erase();
  }
  return success();
}

/// A kernel operand as the 64-bit word the runtime passes for it.
FailureOr<Value> parameterWord(OpBuilder &b, Location loc, Value operand) {
  Type type = operand.getType();
  Type i64 = b.getI64Type();
  if (auto memref = dyn_cast<MemRefType>(type)) {
    // The bare-pointer convention: the kernel knows shape, strides and
    // offset from the type, so they must be static.
    SmallVector<int64_t> strides;
    int64_t offset;
    if (!memref.hasStaticShape() || failed(memref.getStridesAndOffset(strides, offset)) ||
        ShapedType::isDynamic(offset) || llvm::any_of(strides, ShapedType::isDynamic))
      return emitError(loc, "a kernel operand has a dynamic shape or layout (")
             << type << "); kernels take static ones (kiln-gpu-unpack-dynamic-memrefs, "
             << "before outlining, passes a symbolic one as its base and sizes)";
    Value pointer = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, operand);
    return (Value)arith::IndexCastUIOp::create(b, loc, i64, pointer);
  }
  if (type.isIndex())
    return (Value)arith::IndexCastOp::create(b, loc, i64, operand);
  if (auto integer = dyn_cast<IntegerType>(type)) {
    if (integer.getWidth() == 64)
      return operand;
    if (integer.getWidth() < 64)
      return (Value)arith::ExtUIOp::create(b, loc, i64, operand);
  }
  if (auto floating = dyn_cast<FloatType>(type)) {
    unsigned width = floating.getWidth();
    Value bits = arith::BitcastOp::create(b, loc, b.getIntegerType(width), operand);
    return width == 64 ? bits : (Value)arith::ExtUIOp::create(b, loc, i64, bits);
  }
  return emitError(loc, "a kernel operand of type ") << type << " cannot be passed";
}

LogicalResult lowerLaunch(gpu::LaunchFuncOp launch, Value context) {
  if (launch.getAsyncToken() || !launch.getAsyncDependencies().empty() ||
      launch.hasClusterSize())
    return launch.emitError("async or clustered launches are not supported");
  ModuleOp module = launch->getParentOfType<ModuleOp>();
  OpBuilder b(launch);
  Location loc = launch.getLoc();
  ValueRange operands = launch.getKernelOperands();
  auto paramsType = MemRefType::get({int64_t(std::max<size_t>(operands.size(), 1))},
                                    b.getI64Type());
  Value params = memref::AllocaOp::create(b, loc, paramsType);
  for (auto [i, operand] : llvm::enumerate(operands)) {
    FailureOr<Value> word = parameterWord(b, loc, operand);
    if (failed(word))
      return failure();
    memref::StoreOp::create(b, loc, *word, params,
                            ValueRange{arith::ConstantIndexOp::create(b, loc, i)});
  }
  StringRef kernel = launch.getKernelModuleName().getValue();
  memref::GlobalOp name = mlir::kiln::lowering::cStringGlobal(
      module, ("__kiln_kernel_name_" + kernel).str(), kernel);
  Value shared = launch.getDynamicSharedMemorySize();
  if (!shared)
    shared = arith::ConstantIndexOp::create(b, loc, 0);
  else
    shared = arith::IndexCastUIOp::create(b, loc, b.getIndexType(), shared);
  gpu::KernelDim3 grid = launch.getGridSizeOperandValues();
  gpu::KernelDim3 block = launch.getBlockSizeOperandValues();
  func::CallOp::create(
      b, loc, kLaunchFunction, TypeRange{},
      ValueRange{context, mlir::kiln::lowering::cStringAddress(b, loc, name),
                 grid.x, grid.y, grid.z, block.x, block.y, block.z, shared,
                 memref::ExtractAlignedPointerAsIndexOp::create(b, loc, params),
                 arith::ConstantIndexOp::create(b, loc, operands.size())});
  launch.erase();
  return success();
}

struct GpuLaunchToRuntimePass
    : mlir::kiln::impl::KilnGpuLaunchToRuntimeBase<GpuLaunchToRuntimePass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    bool launched = false;
    for (auto func : module.getOps<func::FuncOp>()) {
      SmallVector<gpu::LaunchFuncOp> launches;
      func.walk([&](gpu::LaunchFuncOp op) { launches.push_back(op); });
      if (launches.empty())
        continue;
      Value context = mlir::kiln::lowering::runtimeContextArgument(func);
      if (!context) {
        func.emitError("kernel launches need the function's kiln.runtime_context argument");
        return signalPassFailure();
      }
      for (gpu::LaunchFuncOp launch : launches)
        if (failed(lowerLaunch(launch, context)))
          return signalPassFailure();
      launched = true;
    }
    // After the launches: they name kernels by their modules.
    if (failed(mergeKernelModules(module)))
      return signalPassFailure();
    if (launched && !module.lookupSymbol(kLaunchFunction)) {
      OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
      Type index = b.getIndexType();
      SmallVector<Type> params(11, index);
      func::FuncOp::create(b, module.getLoc(), kLaunchFunction, b.getFunctionType(params, {}))
          .setPrivate();
    }
  }
};
} // namespace
