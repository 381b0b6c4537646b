//===- GemmShared.h - What the fp32 and int8 GEMM drivers share -*- C++ -*-===//
//
// Internal to the runtime: blocking arithmetic, the per-thread pack buffer
// and the split of a batch of GEMMs into tiles for the threads, used by
// Gemm.cpp and QGemm.cpp (and the split of rows that the row softmax and
// layer norm share). Not for the micro-kernel files (it defines inline
// functions, see GemmKernels.h).
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_KERNELS_GEMMSHARED_H
#define KILN_RUNTIME_KERNELS_GEMMSHARED_H

#include "../ThreadPool.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace kiln {

inline int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
inline int64_t roundUp(int64_t a, int64_t b) { return ceilDiv(a, b) * b; }

/// The size of blocks that split `total` into equal parts of at most
/// `limit`, rounded up to `unit`: 257 by 256 gives 2 x 129, not 256 + 1.
inline int64_t balancedBlock(int64_t total, int64_t limit, int64_t unit) {
  return roundUp(ceilDiv(total, ceilDiv(total, limit)), unit);
}

/// Grow-only, 64-byte aligned scratch of at least `bytes` for the calling
/// thread's packed blocks (one per thread, so that pool threads pack
/// independently; kept between calls, so that small GEMMs do not allocate).
/// Valid until the thread's next call.
void *gemmPackBuffer(size_t bytes);

/// The L2 cache of this CPU in bytes, or 0 when the system does not say.
int64_t l2CacheBytes();

/// The threads of `pool` (null: 1) worth waking for `work` multiply-adds.
int64_t gemmThreads(const ThreadPool *pool, int64_t work);

/// How each GEMM of a batch is cut into tiles for the threads.
struct Tiling {
  int64_t rows, cols; // of one tile (edge tiles are smaller)
  int64_t count;      // tiles per GEMM
};

/// Tiles of multiples of rowUnit x nr for `threads` threads over `batch`
/// GEMMs of m x n, each tile also packing its rows of A and (at packBCost
/// multiply-adds per column and step of k) its columns of B (Gemm.cpp).
/// rowUnit is the kernel's strip height where a tile must hold whole
/// strips, or less where partial strips cost only their rows.
Tiling chooseTiling(int64_t rowUnit, int64_t nr, int64_t m, int64_t n, int64_t batch,
                    int64_t threads, int64_t packBCost);

/// Runs tile(index, i0, i1, j0, j1) on C[i0:i1, j0:j1] of GEMM `index` for
/// every tile of `t` of each of `batch` GEMMs of m x n, on `threads`
/// threads of `pool`: one parallel loop over (GEMM, tile) pairs, so that a
/// batch of small GEMMs spreads over the threads as well as one big one.
template <class TileFn>
void forEachTile(ThreadPool *pool, int64_t threads, int64_t batch, int64_t m, int64_t n,
                 const Tiling &t, const TileFn &tile) {
  const int64_t tilesAcross = ceilDiv(n, t.cols);
  auto items = [&](size_t begin, size_t end) {
    for (size_t item = begin; item < end; ++item) {
      const int64_t index = int64_t(item) / t.count, within = int64_t(item) % t.count;
      const int64_t i0 = within / tilesAcross * t.rows, j0 = within % tilesAcross * t.cols;
      tile(index, i0, std::min(m, i0 + t.rows), j0, std::min(n, j0 + t.cols));
    }
  };
  const size_t count = size_t(batch * t.count);
  if (threads == 1)
    items(0, count);
  else
    pool->parallelFor(count, 1, items);
}

/// Runs rowsFn(begin, end) over rows [0, rows), each row costing about
/// rowCost operations, split over the threads of `pool` (may be null) in
/// runs of whole rows when each thread gets ~2^17 operations (as for the
/// model's own parallel loops), four runs per thread so that a thread held
/// up elsewhere delays less; else inline, in one call.
template <class RowsFn>
void forRowRuns(ThreadPool *pool, int64_t rows, int64_t rowCost, const RowsFn &rowsFn) {
  constexpr int64_t kMinWorkPerThread = int64_t(1) << 17;
  const int64_t threads =
      pool ? std::min<int64_t>(pool->numThreads(),
                               std::max<int64_t>(1, rows * std::max<int64_t>(rowCost, 1) /
                                                        kMinWorkPerThread))
           : 1;
  if (threads == 1)
    return rowsFn(int64_t(0), rows);
  const int64_t grain = std::max<int64_t>(1, ceilDiv(rows, 4 * threads));
  pool->parallelFor(size_t(rows), size_t(grain), [&](size_t begin, size_t end) {
    rowsFn(int64_t(begin), int64_t(end));
  });
}

/// Rows [begin, end) of a row descriptor's whole batch (kiln_softmax_desc,
/// kiln_layer_norm_desc: batch[0] x batch[1] matrices of m rows), row r
/// being row r % m of matrix r / m, as runs within one matrix: run(at, rows)
/// for each, at(batchStride, rowStride) the run's first element's offset
/// in an operand with those strides.
template <class Desc, class RunFn>
void forRunsOfRows(const Desc &d, int64_t begin, int64_t end, const RunFn &run) {
  while (begin < end) {
    const int64_t matrix = begin / d.m, row = begin % d.m;
    const int64_t rows = std::min(d.m - row, end - begin);
    const int64_t b0 = matrix / d.batch[1], b1 = matrix % d.batch[1];
    run([&](const int64_t *batchStride, int64_t rowStride) {
      return b0 * batchStride[0] + b1 * batchStride[1] + row * rowStride;
    }, rows);
    begin += rows;
  }
}

} // namespace kiln

#endif // KILN_RUNTIME_KERNELS_GEMMSHARED_H
