//===- BenchCommand.cpp - kiln bench: hand over to kiln-bench -------------===//
//
// Timing a model needs only the runtime, so `kiln bench` is the runtime's
// kiln-bench tool (runtime/tools/kiln_bench.cpp), found next to this binary
// exactly as `kiln run` finds kiln-run (RunCommand.cpp).
//
//===----------------------------------------------------------------------===//

#include "Commands.h"

using namespace kilncli;

static const RuntimeTool kKilnBench{"bench", "kiln-bench", "the runtime's benchmark tool"};

void kilncli::printBenchHelp() { printRuntimeToolHelp(kKilnBench); }

int kilncli::runBench(llvm::ArrayRef<llvm::StringRef> args) {
  return execRuntimeTool(kKilnBench, args);
}
