//===- threadpool_test.cpp - The session's intra-op thread pool -----------===//
//
// Internals: links libkiln_runtime.a and includes runtime/src.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"
#include "ThreadPool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <stdexcept>
#include <sys/resource.h>
#include <thread>
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
