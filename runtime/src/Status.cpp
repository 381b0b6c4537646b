//===- Status.cpp - Status objects, dtypes, version -----------------------===//

#include "Internal.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

struct kiln_status_s {
  kiln_status_code_t code;
  const char *message; // trailing storage, or a static string
};

namespace {
// Returned when a status cannot be allocated; kiln_status_free ignores it.
kiln_status_s outOfMemory = {KILN_STATUS_RESOURCE_EXHAUSTED, "out of memory"};
} // namespace

kiln_status_t kiln::outOfMemoryStatus() noexcept { return &outOfMemory; }

kiln_status_t kiln::makeStatus(kiln_status_code_t code, const std::string &message) noexcept {
  void *block = std::malloc(sizeof(kiln_status_s) + message.size() + 1);
  if (!block)
    return &outOfMemory;
  auto *status = static_cast<kiln_status_s *>(block);
  char *text = reinterpret_cast<char *>(status + 1);
  std::memcpy(text, message.c_str(), message.size() + 1);
  status->code = code;
  status->message = text;
  return status;
}

std::string kiln::formatv(const char *format, va_list args) {
  va_list copy;
  va_copy(copy, args);
  char small[256];
  int n = std::vsnprintf(small, sizeof small, format, copy);
  va_end(copy);
  if (n < 0)
    return format;
  if (static_cast<size_t>(n) < sizeof small)
    return std::string(small, n);
  std::string out(static_cast<size_t>(n) + 1, '\0');
  std::vsnprintf(&out[0], out.size(), format, args);
  out.resize(n);
  return out;
}

std::string kiln::format(const char *format, ...) {
  va_list args;
  va_start(args, format);
  std::string out = formatv(format, args);
  va_end(args);
  return out;
}

kiln_status_t kiln::makeStatusf(kiln_status_code_t code, const char *format, ...) noexcept {
  try {
    va_list args;
    va_start(args, format);
    std::string message = formatv(format, args);
    va_end(args);
    return makeStatus(code, message);
  } catch (...) {
    return &outOfMemory;
  }
}

std::string kiln::shapeString(const int64_t *dims, int32_t rank, const char *const *dimNames) {
  std::string out = "[";
  for (int32_t i = 0; i < rank; ++i) {
    if (i)
      out += ',';
    if (dims[i] >= 0 || !dimNames)
      out += std::to_string(dims[i]);
    else if (dimNames && dimNames[i] && dimNames[i][0])
      out += dimNames[i];
    else
      out += '?';
  }
  return out + "]";
}

extern "C" {

kiln_status_code_t kiln_status_code(kiln_status_t status) {
  return status ? status->code : KILN_STATUS_OK;
}

const char *kiln_status_message(kiln_status_t status) { return status ? status->message : "OK"; }

const char *kiln_status_code_name(kiln_status_code_t code) {
  switch (code) {
  case KILN_STATUS_OK:
    return "OK";
  case KILN_STATUS_INVALID_ARGUMENT:
    return "INVALID_ARGUMENT";
  case KILN_STATUS_NOT_FOUND:
    return "NOT_FOUND";
  case KILN_STATUS_INVALID_MODEL:
    return "INVALID_MODEL";
  case KILN_STATUS_ABI_MISMATCH:
    return "ABI_MISMATCH";
  case KILN_STATUS_BUFFER_TOO_SMALL:
    return "BUFFER_TOO_SMALL";
  case KILN_STATUS_RESOURCE_EXHAUSTED:
    return "RESOURCE_EXHAUSTED";
  case KILN_STATUS_INTERNAL:
    return "INTERNAL";
  case KILN_STATUS_IO:
    return "IO";
  case KILN_STATUS_DEVICE_UNAVAILABLE:
    return "DEVICE_UNAVAILABLE";
  case KILN_STATUS_UNSUPPORTED_CPU:
    return "UNSUPPORTED_CPU";
  }
  return "UNKNOWN";
}

void kiln_status_free(kiln_status_t status) {
  if (status && status != &outOfMemory)
    std::free(status);
}

size_t kiln_dtype_size(int32_t dtype) {
  switch (dtype) {
  case KILN_DTYPE_FLOAT32:
  case KILN_DTYPE_INT32:
  case KILN_DTYPE_UINT32:
    return 4;
  case KILN_DTYPE_UINT8:
  case KILN_DTYPE_INT8:
  case KILN_DTYPE_BOOL:
    return 1;
  case KILN_DTYPE_INT16:
  case KILN_DTYPE_UINT16:
  case KILN_DTYPE_FLOAT16:
  case KILN_DTYPE_BFLOAT16:
    return 2;
  case KILN_DTYPE_INT64:
  case KILN_DTYPE_UINT64:
  case KILN_DTYPE_FLOAT64:
    return 8;
  default:
    return 0;
  }
}

const char *kiln_dtype_name(int32_t dtype) {
  switch (dtype) {
  case KILN_DTYPE_FLOAT32:
    return "float32";
  case KILN_DTYPE_UINT8:
    return "uint8";
  case KILN_DTYPE_INT8:
    return "int8";
  case KILN_DTYPE_INT16:
    return "int16";
  case KILN_DTYPE_UINT16:
    return "uint16";
  case KILN_DTYPE_INT32:
    return "int32";
  case KILN_DTYPE_UINT32:
    return "uint32";
  case KILN_DTYPE_INT64:
    return "int64";
  case KILN_DTYPE_UINT64:
    return "uint64";
  case KILN_DTYPE_BOOL:
    return "bool";
  case KILN_DTYPE_FLOAT16:
    return "float16";
  case KILN_DTYPE_FLOAT64:
    return "float64";
  case KILN_DTYPE_BFLOAT16:
    return "bfloat16";
  default:
    return "unknown";
  }
}

#define KILN_STR2(x) #x
#define KILN_STR(x) KILN_STR2(x)
const char *kiln_runtime_version(void) {
  return KILN_STR(KILN_RUNTIME_VERSION_MAJOR) "." KILN_STR(KILN_RUNTIME_VERSION_MINOR) "." KILN_STR(
      KILN_RUNTIME_VERSION_PATCH);
}

void kiln_tensor_free(void *data) { std::free(data); }

} // extern "C"
