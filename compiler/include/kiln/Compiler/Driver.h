//===- Driver.h - One model file to one compiled artifact -------*- C++ -*-===//
//
// What `kiln compile` does once its arguments are parsed, shared by the CLI
// (tools/kiln/CompileCommand.cpp) and the Python binding (kiln.compile,
// python/src/compiler_module.cpp): check the output folder, load the model
// (.onnx imported and cleaned up, or .mlir kiln IR), lower it and write the
// artifact atomically.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_COMPILER_DRIVER_H
#define KILN_COMPILER_DRIVER_H

#include "kiln/Compiler/Compile.h"
#include "kiln/Frontends/Onnx/OnnxImporter.h"
#include "kiln/Passes/Passes.h"
#include "mlir/IR/Diagnostics.h"
#include <functional>
#include <string>

namespace mlir::kiln {

/// One compilation: a model file (.onnx, or .mlir from `kiln import`) to
/// `output`.
struct CompileJob {
  std::string model, output;
  OnnxImportOptions importOptions;
  CompileOptions options;
  /// Called as each phase starts ("import", "lower", "codegen") and once
  /// more with "" at the end: `seconds` and `peakRssMiB` are those of the
  /// phase that just ended (0 for the first call). Optional.
  std::function<void(llvm::StringRef phase, double seconds, double peakRssMiB)> onPhase;
};

/// Checks, before minutes of compiling, that the folder of job.output
/// exists; an error message ("cannot write 'x': the folder 'd' does not
/// exist"), or empty.
std::string checkOutputFolder(const CompileJob &job);

/// Loads, lowers and emits job.model to job.output. Every problem is
/// reported as a diagnostic through `context`'s handler; on failure nothing
/// is left at job.output.
LogicalResult runCompileJob(const CompileJob &job, MLIRContext &context);

/// Loads job.model and lists the layers job.options quantizes
/// (quantizedLayers); nothing is written.
FailureOr<std::vector<QuantizedLayer>> listQuantizedLayers(const CompileJob &job,
                                                           MLIRContext &context);

/// Loads job.model and lists the layers whose weights job.options prunes
/// (prunedLayers); nothing is written.
FailureOr<std::vector<PrunedLayer>> listPrunedLayers(const CompileJob &job, MLIRContext &context);

/// Loads job.model and lists the blocks structured pruning matches
/// (structuredBlocks); nothing is written.
FailureOr<std::vector<StructuredBlock>> listStructuredBlocks(const CompileJob &job,
                                                             MLIRContext &context);

/// One diagnostic as the tools print it, without a trailing newline:
/// "error: node 'Add_3': <message>" followed by "\n  note: ..." lines.
std::string formatDiagnostic(Diagnostic &diagnostic);

} // namespace mlir::kiln

#endif // KILN_COMPILER_DRIVER_H
