//===- SoftmaxColumns.h - the row softmax down columns of scores -*- C++ -*-===//
//
// Included only by GemmAvx512.cpp (the family whose kernel reads A in
// place), after SoftmaxRows.h, whose exp it uses; internal linkage, as
// there. The fused attention (Attention.cpp) can compute a block of NR
// queries' scores transposed, S^T = K Q^T: keys down the rows, the queries
// across one row of NR floats, which is a C of the micro-kernel (Q^T packed
// as its B panel) and, read with A's row stride 1 and column stride NR,
// the A of the product by V, in place. Each query's softmax then runs down
// a column, so that every operation is a whole vector of queries: no
// reductions across lanes, no partial vectors, no transposition into a
// packed panel (the row softmax with them took about a third of the
// attention at BERT's head sizes).
//
// The floats are those of softmaxRows on each query's row: the same scale,
// addend, maximum and exp per score; and the sum in the row's order, which
// V::reduceAdd defines: the row's vector lanes each add the keys of one
// residue mod V::kWidth in key order, then the lanes meet in a halving tree
// (lane l plus lane l + w/2, and so on). Here partial sums by residue take
// the lanes' place and meet in the same tree.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_KERNELS_SOFTMAXCOLUMNS_H
#define KILN_RUNTIME_KERNELS_SOFTMAXCOLUMNS_H

#include "SoftmaxRows.h"

#include <cstdint>

namespace kiln {
namespace {

/// The softmax of kiln_softmax_desc over each column j < NR of s (n rows,
/// NR floats apart), in place: s(p, j) = s[p * NR + j] is the score of key
/// p for query j. The addend (or none) is a term per key for every query,
/// addend[p * keyStride] (BERT's mask broadcast over the rows), or with
/// perQuery a row of NR terms per key, addend[p * keyStride + j].
template <class V, int NR>
void softmaxColumns(float *s, int64_t n, const float *addend, int64_t keyStride, bool perQuery,
                    float scale) {
  using Reg = typename V::Reg;
  constexpr int64_t w = V::kWidth;
  constexpr int NV = int(NR / w);
  static_assert(NR % w == 0, "whole vectors of queries");
  const float inf = __builtin_inff();
  Reg max[NV];
  for (int v = 0; v < NV; ++v)
    max[v] = V::set1(-inf);
  for (int64_t p = 0; p < n; ++p) {
    float *row = s + p * NR;
    const float *terms = addend ? addend + p * keyStride : nullptr;
    const Reg term = V::set1(terms && !perQuery ? *terms : 0.0f);
    for (int v = 0; v < NV; ++v) {
      Reg t = V::mul(V::load(row + v * w, w), V::set1(scale));
      if (terms)
        t = V::add(t, perQuery ? V::load(terms + v * w, w) : term);
      V::store(row + v * w, t, w);
      max[v] = V::max(max[v], t);
    }
  }
  // exp(t - max) in place; its sum by residues (keys l, l + w, ... in
  // order: a row's lane l), then the lanes' halving tree.
  Reg partial[w][NV];
  for (int64_t l = 0; l < w; ++l) {
    Reg acc[NV];
    for (int v = 0; v < NV; ++v)
      acc[v] = V::set1(0.0f);
    for (int64_t p = l; p < n; p += w) {
      float *row = s + p * NR;
      for (int v = 0; v < NV; ++v) {
        const Reg e = expNonPositive<V>(V::sub(V::load(row + v * w, w), max[v]));
        V::store(row + v * w, e, w);
        acc[v] = V::add(acc[v], e);
      }
    }
    for (int v = 0; v < NV; ++v)
      partial[l][v] = acc[v];
  }
  // (Rolled up: 15 adds a block of nr queries are not worth their code.)
#pragma GCC unroll 1
  for (int64_t half = w / 2; half >= 1; half /= 2)
#pragma GCC unroll 1
    for (int64_t l = 0; l < half; ++l)
      for (int v = 0; v < NV; ++v)
        partial[l][v] = V::add(partial[l][v], partial[l + half][v]);
  Reg inverse[NV];
  for (int v = 0; v < NV; ++v)
    inverse[v] = V::div(V::set1(1.0f), partial[0][v]);
  for (int64_t p = 0; p < n; ++p) {
    float *row = s + p * NR;
    for (int v = 0; v < NV; ++v)
      V::store(row + v * w, V::mul(V::load(row + v * w, w), inverse[v]), w);
  }
}

} // namespace
} // namespace kiln

#endif // KILN_RUNTIME_KERNELS_SOFTMAXCOLUMNS_H
