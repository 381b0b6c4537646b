//===- NativeEmitter.cpp - LLVM dialect to LLVM IR, object, library -------===//
//
// In-process: translation to LLVM IR, the LLVM optimizer and the target's
// code generator (no llc). Only the final link of one object into a shared
// library uses the system linker driver (`cc -shared`), since Debian ships no
// lld library to link in-process.
//
//===----------------------------------------------------------------------===//

#include "ModelAbi.h"
#include "kiln/Compiler/Compile.h"
#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"
#include <array>

using namespace mlir;
using namespace mlir::kiln;

namespace {

/// Host CPU features as an LLVM feature string ("+avx2,+fma,...").
std::string hostFeatures() {
  llvm::SubtargetFeatures features;
  for (const auto &[name, enabled] : llvm::sys::getHostCPUFeatures())
    features.AddFeature(name, enabled);
  return features.getString();
}

/// The LLVM target for this machine's triple (kiln compiles for the
/// machine it runs on, or for another x86-64 CPU via --mcpu), or null with
/// `error` set.
const llvm::Target *nativeTarget(const llvm::Triple &triple, std::string &error) {
  static bool initialized = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    return true;
  }();
  (void)initialized;
  return llvm::TargetRegistry::lookupTarget(triple, error);
}

/// The CPU name and feature string the TargetMachine gets: --mcpu (or the
/// host's CPU for `native` and by default; generic x86-64 for a GPU model's
/// host code) and the host's detected features for the host's CPU, then
/// --mattr, which may add or remove some.
std::pair<std::string, std::string> cpuAndFeatures(const CompileOptions &options) {
  // A GPU model's host code only moves data and launches kernels, and
  // runs on whatever CPU the GPU machine has: generic x86-64 unless asked.
  bool native = options.cpu == "native" || (options.cpu.empty() && options.target == Target::Cpu);
  if (!native)
    return {options.cpu.empty() ? "x86-64" : options.cpu, options.features};
  std::string features = hostFeatures();
  if (!options.features.empty())
    features += "," + options.features; // later flags win
  return {llvm::sys::getHostCPUName().str(), features};
}

/// `names`, comma-separated and wrapped to lines of at most 80 columns,
/// each indented by two spaces.
std::string wrappedList(llvm::ArrayRef<llvm::StringRef> names) {
  std::string text, line = "  ";
  for (auto [i, name] : llvm::enumerate(names)) {
    std::string item = name.str() + (i + 1 < names.size() ? "," : "");
    if (line.size() > 2 && line.size() + 1 + item.size() > 80) {
      text += line + "\n";
      line = "  ";
    }
    line += (line.size() > 2 ? " " : "") + item;
  }
  return text + line;
}

/// The entry of `keys` closest to `wrong` if it is a plausible typo, else
/// empty.
std::string nearest(llvm::StringRef wrong, llvm::ArrayRef<llvm::StringRef> keys) {
  llvm::StringRef best;
  unsigned bestDistance = 3; // more edits than this is not a typo
  for (llvm::StringRef key : keys) {
    unsigned distance = wrong.edit_distance(key, /*AllowReplacements=*/true, bestDistance);
    if (distance < bestDistance) {
      best = key;
      bestDistance = distance;
    }
  }
  return best.str();
}

llvm::CodeGenOptLevel codegenLevel(int level) {
  switch (level) {
  case 0: return llvm::CodeGenOptLevel::None;
  case 1: return llvm::CodeGenOptLevel::Less;
  case 3: return llvm::CodeGenOptLevel::Aggressive;
  default: return llvm::CodeGenOptLevel::Default;
  }
}

FailureOr<std::unique_ptr<llvm::TargetMachine>>
createTargetMachine(const CompileOptions &options, Location loc) {
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  std::string error;
  const llvm::Target *target = nativeTarget(triple, error);
  if (!target)
    return emitError(loc, "no LLVM target for ") << triple.str() << ": " << error, failure();
  auto [cpu, features] = cpuAndFeatures(options);
  llvm::TargetOptions targetOptions;
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, cpu, features, targetOptions, llvm::Reloc::PIC_, std::nullopt,
      codegenLevel(options.optLevel)));
  if (!machine)
    return emitError(loc, "cannot create a target machine for CPU '") << cpu << "'", failure();
  return machine;
}

void optimize(llvm::Module &module, llvm::TargetMachine &machine, int level) {
  if (level == 0)
    return;
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder pb(&machine);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::OptimizationLevel opt = level == 1   ? llvm::OptimizationLevel::O1
                                : level == 3 ? llvm::OptimizationLevel::O3
                                             : llvm::OptimizationLevel::O2;
  pb.buildPerModuleDefaultPipeline(opt).run(module, mam);
}

/// Writes `bytes` to `path` through a ToolOutputFile so a failure leaves no file.
LogicalResult writeFile(Location loc, llvm::StringRef path, llvm::StringRef bytes) {
  std::error_code ec;
  llvm::ToolOutputFile file(path, ec, llvm::sys::fs::OF_None);
  if (ec)
    return emitError(loc, "cannot write '") << path << "': " << ec.message();
  file.os() << bytes;
  file.os().flush();
  if (file.os().has_error()) {
    file.os().clear_error();
    return emitError(loc, "writing '") << path << "' failed";
  }
  file.keep();
  return success();
}

/// Links the object file `objectPath` into a shared library at `path` (via
/// a temporary name, renamed into place only on success).
LogicalResult linkSharedLibrary(Location loc, llvm::StringRef objectPath, llvm::StringRef path) {
  llvm::SmallString<128> libraryPath;
  libraryPath = path;
  libraryPath += ".tmp";
  llvm::FileRemover removeLibrary(libraryPath);
  auto cc = llvm::sys::findProgramByName("cc");
  if (!cc)
    return emitError(loc, "no C compiler driver (`cc`) on PATH to link the shared library");
  std::string errorText;
  llvm::SmallVector<llvm::StringRef> args{*cc, "-shared", "-o", libraryPath, objectPath, "-lm"};
  llvm::SmallString<128> logPath;
  llvm::sys::fs::createTemporaryFile("kiln-link", "log", logPath);
  llvm::FileRemover removeLog(logPath);
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, logPath.str(), logPath.str()};
  int rc = llvm::sys::ExecuteAndWait(*cc, args, std::nullopt, redirects, 0, 0, &errorText);
  if (rc != 0) {
    auto log = llvm::MemoryBuffer::getFile(logPath);
    return emitError(loc, "linking the shared library failed: ")
           << (errorText.empty() && log ? (*log)->getBuffer().str() : errorText);
  }
  if (std::error_code ec = llvm::sys::fs::rename(libraryPath, path))
    return emitError(loc, "cannot move the library to '") << path << "': " << ec.message();
  return success();
}

/// Frees the weights held by the MLIR context (dense resource blobs) once
/// the LLVM module has its own copy: the MLIR module is not read again, and
/// this keeps one copy of the weights in memory instead of two.
void releaseWeightBlobs(MLIRContext *context) {
  DialectResourceBlobManager &blobs =
      DenseResourceElementsHandle::getManagerInterface(context).getBlobManager();
  std::vector<std::string> names;
  blobs.getBlobMap([&](const llvm::StringMap<DialectResourceBlobManager::BlobEntry> &map) {
    for (const auto &entry : map)
      names.push_back(entry.getKey().str());
  });
  for (const std::string &name : names)
    blobs.update(name, AsmResourceBlob());
}

/// Starts every weight of a page or more on a page of its own, so that the
/// runtime's dlopen() maps it straight from the file (shared, never copied)
/// and a kernel reading it never shares a page with unrelated data.
void pageAlignWeights(llvm::Module &module) {
  constexpr uint64_t kPage = 4096;
  const llvm::DataLayout &layout = module.getDataLayout();
  for (llvm::GlobalVariable &global : module.globals()) {
    if (!global.isConstant() || !global.hasInitializer())
      continue;
    if (layout.getTypeAllocSize(global.getValueType()) >= kPage)
      global.setAlignment(llvm::Align(kPage));
  }
}

/// Takes the kernels' binary (gpu-module-to-binary's gpu.binary) out of
/// the module.
FailureOr<GpuImage> takeGpuImage(ModuleOp module, const CompileOptions &options) {
  GpuImage image;
  SmallVector<gpu::BinaryOp> binaries(module.getOps<gpu::BinaryOp>());
  if (binaries.empty())
    return image;
  if (binaries.size() > 1 || binaries[0].getObjects().size() != 1)
    return emitError(module.getLoc(), "internal error: the GPU kernels are not in one binary");
  auto object = cast<gpu::ObjectAttr>(binaries[0].getObjects()[0]);
  image.arch = options.gpuArch;
  image.precision = options.gpuPrecision;
  image.bytes = object.getObject().str();
  // PTX text goes to cuModuleLoadData NUL-terminated.
  if (object.getFormat() == gpu::CompilationTarget::Assembly)
    image.bytes.push_back('\0');
  binaries[0].erase();
  return image;
}

} // namespace

std::string mlir::kiln::checkTargetOptions(const CompileOptions &options) {
  if (options.cpu.empty() && options.features.empty())
    return "";
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  std::string error;
  const llvm::Target *target = nativeTarget(triple, error);
  if (!target)
    return "no LLVM target for " + triple.str() + ": " + error;
  std::string arch = triple.getArchName().str();
  // LLVM only warns about an unknown CPU or feature, then ignores the
  // feature and, for the CPU, dies of a fatal error in code generation; so
  // check both against the target's own tables first.
  std::unique_ptr<llvm::MCSubtargetInfo> subtarget(
      target->createMCSubtargetInfo(triple, "", ""));
  // kiln compiles 64-bit code: on x86-64 a 32-bit CPU (i686, pentium4, k6,
  // ...) is a fatal error in LLVM too.
  bool needs64Bit = triple.isX86() && triple.isArch64Bit();
  auto runs64Bit = [&](llvm::StringRef cpu, llvm::StringRef features) {
    std::unique_ptr<llvm::MCSubtargetInfo> candidate(
        target->createMCSubtargetInfo(triple, cpu, features));
    return !needs64Bit || candidate->checkFeatures("+64bit");
  };
  if (!options.cpu.empty() && options.cpu != "native") {
    bool known = subtarget->isCPUStringValid(options.cpu);
    if (!known || !runs64Bit(options.cpu, "")) {
      SmallVector<llvm::StringRef> cpus;
      for (const llvm::SubtargetSubTypeKV &cpu : subtarget->getAllProcessorDescriptions())
        if (runs64Bit(cpu.Key, ""))
          cpus.push_back(cpu.Key);
      std::string hint = known ? "" : nearest(options.cpu, cpus);
      return "--mcpu=" + options.cpu +
             (known ? " is a 32-bit CPU, and kiln compiles 64-bit code"
                    : " is not a CPU LLVM knows for " + arch) +
             (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
             "; use native (this machine's CPU), " +
             (triple.isX86() ? "a level (x86-64, x86-64-v2, x86-64-v3, x86-64-v4) " : "") +
             "or one of:\n" + wrappedList(cpus);
    }
  }
  // The mode features (16bit-mode, ...) say what code to generate, not
  // what the CPU has: kiln's mode is fixed.
  SmallVector<llvm::StringRef> features, modes;
  for (const llvm::SubtargetFeatureKV &feature : subtarget->getAllProcessorFeatures())
    (llvm::StringRef(feature.Key).ends_with("-mode") ? modes : features).push_back(feature.Key);
  SmallVector<llvm::StringRef> flags;
  llvm::StringRef(options.features).split(flags, ',', /*MaxSplit=*/-1, /*KeepEmpty=*/false);
  for (llvm::StringRef flag : flags) {
    flag = flag.trim();
    llvm::StringRef name = flag.drop_front();
    // Without a sign LLVM would take the feature as turned off.
    if (!flag.starts_with("+") && !flag.starts_with("-"))
      return "--mattr: '" + flag.str() + "' needs a sign: +" + flag.str() +
             " enables the feature, -" + flag.str() + " disables it";
    if (llvm::is_contained(modes, name))
      return "--mattr: '" + name.str() + "' selects the mode of the code, and kiln compiles "
             "64-bit code";
    if (!llvm::is_contained(features, name)) {
      std::string hint = nearest(name, features);
      return "--mattr: '" + name.str() + "' is not a feature LLVM knows for " + arch +
             (hint.empty() ? "" : " (did you mean '" + flag.substr(0, 1).str() + hint + "'?)") +
             "; --mattr takes +name or -name, comma-separated, with names from:\n" +
             wrappedList(features);
    }
  }
  auto [cpu, featureString] = cpuAndFeatures(options);
  if (!runs64Bit(cpu, featureString))
    return "--mattr=" + options.features + " turns off 64-bit code, which kiln compiles";
  return "";
}

std::string mlir::kiln::gemmTarget(const CompileOptions &options) {
  MLIRContext context;
  FailureOr<std::unique_ptr<llvm::TargetMachine>> machine =
      createTargetMachine(options, UnknownLoc::get(&context));
  if (failed(machine))
    return "portable"; // emitNative reports the bad CPU
  const llvm::MCSubtargetInfo *cpu = (*machine)->getMCSubtargetInfo();
  if (cpu->checkFeatures("+avx512f"))
    return "avx512";
  if (cpu->checkFeatures("+avx2,+fma"))
    return "avx2";
  return "portable";
}

LogicalResult mlir::kiln::emitNative(ModuleOp module, const ModelSignature &signature,
                                     const CompileOptions &options, llvm::StringRef outputPath) {
  Location loc = module.getLoc();
  DialectRegistry registry;
  registerAllToLLVMIRTranslations(registry);
  module.getContext()->appendDialectRegistry(registry);

  // The profile regions go into the ABI table; LLVM IR has no use for the
  // attribute.
  std::vector<ProfileRegion> regions;
  if (auto list = module->getAttrOfType<ArrayAttr>(kProfileRegionsAttr)) {
    for (Attribute entry : list) {
      auto pair = cast<ArrayAttr>(entry);
      regions.push_back({cast<StringAttr>(pair[0]).str(), cast<StringAttr>(pair[1]).str()});
    }
    module->removeAttr(kProfileRegionsAttr);
  }

  FailureOr<GpuImage> gpuImage = takeGpuImage(module, options);
  if (failed(gpuImage))
    return failure();

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule = translateModuleToLLVMIR(module, llvmContext);
  if (!llvmModule)
    return emitError(loc, "translation to LLVM IR failed");
  releaseWeightBlobs(module.getContext());

  auto machine = createTargetMachine(options, loc);
  if (failed(machine))
    return failure();
  llvmModule->setDataLayout((*machine)->createDataLayout());
  llvmModule->setTargetTriple((*machine)->getTargetTriple());

  std::string producer = "kiln -O" + std::to_string(options.optLevel) + " " +
                         (*machine)->getTargetTriple().str() + " (" +
                         (*machine)->getTargetCPU().str() + ")";
  std::string error;
  if (options.target == Target::Cuda)
    producer += " cuda:sm_" + std::to_string(options.gpuArch) + " gemm " +
                std::array<const char *, 4>{"fp32", "tf32", "fp16", "bf16"}[int(
                    options.gpuPrecision)];
  if (failed(addModelAbi(*llvmModule, signature, regions, producer, loweringPipeline(options),
                         *gpuImage, error)))
    return emitError(loc, error);
  optimize(*llvmModule, **machine, options.optLevel);
  // After the optimizer, which may replace globals (GlobalOpt) and drop
  // their alignment.
  pageAlignWeights(*llvmModule);

  if (options.emit == EmitKind::Llvm) {
    std::string text;
    llvm::raw_string_ostream os(text);
    llvmModule->print(os, nullptr);
    return writeFile(loc, outputPath, text);
  }

  // The object goes straight to a file: with the weights inside it is as
  // large as the model, and a copy in memory would add that much to the
  // compiler's peak.
  llvm::SmallString<128> objectPath;
  int fd;
  if (llvm::sys::fs::createTemporaryFile("kiln", "o", fd, objectPath))
    return emitError(loc, "cannot create a temporary object file");
  llvm::FileRemover removeObject(objectPath);
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    llvm::legacy::PassManager codegen;
    if ((*machine)->addPassesToEmitFile(codegen, os, nullptr, llvm::CodeGenFileType::ObjectFile))
      return emitError(loc, "the target cannot emit object files");
    codegen.run(*llvmModule);
    os.close();
    if (os.has_error()) {
      os.clear_error();
      return emitError(loc, "writing the object file '") << objectPath << "' failed";
    }
  }
  llvmModule.reset(); // its weights are in the object now
  if (options.emit == EmitKind::Library)
    return linkSharedLibrary(loc, objectPath, outputPath);
  if (std::error_code ec = llvm::sys::fs::copy_file(objectPath, outputPath)) {
    llvm::sys::fs::remove(outputPath);
    return emitError(loc, "cannot write '") << outputPath << "': " << ec.message();
  }
  return success();
}
