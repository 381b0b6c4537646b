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

} // namespace kilncli

#endif // KILN_TOOLS_KILN_COMMANDS_H
