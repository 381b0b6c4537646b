//===- threadpool_test.cpp - The session's intra-op thread pool -----------===//
//
// Internals: links libkiln_runtime.a and includes runtime/src.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"
#include "ThreadPool.h"
#include "kiln/kiln_qgemm_pack.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <stdexcept>
#include <sys/resource.h>
#include <thread>
#include <utility>
#include <vector>

using kiln::ThreadPool;

namespace {

TEST(ThreadPool, Sizes) {
  EXPECT_EQ(ThreadPool(1).numThreads(), 1u);
  EXPECT_EQ(ThreadPool(4).numThreads(), 4u);
  unsigned hw = std::thread::hardware_concurrency();
  EXPECT_EQ(ThreadPool(0).numThreads(), hw ? hw : 1u);
}

TEST(ThreadPool, CoversEveryIndexOnce) {
  for (unsigned threads : {1u, 2u, 3u, 8u}) {
    ThreadPool pool(threads);
    for (size_t n : {0u, 1u, 2u, 5u, 31u, 1000u, 100003u}) {
      for (size_t grain : {1u, 7u, 4096u}) {
        std::vector<std::atomic<int>> hits(n);
        pool.parallelFor(n, grain, [&](size_t begin, size_t end) {
          EXPECT_LE(begin, end);
          EXPECT_LE(end, n);
          for (size_t i = begin; i < end; ++i)
            hits[i].fetch_add(1, std::memory_order_relaxed);
        });
        for (size_t i = 0; i < n; ++i)
          ASSERT_EQ(hits[i].load(), 1) << "threads=" << threads << " n=" << n << " i=" << i;
      }
    }
  }
}

TEST(ThreadPool, UsesSeveralThreads) {
  ThreadPool pool(4);
  std::mutex mutex;
  std::set<std::thread::id> ids;
  std::atomic<int> waiting{0};
  // Each chunk waits (briefly) until 4 chunks are in flight at once.
  pool.parallelFor(4, [&](size_t, size_t) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      ids.insert(std::this_thread::get_id());
    }
    ++waiting;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (waiting.load() < 4 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::yield();
  });
  EXPECT_EQ(ids.size(), 4u);
  EXPECT_TRUE(ids.count(std::this_thread::get_id())); // the caller works too
}

TEST(ThreadPool, EachThreadStartsOnItsOwnPart) {
  // 2 threads, 4 chunks: the caller's part is [0, 2), the worker's [2, 4).
  // Each chunk waits (briefly) until both threads are in one, so neither
  // can finish its part before the other starts: the caller's first chunk
  // is 0 and the worker's 2 (with one shared counter it would be 1), and
  // the same rows go to the same thread in every loop of a run.
  ThreadPool pool(2);
  for (int repeat = 0; repeat < 20; ++repeat) {
    std::mutex mutex;
    std::vector<std::pair<std::thread::id, size_t>> order;
    std::atomic<int> started{0};
    pool.parallelFor(4, [&](size_t begin, size_t) {
      {
        std::lock_guard<std::mutex> lock(mutex);
        order.emplace_back(std::this_thread::get_id(), begin);
      }
      ++started;
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (started.load() < 2 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::yield();
    });
    ASSERT_EQ(order.size(), 4u);
    std::vector<size_t> firsts; // the first chunk of each thread
    std::set<std::thread::id> seen;
    for (auto &[id, begin] : order)
      if (seen.insert(id).second)
        firsts.push_back(id == std::this_thread::get_id() ? begin : begin + 100);
    std::sort(firsts.begin(), firsts.end());
    EXPECT_EQ(firsts, (std::vector<size_t>{0, 102})) << "caller first at 0, worker at 2";
  }
}

TEST(ThreadPool, RethrowsTheFirstException) {
  ThreadPool pool(3);
  EXPECT_THROW(pool.parallelFor(100,
                                [](size_t begin, size_t end) {
                                  if (begin <= 50 && 50 < end)
                                    throw std::runtime_error("chunk failed");
                                }),
               std::runtime_error);
  // Still usable.
  std::atomic<size_t> sum{0};
  pool.parallelFor(100, [&](size_t b, size_t e) { sum += e - b; });
  EXPECT_EQ(sum.load(), 100u);
}

TEST(ThreadPool, NestedLoopsRunInline) {
  ThreadPool pool(3);
  std::atomic<size_t> total{0};
  pool.parallelFor(8, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i)
      pool.parallelFor(10, [&](size_t ib, size_t ie) { total += ie - ib; });
  });
  EXPECT_EQ(total.load(), 80u);
}

TEST(ThreadPool, ConcurrentCallersAreSerialized) {
  ThreadPool pool(3);
  std::atomic<size_t> total{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t)
    callers.emplace_back([&] {
      for (int i = 0; i < 200; ++i)
        pool.parallelFor(64, [&](size_t b, size_t e) { total += e - b; });
    });
  for (std::thread &t : callers)
    t.join();
  EXPECT_EQ(total.load(), 4u * 200u * 64u);
}

double processCpuSeconds() {
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
}

TEST(ThreadPool, IdleWorkersSleep) {
  ThreadPool pool(8);
  pool.parallelFor(1000, [](size_t, size_t) {});
  double before = processCpuSeconds();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  double used = processCpuSeconds() - before;
  // Seven spinning workers would burn ~2 CPU-seconds here.
  EXPECT_LT(used, 0.1) << "idle workers used " << used << " s of CPU in 0.3 s";
}

TEST(ThreadPool, ManyShortLoops) {
  ThreadPool pool(4);
  size_t total = 0;
  for (int i = 0; i < 20000; ++i) {
    std::atomic<size_t> part{0};
    pool.parallelFor(16, [&](size_t b, size_t e) { part += e - b; });
    total += part.load();
  }
  EXPECT_EQ(total, 20000u * 16u);
}

TEST(ThreadPool, SessionOwnsOne) {
  kiln_model_t *model = nullptr;
  kiln_status_t st = kiln_model_load(KILN_TEST_MODEL_DIR "/fake_model.so", &model);
  ASSERT_EQ(st, nullptr) << kiln_status_message(st);
  kiln_session_options options;
  kiln_session_options_initialize(&options);
  options.num_threads = 3;
  kiln_session_t *session = nullptr;
  ASSERT_EQ(kiln_session_create(model, &options, &session), nullptr);
  ThreadPool &pool = kiln::sessionThreadPool(session);
  EXPECT_EQ(pool.numThreads(), 3u);
  std::atomic<size_t> n{0};
  pool.parallelFor(99, [&](size_t b, size_t e) { n += e - b; });
  EXPECT_EQ(n.load(), 99u);
  kiln_session_release(session);
  kiln_model_release(model);
}

/// A session on fake_model.so with `threads` threads, for the callbacks of
/// its kiln_runtime_context.
struct FakeSession {
  kiln_model_t *model = nullptr;
  kiln_session_t *session = nullptr;
  explicit FakeSession(unsigned threads) {
    kiln_status_t st = kiln_model_load(KILN_TEST_MODEL_DIR "/fake_model.so", &model);
    EXPECT_EQ(st, nullptr) << kiln_status_message(st);
    kiln_session_options options;
    kiln_session_options_initialize(&options);
    options.num_threads = threads;
    EXPECT_EQ(kiln_session_create(model, &options, &session), nullptr);
  }
  ~FakeSession() {
    kiln_session_release(session);
    kiln_model_release(model);
  }
  const kiln_runtime_context &context() const { return session->context; }
};

/// What kiln_runtime_context::parallel_for did with one loop.
struct LoopRecord {
  std::mutex mutex;
  std::vector<std::pair<int64_t, int64_t>> chunks;
  std::set<std::thread::id> threads;
  std::vector<std::atomic<int>> hits;
  explicit LoopRecord(int64_t n) : hits(size_t(n)) {}

  static void body(void *closure, int64_t begin, int64_t end) {
    auto *r = static_cast<LoopRecord *>(closure);
    for (int64_t i = begin; i < end; ++i)
      r->hits[size_t(i)].fetch_add(1, std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(r->mutex);
    r->chunks.push_back({begin, end});
    r->threads.insert(std::this_thread::get_id());
  }
  bool eachIndexOnce() const {
    for (const auto &h : hits)
      if (h.load() != 1)
        return false;
    return true;
  }
};

TEST(SessionContext, HasTheV5Entries) {
  FakeSession s(2);
  ASSERT_NE(s.session, nullptr);
  EXPECT_EQ(s.context().abi_version, KILN_ABI_VERSION);
  EXPECT_EQ(s.context().num_threads, 2u);
  EXPECT_NE(s.context().sgemm, nullptr);
  EXPECT_NE(s.context().gemm, nullptr);
  EXPECT_NE(s.context().parallel_for, nullptr);
  EXPECT_NE(s.context().qgemm, nullptr); // ABI 7
}

// The context's qgemm is the int8 GEMM (runtime.qgemm.* tests it in depth):
// a float A of 3 x 5, quantized per row, against B = I padded to 5 x 4.
TEST(SessionContext, Qgemm) {
  FakeSession s(2);
  ASSERT_NE(s.session, nullptr);
  const float a[15] = {0, 1, 2, 3, 4, -2, -1, 0, 1, 2, 5, 5, 5, 5, 5};
  int8_t b[20] = {};
  for (int j = 0; j < 4; ++j)
    b[j * 4 + j] = 1; // row-major 5 x 4: B(j, j) = 1
  std::vector<uint8_t> packed(size_t(kiln_qgemm_packed_size(5, 4)));
  kiln_qgemm_pack_b(b, 4, 1, 5, 4, packed.data());
  const float bScale[4] = {1, 1, 1, 2};
  float c[12] = {};
  kiln_qgemm_desc d{};
  d.m = 3;
  d.n = 4;
  d.k = 5;
  d.a = a;
  d.a_type = KILN_DTYPE_FLOAT32;
  d.a_rs = 5;
  d.a_cs = 1;
  d.b = packed.data();
  d.b_scale = bScale;
  d.c = c;
  d.ldc = 4;
  d.batch[0] = d.batch[1] = 1;
  s.context().qgemm(&s.context(), &d);
  // Each value comes back within half its row's quantization step (the
  // rows span 4, 4 and 5, over 255 steps).
  const float range[3] = {4, 4, 5};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j)
      EXPECT_NEAR(c[i * 4 + j], a[i * 5 + j] * bScale[j],
                  range[i] / 255 / 2 * bScale[j] + 1e-5f)
          << i << "," << j;
}

/// sessionParallelFor's threshold (Session.cpp): below it, loops run inline.
constexpr int64_t kMinParallelWork = int64_t(1) << 17;

// Loops worth less than kMinParallelWork operations run inline, in one call.
TEST(SessionContext, ParallelForRunsSmallLoopsInline) {
  FakeSession s(2);
  ASSERT_NE(s.session, nullptr);
  for (auto [n, cost] : {std::pair<int64_t, int64_t>{1, 1},
                         {1000, 100},
                         {100, 0},
                         {7, -5},
                         {kMinParallelWork - 1, 1},
                         {3, kMinParallelWork / 3}}) {
    LoopRecord r(n);
    s.context().parallel_for(&s.context(), LoopRecord::body, &r, n, cost);
    ASSERT_EQ(r.chunks.size(), 1u) << "n=" << n << " cost=" << cost;
    EXPECT_EQ(r.chunks[0], std::make_pair(int64_t(0), n));
    EXPECT_EQ(*r.threads.begin(), std::this_thread::get_id());
  }
  // Nothing to do: no call at all.
  LoopRecord none(0);
  s.context().parallel_for(&s.context(), LoopRecord::body, &none, 0, 1 << 30);
  s.context().parallel_for(&s.context(), LoopRecord::body, &none, -3, 1 << 30);
  EXPECT_TRUE(none.chunks.empty());
}

// Big loops are split into chunks of at least a quarter of the threshold
// that cover every index once.
TEST(SessionContext, ParallelForSplitsBigLoops) {
  FakeSession s(2);
  ASSERT_NE(s.session, nullptr);
  for (auto [n, cost] : {std::pair<int64_t, int64_t>{kMinParallelWork, 1},
                         {kMinParallelWork * 3, 1},
                         {1000, 1 << 20},
                         {64, int64_t(1) << 40},
                         {100003, 37}}) {
    LoopRecord r(n);
    s.context().parallel_for(&s.context(), LoopRecord::body, &r, n, cost);
    EXPECT_TRUE(r.eachIndexOnce()) << "n=" << n << " cost=" << cost;
    EXPECT_GT(r.chunks.size(), 1u) << "n=" << n << " cost=" << cost;
    for (auto [begin, end] : r.chunks)
      if (end != n)
        EXPECT_GE((end - begin) * cost, kMinParallelWork / 4) << "n=" << n << " cost=" << cost;
  }
}

// On one thread there is nothing to split: one inline call.
TEST(SessionContext, ParallelForOnOneThread) {
  FakeSession s(1);
  ASSERT_NE(s.session, nullptr);
  LoopRecord r(4096);
  s.context().parallel_for(&s.context(), LoopRecord::body, &r, 4096, 1 << 20);
  ASSERT_EQ(r.chunks.size(), 1u);
  EXPECT_TRUE(r.eachIndexOnce());
}

// kiln_runtime_context::gemm: a batch of two 2 x 2 x 3 GEMMs sharing B,
// with bias and ReLU (the kernels are tested in gemm_test.cpp).
TEST(SessionContext, Gemm) {
  FakeSession s(2);
  ASSERT_NE(s.session, nullptr);
  const float a[] = {1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, -6}; // 2 x (2 x 3)
  const float b[] = {1, 0, 0, 1, 1, 1};                         // 3 x 2
  const float bias[] = {0.5f, -0.5f};
  float c[8];
  kiln_gemm_desc d{};
  d.m = d.n = 2;
  d.k = 3;
  d.a = a;
  d.a_rs = 3;
  d.a_cs = 1;
  d.b = b;
  d.b_rs = 2;
  d.b_cs = 1;
  d.c = c;
  d.ldc = 2;
  d.bias = bias;
  d.activation = KILN_GEMM_ACT_RELU;
  d.batch[0] = 1;
  d.batch[1] = 2;
  d.batch_stride_a[1] = 6;
  d.batch_stride_c[1] = 4;
  s.context().gemm(&s.context(), &d);
  const float expected[] = {4.5f, 4.5f, 10.5f, 10.5f, 0, 0, 0, 0};
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(c[i], expected[i]) << i;
}

// A loop inside a loop's body (generated code may nest them) runs inline.
TEST(SessionContext, ParallelForNests) {
  FakeSession s(2);
  ASSERT_NE(s.session, nullptr);
  struct Outer {
    const kiln_runtime_context *ctx;
    std::atomic<int64_t> inner{0};
  } outer{&s.context()};
  auto body = [](void *closure, int64_t begin, int64_t end) {
    auto *o = static_cast<Outer *>(closure);
    for (int64_t i = begin; i < end; ++i) {
      LoopRecord r(64);
      o->ctx->parallel_for(o->ctx, LoopRecord::body, &r, 64, 1 << 20);
      o->inner += r.eachIndexOnce() ? 64 : 0;
    }
  };
  s.context().parallel_for(&s.context(), body, &outer, 8, 1 << 20);
  EXPECT_EQ(outer.inner.load(), 8 * 64);
}

} // namespace

//===--- ScratchArena (a session's scratch memory) ---------------------------===//

#include "ScratchArena.h"

#include <cstdint>
#include <cstring>

TEST(ScratchArena, PiecesAreAlignedDisjointAndReusedByTheNextRun) {
  kiln::ScratchArena arena;
  arena.beginRun();
  // The first run has no block yet: every piece is separate memory.
  char *a = static_cast<char *>(arena.allocate(100));
  char *b = static_cast<char *>(arena.allocate(1));
  char *c = static_cast<char *>(arena.allocate(0));
  for (char *p : {a, b, c}) {
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u);
  }
  std::memset(a, 1, 100);
  std::memset(b, 2, 1);
  EXPECT_EQ(a[99], 1);
  // The next run gets one block as large as the last run needed (128 + 64
  // + 64 bytes): consecutive pieces of it, the same memory run after run.
  arena.beginRun();
  char *a2 = static_cast<char *>(arena.allocate(100));
  char *b2 = static_cast<char *>(arena.allocate(1));
  char *c2 = static_cast<char *>(arena.allocate(64));
  EXPECT_EQ(b2, a2 + 128);
  EXPECT_EQ(c2, b2 + 64);
  arena.beginRun();
  EXPECT_EQ(arena.allocate(100), a2);
  // Asking for more than the block still works (a separate piece).
  char *big = static_cast<char *>(arena.allocate(1 << 20));
  ASSERT_NE(big, nullptr);
  std::memset(big, 3, 1 << 20);
  EXPECT_TRUE(big + (1 << 20) <= a2 || big >= a2 + 256);
}
