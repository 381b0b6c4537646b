//===- Compile.h - kiln IR to native code -----------------------*- C++ -*-===//
//
// The CPU back end: lower a cleaned-up kiln module to the LLVM dialect, then
// to LLVM IR with the model ABI (runtime/include/kiln/kiln_abi.h) added, then
// to an object file for the chosen CPU, then to a shared library.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_COMPILER_COMPILE_H
#define KILN_COMPILER_COMPILE_H

#include "mlir/IR/BuiltinOps.h"
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mlir::kiln {

enum class EmitKind { Mlir, Llvm, Object, Library };

/// Where the model runs: the host CPU, or an NVIDIA GPU through CUDA (the
/// host code then only moves data and launches kernels).
enum class Target { Cpu, Cuda };

/// The arithmetic of a GPU model's GEMMs (enum kiln_gpu_precision): fp32
/// tensors, inputs rounded for the tensor cores, fp32 accumulation.
enum class GpuPrecision { Fp32 = 0, Tf32 = 1, Fp16 = 2, Bf16 = 3 };

/// What `--quantize` asks for.
enum class Quantization { None, Int8, Bf16 };
/// --sparse-weights: which constant GEMM weights kiln-pack-sparse-gemm-weights
/// stores sparse (from -O1, CPU): those its cost model says pay (Auto), all
/// it can (Always), none (Off).
enum class SparseWeights { Auto, Always, Off };

/// What `--prune` asks for: magnitude pruning of blocks (kiln-prune-magnitude;
/// 1x1 blocks: unstructured), N:M (kiln-prune-n-m), or whole attention heads
/// and FFN neurons removed (kiln-prune-structured).
struct Pruning {
  enum class Kind { None, Magnitude, NM, Structured } kind = Kind::None;
  double sparsity = 0;              ///< Magnitude: the fraction of blocks zeroed
  unsigned blockK = 1, blockN = 1;  ///< Magnitude: block rows of K, columns of N
  bool global = false;              ///< Magnitude: one threshold over all weights
  unsigned n = 0, m = 0;            ///< NM: n kept of every m along K
  double heads = 0, ffn = 0;        ///< Structured: the fractions removed
};

/// One layer's static activation quantization (--quantize int8-static):
/// A ~ scale * (Aq - zeroPoint), Aq uint8, for the whole tensor.
struct ActivationQuantization {
  float scale = 1.0f;
  uint8_t zeroPoint = 0;
};

struct CompileOptions {
  int optLevel = 2;          ///< -O0 .. -O3, for the LLVM optimizer and codegen
  /// --mcpu: an LLVM CPU name; "native" or empty = the host CPU and the
  /// features it has (empty with --target cuda: generic x86-64).
  std::string cpu;
  /// --mattr, e.g. "+avx2,+fma" or "-avx512f": added to (or taken from)
  /// the CPU's features.
  std::string features;
  EmitKind emit = EmitKind::Library;
  Target target = Target::Cpu;
  int gpuArch = 90;          ///< --target cuda:sm_XY: compute capability XY
  GpuPrecision gpuPrecision = GpuPrecision::Fp32; ///< --precision
  /// --gpu-gemm=cublas: fp32 contractions as runtime GEMM calls (cuBLASLt)
  /// instead of generated kernels.
  bool gpuGemmLibrary = false;
  /// --gpu-contiguous-batches=N (with gpuGemmLibrary): a batched GEMM
  /// whose two batch dims do not fold into one stride gets contiguous copies
  /// of its operands where the runtime would otherwise make at least N
  /// cuBLASLt calls (0: never; kiln-gpu-contiguous-batches).
  int64_t gpuContiguousBatchCalls = 4;
  /// --gpu-elements-per-thread=N: the most iterations of an elementwise
  /// loop nest one thread covers, its loads before its stores
  /// (kiln-gpu-map-parallel-loops); 0: 8 from -O1, 1 at -O0.
  int64_t gpuElementsPerThread = 0;
  /// --gpu-storage=half|fp32 (with --precision fp16 or bf16): tensors
  /// between kernels stored in the GEMMs' 16-bit type (half, the default;
  /// kiln-gpu-half-storage) or in fp32.
  bool gpuHalfStorage = true;
  /// --gpu-attention=fused|gemms (with --precision fp16 or bf16): attention
  /// as one tensor-core kernel per layer whose scores stay in registers
  /// (kiln-gpu-attention-kernels), or its two products as cuBLASLt GEMMs
  /// around a softmax kernel (gemms, the default until measured on a GPU).
  bool gpuFusedAttention = false;
  /// --gpu-gelu=erf|tanh (with --precision fp16 or bf16): GELU as the model
  /// has it (erf, the default: a kernel after the GEMM) or, an
  /// approximation the user asks for, in the tanh form cuBLASLt's GEMM
  /// epilogue computes (at most 4.7e-4 off; no kernel of its own).
  bool gpuGeluTanh = false;
  /// --gpu-emulation: the kernels compiled for the host CPU, for Kiln's
  /// test CUDA driver to run (kiln/kiln_gpu_emulation.h): the GPU path's
  /// numerics tested without a GPU. Needs no CUDA toolkit.
  bool gpuEmulation = false;
  /// The CUDA toolkit whose ptxas and libdevice the GPU path uses; empty =
  /// $CUDA_HOME, else /usr/local/cuda. Without ptxas the kernels ship as
  /// PTX for the driver to compile.
  std::string cudaToolkit;
  /// --quantize: none (fp32), int8 (dynamic: kiln-quantize-contractions) or
  /// bf16 (weights and GEMM inputs: kiln-pack-gemm-weights-bf16).
  Quantization quantize = Quantization::None;
  /// --quantize-exclude: ONNX node names or op types kept in fp32.
  std::vector<std::string> quantizeExclude;
  /// --prune: which weights to zero (docs/pruning.md), before any
  /// quantization.
  Pruning prune;
  /// --prune-exclude: ONNX node names or op types whose weights stay dense.
  std::vector<std::string> pruneExclude;
  /// Nodes whose weights count for a global threshold but stay dense: the
  /// accuracy report measures layers pruned alone with it.
  std::vector<std::string> pruneKeepDense;
  /// A remark per pruned weight and a sum (kiln compile --stats).
  bool pruneReport = false;
  /// --quantize int8-static: int8 (quantize is Int8) with calibrated
  /// activations. The calibration (tools/kiln) fills staticActivations,
  /// one entry per quantized layer by ONNX node name, which the module
  /// then carries as kiln.activation_quantization; compiling with the flag
  /// set and no entries is an error.
  bool staticActivations = false;
  std::map<std::string, ActivationQuantization> activationQuantization;
  /// The calibration build: the A of each of these layers (ONNX node
  /// names) becomes one more output, `calibration:<node>`
  /// (kiln-expose-layer-inputs).
  std::vector<std::string> exposeLayerInputs;
  /// Structured --prune with --calibration-data: E|x_j| of each pruned
  /// block's last Linear layer's input features, by ONNX node name (the
  /// module carries it as kiln.layer_input_magnitude). Empty: the pass
  /// scores by weight magnitude alone.
  std::map<std::string, std::vector<float>> layerInputMagnitude;
  /// --sparse-weights (see SparseWeights).
  SparseWeights sparseWeights = SparseWeights::Auto;
};

/// The CUDA toolkit folder that options.cudaToolkit resolves to.
std::string cudaToolkitPath(const CompileOptions &options);

/// Parses `cuda` or `cuda:sm_XY` (or `cpu`) into options; an error
/// message, or empty.
std::string parseTarget(llvm::StringRef text, CompileOptions &options);

/// Parses --precision (fp32, tf32, fp16, bf16); an error message, or empty.
std::string parsePrecision(llvm::StringRef text, CompileOptions &options);

/// Parses --gpu-gemm (kernels, cublas); an error message, or empty.
std::string parseGpuGemm(llvm::StringRef text, CompileOptions &options);

/// Parses --gpu-storage (half, fp32); an error message, or empty.
std::string parseGpuStorage(llvm::StringRef text, CompileOptions &options);

/// Parses --gpu-attention (fused, gemms); an error message, or empty.
std::string parseGpuAttention(llvm::StringRef text, CompileOptions &options);

/// Parses --gpu-gelu (erf, tanh); an error message, or empty.
std::string parseGpuGelu(llvm::StringRef text, CompileOptions &options);

/// The GPU options given explicitly: their defaults go with any target.
struct GpuOptionsGiven {
  bool storage = false, contiguousBatches = false, elementsPerThread = false;
};

/// What makes the GPU options unusable together (--precision without
/// --target cuda and --gpu-gemm=cublas, --gpu-storage without a 16-bit
/// precision, ...); an error message naming the CLI's flags, or empty.
std::string checkGpuOptions(const CompileOptions &options, const GpuOptionsGiven &given);

/// Parses --quantize (none, int8, int8-static, bf16); an error message, or
/// empty.
std::string parseQuantization(llvm::StringRef text, CompileOptions &options);

/// Parses --sparse-weights (auto, always, off); an error message, or empty.
std::string parseSparseWeights(llvm::StringRef text, CompileOptions &options);

/// What makes the options unusable together for quantization (--quantize
/// with -O0 or --target cuda, --quantize-exclude without --quantize); an
/// error message, or empty.
std::string checkQuantizationOptions(const CompileOptions &options);

/// Parses --prune (S:unstructured or S:blockRxC, optionally :global or
/// :per-layer; or N:M; or heads=F,ffn=F); an error message, or empty.
std::string parsePruning(llvm::StringRef text, CompileOptions &options);
/// The --prune spec back as text, e.g. "0.8:block1x4:global".
std::string pruningSpec(const Pruning &prune);
/// What makes the pruning options unusable (--prune-exclude without
/// --prune, a name no pass option can carry); an error message, or empty.
std::string checkPruningOptions(const CompileOptions &options);

/// One graph input or output as the artifact describes it.
struct TensorSignature {
  std::string name;
  int32_t dtype = 0;                  ///< ONNX TensorProto.DataType code
  std::vector<int64_t> dims;          ///< -1 for symbolic
  std::vector<std::string> dimNames;
};

/// The code of one ONNX node, as the profiler names it (kiln_abi_region).
struct ProfileRegion {
  std::string name, opType;
};

struct ModelSignature {
  std::vector<TensorSignature> inputs, outputs;
};

/// Reads the entry function's signature (kiln.input_name, kiln.dim_names,
/// kiln.output_name) before lowering erases it. Fails on element types the
/// ABI cannot describe.
FailureOr<ModelSignature> readSignature(ModuleOp module);

/// Checks --mcpu and --mattr against the LLVM target's CPUs and features;
/// an error message naming the valid values, or empty.
std::string checkTargetOptions(const CompileOptions &options);

/// The runtime GEMM micro-kernel family the target CPU of `options` runs
/// ("avx512", "avx2" or "portable"): the layout constant weights are packed
/// in (kiln-pack-gemm-weights).
std::string gemmTarget(const CompileOptions &options);

/// Whether the target CPU of `options` has AVX512_BF16, which the runtime's
/// fast bf16 GEMM needs (--quantize bf16 runs everywhere, slowly without).
bool targetHasBf16Dot(const CompileOptions &options);

/// The textual pass pipeline from kiln IR to the LLVM dialect.
std::string loweringPipeline(const CompileOptions &options);

/// A contraction that --quantize int8 turns into an int8 GEMM.
struct QuantizedLayer {
  std::string node;   ///< its ONNX node name: what --quantize-exclude takes
  std::string opType; ///< MatMul, Gemm
  int64_t k = 0, n = 0; ///< the weight's depth and width
};

/// The layers (once per ONNX node, in program order) that `options`'
/// --quantize int8 quantizes. Runs the lowering up to the quantization on
/// `module`, which is left half lowered. Empty without --quantize int8.
FailureOr<std::vector<QuantizedLayer>> quantizedLayers(ModuleOp module,
                                                       const CompileOptions &options);

/// A contraction whose weight --prune zeroes.
struct PrunedLayer {
  std::string node;     ///< its ONNX node name: what --prune-exclude takes
  std::string opType;   ///< MatMul, Gemm
  int64_t k = 0, n = 0; ///< the weight's depth and width
  int64_t zeros = 0;    ///< of its k x n values, once pruned
};
/// The layers (once per ONNX node, in program order) whose weights
/// `options`' --prune zeroes, with their zeros counted after pruning.
/// Lowers `module` up to the pruning, leaving it half lowered. Empty
/// without --prune.
FailureOr<std::vector<PrunedLayer>> prunedLayers(ModuleOp module, const CompileOptions &options);

/// What the options add to the imported module before it is lowered: the
/// calibration outputs (exposeLayerInputs), the calibrated activation
/// types (kiln.activation_quantization) and the input magnitudes of
/// structured pruning (kiln.layer_input_magnitude). Fails with a diagnostic.
LogicalResult prepareQuantization(ModuleOp module, const CompileOptions &options);

/// Runs loweringPipeline on `module`.
LogicalResult lowerToLLVMDialect(ModuleOp module, const CompileOptions &options);

/// Translates an LLVM-dialect module, adds the model ABI, optimizes and
/// writes the requested form (LLVM IR text, object, or shared library) to
/// `outputPath` atomically: nothing is left behind on failure.
LogicalResult emitNative(ModuleOp module, const ModelSignature &signature,
                         const CompileOptions &options, llvm::StringRef outputPath);

} // namespace mlir::kiln

#endif // KILN_COMPILER_COMPILE_H
