//===- InspectCommand.cpp - kiln inspect: what a model or an artifact holds -===//
//
// For an ONNX model (or kiln IR): its signature, ops and weights, its FLOPs
// per op type, and the pass pipeline `kiln compile -O<n>` would run. For a
// compiled library: the table it exports (kiln_abi.h; read directly, no
// runtime needed): producer, target CPU and the x86 features it needs,
// signature, the ONNX nodes it times per op type, and the pipeline that
// built it.
//
//===----------------------------------------------------------------------===//

#include "ArgParser.h"
#include "CliDiagnostics.h"
#include "Commands.h"
#include "kiln/Compiler/Compile.h"
#include "kiln/Compiler/FlopCount.h"
#include "kiln/Compiler/Import.h"
#include "kiln/Compiler/ModuleSummary.h"
#include "kiln/kiln.h"
#include "kiln/kiln_abi.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/Support/raw_ostream.h"
#include <dlfcn.h>

using namespace mlir;
using namespace kilncli;

namespace {
struct InspectArgs {
  std::string model;
  mlir::kiln::OnnxImportOptions importOptions;
  int optLevel = 2;
};
} // namespace

void kilncli::printInspectHelp() {
  llvm::outs() << R"(Usage: kiln inspect <model.onnx | model.so> [options]

For an ONNX model: its inputs and outputs, ops and weights, FLOPs per ONNX op
type, and the pass pipeline `kiln compile` runs on it. For a library built by
`kiln compile`: its producer, signature, the ONNX nodes it profiles per op
type, and the pass pipeline that built it.

Options:
  --input-shape <n=DxD,...>    Specialise symbolic input dims (FLOPs of ops
                               with `?` dims cannot be counted otherwise).
  -O0, -O1, -O2, -O3           The level whose pipeline to show (default -O2).
  -h, --help                   Show this help.
)";
}

static bool parseArgs(llvm::ArrayRef<llvm::StringRef> args, InspectArgs &out, bool &help) {
  ArgParser p("inspect", args);
  while (!p.done() && !p.failed()) {
    if (p.flag("-h") || p.flag("--help")) {
      help = true;
      return true;
    }
    llvm::StringRef arg = p.current();
    if (arg.size() == 3 && arg.starts_with("-O") && arg[2] >= '0' && arg[2] <= '3') {
      out.optLevel = arg[2] - '0';
      p.next();
    } else if (auto v = p.value("--input-shape")) {
      std::string problem = mlir::kiln::parseInputShapes(*v, out.importOptions);
      if (!problem.empty())
        p.error(problem);
    } else if (arg.starts_with("-")) {
      p.error("unknown option '" + arg.str() + "'; see `kiln inspect --help`");
    } else if (out.model.empty()) {
      out.model = arg.str();
      p.next();
    } else {
      p.error("more than one model given ('" + out.model + "' and '" + arg.str() + "')");
    }
  }
  if (!p.failed() && out.model.empty())
    p.error("no model given; usage: kiln inspect <model.onnx | model.so>");
  if (p.failed()) {
    p.report();
    return false;
  }
  return true;
}

static void printTensor(const char *kind, const kiln_abi_tensor &t) {
  llvm::outs() << "    " << kind << " " << t.name << ": " << kiln_dtype_name(t.dtype) << " [";
  for (int32_t d = 0; d < t.rank; ++d) {
    if (d)
      llvm::outs() << ",";
    if (t.dims[d] >= 0)
      llvm::outs() << t.dims[d];
    else
      llvm::outs() << (t.dim_names && t.dim_names[d][0] ? t.dim_names[d] : "?");
  }
  llvm::outs() << "]\n";
}

/// The table of a compiled library, read with dlopen (the library runs no
/// code of its own at load: it has no constructors).
static int inspectLibrary(const std::string &path) {
  // dlopen() searches the library path for a name without '/'.
  std::string openPath = path.find('/') == std::string::npos ? "./" + path : path;
  void *handle = dlopen(openPath.c_str(), RTLD_LOCAL | RTLD_NOW);
  if (!handle) {
    llvm::errs() << "kiln inspect: error: cannot load '" << path << "': " << dlerror() << "\n";
    return 1;
  }
  auto accessor = reinterpret_cast<kiln_model_abi_fn>(dlsym(handle, KILN_MODEL_ABI_SYMBOL));
  if (!accessor) {
    llvm::errs() << "kiln inspect: error: '" << path << "' is not a Kiln model (no "
                 << KILN_MODEL_ABI_SYMBOL << ")\n";
    dlclose(handle);
    return 1;
  }
  const kiln_model_abi *abi = accessor();
  if (!abi || abi->abi_version < KILN_ABI_VERSION_OLDEST || abi->abi_version > KILN_ABI_VERSION) {
    llvm::errs() << "kiln inspect: error: '" << path << "' has model ABI version "
                 << (abi ? abi->abi_version : 0) << "; this kiln reads versions "
                 << KILN_ABI_VERSION_OLDEST << " to " << KILN_ABI_VERSION << "\n";
    dlclose(handle);
    return 1;
  }
  llvm::outs() << "library: " << path << "\nproducer: " << abi->producer << "\n";
  // What kiln_model_load checks the CPU for (kiln_x86_features.def).
  llvm::outs() << "target: " << (abi->target_cpu ? abi->target_cpu : "?") << ", needs "
               << (abi->target_features && abi->target_features[0] ? abi->target_features
                                                                     : "no checked features")
               << "\nsignature:\n";
  for (uint32_t i = 0; i < abi->num_inputs; ++i)
    printTensor("input ", abi->inputs[i]);
  for (uint32_t i = 0; i < abi->num_outputs; ++i)
    printTensor("output", abi->outputs[i]);
  llvm::MapVector<llvm::StringRef, unsigned> nodes;
  for (uint32_t i = 0; i < abi->num_regions; ++i)
    ++nodes[abi->regions[i].op_type];
  llvm::sort(nodes, [](auto &a, auto &b) { return a.second > b.second; });
  llvm::outs() << "profiled ONNX nodes: " << abi->num_regions << "\n";
  for (auto &[type, count] : nodes)
    llvm::outs() << "    " << type << ": " << count << "\n";
  llvm::outs() << "pipeline: " << abi->pipeline << "\n";
  dlclose(handle);
  return 0;
}

int kilncli::runInspect(llvm::ArrayRef<llvm::StringRef> rawArgs) {
  InspectArgs args;
  bool help = false;
  if (!parseArgs(rawArgs, args, help))
    return 2;
  if (help) {
    printInspectHelp();
    return 0;
  }
  if (llvm::StringRef(args.model).ends_with(".so"))
    return inspectLibrary(args.model);

  MLIRContext context;
  CliDiagnostics diagnostics(context);
  OwningOpRef<ModuleOp> module =
      mlir::kiln::importAndCleanUp(args.model, context, args.importOptions);
  if (!module || failed(verify(*module))) {
    llvm::errs() << "kiln inspect: failed to read '" << args.model << "'\n";
    return 1;
  }
  llvm::outs() << "model: " << args.model << "\n";
  mlir::kiln::printModuleSummary(*module, llvm::outs());
  mlir::kiln::printFlopsByOpType(*module, llvm::outs());
  mlir::kiln::CompileOptions options;
  options.optLevel = args.optLevel;
  llvm::outs() << "pipeline (-O" << args.optLevel
               << "): " << mlir::kiln::loweringPipeline(options) << "\n";
  return 0;
}
