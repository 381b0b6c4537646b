//===- Driver.cpp - One model file to one compiled artifact ---------------===//

#include "kiln/Compiler/Driver.h"
#include "kiln/Compiler/Import.h"
#include "kiln/Dialect/Kiln/KilnDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Location.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"
#include <chrono>
#include <sys/resource.h>

using namespace mlir;
using namespace mlir::kiln;

std::string mlir::kiln::checkOutputFolder(const CompileJob &job) {
  llvm::SmallString<256> outputDir(job.output);
  llvm::sys::path::remove_filename(outputDir);
  if (outputDir.empty())
    outputDir = ".";
  if (llvm::sys::fs::is_directory(outputDir))
    return "";
  return "cannot write '" + job.output + "': the folder '" + outputDir.str().str() +
         "' does not exist";
}

/// Kiln IR from a .mlir file, or an imported and cleaned-up ONNX model.
static OwningOpRef<ModuleOp> loadModel(const CompileJob &job, MLIRContext &context) {
  if (llvm::StringRef(job.model).ends_with(".mlir")) {
    context.loadDialect<KilnDialect, func::FuncDialect>();
    llvm::SourceMgr sources;
    auto file = llvm::MemoryBuffer::getFile(job.model);
    if (!file) {
      emitError(UnknownLoc::get(&context), "cannot open '")
          << job.model << "': " << file.getError().message();
      return nullptr;
    }
    sources.AddNewSourceBuffer(std::move(*file), llvm::SMLoc());
    return parseSourceFile<ModuleOp>(sources, &context);
  }
  return importAndCleanUp(job.model, context, job.importOptions);
}

namespace {
/// Reports phases to CompileJob::onPhase: wall time and the process's peak
/// RSS so far.
class PhaseClock {
public:
  explicit PhaseClock(const CompileJob &job) : job(job) {}
  void start(StringRef phase) {
    auto now = std::chrono::steady_clock::now();
    double seconds = started ? std::chrono::duration<double>(now - since).count() : 0;
    if (job.onPhase)
      job.onPhase(phase, seconds, peakRssMiB());
    since = now;
    started = true;
  }
  ~PhaseClock() { start(""); }

private:
  static double peakRssMiB() {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss / 1024.0; // KiB on Linux
  }
  const CompileJob &job;
  std::chrono::steady_clock::time_point since;
  bool started = false;
};
} // namespace

LogicalResult mlir::kiln::runCompileJob(const CompileJob &job, MLIRContext &context) {
  PhaseClock clock(job);
  clock.start("import");
  OwningOpRef<ModuleOp> module = loadModel(job, context);
  if (!module || failed(verify(*module)) || failed(prepareQuantization(*module, job.options)))
    return failure();
  FailureOr<ModelSignature> signature = readSignature(*module);
  clock.start("lower");
  if (failed(signature) || failed(lowerToLLVMDialect(*module, job.options)))
    return failure();
  clock.start("codegen");
  if (job.options.emit == EmitKind::Mlir) {
    std::error_code ec;
    llvm::ToolOutputFile file(job.output, ec, llvm::sys::fs::OF_None);
    if (ec)
      return emitError(UnknownLoc::get(&context), "cannot write '")
             << job.output << "': " << ec.message();
    module->print(file.os());
    file.keep();
    return success();
  }
  return emitNative(*module, *signature, job.options, job.output);
}

FailureOr<std::vector<QuantizedLayer>> mlir::kiln::listQuantizedLayers(const CompileJob &job,
                                                                       MLIRContext &context) {
  OwningOpRef<ModuleOp> module = loadModel(job, context);
  if (!module || failed(verify(*module)))
    return failure();
  return quantizedLayers(*module, job.options);
}

FailureOr<std::vector<PrunedLayer>> mlir::kiln::listPrunedLayers(const CompileJob &job,
                                                                 MLIRContext &context) {
  OwningOpRef<ModuleOp> module = loadModel(job, context);
  if (!module || failed(verify(*module)))
    return failure();
  return prunedLayers(*module, job.options);
}

FailureOr<std::vector<StructuredBlock>>
mlir::kiln::listStructuredBlocks(const CompileJob &job, MLIRContext &context) {
  OwningOpRef<ModuleOp> module = loadModel(job, context);
  if (!module || failed(verify(*module)))
    return failure();
  return structuredBlocks(*module);
}

/// "model.onnx", "node 'Add_3'", or the location as MLIR prints it.
static std::string describe(Location loc) {
  if (auto name = dyn_cast<NameLoc>(loc))
    return "node '" + name.getName().str() + "'";
  if (auto file = dyn_cast<FileLineColLoc>(loc)) {
    if (file.getLine() == 0)
      return file.getFilename().str();
    return (file.getFilename().getValue() + ":" + llvm::Twine(file.getLine()) + ":" +
            llvm::Twine(file.getColumn()))
        .str();
  }
  if (isa<UnknownLoc>(loc))
    return "";
  std::string text;
  llvm::raw_string_ostream os(text);
  loc.print(os);
  return text;
}

static StringRef severityName(DiagnosticSeverity severity) {
  switch (severity) {
  case DiagnosticSeverity::Error: return "error";
  case DiagnosticSeverity::Warning: return "warning";
  case DiagnosticSeverity::Note: return "note";
  case DiagnosticSeverity::Remark: return "remark";
  }
  return "error";
}

std::string mlir::kiln::formatDiagnostic(Diagnostic &diag) {
  std::string where = describe(diag.getLocation());
  std::string text =
      severityName(diag.getSeverity()).str() + ": " + (where.empty() ? "" : where + ": ") + diag.str();
  for (Diagnostic &note : diag.getNotes())
    text += "\n  note: " + note.str();
  return text;
}
