//===- kiln_io_test.cpp - .npy and TensorProto reading/writing ------------===//

#include "kiln_io.h"

#include "kiln/kiln_abi.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

using namespace kiln::io;

namespace {

std::vector<uint8_t> bytesOf(const std::string &s) { return std::vector<uint8_t>(s.begin(), s.end()); }

/// A .npy file with a hand-written header.
std::vector<uint8_t> npyWithHeader(const std::string &dict, const void *data, size_t size) {
  std::string header = dict;
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string out = std::string("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  out.append(static_cast<const char *>(data), size);
  return bytesOf(out);
}

TEST(Npy, RoundTripEveryDtype) {
  struct Case {
    int32_t dtype;
    size_t size;
  };
  for (Case c : {Case{KILN_DTYPE_FLOAT32, 4}, Case{KILN_DTYPE_FLOAT64, 8},
                 Case{KILN_DTYPE_FLOAT16, 2}, Case{KILN_DTYPE_INT8, 1}, Case{KILN_DTYPE_UINT8, 1},
                 Case{KILN_DTYPE_INT16, 2}, Case{KILN_DTYPE_INT32, 4}, Case{KILN_DTYPE_INT64, 8},
                 Case{KILN_DTYPE_BOOL, 1}}) {
    for (std::vector<int64_t> dims : {std::vector<int64_t>{}, {3}, {2, 3}, {2, 0, 4}}) {
      size_t n = 1;
      for (int64_t d : dims)
        n *= d;
      std::vector<uint8_t> data(n * c.size);
      for (size_t i = 0; i < data.size(); ++i)
        data[i] = static_cast<uint8_t>(c.dtype == KILN_DTYPE_BOOL ? i % 2 : i * 7 + 1);
      std::vector<uint8_t> file;
      std::string error;
      ASSERT_TRUE(encodeNpy(c.dtype, dims, data.data(), file, error)) << error;
      EXPECT_EQ((file.size() - data.size()) % 64, 0u); // data aligned to 64
      HostTensor t;
      ASSERT_TRUE(parseNpy(file.data(), file.size(), t, error)) << error;
      EXPECT_EQ(t.dtype, c.dtype);
      EXPECT_EQ(t.dims, dims);
      EXPECT_EQ(t.data, data);
    }
  }
}

TEST(Npy, Bfloat16IsWrittenAsFloat32) {
  uint16_t b[2] = {floatToBfloat16(1.5f), floatToBfloat16(-2.0f)};
  std::vector<uint8_t> file;
  std::string error;
  ASSERT_TRUE(encodeNpy(KILN_DTYPE_BFLOAT16, {2}, b, file, error));
  HostTensor t;
  ASSERT_TRUE(parseNpy(file.data(), file.size(), t, error)) << error;
  EXPECT_EQ(t.dtype, KILN_DTYPE_FLOAT32);
  float f[2];
  std::memcpy(f, t.data.data(), 8);
  EXPECT_EQ(f[0], 1.5f);
  EXPECT_EQ(f[1], -2.0f);
}

TEST(Npy, FortranOrderBecomesRowMajor) {
  // [[1, 2, 3], [4, 5, 6]] stored column-major: 1 4 2 5 3 6.
  int32_t colMajor[6] = {1, 4, 2, 5, 3, 6};
  auto file = npyWithHeader("{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }",
                            colMajor, sizeof colMajor);
  HostTensor t;
  std::string error;
  ASSERT_TRUE(parseNpy(file.data(), file.size(), t, error)) << error;
  ASSERT_EQ(t.dims, (std::vector<int64_t>{2, 3}));
  int32_t v[6];
  std::memcpy(v, t.data.data(), sizeof v);
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(v[i], i + 1);
}

TEST(Npy, BigEndian) {
  uint8_t be[8] = {0x3f, 0x80, 0, 0, 0xc0, 0, 0, 0}; // 1.0f, -2.0f
  auto file = npyWithHeader("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", be, 8);
  HostTensor t;
  std::string error;
  ASSERT_TRUE(parseNpy(file.data(), file.size(), t, error)) << error;
  EXPECT_EQ(elementAsDouble(t.dtype, t.data.data(), 0), 1.0);
  EXPECT_EQ(elementAsDouble(t.dtype, t.data.data(), 1), -2.0);
}

TEST(Npy, Errors) {
  HostTensor t;
  std::string error;
  auto text = bytesOf("hello world");
  EXPECT_FALSE(parseNpy(text.data(), text.size(), t, error));
  EXPECT_EQ(error, "not a .npy file (no \\x93NUMPY magic)");

  float f[2] = {1, 2};
  auto shortFile =
      npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", f, sizeof f);
  EXPECT_FALSE(parseNpy(shortFile.data(), shortFile.size(), t, error));
  EXPECT_EQ(error, "truncated .npy data: shape (3,) needs 12 bytes, the file has 8");

  auto complexFile =
      npyWithHeader("{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", f, sizeof f);
  EXPECT_FALSE(parseNpy(complexFile.data(), complexFile.size(), t, error));
  EXPECT_EQ(error, "unsupported .npy dtype '<c8'");

  EXPECT_FALSE(readNpy("/nonexistent/x.npy", t, error));
  EXPECT_EQ(error, "cannot open '/nonexistent/x.npy': No such file or directory");
}

//===--- TensorProto ----------------------------------------------------------===//

/// A minimal protobuf writer for the tests.
struct Proto {
  std::string bytes;
  void varint(uint64_t v) {
    while (v >= 0x80) {
      bytes += static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    bytes += static_cast<char>(v);
  }
  void key(unsigned field, unsigned wt) { varint(field << 3 | wt); }
  void intField(unsigned field, uint64_t v) {
    key(field, 0);
    varint(v);
  }
  void bytesField(unsigned field, const std::string &s) {
    key(field, 2);
    varint(s.size());
    bytes += s;
  }
  void packed(unsigned field, const std::vector<uint64_t> &values) {
    Proto inner;
    for (uint64_t v : values)
      inner.varint(v);
    bytesField(field, inner.bytes);
  }
  std::vector<uint8_t> data() const { return bytesOf(bytes); }
};

TEST(TensorProto, RawData) {
  Proto p;
  p.packed(1, {2, 3});
  p.intField(2, KILN_DTYPE_FLOAT32);
  p.bytesField(8, "x");
  float v[6] = {1, 2, 3, 4, 5, 6};
  p.bytesField(9, std::string(reinterpret_cast<char *>(v), sizeof v));
  p.bytesField(12, "a doc string, skipped");
  HostTensor t;
  std::string error;
  auto d = p.data();
  ASSERT_TRUE(parseTensorProto(d.data(), d.size(), t, error)) << error;
  EXPECT_EQ(t.name, "x");
  EXPECT_EQ(t.dtype, KILN_DTYPE_FLOAT32);
  EXPECT_EQ(t.dims, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(elementAsDouble(t.dtype, t.data.data(), 5), 6.0);
}

TEST(TensorProto, TypedFields) {
  { // float_data, packed; dims not packed.
    Proto p;
    p.intField(1, 2);
    p.intField(2, KILN_DTYPE_FLOAT32);
    float v[2] = {0.5f, -1.5f};
    p.bytesField(4, std::string(reinterpret_cast<char *>(v), sizeof v));
    HostTensor t;
    std::string error;
    auto d = p.data();
    ASSERT_TRUE(parseTensorProto(d.data(), d.size(), t, error)) << error;
    EXPECT_EQ(elementAsDouble(t.dtype, t.data.data(), 1), -1.5);
  }
  { // int64_data, unpacked, with a negative value.
    Proto p;
    p.packed(1, {3});
    p.intField(2, KILN_DTYPE_INT64);
    p.intField(7, 5);
    p.intField(7, static_cast<uint64_t>(int64_t{-7}));
    p.intField(7, 1ull << 40);
    HostTensor t;
    std::string error;
    auto d = p.data();
    ASSERT_TRUE(parseTensorProto(d.data(), d.size(), t, error)) << error;
    EXPECT_EQ(elementAsDouble(t.dtype, t.data.data(), 1), -7.0);
    EXPECT_EQ(elementAsDouble(t.dtype, t.data.data(), 2), static_cast<double>(1ull << 40));
  }
  { // int32_data carries float16 bits and int8 values.
    Proto p;
    p.packed(1, {2});
    p.intField(2, KILN_DTYPE_FLOAT16);
    p.packed(5, {floatToHalf(0.25f), floatToHalf(-3.0f)});
    HostTensor t;
    std::string error;
    auto d = p.data();
    ASSERT_TRUE(parseTensorProto(d.data(), d.size(), t, error)) << error;
    EXPECT_EQ(elementAsDouble(t.dtype, t.data.data(), 0), 0.25);
    EXPECT_EQ(elementAsDouble(t.dtype, t.data.data(), 1), -3.0);

    Proto q;
    q.packed(1, {2});
    q.intField(2, KILN_DTYPE_INT8);
    q.packed(5, {static_cast<uint64_t>(int64_t{-5}), 100});
    d = q.data();
    ASSERT_TRUE(parseTensorProto(d.data(), d.size(), t, error)) << error;
    EXPECT_EQ(elementAsDouble(t.dtype, t.data.data(), 0), -5.0);
    EXPECT_EQ(elementAsDouble(t.dtype, t.data.data(), 1), 100.0);
  }
  { // a scalar (no dims) in double_data
    Proto p;
    p.intField(2, KILN_DTYPE_FLOAT64);
    double v = 2.5;
    p.key(10, 1);
    p.bytes += std::string(reinterpret_cast<char *>(&v), 8);
    HostTensor t;
    std::string error;
    auto d = p.data();
    ASSERT_TRUE(parseTensorProto(d.data(), d.size(), t, error)) << error;
    EXPECT_TRUE(t.dims.empty());
    EXPECT_EQ(elementAsDouble(t.dtype, t.data.data(), 0), 2.5);
  }
}

TEST(TensorProto, Errors) {
  HostTensor t;
  std::string error;
  Proto count;
  count.packed(1, {3});
  count.intField(2, KILN_DTYPE_INT64);
  count.bytesField(8, "ids");
  count.packed(7, {1, 2});
  auto d = count.data();
  EXPECT_FALSE(parseTensorProto(d.data(), d.size(), t, error));
  EXPECT_EQ(error, "TensorProto 'ids' has 2 values, but its dims need 3");

  Proto raw;
  raw.packed(1, {2});
  raw.intField(2, KILN_DTYPE_FLOAT32);
  raw.bytesField(9, "abc");
  d = raw.data();
  EXPECT_FALSE(parseTensorProto(d.data(), d.size(), t, error));
  EXPECT_EQ(error, "TensorProto has 3 bytes of raw_data, but its dims need 8");

  Proto strings;
  strings.intField(2, 8);
  strings.bytesField(6, "hello");
  d = strings.data();
  EXPECT_FALSE(parseTensorProto(d.data(), d.size(), t, error));
  EXPECT_EQ(error, "string tensors are not supported");

  std::vector<uint8_t> truncated = {0x0a, 0x05, 0x01};
  EXPECT_FALSE(parseTensorProto(truncated.data(), truncated.size(), t, error));
  EXPECT_EQ(error, "malformed TensorProto: bad field 1 (wire type 2)");

  Proto unknownType;
  unknownType.intField(2, 8); // string
  d = unknownType.data();
  EXPECT_FALSE(parseTensorProto(d.data(), d.size(), t, error));
  EXPECT_EQ(error, "unsupported TensorProto data_type 8");
}

//===--- Element conversions ----------------------------------------------===//

TEST(Elements, HalfConversions) {
  for (float f : {0.0f, -0.0f, 1.0f, -2.5f, 65504.0f, 6.103515625e-05f, 5.9604644775390625e-08f,
                  0.333251953125f})
    EXPECT_EQ(halfToFloat(floatToHalf(f)), f) << f;
  EXPECT_EQ(floatToHalf(1.0f), 0x3c00);
  EXPECT_EQ(floatToHalf(65520.0f), 0x7c00);             // rounds to inf
  EXPECT_EQ(floatToHalf(1.0f + 1.0f / 2048), 0x3c00);   // tie to even
  EXPECT_EQ(floatToHalf(1.0f + 3.0f / 2048), 0x3c02);   // tie to even (up)
  EXPECT_EQ(floatToHalf(2.98023223876953125e-08f), 0);  // 2^-25 ties to 0
  EXPECT_EQ(floatToHalf(4.4703483581542969e-08f), 1);   // 1.5 * 2^-25 rounds up
  EXPECT_TRUE(std::isnan(halfToFloat(floatToHalf(NAN))));
  EXPECT_EQ(bfloat16ToFloat(floatToBfloat16(1.5f)), 1.5f);
  EXPECT_EQ(floatToBfloat16(1.0f + 1.0f / 256), 0x3f80); // tie to even
}

} // namespace
