//===- CompileCommand.cpp - kiln compile ----------------------------------===//

#include "AccuracyReport.h"
#include "ArgParser.h"
#include "Calibration.h"
#include "CliDiagnostics.h"
#include "Commands.h"
#include "kiln/Compiler/Driver.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/Format.h"
#include <unistd.h>

using namespace mlir;
using namespace kilncli;

void kilncli::printCompileHelp() {
  llvm::outs() << R"(Usage: kiln compile <model.onnx | model.mlir> -o <output> [options]

Compiles an ONNX model (or kiln IR from `kiln import`) for the CPU or GPU into a
shared library that the Kiln runtime loads (runtime/include/kiln/kiln.h).
Symbolic dims stay symbolic: one library runs at any batch and sequence size.

Options:
  -o <file>                    Output file (required). Nothing is left behind
                               when compilation fails.
  --emit=<stage>               Stop at a stage: mlir (LLVM dialect), llvm (LLVM
                               IR text), obj (object file) or lib (default).
  -O0, -O1, -O2, -O3           Optimization level (default -O2).
  --mcpu=<cpu>                 Target CPU: native (the default: this machine's
                               CPU and features), a level (x86-64, x86-64-v2,
                               x86-64-v3, x86-64-v4) or a CPU, e.g. haswell,
                               skylake-avx512. The library refuses to load on
                               a CPU without the features it uses.
  --mattr=<features>           Features to add or remove, e.g. +avx2,+fma or
                               -avx512f.
  --stats, -v                  Print each phase's time (import, lower,
                               codegen) and the peak memory to stderr.
  --input-shape <n=DxD,...>    Specialise symbolic input dims; a named dim
                               takes its size in every input that has it.
  --dim <name=N,...>           Give named symbolic dims (ONNX dim_param)
                               a size in every input that has them, e.g.
                               batch=1,sequence=128.
  --target=<target>            cpu (default), or cuda[:sm_XY] (default sm_90):
                               every loop a CUDA kernel, the model run on the
                               GPU by the same runtime; symbolic dims stay
                               symbolic, as on the CPU (see docs/gpu.md).
  --gpu-gemm=<how>             --target cuda: the GEMMs as generated kernels
                               (default) or cuBLASLt calls (cublas; loaded at
                               run time; not yet verified on a GPU).
  --precision=<p>              With --gpu-gemm=cublas: the GEMMs' arithmetic:
                               fp32 (default, exact), tf32, fp16 or bf16
                               (inputs rounded for the tensor cores, fp32
                               accumulation). With fp16 and bf16, tensors
                               between kernels are stored in that type too
                               (see --gpu-storage).
  --gpu-storage=<s>            With --precision fp16 or bf16: half (default:
                               tensors between kernels in 16 bits, computed
                               in fp32; GEMMs read and write 16 bits) or
                               fp32 (only the GEMMs' inputs rounded).
  --gpu-attention=<how>        With --precision fp16 or bf16 (from -O1): gemms
                               (default: attention's two products cuBLASLt
                               GEMMs around a softmax kernel) or fused (one
                               tensor-core kernel per attention, its scores
                               kept in registers; not yet timed on a GPU).
  --gpu-gelu=<form>            With --precision fp16 or bf16: erf (default:
                               GELU as the model has it, a kernel of its
                               own) or tanh (erf GELU approximated by its
                               tanh form, at most 4.7e-4 off, so that the
                               GEMM before it applies it: one kernel less
                               per GELU).
  --gpu-contiguous-batches=<N> With --gpu-gemm=cublas: a batched GEMM whose
                               two batch dims do not fold into one stride
                               (attention's at batch > 1) has its operands
                               copied contiguous, one cuBLASLt call, where it
                               would otherwise take N calls or more (default
                               4; 0: never, the calls loop).
  --gpu-elements-per-thread=<N>
                               --target cuda: an elementwise loop nest's
                               threads each cover up to N elements, all
                               their loads before their stores, for more
                               loads in flight (default 8 from -O1, 1 at
                               -O0; large nests only: docs/gpu.md).
  --gpu-emulation              --target cuda, for testing without a GPU: the
                               kernels compiled for this CPU, to be run by
                               Kiln's test CUDA driver (libkiln_fake_cuda.so,
                               KILN_CUDA_DRIVER); no GPU runs such a model.
                               Needs no CUDA toolkit (docs/gpu.md).
  --cuda-toolkit=<dir>         CUDA toolkit for ptxas and libdevice (default
                               $CUDA_HOME, else /usr/local/cuda). Without
                               ptxas the kernels ship as PTX for the driver.
  --quantize=<mode>            none (default), int8, int8-static or bf16.
                               int8: the MatMul/Gemm layers with constant
                               weights as int8 GEMMs (weights int8 per output
                               channel, activations uint8 per row, quantized
                               as the model runs; VNNI kernels where the CPU
                               has them). int8-static: the same with each
                               layer's activations on one scale calibrated
                               on --calibration-data. bf16: every constant
                               GEMM weight in bf16, its GEMM on bf16 inputs
                               with fp32 sums (AVX512_BF16; a slow portable
                               kernel with the same results elsewhere).
                               Needs -O1+.
  --calibration-data=<dir>     int8-static: input sets to calibrate on, in
                               --eval-data's layout (docs/datasets.md); with
                               structured --prune, the data heads and
                               neurons are scored on.
  --calibration-method=<m>     int8-static: minmax (default), percentile or
                               entropy (docs/quantization.md).
  --calibration-percentile=<p> With percentile: the range kept, from the
                               (100-p)th to the pth percentile (default
                               99.999).
  --quantize-exclude=<n,...>   Keep these ONNX nodes (by name) or op types
                               (e.g. Gemm) in fp32.
  --sparse-weights=<mode>      auto (default), always or off. From -O1, fp32
                               MatMul/Gemm weights that are mostly zeros
                               (pruned) run on the sparse GEMM where its cost
                               model says it beats the dense one (auto), or
                               always; off keeps every GEMM dense.
  --prune=<spec>               Zero the smallest MatMul/Gemm weights, before
                               any --quantize (docs/pruning.md):
                               S:unstructured or S:blockRxC (a fraction S in
                               (0, 1) of the values, or of RxC blocks: R rows
                               of K (input features) by C columns of N
                               (output features), by L2 norm), each weight
                               to S (:per-layer, the default) or with one
                               threshold over all (:global); or N:M (keep
                               the N largest of every M along K), e.g.
                               0.8:block1x4, 0.9:unstructured:global, 2:4.
                               Or structured: heads=F,ffn=F removes that
                               fraction of each attention block's heads and
                               FFN's neurons (smaller dense GEMMs), least
                               important first: by E|x|*||W row|| with
                               --calibration-data, else weight magnitude.
                               With --stats, each pruned weight's sparsity
                               (structured: each block's kept units).
  --prune-exclude=<n,...>      Keep these ONNX nodes' (by name) or op types'
                               weights dense (structured: their blocks
                               whole).
  --eval-data=<dir>            Input sets to measure accuracy on: one
                               subdirectory per run holding <input>.npy for
                               every model input (docs/datasets.md).
  --accuracy-report=<file.md>  With --quantize int8 and/or --prune, and
                               --eval-data: also compile the fp32 model, run
                               both, and write each output's error (cosine,
                               max abs, SQNR) and each compressed layer's
                               (compressed alone), worst first. One compile
                               per layer.
  --accuracy-budget=<cos>      With --quantize int8 and/or --prune, and
                               --eval-data: keep the layers that hurt most
                               in fp32 and dense, worst first, until the
                               mean cosine to fp32 of the worst output
                               reaches <cos> (e.g. 0.999); -o is that build.
                               With both --prune and --quantize int8: the
                               fastest build within <cos>, each layer fp32,
                               int8, pruned or pruned+int8 (measured), timed
                               against int8 alone at the same budget.
  -h, --help                   Show this help.
)";
}

using CompileArgs = mlir::kiln::CompileJob;

static const char *phaseDescription(llvm::StringRef phase) {
  if (phase == "import")
    return "importing the model";
  if (phase == "lower")
    return "lowering (MLIR passes)";
  return "generating code (LLVM) and linking";
}

static bool parseArgs(llvm::ArrayRef<llvm::StringRef> args, CompileArgs &out,
                      AccuracyOptions &accuracy, CalibrationOptions &calibration, bool &help,
                      bool &stats) {
  ArgParser p("compile", args);
  mlir::kiln::GpuOptionsGiven gpuGiven;
  while (!p.done() && !p.failed()) {
    llvm::StringRef arg = p.current();
    if (p.flag("-h") || p.flag("--help")) {
      help = true;
      return true;
    }
    if (arg.size() == 3 && arg.starts_with("-O") && arg[2] >= '0' && arg[2] <= '3') {
      out.options.optLevel = arg[2] - '0';
      p.next();
    } else if (p.flag("--stats") || p.flag("-v")) {
      stats = true;
    } else if (auto v = p.value("-o")) {
      out.output = v->str();
    } else if (auto v = p.value("--emit")) {
      if (*v == "mlir")
        out.options.emit = mlir::kiln::EmitKind::Mlir;
      else if (*v == "llvm")
        out.options.emit = mlir::kiln::EmitKind::Llvm;
      else if (*v == "obj")
        out.options.emit = mlir::kiln::EmitKind::Object;
      else if (*v == "lib")
        out.options.emit = mlir::kiln::EmitKind::Library;
      else
        p.error("--emit must be mlir, llvm, obj or lib, not '" + v->str() + "'");
    } else if (auto v = p.value("--mcpu")) {
      out.options.cpu = v->str();
    } else if (auto v = p.value("--target")) {
      std::string problem = mlir::kiln::parseTarget(*v, out.options);
      if (!problem.empty())
        p.error(problem);
    } else if (auto v = p.value("--precision")) {
      std::string problem = mlir::kiln::parsePrecision(*v, out.options);
      if (!problem.empty())
        p.error(problem);
    } else if (p.flag("--gpu-emulation")) {
      out.options.gpuEmulation = true;
    } else if (auto v = p.value("--gpu-gemm")) {
      if (std::string problem = mlir::kiln::parseGpuGemm(*v, out.options); !problem.empty())
        p.error(problem);
    } else if (auto v = p.value("--gpu-storage")) {
      gpuGiven.storage = true;
      if (std::string problem = mlir::kiln::parseGpuStorage(*v, out.options); !problem.empty())
        p.error(problem);
    } else if (auto v = p.value("--gpu-attention")) {
      if (std::string problem = mlir::kiln::parseGpuAttention(*v, out.options); !problem.empty())
        p.error(problem);
    } else if (auto v = p.value("--gpu-gelu")) {
      if (std::string problem = mlir::kiln::parseGpuGelu(*v, out.options); !problem.empty())
        p.error(problem);
    } else if (auto v = p.value("--gpu-contiguous-batches")) {
      gpuGiven.contiguousBatches = true;
      if (v->getAsInteger(10, out.options.gpuContiguousBatchCalls) ||
          out.options.gpuContiguousBatchCalls < 0)
        p.error("--gpu-contiguous-batches must be a count of calls (0: never), not '" +
                v->str() + "'");
    } else if (auto v = p.value("--gpu-elements-per-thread")) {
      gpuGiven.elementsPerThread = true;
      if (v->getAsInteger(10, out.options.gpuElementsPerThread))
        p.error("--gpu-elements-per-thread must be a count from 1 to 16, not '" + v->str() + "'");
    } else if (auto v = p.value("--quantize")) {
      std::string problem = mlir::kiln::parseQuantization(*v, out.options);
      if (!problem.empty())
        p.error(problem);
    } else if (auto v = p.value("--sparse-weights")) {
      std::string problem = mlir::kiln::parseSparseWeights(*v, out.options);
      if (!problem.empty())
        p.error(problem);
    } else if (auto v = p.value("--quantize-exclude")) {
      llvm::SmallVector<llvm::StringRef> names;
      v->split(names, ',', -1, /*KeepEmpty=*/false);
      for (llvm::StringRef name : names)
        out.options.quantizeExclude.push_back(name.trim().str());
    } else if (auto v = p.value("--prune")) {
      std::string problem = mlir::kiln::parsePruning(*v, out.options);
      if (!problem.empty())
        p.error(problem);
    } else if (auto v = p.value("--prune-exclude")) {
      llvm::SmallVector<llvm::StringRef> names;
      v->split(names, ',', -1, /*KeepEmpty=*/false);
      for (llvm::StringRef name : names)
        out.options.pruneExclude.push_back(name.trim().str());
    } else if (auto v = p.value("--calibration-data")) {
      calibration.data = v->str();
    } else if (auto v = p.value("--calibration-method")) {
      std::string problem = parseCalibrationMethod(*v, calibration);
      if (!problem.empty())
        p.error(problem);
    } else if (auto v = p.value("--calibration-percentile")) {
      calibration.percentileGiven = true;
      if (v->getAsDouble(calibration.percentile))
        p.error("--calibration-percentile must be a number such as 99.99, not '" + v->str() + "'");
    } else if (auto v = p.value("--eval-data")) {
      accuracy.evalData = v->str();
    } else if (auto v = p.value("--accuracy-report")) {
      accuracy.reportPath = v->str();
    } else if (auto v = p.value("--accuracy-budget")) {
      double budget = 0;
      if (v->getAsDouble(budget))
        p.error("--accuracy-budget must be a number (a cosine similarity such as 0.999), not '" +
                v->str() + "'");
      accuracy.budget = budget;
    } else if (auto v = p.value("--cuda-toolkit")) {
      out.options.cudaToolkit = v->str();
    } else if (auto v = p.value("--mattr")) {
      out.options.features = v->str();
    } else if (auto v = p.value("--input-shape")) {
      std::string problem = mlir::kiln::parseInputShapes(*v, out.importOptions);
      if (!problem.empty())
        p.error(problem);
    } else if (auto v = p.value("--dim")) {
      std::string problem = mlir::kiln::parseNamedDims(*v, out.importOptions);
      if (!problem.empty())
        p.error(problem);
    } else if (arg.starts_with("-")) {
      p.error("unknown option '" + arg.str() + "'; see `kiln compile --help`");
    } else if (out.model.empty()) {
      out.model = arg.str();
      p.next();
    } else {
      p.error("more than one model given ('" + out.model + "' and '" + arg.str() + "')");
    }
  }
  if (!p.failed()) {
    if (std::string problem = mlir::kiln::checkGpuOptions(out.options, gpuGiven); !problem.empty())
      p.error(problem);
  }
  if (!p.failed()) {
    std::string problem = mlir::kiln::checkQuantizationOptions(out.options);
    if (!problem.empty())
      p.error(problem);
  }
  if (!p.failed()) {
    std::string problem = mlir::kiln::checkPruningOptions(out.options);
    if (!problem.empty())
      p.error(problem);
  }
  if (!p.failed()) {
    std::string problem = checkCalibrationOptions(out, calibration);
    if (!problem.empty())
      p.error(problem);
  }
  if (!p.failed()) {
    std::string problem = checkAccuracyOptions(out, accuracy);
    if (!problem.empty())
      p.error(problem);
  }
  // An unknown CPU or feature is a usage error, found here rather than
  // after minutes of lowering (where LLVM would only warn, or abort).
  if (!p.failed()) {
    std::string problem = mlir::kiln::checkTargetOptions(out.options);
    if (!problem.empty())
      p.error(problem);
  }
  if (!p.failed() && out.model.empty())
    p.error("no model given; usage: kiln compile <model.onnx> -o <model.so>");
  if (!p.failed() && out.output.empty())
    p.error("no output given: add -o <file>");
  if (p.failed()) {
    p.report();
    return false;
  }
  return true;
}

int kilncli::runCompile(llvm::ArrayRef<llvm::StringRef> rawArgs) {
  CompileArgs args;
  AccuracyOptions accuracy;
  CalibrationOptions calibration;
  bool help = false;
  bool stats = false;
  if (!parseArgs(rawArgs, args, accuracy, calibration, help, stats))
    return 2;
  if (help) {
    printCompileHelp();
    return 0;
  }
  // --stats: each pruned weight's sparsity, as remarks.
  args.options.pruneReport = stats;
  // Found out before minutes of compiling, not at the final write.
  std::string problem = mlir::kiln::checkOutputFolder(args);
  if (!problem.empty()) {
    llvm::errs() << "kiln compile: error: " << problem << "\n";
    return 1;
  }
  // int8-static: the calibrated ranges go into args.options, which every
  // build below (the accuracy report's too) compiles with.
  calibration.stats = stats;
  std::string error;
  if (args.options.staticActivations && !calibrate(args, calibration, error, llvm::errs())) {
    llvm::errs() << "kiln compile: error: " << error << "\n";
    return 1;
  }
  // Structured pruning: the importance of heads and neurons from what their
  // layers' inputs hold on the data (without it, weight magnitude alone).
  if (args.options.prune.kind == mlir::kiln::Pruning::Kind::Structured &&
      !calibration.data.empty() && !measureLayerInputs(args, calibration, error, llvm::errs())) {
    llvm::errs() << "kiln compile: error: " << error << "\n";
    return 1;
  }
  if (accuracy.requested()) {
    accuracy.stats = stats;
    accuracy.commandLine = "kiln compile";
    for (llvm::StringRef arg : rawArgs)
      accuracy.commandLine += " " + arg.str();
    return runAccuracyReport(args, accuracy);
  }
  // --stats/-v: each phase's time and the peak memory so far, on stderr.
  // On a terminal, a progress line says which phase is running.
  bool terminal = isatty(STDERR_FILENO);
  std::string running;
  args.onPhase = [&](llvm::StringRef phase, double seconds, double peakRssMiB) {
    if (terminal && !running.empty())
      llvm::errs() << "\r\x1b[K"; // clear the progress line
    if (stats && !running.empty())
      llvm::errs() << llvm::format("kiln compile: %-8s %7.2f s, peak RSS %6.0f MiB\n",
                                   running.c_str(), seconds, peakRssMiB);
    running = phase.str();
    if (terminal && !running.empty())
      llvm::errs() << "kiln compile: " << phaseDescription(running) << "...";
  };
  MLIRContext context;
  CliDiagnostics diagnostics(context);
  if (failed(mlir::kiln::runCompileJob(args, context))) {
    llvm::errs() << "kiln compile: failed to compile '" << args.model << "'\n";
    return 1;
  }
  return 0;
}
