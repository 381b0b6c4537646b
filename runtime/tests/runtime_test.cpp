//===- runtime_test.cpp - The public runtime API on hand-written models ---===//
//
// Links libkiln_runtime.so, exactly as an application does. The models are
// fake_model.c (x + bias, row sums) and fake_bert.c (three int64 inputs that
// share `batch` and `sequence`), built into KILN_TEST_MODEL_DIR.
//
//===----------------------------------------------------------------------===//

#include "kiln/kiln.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

namespace {

std::string modelPath(const char *name) {
  return std::string(KILN_TEST_MODEL_DIR) + "/" + name + ".so";
}

/// Takes a status; "" for OK, else "CODE: message" (and frees it).
std::string take(kiln_status_t status) {
  if (!status)
    return "";
  std::string text = std::string(kiln_status_code_name(kiln_status_code(status))) + ": " +
                     kiln_status_message(status);
  kiln_status_free(status);
  return text;
}

#define ASSERT_OK(expr) ASSERT_EQ(take(expr), "")
#define EXPECT_OK(expr) EXPECT_EQ(take(expr), "")

/// A loaded model and a session on it.
struct Loaded {
  kiln_model_t *model = nullptr;
  kiln_session_t *session = nullptr;
  explicit Loaded(const char *name, uint32_t threads = 1) {
    kiln_status_t st = kiln_model_load(modelPath(name).c_str(), &model);
    EXPECT_EQ(take(st), "");
    kiln_session_options options;
    kiln_session_options_initialize(&options);
    options.num_threads = threads;
    if (model) {
      EXPECT_EQ(take(kiln_session_create(model, &options, &session)), "");
    }
  }
  ~Loaded() {
    kiln_session_release(session);
    kiln_model_release(model);
  }
};

/// Inputs for fake_model: x [n, 4] = i * 0.5, bias [4] = 10, 20, 30, 40.
struct FakeInputs {
  std::vector<float> x, bias{10, 20, 30, 40};
  int64_t xDims[2], biasDims[1] = {4};
  kiln_tensor tensors[2];
  explicit FakeInputs(int64_t n) : x(static_cast<size_t>(n) * 4), xDims{n, 4} {
    for (size_t i = 0; i < x.size(); ++i)
      x[i] = static_cast<float>(i) * 0.5f;
    tensors[0] = {"x", KILN_DTYPE_FLOAT32, 2, xDims, x.empty() ? nullptr : x.data(),
                  x.size() * sizeof(float)};
    tensors[1] = {"bias", KILN_DTYPE_FLOAT32, 1, biasDims, bias.data(), bias.size() * 4};
  }
  float y(int64_t i, int64_t j) const { return x[i * 4 + j] + bias[j]; }
  float s(int64_t i) const { return x[i * 4] + x[i * 4 + 1] + x[i * 4 + 2] + x[i * 4 + 3]; }
};

/// Runs fake_model with runtime-allocated outputs and checks them.
void runAndCheck(kiln_session_t *session, int64_t n) {
  FakeInputs in(n);
  kiln_tensor out[2] = {{"y"}, {"s"}};
  ASSERT_OK(kiln_session_run(session, in.tensors, 2, out, 2));
  ASSERT_EQ(out[0].rank, 2);
  ASSERT_EQ(out[0].dims[0], n);
  ASSERT_EQ(out[0].dims[1], 4);
  ASSERT_EQ(out[0].byte_size, static_cast<size_t>(n) * 16);
  ASSERT_EQ(out[1].dims[0], n);
  const float *y = static_cast<const float *>(out[0].data);
  const float *s = static_cast<const float *>(out[1].data);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < 4; ++j)
      ASSERT_EQ(y[i * 4 + j], in.y(i, j)) << "n=" << n << " i=" << i << " j=" << j;
    ASSERT_EQ(s[i], in.s(i));
  }
  kiln_tensor_free(out[0].data);
  kiln_tensor_free(out[1].data);
}

//===--- Status, dtypes -----------------------------------------------------===//

TEST(Status, NullIsOk) {
  EXPECT_EQ(kiln_status_code(nullptr), KILN_STATUS_OK);
  EXPECT_STREQ(kiln_status_message(nullptr), "OK");
  kiln_status_free(nullptr);
  EXPECT_STREQ(kiln_status_code_name(KILN_STATUS_BUFFER_TOO_SMALL), "BUFFER_TOO_SMALL");
  EXPECT_STREQ(kiln_status_code_name(KILN_STATUS_UNSUPPORTED_CPU), "UNSUPPORTED_CPU");
}

TEST(Dtype, SizesAndNames) {
  EXPECT_EQ(kiln_dtype_size(KILN_DTYPE_FLOAT32), 4u);
  EXPECT_EQ(kiln_dtype_size(KILN_DTYPE_INT64), 8u);
  EXPECT_EQ(kiln_dtype_size(KILN_DTYPE_BFLOAT16), 2u);
  EXPECT_EQ(kiln_dtype_size(KILN_DTYPE_BOOL), 1u);
  EXPECT_EQ(kiln_dtype_size(12345), 0u);
  EXPECT_STREQ(kiln_dtype_name(KILN_DTYPE_FLOAT16), "float16");
  EXPECT_STREQ(kiln_dtype_name(-3), "unknown");
  EXPECT_STREQ(kiln_runtime_version(), "0.1.0");
}

//===--- Loading ------------------------------------------------------------===//

TEST(Load, Signature) {
  kiln_model_t *model = nullptr;
  ASSERT_OK(kiln_model_load(modelPath("fake_model").c_str(), &model));
  EXPECT_STREQ(kiln_model_producer(model), "fake_model.c (hand-written test model)");
  ASSERT_EQ(kiln_model_num_inputs(model), 2u);
  ASSERT_EQ(kiln_model_num_outputs(model), 2u);

  kiln_tensor_info info;
  ASSERT_OK(kiln_model_input_info(model, 0, &info));
  EXPECT_STREQ(info.name, "x");
  EXPECT_EQ(info.dtype, KILN_DTYPE_FLOAT32);
  ASSERT_EQ(info.rank, 2);
  EXPECT_EQ(info.dims[0], -1);
  EXPECT_EQ(info.dims[1], 4);
  EXPECT_STREQ(info.dim_names[0], "batch");
  EXPECT_STREQ(info.dim_names[1], "");
  ASSERT_OK(kiln_model_input_info(model, 1, &info));
  EXPECT_STREQ(info.name, "bias");
  ASSERT_OK(kiln_model_output_info(model, 1, &info));
  EXPECT_STREQ(info.name, "s");
  ASSERT_EQ(info.rank, 1);
  EXPECT_STREQ(info.dim_names[0], "batch");

  EXPECT_EQ(kiln_model_find_input(model, "bias"), 1);
  EXPECT_EQ(kiln_model_find_input(model, "nope"), -1);
  EXPECT_EQ(kiln_model_find_output(model, "y"), 0);
  EXPECT_EQ(kiln_model_find_output(model, nullptr), -1);

  EXPECT_EQ(take(kiln_model_input_info(model, 2, &info)),
            "INVALID_ARGUMENT: kiln_model_input_info: index 2 is out of range (the model has 2 "
            "inputs)");
  EXPECT_NE(take(kiln_model_output_info(model, 0, nullptr)), "");
  kiln_model_release(model);
}

TEST(Load, RankZeroOutputHasNoDims) {
  kiln_model_t *model = nullptr;
  ASSERT_OK(kiln_model_load(modelPath("fake_bert").c_str(), &model));
  kiln_tensor_info info;
  ASSERT_OK(kiln_model_output_info(model, 2, &info));
  EXPECT_STREQ(info.name, "total");
  EXPECT_EQ(info.rank, 0);
  EXPECT_EQ(info.dtype, KILN_DTYPE_FLOAT64);
  kiln_model_release(model);
}

TEST(Load, MissingFile) {
  kiln_model_t *model = nullptr;
  std::string path = modelPath("does_not_exist");
  std::string status = take(kiln_model_load(path.c_str(), &model));
  EXPECT_EQ(status, "NOT_FOUND: cannot open model '" + path + "': No such file or directory");
  EXPECT_EQ(model, nullptr);
}

TEST(Load, Directory) {
  kiln_model_t *model = nullptr;
  EXPECT_EQ(take(kiln_model_load(KILN_TEST_MODEL_DIR, &model)),
            std::string("NOT_FOUND: cannot open model '") + KILN_TEST_MODEL_DIR +
                "': not a regular file");
}

TEST(Load, NotASharedLibrary) {
  std::string path = std::string(KILN_TEST_MODEL_DIR) + "/garbage." +
                     std::to_string(getpid()) + ".so";
  FILE *f = std::fopen(path.c_str(), "wb");
  ASSERT_TRUE(f);
  std::fputs("this is not an ELF file, just some text pretending to be one\n", f);
  std::fclose(f);
  kiln_model_t *model = nullptr;
  std::string status = take(kiln_model_load(path.c_str(), &model));
  std::remove(path.c_str());
  EXPECT_EQ(status.rfind("INVALID_MODEL: cannot load '" + path +
                             "': it is not a shared library (not an ELF file)",
                         0),
            0u)
      << status;
  EXPECT_EQ(model, nullptr);
}

TEST(Load, NotAKilnModel) {
  kiln_model_t *model = nullptr;
  std::string path = modelPath("not_a_model");
  EXPECT_EQ(take(kiln_model_load(path.c_str(), &model)),
            "INVALID_MODEL: '" + path + "' is not a Kiln model: it does not export 'kiln_model_abi'");
  EXPECT_EQ(model, nullptr);
}

TEST(Load, AbiVersionMismatch) {
  kiln_model_t *model = nullptr;
  std::string path = modelPath("fake_model_abi99");
  EXPECT_EQ(take(kiln_model_load(path.c_str(), &model)),
            "ABI_MISMATCH: '" + path +
                "' was compiled for Kiln ABI version 99, but this runtime (0.1.0) supports "
                "versions " + std::to_string(KILN_ABI_VERSION_OLDEST) + " to " +
                std::to_string(KILN_ABI_VERSION) +
                "; recompile the model with a matching kiln");
  EXPECT_EQ(model, nullptr);
  path = modelPath("fake_model_abi5");
  EXPECT_EQ(take(kiln_model_load(path.c_str(), &model)),
            "ABI_MISMATCH: '" + path +
                "' was compiled for Kiln ABI version 5, but this runtime (0.1.0) supports "
                "versions " + std::to_string(KILN_ABI_VERSION_OLDEST) + " to " +
                std::to_string(KILN_ABI_VERSION) +
                "; recompile the model with a matching kiln");
  EXPECT_EQ(model, nullptr);
}

// ABI 7 only added to the end of kiln_runtime_context, so ABI 6 models load
// and run.
TEST(Load, OlderAbiVersion) {
  Loaded m("fake_model_abi6");
  EXPECT_NE(m.session, nullptr);
}

// ABI 8 appended b_type to kiln_gemm_desc: an ABI 7 model's descriptor ends
// before it, and the runtime reads its B as fp32 without looking further
// (fake_model_abi7 leaves an invalid b_type there, which would abort).
TEST(Load, Abi7GemmDescriptor) {
  Loaded m("fake_model_abi7");
  ASSERT_NE(m.session, nullptr);
  for (int64_t n : {1, 5})
    runAndCheck(m.session, n);
}

// ABI 16 appended a_type and c_type to kiln_gemm_desc: an ABI 15 model's
// descriptor ends before them (fake_model_abi15 leaves invalid ones there,
// which would abort), and the runtime reads its operands as fp32.
TEST(Load, Abi15GemmDescriptor) {
  Loaded m("fake_model_abi15");
  ASSERT_NE(m.session, nullptr);
  for (int64_t n : {1, 5})
    runAndCheck(m.session, n);
}

TEST(Load, MalformedTable) {
  kiln_model_t *model = nullptr;
  std::string path = modelPath("fake_model_bad_table");
  EXPECT_EQ(take(kiln_model_load(path.c_str(), &model)),
            "INVALID_MODEL: '" + path +
                "' is not a valid Kiln model: input 'bias' has rank 9 (the runtime supports 0 "
                "to 8)");
}

// The table and everything it points to must be in the library's own
// segments (a corrupt table is refused, not followed: fuzz/FuzzLoad.cpp).
TEST(Load, TableOutsideTheLibrary) {
  const std::pair<const char *, std::string> cases[] = {
      {"fake_model_foreign_table", "its table is not in the library"},
      {"fake_model_foreign_name", "the name of output 1 is not a string in the library"}};
  for (const auto &[name, problem] : cases) {
    kiln_model_t *model = nullptr;
    std::string path = modelPath(name);
    EXPECT_EQ(take(kiln_model_load(path.c_str(), &model)),
              "INVALID_MODEL: '" + path + "' is not a valid Kiln model: " + problem);
    EXPECT_EQ(model, nullptr);
  }
}

/// Sets KILN_CPU_FEATURES_MASK (the runtime then believes the CPU has only
/// the listed features of those it has) for one scope.
struct CpuFeaturesMask {
  explicit CpuFeaturesMask(const char *features) {
    setenv("KILN_CPU_FEATURES_MASK", features, 1);
  }
  ~CpuFeaturesMask() { unsetenv("KILN_CPU_FEATURES_MASK"); }
};

#if defined(__x86_64__)
// fake_model_avx512 records "+sse3,+avx512f,+avx512bw": on a CPU without
// AVX-512 (played by the mask) it is refused before its code runs, naming
// what is missing and the --mcpu that fits (every x86-64 CPU Kiln is
// tested on has x86-64-v2).
TEST(Load, CpuWithoutTheModelsFeatures) {
  CpuFeaturesMask mask("sse3,ssse3,sse4.1,sse4.2,popcnt");
  kiln_model_t *model = nullptr;
  std::string path = modelPath("fake_model_avx512");
  EXPECT_EQ(take(kiln_model_load(path.c_str(), &model)),
            "UNSUPPORTED_CPU: '" + path +
                "' uses x86 features this CPU lacks: avx512f, avx512bw (it was compiled for "
                "skylake-avx512); recompile it for this CPU (`kiln compile --mcpu=native` on "
                "this machine) or for its x86-64 level (--mcpu=x86-64-v2)");
  EXPECT_EQ(model, nullptr);
}

// Without the mask the real CPU decides: the model loads exactly where
// AVX-512 F and BW are there.
TEST(Load, CpuFeaturesOfThisMachine) {
  __builtin_cpu_init();
  bool hasAvx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
  kiln_model_t *model = nullptr;
  std::string status = take(kiln_model_load(modelPath("fake_model_avx512").c_str(), &model));
  EXPECT_EQ(status.rfind("UNSUPPORTED_CPU: ", 0) == 0, !hasAvx512) << status;
  EXPECT_EQ(model != nullptr, hasAvx512);
  kiln_model_release(model);
}
#endif

// A model that needs none of the features the runtime checks loads on any
// CPU, even one believed to have none of them (an empty mask); features the
// runtime cannot ask about, and features turned off, are not requirements.
TEST(Load, UncheckedFeaturesAreNotRequired) {
  CpuFeaturesMask mask("");
  for (const char *name : {"fake_model", "fake_model_unchecked"}) {
    kiln_model_t *model = nullptr;
    EXPECT_OK(kiln_model_load(modelPath(name).c_str(), &model)) << name;
    kiln_model_release(model);
  }
}

TEST(Load, NullArguments) {
  kiln_model_t *model = nullptr;
  EXPECT_EQ(take(kiln_model_load(nullptr, &model)),
            "INVALID_ARGUMENT: kiln_model_load: path and out_model must not be NULL");
  EXPECT_EQ(take(kiln_model_load(modelPath("fake_model").c_str(), nullptr)),
            "INVALID_ARGUMENT: kiln_model_load: path and out_model must not be NULL");
  kiln_model_release(nullptr);
  kiln_session_release(nullptr);
}

TEST(Load, PathWithoutSlashIsRelativeToTheWorkingDirectory) {
  char cwd[4096];
  ASSERT_TRUE(getcwd(cwd, sizeof cwd));
  ASSERT_EQ(chdir(KILN_TEST_MODEL_DIR), 0);
  kiln_model_t *model = nullptr;
  std::string status = take(kiln_model_load("fake_model.so", &model));
  ASSERT_EQ(chdir(cwd), 0);
  EXPECT_EQ(status, "");
  kiln_model_release(model);
}

TEST(Load, TwiceGivesIndependentModels) {
  kiln_model_t *a = nullptr, *b = nullptr;
  ASSERT_OK(kiln_model_load(modelPath("fake_model").c_str(), &a));
  ASSERT_OK(kiln_model_load(modelPath("fake_model").c_str(), &b));
  kiln_model_release(a);
  kiln_session_t *session = nullptr;
  ASSERT_OK(kiln_session_create(b, nullptr, &session));
  runAndCheck(session, 3);
  kiln_session_release(session);
  kiln_model_release(b);
}

//===--- Sessions -----------------------------------------------------------===//

TEST(Session, Options) {
  kiln_session_options options;
  options.num_threads = 77;
  kiln_session_options_initialize(&options);
  EXPECT_EQ(options.num_threads, 0u);

  Loaded m("fake_model");
  kiln_session_t *session = nullptr;
  ASSERT_OK(kiln_session_create(m.model, nullptr, &session));
  unsigned hw = std::thread::hardware_concurrency();
  EXPECT_EQ(kiln_session_num_threads(session), hw ? hw : 1u);
  kiln_session_release(session);

  options.num_threads = 3;
  ASSERT_OK(kiln_session_create(m.model, &options, &session));
  EXPECT_EQ(kiln_session_num_threads(session), 3u);
  runAndCheck(session, 2);
  kiln_session_release(session);

  options.num_threads = 5000;
  EXPECT_EQ(take(kiln_session_create(m.model, &options, &session)),
            "INVALID_ARGUMENT: kiln_session_create: num_threads is 5000 (at most 1024)");
  EXPECT_NE(take(kiln_session_create(nullptr, nullptr, &session)), "");
}

// kiln_session_options grows at the end; struct_size says how much of it
// the caller has.
TEST(Session, OptionsStructSize) {
  kiln_session_options options;
  options.struct_size = 0;
  kiln_session_options_initialize(&options);
  EXPECT_EQ(options.struct_size, sizeof options);

  Loaded m("fake_model");
  kiln_session_t *session = nullptr;
  // Options not filled by kiln_session_options_initialize: zeroed, or laid
  // out as they were before struct_size (num_threads first).
  kiln_session_options zeroed;
  std::memset(&zeroed, 0, sizeof zeroed);
  EXPECT_EQ(take(kiln_session_create(m.model, &zeroed, &session)),
            "INVALID_ARGUMENT: kiln_session_create: options->struct_size is 0; fill the "
            "options with kiln_session_options_initialize before setting fields");
  kiln_session_options positional = {4, 0, 0, 0};
  EXPECT_NE(take(kiln_session_create(m.model, &positional, &session)), "");
  EXPECT_EQ(session, nullptr);

  // A caller compiled against a newer kiln.h, with one more field this
  // runtime does not know: accepted while that field keeps its default
  // (zero), refused once the caller sets it.
  struct NewerOptions {
    kiln_session_options known;
    uint64_t future_field;
  } newer;
  static_assert(sizeof newer == sizeof(kiln_session_options) + 8, "no padding");
  kiln_session_options_initialize(&newer.known);
  newer.known.struct_size = sizeof newer;
  newer.known.num_threads = 2;
  newer.future_field = 0;
  ASSERT_OK(kiln_session_create(m.model, &newer.known, &session));
  EXPECT_EQ(kiln_session_num_threads(session), 2u);
  kiln_session_release(session);
  session = nullptr;
  newer.future_field = 1;
  EXPECT_EQ(take(kiln_session_create(m.model, &newer.known, &session)),
            "INVALID_ARGUMENT: kiln_session_create: the options set a field this runtime "
            "(0.1.0) does not know (byte " +
                std::to_string(sizeof(kiln_session_options)) + " of " +
                std::to_string(sizeof newer) + "; it knows " +
                std::to_string(sizeof(kiln_session_options)) +
                "): use a runtime as new as the kiln.h the program was compiled with");
}

TEST(Session, OutlivesTheModelReference) {
  kiln_model_t *model = nullptr;
  ASSERT_OK(kiln_model_load(modelPath("fake_model").c_str(), &model));
  kiln_session_t *session = nullptr;
  ASSERT_OK(kiln_session_create(model, nullptr, &session));
  kiln_model_release(model); // the session keeps the library loaded
  runAndCheck(session, 5);
  kiln_session_release(session);
}

//===--- Running ------------------------------------------------------------===//

//===--- Profiling ------------------------------------------------------------===//

TEST(Profile, RegionsTotalsAndChromeTrace) {
  kiln_model_t *model = nullptr;
  ASSERT_OK(kiln_model_load(modelPath("fake_model").c_str(), &model));
  ASSERT_EQ(kiln_model_num_regions(model), 2u);
  EXPECT_STREQ(kiln_model_region_name(model, 1), "row_sums");
  EXPECT_STREQ(kiln_model_region_op_type(model, 1), "MatMul");
  EXPECT_EQ(kiln_model_region_name(model, 2), nullptr);
  kiln_session_options options;
  kiln_session_options_initialize(&options);
  EXPECT_EQ(options.profile, 0u);
  options.profile = 1;
  kiln_session_t *session = nullptr;
  ASSERT_OK(kiln_session_create(model, &options, &session));
  runAndCheck(session, 300);
  runAndCheck(session, 5);
  double micros[2] = {-1, -1};
  EXPECT_OK(kiln_session_profile_totals(session, micros, 2));
  EXPECT_GE(micros[0], 0);
  EXPECT_GE(micros[1], 0);
  EXPECT_EQ(take(kiln_session_profile_totals(session, micros, 3)),
            "INVALID_ARGUMENT: kiln_session_profile_totals: count is 3, but the model has 2 "
            "profile regions");

  std::string path = ::testing::TempDir() + "kiln_profile_test.json";
  ASSERT_OK(kiln_session_write_profile(session, path.c_str()));
  std::FILE *file = std::fopen(path.c_str(), "r");
  ASSERT_NE(file, nullptr);
  std::string trace;
  char buffer[4096];
  for (size_t got; (got = std::fread(buffer, 1, sizeof buffer, file)) > 0;)
    trace.append(buffer, got);
  std::fclose(file);
  std::remove(path.c_str());
  EXPECT_NE(trace.find("\"traceEvents\""), std::string::npos);
  // Two runs: two run events and two events of each region.
  auto count = [&](const std::string &needle) {
    size_t n = 0;
    for (size_t at = trace.find(needle); at != std::string::npos; at = trace.find(needle, at + 1))
      ++n;
    return n;
  };
  EXPECT_EQ(count("\"name\": \"run\""), 2u);
  EXPECT_EQ(count("\"name\": \"add_bias\", \"cat\": \"Add\""), 2u);
  EXPECT_EQ(count("\"name\": \"row_sums\", \"cat\": \"MatMul\""), 2u);

  EXPECT_EQ(take(kiln_session_write_profile(session, "/nonexistent-dir/trace.json")),
            "IO: cannot write the profile to '/nonexistent-dir/trace.json': No such file or "
            "directory");
  kiln_session_release(session);
  kiln_model_release(model);
}

TEST(Profile, OffByDefault) {
  Loaded m("fake_model");
  runAndCheck(m.session, 3);
  double micros[2];
  EXPECT_EQ(take(kiln_session_profile_totals(m.session, micros, 2)),
            "INVALID_ARGUMENT: kiln_session_profile_totals: the session was created without "
            "profiling (set kiln_session_options.profile)");
  EXPECT_EQ(take(kiln_session_write_profile(m.session, "x.json")),
            "INVALID_ARGUMENT: kiln_session_write_profile: the session was created without "
            "profiling (set kiln_session_options.profile)");
}

TEST(Run, RuntimeBuffers) {
  Loaded m("fake_model");
  for (int64_t n : {1, 2, 7, 64})
    runAndCheck(m.session, n);
}

TEST(Run, RuntimeBufferDimsLiveInTheSession) {
  Loaded m("fake_model");
  FakeInputs in(3);
  kiln_tensor out[2] = {{"y"}, {"s"}};
  ASSERT_OK(kiln_session_run(m.session, in.tensors, 2, out, 2));
  const int64_t *dims = out[0].dims;
  ASSERT_NE(dims, nullptr);
  EXPECT_EQ(dims[0], 3);
  kiln_tensor_free(out[0].data);
  kiln_tensor_free(out[1].data);
  // Reusing the tensors on the same session: fine, same storage.
  out[0].data = out[1].data = nullptr;
  ASSERT_OK(kiln_session_run(m.session, in.tensors, 2, out, 2));
  EXPECT_EQ(out[0].dims, dims);
  kiln_tensor_free(out[0].data);
  kiln_tensor_free(out[1].data);
}

TEST(Run, CallerBuffers) {
  Loaded m("fake_model");
  FakeInputs in(2);
  float y[8] = {}, s[4] = {-1, -1, -1, -1};
  int64_t yDims[KILN_MAX_RANK], sDims[KILN_MAX_RANK];
  kiln_tensor out[2] = {{"y", 0, 0, yDims, y, sizeof y}, {"s", 0, 0, sDims, s, sizeof s}};
  ASSERT_OK(kiln_session_run(m.session, in.tensors, 2, out, 2));
  EXPECT_EQ(out[0].data, y);
  EXPECT_EQ(out[0].dims, yDims);
  EXPECT_EQ(out[0].byte_size, sizeof y);
  EXPECT_EQ(out[0].dtype, KILN_DTYPE_FLOAT32);
  EXPECT_EQ(out[0].rank, 2);
  EXPECT_EQ(yDims[0], 2);
  EXPECT_EQ(yDims[1], 4);
  EXPECT_EQ(out[1].byte_size, 2 * sizeof(float)); // the exact size, not the buffer's
  EXPECT_EQ(sDims[0], 2);
  for (int i = 0; i < 2; ++i) {
    for (int j = 0; j < 4; ++j)
      EXPECT_EQ(y[i * 4 + j], in.y(i, j));
    EXPECT_EQ(s[i], in.s(i));
  }
  EXPECT_EQ(s[2], -1); // untouched past the result
}

TEST(Run, InputsInAnyOrderOutputsByPosition) {
  Loaded m("fake_model");
  FakeInputs in(2);
  kiln_tensor swapped[2] = {in.tensors[1], in.tensors[0]};
  kiln_tensor out[2] = {};
  ASSERT_OK(kiln_session_run(m.session, swapped, 2, out, 2));
  EXPECT_STREQ(out[0].name, "y");
  EXPECT_STREQ(out[1].name, "s");
  EXPECT_EQ(static_cast<float *>(out[0].data)[5], in.y(1, 1));
  kiln_tensor_free(out[0].data);
  kiln_tensor_free(out[1].data);
}

TEST(Run, SomeOutputsOrNone) {
  Loaded m("fake_model");
  FakeInputs in(3);
  kiln_tensor s = {"s"};
  ASSERT_OK(kiln_session_run(m.session, in.tensors, 2, &s, 1));
  EXPECT_EQ(static_cast<float *>(s.data)[2], in.s(2));
  kiln_tensor_free(s.data);
  ASSERT_OK(kiln_session_run(m.session, in.tensors, 2, nullptr, 0));
}

TEST(Run, StridedModelOutput) {
  Loaded m("fake_model_strided");
  FakeInputs in(3);
  float y[12];
  kiln_tensor out[2] = {{"y"}, {"s"}};
  ASSERT_OK(kiln_session_run(m.session, in.tensors, 2, out, 2));
  const float *yr = static_cast<const float *>(out[0].data);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j)
      EXPECT_EQ(yr[i * 4 + j], in.y(i, j));
  kiln_tensor_free(out[0].data);
  kiln_tensor_free(out[1].data);

  int64_t dims[KILN_MAX_RANK];
  kiln_tensor caller = {"y", 0, 0, dims, y, sizeof y};
  ASSERT_OK(kiln_session_run(m.session, in.tensors, 2, &caller, 1));
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j)
      EXPECT_EQ(y[i * 4 + j], in.y(i, j));
}

TEST(Run, EmptyBatch) {
  Loaded m("fake_model");
  FakeInputs in(0);
  ASSERT_EQ(in.tensors[0].data, nullptr);
  kiln_tensor out[2] = {{"y"}, {"s"}};
  ASSERT_OK(kiln_session_run(m.session, in.tensors, 2, out, 2));
  EXPECT_EQ(out[0].dims[0], 0);
  EXPECT_EQ(out[0].byte_size, 0u);
  EXPECT_NE(out[0].data, nullptr); // never NULL on success
  kiln_tensor_free(out[0].data);
  kiln_tensor_free(out[1].data);
}

TEST(Run, RankZeroOutputAndSharedSymbols) {
  Loaded m("fake_bert");
  std::vector<int64_t> ids{1, 2, 3, 4, 5, 6}, mask{1, 1, 0, 1, 0, 0}, types{0, 0, 0, 1, 1, 1};
  int64_t dims[2] = {2, 3};
  kiln_tensor in[3] = {
      {"token_type_ids", KILN_DTYPE_INT64, 2, dims, types.data(), 48},
      {"input_ids", KILN_DTYPE_INT64, 2, dims, ids.data(), 48},
      {"attention_mask", KILN_DTYPE_INT64, 2, dims, mask.data(), 48},
  };
  kiln_tensor out[3] = {};
  ASSERT_OK(kiln_session_run(m.session, in, 3, out, 3));
  const int64_t *masked = static_cast<const int64_t *>(out[0].data);
  EXPECT_EQ(masked[0], 1);
  EXPECT_EQ(masked[2], 0);
  EXPECT_EQ(masked[3], 1004);
  const int64_t *lengths = static_cast<const int64_t *>(out[1].data);
  EXPECT_EQ(lengths[0], 2);
  EXPECT_EQ(lengths[1], 1);
  EXPECT_STREQ(out[2].name, "total");
  EXPECT_EQ(out[2].rank, 0);
  EXPECT_EQ(out[2].byte_size, 8u);
  EXPECT_EQ(*static_cast<const double *>(out[2].data), 1 + 2 + 0 + 1004 + 1000 + 1000);
  for (kiln_tensor &t : out)
    kiln_tensor_free(t.data);
}

//===--- Every error a run reports -------------------------------------------===//

class RunErrors : public ::testing::Test {
protected:
  Loaded m{"fake_model"};
  FakeInputs in{2};
  kiln_tensor out[2] = {{"y"}, {"s"}};

  std::string run(const kiln_tensor *inputs, size_t n) {
    std::string status = take(kiln_session_run(m.session, inputs, n, out, 2));
    // Nothing is handed over on failure.
    EXPECT_EQ(out[0].data, nullptr);
    EXPECT_EQ(out[1].data, nullptr);
    EXPECT_EQ(out[0].dims, nullptr);
    return status;
  }
};

TEST_F(RunErrors, UnknownInput) {
  in.tensors[1].name = "bais";
  EXPECT_EQ(run(in.tensors, 2),
            "INVALID_ARGUMENT: unknown input 'bais' (the model's inputs are: x, bias)");
}

TEST_F(RunErrors, UnnamedInput) {
  in.tensors[0].name = nullptr;
  EXPECT_EQ(run(in.tensors, 2),
            "INVALID_ARGUMENT: inputs[0] has no name (the model's inputs are: x, bias)");
}

TEST_F(RunErrors, DuplicateInput) {
  kiln_tensor twice[3] = {in.tensors[0], in.tensors[1], in.tensors[0]};
  EXPECT_EQ(run(twice, 3),
            "INVALID_ARGUMENT: input 'x' is given twice (inputs[0] and inputs[2])");
}

TEST_F(RunErrors, MissingInput) {
  EXPECT_EQ(run(in.tensors, 1), "INVALID_ARGUMENT: missing input 'bias'");
  EXPECT_EQ(run(nullptr, 0), "INVALID_ARGUMENT: missing inputs 'x', 'bias'");
}

TEST_F(RunErrors, WrongDtype) {
  in.tensors[1].dtype = KILN_DTYPE_FLOAT64;
  EXPECT_EQ(run(in.tensors, 2), "INVALID_ARGUMENT: input 'bias' has dtype float64 (11), but the "
                                "model expects float32 [4]");
}

TEST_F(RunErrors, WrongRank) {
  in.tensors[0].rank = 1;
  EXPECT_EQ(run(in.tensors, 2), "INVALID_ARGUMENT: input 'x' has rank 1, but the model expects "
                                "rank 2: float32 [batch,4]");
}

TEST_F(RunErrors, StaticDimMismatch) {
  in.xDims[1] = 5;
  in.x.resize(10);
  in.tensors[0].data = in.x.data();
  in.tensors[0].byte_size = 40;
  EXPECT_EQ(run(in.tensors, 2), "INVALID_ARGUMENT: input 'x' has shape [2,5], but the model "
                                "expects float32 [batch,4]: dim 1 must be 4");
}

TEST_F(RunErrors, NegativeDim) {
  in.xDims[0] = -2;
  EXPECT_EQ(run(in.tensors, 2),
            "INVALID_ARGUMENT: input 'x' has shape [-2,4]: dim 0 is negative");
}

TEST_F(RunErrors, InputBufferTooSmall) {
  in.tensors[0].byte_size = 31;
  EXPECT_EQ(run(in.tensors, 2), "INVALID_ARGUMENT: input 'x' has byte_size 31, but shape [2,4] "
                                "of float32 needs 32 bytes");
}

TEST_F(RunErrors, NullData) {
  in.tensors[1].data = nullptr;
  EXPECT_EQ(run(in.tensors, 2), "INVALID_ARGUMENT: input 'bias' has no data (data is NULL)");
}

TEST_F(RunErrors, NullDims) {
  in.tensors[1].dims = nullptr;
  EXPECT_EQ(run(in.tensors, 2), "INVALID_ARGUMENT: input 'bias' has rank 1 but dims is NULL");
}

TEST_F(RunErrors, MisalignedData) {
  std::vector<char> raw(sizeof(float) * 4 + 1);
  in.tensors[1].data = raw.data() + 1;
  std::string status = run(in.tensors, 2);
  EXPECT_NE(status.find("input 'bias' data"), std::string::npos) << status;
  EXPECT_NE(status.find("is not aligned to its 4-byte elements"), std::string::npos) << status;
}

TEST_F(RunErrors, OutputBufferTooSmall) {
  float s[1];
  out[1].data = s;
  out[1].byte_size = sizeof s;
  EXPECT_EQ(take(kiln_session_run(m.session, in.tensors, 2, out, 2)),
            "BUFFER_TOO_SMALL: output 's' needs 8 bytes (float32 [2]), but its buffer has "
            "byte_size 4");
  // Nothing handed over, nothing written.
  EXPECT_EQ(out[0].data, nullptr);
  EXPECT_EQ(out[0].dims, nullptr);
  EXPECT_EQ(out[1].data, s);
  EXPECT_EQ(out[1].byte_size, sizeof s);
  EXPECT_EQ(out[1].dims, nullptr);
}

TEST_F(RunErrors, UnknownOutput) {
  out[1].name = "z";
  EXPECT_EQ(run(in.tensors, 2),
            "INVALID_ARGUMENT: unknown output 'z' (the model's outputs are: y, s)");
}

TEST_F(RunErrors, DuplicateOutput) {
  out[1].name = "y";
  EXPECT_EQ(run(in.tensors, 2),
            "INVALID_ARGUMENT: output 'y' is asked for twice (outputs[0] and outputs[1])");
}

TEST_F(RunErrors, TooManyPositionalOutputs) {
  kiln_tensor three[3] = {};
  EXPECT_EQ(take(kiln_session_run(m.session, in.tensors, 2, three, 3)),
            "INVALID_ARGUMENT: outputs[2] has no name and the model has only 2 outputs (y, s)");
}

TEST_F(RunErrors, NullPointers) {
  EXPECT_EQ(take(kiln_session_run(nullptr, in.tensors, 2, out, 2)),
            "INVALID_ARGUMENT: kiln_session_run: session must not be NULL");
  EXPECT_EQ(take(kiln_session_run(m.session, nullptr, 2, out, 2)),
            "INVALID_ARGUMENT: kiln_session_run: inputs is NULL but num_inputs is not 0");
  EXPECT_EQ(take(kiln_session_run(m.session, in.tensors, 2, nullptr, 2)),
            "INVALID_ARGUMENT: kiln_session_run: outputs is NULL but num_outputs is not 0");
}

TEST_F(RunErrors, TheSessionStillWorksAfterErrors) {
  in.tensors[0].dtype = KILN_DTYPE_INT32;
  EXPECT_NE(run(in.tensors, 2), "");
  runAndCheck(m.session, 4);
}

// A check that fails mid-run ends it where it stands (kiln_fail_fn does not
// return): the blocks the model took from the context's `alloc` by then (y,
// and one it would have released) are the runtime's to free.
TEST_F(RunErrors, ACheckFailsTheRun) {
  in.bias[0] = std::nanf("");
  EXPECT_EQ(run(in.tensors, 2), "INVALID_ARGUMENT: fake_model: bias[0] is NaN");
  in.bias[0] = 10;
  runAndCheck(m.session, 2);
}

// ... and they are freed: many failed runs of a large batch leave the heap
// as it was. (glibc's count of the bytes in use; under AddressSanitizer,
// which has no such count, LeakSanitizer finds the leak at exit instead.)
TEST_F(RunErrors, AFailedRunLeaksNothing) {
#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
  FakeInputs big(1 << 16); // y: 1 MiB a run
  big.bias[0] = std::nanf("");
  auto inUse = [] {
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
  };
  ASSERT_NE(run(big.tensors, 2), "");
  size_t before = inUse();
  for (int i = 0; i < 64; ++i)
    ASSERT_NE(run(big.tensors, 2), "");
  EXPECT_LT(inUse(), before + (1u << 20)) << "64 failed runs kept their 1 MiB outputs";
#else
  GTEST_SKIP() << "no glibc heap statistics in this build (LeakSanitizer covers it)";
#endif
}

TEST(RunErrorsBert, SymbolicDimConflict) {
  Loaded m("fake_bert");
  std::vector<int64_t> a(10, 1), b(12, 1);
  int64_t dimsA[2] = {2, 5}, dimsB[2] = {2, 6};
  kiln_tensor in[3] = {
      {"input_ids", KILN_DTYPE_INT64, 2, dimsA, a.data(), 80},
      {"attention_mask", KILN_DTYPE_INT64, 2, dimsB, b.data(), 96},
      {"token_type_ids", KILN_DTYPE_INT64, 2, dimsA, a.data(), 80},
  };
  kiln_tensor out[3] = {};
  EXPECT_EQ(take(kiln_session_run(m.session, in, 3, out, 3)),
            "INVALID_ARGUMENT: symbolic dim 'sequence' is 5 in input 'input_ids' (dim 1) but 6 "
            "in input 'attention_mask' (dim 1)");
  dimsB[0] = 3;
  dimsB[1] = 5;
  b.resize(15, 1);
  in[1].data = b.data();
  in[1].byte_size = 120;
  EXPECT_EQ(take(kiln_session_run(m.session, in, 3, out, 3)),
            "INVALID_ARGUMENT: symbolic dim 'batch' is 2 in input 'input_ids' (dim 0) but 3 in "
            "input 'attention_mask' (dim 0)");
}

TEST(RunErrorsModel, OutputContradictsSignature) {
  Loaded m("fake_model_bad_output");
  FakeInputs in(2);
  kiln_tensor out[2] = {{"y"}, {"s"}};
  EXPECT_EQ(take(kiln_session_run(m.session, in.tensors, 2, out, 2)),
            "INTERNAL: the model returned output 'y' with shape [2,5], but its signature says "
            "[batch,4]");
  EXPECT_EQ(out[0].data, nullptr);
}

//===--- Concurrency --------------------------------------------------------===//

TEST(Concurrency, FourThreadsFourSessionsOneModel) {
  kiln_model_t *model = nullptr;
  ASSERT_OK(kiln_model_load(modelPath("fake_model").c_str(), &model));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      kiln_session_options options;
      kiln_session_options_initialize(&options);
      options.num_threads = 2;
      kiln_session_t *session = nullptr;
      if (kiln_status_t st = kiln_session_create(model, &options, &session)) {
        kiln_status_free(st);
        ++failures;
        return;
      }
      for (int i = 0; i < 300; ++i) {
        int64_t n = 1 + (t * 7 + i) % 13;
        FakeInputs in(n);
        float y[13 * 4];
        int64_t dims[KILN_MAX_RANK];
        kiln_tensor out[2] = {{"y", 0, 0, dims, y, sizeof y}, {"s"}};
        if (kiln_status_t st = kiln_session_run(session, in.tensors, 2, out, 2)) {
          kiln_status_free(st);
          ++failures;
          continue;
        }
        bool ok = dims[0] == n;
        for (int64_t r = 0; r < n && ok; ++r) {
          for (int64_t j = 0; j < 4; ++j)
            ok = ok && y[r * 4 + j] == in.y(r, j);
          ok = ok && static_cast<float *>(out[1].data)[r] == in.s(r);
        }
        if (!ok)
          ++failures;
        kiln_tensor_free(out[1].data);
      }
      kiln_session_release(session);
    });
  for (std::thread &t : threads)
    t.join();
  EXPECT_EQ(failures.load(), 0);
  kiln_model_release(model);
}

TEST(Concurrency, FourThreadsShareOneSession) {
  Loaded m("fake_model", 2);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        int64_t n = 1 + (t + i) % 9;
        FakeInputs in(n);
        int64_t yDims[KILN_MAX_RANK], sDims[KILN_MAX_RANK]; // caller dims: no sharing
        kiln_tensor out[2] = {{"y", 0, 0, yDims}, {"s", 0, 0, sDims}};
        if (kiln_status_t st = kiln_session_run(m.session, in.tensors, 2, out, 2)) {
          kiln_status_free(st);
          ++failures;
          continue;
        }
        if (yDims[0] != n || sDims[0] != n ||
            static_cast<float *>(out[0].data)[4 * n - 1] != in.y(n - 1, 3))
          ++failures;
        kiln_tensor_free(out[0].data);
        kiln_tensor_free(out[1].data);
      }
    });
  for (std::thread &t : threads)
    t.join();
  EXPECT_EQ(failures.load(), 0);
}

} // namespace
