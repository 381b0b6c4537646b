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

#include <gtest/gtest.h>

#include <cstdlib>
#include <dlfcn.h>
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
};

namespace {

// The driver is loaded once per process: name the fake before any test.
const bool kFakeDriver = setenv("KILN_CUDA_DRIVER", KILN_FAKE_CUDA, 1) == 0;

FakeCudaState &fake() {
  void *library = dlopen(KILN_FAKE_CUDA, RTLD_NOW | RTLD_NOLOAD);
  EXPECT_NE(library, nullptr) << "the session should have loaded " << KILN_FAKE_CUDA;
  auto state = reinterpret_cast<FakeCudaState *(*)()>(dlsym(library, "fake_cuda_state"));
  return *state();
}

std::string message(kiln_status_t status) {
  std::string text = status ? kiln_status_message(status) : "";
  kiln_status_free(status);
  return text;
}

std::unique_ptr<GpuSession> makeSession() {
  EXPECT_TRUE(kFakeDriver);
  static const char image[] = "fake kernels";
  std::unique_ptr<GpuSession> session;
  EXPECT_EQ(message(GpuSession::create(90, 0, image, sizeof image, session)), "");
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

std::string open(Loaded &l, const char *path, bool deviceIo) {
  EXPECT_TRUE(kFakeDriver);
  if (std::string error = message(kiln_model_load(path, &l.model)); !error.empty())
    return error;
  kiln_session_options options;
  kiln_session_options_initialize(&options);
  options.device_io = deviceIo;
  return message(kiln_session_create(l.model, &options, &l.session));
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

TEST(GpuModelRuns, DeviceInputsAndOutputs) {
  Loaded l;
  ASSERT_EQ(open(l, KILN_FAKE_GPU_MODEL, true), "");
  const size_t bytes = kModelValues * sizeof(float);
  void *x = nullptr, *y = nullptr;
  ASSERT_EQ(message(kiln_session_device_alloc(l.session, bytes, &x)), "");
  ASSERT_EQ(message(kiln_session_device_alloc(l.session, bytes, &y)), "");
  FakeCudaState before = fake();
  const int64_t dims[] = {int64_t(kModelValues)};
  for (int run = 0; run < 5; ++run) {
    std::vector<float> host = input(run, kModelValues), result(kModelValues, -1.0f);
    ASSERT_EQ(message(kiln_session_device_copy(l.session, x, host.data(), bytes,
                                               KILN_GPU_COPY_HOST_TO_DEVICE)),
              "");
    kiln_tensor in{"x", KILN_DTYPE_FLOAT32, 1, dims, x, bytes};
    kiln_tensor out{"y", 0, 0, nullptr, y, bytes};
    ASSERT_EQ(message(kiln_session_run(l.session, &in, 1, &out, 1)), "") << "run " << run;
    EXPECT_EQ(out.data, y);
    EXPECT_EQ(out.byte_size, bytes);
    ASSERT_EQ(message(kiln_session_device_copy(l.session, result.data(), y, bytes,
                                               KILN_GPU_COPY_DEVICE_TO_HOST)),
              "");
    EXPECT_EQ(result, expected(host)) << "run " << run;
  }
  // Device I/O is as repeatable as host I/O: the third run is captured.
  EXPECT_EQ(fake().captures - before.captures, 1);
  EXPECT_EQ(fake().graphLaunches - before.graphLaunches, 3);
  EXPECT_EQ(fake().pageableCopiesCaptured, 0);
  kiln_session_device_free(l.session, x);
  kiln_session_device_free(l.session, y);
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
