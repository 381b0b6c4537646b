//===- ThreadPool.h - A session's intra-op thread pool ----------*- C++ -*-===//
//
// A fixed set of worker threads that sleep on a condition variable while
// idle and wake up to share a parallelFor with the calling thread. After a
// job a worker spins for at most kSpinMicroseconds before it sleeps, and
// the caller likewise for the last workers to finish: a model run is a
// string of parallel regions tens of microseconds apart, and a wake-up
// through the condition variable took ~40 us in a VM, as long as a small
// GEMM itself. An idle pool costs no CPU. One pool belongs to one kiln_session; the kernels a compiled
// model calls through its kiln_runtime_context (the GEMM) run on it.
//
//===----------------------------------------------------------------------===//
#ifndef KILN_RUNTIME_THREADPOOL_H
#define KILN_RUNTIME_THREADPOOL_H

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace kiln {

class ThreadPool {
public:
  /// A pool of `numThreads` threads counting the caller of parallelFor, so
  /// numThreads - 1 workers; 0 means std::thread::hardware_concurrency().
  /// Throws std::system_error if a thread cannot be started.
  explicit ThreadPool(unsigned numThreads);
  ~ThreadPool();
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  /// The parallelism of parallelFor: workers + the calling thread.
  unsigned numThreads() const { return static_cast<unsigned>(workers.size()) + 1; }

  /// Calls body(begin, end) on disjoint chunks that cover [0, n) exactly
  /// once, each at least `grain` long (except the last), on the workers and
  /// the calling thread; returns when all are done. Thread t (the caller is
  /// 0, the workers 1, 2, ...) first runs the chunks of the t-th of
  /// numThreads() contiguous parts of [0, n), then helps with the others':
  /// consecutive loops over the same rows keep each row on one core. The first exception a
  /// chunk throws is rethrown here (remaining chunks are skipped). Safe to
  /// call from several threads (calls are serialized) and from inside a body
  /// (the nested loop then runs inline on that thread).
  template <typename Body> void parallelFor(size_t n, size_t grain, Body &&body) {
    using Fn = std::remove_reference_t<Body>;
    run(n, grain, [](void *fn, size_t b, size_t e) { (*static_cast<Fn *>(fn))(b, e); },
        const_cast<void *>(static_cast<const void *>(&body)));
  }
  template <typename Body> void parallelFor(size_t n, Body &&body) {
    parallelFor(n, 1, std::forward<Body>(body));
  }

private:
  using Trampoline = void (*)(void *, size_t, size_t);
  /// One thread's part of a job's chunks, [next, end) still to claim; on
  /// its own cache line, as the owner claims from it while others may too.
  struct alignas(64) Part {
    std::atomic_size_t next{0};
    size_t end = 0;
  };
  struct Job {
    Trampoline call;
    void *fn;
    size_t n, chunk, numChunks;
    uint32_t floatMode; // the submitter's (FloatMode.h), for the workers
    std::mutex errorMutex;
    std::exception_ptr error;
  };

  void run(size_t n, size_t grain, Trampoline call, void *fn);
  void work(Job &job, unsigned self);
  void workerLoop(unsigned self);

  std::vector<std::thread> workers;
  /// numThreads() parts of the current job (jobs run one at a time).
  std::unique_ptr<Part[]> parts;
  std::mutex submitMutex; // one job at a time
  std::mutex mutex;       // guards the fields below
  std::condition_variable wake, idle;
  Job *job = nullptr;
  uint64_t generation = 0;
  // Read without the mutex while spinning; written with it held.
  std::atomic<unsigned> active{0}; // workers inside work()
  std::atomic<uint64_t> published{0}; // `generation`, for spinning workers
  std::atomic<bool> stopping{false};
};

} // namespace kiln

#endif // KILN_RUNTIME_THREADPOOL_H
