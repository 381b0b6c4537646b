//===- Commands.h - kiln subcommands ----------------------------*- C++ -*-===//
#ifndef KILN_TOOLS_KILN_COMMANDS_H
#define KILN_TOOLS_KILN_COMMANDS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

namespace kilncli {

/// Each subcommand gets the arguments after its name and returns the exit code.
int runImport(llvm::ArrayRef<llvm::StringRef> args);
void printImportHelp();
int runCompile(llvm::ArrayRef<llvm::StringRef> args);
void printCompileHelp();
/// `kiln run` replaces this process with kiln-run from the same folder.
int runRun(llvm::ArrayRef<llvm::StringRef> args);
void printRunHelp();
/// `kiln bench` replaces this process with kiln-bench from the same folder.
int runBench(llvm::ArrayRef<llvm::StringRef> args);
void printBenchHelp();
int runInspect(llvm::ArrayRef<llvm::StringRef> args);
void printInspectHelp();

/// A runtime tool that a `kiln` command hands over to (RunCommand.cpp).
struct RuntimeTool {
  const char *command;     ///< "run": the `kiln` subcommand
  const char *binary;      ///< "kiln-run": found in the folder of `kiln` itself
  const char *description; ///< "the runtime's runner", for the error message
};
/// Replaces this process with the tool, passing `args` on; returns (1, after
/// a one-line error) only if the tool cannot be started.
int execRuntimeTool(const RuntimeTool &tool, llvm::ArrayRef<llvm::StringRef> args);
/// Replaces this process with `<tool> --help`; prints an error if it cannot.
void printRuntimeToolHelp(const RuntimeTool &tool);

} // namespace kilncli

#endif // KILN_TOOLS_KILN_COMMANDS_H
