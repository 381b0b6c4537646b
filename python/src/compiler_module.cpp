//===- compiler_module.cpp - kiln._compiler: kiln compile for Python ------===//
//
// kiln.compile (python/kiln/_compile.py) calls compile() here, which runs the
// same entry point as `kiln compile` (mlir::kiln::runCompileJob,
// compiler/include/kiln/Compiler/Driver.h) in this process, with the GIL
// released. Diagnostics are collected as the CLI would print them and raised
// as one kiln.CompileError; the output file is written atomically, so a
// failed compile leaves nothing behind. Links LLVM and MLIR: imported only
// when kiln.compile is first called.
//
//===----------------------------------------------------------------------===//

#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "Calibration.h"
#include "kiln/Compiler/Driver.h"
#include "mlir/IR/MLIRContext.h"

#include <mutex>
#include <string>

namespace nb = nanobind;

namespace {

[[noreturn]] void raiseCompileError(const std::string &message) {
  nb::object error = nb::module_::import_("kiln._errors").attr("CompileError")(message);
  PyErr_SetObject(reinterpret_cast<PyObject *>(Py_TYPE(error.ptr())), error.ptr());
  throw nb::python_error();
}

/// One compile at a time per process: LLVM's target set-up and option
/// state are process-wide.
std::mutex compileMutex;

void compile(const std::string &model, const std::string &output, const std::string &inputShapes,
             const std::string &dims, const std::string &cpu, const std::string &features, int optLevel,
             const std::string &target, const std::string &quantize,
             const std::vector<std::string> &quantizeExclude, const std::string &prune,
             const std::vector<std::string> &pruneExclude, const std::string &calibrationData,
             const std::string &calibrationMethod, double calibrationPercentile,
             const std::string &gpuGemm, const std::string &precision,
             const std::string &gpuStorage, const std::string &gpuAttention,
             const std::string &gpuGelu, int64_t gpuContiguousBatches,
             int64_t gpuElementsPerThread, bool gpuEmulation) {
  mlir::kiln::CompileJob job;
  job.model = model;
  job.output = output;
  if (optLevel < 0 || optLevel > 3)
    raiseCompileError("opt_level must be 0, 1, 2 or 3, not " + std::to_string(optLevel));
  job.options.optLevel = optLevel;
  job.options.cpu = cpu;
  job.options.features = features;
  std::string problem;
  if (!inputShapes.empty())
    problem = mlir::kiln::parseInputShapes(inputShapes, job.importOptions);
  if (problem.empty() && !dims.empty())
    problem = mlir::kiln::parseNamedDims(dims, job.importOptions);
  if (problem.empty() && !target.empty())
    problem = mlir::kiln::parseTarget(target, job.options);
  // The GPU options (--gpu-gemm, --precision, --gpu-storage,
  // --gpu-attention, --gpu-gelu, --gpu-contiguous-batches and
  // --gpu-elements-per-thread (-1: not given), --gpu-emulation), checked together as `kiln compile` checks them.
  mlir::kiln::GpuOptionsGiven gpuGiven;
  gpuGiven.storage = !gpuStorage.empty();
  gpuGiven.contiguousBatches = gpuContiguousBatches >= 0;
  if (gpuGiven.contiguousBatches)
    job.options.gpuContiguousBatchCalls = gpuContiguousBatches;
  gpuGiven.elementsPerThread = gpuElementsPerThread >= 0;
  if (gpuGiven.elementsPerThread)
    job.options.gpuElementsPerThread = gpuElementsPerThread;
  if (problem.empty() && !gpuGemm.empty())
    problem = mlir::kiln::parseGpuGemm(gpuGemm, job.options);
  if (problem.empty() && !precision.empty())
    problem = mlir::kiln::parsePrecision(precision, job.options);
  if (problem.empty() && !gpuStorage.empty())
    problem = mlir::kiln::parseGpuStorage(gpuStorage, job.options);
  if (problem.empty() && !gpuAttention.empty())
    problem = mlir::kiln::parseGpuAttention(gpuAttention, job.options);
  if (problem.empty() && !gpuGelu.empty())
    problem = mlir::kiln::parseGpuGelu(gpuGelu, job.options);
  job.options.gpuEmulation = gpuEmulation;
  if (problem.empty())
    problem = mlir::kiln::checkGpuOptions(job.options, gpuGiven);
  if (problem.empty() && !quantize.empty())
    problem = mlir::kiln::parseQuantization(quantize, job.options);
  // int8-static: calibrated as `kiln compile` does (the CLI's flags named
  // as Python's arguments in _compile.py's messages).
  kilncli::CalibrationOptions calibration;
  calibration.data = calibrationData;
  if (problem.empty() && !calibrationMethod.empty())
    problem = kilncli::parseCalibrationMethod(calibrationMethod, calibration);
  if (calibrationPercentile > 0) {
    calibration.percentile = calibrationPercentile;
    calibration.percentileGiven = true;
  }
  job.options.quantizeExclude = quantizeExclude;
  if (problem.empty())
    problem = mlir::kiln::checkQuantizationOptions(job.options);
  if (problem.empty())
    problem = kilncli::checkCalibrationOptions(job, calibration);
  if (problem.empty() && !prune.empty())
    problem = mlir::kiln::parsePruning(prune, job.options);
  job.options.pruneExclude = pruneExclude;
  if (problem.empty())
    problem = mlir::kiln::checkPruningOptions(job.options);
  if (problem.empty())
    problem = mlir::kiln::checkTargetOptions(job.options);
  if (problem.empty())
    problem = mlir::kiln::checkOutputFolder(job);
  if (!problem.empty())
    raiseCompileError(problem);

  std::string diagnostics;
  bool ok;
  {
    nb::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(compileMutex);
    // As `kiln compile`: int8-static's ranges, a structured --prune's
    // importance from the data, then the build.
    std::string calibrationError;
    bool structured = job.options.prune.kind == mlir::kiln::Pruning::Kind::Structured;
    if ((job.options.staticActivations &&
         !kilncli::calibrate(job, calibration, calibrationError, llvm::nulls())) ||
        (structured && !calibration.data.empty() &&
         !kilncli::measureLayerInputs(job, calibration, calibrationError, llvm::nulls()))) {
      ok = false;
      diagnostics = calibrationError;
    } else {
      mlir::MLIRContext context;
      mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &diagnostic) {
        diagnostics += mlir::kiln::formatDiagnostic(diagnostic) + "\n";
        return mlir::success();
      });
      ok = mlir::succeeded(mlir::kiln::runCompileJob(job, context));
    }
  }
  if (!ok) {
    if (!diagnostics.empty() && diagnostics.back() == '\n')
      diagnostics.pop_back();
    raiseCompileError("failed to compile '" + model + "'" +
                      (diagnostics.empty() ? std::string() : ":\n" + diagnostics));
  }
}

} // namespace

NB_MODULE(_compiler, m) {
  m.doc() = "The Kiln compiler in process (what `kiln compile` runs); use kiln.compile.";
  m.def("compile", &compile, nb::arg("model"), nb::arg("output"), nb::arg("input_shapes"),
        nb::arg("dims"), nb::arg("cpu"), nb::arg("features"), nb::arg("opt_level"), nb::arg("target"),
        nb::arg("quantize"), nb::arg("quantize_exclude"), nb::arg("prune"),
        nb::arg("prune_exclude"), nb::arg("calibration_data"), nb::arg("calibration_method"),
        nb::arg("calibration_percentile"), nb::arg("gpu_gemm"), nb::arg("precision"),
        nb::arg("gpu_storage"), nb::arg("gpu_attention"), nb::arg("gpu_gelu"),
        nb::arg("gpu_contiguous_batches"), nb::arg("gpu_elements_per_thread"),
        nb::arg("gpu_emulation"));
}
