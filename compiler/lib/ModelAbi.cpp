//===- ModelAbi.cpp - Emit the kiln_model_abi table into LLVM IR ----------===//
//
// Builds, in LLVM IR, exactly the structures of runtime/include/kiln/
// kiln_abi.h: the tensor descriptions, the `run(void **args)` trampoline to
// the C interface of @main, and the exported `kiln_model_abi()` accessor.
//
//===----------------------------------------------------------------------===//

#include "ModelAbi.h"
#include "kiln/Dialect/Kiln/KilnDialect.h"
#include "kiln/kiln_abi.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Module.h"
#include <cstddef>
#include <vector>

using namespace mlir;
using namespace mlir::kiln;

// The LLVM structs below mirror these C layouts on x86-64 / AArch64 LP64.
static_assert(sizeof(kiln_abi_tensor) == 32 && offsetof(kiln_abi_tensor, dims) == 16,
              "kiln_abi_tensor layout changed: update AbiBuilder::tensorType");
static_assert(sizeof(kiln_model_abi) == 112 && offsetof(kiln_model_abi, inputs) == 16 &&
                  offsetof(kiln_model_abi, run) == 40 &&
                  offsetof(kiln_model_abi, regions) == 56 &&
                  offsetof(kiln_model_abi, pipeline) == 64 &&
                  offsetof(kiln_model_abi, gpu_arch) == 72 &&
                  offsetof(kiln_model_abi, gpu_precision) == 76 &&
                  offsetof(kiln_model_abi, gpu_image) == 80 &&
                  offsetof(kiln_model_abi, gpu_image_size) == 88 &&
                  offsetof(kiln_model_abi, target_cpu) == 96 &&
                  offsetof(kiln_model_abi, target_features) == 104 &&
                  sizeof(kiln_abi_region) == 16,
              "kiln_model_abi layout changed: update addModelAbi");
static_assert(offsetof(kiln_runtime_context, sgemm) == 16 &&
                  offsetof(kiln_runtime_context, scratch) == 24 &&
                  offsetof(kiln_runtime_context, profile) == 32 && sizeof(void *) == 8,
              "kiln_runtime_context layout changed: update defineRuntimeImports");
static_assert(int(GpuPrecision::Fp32) == KILN_GPU_PRECISION_FP32 &&
                  int(GpuPrecision::Tf32) == KILN_GPU_PRECISION_TF32 &&
                  int(GpuPrecision::Fp16) == KILN_GPU_PRECISION_FP16 &&
                  int(GpuPrecision::Bf16) == KILN_GPU_PRECISION_BF16,
              "Compile.h and kiln_abi.h disagree on the GPU precisions");
static_assert(KILN_GPU_COPY_HOST_TO_DEVICE == 0 && KILN_GPU_COPY_DEVICE_TO_HOST == 1,
              "kiln-gpu-device-buffers passes these copy kinds");
static_assert(int64_t(GemmActivation::GeluErf) == KILN_GEMM_ACT_GELU_ERF &&
                  int64_t(GemmActivation::GeluTanh) == KILN_GEMM_ACT_GELU_TANH &&
                  int64_t(GemmActivation::Relu) == KILN_GEMM_ACT_RELU,
              "KilnAttrs.td and kiln_abi.h disagree on the activations");
static_assert(sizeof(kiln_gemm_desc) == KILN_GEMM_DESC_FIELDS * 8,
              "kiln_gemm_desc must stay an array of 64-bit fields (FGemmToRuntime)");

namespace {
class AbiBuilder {
public:
  explicit AbiBuilder(llvm::Module &module)
      : module(module), ctx(module.getContext()), ptr(llvm::PointerType::get(ctx, 0)),
        i32(llvm::Type::getInt32Ty(ctx)), i64(llvm::Type::getInt64Ty(ctx)),
        tensorType(llvm::StructType::get(ctx, {ptr, i32, i32, ptr, ptr})) {}

  llvm::Constant *string(llvm::StringRef text) {
    auto *init = llvm::ConstantDataArray::getString(ctx, text);
    auto *global = new llvm::GlobalVariable(module, init->getType(), true,
                                            llvm::GlobalValue::PrivateLinkage, init,
                                            ".kiln.str");
    global->setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
    return global;
  }

  llvm::Constant *array(llvm::Type *element, llvm::ArrayRef<llvm::Constant *> values,
                        llvm::StringRef name) {
    auto *type = llvm::ArrayType::get(element, values.size());
    return new llvm::GlobalVariable(module, type, true, llvm::GlobalValue::PrivateLinkage,
                                    llvm::ConstantArray::get(type, values), name);
  }

  llvm::Constant *tensor(const TensorSignature &sig) {
    SmallVector<llvm::Constant *> dims, names;
    for (int64_t d : sig.dims)
      dims.push_back(llvm::ConstantInt::get(i64, d));
    for (const std::string &n : sig.dimNames)
      names.push_back(string(n));
    llvm::Constant *dimsArray =
        dims.empty() ? llvm::ConstantPointerNull::get(ptr) : array(i64, dims, ".kiln.dims");
    llvm::Constant *namesArray =
        names.empty() ? llvm::ConstantPointerNull::get(ptr) : array(ptr, names, ".kiln.dim_names");
    return llvm::ConstantStruct::get(
        tensorType, {string(sig.name), llvm::ConstantInt::get(i32, sig.dtype),
                     llvm::ConstantInt::get(i32, sig.dims.size()), dimsArray, namesArray});
  }

  llvm::Constant *tensors(ArrayRef<TensorSignature> sigs, llvm::StringRef name) {
    SmallVector<llvm::Constant *> values;
    for (const TensorSignature &sig : sigs)
      values.push_back(tensor(sig));
    if (values.empty())
      return llvm::ConstantPointerNull::get(ptr);
    auto *type = llvm::ArrayType::get(tensorType, values.size());
    return new llvm::GlobalVariable(module, type, true, llvm::GlobalValue::PrivateLinkage,
                                    llvm::ConstantArray::get(type, values), name);
  }

  /// void run(void **args): _mlir_ciface_main(args[0], ..., args[n - 1],
  /// (intptr_t)args[n]), the last being the kiln_runtime_context.
  llvm::Function *trampoline(llvm::Function *entry, unsigned numArgs) {
    auto *type = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptr}, false);
    auto *run = llvm::Function::Create(type, llvm::GlobalValue::InternalLinkage,
                                       "kiln_model_run", module);
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", run));
    SmallVector<llvm::Value *> args;
    for (unsigned i = 0; i < numArgs; ++i) {
      llvm::Value *slot = b.CreateConstInBoundsGEP1_64(ptr, run->getArg(0), i);
      args.push_back(b.CreateLoad(ptr, slot));
    }
    args.back() = b.CreatePtrToInt(args.back(), i64);
    b.CreateCall(entry, args);
    b.CreateRetVoid();
    return run;
  }

  /// Gives each runtime function the lowered code declares (kiln_rt_*,
  /// every parameter an i64, the context first) a body that calls the
  /// context's function pointer for it, so nothing is left for dlopen to
  /// resolve.
  /// An error message for a declaration of the wrong shape, else empty.
  std::string defineRuntimeImports() {
    struct Import {
      const char *name;
      size_t field;             // offset in kiln_runtime_context
      std::vector<bool> isPointer; // per parameter after the context
    };
    const Import imports[] = {
        {"kiln_rt_sgemm", offsetof(kiln_runtime_context, sgemm),
         {false, false, false, true, false, false, true, false, false, true, false, false}},
        {"kiln_rt_gemm", offsetof(kiln_runtime_context, gemm), {true}},
        {"kiln_rt_qgemm", offsetof(kiln_runtime_context, qgemm), {true}}, // ABI 7
        {"kiln_rt_sparse_gemm", offsetof(kiln_runtime_context, sparse_gemm), {true}}, // ABI 10
        {"kiln_rt_softmax", offsetof(kiln_runtime_context, softmax), {true}},         // ABI 11
        {"kiln_rt_sparse_qgemm", offsetof(kiln_runtime_context, sparse_qgemm), {true}}, // ABI 12
        {"kiln_rt_attention", offsetof(kiln_runtime_context, attention), {true}},       // ABI 13
        {"kiln_rt_layer_norm", offsetof(kiln_runtime_context, layer_norm), {true}},     // ABI 14
        {"kiln_rt_parallel_for", offsetof(kiln_runtime_context, parallel_for),
         {true, true, false, false}},
        {"kiln_rt_gpu_launch", offsetof(kiln_runtime_context, gpu_launch),
         {true, false, false, false, false, false, false, false, true, false}},
        {"kiln_rt_gpu_copy", offsetof(kiln_runtime_context, gpu_copy),
         {true, true, false, false}},
        {"kiln_rt_fail", offsetof(kiln_runtime_context, fail), {true}},
        {"kiln_rt_gpu_check", offsetof(kiln_runtime_context, gpu_check), {true, true}}, // ABI 15
        {"kiln_rt_release", offsetof(kiln_runtime_context, release), {true}},         // ABI 17
    };
    for (const Import &import : imports) {
      llvm::Function *thunk = module.getFunction(import.name);
      if (!thunk || !thunk->isDeclaration())
        continue;
      if (thunk->arg_size() != import.isPointer.size() + 1)
        return std::string("the lowered code declares ") + import.name + " with " +
               std::to_string(thunk->arg_size()) + " parameters, the ABI has " +
               std::to_string(import.isPointer.size() + 1);
      thunk->setLinkage(llvm::GlobalValue::InternalLinkage);
      llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", thunk));
      llvm::Value *context = b.CreateIntToPtr(thunk->getArg(0), ptr);
      llvm::Value *slot = b.CreateConstInBoundsGEP1_64(b.getInt8Ty(), context, import.field);
      llvm::Value *callee = b.CreateLoad(ptr, slot);
      SmallVector<llvm::Type *> types{ptr};
      SmallVector<llvm::Value *> args{context};
      for (auto [i, pointer] : llvm::enumerate(import.isPointer)) {
        llvm::Value *arg = thunk->getArg(i + 1);
        args.push_back(pointer ? b.CreateIntToPtr(arg, ptr) : arg);
        types.push_back(args.back()->getType());
      }
      b.CreateCall(llvm::FunctionType::get(b.getVoidTy(), types, false), callee, args);
      b.CreateRetVoid();
    }
    std::string problem = defineScratchImport();
    if (problem.empty())
      problem = defineAllocImport();
    if (problem.empty())
      problem = defineGpuConstantImport();
    return problem.empty() ? defineProfileImport() : problem;
  }

  /// kiln_rt_profile(ctx, region, phase): ctx->profile(ctx, region, phase)
  /// when the session profiles (the pointer is not NULL).
  std::string defineProfileImport() {
    llvm::Function *thunk = module.getFunction("kiln_rt_profile");
    if (!thunk || !thunk->isDeclaration())
      return "";
    if (thunk->arg_size() != 3 || !thunk->getReturnType()->isVoidTy())
      return "the lowered code declares kiln_rt_profile with an unexpected signature";
    thunk->setLinkage(llvm::GlobalValue::InternalLinkage);
    auto *entry = llvm::BasicBlock::Create(ctx, "entry", thunk);
    auto *call = llvm::BasicBlock::Create(ctx, "call", thunk);
    auto *done = llvm::BasicBlock::Create(ctx, "done", thunk);
    llvm::IRBuilder<> b(entry);
    llvm::Value *context = b.CreateIntToPtr(thunk->getArg(0), ptr);
    llvm::Value *slot = b.CreateConstInBoundsGEP1_64(
        b.getInt8Ty(), context, offsetof(kiln_runtime_context, profile));
    llvm::Value *callee = b.CreateLoad(ptr, slot);
    b.CreateCondBr(b.CreateIsNull(callee), done, call);
    b.SetInsertPoint(call);
    b.CreateCall(llvm::FunctionType::get(b.getVoidTy(), {ptr, i64, i64}, false), callee,
                 {context, thunk->getArg(1), thunk->getArg(2)});
    b.CreateBr(done);
    b.SetInsertPoint(done);
    b.CreateRetVoid();
    return "";
  }

  /// The kiln_abi_region array, or null for none.
  llvm::Constant *regions(llvm::ArrayRef<ProfileRegion> list) {
    if (list.empty())
      return llvm::ConstantPointerNull::get(ptr);
    auto *regionType = llvm::StructType::get(ctx, {ptr, ptr});
    SmallVector<llvm::Constant *> values;
    for (const ProfileRegion &region : list)
      values.push_back(
          llvm::ConstantStruct::get(regionType, {string(region.name), string(region.opType)}));
    auto *type = llvm::ArrayType::get(regionType, values.size());
    return new llvm::GlobalVariable(module, type, true, llvm::GlobalValue::PrivateLinkage,
                                    llvm::ConstantArray::get(type, values), ".kiln.regions");
  }

  /// kiln_rt_scratch(ctx, bytes) -> memref<?xi8>: the descriptor
  /// {p, p, 0, [bytes], [1]} of p = ctx->scratch(ctx, bytes).
  std::string defineScratchImport() {
    return defineMemoryImport("kiln_rt_scratch", offsetof(kiln_runtime_context, scratch),
                              /*noalias=*/true);
  }

  /// kiln_rt_alloc(ctx, bytes) -> memref<?xi8>: the descriptor
  /// {p, p, 0, [bytes], [1]} of p = ctx->alloc(ctx, bytes) (ABI 17).
  std::string defineAllocImport() {
    return defineMemoryImport("kiln_rt_alloc", offsetof(kiln_runtime_context, alloc),
                              /*noalias=*/true);
  }

  /// kiln_rt_gpu_constant(ctx, host, bytes) -> memref<?xi8>: the
  /// descriptor of p = ctx->gpu_constant(ctx, host, bytes).
  std::string defineGpuConstantImport() {
    return defineMemoryImport("kiln_rt_gpu_constant",
                              offsetof(kiln_runtime_context, gpu_constant), /*noalias=*/false);
  }

  /// A runtime function returning memory, called as `name(ctx, ..., bytes)
  /// -> memref<?xi8>` (every parameter an i64, pointers among them): the
  /// descriptor {p, p, 0, [bytes], [1]} of p = ctx->field(ctx, ..., bytes).
  std::string defineMemoryImport(const char *name, size_t field, bool noalias) {
    llvm::Function *thunk = module.getFunction(name);
    if (!thunk || !thunk->isDeclaration())
      return "";
    auto *descriptor = llvm::dyn_cast<llvm::StructType>(thunk->getReturnType());
    if (thunk->arg_size() < 2 || !descriptor || descriptor->getNumElements() != 5)
      return std::string("the lowered code declares ") + name + " with an unexpected signature";
    thunk->setLinkage(llvm::GlobalValue::InternalLinkage);
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", thunk));
    llvm::Value *context = b.CreateIntToPtr(thunk->getArg(0), ptr);
    llvm::Value *slot = b.CreateConstInBoundsGEP1_64(b.getInt8Ty(), context, field);
    llvm::Value *callee = b.CreateLoad(ptr, slot);
    SmallVector<llvm::Type *> types{ptr};
    SmallVector<llvm::Value *> args{context};
    // The middle parameters are pointers (host addresses); the last is
    // the size in bytes.
    for (unsigned i = 1; i < thunk->arg_size(); ++i) {
      llvm::Value *arg = thunk->getArg(i);
      args.push_back(i + 1 < thunk->arg_size() ? b.CreateIntToPtr(arg, ptr) : arg);
      types.push_back(args.back()->getType());
    }
    llvm::CallInst *memory =
        b.CreateCall(llvm::FunctionType::get(ptr, types, false), callee, args);
    // Each scratch block is fresh memory no other pointer reaches, like
    // malloc's: `noalias` lets LLVM vectorize loops over two blocks.
    if (noalias)
      memory->addRetAttr(llvm::Attribute::NoAlias);
    llvm::Value *bytes = thunk->getArg(thunk->arg_size() - 1);
    llvm::Value *result = llvm::PoisonValue::get(descriptor);
    result = b.CreateInsertValue(result, memory, {0});
    result = b.CreateInsertValue(result, memory, {1});
    result = b.CreateInsertValue(result, llvm::ConstantInt::get(i64, 0), {2});
    result = b.CreateInsertValue(result, bytes, {3, 0});
    result = b.CreateInsertValue(result, llvm::ConstantInt::get(i64, 1), {4, 0});
    b.CreateRet(result);
    return "";
  }

  /// The GPU image as a constant global, or null.
  llvm::Constant *gpuImage(const GpuImage &gpu) {
    if (gpu.bytes.empty())
      return llvm::ConstantPointerNull::get(ptr);
    auto *init = llvm::ConstantDataArray::getRaw(gpu.bytes, gpu.bytes.size(), b8());
    auto *global = new llvm::GlobalVariable(module, init->getType(), true,
                                            llvm::GlobalValue::PrivateLinkage, init,
                                            ".kiln.gpu_image");
    // cuModuleLoadData reads fatbins with 8-byte alignment.
    global->setAlignment(llvm::Align(64));
    return global;
  }

  llvm::Type *b8() { return llvm::Type::getInt8Ty(ctx); }

  llvm::Module &module;
  llvm::LLVMContext &ctx;
  llvm::PointerType *ptr;
  llvm::IntegerType *i32, *i64;
  llvm::StructType *tensorType;
};
} // namespace

LogicalResult mlir::kiln::addModelAbi(llvm::Module &module, const ModelSignature &signature,
                                      llvm::ArrayRef<ProfileRegion> regions,
                                      llvm::StringRef producer, llvm::StringRef pipeline,
                                      const GpuImage &gpu, const TargetDescription &target,
                                      std::string &error) {
  llvm::Function *entry = module.getFunction("_mlir_ciface_main");
  if (!entry) {
    error = "the lowered module has no C interface for @main";
    return failure();
  }
  // With results, the C interface takes the result block first; the
  // runtime context comes last.
  unsigned expected = signature.inputs.size() + (signature.outputs.empty() ? 0 : 1) + 1;
  if (entry->arg_size() != expected) {
    error = "the C interface of @main takes " + std::to_string(entry->arg_size()) +
            " arguments, the signature needs " + std::to_string(expected);
    return failure();
  }
  if (signature.outputs.empty()) {
    error = "the model has no outputs";
    return failure();
  }
  AbiBuilder b(module);
  llvm::Function *run = b.trampoline(entry, expected);
  error = b.defineRuntimeImports();
  if (!error.empty())
    return failure();
  auto *abiType = llvm::StructType::get(
      b.ctx, {b.i32, b.i32, b.i32, b.ptr, b.ptr, b.ptr, b.ptr, b.i32, b.ptr, b.ptr, b.i32, b.i32,
              b.ptr, b.i64, b.ptr, b.ptr});
  auto *abi = new llvm::GlobalVariable(
      module, abiType, true, llvm::GlobalValue::PrivateLinkage,
      llvm::ConstantStruct::get(
          abiType, {llvm::ConstantInt::get(b.i32, KILN_ABI_VERSION),
                    llvm::ConstantInt::get(b.i32, signature.inputs.size()),
                    llvm::ConstantInt::get(b.i32, signature.outputs.size()),
                    b.tensors(signature.inputs, ".kiln.inputs"),
                    b.tensors(signature.outputs, ".kiln.outputs"), b.string(producer), run,
                    llvm::ConstantInt::get(b.i32, regions.size()), b.regions(regions),
                    b.string(pipeline), llvm::ConstantInt::get(b.i32, gpu.arch),
                    llvm::ConstantInt::get(b.i32, int(gpu.precision)),
                    b.gpuImage(gpu), llvm::ConstantInt::get(b.i64, gpu.bytes.size()),
                    b.string(target.cpu), b.string(target.features)}),
      ".kiln.abi");
  auto *accessorType = llvm::FunctionType::get(b.ptr, {}, false);
  auto *accessor = llvm::Function::Create(accessorType, llvm::GlobalValue::ExternalLinkage,
                                          "kiln_model_abi", module);
  llvm::IRBuilder<> ib(llvm::BasicBlock::Create(b.ctx, "entry", accessor));
  ib.CreateRet(abi);
  return success();
}
