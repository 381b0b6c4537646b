//===- TensorProto.cpp - ONNX TensorProto .pb files, parsed by hand -------===//
//
// The protobuf wire format: a sequence of (key, value) where key = varint
// (field << 3 | wire type); wire type 0 is a varint, 1 a little-endian 64-bit
// word, 2 a varint length then that many bytes (strings, bytes, packed
// repeated numbers), 5 a little-endian 32-bit word.
//
//===----------------------------------------------------------------------===//

#include "kiln_io.h"

#include "kiln/kiln_abi.h"

#include <cstring>

using namespace kiln::io;

namespace {

enum Field {
  kDims = 1,
  kDataType = 2,
  kSegment = 3,
  kFloatData = 4,
  kInt32Data = 5,
  kStringData = 6,
  kInt64Data = 7,
  kName = 8,
  kRawData = 9,
  kDoubleData = 10,
  kUint64Data = 11,
  kExternalData = 13,
  kDataLocation = 14,
};

class Reader {
public:
  Reader(const uint8_t *p, size_t n) : p(p), end(p + n) {}
  bool done() const { return p >= end; }
  bool varint(uint64_t &v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p >= end)
        return false;
      uint8_t b = *p++;
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80))
        return true;
    }
    return false;
  }
  bool fixed(void *out, size_t n) {
    if (static_cast<size_t>(end - p) < n)
      return false;
    std::memcpy(out, p, n);
    p += n;
    return true;
  }
  bool bytes(const uint8_t *&data, size_t &n) {
    uint64_t len;
    if (!varint(len) || len > static_cast<uint64_t>(end - p))
      return false;
    data = p;
    n = static_cast<size_t>(len);
    p += n;
    return true;
  }
  bool skip(unsigned wireType) {
    uint64_t v;
    const uint8_t *d;
    size_t n;
    switch (wireType) {
    case 0:
      return varint(v);
    case 1:
      return fixed(&v, 8);
    case 2:
      return bytes(d, n);
    case 5:
      return fixed(&v, 4);
    default:
      return false; // groups (3, 4) are not used by onnx.proto
    }
  }

private:
  const uint8_t *p, *end;
};

/// Reads a repeated varint field, packed (wire type 2) or not (0).
bool repeatedVarint(Reader &r, unsigned wireType, std::vector<uint64_t> &out) {
  uint64_t v;
  if (wireType == 0) {
    if (!r.varint(v))
      return false;
    out.push_back(v);
    return true;
  }
  if (wireType != 2)
    return false;
  const uint8_t *d;
  size_t n;
  if (!r.bytes(d, n))
    return false;
  Reader packed(d, n);
  while (!packed.done()) {
    if (!packed.varint(v))
      return false;
    out.push_back(v);
  }
  return true;
}

/// Reads a repeated fixed-size field (float 4 / double 8), packed or not.
template <typename T>
bool repeatedFixed(Reader &r, unsigned wireType, unsigned scalarWireType, std::vector<T> &out) {
  T v;
  if (wireType == scalarWireType) {
    if (!r.fixed(&v, sizeof v))
      return false;
    out.push_back(v);
    return true;
  }
  if (wireType != 2)
    return false;
  const uint8_t *d;
  size_t n;
  if (!r.bytes(d, n) || n % sizeof(T) != 0)
    return false;
  size_t old = out.size();
  out.resize(old + n / sizeof(T));
  std::memcpy(out.data() + old, d, n);
  return true;
}

} // namespace

bool kiln::io::parseTensorProto(const uint8_t *bytes, size_t size, HostTensor &out,
                                std::string &error) {
  Reader r(bytes, size);
  std::vector<uint64_t> dims, int32Data, int64Data, uint64Data;
  std::vector<float> floatData;
  std::vector<double> doubleData;
  const uint8_t *raw = nullptr;
  size_t rawSize = 0;
  bool hasRaw = false;
  int64_t dataType = 0;
  std::string name;

  while (!r.done()) {
    uint64_t key;
    if (!r.varint(key)) {
      error = "malformed TensorProto: truncated field key";
      return false;
    }
    unsigned field = static_cast<unsigned>(key >> 3), wt = key & 7;
    bool ok = true;
    uint64_t v;
    const uint8_t *d;
    size_t n;
    switch (field) {
    case kDims:
      ok = repeatedVarint(r, wt, dims);
      break;
    case kDataType:
      ok = wt == 0 && r.varint(v);
      dataType = static_cast<int64_t>(v);
      break;
    case kSegment:
      error = "TensorProto segments are not supported";
      return false;
    case kFloatData:
      ok = repeatedFixed(r, wt, 5, floatData);
      break;
    case kInt32Data:
      ok = repeatedVarint(r, wt, int32Data);
      break;
    case kStringData:
      error = "string tensors are not supported";
      return false;
    case kInt64Data:
      ok = repeatedVarint(r, wt, int64Data);
      break;
    case kName:
      ok = wt == 2 && r.bytes(d, n);
      if (ok)
        name.assign(reinterpret_cast<const char *>(d), n);
      break;
    case kRawData:
      ok = wt == 2 && r.bytes(raw, rawSize);
      hasRaw = ok;
      break;
    case kDoubleData:
      ok = repeatedFixed(r, wt, 1, doubleData);
      break;
    case kUint64Data:
      ok = repeatedVarint(r, wt, uint64Data);
      break;
    case kExternalData:
      error = "TensorProto with external data is not supported";
      return false;
    case kDataLocation:
      ok = wt == 0 && r.varint(v);
      if (ok && v == 1) {
        error = "TensorProto with external data is not supported";
        return false;
      }
      break;
    default:
      ok = r.skip(wt);
      break;
    }
    if (!ok) {
      error = "malformed TensorProto: bad field " + std::to_string(field) + " (wire type " +
              std::to_string(wt) + ")";
      return false;
    }
  }

  int32_t dtype = static_cast<int32_t>(dataType);
  size_t elemSize = dtypeSize(dtype);
  if (elemSize == 0) {
    error = "unsupported TensorProto data_type " + std::to_string(dataType);
    return false;
  }
  out.name = name;
  out.dtype = dtype;
  out.dims.clear();
  size_t count = 1;
  for (uint64_t d : dims) {
    if (d > static_cast<uint64_t>(INT64_MAX) ||
        (d != 0 && count > SIZE_MAX / elemSize / static_cast<size_t>(d))) {
      error = "TensorProto dims are too large";
      return false;
    }
    out.dims.push_back(static_cast<int64_t>(d));
    count *= static_cast<size_t>(d);
  }
  std::string what = name.empty() ? "TensorProto" : "TensorProto '" + name + "'";
  auto countError = [&](size_t got) {
    error = what + " has " + std::to_string(got) + " values, but its dims need " +
            std::to_string(count);
    return false;
  };
  out.data.assign(count * elemSize, 0);
  uint8_t *dst = out.data.data();
  if (hasRaw) {
    if (rawSize != count * elemSize) {
      error = what + " has " + std::to_string(rawSize) + " bytes of raw_data, but its dims need " +
              std::to_string(count * elemSize);
      return false;
    }
    if (rawSize)
      std::memcpy(dst, raw, rawSize);
    return true;
  }
  switch (dtype) {
  case KILN_DTYPE_FLOAT32:
    if (floatData.size() != count)
      return countError(floatData.size());
    if (count)
      std::memcpy(dst, floatData.data(), count * 4);
    return true;
  case KILN_DTYPE_FLOAT64:
    if (doubleData.size() != count)
      return countError(doubleData.size());
    if (count)
      std::memcpy(dst, doubleData.data(), count * 8);
    return true;
  case KILN_DTYPE_INT64:
    if (int64Data.size() != count)
      return countError(int64Data.size());
    if (count)
      std::memcpy(dst, int64Data.data(), count * 8);
    return true;
  case KILN_DTYPE_UINT32:
  case KILN_DTYPE_UINT64:
    // uint32 and uint64 travel in uint64_data.
    if (uint64Data.size() != count)
      return countError(uint64Data.size());
    for (size_t i = 0; i < count; ++i)
      std::memcpy(dst + i * elemSize, &uint64Data[i], elemSize); // little-endian: the low bytes
    return true;
  default:
    // int32, int16, uint16, int8, uint8, bool, and the bits of float16/bfloat16
    // all travel in int32_data.
    if (int32Data.size() != count)
      return countError(int32Data.size());
    for (size_t i = 0; i < count; ++i) {
      auto v = static_cast<uint32_t>(int32Data[i]);
      std::memcpy(dst + i * elemSize, &v, elemSize); // little-endian: the low bytes
    }
    return true;
  }
}

bool kiln::io::readTensorProto(const std::string &path, HostTensor &out, std::string &error) {
  std::vector<uint8_t> bytes;
  if (!readFile(path, bytes, error))
    return false;
  if (!parseTensorProto(bytes.data(), bytes.size(), out, error)) {
    error = path + ": " + error;
    return false;
  }
  return true;
}
