//===- sparse_patterns.h - Pruned weights for the sparse GEMM tests -*- C++ -*-===//
//
// The sparsity patterns sparse_gemm_test (fp32) and sparse_qgemm_test
// (int8) run their kernels on, and the int8 families' names (qgemm_test
// and sparse_qgemm_test).
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_TESTS_SPARSE_PATTERNS_H
#define KILN_RUNTIME_TESTS_SPARSE_PATTERNS_H

#include "kernels/QGemmKernels.h"

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

namespace kiln_test {

/// The int8 family as qgemmKernelName spells it.
inline const char *qgemmFamilyName(kiln::QGemmFamily f) {
  switch (f) {
  case kiln::QGemmFamily::Portable:
    return "portable";
  case kiln::QGemmFamily::Avx2:
    return "avx2";
  case kiln::QGemmFamily::AvxVnni:
    return "avxvnni";
  case kiln::QGemmFamily::Avx512Vnni:
    return "avx512vnni";
  }
  return "unknown";
}

enum class Pattern { AllZero, Dense, Blocks1x4, Unstructured, ZeroChunk };

inline const char *patternName(Pattern p) {
  switch (p) {
  case Pattern::AllZero:
    return "all-zero";
  case Pattern::Dense:
    return "dense";
  case Pattern::Blocks1x4:
    return "1x4-blocks";
  case Pattern::Unstructured:
    return "unstructured";
  default:
    return "zero-chunk";
  }
}

/// A k x n row-major B with the pattern's zeros, its other values from
/// value(rng) (never 0): 1x4 blocks at 80%, unstructured at 90%, and for
/// ZeroChunk half the values, with columns 16..31, column 3 and every
/// third row zero (a chunk, a column and rows with no stored block).
template <class T, class Value>
std::vector<T> makeSparseB(int64_t k, int64_t n, Pattern pattern, std::mt19937 &rng,
                           Value value) {
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  std::vector<T> b(size_t(k * n));
  for (int64_t p = 0; p < k; ++p)
    for (int64_t q = 0; q < (n + 3) / 4; ++q) {
      const bool blockKept = unit(rng) >= 0.8f;
      for (int64_t j = 4 * q; j < std::min(n, 4 * q + 4); ++j) {
        bool kept = true;
        if (pattern == Pattern::AllZero)
          kept = false;
        else if (pattern == Pattern::Blocks1x4)
          kept = blockKept;
        else if (pattern == Pattern::Unstructured)
          kept = unit(rng) >= 0.9f;
        else if (pattern == Pattern::ZeroChunk)
          kept = !(j >= 16 && j < 32) && j != 3 && p % 3 != 0 && unit(rng) >= 0.5f;
        b[size_t(p * n + j)] = kept ? value(rng) : T(0);
      }
    }
  return b;
}

} // namespace kiln_test

#endif // KILN_RUNTIME_TESTS_SPARSE_PATTERNS_H
