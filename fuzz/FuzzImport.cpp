//===- FuzzImport.cpp - libFuzzer target: ONNX bytes to verified kiln IR --===//
//
// Each input is written to a .onnx file in a private temporary directory and
// imported with mlir::kiln::importOnnxModel, the entry `kiln import` and
// `kiln compile` use (OnnxModelReader's checks and limits included); a
// module it returns is verified and printed. Any crash, sanitizer report,
// leak, or hang is a bug, and so is a module that does not verify: the
// importer must report problems as diagnostics, not build invalid IR.
//
// Diagnostics are kept quiet, and printed with a module that does not
// verify (set KILN_FUZZ_VERBOSE=1 to print them all). Not run: the graph
// clean-up of `kiln compile` (canonicalization, shape inference) and
// everything after it; import options (--input-shape) are not varied.
//
//===----------------------------------------------------------------------===//

#include "kiln/Frontends/Onnx/OnnxImporter.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

namespace {

/// A file in a fresh directory of its own, so external-data locations the
/// input names resolve next to it and find nothing else.
const std::string &modelPath() {
  static const std::string path = [] {
    const char *tmp = std::getenv("TMPDIR");
    std::string dir = std::string(tmp && *tmp ? tmp : "/tmp") + "/kiln-fuzz-import.XXXXXX";
    if (!mkdtemp(dir.data())) {
      std::perror("kiln-fuzz-import: mkdtemp");
      std::abort();
    }
    return dir + "/model.onnx";
  }();
  return path;
}

bool verbose() {
  static const bool value = [] {
    const char *v = std::getenv("KILN_FUZZ_VERBOSE");
    return v && *v && *v != '0';
  }();
  return value;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string &path = modelPath();
  FILE *file = std::fopen(path.c_str(), "wb");
  if (!file || (size && std::fwrite(data, 1, size, file) != size) || std::fclose(file) != 0) {
    std::perror("kiln-fuzz-import: writing the model");
    std::abort();
  }

  mlir::MLIRContext context(mlir::MLIRContext::Threading::DISABLED);
  std::string diagnostics;
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &diag) {
    if (verbose())
      llvm::errs() << diag << "\n";
    else
      llvm::raw_string_ostream(diagnostics) << diag << "\n";
    return mlir::success();
  });
  mlir::kiln::OnnxImportOptions options;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::kiln::importOnnxModel(path, context, options);
  if (!module)
    return 0;
  if (mlir::failed(mlir::verify(*module))) {
    llvm::errs() << "kiln-fuzz-import: the importer returned a module that does not verify:\n"
                 << diagnostics;
    module->print(llvm::errs());
    std::abort();
  }
  module->print(llvm::nulls());
  return 0;
}
