//===- CompareOutputs.h - kiln-run --compare: outputs against a reference ===//
//
// kiln-run --compare REF.so runs a second Kiln library (typically the
// model's unoptimized fp32 build, made by `kiln run --compare model.onnx`)
// on the same inputs and reports, per output, how far the first is from it.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_TOOLS_COMPAREOUTPUTS_H
#define KILN_RUNTIME_TOOLS_COMPAREOUTPUTS_H

#include "kiln/kiln.h"
#include <cstddef>
#include <string>

namespace kiln::tools {

struct OutputComparison {
  bool sameShape = false; // and the same dtype
  double maxAbs = 0, maxRel = 0, cosine = 1;
  size_t elements = 0, pastTolerance = 0; // |got - ref| > atol + rtol * |ref|
  bool passed() const { return sameShape && pastTolerance == 0; }
};

/// Compares `got` with `ref` element by element (as doubles; NaN matches
/// NaN, a NaN against a number is past any tolerance). max_rel divides by
/// |ref| where it is not 0; the cosine is of the two outputs as vectors (1
/// when both are all zero).
OutputComparison compareOutputs(const kiln_tensor &got, const kiln_tensor &ref, double atol,
                                double rtol);

/// "max_abs=... max_rel=... cosine=... (N of M past atol + rtol*|ref|)".
std::string describe(const OutputComparison &c);

} // namespace kiln::tools

#endif // KILN_RUNTIME_TOOLS_COMPAREOUTPUTS_H
