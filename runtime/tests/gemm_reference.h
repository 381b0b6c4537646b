//===- gemm_reference.h - What the GEMM tests' references share -*- C++ -*-===//
//
// The epilogue's activations in double, exactly as kiln_abi.h defines them,
// for the references of gemm_test, gemm_bf16_test and sparse_gemm_test.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_TESTS_GEMM_REFERENCE_H
#define KILN_RUNTIME_TESTS_GEMM_REFERENCE_H

#include "kiln/kiln_abi.h"

#include <cmath>
#include <cstdint>

namespace kiln_test {

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

#endif // KILN_RUNTIME_TESTS_GEMM_REFERENCE_H
