//===- RunCommand.cpp - kiln run: hand over to kiln-run -------------------===//
//
// Running a model needs only the runtime, so `kiln run` is the runtime's own
// kiln-run tool (runtime/tools/kiln_run.cpp), found next to this binary. The
// compiler binary stays free of the runtime, and the runtime of LLVM.
// `kiln bench` (BenchCommand.cpp) hands over to kiln-bench the same way,
// through execRuntimeTool below.
//
//===----------------------------------------------------------------------===//

#include "CliDiagnostics.h"
#include "Commands.h"
#include "kiln/Compiler/Driver.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
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

/// `--compare model.onnx`: the reference is Kiln's own unoptimized (-O0)
/// fp32 build of the model, compiled here into a temporary folder, and
/// kiln-run compares against that library. Returns the index of the value
/// in `args` (or -1) and the model path.
static int compareModelArgument(llvm::ArrayRef<llvm::StringRef> args, std::string &model,
                                bool &joined) {
  for (size_t i = 0; i < args.size(); ++i) {
    llvm::StringRef arg = args[i];
    if (arg.consume_front("--compare=")) {
      model = arg.str();
      joined = true;
    } else if (arg == "--compare" && i + 1 < args.size()) {
      model = args[i + 1].str();
      joined = false;
    } else {
      continue;
    }
    if (!llvm::StringRef(model).ends_with(".onnx"))
      return -1; // a library: kiln-run compares against it as it is
    return joined ? (int)i : (int)i + 1;
  }
  return -1;
}

int kilncli::runRun(llvm::ArrayRef<llvm::StringRef> args) {
  std::string model;
  bool joined = false;
  int at = compareModelArgument(args, model, joined);
  if (at < 0)
    return execRuntimeTool(kKilnRun, args);

  llvm::SmallString<128> folder;
  if (std::error_code ec = llvm::sys::fs::createUniqueDirectory("kiln-compare", folder)) {
    llvm::errs() << "kiln run: error: cannot create a temporary folder: " << ec.message() << "\n";
    return 1;
  }
  mlir::kiln::CompileJob job;
  job.model = model;
  job.output = (folder + "/reference.so").str();
  job.options.optLevel = 0;
  int status;
  {
    mlir::MLIRContext context;
    CliDiagnostics diagnostics(context);
    llvm::outs() << "reference: " << model << " compiled by Kiln at -O0 (fp32)\n";
    llvm::outs().flush();
    if (failed(mlir::kiln::runCompileJob(job, context))) {
      llvm::errs() << "kiln run: error: cannot compile the --compare model '" << model << "'\n";
      llvm::sys::fs::remove_directories(folder);
      return 1;
    }
  }
  std::string runner = siblingPath(kKilnRun.binary);
  std::vector<std::string> storage{runner};
  for (size_t i = 0; i < args.size(); ++i)
    storage.push_back((int)i == at ? (joined ? "--compare=" + job.output : job.output)
                                   : args[i].str());
  llvm::SmallVector<llvm::StringRef> argv(storage.begin(), storage.end());
  std::string error;
  status = llvm::sys::ExecuteAndWait(runner, argv, std::nullopt, {}, 0, 0, &error);
  llvm::sys::fs::remove_directories(folder);
  if (status < 0) {
    llvm::errs() << "kiln run: error: cannot run '" << runner << "': " << error << "\n";
    return 1;
  }
  return status;
}
