//===- GpuEmulation.cpp - Kernels compiled for the host, for tests --------===//
//
// The kernels' module, once convert-gpu-to-nvvm and kiln-gpu-emulation-calls
// have run, is LLVM dialect that any LLVM target compiles: here the host's.
// Each kernel gets an entry taking cuLaunchKernel's parameter pointers and
// a description (parameter count, whether its threads synchronize), every
// load and store is reported to the emulator first (its race check), and
// the whole is linked into a shared library that the test CUDA driver loads
// from the model's gpu_image. The library leaves the emulator's functions
// and libdevice's __nv_* math undefined: the driver that loads it has them.
//
//===----------------------------------------------------------------------===//

#include "GpuEmulation.h"
#include "NativeCodegen.h"
#include "kiln/kiln_gpu_emulation.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "llvm/Analysis/ValueTracking.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Target/TargetMachine.h"

using namespace mlir;

static_assert(sizeof(KILN_GPU_EMULATION_MAGIC) - 1 == KILN_GPU_EMULATION_MAGIC_SIZE,
              "kiln_gpu_emulation.h: the magic's size");

namespace {

/// Whether `function`, or a function it calls, shuffles, waits at a
/// barrier or runs a warp's matrix product: its threads then need the
/// emulator's coroutines.
bool synchronizes(const llvm::Function &function,
                  llvm::SmallPtrSetImpl<const llvm::Function *> &seen) {
  if (!seen.insert(&function).second)
    return false;
  for (const llvm::BasicBlock &block : function)
    for (const llvm::Instruction &instruction : block) {
      auto *call = dyn_cast<llvm::CallBase>(&instruction);
      const llvm::Function *callee = call ? call->getCalledFunction() : nullptr;
      if (!callee)
        continue;
      // Warp-wide operations and barriers; cp.async too, whose pending
      // copies are a thread's own state (a coroutine's).
      if (llvm::is_contained({StringRef(KILN_EMU_SHFL_FN), StringRef(KILN_EMU_BARRIER_FN),
                              StringRef(KILN_EMU_MMA_FN), StringRef(KILN_EMU_LDMATRIX_FN),
                              StringRef(KILN_EMU_CP_ASYNC_FN)},
                             callee->getName()))
        return true;
      if (!callee->isDeclaration() && synchronizes(*callee, seen))
        return true;
    }
  return false;
}

/// kiln_emu_kernel_<name>(void **params), which loads each parameter
/// through its pointer (as the driver reads them: a 32-bit parameter is the
/// first 4 bytes of its slot) and calls the kernel, and kiln_emu_info_<name>.
void addLaunchEntry(llvm::Module &module, llvm::Function &kernel) {
  llvm::LLVMContext &context = module.getContext();
  auto *pointer = llvm::PointerType::get(context, 0);
  auto *entryType = llvm::FunctionType::get(llvm::Type::getVoidTy(context), {pointer}, false);
  std::string name = kernel.getName().str();
  auto *entry = llvm::Function::Create(entryType, llvm::GlobalValue::ExternalLinkage,
                                       KILN_EMU_KERNEL_PREFIX + name, module);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(context, "entry", entry));
  llvm::SmallVector<llvm::Value *> args;
  for (llvm::Argument &param : kernel.args()) {
    llvm::Value *slot = b.CreateConstGEP1_64(pointer, entry->getArg(0), param.getArgNo());
    args.push_back(b.CreateLoad(param.getType(), b.CreateLoad(pointer, slot)));
  }
  b.CreateCall(&kernel, args);
  b.CreateRetVoid();

  llvm::SmallPtrSet<const llvm::Function *, 8> seen;
  auto *i32 = llvm::Type::getInt32Ty(context);
  auto *infoType = llvm::StructType::get(context, {i32, i32});
  auto *info = llvm::ConstantStruct::get(
      infoType, {llvm::ConstantInt::get(i32, kernel.arg_size()),
                 llvm::ConstantInt::get(i32, synchronizes(kernel, seen) ? 1 : 0)});
  new llvm::GlobalVariable(module, infoType, /*isConstant=*/true,
                           llvm::GlobalValue::ExternalLinkage, info, KILN_EMU_INFO_PREFIX + name);
  // Only the entries are the library's interface; the optimizer may inline
  // the kernel into its entry.
  kernel.setCallingConv(llvm::CallingConv::C);
  kernel.setLinkage(llvm::GlobalValue::InternalLinkage);
}

/// Reports every load and store of the kernels (and the functions they
/// call) to the emulator before it happens, with the alignment the code
/// assumes, for its alignment and race checks; accesses
/// of a function's own stack (allocas: thread-private) are not reported,
/// and those of shared memory (a global in address space 3: one for the
/// block that runs) say so.
/// Before the launch entries exist: their reads of the parameter array are
/// not the kernels'.
void reportAccesses(llvm::Module &module) {
  llvm::LLVMContext &context = module.getContext();
  auto *pointer = llvm::PointerType::get(context, 0);
  llvm::FunctionCallee report = module.getOrInsertFunction(
      KILN_EMU_ACCESS_FN, llvm::Type::getVoidTy(context), pointer,
      llvm::Type::getInt64Ty(context), llvm::Type::getInt32Ty(context));
  const llvm::DataLayout &layout = module.getDataLayout();
  for (llvm::Function &function : module) {
    if (function.isDeclaration())
      continue;
    SmallVector<llvm::Instruction *> accesses;
    for (llvm::BasicBlock &block : function)
      for (llvm::Instruction &instruction : block)
        if (isa<llvm::LoadInst, llvm::StoreInst>(instruction))
          accesses.push_back(&instruction);
    for (llvm::Instruction *access : accesses) {
      auto *store = dyn_cast<llvm::StoreInst>(access);
      llvm::Value *address = store ? store->getPointerOperand()
                                   : cast<llvm::LoadInst>(access)->getPointerOperand();
      if (isa<llvm::AllocaInst>(llvm::getUnderlyingObject(address)))
        continue;
      llvm::Type *type = store ? store->getValueOperand()->getType() : access->getType();
      // NVPTX's shared address space (gpu.launch workgroup memory).
      bool shared = address->getType()->getPointerAddressSpace() == 3;
      llvm::IRBuilder<> b(access);
      if (address->getType() != pointer)
        address = b.CreateAddrSpaceCast(address, pointer);
      llvm::Align alignment = store ? store->getAlign() : cast<llvm::LoadInst>(access)->getAlign();
      int32_t flags = (store ? KILN_EMU_ACCESS_WRITE : 0) | (shared ? KILN_EMU_ACCESS_SHARED : 0) |
                      int32_t(llvm::Log2(alignment)) << KILN_EMU_ACCESS_ALIGN_SHIFT;
      b.CreateCall(report, {address, b.getInt64(layout.getTypeStoreSize(type)),
                            b.getInt32(flags)});
    }
  }
}

/// Drops the NVVM and GPU attributes of the kernels' functions (a kernel
/// calling convention, launch bounds), which mean nothing to a CPU, and
/// returns the kernels' names.
SmallVector<std::string> takeKernelMarks(ModuleOp host) {
  SmallVector<std::string> kernels;
  for (auto function : host.getOps<LLVM::LLVMFuncOp>()) {
    bool kernel = false;
    for (NamedAttribute attribute : llvm::to_vector(function->getDiscardableAttrs())) {
      StringRef name = attribute.getName().getValue();
      if (!name.starts_with("nvvm.") && !name.starts_with("gpu."))
        continue;
      kernel |= name == "nvvm.kernel" || name == "gpu.kernel";
      function->removeAttr(attribute.getName());
    }
    if (kernel)
      kernels.push_back(function.getName().str());
  }
  return kernels;
}

} // namespace

FailureOr<std::string> mlir::kiln::emulatedKernelsImage(gpu::GPUModuleOp kernels,
                                                        const CompileOptions &options) {
  Location loc = kernels.getLoc();
  OwningOpRef<ModuleOp> host = ModuleOp::create(loc);
  OpBuilder b = OpBuilder::atBlockBegin(host->getBody());
  for (Operation &op : kernels.getBody()->getOperations())
    b.clone(op);
  SmallVector<std::string> kernelNames = takeKernelMarks(*host);

  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> module = translateModuleToLLVMIR(*host, context, "kiln_kernels");
  if (!module)
    return emitError(loc, "translating the emulated kernels to LLVM IR failed"), failure();
  FailureOr<std::unique_ptr<llvm::TargetMachine>> machine =
      native::createTargetMachine(options, loc);
  if (failed(machine))
    return failure();
  module->setDataLayout((*machine)->createDataLayout());
  module->setTargetTriple((*machine)->getTargetTriple());
  reportAccesses(*module);
  for (const std::string &name : kernelNames) {
    llvm::Function *kernel = module->getFunction(name);
    if (!kernel)
      return emitError(loc, "internal error: kernel '") << name << "' is not in the LLVM module",
             failure();
    addLaunchEntry(*module, *kernel);
  }
  // Optimized at -O2 whatever the model's level: the emulated kernels'
  // arithmetic is IEEE either way (no fast-math flags), only faster.
  native::optimize(*module, **machine, 2);

  llvm::SmallString<128> objectPath, libraryPath;
  if (llvm::sys::fs::createTemporaryFile("kiln-kernels", "o", objectPath) ||
      llvm::sys::fs::createTemporaryFile("kiln-kernels", "so", libraryPath))
    return emitError(loc, "cannot create temporary files for the emulated kernels"), failure();
  llvm::FileRemover removeObject(objectPath), removeLibrary(libraryPath);
  if (failed(native::emitObjectFile(*module, **machine, loc, objectPath)) ||
      failed(native::linkSharedLibrary(loc, objectPath, libraryPath)))
    return failure();
  auto library = llvm::MemoryBuffer::getFile(libraryPath);
  if (!library)
    return emitError(loc, "cannot read the emulated kernels' library: ")
               << library.getError().message(),
           failure();
  return std::string(KILN_GPU_EMULATION_MAGIC) + (*library)->getBuffer().str();
}
