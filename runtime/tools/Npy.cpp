//===- Npy.cpp - NumPy .npy files -----------------------------------------===//
//
// The format: "\x93NUMPY", major and minor version bytes, the header length
// (uint16 LE in 1.0; uint32 LE in 2.0 and 3.0), then a Python dict literal
// such as {'descr': '<f4', 'fortran_order': False, 'shape': (2, 4), }
// padded with spaces and a newline, then the raw elements.
//
//===----------------------------------------------------------------------===//

#include "kiln_io.h"

#include "kiln/kiln_abi.h"

#include <algorithm>
#include <cctype>
#include <cstring>

using namespace kiln::io;

namespace {

const char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;

/// The value after `'key':` in the header dict, up to the next top-level
/// ',' or '}' (a tuple's commas are inside its parentheses).
bool dictValue(const std::string &header, const std::string &key, std::string &value) {
  size_t at = std::string::npos;
  for (const char *quote : {"'", "\""}) {
    at = header.find(quote + key + quote);
    if (at != std::string::npos)
      break;
  }
  if (at == std::string::npos)
    return false;
  size_t colon = header.find(':', at + key.size() + 2);
  if (colon == std::string::npos)
    return false;
  size_t i = colon + 1;
  int depth = 0;
  size_t end = i;
  for (; end < header.size(); ++end) {
    char c = header[end];
    if (c == '(' || c == '[')
      ++depth;
    else if (c == ')' || c == ']')
      --depth;
    else if ((c == ',' || c == '}') && depth == 0)
      break;
  }
  value = header.substr(i, end - i);
  // trim
  size_t b = value.find_first_not_of(" \t");
  size_t e = value.find_last_not_of(" \t");
  value = b == std::string::npos ? "" : value.substr(b, e - b + 1);
  return true;
}

bool descrToDtype(const std::string &descr, int32_t &dtype, bool &bigEndian) {
  if (descr.size() < 3)
    return false;
  char order = descr[0];
  if (order != '<' && order != '>' && order != '|' && order != '=')
    return false;
  bigEndian = order == '>';
  char kind = descr[1];
  std::string bytes = descr.substr(2);
  if (kind == 'f' && bytes == "2")
    dtype = KILN_DTYPE_FLOAT16;
  else if (kind == 'f' && bytes == "4")
    dtype = KILN_DTYPE_FLOAT32;
  else if (kind == 'f' && bytes == "8")
    dtype = KILN_DTYPE_FLOAT64;
  else if (kind == 'i' && bytes == "1")
    dtype = KILN_DTYPE_INT8;
  else if (kind == 'i' && bytes == "2")
    dtype = KILN_DTYPE_INT16;
  else if (kind == 'i' && bytes == "4")
    dtype = KILN_DTYPE_INT32;
  else if (kind == 'i' && bytes == "8")
    dtype = KILN_DTYPE_INT64;
  else if (kind == 'u' && bytes == "1")
    dtype = KILN_DTYPE_UINT8;
  else if (kind == 'u' && bytes == "2")
    dtype = KILN_DTYPE_UINT16;
  else if (kind == 'u' && bytes == "4")
    dtype = KILN_DTYPE_UINT32;
  else if (kind == 'u' && bytes == "8")
    dtype = KILN_DTYPE_UINT64;
  else if (kind == 'b' && bytes == "1")
    dtype = KILN_DTYPE_BOOL;
  else
    return false;
  return true;
}

const char *dtypeToDescr(int32_t dtype) {
  switch (dtype) {
  case KILN_DTYPE_FLOAT32:
  case KILN_DTYPE_BFLOAT16: // widened
    return "<f4";
  case KILN_DTYPE_FLOAT64:
    return "<f8";
  case KILN_DTYPE_FLOAT16:
    return "<f2";
  case KILN_DTYPE_INT8:
    return "|i1";
  case KILN_DTYPE_INT16:
    return "<i2";
  case KILN_DTYPE_INT32:
    return "<i4";
  case KILN_DTYPE_INT64:
    return "<i8";
  case KILN_DTYPE_UINT8:
    return "|u1";
  case KILN_DTYPE_UINT16:
    return "<u2";
  case KILN_DTYPE_UINT32:
    return "<u4";
  case KILN_DTYPE_UINT64:
    return "<u8";
  case KILN_DTYPE_BOOL:
    return "|b1";
  }
  return nullptr;
}

bool parseShape(const std::string &text, std::vector<int64_t> &dims) {
  if (text.size() < 2 || text.front() != '(' || text.back() != ')')
    return false;
  dims.clear();
  size_t i = 1, end = text.size() - 1;
  while (i < end) {
    while (i < end && (text[i] == ' ' || text[i] == ','))
      ++i;
    if (i >= end)
      break;
    if (!std::isdigit(static_cast<unsigned char>(text[i])))
      return false;
    int64_t v = 0;
    while (i < end && std::isdigit(static_cast<unsigned char>(text[i]))) {
      if (v > (INT64_MAX - 9) / 10)
        return false;
      v = v * 10 + (text[i++] - '0');
    }
    while (i < end && text[i] == 'L') // Python 2 longs
      ++i;
    dims.push_back(v);
  }
  return true;
}

} // namespace

size_t HostTensor::numElements() const {
  size_t n = 1;
  for (int64_t d : dims)
    n *= static_cast<size_t>(d);
  return n;
}

bool kiln::io::parseNpy(const uint8_t *bytes, size_t size, HostTensor &out, std::string &error) {
  if (size < kMagicSize + 4 || std::memcmp(bytes, kMagic, kMagicSize) != 0) {
    error = "not a .npy file (no \\x93NUMPY magic)";
    return false;
  }
  uint8_t major = bytes[6];
  size_t headerLen, headerStart;
  if (major == 1) {
    headerLen = bytes[8] | (bytes[9] << 8);
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12) {
      error = "truncated .npy header";
      return false;
    }
    headerLen = static_cast<size_t>(bytes[8]) | (static_cast<size_t>(bytes[9]) << 8) |
                (static_cast<size_t>(bytes[10]) << 16) | (static_cast<size_t>(bytes[11]) << 24);
    headerStart = 12;
  } else {
    error = "unsupported .npy format version " + std::to_string(major);
    return false;
  }
  if (headerLen > size - headerStart) {
    error = "truncated .npy header";
    return false;
  }
  std::string header(reinterpret_cast<const char *>(bytes + headerStart), headerLen);
  std::string descr, fortran, shape;
  if (!dictValue(header, "descr", descr) || !dictValue(header, "fortran_order", fortran) ||
      !dictValue(header, "shape", shape)) {
    error = "malformed .npy header: " + header;
    return false;
  }
  if (descr.size() < 2 || (descr.front() != '\'' && descr.front() != '"') ||
      descr.back() != descr.front()) {
    error = "unsupported .npy dtype " + descr + " (structured arrays are not supported)";
    return false;
  }
  descr = descr.substr(1, descr.size() - 2);
  int32_t dtype = 0;
  bool bigEndian = false;
  if (!descrToDtype(descr, dtype, bigEndian)) {
    error = "unsupported .npy dtype '" + descr + "'";
    return false;
  }
  if (fortran != "False" && fortran != "True") {
    error = "malformed .npy header: fortran_order is " + fortran;
    return false;
  }
  std::vector<int64_t> dims;
  if (!parseShape(shape, dims)) {
    error = "malformed .npy shape " + shape;
    return false;
  }
  size_t elemSize = dtypeSize(dtype);
  size_t count = 1;
  for (int64_t d : dims) {
    if (d != 0 && count > SIZE_MAX / elemSize / static_cast<size_t>(d)) {
      error = "the .npy shape " + shape + " is too large";
      return false;
    }
    count *= static_cast<size_t>(d);
  }
  size_t dataStart = headerStart + headerLen;
  size_t bytesNeeded = count * elemSize;
  if (size - dataStart < bytesNeeded) {
    error = "truncated .npy data: shape " + shape + " needs " + std::to_string(bytesNeeded) +
            " bytes, the file has " + std::to_string(size - dataStart);
    return false;
  }
  out.name.clear();
  out.dtype = dtype;
  out.dims = dims;
  out.data.assign(bytes + dataStart, bytes + dataStart + bytesNeeded);
  if (bigEndian && elemSize > 1)
    for (size_t i = 0; i < count; ++i)
      std::reverse(out.data.begin() + i * elemSize, out.data.begin() + (i + 1) * elemSize);
  if (fortran == "True" && dims.size() > 1 && count > 0) {
    // Column-major: dim 0 varies fastest. Walk the row-major order and
    // gather.
    size_t rank = dims.size();
    std::vector<size_t> colStride(rank), index(rank, 0);
    size_t s = 1;
    for (size_t d = 0; d < rank; ++d) {
      colStride[d] = s;
      s *= static_cast<size_t>(dims[d]);
    }
    std::vector<uint8_t> rowMajor(bytesNeeded);
    for (size_t i = 0; i < count; ++i) {
      size_t src = 0;
      for (size_t d = 0; d < rank; ++d)
        src += index[d] * colStride[d];
      std::memcpy(&rowMajor[i * elemSize], &out.data[src * elemSize], elemSize);
      for (size_t d = rank; d-- > 0;) {
        if (++index[d] < static_cast<size_t>(dims[d]))
          break;
        index[d] = 0;
      }
    }
    out.data.swap(rowMajor);
  }
  return true;
}

bool kiln::io::readNpy(const std::string &path, HostTensor &out, std::string &error) {
  std::vector<uint8_t> bytes;
  if (!readFile(path, bytes, error))
    return false;
  if (!parseNpy(bytes.data(), bytes.size(), out, error)) {
    error = path + ": " + error;
    return false;
  }
  return true;
}

bool kiln::io::encodeNpy(int32_t dtype, const std::vector<int64_t> &dims, const void *data,
                         std::vector<uint8_t> &out, std::string &error) {
  const char *descr = dtypeToDescr(dtype);
  if (!descr) {
    error = "cannot write dtype " + std::to_string(dtype) + " as .npy";
    return false;
  }
  std::string shape = "(";
  size_t count = 1;
  for (size_t i = 0; i < dims.size(); ++i) {
    shape += std::to_string(dims[i]);
    if (dims.size() == 1 || i + 1 < dims.size())
      shape += dims.size() == 1 ? "," : ", ";
    count *= static_cast<size_t>(dims[i]);
  }
  shape += ")";
  std::string header = std::string("{'descr': '") + descr +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Pad so that the data starts on a 64-byte boundary.
  size_t total = kMagicSize + 4 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  bool widen = dtype == KILN_DTYPE_BFLOAT16;
  size_t dataBytes = count * (widen ? 4 : dtypeSize(dtype));
  size_t headerStart = kMagicSize + 4;
  out.assign(headerStart + header.size() + dataBytes, 0);
  uint8_t *p = out.data();
  std::memcpy(p, kMagic, kMagicSize);
  p[6] = 1; // version 1.0
  p[7] = 0;
  p[8] = static_cast<uint8_t>(header.size() & 0xff);
  p[9] = static_cast<uint8_t>(header.size() >> 8);
  std::memcpy(p + headerStart, header.data(), header.size());
  p += headerStart + header.size();
  const auto *src = static_cast<const uint8_t *>(data);
  if (widen) {
    for (size_t i = 0; i < count; ++i) {
      uint16_t b;
      std::memcpy(&b, src + 2 * i, 2);
      float f = bfloat16ToFloat(b);
      std::memcpy(p + 4 * i, &f, 4);
    }
  } else if (dataBytes) {
    std::memcpy(p, src, dataBytes);
  }
  return true;
}

bool kiln::io::writeNpy(const std::string &path, int32_t dtype, const std::vector<int64_t> &dims,
                        const void *data, std::string &error) {
  std::vector<uint8_t> bytes;
  if (!encodeNpy(dtype, dims, data, bytes, error)) {
    error = path + ": " + error;
    return false;
  }
  return writeFile(path, bytes.data(), bytes.size(), error);
}
