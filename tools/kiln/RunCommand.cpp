//===- RunCommand.cpp - kiln run: hand over to kiln-run -------------------===//
//
// Running a model needs only the runtime, so `kiln run` is the runtime's own
// kiln-run tool (runtime/tools/kiln_run.cpp), found next to this binary. The
// compiler binary stays free of the runtime, and the runtime of LLVM.
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

static std::string kilnRunPath() {
  static int anchor;
  std::string self = llvm::sys::fs::getMainExecutable("kiln", &anchor);
  llvm::SmallString<256> path(llvm::sys::path::parent_path(self));
  llvm::sys::path::append(path, "kiln-run");
  return std::string(path);
}

void kilncli::printRunHelp() {
  std::string path = kilnRunPath();
  char *argv[] = {path.data(), const_cast<char *>("--help"), nullptr};
  execv(path.c_str(), argv);
  llvm::errs() << "kiln run: error: cannot start '" << path << "': " << strerror(errno) << "\n";
}

int kilncli::runRun(llvm::ArrayRef<llvm::StringRef> args) {
  std::string path = kilnRunPath();
  std::vector<std::string> storage{path};
  for (llvm::StringRef arg : args)
    storage.push_back(arg.str());
  std::vector<char *> argv;
  for (std::string &arg : storage)
    argv.push_back(arg.data());
  argv.push_back(nullptr);
  llvm::outs().flush();
  execv(path.c_str(), argv.data());
  llvm::errs() << "kiln run: error: cannot start '" << path << "' (the runtime's runner, "
               << "installed next to kiln): " << strerror(errno) << "\n";
  return 1;
}
