//===- Gemm.cpp - fp32 matrix multiply: blocking, threads, dispatch -------===//
//
// The BLIS loop nest around a micro-kernel of GemmKernels.h, run on one
// tile of C (a rectangle of rows and columns) per thread:
//
//   for each nc-wide block of columns
//     for each kc-deep slice of K            pack B: kc x nc, stays in L2
//       for each mr-tall strip of rows       pack A: mr x kc, stays in L1
//         for each nr-wide panel of B        micro-kernel on one tile
//       epilogue on the strip (last slice)   bias, activation, residual
//
// except that a row-major A is not packed at all where the family's kernel
// reads it in place (runStridedA: AVX-512), and any other A is packed
// once, on the first block of columns, when there are several and all of
// packed A is small enough to keep (the strips would otherwise be packed
// again for every block).
//
// Packing reads A and B through their strides, so transposed and broadcast
// operands need no copy beforehand, and pads edge panels with zeros so the
// micro-kernel always computes full tiles. A B prepacked at compile time
// for the kernel's nr (kiln_gemm_desc::b_panel) is read in place, with no
// packing at all; one prepacked for another width is repacked.
//
// A batch of GEMMs is one parallel loop over (GEMM, tile) pairs, so that
// attention's many small GEMMs share the threads like one big one.
//
// The same loops run the bf16 kernels (b_type KILN_DTYPE_BFLOAT16), whose
// packed panels hold bf16 pairs of steps of k (GemmKernels.h): in packed
// elements, every offset below holds with k rounded up to even, and slices
// of K are cut at even steps, so one template serves both.
//
//===----------------------------------------------------------------------===//

#include "Gemm.h"
#include "../ThreadPool.h"
#include "GemmKernels.h"
#include "GemmShared.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include <unistd.h>

// Generated code fills the descriptor as an array of int64: its layout is
// the ABI.
static_assert(sizeof(kiln_gemm_desc) == KILN_GEMM_DESC_FIELDS * sizeof(int64_t),
              "kiln_gemm_desc: every field is 64 bits wide");

namespace kiln {
namespace {

/// One GEMM of a batch as its tiles see it: the operands moved to its
/// batch index, and the epilogue (kiln_gemm_desc). B holds float, or bf16
/// bits (uint16_t) for the bf16 kernels.
template <class Packed> struct Problem {
  int64_t m, n, k;
  const float *a;
  int64_t aRowStride, aColStride;
  const Packed *b;     // bPanel != 0: prepacked (in the family's elements)
  const float *bFloat; // bPanel == 0: an fp32 B, packed (bf16: rounded) as read
  int64_t bRowStride, bColStride, bPanel;
  float *c;
  int64_t ldc;
  bool accumulate;
  const float *bias;
  int64_t activation;
  const float *residual;
  int64_t residualRowStride;

  bool hasEpilogue() const { return bias || residual || activation != KILN_GEMM_ACT_NONE; }
};

/// GEMM `index` (b0 * batch[1] + b1) of the batch.
template <class Packed> Problem<Packed> problemAt(const kiln_gemm_desc &d, int64_t index) {
  const int64_t b0 = index / d.batch[1], b1 = index % d.batch[1];
  auto offset = [&](const int64_t *stride) { return b0 * stride[0] + b1 * stride[1]; };
  return {d.m,
          d.n,
          d.k,
          d.a + offset(d.batch_stride_a),
          d.a_rs,
          d.a_cs,
          d.b_panel ? static_cast<const Packed *>(static_cast<const void *>(d.b)) +
                          offset(d.batch_stride_b)
                    : nullptr,
          d.b_panel ? nullptr : static_cast<const float *>(d.b) + offset(d.batch_stride_b),
          d.b_rs,
          d.b_cs,
          d.b_panel,
          d.c + offset(d.batch_stride_c),
          d.ldc,
          d.accumulate != 0,
          d.bias,
          d.activation,
          d.residual ? d.residual + offset(d.batch_stride_residual) : nullptr,
          d.residual_rs};
}

/// Steps of k per packed element group (1 for float, 2 for bf16 pairs).
template <class Packed> constexpr int64_t kGroup = GemmPacking<Packed>::kStepsPerGroup;

/// Copies kc x nc of B at (pc, jc) from the prepacked layout of width W
/// (kiln_gemm_desc::b_panel) into the kernel's panels of width nr: an
/// artifact built for another CPU. Correct but not tuned. With groups of
/// g steps of k (bf16 pairs), B(p, col) lies at
/// b[col/W * K*W + p/g * g*W + col%W * g + p%g], K = k rounded up to g.
template <class Packed>
void repackPanels(const Packed *b, int64_t w, int64_t k, int64_t pc, int64_t kc, int64_t jc,
                  int64_t nc, int64_t nr, Packed *dst) {
  constexpr int64_t g = kGroup<Packed>;
  const int64_t kPacked = roundUp(k, g), kcPacked = roundUp(kc, g);
  for (int64_t j0 = 0; j0 < nc; j0 += nr, dst += kcPacked * nr)
    for (int64_t p = 0; p < kcPacked; ++p)
      for (int64_t j = 0; j < nr; ++j) {
        const int64_t col = jc + j0 + j, row = pc + p;
        dst[p / g * g * nr + j * g + p % g] =
            j0 + j < nc ? b[col / w * kPacked * w + row / g * g * w + col % w * g + row % g]
                        : Packed(0);
      }
}

/// Where the micro-kernel reads a kc x nc block of B: panels of kc x nr,
/// `stride` packed elements apart.
template <class Packed> struct BlockOfB {
  const Packed *panels;
  int64_t stride;
};

/// The block of B at (pc, jc): straight from a prepacked B of the kernel's
/// width (its panels are k*nr apart, the slice starts pc rows down), else
/// packed into `scratch`. (Copying the slices of a prepacked B whose panel
/// distance is a multiple of 64 KiB, against L2 set conflicts, measured no
/// faster.)
template <class Packed>
BlockOfB<Packed> blockOfB(const GemmMicroKernelOf<Packed> &kernel, const Problem<Packed> &g,
                          int64_t pc, int64_t kc, int64_t jc, int64_t nc, Packed *scratch) {
  const int64_t nr = kernel.nr, kPacked = roundUp(g.k, kGroup<Packed>);
  if (g.bPanel == nr) // panel jc / nr starts at jc / nr * K * nr
    return {g.b + jc * kPacked + pc * nr, kPacked * nr};
  if (g.bPanel)
    repackPanels(g.b, g.bPanel, g.k, pc, kc, jc, nc, nr, scratch);
  else
    kernel.packB(g.bFloat + pc * g.bRowStride + jc * g.bColStride, g.bRowStride, g.bColStride, kc,
                 nc, scratch);
  return {scratch, roundUp(kc, kGroup<Packed>) * nr};
}

/// The epilogue on rows x cols of C at (i, j), if there is one.
template <class Packed>
void epilogueAt(const GemmMicroKernelOf<Packed> &kernel, const Problem<Packed> &g, int64_t i, int64_t j, int64_t rows,
                int64_t cols) {
  if (!g.hasEpilogue())
    return;
  kernel.epilogue(g.c + i * g.ldc + j, g.ldc, rows, cols, g.bias ? g.bias + j : nullptr,
                  g.activation, g.residual ? g.residual + i * g.residualRowStride + j : nullptr,
                  g.residualRowStride);
}

/// An empty sum (k = 0): C is 0 (or stays), then the epilogue.
template <class Packed>
void emptyTile(const GemmMicroKernelOf<Packed> &kernel, const Problem<Packed> &g, int64_t i0, int64_t i1, int64_t j0,
               int64_t j1) {
  if (!g.accumulate)
    for (int64_t i = i0; i < i1; ++i)
      std::fill(g.c + i * g.ldc + j0, g.c + i * g.ldc + j1, 0.0f);
  epilogueAt(kernel, g, i0, j0, i1 - i0, j1 - j0);
}

/// C[i0:i1, j] when C has that one column (N = 1: a matrix-vector product,
/// such as a mask-weighted sum over tokens) and B is fp32 as it lies: the
/// micro-kernel's panels would multiply nr - 1 columns of zeros, and
/// packing A would cost more than the products. C(i) += A(i, p) B(p) over
/// p in order, a vector of rows at a time where A's and C's rows are
/// contiguous (the compiler's loop), then the epilogue.
void columnTile(const GemmMicroKernel &kernel, const Problem<float> &g, int64_t i0, int64_t i1,
                int64_t j) {
  float *c = g.c + j;
  if (!g.accumulate)
    for (int64_t i = i0; i < i1; ++i)
      c[i * g.ldc] = 0.0f;
  const float *b = g.bFloat + j * g.bColStride;
  for (int64_t p = 0; p < g.k; ++p) {
    const float bp = b[p * g.bRowStride];
    const float *a = g.a + p * g.aColStride;
    if (g.aRowStride == 1 && g.ldc == 1)
      for (int64_t i = i0; i < i1; ++i)
        c[i] += a[i] * bp;
    else
      for (int64_t i = i0; i < i1; ++i)
        c[i * g.ldc] += a[i * g.aRowStride] * bp;
  }
  epilogueAt(kernel, g, i0, j, i1 - i0, 1);
}

/// The widest block of B (nc columns of kc rows) to keep in L2: half of it,
/// so that the strips of A and C that pass through and the block's own
/// fetch have room (1024 columns on a 2 MiB L2, 512 on 1 MiB). The
/// kernel's nc where the L2 is unknown.
template <class Packed>
int64_t blockColumns(const GemmMicroKernelOf<Packed> &kernel, int64_t kc) {
  const int64_t l2 = l2CacheBytes();
  if (l2 == 0)
    return kernel.nc;
  const int64_t columns = l2 / 2 / (kc * int64_t(sizeof(Packed))) / kernel.nr * kernel.nr;
  return std::clamp<int64_t>(columns, 4 * kernel.nr, 4 * kernel.nc);
}

/// The most packed elements of A that a tile keeps to use for all its
/// blocks of columns (4 MiB of floats): beyond that, as for a B of one
/// block, each strip is packed where it is used.
constexpr int64_t kPackAOnceElements = int64_t(1) << 20;

/// C[i0:i1, j0:j1] of one GEMM on the calling thread; j0 is a multiple of
/// nr (so that prepacked panels line up).
///
/// Each strip of A (mr x kc, packed) stays in L1 while the panels of B
/// stream past it from L2, where the kc x nc block of B stays for all the
/// strips. Measured slower here on BERT's shapes: the BLIS order (a panel
/// of B in L1 meeting all the strips of A from L2; 3-8%, kc 128 to 384),
/// and prefetching the whole next block of a prepacked B into L2 during
/// this one (6%: the two blocks crowd L2).
///
/// A prepacked B (the model's weights) is usually in memory, not in any
/// cache, when the first strip meets it. So that the first strip does not
/// wait on each panel, the kernel fetches the next panel into L2 while it
/// computes the current one, and the last panel of the last strip fetches
/// the first panel of the next block. Where A is read in place (AVX-512),
/// each other tile fetches the first rows of the one after it from L2 into
/// L1 (GemmStridedAKernelFn's `warm`), which otherwise began by waiting on
/// them: kiln-gemm-bench --quick, M = 128, prepacked, ~2% more GFLOP/s on 1
/// and 2 threads (alternating runs, Zen 5).
template <class Packed>
void gemmTile(const GemmMicroKernelOf<Packed> &kernel, const Problem<Packed> &g, int64_t i0,
              int64_t i1, int64_t j0, int64_t j1) {
  if (g.k <= 0)
    return emptyTile(kernel, g, i0, i1, j0, j1);
  if constexpr (std::is_same_v<Packed, float>)
    if (g.n == 1 && g.bPanel == 0)
      return columnTile(kernel, g, i0, i1, j0);
  const int64_t mr = kernel.mr, nr = kernel.nr;
  // Slices of K start at even steps for bf16 pairs; K rounded up likewise.
  const int64_t kcMax = balancedBlock(g.k, kernel.kc, kGroup<Packed>);
  const int64_t kPacked = roundUp(g.k, kGroup<Packed>);
  const int64_t ncMax = balancedBlock(j1 - j0, blockColumns(kernel, kcMax), nr);
  const bool inPlace = g.bPanel == nr;
  // A row-major A goes to the kernel as it lies where the family can read
  // it so (GemmStridedAKernelFn): nothing to pack. Otherwise, with several
  // blocks of columns, every strip of A would be packed again for each:
  // pack all of A once instead (kept whole, each strip's panel of K steps
  // k-major, so a slice of K starts at pc * mr), where that is small enough
  // to keep for the tile (measured on AVX-512 before it read A in place:
  // all-MiniLM-L6-v2's QKV and FFN GEMMs, M = 128, N = 1152 and 1536 in 3
  // blocks, ~1% faster).
  bool readAInPlace = false;
  if constexpr (std::is_same_v<Packed, float>)
    readAInPlace = kernel.runStridedA && g.aColStride == 1;
  const int64_t strips = ceilDiv(i1 - i0, mr);
  const bool packAOnce =
      !readAInPlace && j1 - j0 > ncMax && strips * mr * kPacked <= kPackAOnceElements;
  // Packed B first (none when it is prepacked for this kernel), then A at a
  // 64-byte boundary: one panel, all of it, or none when read in place.
  constexpr int64_t kPerLine = 64 / int64_t(sizeof(Packed));
  const int64_t bElements = inPlace ? 0 : roundUp(kcMax * ncMax, kPerLine);
  const int64_t aElements = readAInPlace ? 0 : packAOnce ? strips * mr * kPacked : mr * kcMax;
  Packed *packedB =
      static_cast<Packed *>(gemmPackBuffer((bElements + aElements) * sizeof(Packed)));
  Packed *packedA = packedB + bElements;

  for (int64_t jc = j0; jc < j1; jc += ncMax) {
    const int64_t nc = std::min(ncMax, j1 - jc);
    for (int64_t pc = 0; pc < g.k; pc += kcMax) {
      const int64_t kc = std::min(kcMax, g.k - pc);
      const bool accumulate = g.accumulate || pc > 0;
      const bool last = pc + kc == g.k;
      const BlockOfB<Packed> b = blockOfB(kernel, g, pc, kc, jc, nc, packedB);
      // The first panel of the block after this one, if B is prepacked.
      const Packed *nextBlock = !inPlace          ? nullptr
                                : pc + kc < g.k   ? b.panels + kc * nr
                                : jc + nc < j1    ? g.b + (jc + nc) * kPacked
                                                  : nullptr;
      for (int64_t ir = i0; ir < i1; ir += mr) {
        const int64_t rows = std::min(mr, i1 - ir);
        const bool firstStrip = ir == i0, lastStrip = ir + mr >= i1;
        const float *aInPlace = g.a + ir * g.aRowStride + pc * g.aColStride;
        Packed *a = packAOnce ? packedA + (ir - i0) / mr * mr * kPacked + pc * mr : packedA;
        if (!readAInPlace && (!packAOnce || jc == j0))
          kernel.packA(aInPlace, g.aRowStride, g.aColStride, rows, kc, a);
        float *c = g.c + ir * g.ldc + jc;
        for (int64_t jr = 0; jr < nc; jr += nr) {
          const Packed *panel = b.panels + jr / nr * b.stride;
          const bool lastPanel = jr + nr >= nc;
          const Packed *next = inPlace && firstStrip && !lastPanel ? panel + b.stride
                              : lastStrip && lastPanel            ? nextBlock
                                                                  : nullptr;
          const int64_t cols = std::min(nr, nc - jr);
          if constexpr (std::is_same_v<Packed, float>)
            if (readAInPlace) {
              // Else the tile after this one, from L2: this strip's next
              // panel, or the next strip's first.
              const float *warm = next          ? nullptr
                                  : !lastPanel  ? panel + b.stride
                                  : !lastStrip  ? b.panels
                                                : nullptr;
              kernel.runStridedA(kc, aInPlace, g.aRowStride, 1, panel, c + jr, g.ldc, rows, cols,
                                 accumulate, next, warm);
              continue;
            }
          kernel.run(kc, a, panel, c + jr, g.ldc, rows, cols, accumulate, next);
        }
        // This strip of C is final and still in cache.
        if (last)
          epilogueAt(kernel, g, ir, jc, rows, nc);
      }
    }
  }
}

/// Rejects what no GEMM can run (generated code never asks for it).
void checkDesc(const kiln_gemm_desc &d) {
  // 16-bit storage (ABI 16) is what GPU models' GEMMs read and write; the
  // CPU kernels read and write fp32 only. First: such a GEMM's b_type is
  // its a_type, which the check of b_type would call unknown.
  for (auto [name, type] : {std::pair{"a_type", d.a_type}, std::pair{"c_type", d.c_type}}) {
    const std::string field = std::string(name) + " " + std::to_string(type);
    if (type == KILN_DTYPE_FLOAT16 || type == KILN_DTYPE_BFLOAT16)
      throw std::invalid_argument("kiln_gemm_desc: " + field +
                                  " on the CPU, which reads and writes fp32 only: 16-bit "
                                  "storage GEMMs run on the GPU only");
    if (type != 0 && type != KILN_DTYPE_FLOAT32)
      throw std::invalid_argument("kiln_gemm_desc: unknown " + field);
  }
  if (d.activation < KILN_GEMM_ACT_NONE || d.activation > KILN_GEMM_ACT_RELU)
    throw std::invalid_argument("kiln_gemm_desc: unknown activation " +
                                std::to_string(d.activation));
  if (d.b_panel < 0)
    throw std::invalid_argument("kiln_gemm_desc: negative b_panel");
  if (d.b_type != 0 && d.b_type != KILN_DTYPE_FLOAT32 && d.b_type != KILN_DTYPE_BFLOAT16)
    throw std::invalid_argument("kiln_gemm_desc: unknown b_type " + std::to_string(d.b_type));
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

const GemmMicroKernel &selectedGemmKernel() { return selectedKernel(); }

namespace {

const GemmBf16MicroKernel &selectedBf16Kernel() {
  static const GemmBf16MicroKernel kernel = gemmBf16KernelFor(selectedKernel());
  return kernel;
}

/// Threads' tiles of C start at multiples of 4 rows, not of the kernel's
/// MR: a strip of fewer rows costs only what it computes, and M = 128 on 2
/// threads then splits 64 / 64 instead of 72 / 56 rows (the second thread
/// idle for a fifth of each such GEMM): all-MiniLM-
/// L6-v2 fp32 on 2 threads 6.56 -> 6.26 ms (kiln-bench, alternating; its
/// QKV, output and down-projection GEMMs split M), BERT-base fp32 48.6 ->
/// 48.5, bert-tiny unchanged.
constexpr int64_t kTileRowUnit = 4;

/// gemmWith and gemmBf16With: the batch split into tiles for the threads.
template <class Packed>
void runBatch(const GemmMicroKernelOf<Packed> &kernel, const kiln_gemm_desc &d, ThreadPool *pool) {
  checkDesc(d);
  if (d.m <= 0 || d.n <= 0 || d.batch[0] <= 0 || d.batch[1] <= 0)
    return;
  const int64_t batch = d.batch[0] * d.batch[1];
  const int64_t work = batch * d.m * d.n * std::max<int64_t>(d.k, 1);
  const int64_t threads = gemmThreads(pool, work);
  const Tiling t = threads == 1 ? Tiling{d.m, d.n, 1}
                                : chooseTiling(kTileRowUnit, kernel.nr, d.m, d.n, batch, threads,
                                               d.b_panel != kernel.nr ? 3 : 0);
  forEachTile(pool, threads, batch, d.m, d.n, t,
              [&](int64_t index, int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
                gemmTile(kernel, problemAt<Packed>(d, index), i0, i1, j0, j1);
              });
}

} // namespace

namespace {

/// The storage behind gemmPackBuffer.
class PackBuffer {
public:
  PackBuffer() = default;
  PackBuffer(const PackBuffer &) = delete;
  PackBuffer &operator=(const PackBuffer &) = delete;
  ~PackBuffer() { release(); }

  void *get(size_t bytes) {
    if (bytes > capacity) {
      release();
      data = ::operator new(bytes, kAlign);
      capacity = bytes;
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
  void *data = nullptr;
  size_t capacity = 0;
};

thread_local PackBuffer packBuffer;

/// Below this many multiply-adds per thread (about 10 us on one core),
/// handing work to the pool costs more than it saves. The pool's workers
/// spin between the jobs of a run (a wake-up from sleep took ~40 us in a
/// VM, when this was 2^22), so attention's small per-head GEMMs and the
/// M = 8..32 projections use both threads.
constexpr int64_t kMinWorkPerThread = int64_t(1) << 20;

} // namespace

int64_t gemmThreads(const ThreadPool *pool, int64_t work) {
  return pool ? std::min<int64_t>(pool->numThreads(), std::max<int64_t>(1, work / kMinWorkPerThread))
              : 1;
}

/// Tiles for `threads` threads over `batch` GEMMs: the split into gm x gn
/// that minimises the per-thread cost, where a tile of r x c costs its r*c
/// multiply-adds per k plus its packing: every tile packs its rows of A and
/// its columns of B (unless B is prepacked for the kernel). The candidates
/// split each GEMM for all the threads, or just enough for the batch to
/// cover them.
///
/// A row of A weighs 128 multiply-adds per step of k, far more than its
/// packing alone costs (~13): splitting N makes every thread read (and
/// pack, where A is packed) all of A and, with prepacked weights, stream
/// its own half of B from memory at the same time as the other, where
/// splitting M shares each block of B through L3. With 32 and tiles of
/// whole 12-row strips, M = 128 GEMMs on 2 threads split N unless N was
/// below 320; with 128, unless below 1280 (kiln-bench, 2 threads, Zen 5:
/// all-MiniLM-L6-v2 fp32 s128 7.16 -> 6.66 ms, BERT-base fp32 49.2 ->
/// 48.5, bert-tiny 0.452 -> 0.375; 256 was slower on both big models; the
/// int8 and sparse GEMMs unchanged). With fp32 tiles of 4-row units
/// (kTileRowUnit) both splits of M = 128 give each thread the same
/// multiply-adds, and M wins at any N: all-MiniLM-L6-v2's 1536-wide FFN
/// GEMM split N measured 6.40 ms for the model against 6.35 split M.
Tiling chooseTiling(int64_t rowUnit, int64_t nr, int64_t m, int64_t n, int64_t batch,
                    int64_t threads, int64_t packBCost) {
  constexpr int64_t kPackACost = 128; // in multiply-adds per element
  Tiling best{m, n, 1};
  int64_t bestCost = INT64_MAX;
  for (int64_t parts : {threads, ceilDiv(threads, batch)}) {
    for (int64_t gm = 1; gm <= parts; ++gm) {
      const int64_t gn = ceilDiv(parts, gm);
      const int64_t rows = roundUp(ceilDiv(m, gm), rowUnit);
      const int64_t cols = roundUp(ceilDiv(n, gn), nr);
      const int64_t count = ceilDiv(m, rows) * ceilDiv(n, cols);
      const int64_t rounds = ceilDiv(batch * count, threads);
      const int64_t cost = rounds * (rows * cols + kPackACost * rows + packBCost * cols);
      if (cost < bestCost) {
        bestCost = cost;
        best = {rows, cols, count};
      }
    }
  }
  return best;
}

void *gemmPackBuffer(size_t bytes) { return packBuffer.get(bytes); }

GemmBf16MicroKernel gemmBf16KernelFor(const GemmMicroKernel &fp32) {
  const bool forcedBelow = std::strcmp(fp32.name, "avx512") != 0;
  return gemmBf16MicroKernel(forcedBelow ? GemmBf16Family::Portable : GemmBf16Family::Avx512Bf16,
                             fp32);
}

/// The L2 cache of this CPU in bytes, or 0 when the system does not say.
int64_t l2CacheBytes() {
  static const int64_t bytes = [] {
#ifdef _SC_LEVEL2_CACHE_SIZE
    const long size = sysconf(_SC_LEVEL2_CACHE_SIZE);
    return size > 0 ? int64_t(size) : int64_t(0);
#else
    return int64_t(0);
#endif
  }();
  return bytes;
}

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

bool gemmBf16FamilySupported(GemmBf16Family family) {
  switch (family) {
  case GemmBf16Family::Portable:
    return true;
#ifdef KILN_GEMM_X86
  case GemmBf16Family::Avx512Bf16:
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bf16");
#endif
  default:
    return false;
  }
}

GemmBf16MicroKernel gemmBf16MicroKernel(GemmBf16Family family,
                                        const GemmMicroKernel &epilogueFrom) {
  GemmBf16MicroKernel kernel = gemmBf16PortableKernel;
#ifdef KILN_GEMM_X86
  if (family == GemmBf16Family::Avx512Bf16 && gemmBf16FamilySupported(family))
    kernel = gemmAvx512Bf16Kernel;
#endif
  (void)family;
  kernel.epilogue = epilogueFrom.epilogue;
  return kernel;
}

void gemmWith(const GemmMicroKernel &kernel, const kiln_gemm_desc &d, ThreadPool *pool) {
  if (d.b_type == KILN_DTYPE_BFLOAT16)
    throw std::invalid_argument("kiln_gemm_desc: a bf16 B for an fp32 kernel");
  runBatch(kernel, d, pool);
}

void gemmBf16With(const GemmBf16MicroKernel &kernel, const kiln_gemm_desc &d, ThreadPool *pool) {
  if (d.b_type != KILN_DTYPE_BFLOAT16)
    throw std::invalid_argument("kiln_gemm_desc: an fp32 B for a bf16 kernel");
  runBatch(kernel, d, pool);
}

void sgemmWith(const GemmMicroKernel &kernel, const GemmArgs &g, ThreadPool *pool) {
  kiln_gemm_desc d{};
  d.m = g.m;
  d.n = g.n;
  d.k = g.k;
  d.a = g.a;
  d.a_rs = g.aRowStride;
  d.a_cs = g.aColStride;
  d.b = g.b;
  d.b_rs = g.bRowStride;
  d.b_cs = g.bColStride;
  d.c = g.c;
  d.ldc = g.cRowStride;
  d.accumulate = g.accumulate;
  d.batch[0] = d.batch[1] = 1;
  gemmWith(kernel, d, pool);
}

void sgemm(const GemmArgs &args, ThreadPool *pool) { sgemmWith(selectedKernel(), args, pool); }

void gemm(const kiln_gemm_desc &desc, ThreadPool *pool) {
  if (desc.b_type == KILN_DTYPE_BFLOAT16)
    gemmBf16With(selectedBf16Kernel(), desc, pool);
  else
    gemmWith(selectedKernel(), desc, pool);
}

const char *sgemmKernelName() { return selectedKernel().name; }

const char *gemmBf16KernelName() { return selectedBf16Kernel().name; }

int64_t gemmPanelWidth() { return selectedKernel().nr; }

void prepackB(const float *b, int64_t rowStride, int64_t colStride, int64_t k, int64_t n,
              int64_t panel, float *dst) {
  for (int64_t j0 = 0; j0 < n; j0 += panel)
    for (int64_t p = 0; p < k; ++p)
      for (int64_t j = j0; j < j0 + panel; ++j)
        *dst++ = j < n ? b[p * rowStride + j * colStride] : 0.0f;
}

} // namespace kiln
