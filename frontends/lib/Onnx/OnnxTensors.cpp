//===- OnnxTensors.cpp - ONNX data types and TensorProto contents ---------===//

#include "OnnxTensors.h"
#include "kiln/Dialect/Kiln/KilnShapeUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace mlir;
using namespace mlir::kiln::onnx_import;

/// Float tensors with more elements than this become resource blobs, so
/// weights are never printed element by element nor expanded by folders.
/// Integer tensors stay dense up to a larger size: they are the shape and
/// index constants that folding needs to see.
static constexpr int64_t kMaxDenseFloatElements = 16;
static constexpr int64_t kMaxDenseIntElements = 1024;

Type mlir::kiln::onnx_import::getElementType(MLIRContext *context, int32_t onnxType) {
  Builder b(context);
  switch (onnxType) {
  case onnx::TensorProto::FLOAT: return b.getF32Type();
  case onnx::TensorProto::DOUBLE: return b.getF64Type();
  case onnx::TensorProto::FLOAT16: return b.getF16Type();
  case onnx::TensorProto::BFLOAT16: return b.getBF16Type();
  case onnx::TensorProto::BOOL: return b.getI1Type();
  case onnx::TensorProto::INT8: return b.getIntegerType(8);
  case onnx::TensorProto::INT16: return b.getIntegerType(16);
  case onnx::TensorProto::INT32: return b.getI32Type();
  case onnx::TensorProto::INT64: return b.getI64Type();
  case onnx::TensorProto::UINT8: return b.getIntegerType(8, /*isSigned=*/false);
  case onnx::TensorProto::UINT16: return b.getIntegerType(16, false);
  case onnx::TensorProto::UINT32: return b.getIntegerType(32, false);
  case onnx::TensorProto::UINT64: return b.getIntegerType(64, false);
  default: return {};
  }
}

std::string mlir::kiln::onnx_import::dataTypeName(int32_t onnxType) {
  if (onnx::TensorProto::DataType_IsValid(onnxType))
    return onnx::TensorProto::DataType_Name((onnx::TensorProto::DataType)onnxType);
  // Types newer than the onnx.proto Kiln is built against (IR 9 to 11).
  switch (onnxType) {
  case 17: return "FLOAT8E4M3FN";
  case 18: return "FLOAT8E4M3FNUZ";
  case 19: return "FLOAT8E5M2";
  case 20: return "FLOAT8E5M2FNUZ";
  case 21: return "UINT4";
  case 22: return "INT4";
  case 23: return "FLOAT4E2M1";
  case 24: return "FLOAT8E8M0";
  default: return "data type " + std::to_string(onnxType);
  }
}

/// Bytes of one element as ONNX stores it in raw_data (i1 as one byte).
static int64_t storageBytes(Type elementType) {
  return std::max<int64_t>(1, elementType.getIntOrFloatBitWidth() / 8);
}

/// Reads an external-data tensor's bytes (location/offset/length entries).
static FailureOr<std::string> readExternalData(const onnx::TensorProto &tensor,
                                               StringRef modelDir, Location loc) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const auto &entry : tensor.external_data()) {
    if (entry.key() == "location") {
      location = entry.value();
    } else if (entry.key() == "offset" || entry.key() == "length") {
      int64_t &field = entry.key() == "offset" ? offset : length;
      if (StringRef(entry.value()).getAsInteger(10, field) || field < 0) {
        emitError(loc) << "external data of tensor '" << tensor.name() << "' has a bad "
                       << entry.key() << " '" << entry.value() << "'";
        return failure();
      }
    }
  }
  if (location.empty() || llvm::sys::path::is_absolute(location) ||
      StringRef(location).contains("..")) {
    emitError(loc) << "external data of tensor '" << tensor.name()
                   << "' has a missing or unsafe location '" << location << "'";
    return failure();
  }
  SmallString<256> path(modelDir);
  llvm::sys::path::append(path, location);
  // The file must resolve, links followed, to a regular file inside the
  // model's folder (resolved too): a link beside the model to /etc/passwd
  // must not end up in the compiled library. It is opened without blocking
  // and checked after opening, so that a FIFO or a device is an error, not
  // a hang.
  auto cannotRead = [&](const Twine &why) {
    emitError(loc) << "external data file '" << path << "' of tensor '" << tensor.name()
                   << "' cannot be read: " << why;
    return failure();
  };
  SmallString<256> folder, resolved;
  if (std::error_code error = llvm::sys::fs::real_path(modelDir.empty() ? "." : modelDir, folder))
    return cannotRead(error.message());
  if (std::error_code error = llvm::sys::fs::real_path(path, resolved))
    return cannotRead(error.message());
  SmallString<256> folderPrefix(folder);
  if (!folderPrefix.ends_with("/"))
    folderPrefix += '/';
  if (resolved != folder && !StringRef(resolved).starts_with(folderPrefix))
    return cannotRead(Twine("it resolves to '") + resolved + "', outside the model's folder '" +
                      folder + "'");
  int fd = ::open(resolved.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    return cannotRead(std::error_code(errno, std::generic_category()).message());
  llvm::scope_exit closeFile([&] { ::close(fd); });
  struct stat status;
  if (::fstat(fd, &status) != 0)
    return cannotRead(std::error_code(errno, std::generic_category()).message());
  if (!S_ISREG(status.st_mode))
    return cannotRead("it is not a regular file");
  uint64_t fileSize = status.st_size;
  if (length < 0)
    length = offset <= (int64_t)fileSize ? (int64_t)fileSize - offset : 0;
  if ((uint64_t)offset > fileSize || (uint64_t)length > fileSize - offset) {
    emitError(loc) << "external data of tensor '" << tensor.name() << "' (offset " << offset
                   << ", length " << length << ") lies outside '" << path << "' ("
                   << fileSize << " bytes)";
    return failure();
  }
  auto buffer = llvm::MemoryBuffer::getOpenFileSlice(fd, resolved, length, offset);
  if (!buffer)
    return cannotRead(buffer.getError().message());
  return (*buffer)->getBuffer().str();
}

/// Appends the typed-field contents of `tensor` (int32_data, float_data, ...)
/// as little-endian raw bytes of `elementType`.
static LogicalResult typedFieldsToRaw(const onnx::TensorProto &tensor, Type elementType,
                                      int64_t count, std::string &raw, Location loc) {
  auto appendAs = [&](auto value, auto tag) {
    using T = decltype(tag);
    T v = static_cast<T>(value);
    raw.append(reinterpret_cast<const char *>(&v), sizeof(T));
  };
  int64_t width = elementType.getIntOrFloatBitWidth();
  bool isFloat = isa<FloatType>(elementType);
  int64_t available = 0;
  if (isFloat && width == 32) {
    available = tensor.float_data_size();
    for (float v : tensor.float_data()) appendAs(v, float());
  } else if (isFloat && width == 64) {
    available = tensor.double_data_size();
    for (double v : tensor.double_data()) appendAs(v, double());
  } else if (isFloat && width == 16) {
    // float16/bfloat16 bits are stored in int32_data.
    available = tensor.int32_data_size();
    for (int32_t v : tensor.int32_data()) appendAs(v, uint16_t());
  } else if (!isFloat && width == 64) {
    bool isUnsigned = elementType.isUnsignedInteger();
    available = isUnsigned ? tensor.uint64_data_size() : tensor.int64_data_size();
    if (isUnsigned)
      for (uint64_t v : tensor.uint64_data()) appendAs(v, uint64_t());
    else
      for (int64_t v : tensor.int64_data()) appendAs(v, int64_t());
  } else if (!isFloat && width == 32 && elementType.isUnsignedInteger()) {
    available = tensor.uint64_data_size();
    for (uint64_t v : tensor.uint64_data()) appendAs(v, uint32_t());
  } else if (!isFloat) {
    available = tensor.int32_data_size();
    for (int32_t v : tensor.int32_data()) {
      if (width <= 8) appendAs(v, uint8_t());
      else if (width == 16) appendAs(v, uint16_t());
      else appendAs(v, int32_t());
    }
  }
  if (available != count) {
    emitError(loc) << "tensor '" << tensor.name() << "' holds " << available
                   << " values, its shape needs " << count;
    return failure();
  }
  return success();
}

ElementsAttr mlir::kiln::onnx_import::convertTensor(onnx::TensorProto &tensor,
                                                    StringRef name, StringRef modelDir,
                                                    Location loc) {
  MLIRContext *context = loc.getContext();
  Type elementType = getElementType(context, tensor.data_type());
  if (!elementType) {
    emitError(loc) << "tensor '" << tensor.name() << "' has unsupported data type "
                   << dataTypeName(tensor.data_type());
    return {};
  }
  SmallVector<int64_t> shape;
  int64_t count = 1;
  for (int64_t d : tensor.dims()) {
    if (d < 0 || (d > 0 && count > kMaxTensorElements / d)) {
      emitError(loc) << "tensor '" << tensor.name() << "' has invalid dims";
      return {};
    }
    shape.push_back(d);
    count *= d;
  }
  auto type = RankedTensorType::get(shape, elementType);
  int64_t bytes = count * storageBytes(elementType);

  std::string raw;
  if (tensor.data_location() == onnx::TensorProto::EXTERNAL) {
    auto external = readExternalData(tensor, modelDir, loc);
    if (failed(external))
      return {};
    raw = std::move(*external);
  } else if (tensor.has_raw_data()) {
    raw.swap(*tensor.mutable_raw_data());
  } else if (failed(typedFieldsToRaw(tensor, elementType, count, raw, loc))) {
    return {};
  }
  if ((int64_t)raw.size() != bytes) {
    emitError(loc) << "tensor '" << tensor.name() << "' holds " << raw.size()
                   << " bytes, its shape " << type << " needs " << bytes;
    return {};
  }

  int64_t maxDense = isa<FloatType>(elementType) ? kMaxDenseFloatElements
                                                 : kMaxDenseIntElements;
  if (count > maxDense && !elementType.isInteger(1)) {
    AsmResourceBlob blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
        ArrayRef<char>(raw.data(), raw.size()), alignof(std::max_align_t));
    return DenseResourceElementsAttr::get(type, name, std::move(blob));
  }
  if (elementType.isInteger(1)) {
    SmallVector<bool> values;
    for (char c : raw)
      values.push_back(c != 0);
    return DenseElementsAttr::get(type, values);
  }
  bool detectedSplat = false;
  if (!DenseElementsAttr::isValidRawBuffer(type, ArrayRef<char>(raw.data(), raw.size()),
                                           detectedSplat)) {
    emitError(loc) << "tensor '" << tensor.name() << "' has malformed data";
    return {};
  }
  return DenseElementsAttr::getFromRawBuffer(type, ArrayRef<char>(raw.data(), raw.size()));
}
