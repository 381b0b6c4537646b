//===- Gemm.cpp - fp32 matrix multiply: blocking, threads, dispatch -------===//
//
// The BLIS loop nest around a micro-kernel of GemmKernels.h, run on one
// tile of C (a rectangle of rows and columns) per thread:
//
//   for each nc-wide block of columns
//     for each kc-deep slice of K            pack B: kc x nc, stays in L2
//       for each mr-tall strip of rows       pack A: mr x kc, stays in L1
//         for each nr-wide panel of B        micro-kernel on one tile
//
// Packing reads A and B through their strides, so transposed and broadcast
// operands need no copy beforehand, and pads edge panels with zeros so the
// micro-kernel always computes full tiles.
//
//===----------------------------------------------------------------------===//

#include "Gemm.h"
#include "../ThreadPool.h"
#include "GemmKernels.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>

namespace kiln {
namespace {

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t roundUp(int64_t a, int64_t b) { return ceilDiv(a, b) * b; }

/// The size of blocks that split `total` into equal parts of at most
/// `limit`, rounded up to `unit`: 257 by 256 gives 2 x 129, not 256 + 1.
int64_t balancedBlock(int64_t total, int64_t limit, int64_t unit) {
  return roundUp(ceilDiv(total, ceilDiv(total, limit)), unit);
}

/// Grow-only, 64-byte aligned scratch for the packed blocks, one per thread
/// so that pool threads pack independently, and kept between calls so that
/// small GEMMs do not allocate.
class PackBuffer {
public:
  PackBuffer() = default;
  PackBuffer(const PackBuffer &) = delete;
  PackBuffer &operator=(const PackBuffer &) = delete;
  ~PackBuffer() { release(); }

  float *get(size_t floats) {
    if (floats > capacity) {
      release();
      data = static_cast<float *>(::operator new(floats * sizeof(float), kAlign));
      capacity = floats;
    }
    return data;
  }

private:
  static constexpr std::align_val_t kAlign{64};
  void release() {
    ::operator delete(data, kAlign);
    data = nullptr;
    capacity = 0;
  }
  float *data = nullptr;
  size_t capacity = 0;
};

thread_local PackBuffer packBuffer;

/// C[i0:i1, j0:j1] on the calling thread; k > 0.
void gemmTile(const GemmMicroKernel &kernel, const GemmArgs &g, int64_t i0, int64_t i1, int64_t j0,
              int64_t j1) {
  const int64_t mr = kernel.mr, nr = kernel.nr;
  const int64_t kcMax = balancedBlock(g.k, kernel.kc, 1);
  const int64_t ncMax = balancedBlock(j1 - j0, kernel.nc, nr);
  // Packed B first, then the panel of A at a 64-byte boundary.
  const int64_t bFloats = roundUp(kcMax * ncMax, 16);
  float *packedB = packBuffer.get(bFloats + mr * kcMax);
  float *packedA = packedB + bFloats;

  for (int64_t jc = j0; jc < j1; jc += ncMax) {
    const int64_t nc = std::min(ncMax, j1 - jc);
    for (int64_t pc = 0; pc < g.k; pc += kcMax) {
      const int64_t kc = std::min(kcMax, g.k - pc);
      const bool accumulate = g.accumulate || pc > 0;
      kernel.packB(g.b + pc * g.bRowStride + jc * g.bColStride, g.bRowStride, g.bColStride, kc, nc,
                   packedB);
      for (int64_t ir = i0; ir < i1; ir += mr) {
        const int64_t rows = std::min(mr, i1 - ir);
        kernel.packA(g.a + ir * g.aRowStride + pc * g.aColStride, g.aRowStride, g.aColStride, rows,
                     kc, packedA);
        float *c = g.c + ir * g.cRowStride + jc;
        for (int64_t jr = 0; jr < nc; jr += nr)
          kernel.run(kc, packedA, packedB + jr * kc, c + jr, g.cRowStride, rows,
                     std::min(nr, nc - jr), accumulate);
      }
    }
  }
}

/// Below this many multiply-adds per thread (under 0.1 ms on one core),
/// waking the pool's sleeping workers costs more than they save: a wake-up
/// took tens of microseconds in a VM.
constexpr int64_t kMinWorkPerThread = int64_t(1) << 23;

/// How C is cut into tiles for the threads.
struct Tiling {
  int64_t rows, cols; // of one tile (edge tiles are smaller)
  int64_t count;
};

/// Tiles for `threads` threads: the split into gm x gn that minimises the
/// per-thread cost, where a tile of r x c costs its r*c multiply-adds per k
/// plus its packing: every tile packs its rows of A and its columns of B.
/// Packing A transposes one float at a time while B is copied a vector at a
/// time, hence the weights (on 2 threads they pick the faster of the two
/// splits for the benchmark's shapes: N for 128 x 3072, M for the rest).
Tiling chooseTiling(const GemmMicroKernel &kernel, int64_t m, int64_t n, int64_t threads) {
  constexpr int64_t kPackACost = 32, kPackBCost = 3; // in multiply-adds per element
  Tiling best{m, n, 1};
  int64_t bestCost = INT64_MAX;
  for (int64_t gm = 1; gm <= threads; ++gm) {
    const int64_t gn = ceilDiv(threads, gm);
    const int64_t rows = roundUp(ceilDiv(m, gm), kernel.mr);
    const int64_t cols = roundUp(ceilDiv(n, gn), kernel.nr);
    const int64_t count = ceilDiv(m, rows) * ceilDiv(n, cols);
    const int64_t rounds = ceilDiv(count, threads);
    const int64_t cost = rounds * (rows * cols + kPackACost * rows + kPackBCost * cols);
    if (cost < bestCost) {
      bestCost = cost;
      best = {rows, cols, count};
    }
  }
  return best;
}

/// The best family this CPU has, unless KILN_GEMM_KERNEL (portable, avx2 or
/// avx512; for tests and benchmarks) asks for one below it. A family the CPU
/// lacks falls back to the best below it; other values are ignored.
const GemmMicroKernel &pickKernel() {
  GemmFamily family = GemmFamily::Avx512;
  if (const char *forced = std::getenv("KILN_GEMM_KERNEL")) {
    if (std::strcmp(forced, "portable") == 0)
      family = GemmFamily::Portable;
    else if (std::strcmp(forced, "avx2") == 0)
      family = GemmFamily::Avx2;
  }
  return gemmMicroKernel(family);
}

const GemmMicroKernel &selectedKernel() {
  static const GemmMicroKernel &kernel = pickKernel();
  return kernel;
}

} // namespace

bool gemmFamilySupported(GemmFamily family) {
  switch (family) {
  case GemmFamily::Portable:
    return true;
#ifdef KILN_GEMM_X86
  case GemmFamily::Avx2:
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  case GemmFamily::Avx512:
    return __builtin_cpu_supports("avx512f");
#endif
  default:
    return false;
  }
}

const GemmMicroKernel &gemmMicroKernel(GemmFamily family) {
#ifdef KILN_GEMM_X86
  if (family == GemmFamily::Avx512 && gemmFamilySupported(GemmFamily::Avx512))
    return gemmAvx512Kernel;
  if (family != GemmFamily::Portable && gemmFamilySupported(GemmFamily::Avx2))
    return gemmAvx2Kernel;
#endif
  (void)family;
  return gemmPortableKernel;
}

void sgemmWith(const GemmMicroKernel &kernel, const GemmArgs &g, ThreadPool *pool) {
  if (g.m <= 0 || g.n <= 0)
    return;
  if (g.k <= 0) {
    if (!g.accumulate)
      for (int64_t i = 0; i < g.m; ++i)
        std::fill_n(g.c + i * g.cRowStride, g.n, 0.0f);
    return;
  }
  const int64_t work = g.m * g.n * g.k;
  const int64_t threads =
      pool ? std::min<int64_t>(pool->numThreads(), std::max<int64_t>(1, work / kMinWorkPerThread))
           : 1;
  if (threads == 1) {
    gemmTile(kernel, g, 0, g.m, 0, g.n);
    return;
  }
  const Tiling t = chooseTiling(kernel, g.m, g.n, threads);
  const int64_t tilesAcross = ceilDiv(g.n, t.cols);
  pool->parallelFor(size_t(t.count), 1, [&](size_t begin, size_t end) {
    for (size_t tile = begin; tile < end; ++tile) {
      const int64_t i0 = int64_t(tile) / tilesAcross * t.rows;
      const int64_t j0 = int64_t(tile) % tilesAcross * t.cols;
      gemmTile(kernel, g, i0, std::min(g.m, i0 + t.rows), j0, std::min(g.n, j0 + t.cols));
    }
  });
}

void sgemm(const GemmArgs &args, ThreadPool *pool) { sgemmWith(selectedKernel(), args, pool); }

const char *sgemmKernelName() { return selectedKernel().name; }

} // namespace kiln
