//===- ThreadPool.cpp - A session's intra-op thread pool ------------------===//

#include "ThreadPool.h"
#include "FloatMode.h"

#include <algorithm>
#include <chrono>

using namespace kiln;

namespace {
/// How long a thread busy-waits for the next job (a worker) or for the
/// workers to finish (the caller) before it blocks on a condition variable.
constexpr auto kSpinMicroseconds = std::chrono::microseconds(100);

/// Spins until done() or kSpinMicroseconds have passed; whether done().
template <typename Done> bool spinUntil(Done done) {
  const auto deadline = std::chrono::steady_clock::now() + kSpinMicroseconds;
  for (unsigned i = 1;; ++i) {
    if (done())
      return true;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
    if (i % 64 == 0 && std::chrono::steady_clock::now() >= deadline)
      return done();
  }
}

/// The pool whose job this thread is executing, to run nested loops inline.
thread_local const ThreadPool *currentPool = nullptr;

struct CurrentPoolScope {
  const ThreadPool *saved;
  explicit CurrentPoolScope(const ThreadPool *pool) : saved(currentPool) { currentPool = pool; }
  ~CurrentPoolScope() { currentPool = saved; }
};
} // namespace

ThreadPool::ThreadPool(unsigned numThreads) {
  if (numThreads == 0)
    numThreads = std::max(1u, std::thread::hardware_concurrency());
  parts = std::make_unique<Part[]>(numThreads);
  workers.reserve(numThreads - 1);
  try {
    for (unsigned i = 1; i < numThreads; ++i)
      workers.emplace_back([this, i] { workerLoop(i); });
  } catch (...) {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stopping = true;
    }
    wake.notify_all();
    for (std::thread &t : workers)
      t.join();
    throw;
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex);
    stopping = true;
  }
  wake.notify_all();
  for (std::thread &t : workers)
    t.join();
}

void ThreadPool::workerLoop(unsigned self) {
  CurrentPoolScope scope(this);
  uint64_t seen = 0;
  std::unique_lock<std::mutex> lock(mutex);
  for (;;) {
    if (!stopping && !(job && generation != seen)) {
      // The next job usually comes within microseconds: look for it
      // without the mutex for a while before sleeping.
      lock.unlock();
      spinUntil([&] {
        return stopping.load(std::memory_order_relaxed) ||
               published.load(std::memory_order_acquire) != seen;
      });
      lock.lock();
    }
    wake.wait(lock, [&] { return stopping || (job && generation != seen); });
    if (stopping)
      return;
    seen = generation;
    Job *current = job;
    ++active;
    lock.unlock();
    {
      FloatModeScope mode(current->floatMode);
      work(*current, self);
    }
    lock.lock();
    if (--active == 0)
      idle.notify_all();
  }
}

void ThreadPool::work(Job &job, unsigned self) {
  // Its own part first, then the others' in turn: a worker that starts late
  // finds its part done by the caller, one that finishes early helps.
  const unsigned count = numThreads();
  for (unsigned k = 0; k < count; ++k) {
    Part &part = parts[(self + k) % count];
    for (;;) {
      size_t c = part.next.fetch_add(1, std::memory_order_relaxed);
      if (c >= part.end)
        break;
      size_t begin = c * job.chunk;
      size_t end = std::min(job.n, begin + job.chunk);
      try {
        job.call(job.fn, begin, end);
      } catch (...) {
        std::lock_guard<std::mutex> lock(job.errorMutex);
        if (!job.error)
          job.error = std::current_exception();
        for (unsigned p = 0; p < count; ++p) // skip the rest
          parts[p].next.store(parts[p].end, std::memory_order_relaxed);
      }
    }
  }
}

void ThreadPool::run(size_t n, size_t grain, Trampoline call, void *fn) {
  if (n == 0)
    return;
  grain = std::max<size_t>(grain, 1);
  if (workers.empty() || n <= grain || currentPool == this) {
    CurrentPoolScope scope(this);
    call(fn, 0, n);
    return;
  }
  // About four chunks per thread balances uneven chunks without much
  // contention on the counter.
  size_t target = static_cast<size_t>(numThreads()) * 4;
  size_t chunk = std::max(grain, (n + target - 1) / target);
  Job j;
  j.call = call;
  j.fn = fn;
  j.n = n;
  j.chunk = chunk;
  j.numChunks = (n + chunk - 1) / chunk;
  j.floatMode = currentFloatMode();

  std::lock_guard<std::mutex> serial(submitMutex);
  {
    std::lock_guard<std::mutex> lock(mutex);
    // Thread t's part: the t-th contiguous share of the chunks.
    const unsigned count = numThreads();
    for (unsigned t = 0; t < count; ++t) {
      parts[t].next.store(j.numChunks * t / count, std::memory_order_relaxed);
      parts[t].end = j.numChunks * (t + 1) / count;
    }
    job = &j;
    ++generation;
    published.store(generation, std::memory_order_release);
  }
  wake.notify_all();
  {
    CurrentPoolScope scope(this);
    work(j, 0);
  }
  {
    // Every chunk is claimed; wait for the workers still running theirs (and
    // for any that woke up late and found nothing left) before `j` dies.
    spinUntil([&] { return active.load(std::memory_order_acquire) == 0; });
    std::unique_lock<std::mutex> lock(mutex);
    idle.wait(lock, [&] { return active == 0; });
    job = nullptr;
  }
  if (j.error)
    std::rethrow_exception(j.error);
}
