//===- RunCommand.cpp - kiln run: hand over to kiln-run -------------------===//
//
// Running a model needs only the runtime, so `kiln run` is the runtime's own
// kiln-run tool (runtime/tools/kiln_run.cpp), found next to this binary. The
// compiler binary stays free of the runtime, and the runtime of LLVM.
// `kiln bench` (BenchCommand.cpp) hands over to kiln-bench the same way,
// through execRuntimeTool below.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"
#include <cerrno>
#include <cstring>
#include <string>
#include <unistd.h>

using namespace kilncli;

/// The path of runtime tool `name` (e.g. "kiln-run") in this binary's folder.
static std::string siblingPath(const char *name) {
  static int anchor;
  std::string self = llvm::sys::fs::getMainExecutable("kiln", &anchor);
  llvm::SmallString<256> path(llvm::sys::path::parent_path(self));
  llvm::sys::path::append(path, name);
  return std::string(path);
}

int kilncli::execRuntimeTool(const RuntimeTool &tool, llvm::ArrayRef<llvm::StringRef> args) {
  std::string path = siblingPath(tool.binary);
  std::vector<std::string> storage{path};
  for (llvm::StringRef arg : args)
    storage.push_back(arg.str());
  std::vector<char *> argv;
  for (std::string &arg : storage)
    argv.push_back(arg.data());
  argv.push_back(nullptr);
  llvm::outs().flush();
  execv(path.c_str(), argv.data());
  llvm::errs() << "kiln " << tool.command << ": error: cannot start '" << path << "' ("
               << tool.description << ", installed next to kiln): " << strerror(errno) << "\n";
  return 1;
}

void kilncli::printRuntimeToolHelp(const RuntimeTool &tool) {
  std::string path = siblingPath(tool.binary);
  char *argv[] = {path.data(), const_cast<char *>("--help"), nullptr};
  llvm::outs().flush();
  execv(path.c_str(), argv);
  llvm::errs() << "kiln " << tool.command << ": error: cannot start '" << path
               << "': " << strerror(errno) << "\n";
}

static const RuntimeTool kKilnRun{"run", "kiln-run", "the runtime's runner"};

void kilncli::printRunHelp() { printRuntimeToolHelp(kKilnRun); }

int kilncli::runRun(llvm::ArrayRef<llvm::StringRef> args) {
  return execRuntimeTool(kKilnRun, args);
}
