//===- gemm_reference.h - What the GEMM tests' references share -*- C++ -*-===//
//
// The epilogue's activations in double, exactly as kiln_abi.h defines them,
// for the references of gemm_test, gemm_bf16_test and sparse_gemm_test;
// the fp32 families, and their names, for the tests run once per family
// (gemm, softmax, layer norm, attention).
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_TESTS_GEMM_REFERENCE_H
#define KILN_RUNTIME_TESTS_GEMM_REFERENCE_H

#include "kernels/GemmKernels.h"
#include "kiln/kiln_abi.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <ostream>
#include <string>

namespace kiln_test {

/// The fp32 family as sgemmKernelName spells it.
inline const char *familyName(kiln::GemmFamily f) {
  switch (f) {
  case kiln::GemmFamily::Portable:
    return "portable";
  case kiln::GemmFamily::Avx2:
    return "avx2";
  case kiln::GemmFamily::Avx512:
    return "avx512";
  }
  return "unknown";
}

/// Every fp32 family, for INSTANTIATE_TEST_SUITE_P(Families, Suite,
/// testing::ValuesIn(kFp32Families), fp32FamilyTestName): a test of a family
/// the CPU lacks skips itself.
inline constexpr kiln::GemmFamily kFp32Families[] = {
    kiln::GemmFamily::Portable, kiln::GemmFamily::Avx2, kiln::GemmFamily::Avx512};

/// A test's name suffix: its family's name.
inline std::string fp32FamilyTestName(const testing::TestParamInfo<kiln::GemmFamily> &info) {
  return familyName(info.param);
}

/// The activation in double, as kiln_abi.h defines it.
inline double activate(int64_t act, double x) {
  switch (act) {
  case KILN_GEMM_ACT_GELU_ERF:
    return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
  case KILN_GEMM_ACT_GELU_TANH:
    return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
  case KILN_GEMM_ACT_RELU:
    return x > 0 ? x : 0.0;
  default:
    return x;
  }
}

} // namespace kiln_test

// For GoogleTest's messages (found by argument-dependent lookup).
namespace kiln {
inline void PrintTo(GemmFamily f, std::ostream *os) { *os << kiln_test::familyName(f); }
} // namespace kiln

#endif // KILN_RUNTIME_TESTS_GEMM_REFERENCE_H
