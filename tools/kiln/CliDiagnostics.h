//===- CliDiagnostics.h - How kiln prints MLIR diagnostics ------*- C++ -*-===//
#ifndef KILN_TOOLS_KILN_CLIDIAGNOSTICS_H
#define KILN_TOOLS_KILN_CLIDIAGNOSTICS_H

#include "mlir/IR/Diagnostics.h"

namespace kilncli {

/// Prints every diagnostic as one paragraph on stderr: where (the model file,
/// or the ONNX node by name) and what. Counts errors.
class CliDiagnostics {
public:
  explicit CliDiagnostics(mlir::MLIRContext &context);
  int errorCount() const { return errors; }

private:
  mlir::ScopedDiagnosticHandler handler;
  int errors = 0;
};

} // namespace kilncli

#endif // KILN_TOOLS_KILN_CLIDIAGNOSTICS_H
