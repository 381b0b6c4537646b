//===- main.cpp - The kiln command line ------------------------------------===//
//
// `kiln <command> ...`: thin front doors over compiler/ and the runtime.
// Each command lives in its own file.
//
//===----------------------------------------------------------------------===//

#include "AsanDefaults.h"
#include "Commands.h"
#include "kiln/kiln.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/raw_ostream.h"

using namespace kilncli;

static void printHelp() {
  llvm::outs() << R"(kiln - an ahead-of-time compiler for ONNX Transformer models

Usage: kiln <command> [options]

Commands:
  import   Read an ONNX model into the kiln dialect (MLIR), or summarise it
  compile  Compile an ONNX model (or kiln IR) to a shared library for the CPU
  run      Run a compiled model on .npy/.pb or random inputs (kiln-run)
  bench    Time a compiled model: latency, throughput, peak RSS (kiln-bench)
  inspect  Show a model's or a library's ops, weights, FLOPs and pass pipeline
  help     Show this help, or a command's help: kiln help <command>

Run `kiln <command> --help` for a command's options; `kiln --version` for the
version of Kiln, its model ABI and the LLVM/MLIR it was built with.
)";
}

int main(int argc, char **argv) {
  llvm::SmallVector<llvm::StringRef> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    printHelp();
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    // The runtime's version macros (kiln.h) are the project's version.
    llvm::outs() << "kiln " << KILN_RUNTIME_VERSION_MAJOR << "." << KILN_RUNTIME_VERSION_MINOR
                 << "." << KILN_RUNTIME_VERSION_PATCH << " (model ABI " << KILN_ABI_VERSION
                 << ", LLVM/MLIR " << LLVM_VERSION_STRING << ")\n";
    return 0;
  }
  llvm::StringRef command = args[0];
  llvm::ArrayRef<llvm::StringRef> rest = llvm::ArrayRef(args).drop_front();
  if (command == "help") {
    if (!rest.empty() && rest[0] == "import")
      printImportHelp();
    else if (!rest.empty() && rest[0] == "compile")
      printCompileHelp();
    else if (!rest.empty() && rest[0] == "run")
      printRunHelp();
    else if (!rest.empty() && rest[0] == "bench")
      printBenchHelp();
    else if (!rest.empty() && rest[0] == "inspect")
      printInspectHelp();
    else
      printHelp();
    return 0;
  }
  if (command == "import")
    return runImport(rest);
  if (command == "compile")
    return runCompile(rest);
  if (command == "run")
    return runRun(rest);
  if (command == "bench")
    return runBench(rest);
  if (command == "inspect")
    return runInspect(rest);
  llvm::errs() << "kiln: error: unknown command '" << command
               << "'; run `kiln --help` for the list\n";
  return 2;
}
