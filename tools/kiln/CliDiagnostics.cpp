//===- CliDiagnostics.cpp - How kiln prints MLIR diagnostics --------------===//

#include "CliDiagnostics.h"
#include "kiln/Compiler/Driver.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace kilncli;

CliDiagnostics::CliDiagnostics(MLIRContext &context)
    : handler(&context, [this](Diagnostic &diag) {
        if (diag.getSeverity() == DiagnosticSeverity::Error)
          ++errors;
        llvm::errs() << "kiln: " << mlir::kiln::formatDiagnostic(diag) << "\n";
        return success();
      }) {}
