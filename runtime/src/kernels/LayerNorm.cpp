//===- LayerNorm.cpp - kiln_layer_norm_desc over the session's threads ----===//
//
// Rows are independent, so the threads take runs of whole rows, as in the
// row softmax (Softmax.cpp; forRowRuns). A row of n floats costs about 8 n
// vector-lane operations (three passes), which sets how many rows a thread
// needs to be worth waking.
//
//===----------------------------------------------------------------------===//

#include "LayerNorm.h"

#include "GemmKernels.h"
#include "GemmShared.h"

#include <algorithm>
#include <stdexcept>

namespace kiln {
namespace {

/// Operations per element of a row.
constexpr int64_t kCostPerElement = 8;

void checkDesc(const kiln_layer_norm_desc &d) {
  if (d.m < 0 || d.n < 0 || d.batch[0] < 0 || d.batch[1] < 0)
    throw std::invalid_argument("kiln_layer_norm_desc: a negative size");
  if (!d.scale && d.n > 0)
    throw std::invalid_argument("kiln_layer_norm_desc: no scale");
}

/// Rows [begin, end) of the whole batch (forRunsOfRows).
void runRows(LayerNormRowsFn rowsFn, const kiln_layer_norm_desc &d, int64_t begin, int64_t end) {
  const float epsilon = float(d.epsilon);
  forRunsOfRows(d, begin, end, [&](const auto &at, int64_t rows) {
    rowsFn(d.x + at(d.batch_stride_x, d.x_rs), d.x_rs, d.y + at(d.batch_stride_y, d.y_rs), d.y_rs,
           d.scale, d.bias, rows, d.n, epsilon);
  });
}

} // namespace

void layerNormWith(const GemmMicroKernel &kernel, const kiln_layer_norm_desc &d,
                   ThreadPool *pool) {
  checkDesc(d);
  const int64_t rows = d.batch[0] * d.batch[1] * d.m;
  if (rows == 0 || d.n == 0)
    return;
  forRowRuns(pool, rows, d.n * kCostPerElement, [&](int64_t begin, int64_t end) {
    runRows(kernel.layerNormRows, d, begin, end);
  });
}

void layerNorm(const kiln_layer_norm_desc &desc, ThreadPool *pool) {
  layerNormWith(selectedGemmKernel(), desc, pool);
}

} // namespace kiln
