//===- kiln_bench.cpp - kiln-bench: time a compiled model -----------------===//
//
// Loads a model library through the public runtime API (kiln.h), timing the
// load; creates a session; binds inputs like kiln-run (files through
// kiln_io, the rest generated exactly like kiln-run --random-inputs, see
// RandomInputs.h); runs W warm-up runs and then R timed runs (steady_clock
// around each kiln_session_run); prints the latency distribution, the
// throughput, the peak RSS, and a checksum of each output of the last run.
// `--json` prints all of it, and every run's time, as one JSON object.
//
// Only the runtime and kiln_io: nothing of LLVM. `kiln bench` execs this.
//
//===----------------------------------------------------------------------===//

#include "RandomInputs.h"
#include "kiln/kiln.h"
#include "kiln_io.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <sys/resource.h>
#include <vector>

using kiln::tools::InputFile;
using kiln::tools::shapeString;

namespace {

const char kUsage[] = R"(Usage: kiln-bench <model.so> [options]

Times a model compiled by `kiln compile`: the load, then W warm-up runs and R
timed runs on one session, and prints the latency (min, median, p90, max),
the throughput, the peak RSS and, for each output of the last run, its shape
and checksum (as kiln-run prints them).

Inputs are bound like kiln-run's: --input files, and every input not given
by a file generated as kiln-run --random-inputs does (the same numbers for
the same --seed).

Options:
  --threads <n>                Intra-op threads (default 0: one per core).
  --input <name>=<file>        Bind input <name> to a .npy file or an ONNX
                               TensorProto .pb file (repeatable; for a .pb
                               the name may be left out).
  --input-shape <n=DxD,...>    Shapes for generated inputs (e.g.
                               input_ids=1x128). Symbolic dims not fixed by a
                               shape or an input file default to 1 for names
                               containing "batch" and 8 otherwise.
  --dim <name=N,...>           Sizes of named symbolic dims (ONNX dim_param)
                               in every generated input that has them, e.g.
                               batch=1,sequence=128.
  --seed <n>                   Seed for the generated inputs (default 0).
  --warmup <n>                 Untimed runs first (default 3).
  --runs <n>                   Timed runs (default 10, at least 1).
  --flops <f>                  FLOPs of one run (e.g. 2.2e10) for the
                               GFLOP/s at the median latency. Default: the
                               model's runtime GEMM calls (MatMul, Gemm,
                               Conv, attention), counted in the first run.
  --device-io                  GPU models: inputs and outputs in GPU memory
                               (kiln_session_options::device_io), so the
                               runs time no host <-> GPU copies; the inputs
                               are uploaded once, before the runs.
  --json                       Print one JSON object instead of text.
  -h, --help                   Show this help.
  --version                    Show the runtime version and model ABI.

Latencies are in milliseconds; the median and p90 interpolate linearly
between runs (as numpy.percentile does). Throughput is runs / total timed
time. The peak RSS is this process's high-water mark (VmHWM in
/proc/self/status; getrusage()'s ru_maxrss, which on Linux includes the
parent's RSS from before exec, is in the JSON as ru_maxrss_kib).
)";

[[noreturn]] void fail(const std::string &message, int code = 1) {
  std::fprintf(stderr, "kiln-bench: error: %s\n", message.c_str());
  std::exit(code);
}

[[noreturn]] void usageError(const std::string &message) {
  fail(message + " (see kiln-bench --help)", 2);
}

void check(kiln_status_t status) {
  if (!status)
    return;
  std::string message = kiln_status_message(status);
  kiln_status_free(status);
  fail(message);
}

struct Options {
  std::string model;
  std::vector<InputFile> inputs;
  kiln::tools::ShapeList shapes;
  uint64_t seed = 0;
  uint32_t threads = 0;
  uint64_t warmup = 3;
  uint64_t runs = 10;
  double flops = 0; // 0: not given
  bool json = false;
  bool deviceIo = false;
};

constexpr uint64_t kMaxRuns = 10000000;

Options parseArgs(int argc, char **argv) {
  Options opts;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const char *flag, std::string &out) {
      size_t n = std::strlen(flag);
      if (arg.compare(0, n, flag) != 0)
        return false;
      if (arg.size() > n && arg[n] == '=') {
        out = arg.substr(n + 1);
        return true;
      }
      if (arg.size() != n)
        return false;
      if (i + 1 >= argc)
        usageError(std::string("option '") + flag + "' needs a value");
      out = argv[++i];
      return true;
    };
    auto count = [&](const char *flag, const std::string &v, uint64_t min) {
      uint64_t n;
      if (!kiln::tools::parseUnsigned(v, n) || n < min || n > kMaxRuns)
        usageError(std::string(flag) + " expects a number from " + std::to_string(min) + " to " +
                   std::to_string(kMaxRuns) + ", got '" + v + "'");
      return n;
    };
    std::string v;
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else if (arg == "--version") {
      std::printf("%s %s (model ABI %d)\n", "kiln-bench", kiln_runtime_version(), KILN_ABI_VERSION);
      std::exit(0);
    } else if (arg == "--device-io") {
      opts.deviceIo = true;
    } else if (arg == "--json") {
      opts.json = true;
    } else if (value("--input-shape", v)) {
      std::string error;
      if (!kiln::tools::parseShapeList(v, opts.shapes, error))
        usageError(error);
    } else if (value("--dim", v)) {
      std::string error;
      if (!kiln::tools::parseDimList(v, opts.shapes, error))
        usageError(error);
    } else if (value("--input", v)) {
      std::string error;
      opts.inputs.emplace_back();
      if (!kiln::tools::parseInputFile(v, opts.inputs.back(), error))
        usageError(error);
    } else if (value("--threads", v)) {
      std::string error;
      if (!kiln::tools::parseThreadCount(v, opts.threads, error))
        usageError(error);
    } else if (value("--seed", v)) {
      if (!kiln::tools::parseUnsigned(v, opts.seed))
        usageError("--seed expects a non-negative number, got '" + v + "'");
    } else if (value("--warmup", v)) {
      opts.warmup = count("--warmup", v, 0);
    } else if (value("--runs", v)) {
      opts.runs = count("--runs", v, 1);
    } else if (value("--flops", v)) {
      char *end = nullptr;
      errno = 0;
      double f = v.empty() ? 0 : std::strtod(v.c_str(), &end);
      if (v.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(f) || f <= 0)
        usageError("--flops expects a positive number of FLOPs per run (like 2.2e10), got '" + v +
                   "'");
      opts.flops = f;
    } else if (!arg.empty() && arg[0] == '-') {
      usageError("unknown option '" + arg + "'");
    } else if (opts.model.empty()) {
      opts.model = arg;
    } else {
      usageError("unexpected argument '" + arg + "' (one model at a time)");
    }
  }
  if (opts.model.empty())
    usageError("no model given");
  return opts;
}

double msSince(std::chrono::steady_clock::time_point start,
               std::chrono::steady_clock::time_point end) {
  return std::chrono::duration<double, std::milli>(end - start).count();
}

/// The p-th percentile (0..100) of sorted values, interpolated linearly
/// between the closest ranks (numpy.percentile's default).
double percentile(const std::vector<double> &sorted, double p) {
  double pos = p / 100.0 * static_cast<double>(sorted.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(pos)), hi = static_cast<size_t>(std::ceil(pos));
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - static_cast<double>(lo));
}

std::string jsonString(const std::string &s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
    case '"':
      out += "\\\"";
      break;
    case '\\':
      out += "\\\\";
      break;
    case '\n':
      out += "\\n";
      break;
    case '\t':
      out += "\\t";
      break;
    case '\r':
      out += "\\r";
      break;
    default:
      if (c < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out += buf;
      } else {
        out += static_cast<char>(c);
      }
    }
  }
  return out + "\"";
}

/// A JSON number (`null` for NaN and infinities, which JSON cannot spell).
std::string jsonNumber(double v) {
  if (!std::isfinite(v))
    return "null";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

std::string jsonShape(const int64_t *dims, int32_t rank) {
  std::string s = "[";
  for (int32_t i = 0; i < rank; ++i)
    s += (i ? "," : "") + std::to_string(dims[i]);
  return s + "]";
}

/// The peak resident set of this process in KiB: VmHWM from
/// /proc/self/status, the high-water mark of this program's own address
/// space. getrusage()'s ru_maxrss is the fallback (elsewhere than Linux): on
/// Linux it survives exec, so a kiln-bench started by a big process (a
/// Python harness) would report the parent's RSS at the fork.
long peakRssKib(long rusageKib) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.compare(0, 6, "VmHWM:") == 0)
      return std::strtol(line.c_str() + 6, nullptr, 10);
  return rusageKib;
}

struct OutputSummary {
  std::string name;
  int32_t dtype;
  std::vector<int64_t> dims;
  double sum = 0, absSum = 0;
};

} // namespace

int main(int argc, char **argv) {
  Options opts = parseArgs(argc, argv);
  using Clock = std::chrono::steady_clock;

  kiln_model_t *model = nullptr;
  auto t0 = Clock::now();
  check(kiln_model_load(opts.model.c_str(), &model));
  double loadMs = msSince(t0, Clock::now());

  kiln::tools::PreparedInputs prepared;
  std::string error;
  switch (kiln::tools::prepareInputs(model, opts.inputs, opts.shapes, /*generateMissing=*/true,
                                     opts.seed, prepared, error)) {
  case kiln::tools::InputError::None:
    break;
  case kiln::tools::InputError::Usage:
    usageError(error);
  case kiln::tools::InputError::Failure:
    fail(error);
  }
  std::vector<kiln_tensor> inputs = prepared.views();

  kiln_session_options options;
  kiln_session_options_initialize(&options);
  options.num_threads = opts.threads;
  options.device_io = opts.deviceIo;
  kiln_session_t *session = nullptr;
  t0 = Clock::now();
  check(kiln_session_create(model, &options, &session));
  double sessionMs = msSince(t0, Clock::now());
  uint32_t threads = kiln_session_num_threads(session);

  size_t numOutputs = kiln_model_num_outputs(model);
  std::vector<const char *> outputNames(numOutputs);
  for (size_t i = 0; i < numOutputs; ++i) {
    kiln_tensor_info info;
    check(kiln_model_output_info(model, i, &info));
    outputNames[i] = info.name;
  }
  std::vector<kiln_tensor> outputs(numOutputs);
  // With --device-io: the inputs uploaded once, a device buffer per output.
  std::vector<void *> deviceBuffers, outputBuffers(numOutputs, nullptr);
  std::vector<size_t> outputBytes(numOutputs, 0);
  if (opts.deviceIo) {
    for (kiln_tensor &t : inputs) {
      void *device = nullptr;
      check(kiln_session_device_alloc(session, t.byte_size, &device));
      deviceBuffers.push_back(device);
      check(kiln_session_device_copy(session, device, t.data, t.byte_size,
                                     KILN_GPU_COPY_HOST_TO_DEVICE));
      t.data = device;
    }
    for (size_t i = 0; i < numOutputs; ++i) {
      kiln_tensor_info info;
      check(kiln_model_output_info(model, i, &info));
      size_t bytes = kiln_dtype_size(info.dtype);
      for (int32_t d = 0; d < info.rank; ++d) {
        if (info.dims[d] < 0)
          fail(std::string("--device-io needs outputs of static shapes; output '") + info.name +
               "' has a symbolic dim");
        bytes *= size_t(info.dims[d]);
      }
      check(kiln_session_device_alloc(session, bytes, &outputBuffers[i]));
      deviceBuffers.push_back(outputBuffers[i]);
      outputBytes[i] = bytes;
    }
  }
  auto resetOutputs = [&] {
    for (size_t i = 0; i < numOutputs; ++i)
      outputs[i] = kiln_tensor{outputNames[i], 0, 0, nullptr, outputBuffers[i], outputBytes[i]};
  };
  auto freeOutputs = [&] {
    if (!opts.deviceIo)
      for (kiln_tensor &t : outputs)
        kiln_tensor_free(t.data);
  };

  // Every run asks for every output in runtime buffers, as an application
  // that reads all of them would; the buffers are freed after the clock
  // stops.
  auto runOnce = [&]() -> double {
    resetOutputs();
    auto start = Clock::now();
    kiln_status_t status =
        kiln_session_run(session, inputs.data(), inputs.size(), outputs.data(), outputs.size());
    auto end = Clock::now();
    check(status);
    return msSince(start, end);
  };

  double warmupMs = 0;
  for (uint64_t i = 0; i < opts.warmup; ++i) {
    warmupMs += runOnce();
    freeOutputs();
  }
  // Without --flops, the FLOPs of one run are the model's own: its runtime
  // GEMM calls of the first timed run (kiln_session_gemm_flops).
  const uint64_t flopsBefore = kiln_session_gemm_flops(session);
  bool countedFlops = false;
  std::vector<double> times;
  times.reserve(opts.runs);
  for (uint64_t i = 0; i < opts.runs; ++i) {
    times.push_back(runOnce());
    if (i == 0 && opts.flops <= 0) {
      opts.flops = static_cast<double>(kiln_session_gemm_flops(session) - flopsBefore);
      countedFlops = opts.flops > 0;
    }
    if (i + 1 < opts.runs)
      freeOutputs();
  }

  // The last run's outputs: checksums, as kiln-run prints them.
  std::vector<OutputSummary> summaries;
  std::vector<char> hostCopy;
  for (const kiln_tensor &t : outputs) {
    OutputSummary s{t.name, t.dtype, std::vector<int64_t>(t.dims, t.dims + t.rank)};
    size_t n = t.byte_size / kiln_dtype_size(t.dtype);
    const void *data = t.data;
    if (opts.deviceIo) {
      hostCopy.resize(t.byte_size);
      check(kiln_session_device_copy(session, hostCopy.data(), t.data, t.byte_size,
                                     KILN_GPU_COPY_DEVICE_TO_HOST));
      data = hostCopy.data();
    }
    for (size_t e = 0; e < n; ++e) {
      double v = kiln::io::elementAsDouble(t.dtype, data, e);
      s.sum += v;
      s.absSum += std::fabs(v);
    }
    summaries.push_back(std::move(s));
  }
  freeOutputs();
  for (void *device : deviceBuffers)
    kiln_session_device_free(session, device);
  std::string producer = kiln_model_producer(model);
  kiln_session_release(session);

  std::vector<double> sorted = times;
  std::sort(sorted.begin(), sorted.end());
  double total = 0;
  for (double t : times)
    total += t;
  double minMs = sorted.front(), maxMs = sorted.back();
  double medianMs = percentile(sorted, 50), p90Ms = percentile(sorted, 90);
  double meanMs = total / static_cast<double>(times.size());
  double runsPerS = total > 0 ? 1000.0 * static_cast<double>(times.size()) / total : INFINITY;
  double gflops = opts.flops > 0 && medianMs > 0 ? opts.flops / (medianMs * 1e6) : NAN;
  long peakKib = peakRssKib(-1); // before getrusage: ru_maxrss >= VmHWM
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  long rusageKib = usage.ru_maxrss; // KiB on Linux
  if (peakKib < 0)
    peakKib = rusageKib;
  const char *gemmEnv = std::getenv("KILN_GEMM_KERNEL");

  if (opts.json) {
    std::string j = "{";
    auto field = [&](const char *name, const std::string &value) {
      if (j.size() > 1)
        j += ", ";
      j += jsonString(name) + ": " + value;
    };
    field("tool", jsonString("kiln-bench"));
    field("runtime_version", jsonString(kiln_runtime_version()));
    field("model", jsonString(opts.model));
    field("producer", jsonString(producer));
    field("requested_threads", std::to_string(opts.threads));
    field("threads", std::to_string(threads));
    field("gemm_kernel_env", gemmEnv ? jsonString(gemmEnv) : "null");
    field("seed", std::to_string(opts.seed));
    field("device_io", opts.deviceIo ? "true" : "false");
    field("load_ms", jsonNumber(loadMs));
    field("session_create_ms", jsonNumber(sessionMs));
    std::string in = "[";
    for (size_t i = 0; i < prepared.tensors.size(); ++i) {
      const kiln::io::HostTensor &t = prepared.tensors[i];
      in += std::string(i ? ", " : "") + "{\"name\": " + jsonString(t.name) +
            ", \"dtype\": " + jsonString(kiln_dtype_name(t.dtype)) +
            ", \"shape\": " + jsonShape(t.dims.data(), static_cast<int32_t>(t.dims.size())) +
            ", \"source\": " + jsonString(prepared.sources[i]) + "}";
    }
    field("inputs", in + "]");
    field("warmup", std::to_string(opts.warmup));
    field("warmup_total_ms", jsonNumber(warmupMs));
    field("runs", std::to_string(times.size()));
    field("latency_ms", "{\"min\": " + jsonNumber(minMs) + ", \"median\": " +
                            jsonNumber(medianMs) + ", \"p90\": " + jsonNumber(p90Ms) +
                            ", \"max\": " + jsonNumber(maxMs) + ", \"mean\": " +
                            jsonNumber(meanMs) + "}");
    std::string runs = "[";
    for (size_t i = 0; i < times.size(); ++i)
      runs += (i ? ", " : "") + jsonNumber(times[i]);
    field("run_ms", runs + "]");
    field("total_ms", jsonNumber(total));
    field("throughput_runs_per_s", jsonNumber(runsPerS));
    field("flops", opts.flops > 0 ? jsonNumber(opts.flops) : "null");
    field("flops_source", opts.flops <= 0 ? "null" : countedFlops ? "\"gemm calls\"" : "\"--flops\"");
    field("gflops_per_s", jsonNumber(gflops));
    field("peak_rss_kib", std::to_string(peakKib));
    field("ru_maxrss_kib", std::to_string(rusageKib));
    std::string out = "[";
    for (size_t i = 0; i < summaries.size(); ++i) {
      const OutputSummary &s = summaries[i];
      out += std::string(i ? ", " : "") + "{\"name\": " + jsonString(s.name) +
             ", \"dtype\": " + jsonString(kiln_dtype_name(s.dtype)) +
             ", \"shape\": " + jsonShape(s.dims.data(), static_cast<int32_t>(s.dims.size())) +
             ", \"sum\": " + jsonNumber(s.sum) + ", \"abs_sum\": " + jsonNumber(s.absSum) + "}";
    }
    field("outputs", out + "]");
    std::printf("%s}\n", j.c_str());
  } else {
    std::printf("model      %s%s%s%s\n", opts.model.c_str(), producer.empty() ? "" : " (",
                producer.c_str(), producer.empty() ? "" : ")");
    std::printf("load       %.3f ms; session %.3f ms, %u thread%s%s%s\n", loadMs, sessionMs,
                threads, threads == 1 ? "" : "s", gemmEnv ? ", KILN_GEMM_KERNEL=" : "",
                gemmEnv ? gemmEnv : "");
    for (size_t i = 0; i < prepared.tensors.size(); ++i) {
      const kiln::io::HostTensor &t = prepared.tensors[i];
      std::printf("input      %s: %s %s %s\n", t.name.c_str(), kiln_dtype_name(t.dtype),
                  shapeString(t.dims).c_str(), prepared.sources[i].c_str());
    }
    std::printf("warm-up    %llu run%s, %.3f ms\n", static_cast<unsigned long long>(opts.warmup),
                opts.warmup == 1 ? "" : "s", warmupMs);
    std::printf("latency    min %.3f  median %.3f  p90 %.3f  max %.3f ms (%zu run%s)\n", minMs,
                medianMs, p90Ms, maxMs, times.size(), times.size() == 1 ? "" : "s");
    std::printf("throughput %.2f runs/s", runsPerS);
    if (opts.flops > 0)
      std::printf("; %.2f GFLOP/s at the median (%.4g FLOPs per run%s)", gflops, opts.flops,
                  countedFlops ? ", of its GEMMs, counted" : "");
    std::printf("\npeak RSS   %.1f MiB\n", static_cast<double>(peakKib) / 1024.0);
    for (const OutputSummary &s : summaries)
      std::printf("output %s: %s %s sum=%.10g abs_sum=%.10g\n", s.name.c_str(),
                  kiln_dtype_name(s.dtype), shapeString(s.dims).c_str(), s.sum, s.absSum);
  }
  kiln_model_release(model);
  return std::fflush(stdout) == 0 ? 0 : 1;
}
