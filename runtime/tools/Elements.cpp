//===- Elements.cpp - Element conversions and file I/O for kiln_io --------===//

#include "kiln_io.h"

#include "kiln/kiln_abi.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

using namespace kiln::io;

size_t kiln::io::dtypeSize(int32_t dtype) {
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
  }
  return 0;
}

float kiln::io::halfToFloat(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    float f = static_cast<float>(mant) * 5.9604644775390625e-08f; // 2^-24
    std::memcpy(&bits, &f, 4);
    bits |= sign;
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t kiln::io::floatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000;
  uint32_t a = x & 0x7fffffff;
  if (a >= 0x7f800000) // inf, nan
    return static_cast<uint16_t>(sign | 0x7c00 | (a > 0x7f800000 ? 0x200 : 0));
  if (a >= 0x477ff000) // >= 65520 rounds to inf
    return static_cast<uint16_t>(sign | 0x7c00);
  if (a < 0x38800000) { // below 2^-14: a half subnormal (or zero)
    if (a < 0x33000000) // below 2^-25: rounds to zero
      return static_cast<uint16_t>(sign);
    uint32_t e = a >> 23, mant = (a & 0x7fffff) | 0x800000;
    uint32_t shift = 126 - e; // 14 .. 24
    uint32_t m = mant >> shift, rem = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rem > half || (rem == half && (m & 1)))
      ++m;
    return static_cast<uint16_t>(sign | m);
  }
  uint32_t h = (a - 0x38000000) >> 13, rem = a & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (h & 1)))
    ++h;
  return static_cast<uint16_t>(sign | h);
}

float kiln::io::bfloat16ToFloat(uint16_t b) {
  uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t kiln::io::floatToBfloat16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffff) > 0x7f800000)
    return static_cast<uint16_t>((x >> 16) | 0x40); // quiet nan
  x += 0x7fff + ((x >> 16) & 1);
  return static_cast<uint16_t>(x >> 16);
}

double kiln::io::elementAsDouble(int32_t dtype, const void *data, size_t index) {
  const auto *p = static_cast<const uint8_t *>(data) + index * dtypeSize(dtype);
  auto load = [p](auto v) {
    std::memcpy(&v, p, sizeof v);
    return v;
  };
  switch (dtype) {
  case KILN_DTYPE_FLOAT32:
    return load(float());
  case KILN_DTYPE_FLOAT64:
    return load(double());
  case KILN_DTYPE_FLOAT16:
    return halfToFloat(load(uint16_t()));
  case KILN_DTYPE_BFLOAT16:
    return bfloat16ToFloat(load(uint16_t()));
  case KILN_DTYPE_INT8:
    return load(int8_t());
  case KILN_DTYPE_UINT8:
    return load(uint8_t());
  case KILN_DTYPE_BOOL:
    return load(uint8_t()) ? 1.0 : 0.0;
  case KILN_DTYPE_INT16:
    return load(int16_t());
  case KILN_DTYPE_UINT16:
    return load(uint16_t());
  case KILN_DTYPE_INT32:
    return load(int32_t());
  case KILN_DTYPE_UINT32:
    return load(uint32_t());
  case KILN_DTYPE_INT64:
    return static_cast<double>(load(int64_t()));
  case KILN_DTYPE_UINT64:
    return static_cast<double>(load(uint64_t()));
  }
  return 0.0;
}

namespace {
struct FileCloser {
  void operator()(std::FILE *f) const { std::fclose(f); }
};
} // namespace

bool kiln::io::readFile(const std::string &path, std::vector<uint8_t> &out, std::string &error) {
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
  if (!f) {
    error = "cannot open '" + path + "': " + std::strerror(errno);
    return false;
  }
  out.clear();
  uint8_t buffer[1 << 16];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, f.get())) > 0)
    out.insert(out.end(), buffer, buffer + n);
  if (std::ferror(f.get())) {
    error = "cannot read '" + path + "': " + std::strerror(errno);
    return false;
  }
  return true;
}

bool kiln::io::writeFile(const std::string &path, const void *data, size_t size,
                         std::string &error) {
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "wb"));
  if (!f) {
    error = "cannot create '" + path + "': " + std::strerror(errno);
    return false;
  }
  if (size && std::fwrite(data, 1, size, f.get()) != size) {
    error = "cannot write '" + path + "': " + std::strerror(errno);
    return false;
  }
  if (std::fclose(f.release()) != 0) {
    error = "cannot write '" + path + "': " + std::strerror(errno);
    return false;
  }
  return true;
}

bool kiln::io::readTensorFile(const std::string &path, HostTensor &out, std::string &error) {
  std::vector<uint8_t> bytes;
  if (!readFile(path, bytes, error))
    return false;
  bool isNpy = bytes.size() >= 6 && std::memcmp(bytes.data(), "\x93NUMPY", 6) == 0;
  bool ok = isNpy ? parseNpy(bytes.data(), bytes.size(), out, error)
                  : parseTensorProto(bytes.data(), bytes.size(), out, error);
  if (!ok)
    error = path + ": " + error + (isNpy ? "" : " (expected a .npy or an ONNX TensorProto .pb)");
  return ok;
}
