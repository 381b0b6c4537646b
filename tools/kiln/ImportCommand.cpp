//===- ImportCommand.cpp - kiln import ------------------------------------===//

#include "CliDiagnostics.h"
#include "ArgParser.h"
#include "Commands.h"
#include "kiln/Compiler/Import.h"
#include "kiln/Compiler/ModuleSummary.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <sys/resource.h>

using namespace mlir;
using namespace kilncli;

void kilncli::printImportHelp() {
  llvm::outs() << R"(Usage: kiln import <model.onnx> [options]

Reads an ONNX model (opsets 13 to 23; external-data files next to it are
found automatically) into the kiln dialect, folds shape computations and
prints the MLIR.

Options:
  -o <file>                    Write the MLIR to <file> (default: stdout).
                               Nothing is left behind when the import fails.
  --input-shape <n=DxD,...>    Give graph inputs static dims, e.g.
                               input_ids=1x128,attention_mask=1x128.
                               Without it symbolic dims stay `?`. A named
                               dim takes its size in every input that has it.
  --dim <name=N,...>           Give named symbolic dims (ONNX dim_param)
                               a size in every input that has them, e.g.
                               batch=1,sequence=128.
  --summary                    Print inputs, outputs, op counts and weight
                               size instead of the MLIR (to stdout; with -o
                               the MLIR still goes to the file).
  --stats                      Print import time and peak memory to stderr.
  --no-cleanup                 Print the graph as imported, before folding,
                               shape refinement and CSE.
  --locations                  Print each op's location: the ONNX node it
                               came from (name and op type), so that a
                               library compiled from this MLIR still names
                               the nodes in its profile (kiln run --profile),
                               and so that IR dumped along the pipeline
                               (kiln-opt --mlir-print-debuginfo) shows them.
  -h, --help                   Show this help.
)";
}

namespace {
struct ImportArgs {
  std::string model, output;
  mlir::kiln::OnnxImportOptions options;
  bool summary = false, stats = false, cleanup = true, locations = false;
};
} // namespace

/// Parses the import command line; prints the problem and returns false on
/// a bad one.
static bool parseArgs(llvm::ArrayRef<llvm::StringRef> args, ImportArgs &out, bool &help) {
  ArgParser p("import", args);
  while (!p.done() && !p.failed()) {
    if (p.flag("-h") || p.flag("--help")) {
      help = true;
      return true;
    }
    if (p.flag("--summary")) {
      out.summary = true;
    } else if (p.flag("--stats")) {
      out.stats = true;
    } else if (p.flag("--no-cleanup")) {
      out.cleanup = false;
    } else if (p.flag("--locations")) {
      out.locations = true;
    } else if (auto v = p.value("-o")) {
      out.output = v->str();
    } else if (auto v = p.value("--input-shape")) {
      std::string problem = mlir::kiln::parseInputShapes(*v, out.options);
      if (!problem.empty())
        p.error(problem);
    } else if (auto v = p.value("--dim")) {
      std::string problem = mlir::kiln::parseNamedDims(*v, out.options);
      if (!problem.empty())
        p.error(problem);
    } else if (p.current().starts_with("-")) {
      p.error("unknown option '" + p.current().str() + "'; see `kiln import --help`");
    } else if (out.model.empty()) {
      out.model = p.current().str();
      p.next();
    } else {
      p.error("more than one model given ('" + out.model + "' and '" + p.current().str() + "')");
    }
  }
  if (!p.failed() && out.model.empty())
    p.error("no model given; usage: kiln import <model.onnx> [-o out.mlir]");
  if (p.failed()) {
    p.report();
    return false;
  }
  return true;
}

int kilncli::runImport(llvm::ArrayRef<llvm::StringRef> rawArgs) {
  ImportArgs args;
  bool help = false;
  if (!parseArgs(rawArgs, args, help))
    return 2;
  if (help) {
    printImportHelp();
    return 0;
  }

  MLIRContext context;
  CliDiagnostics diagnostics(context);
  auto start = std::chrono::steady_clock::now();
  OwningOpRef<ModuleOp> module =
      args.cleanup ? mlir::kiln::importAndCleanUp(args.model, context, args.options)
                   : mlir::kiln::importOnnxModel(args.model, context, args.options);
  if (!module || failed(verify(*module)) || diagnostics.errorCount()) {
    llvm::errs() << "kiln import: failed to import '" << args.model << "'\n";
    return 1;
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  if (!args.output.empty() || !args.summary) {
    std::string path = args.output.empty() ? "-" : args.output;
    std::error_code error;
    // ToolOutputFile removes a partly written file unless keep() is called.
    llvm::ToolOutputFile file(path, error, llvm::sys::fs::OF_None);
    if (error) {
      llvm::errs() << "kiln import: error: cannot write '" << path
                   << "': " << error.message() << "\n";
      return 1;
    }
    OpPrintingFlags flags;
    flags.elideLargeResourceString(~0ULL); // keep weights: the file must round-trip
    if (args.locations)
      flags.enableDebugInfo(/*enable=*/true, /*prettyForm=*/false);
    module->print(file.os(), flags);
    file.os().flush();
    if (file.os().has_error()) {
      llvm::errs() << "kiln import: error: writing '" << path << "' failed\n";
      file.os().clear_error();
      return 1;
    }
    file.keep();
  }
  if (args.summary) {
    llvm::outs() << "model: " << args.model << "\n";
    mlir::kiln::printModuleSummary(*module, llvm::outs());
  }
  if (args.stats) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    llvm::errs() << llvm::format("import time: %.2f s, peak RSS: %.0f MiB\n", seconds,
                                 usage.ru_maxrss / 1024.0);
  }
  return 0;
}
