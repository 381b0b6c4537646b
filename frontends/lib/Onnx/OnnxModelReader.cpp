//===- OnnxModelReader.cpp - Read and validate an ONNX protobuf file ------===//
//
// Everything that can be wrong with the file itself — missing, truncated,
// not protobuf, not a model, an opset out of range — is reported here with
// the file's name, before any graph is imported. Models at old opsets (7..12)
// are converted to opset 13 here.
//
//===----------------------------------------------------------------------===//

#include "OnnxModelReader.h"
#include "OpsetConversion.h"
#include "kiln/Frontends/Onnx/OnnxImporter.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/MemoryBuffer.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

using namespace mlir;
using namespace mlir::kiln;
using namespace mlir::kiln::onnx_import;

std::unique_ptr<onnx::ModelProto>
mlir::kiln::onnx_import::readOnnxModel(StringRef path, MLIRContext &context,
                                       int64_t &opset) {
  Location fileLoc = FileLineColLoc::get(&context, path, 0, 0);
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer) {
    emitError(fileLoc) << "cannot open the model: " << buffer.getError().message();
    return nullptr;
  }
  StringRef bytes = (*buffer)->getBuffer();
  if (bytes.size() >= (size_t)INT32_MAX) {
    emitError(fileLoc) << "the model is " << bytes.size() << " bytes; protobuf files are limited to 2 GB, so store "
                          "the weights as external data";
    return nullptr;
  }

  if (bytes.starts_with("\x7f" "ELF")) {
    emitError(fileLoc) << "this is a shared library (an ELF file), not an ONNX model: a model "
                          "that `kiln compile` made runs with `kiln run` (or the runtime API)";
    return nullptr;
  }
  auto model = std::make_unique<onnx::ModelProto>();
  google::protobuf::io::ArrayInputStream raw(bytes.data(), (int)bytes.size());
  google::protobuf::io::CodedInputStream coded(&raw);
  coded.SetTotalBytesLimit(INT32_MAX);
  if (!model->ParseFromCodedStream(&coded) || !coded.ConsumedEntireMessage()) {
    emitError(fileLoc) << "not a valid ONNX model: the protobuf data is "
                          "truncated or malformed";
    return nullptr;
  }
  // Random bytes can parse as a protobuf of unknown fields; a model always
  // has an IR version and a graph.
  if (model->ir_version() <= 0 || !model->has_graph()) {
    emitError(fileLoc) << "not an ONNX model (it has no IR version or no graph)";
    return nullptr;
  }

  opset = -1;
  for (const onnx::OperatorSetIdProto &entry : model->opset_import())
    if (entry.domain().empty() || entry.domain() == "ai.onnx")
      opset = entry.version();
  if (opset < 0) {
    emitError(fileLoc) << "the model imports no opset of the default ONNX domain";
    return nullptr;
  }
  if (opset < kOldestConvertedOnnxOpset || opset > kMaxOnnxOpset) {
    emitError(fileLoc) << "the model uses ONNX opset " << opset
                       << "; Kiln supports opsets " << kMinOnnxOpset << " to "
                       << kMaxOnnxOpset << ", and converts opsets "
                       << kOldestConvertedOnnxOpset << " to " << kMinOnnxOpset - 1
                       << " to opset " << kConvertedToOnnxOpset;
    return nullptr;
  }
  static_assert(kConvertedToOnnxOpset == kMinOnnxOpset);
  if (opset < kMinOnnxOpset) {
    if (failed(convertToOpset13(*model, opset, fileLoc)))
      return nullptr;
    opset = kConvertedToOnnxOpset;
  }
  return model;
}
