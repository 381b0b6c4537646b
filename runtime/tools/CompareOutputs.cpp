//===- CompareOutputs.cpp - kiln-run --compare ----------------------------===//

#include "CompareOutputs.h"
#include "kiln_io.h"

#include <cmath>
#include <cstdio>
#include <cstring>

namespace kiln::tools {

OutputComparison compareOutputs(const kiln_tensor &got, const kiln_tensor &ref, double atol,
                                double rtol) {
  OutputComparison c;
  c.sameShape = got.dtype == ref.dtype && got.rank == ref.rank &&
                std::memcmp(got.dims, ref.dims, sizeof(int64_t) * got.rank) == 0;
  if (!c.sameShape)
    return c;
  c.elements = got.byte_size / kiln_dtype_size(got.dtype);
  double dot = 0, gotNorm = 0, refNorm = 0;
  for (size_t e = 0; e < c.elements; ++e) {
    double g = io::elementAsDouble(got.dtype, got.data, e);
    double r = io::elementAsDouble(ref.dtype, ref.data, e);
    if (std::isnan(g) || std::isnan(r)) {
      c.pastTolerance += std::isnan(g) != std::isnan(r);
      continue;
    }
    double diff = std::fabs(g - r);
    c.maxAbs = std::fmax(c.maxAbs, diff);
    if (r != 0)
      c.maxRel = std::fmax(c.maxRel, diff / std::fabs(r));
    c.pastTolerance += diff > atol + rtol * std::fabs(r);
    dot += g * r;
    gotNorm += g * g;
    refNorm += r * r;
  }
  if (gotNorm > 0 || refNorm > 0)
    c.cosine = gotNorm > 0 && refNorm > 0 ? dot / std::sqrt(gotNorm * refNorm) : 0;
  return c;
}

std::string describe(const OutputComparison &c) {
  if (!c.sameShape)
    return "different shape or dtype";
  char text[256];
  std::snprintf(text, sizeof text, "max_abs=%.3g max_rel=%.3g cosine=%.9f (%zu of %zu past "
                "atol + rtol*|ref|)", c.maxAbs, c.maxRel, c.cosine, c.pastTolerance, c.elements);
  return text;
}

} // namespace kiln::tools
