//===- CliDiagnostics.cpp - How kiln prints MLIR diagnostics --------------===//

#include "CliDiagnostics.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Location.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace kilncli;

/// "model.onnx", "node 'Add_3'", or the location as MLIR prints it.
static std::string describe(Location loc) {
  if (auto name = dyn_cast<NameLoc>(loc))
    return "node '" + name.getName().str() + "'";
  if (auto file = dyn_cast<FileLineColLoc>(loc)) {
    if (file.getLine() == 0)
      return file.getFilename().str();
    return (file.getFilename().getValue() + ":" + llvm::Twine(file.getLine()) + ":" +
            llvm::Twine(file.getColumn()))
        .str();
  }
  if (isa<UnknownLoc>(loc))
    return "";
  std::string text;
  llvm::raw_string_ostream os(text);
  loc.print(os);
  return text;
}

static StringRef severityName(DiagnosticSeverity severity) {
  switch (severity) {
  case DiagnosticSeverity::Error: return "error";
  case DiagnosticSeverity::Warning: return "warning";
  case DiagnosticSeverity::Note: return "note";
  case DiagnosticSeverity::Remark: return "remark";
  }
  return "error";
}

CliDiagnostics::CliDiagnostics(MLIRContext &context)
    : handler(&context, [this](Diagnostic &diag) {
        if (diag.getSeverity() == DiagnosticSeverity::Error)
          ++errors;
        std::string where = describe(diag.getLocation());
        llvm::errs() << "kiln: " << severityName(diag.getSeverity()) << ": "
                     << (where.empty() ? "" : where + ": ") << diag.str() << "\n";
        for (Diagnostic &note : diag.getNotes())
          llvm::errs() << "  note: " << note.str() << "\n";
        return success();
      }) {}
