//===- kiln_io.h - Tensor files for kiln-run: .npy and ONNX .pb --*- C++ -*-===//
//
// The `kiln_io` static library: reads and writes NumPy .npy files and reads
// ONNX TensorProto .pb files (the format of the ONNX backend tests'
// input_N.pb / output_N.pb), parsing the protobuf wire format by hand: no
// protobuf, no LLVM. Element types are the ONNX codes of kiln_abi.h.
//
// Every function reports failure by returning false with a one-line message
// in `error` (which names the file when there is one).
//
//===----------------------------------------------------------------------===//
#ifndef KILN_TOOLS_KILN_IO_H
#define KILN_TOOLS_KILN_IO_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace kiln::io {

/// A dense, row-major tensor in host memory.
struct HostTensor {
  std::string name; // from a TensorProto; empty for .npy
  int32_t dtype = 0;
  std::vector<int64_t> dims;
  /// The elements, little-endian. std::vector's allocation is aligned for
  /// any element type (at least 16 bytes).
  std::vector<uint8_t> data;

  /// prod(dims); 1 for rank 0.
  size_t numElements() const;
};

/// Parses .npy bytes (format versions 1.0, 2.0, 3.0). Supports the dtypes
/// of kiln_abi.h except bfloat16 (NumPy has none), either byte order, and
/// fortran_order (converted to row-major).
bool parseNpy(const uint8_t *bytes, size_t size, HostTensor &out, std::string &error);
bool readNpy(const std::string &path, HostTensor &out, std::string &error);

/// Encodes a row-major tensor as .npy (version 1.0, little-endian).
/// bfloat16 is widened to float32, since NumPy has no bfloat16.
bool encodeNpy(int32_t dtype, const std::vector<int64_t> &dims, const void *data,
               std::vector<uint8_t> &out, std::string &error);
bool writeNpy(const std::string &path, int32_t dtype, const std::vector<int64_t> &dims,
              const void *data, std::string &error);

/// Parses a serialized onnx.TensorProto: dims (1), data_type (2),
/// float_data (4), int32_data (5), int64_data (7), name (8), raw_data (9),
/// double_data (10), uint64_data (11); packed or not. Rejects string
/// tensors, segments and external data.
bool parseTensorProto(const uint8_t *bytes, size_t size, HostTensor &out, std::string &error);
bool readTensorProto(const std::string &path, HostTensor &out, std::string &error);

/// .npy (by its magic bytes) or else a TensorProto.
bool readTensorFile(const std::string &path, HostTensor &out, std::string &error);

/// Bytes per element of a kiln_abi.h dtype; 0 if unknown.
size_t dtypeSize(int32_t dtype);

/// Element `index` of a buffer of `dtype`, as a double (for checksums).
double elementAsDouble(int32_t dtype, const void *data, size_t index);
/// IEEE half and bfloat16 conversions (round to nearest even).
float halfToFloat(uint16_t h);
uint16_t floatToHalf(float f);
float bfloat16ToFloat(uint16_t b);
uint16_t floatToBfloat16(float f);

/// Whole-file I/O.
bool readFile(const std::string &path, std::vector<uint8_t> &out, std::string &error);
bool writeFile(const std::string &path, const void *data, size_t size, std::string &error);

} // namespace kiln::io

#endif // KILN_TOOLS_KILN_IO_H
