//===- Softmax.cpp - kiln_softmax_desc over the session's threads ---------===//
//
// Rows are independent, so the threads take runs of whole rows (never a
// row apart: its sum is one thread's). A row of n floats costs about 20 n
// vector-lane operations (three passes, most of it exp), which sets how
// many rows a thread needs to be worth waking: as for the model's own
// parallel loops (Session.cpp), ~2^17 operations.
//
//===----------------------------------------------------------------------===//

#include "Softmax.h"

#include "GemmKernels.h"
#include "GemmShared.h"

#include <stdexcept>
#include <string>

namespace kiln {
namespace {

/// Operations per element of a row.
constexpr int64_t kCostPerElement = 20;

void checkDesc(const kiln_softmax_desc &d) {
  if (d.m < 0 || d.n < 0 || d.batch[0] < 0 || d.batch[1] < 0)
    throw std::invalid_argument("kiln_softmax_desc: a negative size");
  if (d.addend && d.addend_cs != 0 && d.addend_cs != 1)
    throw std::invalid_argument("kiln_softmax_desc: addend_cs " + std::to_string(d.addend_cs) +
                                " is neither 0 nor 1");
}

/// Rows [begin, end) of the whole batch (forRunsOfRows).
void runRows(SoftmaxRowsFn rowsFn, const kiln_softmax_desc &d, int64_t begin, int64_t end) {
  const float scale = float(d.scale);
  forRunsOfRows(d, begin, end, [&](const auto &at, int64_t rows) {
    rowsFn(d.x + at(d.batch_stride_x, d.x_rs), d.x_rs, d.y + at(d.batch_stride_y, d.y_rs), d.y_rs,
           d.addend ? d.addend + at(d.batch_stride_addend, d.addend_rs) : nullptr, d.addend_rs,
           d.addend_cs, rows, d.n, scale);
  });
}

} // namespace

void softmaxWith(const GemmMicroKernel &kernel, const kiln_softmax_desc &d, ThreadPool *pool) {
  checkDesc(d);
  const int64_t rows = d.batch[0] * d.batch[1] * d.m;
  if (rows == 0 || d.n == 0)
    return;
  forRowRuns(pool, rows, d.n * kCostPerElement, [&](int64_t begin, int64_t end) {
    runRows(kernel.softmaxRows, d, begin, end);
  });
}

void softmax(const kiln_softmax_desc &desc, ThreadPool *pool) {
  softmaxWith(selectedGemmKernel(), desc, pool);
}

} // namespace kiln
