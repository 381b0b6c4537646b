//===- LoweringPipeline.cpp - kiln IR to the LLVM dialect -----------------===//
//
// The pipeline is kept as text so that `kiln compile --emit=mlir` users and
// `kiln inspect` can see exactly what ran, and kiln-opt/mlir-opt can replay
// any prefix of it.
//
//===----------------------------------------------------------------------===//

#include "kiln/Compiler/Compile.h"
#include "kiln/Dialect/Kiln/KilnBufferization.h"
#include "kiln/Dialect/Kiln/KilnOps.h"
#include "kiln/Passes/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FileSystem.h"
#include <array>
#include <cstdio>
#include <cstdlib>

using namespace mlir;
using namespace mlir::kiln;

/// The inputs' symbolic dim names (ONNX dim_param), on @main's arguments.
static constexpr llvm::StringLiteral kDimNamesAttr = KilnDialect::DimNamesAttrHelper::getNameStr();

/// ONNX data type code of an element type, or 0.
static int32_t onnxDataType(Type type) {
  if (type.isF32()) return 1;
  if (type.isF64()) return 11;
  if (type.isF16()) return 10;
  if (type.isBF16()) return 16;
  if (type.isInteger(1)) return 9;
  if (type.isSignlessInteger(8)) return 3;
  if (type.isUnsignedInteger(8)) return 2;
  if (type.isSignlessInteger(16)) return 5;
  if (type.isUnsignedInteger(16)) return 4;
  if (type.isSignlessInteger(32)) return 6;
  if (type.isSignlessInteger(64)) return 7;
  if (type.isUnsignedInteger(32)) return 12;
  if (type.isUnsignedInteger(64)) return 13;
  return 0;
}

static FailureOr<TensorSignature> tensorSignature(Location loc, Type type, StringAttr name,
                                                  ArrayAttr dimNames) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return emitError(loc, "model inputs and outputs must be ranked tensors"), failure();
  TensorSignature sig;
  sig.name = name ? name.str() : "";
  sig.dtype = onnxDataType(tensor.getElementType());
  if (!sig.dtype)
    return emitError(loc, "the runtime ABI cannot describe element type ")
               << tensor.getElementType() << " of '" << sig.name << "'",
           failure();
  for (int64_t i = 0; i < tensor.getRank(); ++i) {
    sig.dims.push_back(tensor.isDynamicDim(i) ? -1 : tensor.getDimSize(i));
    std::string dimName;
    if (dimNames && i < (int64_t)dimNames.size())
      dimName = cast<StringAttr>(dimNames[i]).str();
    sig.dimNames.push_back(dimName);
  }
  return sig;
}

FailureOr<ModelSignature> mlir::kiln::readSignature(ModuleOp module) {
  auto main = module.lookupSymbol<func::FuncOp>("main");
  if (!main)
    return emitError(module.getLoc(), "the module has no @main function"), failure();
  ModelSignature signature;
  for (unsigned i = 0; i < main.getNumArguments(); ++i) {
    auto sig = tensorSignature(main.getLoc(), main.getArgumentTypes()[i],
                               main.getArgAttrOfType<StringAttr>(i, "kiln.input_name"),
                               main.getArgAttrOfType<ArrayAttr>(i, kDimNamesAttr));
    if (failed(sig))
      return failure();
    if (sig->name.empty())
      sig->name = "input_" + std::to_string(i);
    signature.inputs.push_back(*sig);
  }
  for (unsigned i = 0; i < main.getNumResults(); ++i) {
    auto sig = tensorSignature(main.getLoc(), main.getResultTypes()[i],
                               main.getResultAttrOfType<StringAttr>(i, "kiln.output_name"),
                               nullptr);
    if (failed(sig))
      return failure();
    if (sig->name.empty())
      sig->name = "output_" + std::to_string(i);
    signature.outputs.push_back(*sig);
  }
  return signature;
}

std::string mlir::kiln::cudaToolkitPath(const CompileOptions &options) {
  if (!options.cudaToolkit.empty())
    return options.cudaToolkit;
  if (const char *home = std::getenv("CUDA_HOME"); home && *home)
    return home;
  return "/usr/local/cuda";
}

std::string mlir::kiln::parseTarget(llvm::StringRef text, CompileOptions &options) {
  if (text == "cpu") {
    options.target = Target::Cpu;
    return "";
  }
  auto [name, arch] = text.split(':');
  if (name != "cuda")
    return "--target must be cpu, cuda or cuda:sm_XY (e.g. cuda:sm_90), not '" + text.str() + "'";
  options.target = Target::Cuda;
  if (arch.empty())
    return "";
  int value = 0;
  if (!arch.consume_front("sm_") || arch.getAsInteger(10, value) || value < 50 || value > 199)
    return "--target cuda:" + text.split(':').second.str() +
           ": the GPU architecture must be sm_XY with XY from 50 to 199, e.g. sm_90";
  options.gpuArch = value;
  return "";
}

std::string mlir::kiln::parsePrecision(llvm::StringRef text, CompileOptions &options) {
  std::optional<GpuPrecision> precision = llvm::StringSwitch<std::optional<GpuPrecision>>(text)
                                              .Case("fp32", GpuPrecision::Fp32)
                                              .Case("tf32", GpuPrecision::Tf32)
                                              .Case("fp16", GpuPrecision::Fp16)
                                              .Case("bf16", GpuPrecision::Bf16)
                                              .Default(std::nullopt);
  if (!precision)
    return "--precision must be fp32, tf32, fp16 or bf16, not '" + text.str() + "'";
  options.gpuPrecision = *precision;
  return "";
}

/// A GPU flag of two values, `listed` first and `other`: `flag` becomes
/// whether `text` is `on` (one of the two); an error message, or empty.
static std::string parseTwoWay(llvm::StringRef flag, llvm::StringRef text, llvm::StringRef listed,
                               llvm::StringRef other, llvm::StringRef on, bool &value) {
  if (text != listed && text != other)
    return (flag + " must be " + listed + " or " + other + ", not '" + text + "'").str();
  value = text == on;
  return "";
}

std::string mlir::kiln::parseGpuGemm(llvm::StringRef text, CompileOptions &options) {
  return parseTwoWay("--gpu-gemm", text, "kernels", "cublas", "cublas", options.gpuGemmLibrary);
}

std::string mlir::kiln::parseGpuStorage(llvm::StringRef text, CompileOptions &options) {
  return parseTwoWay("--gpu-storage", text, "half", "fp32", "half", options.gpuHalfStorage);
}

std::string mlir::kiln::parseGpuAttention(llvm::StringRef text, CompileOptions &options) {
  return parseTwoWay("--gpu-attention", text, "fused", "gemms", "fused",
                     options.gpuFusedAttention);
}

std::string mlir::kiln::parseGpuGelu(llvm::StringRef text, CompileOptions &options) {
  return parseTwoWay("--gpu-gelu", text, "erf", "tanh", "tanh", options.gpuGeluTanh);
}

std::string mlir::kiln::checkGpuOptions(const CompileOptions &options,
                                        const GpuOptionsGiven &given) {
  bool cuda = options.target == Target::Cuda;
  if (options.gpuPrecision != GpuPrecision::Fp32 && !cuda)
    return "--precision applies to --target cuda only (the CPU back end computes in fp32)";
  if (options.gpuPrecision != GpuPrecision::Fp32 && !options.gpuGemmLibrary)
    return "--precision " +
           std::string(std::array<const char *, 4>{"fp32", "tf32", "fp16",
                                                   "bf16"}[int(options.gpuPrecision)]) +
           " needs --gpu-gemm=cublas: the generated GEMM kernels compute in fp32";
  if (options.gpuGemmLibrary && !cuda)
    return "--gpu-gemm applies to --target cuda only";
  if (given.contiguousBatches && !options.gpuGemmLibrary)
    return "--gpu-contiguous-batches applies to --gpu-gemm=cublas only (the GEMM kernels "
           "take any strides)";
  if (given.elementsPerThread && !cuda)
    return "--gpu-elements-per-thread applies to --target cuda only";
  if (given.elementsPerThread &&
      (options.gpuElementsPerThread < 1 || options.gpuElementsPerThread > 16))
    return "--gpu-elements-per-thread must be a count from 1 to 16, not " +
           std::to_string(options.gpuElementsPerThread);
  if (given.storage && options.gpuPrecision != GpuPrecision::Fp16 &&
      options.gpuPrecision != GpuPrecision::Bf16)
    return "--gpu-storage applies to --precision fp16 or bf16 only (tensors stay fp32 "
           "otherwise)";
  if (options.gpuEmulation && !cuda)
    return "--gpu-emulation applies to --target cuda only";
  if (options.gpuFusedAttention && options.gpuPrecision != GpuPrecision::Fp16 &&
      options.gpuPrecision != GpuPrecision::Bf16)
    return "--gpu-attention=fused needs --precision fp16 or bf16 (its products run on the "
           "tensor cores in that type)";
  if (options.gpuFusedAttention && options.gpuArch < 80)
    return "--gpu-attention=fused needs sm_80 or newer (its kernel runs mma.sync m16n8k16, "
           "ldmatrix and cp.async), not sm_" +
           std::to_string(options.gpuArch);
  if (options.gpuGeluTanh && options.gpuPrecision != GpuPrecision::Fp16 &&
      options.gpuPrecision != GpuPrecision::Bf16)
    return "--gpu-gelu=tanh needs --precision fp16 or bf16 (an approximation of GELU within "
           "4.7e-4, below what fp16 and bf16 hold; fp32 keeps GELU exact)";
  return "";
}

/// The GPU path: the same graph passes, fp32 contractions as runtime GEMM
/// calls (cuBLASLt in a GPU session) with --gpu-gemm=cublas, every other
/// loop nest a kernel (kiln-gpu-*), kernels to PTX through LLVM's NVPTX back end and, where
/// the toolkit has ptxas, to a fatbin with the cubin; the host code moves
/// data and launches through the runtime.
std::string mlir::kiln::parseQuantization(llvm::StringRef text, CompileOptions &options) {
  std::optional<Quantization> quantize = llvm::StringSwitch<std::optional<Quantization>>(text)
                                             .Case("none", Quantization::None)
                                             .Case("int8", Quantization::Int8)
                                             .Case("bf16", Quantization::Bf16)
                                             .Default(std::nullopt);
  options.staticActivations = text == "int8-static";
  if (options.staticActivations)
    quantize = Quantization::Int8;
  if (quantize) {
    options.quantize = *quantize;
    return "";
  }
  return "--quantize must be none, int8, int8-static or bf16, not '" + text.str() + "'";
}

std::string mlir::kiln::parseSparseWeights(llvm::StringRef text, CompileOptions &options) {
  std::optional<SparseWeights> mode = llvm::StringSwitch<std::optional<SparseWeights>>(text)
                                          .Case("auto", SparseWeights::Auto)
                                          .Case("always", SparseWeights::Always)
                                          .Case("off", SparseWeights::Off)
                                          .Default(std::nullopt);
  if (!mode)
    return "--sparse-weights must be auto, always or off, not '" + text.str() + "'";
  options.sparseWeights = *mode;
  return "";
}

/// Whether `name` can go into a pass's list option.
static bool isPassOptionName(const std::string &name) {
  return !name.empty() && name.find_first_of(",{}\"' ") == std::string::npos;
}

std::string mlir::kiln::checkQuantizationOptions(const CompileOptions &options) {
  if (options.quantize == Quantization::None)
    return options.quantizeExclude.empty() ? ""
                                           : "--quantize-exclude needs --quantize int8 or bf16";
  for (const std::string &name : options.quantizeExclude)
    if (!isPassOptionName(name))
      return "--quantize-exclude: '" + name +
             "' is not a node name or op type Kiln can exclude (empty, or with a comma, "
             "brace, quote or space)";
  const std::string flag = options.quantize == Quantization::Bf16 ? "--quantize bf16"
                           : options.staticActivations     ? "--quantize int8-static"
                                                           : "--quantize int8";
  const std::string gemms = options.quantize == Quantization::Int8 ? "int8" : "bf16";
  if (options.target == Target::Cuda)
    return flag + " is for the CPU back end; the GPU path computes in fp32 "
                  "(or with --gpu-gemm=cublas, in --precision tf32, fp16 or bf16)";
  if (options.optLevel == 0)
    return flag + " needs -O1 or higher (its " + gemms +
           " GEMMs are runtime calls, which -O0 does not make)";
  return "";
}

static std::string formatDouble(const char *format, double value) {
  char text[32];
  std::snprintf(text, sizeof(text), format, value);
  return text;
}

static const char *kPruneGrammar =
    "it must be S:unstructured or S:blockRxC (S the fraction of weights to zero, in (0, 1); RxC a "
    "block of R rows of K by C columns of N, e.g. 0.8:block1x4), optionally followed by "
    ":per-layer (the default) or :global, or N:M (keep N of every M along K, e.g. 2:4), or "
    "heads=F,ffn=F (the fractions of attention heads and FFN neurons to remove, in [0, 1), "
    "either or both, e.g. heads=0.5,ffn=0.5)";

/// Parses the structured spec `heads=F,ffn=F` (either or both) into prune;
/// an error, or "".
static std::string parseStructured(llvm::StringRef text, Pruning &prune) {
  llvm::SmallVector<llvm::StringRef> fields;
  text.split(fields, ',');
  prune.kind = Pruning::Kind::Structured;
  bool seenHeads = false, seenFfn = false;
  for (llvm::StringRef field : fields) {
    auto [key, value] = field.split('=');
    bool isHeads = key == "heads";
    if ((!isHeads && key != "ffn") || (isHeads ? seenHeads : seenFfn))
      return "has '" + field.str() + "', not one heads=F and one ffn=F";
    (isHeads ? seenHeads : seenFfn) = true;
    double fraction = 0;
    if (value.getAsDouble(fraction) || !(fraction >= 0 && fraction < 1))
      return "has " + key.str() + "='" + value.str() + "', not a fraction in [0, 1)";
    (isHeads ? prune.heads : prune.ffn) = fraction;
  }
  return "";
}

std::string mlir::kiln::parsePruning(llvm::StringRef text, CompileOptions &options) {
  auto bad = [&](llvm::StringRef why) {
    return "--prune '" + text.str() + "' " + why.str() + "; " + kPruneGrammar;
  };
  llvm::SmallVector<llvm::StringRef> fields;
  text.split(fields, ':');
  Pruning prune;
  if (text.contains('=')) {
    std::string problem = parseStructured(text, prune);
    if (!problem.empty())
      return bad(problem);
    options.prune = prune;
    return "";
  }
  unsigned n = 0, m = 0;
  if (fields.size() == 2 && !fields[0].getAsInteger(10, n) && !fields[1].getAsInteger(10, m)) {
    if (!(n >= 1 && n < m && m <= 64))
      return bad("is not N:M with 1 <= N < M <= 64");
    prune.kind = Pruning::Kind::NM;
    prune.n = n;
    prune.m = m;
    options.prune = prune;
    return "";
  }
  if (fields.size() < 2 || fields.size() > 3)
    return bad("has " + std::to_string(fields.size()) + " field(s)");
  double sparsity = 0;
  if (fields[0].getAsDouble(sparsity) || !(sparsity > 0 && sparsity < 1))
    return bad("does not start with a sparsity in (0, 1)");
  prune.kind = Pruning::Kind::Magnitude;
  prune.sparsity = sparsity;
  llvm::StringRef pattern = fields[1];
  if (pattern != "unstructured") {
    auto [rows, cols] = pattern.split('x');
    if (!rows.consume_front("block") || rows.getAsInteger(10, prune.blockK) ||
        cols.getAsInteger(10, prune.blockN) || prune.blockK < 1 || prune.blockN < 1 ||
        prune.blockK > 4096 || prune.blockN > 4096)
      return bad("has pattern '" + pattern.str() + "', not unstructured or blockRxC");
  }
  if (fields.size() == 3) {
    if (fields[2] != "global" && fields[2] != "per-layer")
      return bad("has scope '" + fields[2].str() + "', not global or per-layer");
    prune.global = fields[2] == "global";
  }
  options.prune = prune;
  return "";
}

std::string mlir::kiln::pruningSpec(const Pruning &prune) {
  switch (prune.kind) {
  case Pruning::Kind::None:
    return "none";
  case Pruning::Kind::NM:
    return std::to_string(prune.n) + ":" + std::to_string(prune.m);
  case Pruning::Kind::Structured:
    return "heads=" + formatDouble("%g", prune.heads) + ",ffn=" + formatDouble("%g", prune.ffn);
  case Pruning::Kind::Magnitude:
    break;
  }
  std::string pattern = prune.blockK == 1 && prune.blockN == 1
                            ? "unstructured"
                            : "block" + std::to_string(prune.blockK) + "x" +
                                  std::to_string(prune.blockN);
  return formatDouble("%g", prune.sparsity) + ":" + pattern + ":" +
         (prune.global ? "global" : "per-layer");
}

std::string mlir::kiln::checkPruningOptions(const CompileOptions &options) {
  // The sparse GEMMs are the CPU runtime's kernels; "auto" (where they
  // pay) just never picks them on the GPU.
  if (options.target == Target::Cuda && options.sparseWeights == SparseWeights::Always)
    return "--sparse-weights=always is for the CPU back end (its sparse GEMMs are CPU "
           "kernels): the GPU path's GEMMs are dense, pruned weights included; use auto or off";
  if (options.prune.kind == Pruning::Kind::None)
    return options.pruneExclude.empty() ? "" : "--prune-exclude needs --prune";
  for (const auto *names : {&options.pruneExclude, &options.pruneKeepDense})
    for (const std::string &name : *names)
      if (!isPassOptionName(name))
        return "--prune-exclude: '" + name +
               "' is not a node name or op type Kiln can exclude (empty, or with a comma, "
               "brace, quote or space)";
  return "";
}

/// kiln-prune-structured{...} and a comma when `options` ask for it, or "":
/// it runs on the kiln dialect, first, before sibling Linear layers are
/// joined (which would hide Q, K and V behind one GEMM).
static std::string structuredPruningPrefix(const CompileOptions &options) {
  const Pruning &prune = options.prune;
  if (prune.kind != Pruning::Kind::Structured)
    return "";
  return "kiln-prune-structured{heads=" + formatDouble("%.17g", prune.heads) +
         " ffn=" + formatDouble("%.17g", prune.ffn) +
         (options.pruneExclude.empty() ? "" : " exclude=" + llvm::join(options.pruneExclude, ",")) +
         (options.pruneReport ? " report=true" : "") + "},";
}

/// kiln-prune-magnitude or kiln-prune-n-m as `options` ask, or "".
/// What both pipelines start with: the run's kiln_runtime_context
/// (kiln_abi.h) becomes @main's last argument, where the runtime-call passes
/// take it from.
static constexpr const char *kEntryPasses = "kiln-add-runtime-context,";

static std::string pruningPass(const CompileOptions &options) {
  const Pruning &prune = options.prune;
  std::vector<std::string> passOptions;
  std::string pass;
  if (prune.kind == Pruning::Kind::None || prune.kind == Pruning::Kind::Structured)
    return "";
  if (prune.kind == Pruning::Kind::NM) {
    pass = "kiln-prune-n-m";
    passOptions = {"n=" + std::to_string(prune.n), "m=" + std::to_string(prune.m)};
  } else {
    pass = "kiln-prune-magnitude";
    // %.17g: the pass sees the very double the command line gave.
    passOptions = {"sparsity=" + formatDouble("%.17g", prune.sparsity),
                   "block-k=" + std::to_string(prune.blockK),
                   "block-n=" + std::to_string(prune.blockN),
                   std::string("scope=") + (prune.global ? "global" : "per-layer")};
  }
  auto list = [&](const char *option, const std::vector<std::string> &names) {
    if (!names.empty())
      passOptions.push_back(std::string(option) + "=" + llvm::join(names, ","));
  };
  list("exclude", options.pruneExclude);
  list("keep-dense", options.pruneKeepDense);
  if (options.pruneReport)
    passOptions.push_back("report=true");
  return pass + "{" + llvm::join(passOptions, " ") + "}";
}

/// The pruning pass and a comma, or "": the pipelines' text after the
/// tensor passes, before any quantization or layout decision.
static std::string pruningPrefix(const CompileOptions &options) {
  std::string pass = pruningPass(options);
  return pass.empty() ? "" : pass + ",";
}

/// "exclude=a,b" for --quantize-exclude's names (names that cannot go into
/// a pass option were refused by checkQuantizationOptions), or "".
static std::string excludeOption(const CompileOptions &options) {
  if (options.quantizeExclude.empty())
    return "";
  std::string exclude = "exclude=";
  for (size_t i = 0; i < options.quantizeExclude.size(); ++i)
    exclude += (i ? "," : "") + options.quantizeExclude[i];
  return exclude;
}

/// kiln-quantize-contractions (int8) or kiln-pack-gemm-weights-bf16 with
/// the options' exclusions.
static std::string quantizePass(const CompileOptions &options) {
  std::vector<std::string> passOptions;
  std::string pass = "kiln-quantize-contractions";
  if (options.quantize == Quantization::Bf16) {
    pass = "kiln-pack-gemm-weights-bf16";
    if (!targetHasBf16Dot(options))
      passOptions.push_back("hardware-bf16=false");
  }
  if (std::string exclude = excludeOption(options); !exclude.empty())
    passOptions.push_back(exclude);
  if (passOptions.empty())
    return pass;
  return pass + "{" + llvm::join(passOptions, " ") + "}";
}

/// With --quantize on a CPU with AVX512_BF16, the GEMMs of two run-time
/// operands (attention's) take bf16 inputs too: "kiln-bf16-activation-
/// products{...}," with the options' exclusions, or "".
static std::string activationProductsPass(const CompileOptions &options) {
  if (options.quantize == Quantization::None || !targetHasBf16Dot(options))
    return "";
  std::string exclude = excludeOption(options);
  return "kiln-bf16-activation-products" + (exclude.empty() ? "" : "{" + exclude + "}") + ",";
}

/// "kiln-fuse-sibling-matmuls," or "". With magnitude or N:M --prune, no
/// layers are fused: each weight is pruned as the ONNX layer it is (a
/// per-layer threshold, --prune-exclude by node name, and
/// tools/prune_onnx.py all see the model's own weights, not Q, K and V side
/// by side). Structured pruning has run before: its smaller Q, K and V
/// still fuse.
static std::string siblingFusionPass(const CompileOptions &options) {
  bool fuses = options.prune.kind == Pruning::Kind::None ||
               options.prune.kind == Pruning::Kind::Structured;
  return fuses ? "kiln-fuse-sibling-matmuls," : "";
}

static std::string gpuLoweringPipeline(const CompileOptions &options) {
  // From -O1, softmax (with attention's scale and mask) and layer norm over
  // the last axis become the row ops the CPU hands its runtime, and here
  // one kernel each (kiln-gpu-row-kernels) instead of a kernel per loop;
  // a product whose result is only transposed writes it transposed (the
  // heads' merge after attention); with cuBLASLt, Linear layers that share
  // their input are one GEMM (Q, K and V: one call instead of three) and
  // the epilogues cuBLASLt computes move into the GEMMs.
  bool cublas = options.gpuGemmLibrary;
  std::string siblings = cublas ? siblingFusionPass(options) : "";
  // --gpu-gelu=tanh: erf GELU in cuBLASLt's tanh form, in the GEMM.
  std::string epilogues =
      cublas ? std::string("kiln-prepare-gemm-epilogues{cublas-epilogues=true") +
                   (options.gpuGeluTanh ? " gelu-erf-as-tanh=true" : "") + "},"
             : "";
  // With fp16 or bf16 GEMMs, tensors between kernels are stored in that
  // type (kiln-gpu-half-storage), after every pass that matches fp32 ops.
  std::string halfStorage;
  if (cublas && options.gpuHalfStorage && options.gpuPrecision == GpuPrecision::Fp16)
    halfStorage = ",kiln-gpu-half-storage{type=f16}";
  if (cublas && options.gpuHalfStorage && options.gpuPrecision == GpuPrecision::Bf16)
    halfStorage = ",kiln-gpu-half-storage{type=bf16}";
  // With --gpu-attention=fused, attention's products and softmax are one
  // kiln.attention (what the tensor-core kernel runs), one kernel later.
  bool fusedAttention = cublas && options.gpuFusedAttention;
  std::string attention = fusedAttention ? "kiln-attention-to-ukernel{gpu=true}," : "";
  // Host code cannot hold a buffer a branch chose (its allocs are placed
  // in the device arena only at the top level): an operand whose `?` dims
  // may broadcast at run time is copied out in every run, a copy
  // kiln-fuse-elementwise fuses into its user. A softmax's mask is not
  // copied: the row and attention kernels broadcast its `?` dims.
  // A shape the graph computes with ops on shape tensors is read by the
  // host: computed there, from its operands' elements.
  std::string lowerToLinalg = "kiln-lower-to-linalg{unconditional-broadcast-copies=true},"
                              "kiln-gpu-scalarize-shape-reads";
  std::string tensorPasses = options.optLevel > 0
                                 ? "kiln-fuse-layer-norm," + siblings +
                                       "kiln-softmax-to-ukernel{mask-broadcast-in-kernel=true}," +
                                       attention + "kiln-layer-norm-to-ukernel," + lowerToLinalg +
                                       ",canonicalize,cse,"
                                       "kiln-fuse-elementwise,kiln-fold-output-transposes," +
                                       epilogues + "canonicalize,cse" + halfStorage
                                 : lowerToLinalg + ",canonicalize,cse" + halfStorage;
  // A thread per element of an elementwise nest keeps too few loads in
  // flight for the memory's bandwidth (16 bits each in half storage): from
  // -O1 a thread covers up to 8 elements of a large nest.
  int64_t elementsPerThread = options.gpuElementsPerThread > 0 ? options.gpuElementsPerThread
                              : options.optLevel > 0          ? 8
                                                              : 1;
  std::string toolkit = cudaToolkitPath(options);
  bool hasPtxas = llvm::sys::fs::can_execute(toolkit + "/bin/ptxas");
  std::string chip = "sm_" + std::to_string(options.gpuArch);
  std::string level = std::to_string(std::min(options.optLevel, 3));
  // With --gpu-emulation the kernels' module stays in the LLVM dialect, its
  // NVVM operations calls of the emulator, and the emitter compiles it for
  // the host (GpuEmulation.cpp) instead of gpu-module-to-binary for NVPTX.
  bool emulated = options.gpuEmulation;
  std::string attachTarget =
      emulated ? "" : "nvvm-attach-target{chip=" + chip + " O=" + level + "},";
  std::string emulationCalls = emulated ? ",kiln-gpu-emulation-calls" : "";
  std::string toBinary = emulated ? ""
                                  : "gpu-module-to-binary{format=" +
                                        std::string(hasPtxas ? "fatbin" : "isa") +
                                        " toolkit=" + toolkit + "},";
  return std::string("builtin.module(") + kEntryPasses + structuredPruningPrefix(options) +
         "func.func(" + tensorPasses + ")," +
         // Checks whose condition reads tensor data (Gather's index ranges)
         // are computed on the device: they wait for bufferization, and
         // after it become calls that have the runtime read their flag back
         // (the second kiln-lower-runtime-checks).
         "kiln-lower-runtime-checks{device-conditions=true},canonicalize," +
         pruningPrefix(options) +
         // Each op writing into a filled tensor fills its own: no copy
         // kernel of a shared zero-filled buffer before it.
         "func.func(kiln-clone-shared-fills),"
         "one-shot-bufferize{bufferize-function-boundaries "
         "function-boundary-type-conversion=identity-layout-map},"
         "buffer-deallocation-pipeline,convert-bufferization-to-memref,canonicalize,cse,"
         "kiln-gpu-device-buffers," +
         // Before the memory plan, which places the copies it makes.
         std::string(options.gpuGemmLibrary && options.gpuContiguousBatchCalls > 0
                         ? "func.func(kiln-gpu-contiguous-batches{min-calls=" +
                               std::to_string(options.gpuContiguousBatchCalls) + "}),"
                         : "") +
         // The GEMMs before the memory plan too: a GEMM that stores its
         // result in 16 bits itself (half storage) writes that buffer
         // where it runs, not where the copy it replaces did.
         std::string(options.gpuGemmLibrary
                         ? "kiln-contraction-to-runtime-gemm{unit-stride-operands=true "
                           "residual-over-zero-only=true},"
                         : "") +
         // The outputs' host buffers from the runtime, which frees them
         // when a check fails the run; the allocs left (a TopK's running
         // best, in its loop) become device memory in their kernels.
         "kiln-plan-memory,kiln-heap-allocations-to-runtime{returned-only=true}," +
         std::string(options.gpuGemmLibrary ? "kiln-fgemm-to-runtime," : "") +
         // After the GEMMs' rewrite, which reads buffer uses in the function's
         // block (a zero init), not inside launches.
         // From -O1 reductions run a warp per output element where the
         // reduced dims are contiguous, else a thread with the element in a
         // register (at -O0 a thread that loads and stores it each
         // iteration: the form first verified on a GPU).
         "func.func(" +
         std::string(fusedAttention ? std::string("kiln-gpu-attention-kernels{type=") +
                                          (options.gpuPrecision == GpuPrecision::Bf16 ? "bf16"
                                                                                      : "f16") +
                                          "},"
                                    : "") +
         "kiln-gpu-row-kernels" +
         std::string(options.optLevel > 0
                         ? ",kiln-gpu-warp-reductions,kiln-gpu-thread-reductions"
                         : "") +
         ")," +
         "kiln-lower-runtime-checks{device-conditions=true},"
         "func.func(convert-linalg-to-parallel-loops,canonicalize,"
         "kiln-gpu-map-parallel-loops{elements-per-thread=" +
         std::to_string(elementsPerThread) + "},canonicalize,cse),"
         // Integer powers become helper functions, which outlining copies
         // into the kernels' module with the kernels that call them.
         "convert-math-to-funcs,"
         // Kernels take memrefs as bare pointers: one of symbolic shape
         // enters its kernel as a base pointer and index parameters.
         "gpu-launch-sink-index-computations,func.func(kiln-gpu-unpack-dynamic-memrefs),"
         "gpu-kernel-outlining,kiln-gpu-launch-to-runtime," +
         attachTarget +
         // Shared memory 16-byte aligned for the attention kernels' vector
         // stores and ldmatrix; their nvgpu.ldmatrix becomes nvvm.ldmatrix.
         "gpu.module(kiln-gpu-align-workgroup-memory,expand-strided-metadata,lower-affine,"
         "convert-scf-to-cf,convert-nvgpu-to-nvvm,"
         // What convert-gpu-to-nvvm leaves of math (integer abs, ctlz: no
         // libdevice call) becomes LLVM intrinsics the NVPTX back end has.
         "convert-gpu-to-nvvm{use-bare-ptr-memref-call-conv=1},convert-math-to-llvm,"
         "canonicalize,cse,"
         "reconcile-unrealized-casts" + emulationCalls + ")," + toBinary +
         "expand-strided-metadata,finalize-memref-to-llvm,lower-affine,convert-scf-to-cf,"
         "convert-to-llvm,reconcile-unrealized-casts)";
}

/// The CPU pipeline's passes on tensors, before any layout decision. From
/// -O1, a layer norm written out in graph ops becomes one op, Linear
/// layers that share their input become one GEMM, softmax
/// over the last axis (with attention's scale and mask) one runtime call,
/// that softmax with attention's two products around it another, and layer
/// norm over the last axis a third; a loop whose result is only transposed
/// writes it transposed.
static std::string cpuTensorPasses(const CompileOptions &options) {
  std::string fuse = siblingFusionPass(options);
  return options.optLevel > 0 ? "kiln-fuse-layer-norm," + fuse +
                                       "kiln-softmax-to-ukernel,kiln-attention-to-ukernel,"
                                       "kiln-layer-norm-to-ukernel,"
                                       "kiln-lower-to-linalg,canonicalize,cse,"
                                       "kiln-fuse-elementwise,kiln-fold-output-transposes,"
                                       "kiln-prepare-gemm-epilogues,"
                                       "kiln-approximate-math,kiln-reassociate-reductions,"
                                       "canonicalize,cse"
                              : "kiln-lower-to-linalg,canonicalize,cse";
}

std::string mlir::kiln::loweringPipeline(const CompileOptions &options) {
  if (options.target == Target::Cuda)
    return gpuLoweringPipeline(options);
  // The ownership-based deallocation clones any result it does not own (an
  // input, a constant), so every output is a fresh buffer the caller frees.
  // fp32 contractions call the runtime's GEMM; other loops are left to the
  // LLVM optimizer's vectorizers, which polynomial math (from -O1) lets
  // widen.
  std::string tensorPasses = cpuTensorPasses(options);
  // With --quantize int8, contractions with constant weights become int8
  // GEMMs (their epilogues marked above move into them); with bf16, their
  // weights are packed as bf16 for the runtime's bf16 GEMM. The other
  // constant GEMM weights are laid out for the target's micro-kernel once,
  // here, instead of on every run.
  // Before them, weights mostly zeros (pruned) become sparse GEMMs where
  // the cost model says that pays (--sparse-weights).
  std::string layoutPasses =
      options.optLevel > 0 ? "kiln-pack-gemm-weights{target=" + gemmTarget(options) + "}," : "";
  if (options.optLevel > 0 && options.sparseWeights != SparseWeights::Off)
    layoutPasses = std::string("kiln-pack-sparse-gemm-weights{mode=") +
                   (options.sparseWeights == SparseWeights::Always ? "always" : "auto") + "}," +
                   layoutPasses;
  // Quantized weights that are mostly zeros (pruned, then quantized: the
  // zeros stay exact) become sparse int8 GEMMs where that pays.
  if (options.quantize != Quantization::None) {
    std::string sparseInt8;
    if (options.quantize == Quantization::Int8 && options.optLevel > 0 &&
        options.sparseWeights != SparseWeights::Off)
      sparseInt8 = std::string("kiln-pack-sparse-qgemm-weights{mode=") +
                   (options.sparseWeights == SparseWeights::Always ? "always" : "auto") + "},";
    layoutPasses = quantizePass(options) + "," + sparseInt8 + layoutPasses;
  }
  // Pruning zeroes weights before anything quantizes or lays them out.
  layoutPasses = pruningPrefix(options) + layoutPasses;
  // From -O1, loops without reductions across iterations run on the
  // session's threads: their nests are outlined on memrefs and handed to
  // kiln_rt_parallel_for once they are LLVM calls.
  bool parallelLoops = options.optLevel > 0;
  std::string loopPasses = parallelLoops
                               ? "convert-linalg-to-parallel-loops),kiln-outline-parallel-loops"
                               : "convert-linalg-to-loops)";
  std::string runtimeCallPasses = parallelLoops ? ",kiln-parallel-calls-to-runtime" : "";
  // From -O1, the int8 MatMuls of pre-quantized models (onnxruntime's
  // QOperator and QDQ spellings) run on the int8 GEMM instead of loops.
  std::string graphPasses = options.optLevel > 0 ? "kiln-fold-integer-matmuls," : "";
  return std::string("builtin.module(") + kEntryPasses + graphPasses +
         structuredPruningPrefix(options) +
         "func.func(" + tensorPasses + ")," + layoutPasses +
         "one-shot-bufferize{bufferize-function-boundaries "
         "function-boundary-type-conversion=identity-layout-map},"
         "buffer-deallocation-pipeline,convert-bufferization-to-memref,"
         "canonicalize,cse,kiln-plan-memory,func.func(kiln-check-allocation-sizes),"
         // What stays on the heap comes from the runtime, which frees it
         // when a check fails the run.
         "kiln-heap-allocations-to-runtime,"
         "kiln-contraction-to-runtime-gemm," + activationProductsPass(options) +
         "kiln-fgemm-to-runtime,kiln-qgemm-to-runtime,"
         "kiln-sparse-gemm-to-runtime,kiln-sparse-qgemm-to-runtime,kiln-softmax-to-runtime,"
         "kiln-attention-to-runtime,kiln-layer-norm-to-runtime,"
         "kiln-lower-runtime-checks,kiln-profile-regions,"
         "func.func(kiln-strided-copy-to-linalg," + loopPasses + ","
         "expand-strided-metadata,finalize-memref-to-llvm,lower-affine,convert-scf-to-cf,"
         "convert-math-to-funcs,convert-math-to-llvm,convert-math-to-libm,"
         "convert-to-llvm,reconcile-unrealized-casts" + runtimeCallPasses + ")";
}

static void registerEverythingOnce(MLIRContext &context) {
  static bool registered = [] {
    registerAllPasses();
    registerKilnPasses();
    return true;
  }();
  (void)registered;
  DialectRegistry registry;
  registerAllDialects(registry);
  registerAllExtensions(registry);
  // gpu-module-to-binary translates the kernels to LLVM IR.
  registerAllToLLVMIRTranslations(registry);
  registerBufferizableOpInterfaceExternalModels(registry);
  context.appendDialectRegistry(registry);
  context.loadAllAvailableDialects();
}

LogicalResult mlir::kiln::lowerToLLVMDialect(ModuleOp module, const CompileOptions &options) {
  MLIRContext &context = *module.getContext();
  registerEverythingOnce(context);
  if (options.target == Target::Cuda && !options.gpuEmulation) {
    std::string libdevice = cudaToolkitPath(options) + "/nvvm/libdevice/libdevice.10.bc";
    if (!llvm::sys::fs::exists(libdevice))
      return emitError(module.getLoc(), "--target cuda needs the CUDA toolkit's libdevice, but ")
             << libdevice << " does not exist: install the CUDA toolkit, or name its folder "
             << "with --cuda-toolkit or $CUDA_HOME";
  }
  // The C interface lets the ABI wrapper pass memref descriptors by pointer.
  // The kiln.* names were read by readSignature; LLVM has no use for them.
  // The inputs' dim names stay until the pipeline has run: a symbolic dim
  // named alike in two inputs is one size (the runtime checks that), which
  // the lowering's shape proofs use (lowering::traceDim) to leave out
  // run-time broadcasting between them.
  if (auto main = module.lookupSymbol<func::FuncOp>("main")) {
    main->setAttr("llvm.emit_c_interface", UnitAttr::get(&context));
    for (unsigned i = 0; i < main.getNumArguments(); ++i) {
      ArrayAttr dimNames = main.getArgAttrOfType<ArrayAttr>(i, kDimNamesAttr);
      main.setArgAttrs(i, ArrayRef<NamedAttribute>{});
      if (dimNames)
        main.setArgAttr(i, kDimNamesAttr, dimNames);
    }
    main.removeResAttrsAttr();
  }
  FailureOr<OpPassManager> pipeline = parsePassPipeline(loweringPipeline(options));
  if (failed(pipeline))
    return emitError(module.getLoc(), "internal error: bad lowering pipeline");
  PassManager pm(&context);
  static_cast<OpPassManager &>(pm) = std::move(*pipeline);
  if (failed(pm.run(module)))
    return failure();
  // The markers have served the lowering; LLVM IR has no use for them.
  module.walk([](FunctionOpInterface function) {
    for (unsigned i = 0; i < function.getNumArguments(); ++i) {
      function.removeArgAttr(i, "kiln.runtime_context");
      function.removeArgAttr(i, kDimNamesAttr);
    }
  });
  return success();
}

/// The ONNX node in `loc`, as (name, op type): the NameLoc whose child is
/// the op type's NameLoc, as the importer writes it (the rule of
/// lowering::onnxNodeOf, which kiln-quantize-contractions matches
/// exclusions with).
static std::optional<std::pair<std::string, std::string>> onnxNodeOf(Location loc) {
  std::optional<std::pair<std::string, std::string>> found;
  loc->walk([&](Location inner) {
    auto name = dyn_cast<NameLoc>(inner);
    auto opType = name ? dyn_cast<NameLoc>(name.getChildLoc()) : nullptr;
    if (!opType)
      return WalkResult::advance();
    found = {name.getName().str(), opType.getName().str()};
    return WalkResult::interrupt();
  });
  return found;
}

/// The CPU pipeline's tensor passes, then `modulePass`, on `module`.
static LogicalResult runTensorPassesThen(ModuleOp module, const CompileOptions &options,
                                         const std::string &modulePass) {
  registerEverythingOnce(*module.getContext());
  FailureOr<OpPassManager> pipeline =
      parsePassPipeline("builtin.module(" + structuredPruningPrefix(options) + "func.func(" +
                        cpuTensorPasses(options) + ")," + modulePass + ")");
  if (failed(pipeline))
    return emitError(module.getLoc(), "internal error: bad pipeline prefix");
  PassManager pm(module.getContext());
  static_cast<OpPassManager &>(pm) = std::move(*pipeline);
  return pm.run(module);
}

FailureOr<std::vector<QuantizedLayer>>
mlir::kiln::quantizedLayers(ModuleOp module, const CompileOptions &options) {
  if (options.target != Target::Cpu || options.quantize != Quantization::Int8)
    return std::vector<QuantizedLayer>();
  // Only the passes up to the quantization: what they leave is enough to see
  // which contractions became kiln.qgemm, at a tenth of a full compile.
  if (failed(runTensorPassesThen(module, options, quantizePass(options))))
    return failure();
  std::vector<QuantizedLayer> layers;
  llvm::StringSet<> seen;
  module.walk([&](QGemmOp op) {
    auto node = onnxNodeOf(op.getLoc());
    if (node && seen.insert(node->first).second)
      layers.push_back({node->first, node->second, int64_t(op.getK()), int64_t(op.getN())});
  });
  return layers;
}

FailureOr<std::vector<PrunedLayer>> mlir::kiln::prunedLayers(ModuleOp module,
                                                             const CompileOptions &options) {
  // Structured pruning removes units rather than zeroing weights: it has no
  // per-layer sparsity to list.
  if (options.prune.kind == Pruning::Kind::None ||
      options.prune.kind == Pruning::Kind::Structured)
    return std::vector<PrunedLayer>();
  // Only the passes up to the pruning: the weights are chosen on the tensor
  // passes' output, and counted once pruned.
  CompileOptions quiet = options;
  quiet.pruneReport = false;
  if (failed(runTensorPassesThen(module, options, pruningPass(quiet))))
    return failure();
  std::vector<PrunedLayer> layers;
  llvm::StringSet<> seen;
  for (const PrunableContraction &c : prunableContractions(module, options.pruneExclude))
    if (seen.insert(c.node).second)
      layers.push_back({c.node, c.opType, c.k, c.n, c.zeros});
  return layers;
}
