//===- half_bits.h - fp16 and bf16 bits as a GPU converts them --*- C++ -*-===//
//
// The 16-bit storage types of kiln_gemm_desc (a_type, c_type; kiln_abi.h)
// as the GPU reads and writes them, for the fake cuBLASLt and the tests
// that check the runtime's GEMMs against it: fp16 (IEEE binary16) both
// ways, and bf16 rounded from float. Reading is exact; rounding is to
// nearest, ties to even, with subnormal results kept (cvt.rn.f16.f32 and
// cvt.rn.bf16.f32), overflow to infinity, NaN kept a (quiet) NaN. A bf16
// is read with kiln_bf16_to_float (kiln_bf16_pack.h); kiln_bf16_from_float
// there rounds as the CPU's vcvtne2ps2bf16, subnormals to zero, which is
// not what a GPU stores.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_TESTS_HALF_BITS_H
#define KILN_RUNTIME_TESTS_HALF_BITS_H

#include <cstdint>
#include <cstring>

namespace half_bits {

inline uint32_t bitsOf(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}

inline float floatOf(uint32_t u) {
  float x;
  std::memcpy(&x, &u, sizeof x);
  return x;
}

/// The float an fp16 holds (exact).
inline float halfToFloat(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000u) << 16, exponent = (h >> 10) & 0x1fu, mantissa = h & 0x3ffu;
  if (exponent == 0) // zero or subnormal: mantissa * 2^-24
    return floatOf(sign | bitsOf(float(mantissa) * 0x1p-24f));
  if (exponent == 31) // inf, NaN
    return floatOf(sign | 0x7f800000u | mantissa << 13);
  return floatOf(sign | (exponent + 112) << 23 | mantissa << 13);
}

/// x rounded to fp16 (the bits).
inline uint16_t halfFromFloat(float x) {
  uint32_t u = bitsOf(x), magnitude = u & 0x7fffffffu;
  auto sign = uint16_t((u >> 16) & 0x8000u);
  if (magnitude > 0x7f800000u) // NaN: quiet, the payload's top bits kept
    return uint16_t(sign | 0x7e00u | (magnitude >> 13 & 0x3ffu));
  if (magnitude >= 0x477ff000u) // 65520 and up: past 65504 by half a step, to even
    return uint16_t(sign | 0x7c00u);
  if (magnitude >= 0x38800000u) { // 2^-14 and up: normal
    uint32_t rebiased = magnitude - 0x38000000u; // exponent 127 -> 15
    return uint16_t(sign | (rebiased + 0xfffu + (rebiased >> 13 & 1u)) >> 13);
  }
  // A subnormal fp16 counts steps of 2^-24: the significand shifted right,
  // rounded to nearest even (a carry into 2^-14 is the right encoding).
  int shift = 126 - int(magnitude >> 23);
  if (shift > 24)
    return sign; // below 2^-25: zero
  uint32_t significand = (magnitude & 0x7fffffu) | 0x800000u;
  uint32_t steps = significand >> shift, rest = significand & ((1u << shift) - 1),
           halfway = 1u << (shift - 1);
  steps += rest > halfway || (rest == halfway && (steps & 1u));
  return uint16_t(sign | steps);
}

/// x rounded to bf16 (the bits), subnormals kept.
inline uint16_t bf16FromFloat(float x) {
  uint32_t u = bitsOf(x);
  if ((u & 0x7fffffffu) > 0x7f800000u) // NaN
    return uint16_t((u >> 16) | 0x0040u);
  return uint16_t((u + 0x7fffu + (u >> 16 & 1u)) >> 16);
}

} // namespace half_bits

#endif // KILN_RUNTIME_TESTS_HALF_BITS_H
