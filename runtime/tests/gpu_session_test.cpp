//===- gpu_session_test.cpp - A GPU session's runs, graphs, staging -------===//
//
// GpuSession against a fake CUDA driver (fake_cuda.cpp: memory is host
// memory, kernels are host functions, a captured graph is a recording). A
// small "model" does what generated host code does: scratch buffers, an
// input copied in, two kernel launches, an output copied out into a fresh
// host buffer. Its outputs must be exact on every run, whether the run went
// call by call or as a CUDA graph; the fake's counters say which it went.
//
//===----------------------------------------------------------------------===//

#include "gpu/GpuSession.h"
#include "kiln/kiln_abi.h"
#include "kiln/kiln_gpu_emulation.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <stdlib.h>
#include <dlfcn.h>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

using namespace kiln;

extern "C" struct FakeCudaState {
  int kernelsRun;
  int launchesCaptured;
  int captures;
  int graphsInstantiated;
  int graphLaunches;
  int pageableCopiesCaptured;
  const char *failNext;
  int streamsCreated;
  int legacyWaits;
  void *lastStream;
};

namespace {

// The driver is loaded once per process: name the fake before any test.
// Its library is the fake cuBLASLt too (fake_cublaslt.cpp).
const bool kFakeDriver = setenv("KILN_CUDA_DRIVER", KILN_FAKE_CUDA, 1) == 0 &&
                         setenv("KILN_CUBLASLT", KILN_FAKE_CUDA, 1) == 0;

/// An entry point of the fake driver the sessions loaded, as `Fn`.
template <class Fn> Fn fakeEntry(const char *name) {
  void *library = dlopen(KILN_FAKE_CUDA, RTLD_NOW | RTLD_NOLOAD);
  EXPECT_NE(library, nullptr) << "the session should have loaded " << KILN_FAKE_CUDA;
  auto entry = reinterpret_cast<Fn>(library ? dlsym(library, name) : nullptr);
  EXPECT_NE(entry, nullptr) << name;
  return entry;
}

FakeCudaState &fake() { return *fakeEntry<FakeCudaState *(*)()>("fake_cuda_state")(); }

std::string message(kiln_status_t status) {
  std::string text = status ? kiln_status_message(status) : "";
  kiln_status_free(status);
  return text;
}

std::unique_ptr<GpuSession> makeSession() {
  EXPECT_TRUE(kFakeDriver);
  static const char image[] = "fake kernels";
  std::unique_ptr<GpuSession> session;
  EXPECT_EQ(message(GpuSession::create(90, 0, image, sizeof image, nullptr, session)), "");
  return session;
}

/// out = (2 x + 1) + x over n values, as generated host code asks for it.
/// `grid` varies a launch's dims (the same result, different work).
std::vector<float> runModel(GpuSession &s, const std::vector<float> &x, std::string &status,
                            int64_t grid = 1) {
  int64_t n = int64_t(x.size()), bytes = n * int64_t(sizeof(float));
  status = message(s.beginRun());
  void *in = s.scratch(bytes), *doubled = s.scratch(bytes), *out = s.scratch(bytes);
  s.copy(in, x.data(), bytes, KILN_GPU_COPY_HOST_TO_DEVICE);
  const int64_t dims[3] = {grid, 1, 1}, block[3] = {32, 1, 1};
  int64_t first[] = {int64_t(in), int64_t(doubled), n};
  s.launch("twice_and_one", dims, block, 0, first, 3);
  int64_t second[] = {int64_t(doubled), int64_t(in), int64_t(out), n};
  s.launch("sum", dims, block, 0, second, 4);
  std::vector<float> y(x.size(), -1.0f); // a fresh output buffer every run
  s.copy(y.data(), out, bytes, KILN_GPU_COPY_DEVICE_TO_HOST);
  if (status.empty())
    status = message(s.finishRun());
  return y;
}

std::vector<float> expected(const std::vector<float> &x) {
  std::vector<float> y;
  for (float v : x)
    y.push_back(2 * v + 1 + v);
  return y;
}

std::vector<float> input(int run, size_t n = 100) {
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i)
    x[i] = float(run * 1000 + int(i));
  return x;
}

/// Runs the model until its scratch buffers have settled: the first run's
/// come from the arena growing, the second's from one block of the total.
void settle(GpuSession &session) {
  std::string status;
  for (int run = 0; run < 2; ++run) {
    std::vector<float> x = input(100 + run);
    EXPECT_EQ(runModel(session, x, status), expected(x));
    EXPECT_EQ(status, "");
  }
}

TEST(GpuSessionGraphs, RepeatedWorkIsCapturedAndReplayed) {
  std::unique_ptr<GpuSession> session = makeSession();
  ASSERT_TRUE(session);
  ASSERT_TRUE(session->usesGraphs()) << session->whyNoGraphs();
  FakeCudaState before = fake();
  for (int run = 0; run < 5; ++run) {
    std::string status;
    std::vector<float> x = input(run);
    EXPECT_EQ(runModel(*session, x, status), expected(x)) << "run " << run;
    EXPECT_EQ(status, "");
  }
  FakeCudaState &after = fake();
  // Runs 0 and 1 call by call (run 0's scratch memory came from the arena
  // growing, so run 1's addresses differ); run 2, the same work as run 1,
  // captured and launched; runs 3-4 launch the graph. Every copy went
  // through page-locked staging: no capture was invalidated.
  EXPECT_EQ(after.captures - before.captures, 1);
  EXPECT_EQ(after.graphsInstantiated - before.graphsInstantiated, 1);
  EXPECT_EQ(after.graphLaunches - before.graphLaunches, 3);
  EXPECT_EQ(after.launchesCaptured - before.launchesCaptured, 2);
  EXPECT_EQ(after.kernelsRun - before.kernelsRun, 10);
  EXPECT_EQ(after.pageableCopiesCaptured, 0);
  EXPECT_TRUE(session->usesGraphs());
}

/// runModel's work with two run-time checks computed on the device
/// around it, "x has a negative" and "y has a negative", each a kernel
/// writing a byte the session reads back; the run's failed check, or null.
const char *runChecked(GpuSession &s, const std::vector<float> &x, std::vector<float> &y,
                       std::string &status) {
  int64_t n = int64_t(x.size()), bytes = n * int64_t(sizeof(float));
  status = message(s.beginRun());
  void *in = s.scratch(bytes), *out = s.scratch(bytes), *flags = s.scratch(2);
  s.copy(in, x.data(), bytes, KILN_GPU_COPY_HOST_TO_DEVICE);
  const int64_t dims[3] = {1, 1, 1}, block[3] = {32, 1, 1};
  int64_t checkX[] = {int64_t(in), int64_t(flags), n};
  s.launch("any_negative", dims, block, 0, checkX, 3);
  s.deviceCheck(flags, "x has a negative");
  int64_t doubled[] = {int64_t(in), int64_t(out), n};
  s.launch("twice_and_one", dims, block, 0, doubled, 3);
  int64_t checkY[] = {int64_t(out), int64_t(flags) + 1, n};
  s.launch("any_negative", dims, block, 0, checkY, 3);
  s.deviceCheck(static_cast<char *>(flags) + 1, "y has a negative");
  y.assign(x.size(), -1.0f);
  s.copy(y.data(), out, bytes, KILN_GPU_COPY_DEVICE_TO_HOST);
  if (status.empty())
    status = message(s.finishRun());
  return s.failedCheck();
}

TEST(GpuSessionChecks, DeviceFlagsAreReadBackAfterEveryRunAndGraphReplay) {
  std::unique_ptr<GpuSession> session = makeSession();
  ASSERT_TRUE(session);
  ASSERT_TRUE(session->usesGraphs()) << session->whyNoGraphs();
  FakeCudaState before = fake();
  // x >= 0 passes both checks; x in (-0.5, 0) fails only the first
  // (2x + 1 > 0); x <= -0.5 fails both, and the first is the run's.
  const std::vector<std::pair<float, const char *>> runs = {
      {1, nullptr}, {2, nullptr}, {3, nullptr}, {-0.25f, "x has a negative"},
      {4, nullptr}, {-3, "x has a negative"}, {5, nullptr}};
  for (size_t run = 0; run < runs.size(); ++run) {
    std::vector<float> x = input(int(run), 50), y;
    x[7] = runs[run].first;
    std::string status;
    const char *failed = runChecked(*session, x, y, status);
    EXPECT_EQ(status, "") << "run " << run;
    EXPECT_STREQ(failed, runs[run].second) << "run " << run;
    EXPECT_EQ(y[7], 2 * x[7] + 1) << "run " << run;
  }
  // Runs 0-1 call by call, run 2 captured, runs 3-6 replay the graph: the
  // flags were read back from replays too.
  FakeCudaState &after = fake();
  EXPECT_EQ(after.captures - before.captures, 1);
  EXPECT_EQ(after.graphLaunches - before.graphLaunches, 5);
  EXPECT_EQ(after.pageableCopiesCaptured, 0);
}

TEST(GpuSessionGraphs, OtherWorkRunsCallByCallThenIsCapturedAnew) {
  std::unique_ptr<GpuSession> session = makeSession();
  ASSERT_TRUE(session);
  settle(*session);
  std::string status;
  runModel(*session, input(0), status); // a graph now
  FakeCudaState before = fake();
  // Other launch dims: not the graph's work, so call by call, and right.
  std::vector<float> x = input(7);
  EXPECT_EQ(runModel(*session, x, status, /*grid=*/2), expected(x));
  EXPECT_EQ(status, "");
  EXPECT_EQ(fake().graphLaunches - before.graphLaunches, 0);
  // The same again: a new graph, captured from this run.
  x = input(8);
  EXPECT_EQ(runModel(*session, x, status, 2), expected(x));
  EXPECT_EQ(fake().captures - before.captures, 1);
  EXPECT_EQ(fake().graphLaunches - before.graphLaunches, 1);
  // Longer inputs: other byte counts, bigger staging buffers (the graph
  // named the old ones: it goes), more scratch (the arena grows, then is
  // one block again): two runs call by call, then a graph again.
  for (int run = 9; run < 13; ++run) {
    x = input(run, 1000);
    EXPECT_EQ(runModel(*session, x, status, 2), expected(x)) << "run " << run;
    EXPECT_EQ(status, "");
  }
  EXPECT_EQ(fake().captures - before.captures, 2);
  EXPECT_EQ(fake().graphLaunches - before.graphLaunches, 3);
}

/// Makes `entry`'s next call fail while a settled session's run is captured:
/// that run and the next ones must still be right, call by call, and the
/// session must say why it has no graphs.
void expectCallByCallWhenCaptureFails(const char *entry, const char *why) {
  std::unique_ptr<GpuSession> session = makeSession();
  ASSERT_TRUE(session);
  settle(*session);
  FakeCudaState before = fake();
  fake().failNext = entry;
  for (int run = 1; run < 4; ++run) {
    std::string status;
    std::vector<float> x = input(run);
    EXPECT_EQ(runModel(*session, x, status), expected(x)) << "run " << run;
    EXPECT_EQ(status, "");
  }
  EXPECT_EQ(fake().failNext, nullptr) << entry << " was not called";
  EXPECT_FALSE(session->usesGraphs());
  EXPECT_NE(session->whyNoGraphs().find(why), std::string::npos) << session->whyNoGraphs();
  EXPECT_EQ(fake().graphLaunches - before.graphLaunches, 0);
}

TEST(GpuSessionGraphs, FailedCaptureStartFallsBackToCallByCall) {
  expectCallByCallWhenCaptureFails("cuStreamBeginCapture_v2", "cuStreamBeginCapture: ");
}

TEST(GpuSessionGraphs, FailedInstantiationFallsBackToCallByCall) {
  expectCallByCallWhenCaptureFails("cuGraphInstantiateWithFlags",
                                   "cuGraphInstantiateWithFlags: CUDA_ERROR_UNKNOWN");
}

TEST(GpuSessionGraphs, LaunchFailingWhileCapturedIsRetriedCallByCall) {
  // It fails the capture, not the run.
  expectCallByCallWhenCaptureFails("cuLaunchKernel",
                                   "capturing the run: launching kernel 'twice_and_one'");
}

TEST(GpuSessionGraphs, TurnedOffByTheEnvironment) {
  setenv("KILN_GPU_GRAPHS", "0", 1);
  std::unique_ptr<GpuSession> session = makeSession();
  unsetenv("KILN_GPU_GRAPHS");
  ASSERT_TRUE(session);
  EXPECT_FALSE(session->usesGraphs());
  EXPECT_EQ(session->whyNoGraphs(), "KILN_GPU_GRAPHS=0");
  FakeCudaState before = fake();
  std::string status;
  for (int run = 0; run < 3; ++run) {
    std::vector<float> x = input(run);
    EXPECT_EQ(runModel(*session, x, status), expected(x));
  }
  EXPECT_EQ(fake().captures - before.captures, 0);
  EXPECT_EQ(fake().kernelsRun - before.kernelsRun, 6);
}

TEST(GpuSessionGraphs, DriverErrorsAreTheRunsStatus) {
  std::unique_ptr<GpuSession> session = makeSession();
  ASSERT_TRUE(session);
  std::string status;
  fake().failNext = "cuLaunchKernel";
  runModel(*session, input(0), status);
  EXPECT_NE(status.find("launching kernel 'twice_and_one': CUDA_ERROR_UNKNOWN"),
            std::string::npos)
      << status;
  // The failed run is no run to capture: the next is call by call, the one
  // after it captured. (A failure while capturing is not the run's: see
  // LaunchFailingWhileCapturedIsRetriedCallByCall.)
  FakeCudaState before = fake();
  std::vector<float> x = input(1);
  EXPECT_EQ(runModel(*session, x, status), expected(x));
  EXPECT_EQ(status, "");
  EXPECT_EQ(fake().captures - before.captures, 0);
  x = input(2);
  EXPECT_EQ(runModel(*session, x, status), expected(x));
  EXPECT_EQ(fake().captures - before.captures, 1);
  // A failing graph launch fails its run (and its work is not then issued
  // call by call).
  fake().failNext = "cuGraphLaunch";
  int kernelsBefore = fake().kernelsRun;
  runModel(*session, input(3), status);
  EXPECT_NE(status.find("launching the run's CUDA graph"), std::string::npos) << status;
  EXPECT_EQ(fake().kernelsRun, kernelsBefore);
  x = input(4);
  EXPECT_EQ(runModel(*session, x, status), expected(x));
  EXPECT_EQ(status, "");
}

TEST(GpuSessionGraphs, UnknownKernelIsAnError) {
  std::unique_ptr<GpuSession> session = makeSession();
  ASSERT_TRUE(session);
  ASSERT_EQ(message(session->beginRun()), "");
  const int64_t dims[3] = {1, 1, 1};
  int64_t params[1] = {0};
  session->launch("no_such_kernel", dims, dims, 0, params, 1);
  std::string status = message(session->finishRun());
  EXPECT_NE(status.find("finding kernel 'no_such_kernel'"), std::string::npos) << status;
}

TEST(GpuSessionGraphs, EmulatedKernelsTheDriverCannotLoadAreNamedAsSuch) {
  ASSERT_TRUE(kFakeDriver);
  // The magic of a --gpu-emulation model with no library behind it: the
  // driver refuses it, and the status says what such a model is.
  std::string image = std::string(KILN_GPU_EMULATION_MAGIC) + "not a library";
  std::unique_ptr<GpuSession> session;
  std::string status =
      message(GpuSession::create(90, 0, image.c_str(), image.size() + 1, nullptr, session));
  EXPECT_NE(status.find("compiled with --gpu-emulation"), std::string::npos) << status;
  EXPECT_NE(status.find("holds no 64-bit ELF library"), std::string::npos) << status;
}

//===--- The fake driver's emulator, on kernels written by hand -----------===//
// (fake_emulated_kernels.c; compiled models' kernels: ctest gpu-models-emulated)

std::unique_ptr<GpuSession> emulatedSession() {
  EXPECT_TRUE(kFakeDriver);
  std::ifstream file(KILN_FAKE_EMULATED_KERNELS, std::ios::binary);
  std::string image = KILN_GPU_EMULATION_MAGIC +
                      std::string(std::istreambuf_iterator<char>(file), {});
  std::unique_ptr<GpuSession> session;
  EXPECT_EQ(message(GpuSession::create(90, 0, image.data(), image.size(), nullptr, session)), "");
  return session;
}

/// Runs kernel `name` once with an int32 output of `count` values as its
/// first parameter and `more` after it; the output, or `status` set.
std::vector<int32_t> runKernel(GpuSession &s, const char *name, const int64_t grid[3],
                               const int64_t block[3], size_t count,
                               std::vector<int64_t> more, std::string &status) {
  status = message(s.beginRun());
  int64_t bytes = int64_t(count * sizeof(int32_t));
  void *out = s.scratch(bytes);
  std::vector<int64_t> params{int64_t(out)};
  params.insert(params.end(), more.begin(), more.end());
  s.launch(name, grid, block, 0, params.data(), int64_t(params.size()));
  std::vector<int32_t> values(count, -1);
  s.copy(values.data(), out, bytes, KILN_GPU_COPY_DEVICE_TO_HOST);
  if (status.empty())
    status = message(s.finishRun());
  return values;
}

/// The lane whose value CUDA's __shfl_sync, __shfl_up_sync,
/// __shfl_down_sync and __shfl_xor_sync give `lane` over groups of `width`
/// lanes (the CUDA C++ guide's definitions, not PTX's).
int cudaSourceLane(int kind, int lane, int b, int width) {
  int base = lane & ~(width - 1);
  switch (kind) {
  case KILN_EMU_SHFL_IDX: return base + (b & (width - 1));
  case KILN_EMU_SHFL_UP: return lane - base >= b ? lane - b : lane;
  case KILN_EMU_SHFL_DOWN: return lane - base + b < width ? lane + b : lane;
  default: return (lane ^ b) < base + width ? lane ^ b : lane;
  }
}

TEST(GpuEmulator, ShufflesAsCudaDefinesThem) {
  std::unique_ptr<GpuSession> session = emulatedSession();
  ASSERT_TRUE(session);
  const int64_t grid[3] = {1, 1, 1}, block[3] = {32, 2, 1}; // two warps
  const int threads = 64;
  for (int kind : {KILN_EMU_SHFL_IDX, KILN_EMU_SHFL_UP, KILN_EMU_SHFL_DOWN, KILN_EMU_SHFL_BFLY})
    for (int width : {32, 8})
      for (int b : {1, 3, 5, 8}) {
        // The c operand CUDA's intrinsics pass: the segment mask, and the
        // clamp (0 for up: it clamps at the segment's start).
        int c = (32 - width) << 8 | (kind == KILN_EMU_SHFL_UP ? 0 : 31);
        std::string status;
        std::vector<int32_t> got = runKernel(*session, "shuffle", grid, block, 2 * threads,
                                             {kind, b, c}, status);
        ASSERT_EQ(status, "");
        for (int t = 0; t < threads; ++t) {
          int source = t / 32 * 32 + cudaSourceLane(kind, t % 32, b, width);
          EXPECT_EQ(got[size_t(t)], 100 + source)
              << "kind " << kind << " width " << width << " b " << b << " thread " << t;
        }
        if (kind == KILN_EMU_SHFL_UP && width == 32) {
          for (int t = 0; t < threads; ++t)
            EXPECT_EQ(got[size_t(threads + t)], t % 32 >= b) << "predicate, b " << b << " thread " << t;
        }
      }
}

TEST(GpuEmulator, BarrierWaitsForTheWholeBlock) {
  std::unique_ptr<GpuSession> session = emulatedSession();
  ASSERT_TRUE(session);
  const int64_t grid[3] = {3, 1, 1}, block[3] = {96, 1, 1};
  std::string status;
  std::vector<int32_t> got = runKernel(*session, "rotate", grid, block, 3 * 96, {}, status);
  ASSERT_EQ(status, "");
  for (int i = 0; i < 3 * 96; ++i)
    EXPECT_EQ(got[size_t(i)], (i % 96 + 1) % 96 + 1) << i;
}

TEST(GpuEmulator, SpecialRegistersOverAGridOfBlocks) {
  std::unique_ptr<GpuSession> session = emulatedSession();
  ASSERT_TRUE(session);
  const int64_t grid[3] = {3, 2, 1}, block[3] = {16, 3, 1};
  std::string status;
  std::vector<int32_t> got = runKernel(*session, "positions", grid, block, 6 * 48, {}, status);
  ASSERT_EQ(status, "");
  for (int cy = 0; cy < 2; ++cy)
    for (int cx = 0; cx < 3; ++cx)
      for (int ty = 0; ty < 3; ++ty)
        for (int tx = 0; tx < 16; ++tx) {
          size_t at = size_t((cy * 3 + cx) * 48 + ty * 16 + tx);
          EXPECT_EQ(got[at], tx + 10 * ty + 100 * cx + 1000 * cy + 10000 * ((ty * 16 + tx) % 32));
        }
}

TEST(GpuEmulator, RaceCheck) {
  std::unique_ptr<GpuSession> session = emulatedSession();
  ASSERT_TRUE(session);
  setenv("FAKE_CUDA_RACECHECK", "1", 1);
  const int64_t grid[3] = {2, 1, 1}, block[3] = {64, 1, 1};
  std::string status;
  // Accesses ordered by the barrier, and each thread its own element: no race.
  std::vector<int32_t> got = runKernel(*session, "rotate", grid, block, 2 * 64, {}, status);
  EXPECT_EQ(status, "");
  EXPECT_EQ(got[0], 2);
  // Every thread adds into out[0]: a race the threads run one after another
  // would hide (the sum comes out right here).
  runKernel(*session, "racy_sum", grid, block, 1, {}, status);
  unsetenv("FAKE_CUDA_RACECHECK");
  EXPECT_NE(status.find("kernel 'racy_sum': a race: thread 1 of block 0 reads byte"),
            std::string::npos)
      << status;
  EXPECT_NE(status.find("which thread 0 of block 0 wrote in the same launch with no barrier "
                        "between them"),
            std::string::npos)
      << status;
}

TEST(GpuEmulator, RaceCheckOfSharedMemoryIsPerBlock) {
  std::unique_ptr<GpuSession> session = emulatedSession();
  ASSERT_TRUE(session);
  setenv("FAKE_CUDA_RACECHECK", "1", 1);
  const int64_t grid[3] = {3, 1, 1}, block[3] = {64, 1, 1};
  std::string status;
  // Every block writes the same shared bytes: each block's own on a GPU.
  std::vector<int32_t> got = runKernel(*session, "rotate_shared", grid, block, 3 * 64, {1}, status);
  EXPECT_EQ(status, "");
  for (int i = 0; i < 3 * 64; ++i)
    EXPECT_EQ(got[size_t(i)], i / 64 * 1000 + (i % 64 + 1) % 64 + 1) << i;
  // Within a block, shared memory with no barrier between one thread's
  // read and another's write is still a race.
  runKernel(*session, "rotate_shared", grid, block, 3 * 64, {0}, status);
  unsetenv("FAKE_CUDA_RACECHECK");
  EXPECT_NE(status.find("kernel 'rotate_shared': a race: thread 1 of block 0 writes byte"),
            std::string::npos)
      << status;
}

TEST(GpuEmulator, ShuffleWithExitedLanesIsTheRunsError) {
  std::unique_ptr<GpuSession> session = emulatedSession();
  ASSERT_TRUE(session);
  const int64_t grid[3] = {1, 1, 1}, block[3] = {32, 1, 1};
  std::string status;
  runKernel(*session, "half_shuffle", grid, block, 1, {}, status);
  EXPECT_NE(status.find("kernel 'half_shuffle': shfl.sync's member mask 4294967295 names lane "
                        "16, which has exited"),
            std::string::npos)
      << status;
}

TEST(GpuEmulator, MmaAsThePtxIsaLaysOutItsFragments) {
  std::unique_ptr<GpuSession> session = emulatedSession();
  ASSERT_TRUE(session);
  const int64_t grid[3] = {1, 1, 1}, block[3] = {32, 1, 1};
  // The same small integers as fake_emulated_kernels.c: exact products.
  auto a = [](int row, int k) { return (row * 3 + k * 5) % 7 - 3; };
  auto b = [](int k, int column) { return (k * 2 + column) % 5 - 2; };
  for (int kind : {KILN_EMU_MMA_F16, KILN_EMU_MMA_BF16}) {
    std::string status;
    std::vector<int32_t> got = runKernel(*session, "mma", grid, block, 16 * 8, {kind, 0}, status);
    ASSERT_EQ(status, "");
    for (int row = 0; row < 16; ++row)
      for (int column = 0; column < 8; ++column) {
        int want = row - 2 * column;
        for (int k = 0; k < 16; ++k)
          want += a(row, k) * b(k, column);
        float value;
        std::memcpy(&value, &got[size_t(row * 8 + column)], sizeof value);
        EXPECT_EQ(value, float(want)) << "kind " << kind << " D[" << row << "][" << column << "]";
      }
  }
}

TEST(GpuEmulator, MmaWithExitedLanesIsTheRunsError) {
  std::unique_ptr<GpuSession> session = emulatedSession();
  ASSERT_TRUE(session);
  const int64_t grid[3] = {1, 1, 1}, block[3] = {32, 1, 1};
  std::string status;
  runKernel(*session, "mma", grid, block, 16 * 8, {KILN_EMU_MMA_F16, 1}, status);
  EXPECT_NE(status.find("kernel 'mma': mma.sync.aligned with lanes of the warp elsewhere"),
            std::string::npos)
      << status;
}

TEST(GpuEmulator, LdmatrixAsThePtxIsaLaysOutItsRegisters) {
  std::unique_ptr<GpuSession> session = emulatedSession();
  ASSERT_TRUE(session);
  setenv("FAKE_CUDA_RACECHECK", "1", 1); // the rows are read after the barrier
  const int64_t grid[3] = {1, 1, 1}, block[3] = {32, 1, 1};
  // fake_emulated_kernels.c's matrices: value 64 m + 8 row + column.
  auto value = [](int m, int row, int column) { return uint32_t(64 * m + 8 * row + column); };
  for (int matrices : {1, 2, 4})
    for (bool transpose : {false, true}) {
      int shape = matrices | (transpose ? KILN_EMU_LDMATRIX_TRANS : 0);
      std::string status;
      std::vector<int32_t> got = runKernel(*session, "ldmatrix", grid, block, 4 * 32, {shape, 0},
                                           status);
      ASSERT_EQ(status, "") << "shape " << shape;
      for (int lane = 0; lane < 32; ++lane)
        for (int m = 0; m < matrices; ++m) {
          // Row lane / 4, columns 2 (lane % 4) and + 1 (of the transpose).
          int row = lane / 4, column = 2 * (lane % 4);
          uint32_t low = transpose ? value(m, column, row) : value(m, row, column);
          uint32_t high = transpose ? value(m, column + 1, row) : value(m, row, column + 1);
          EXPECT_EQ(uint32_t(got[size_t(4 * lane + m)]), low | high << 16)
              << "shape " << shape << " lane " << lane << " register " << m;
        }
    }
  unsetenv("FAKE_CUDA_RACECHECK");
  std::string status;
  runKernel(*session, "ldmatrix", grid, block, 4 * 32, {4, 1}, status);
  EXPECT_NE(status.find("kernel 'ldmatrix': ldmatrix: lane 0 names row address"),
            std::string::npos)
      << status;
  EXPECT_NE(status.find("not 16-byte aligned"), std::string::npos) << status;
}

TEST(GpuEmulator, CpAsyncLandsAtTheWaitForItsGroup) {
  std::unique_ptr<GpuSession> session = emulatedSession();
  ASSERT_TRUE(session);
  const int64_t grid[3] = {1, 1, 1}, block[3] = {32, 1, 1};
  std::string status;
  std::vector<int32_t> got = runKernel(*session, "cp_async", grid, block, 96, {0}, status);
  ASSERT_EQ(status, "");
  for (int t = 0; t < 32; ++t) {
    EXPECT_EQ(got[size_t(t)], 0) << "before any wait, thread " << t;
    EXPECT_EQ(got[size_t(32 + t)], t == 15 ? 1000 + 4 * t : 0) << "wait_group 1, thread " << t;
    EXPECT_EQ(got[size_t(64 + t)], 1000 + 4 * t) << "wait_group 0, thread " << t;
  }
  runKernel(*session, "cp_async", grid, block, 96, {8}, status);
  EXPECT_NE(status.find("kernel 'cp_async': cp.async of 16 bytes to"), std::string::npos)
      << status;
  EXPECT_NE(status.find("both must be aligned to its size"), std::string::npos) << status;
}

TEST(GpuEmulator, AccessesLessAlignedThanTheCodeAssumesAreTheRunsError) {
  std::unique_ptr<GpuSession> session = emulatedSession();
  ASSERT_TRUE(session);
  const int64_t grid[3] = {1, 1, 1}, block[3] = {32, 1, 1};
  std::string status;
  runKernel(*session, "misaligned", grid, block, 4, {4}, status);
  EXPECT_EQ(status, "");
  runKernel(*session, "misaligned", grid, block, 4, {2}, status);
  EXPECT_NE(status.find("kernel 'misaligned': a misaligned access: thread 0 of block 0 reads 4 "
                        "bytes at"),
            std::string::npos)
      << status;
  EXPECT_NE(status.find("which the kernel's code takes to be 4-byte aligned (a GPU faults)"),
            std::string::npos)
      << status;
}

} // namespace

//===--- Through the C API: a hand-written GPU model (fake_gpu_model.c) ---===//

namespace {

constexpr size_t kModelValues = 64; // fake_gpu_model.c's x and y

struct Loaded {
  kiln_model_t *model = nullptr;
  kiln_session_t *session = nullptr;
  ~Loaded() {
    kiln_session_release(session);
    kiln_model_release(model);
  }
};

std::string open(Loaded &l, const char *path, bool deviceIo, void *cudaStream = nullptr) {
  EXPECT_TRUE(kFakeDriver);
  if (std::string error = message(kiln_model_load(path, &l.model)); !error.empty())
    return error;
  kiln_session_options options;
  kiln_session_options_initialize(&options);
  options.device_io = deviceIo;
  options.cuda_stream = cudaStream;
  return message(kiln_session_create(l.model, &options, &l.session));
}

/// Queues on the fake driver's legacy default stream, as PyTorch computing
/// an input would, the write of `values` into device memory `device`.
void writeOnLegacyStream(void *device, const std::vector<float> &values) {
  auto queue =
      fakeEntry<void (*)(void (*)(void *), void *)>("fake_cuda_queue_on_legacy_stream");
  ASSERT_NE(queue, nullptr);
  struct Write {
    void *device;
    std::vector<float> values;
  };
  queue(
      [](void *argument) {
        auto *write = static_cast<Write *>(argument);
        std::memcpy(write->device, write->values.data(), write->values.size() * sizeof(float));
        delete write;
      },
      new Write{device, values});
}

TEST(GpuModelRuns, HostInputsAndOutputsOverManyRuns) {
  Loaded l;
  ASSERT_EQ(open(l, KILN_FAKE_GPU_MODEL, false), "");
  FakeCudaState before = fake();
  const int64_t dims[] = {int64_t(kModelValues)};
  for (int run = 0; run < 5; ++run) {
    std::vector<float> x = input(run, kModelValues), y(kModelValues, -1.0f);
    kiln_tensor in{"x", KILN_DTYPE_FLOAT32, 1, dims, x.data(), x.size() * sizeof(float)};
    // Every other run the runtime hands its buffer over.
    kiln_tensor outs[1] = {{"y", 0, 0, nullptr, run % 2 ? y.data() : nullptr,
                            y.size() * sizeof(float)}};
    ASSERT_EQ(message(kiln_session_run(l.session, &in, 1, outs, 1)), "") << "run " << run;
    const float *got = static_cast<const float *>(outs[0].data);
    EXPECT_EQ(std::vector<float>(got, got + kModelValues), expected(x)) << "run " << run;
    if (run % 2 == 0)
      kiln_tensor_free(outs[0].data);
  }
  EXPECT_EQ(fake().captures - before.captures, 1);
  EXPECT_EQ(fake().graphLaunches - before.graphLaunches, 3);
}

/// The model's x and y in device memory of session `l`, freed with it.
struct DeviceBuffers {
  static constexpr size_t kBytes = kModelValues * sizeof(float);
  kiln_session_t *session = nullptr;
  void *x = nullptr, *y = nullptr;
  explicit DeviceBuffers(kiln_session_t *s) : session(s) {
    EXPECT_EQ(message(kiln_session_device_alloc(session, kBytes, &x)), "");
    EXPECT_EQ(message(kiln_session_device_alloc(session, kBytes, &y)), "");
  }
  ~DeviceBuffers() {
    kiln_session_device_free(session, x);
    kiln_session_device_free(session, y);
  }

  /// Copies `host` into x (synchronously), lets `beforeRun` queue more
  /// work, runs the model with device I/O and reads y back; `status` is
  /// the run's.
  std::vector<float> run(const std::vector<float> &host, std::string &status,
                         const std::function<void()> &beforeRun = {}) {
    std::vector<float> result(kModelValues, -1.0f);
    EXPECT_EQ(message(kiln_session_device_copy(session, x, host.data(), kBytes,
                                               KILN_GPU_COPY_HOST_TO_DEVICE)),
              "");
    if (beforeRun)
      beforeRun();
    const int64_t dims[] = {int64_t(kModelValues)};
    kiln_tensor in{"x", KILN_DTYPE_FLOAT32, 1, dims, x, kBytes};
    kiln_tensor out{"y", 0, 0, nullptr, y, kBytes};
    status = message(kiln_session_run(session, &in, 1, &out, 1));
    EXPECT_EQ(out.data, y);
    EXPECT_EQ(out.byte_size, kBytes);
    EXPECT_EQ(message(kiln_session_device_copy(session, result.data(), y, kBytes,
                                               KILN_GPU_COPY_DEVICE_TO_HOST)),
              "");
    return result;
  }
};

TEST(GpuModelRuns, DeviceInputsAndOutputs) {
  Loaded l;
  ASSERT_EQ(open(l, KILN_FAKE_GPU_MODEL, true), "");
  DeviceBuffers buffers(l.session);
  FakeCudaState before = fake();
  for (int run = 0; run < 5; ++run) {
    std::string status;
    std::vector<float> host = input(run, kModelValues);
    EXPECT_EQ(buffers.run(host, status), expected(host)) << "run " << run;
    EXPECT_EQ(status, "") << "run " << run;
  }
  // Device I/O is as repeatable as host I/O: the third run is captured.
  EXPECT_EQ(fake().captures - before.captures, 1);
  EXPECT_EQ(fake().graphLaunches - before.graphLaunches, 3);
  EXPECT_EQ(fake().pageableCopiesCaptured, 0);
}

// A device input the caller is still computing on the legacy default
// stream (PyTorch's and CuPy's unless told otherwise) when it calls the
// run: the run's stream, non-blocking, waits for that work on the GPU
// (event), so the model reads the finished input, in every run, graph
// replays included. (Before, it read what the buffer held.)
TEST(GpuModelRuns, DeviceInputsWaitForTheLegacyStreamsWork) {
  Loaded l;
  ASSERT_EQ(open(l, KILN_FAKE_GPU_MODEL, true), "");
  DeviceBuffers buffers(l.session);
  FakeCudaState before = fake();
  for (int run = 0; run < 4; ++run) {
    std::string status;
    std::vector<float> stale(kModelValues, -7.0f), fresh = input(run, kModelValues);
    EXPECT_EQ(buffers.run(stale, status, [&] { writeOnLegacyStream(buffers.x, fresh); }),
              expected(fresh))
        << "run " << run;
    EXPECT_EQ(status, "") << "run " << run;
  }
  EXPECT_EQ(fake().legacyWaits - before.legacyWaits, 4);
  EXPECT_EQ(fake().graphLaunches - before.graphLaunches, 2);
}

// kiln_session_options::cuda_stream: the session creates no stream of its
// own, and every run's work (copies, kernels, the graph's launch, the
// final wait) goes on the caller's; the caller orders its own work on it,
// so no wait on the legacy stream. A CPU model refuses it.
TEST(GpuModelRuns, CallersStream) {
  static char callerStream; // the fake driver takes any handle
  Loaded first;              // (the driver loaded, to read its counters)
  ASSERT_EQ(open(first, KILN_FAKE_GPU_MODEL, true), "");
  FakeCudaState before = fake();
  Loaded l;
  ASSERT_EQ(open(l, KILN_FAKE_GPU_MODEL, true, &callerStream), "");
  {
    DeviceBuffers buffers(l.session);
    for (int run = 0; run < 4; ++run) {
      std::string status;
      std::vector<float> host = input(run, kModelValues);
      EXPECT_EQ(buffers.run(host, status, [] { fake().lastStream = nullptr; }), expected(host))
          << "run " << run;
      EXPECT_EQ(status, "") << "run " << run;
      EXPECT_EQ(fake().lastStream, &callerStream) << "run " << run;
    }
  }
  EXPECT_EQ(fake().streamsCreated, before.streamsCreated);
  EXPECT_EQ(fake().legacyWaits, before.legacyWaits);
  EXPECT_EQ(fake().graphLaunches - before.graphLaunches, 2);

  Loaded cpu;
  EXPECT_NE(open(cpu, KILN_FAKE_MODEL, false, &callerStream)
                .find("cuda_stream is for GPU models (kiln compile --target cuda), and this "
                      "model is compiled for the CPU"),
            std::string::npos);
}

// A session on the caller's stream does not wait for other streams:
// kiln_session_wait_stream orders its next run after one's work (here the
// legacy stream's, where an input is still being written). Without it the
// run reads the stale input (what the caller's stream ordering is for).
TEST(GpuModelRuns, WaitStreamOrdersTheNextRunAfterAnotherStream) {
  static char callerStream;
  Loaded l;
  ASSERT_EQ(open(l, KILN_FAKE_GPU_MODEL, true, &callerStream), "");
  DeviceBuffers buffers(l.session);
  std::vector<float> stale(kModelValues, -7.0f);
  for (int run = 0; run < 4; ++run) {
    std::string status;
    std::vector<float> fresh = input(run, kModelValues);
    std::vector<float> got = buffers.run(stale, status, [&] {
      writeOnLegacyStream(buffers.x, fresh);
      if (run % 2 == 1) {
        EXPECT_EQ(message(kiln_session_wait_stream(l.session, nullptr)), "");
      }
    });
    EXPECT_EQ(status, "") << "run " << run;
    EXPECT_EQ(got, expected(run % 2 == 1 ? fresh : stale)) << "run " << run;
    EXPECT_EQ(message(kiln_session_wait_stream(l.session, nullptr)), ""); // settle the write
  }
  Loaded cpu;
  ASSERT_EQ(open(cpu, KILN_FAKE_MODEL, false), "");
  EXPECT_EQ(message(kiln_session_wait_stream(cpu.session, nullptr)),
            "kiln_session_wait_stream: the session's model is not a GPU model");
}

// Profiling times nodes' host code: on a GPU model it would time the
// logging of kernels, not the kernels, so it is refused, saying what to use.
TEST(GpuModelRuns, ProfilingIsRefusedSayingWhy) {
  Loaded l;
  ASSERT_EQ(message(kiln_model_load(KILN_FAKE_GPU_MODEL, &l.model)), "");
  kiln_session_options options;
  kiln_session_options_initialize(&options);
  options.profile = 1;
  EXPECT_EQ(message(kiln_session_create(l.model, &options, &l.session)),
            "kiln_session_create: profile times each ONNX node's code on the CPU, and this is a "
            "GPU model (kiln compile --target cuda), whose nodes are kernels queued on the GPU: "
            "profile it with NVIDIA Nsight Systems or Compute (nsys or ncu over kiln-run or "
            "kiln-bench; docs/gpu.md)");
  EXPECT_EQ(l.session, nullptr);
}

// ABI 16 appended a_type and c_type to kiln_gemm_desc: an ABI 15 GPU
// model's descriptor ends before them (fake_gpu_model_abi15 leaves invalid
// ones there, which would fail the run), and its GEMM runs in fp32.
TEST(GpuModelRuns, Abi15GemmDescriptor) {
  Loaded l;
  ASSERT_EQ(open(l, KILN_FAKE_GPU_MODEL_ABI15, false), "");
  const int64_t dims[] = {int64_t(kModelValues)};
  for (int run = 0; run < 3; ++run) {
    std::vector<float> x = input(run, kModelValues), y(kModelValues, -1.0f);
    kiln_tensor in{"x", KILN_DTYPE_FLOAT32, 1, dims, x.data(), x.size() * sizeof(float)};
    kiln_tensor out{"y", 0, 0, nullptr, y.data(), y.size() * sizeof(float)};
    ASSERT_EQ(message(kiln_session_run(l.session, &in, 1, &out, 1)), "") << "run " << run;
    EXPECT_EQ(y, expected(x)) << "run " << run;
  }
}

TEST(GpuModelRuns, DeviceIoRefusesHostMemoryAndCpuModels) {
  Loaded l;
  ASSERT_EQ(open(l, KILN_FAKE_GPU_MODEL, true), "");
  const size_t bytes = kModelValues * sizeof(float);
  const int64_t dims[] = {int64_t(kModelValues)};
  std::vector<float> host(kModelValues, 1.0f);
  void *device = nullptr;
  ASSERT_EQ(message(kiln_session_device_alloc(l.session, bytes, &device)), "");
  kiln_tensor hostIn{"x", KILN_DTYPE_FLOAT32, 1, dims, host.data(), bytes};
  kiln_tensor deviceIn{"x", KILN_DTYPE_FLOAT32, 1, dims, device, bytes};
  kiln_tensor hostOut{"y", 0, 0, nullptr, host.data(), bytes};
  kiln_tensor noOut{"y", 0, 0, nullptr, nullptr, 0};
  void *deviceOut = nullptr;
  ASSERT_EQ(message(kiln_session_device_alloc(l.session, bytes, &deviceOut)), "");
  kiln_tensor out{"y", 0, 0, nullptr, deviceOut, bytes};
  std::string error = message(kiln_session_run(l.session, &hostIn, 1, &out, 1));
  EXPECT_EQ(error.rfind("input 'x' data ", 0), 0u) << error;
  EXPECT_NE(error.find("is not device memory (the session has device_io"), std::string::npos)
      << error;
  EXPECT_NE(message(kiln_session_run(l.session, &deviceIn, 1, &noOut, 1))
                .find("output 'y' needs a caller device buffer (the session has device_io), but "
                      "its data is NULL"),
            std::string::npos);
  EXPECT_NE(message(kiln_session_run(l.session, &deviceIn, 1, &hostOut, 1))
                .find("its data is not device memory"),
            std::string::npos);
  out.byte_size = bytes - 4;
  EXPECT_NE(message(kiln_session_run(l.session, &deviceIn, 1, &out, 1)).find("byte_size"),
            std::string::npos);
  EXPECT_NE(message(kiln_session_device_copy(l.session, device, host.data(), bytes, 7))
                .find("kind 7"),
            std::string::npos);
  kiln_session_device_free(l.session, device);
  kiln_session_device_free(l.session, deviceOut);

  Loaded cpu;
  EXPECT_NE(open(cpu, KILN_FAKE_MODEL, true).find("device_io is for GPU models"),
            std::string::npos);
  Loaded cpuHostIo;
  ASSERT_EQ(open(cpuHostIo, KILN_FAKE_MODEL, false), "");
  void *none = &cpuHostIo;
  EXPECT_NE(message(kiln_session_device_alloc(cpuHostIo.session, 16, &none))
                .find("not a GPU model"),
            std::string::npos);
  EXPECT_EQ(none, nullptr);
}

} // namespace
