#!/usr/bin/env python3
"""Runs kiln-bench on the hand-written test models and checks what it prints.

    check_kiln_bench.py <case> --kiln-bench build/bin/kiln-bench \
        --kiln-run build/bin/kiln-run --models build/runtime/tests/models \
        --work <scratch dir> [--kiln build/bin/kiln]

Each case is one ctest entry (runtime.kiln-bench.<case>; kiln.bench.<case>
for the ones that go through `kiln bench`). Nothing here asserts a time:
only that the numbers are there, consistent with each other and with the
outputs. Exit 0 on success, 1 on failure, 77 (ctest: skipped) when numpy is
missing.
"""
import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys

try:
    import numpy as np
except ImportError:
    print("numpy is not installed: skipped")
    sys.exit(77)


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


class Env:
    def __init__(self, args):
        self.kiln_bench = args.kiln_bench
        self.kiln_run = args.kiln_run
        self.kiln = args.kiln
        self.models = args.models
        self.fake_cuda = args.fake_cuda
        self.work = args.work
        shutil.rmtree(self.work, ignore_errors=True)
        os.makedirs(self.work)

    def model(self, name):
        return os.path.join(self.models, name + ".so")

    def path(self, name):
        return os.path.join(self.work, name)

    def save(self, name, array):
        path = self.path(name)
        np.save(path, array)
        return path

    def run(self, *args, rc=0, tool=None):
        cmd = [*(tool or [self.kiln_bench]), *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        print("$", " ".join(cmd))
        print(proc.stdout + proc.stderr, end="")
        check(proc.returncode == rc, f"exit code {proc.returncode}, expected {rc}")
        return proc.stdout, proc.stderr

    def json(self, *args, tool=None):
        out, err = self.run(*args, "--json", tool=tool)
        check(err == "", f"stderr is not empty: {err!r}")
        check(out.count("\n") == 1, f"--json printed {out.count(chr(10))} lines, expected 1")
        try:
            return json.loads(out)
        except json.JSONDecodeError as e:
            raise Failure(f"--json output does not parse: {e}: {out!r}")

    def fail(self, message, *args, rc=1):
        """kiln-bench must fail with exactly one line: kiln-bench: error: <message>."""
        out, err = self.run(*args, rc=rc)
        check(out == "", f"stdout is not empty: {out!r}")
        check(err == f"kiln-bench: error: {message}\n",
              f"stderr is {err!r}, expected {message!r}")


def output_lines(stdout):
    """{name: (dtype, shape, sum, abs_sum)} from kiln-run/kiln-bench output lines."""
    found = {}
    for line in stdout.splitlines():
        m = re.fullmatch(r"output (\S+): (\w+) \[([0-9,]*)\] sum=(\S+) abs_sum=(\S+)", line)
        if m:
            shape = tuple(int(d) for d in m.group(3).split(",") if d)
            found[m.group(1)] = (m.group(2), shape, float(m.group(4)), float(m.group(5)))
    return found


def json_outputs(result):
    return {o["name"]: (o["dtype"], tuple(o["shape"]), o["sum"], o["abs_sum"])
            for o in result["outputs"]}


def close(a, b, rel=1e-6):
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)


def check_stats(result, runs, warmup):
    """The summary statistics agree with the per-run times."""
    check(result["tool"] == "kiln-bench", f"tool {result['tool']!r}")
    check(result["runs"] == runs, f"runs {result['runs']}, expected {runs}")
    check(result["warmup"] == warmup, f"warmup {result['warmup']}, expected {warmup}")
    times = result["run_ms"]
    check(len(times) == runs and all(isinstance(t, (int, float)) and t >= 0 for t in times),
          f"run_ms {times}")
    lat = result["latency_ms"]
    check(set(lat) == {"min", "median", "p90", "max", "mean"}, f"latency_ms keys {sorted(lat)}")
    check(lat["min"] <= lat["median"] <= lat["p90"] <= lat["max"], f"latency order {lat}")
    check(close(lat["min"], min(times)) and close(lat["max"], max(times)), f"min/max {lat}")
    check(close(lat["median"], float(np.percentile(times, 50))), f"median {lat}")
    check(close(lat["p90"], float(np.percentile(times, 90))), f"p90 {lat}")
    check(close(lat["mean"], float(np.mean(times))), f"mean {lat}")
    check(close(result["total_ms"], sum(times)), f"total_ms {result['total_ms']}")
    if sum(times) > 0:
        check(close(result["throughput_runs_per_s"], 1000.0 * runs / sum(times), 1e-5),
              f"throughput {result['throughput_runs_per_s']}")
    check(result["load_ms"] >= 0 and result["session_create_ms"] >= 0, "load/session times")
    check(result["warmup_total_ms"] >= 0, "warmup_total_ms")
    check(isinstance(result["peak_rss_kib"], int) and result["peak_rss_kib"] > 0,
          f"peak_rss_kib {result['peak_rss_kib']}")
    check(isinstance(result["ru_maxrss_kib"], int) and
          result["ru_maxrss_kib"] >= result["peak_rss_kib"],
          f"ru_maxrss_kib {result['ru_maxrss_kib']} < peak_rss_kib {result['peak_rss_kib']}")
    check(result["runtime_version"] == "0.1.0", f"runtime_version {result['runtime_version']}")


def fake_inputs():
    x = (np.arange(12, dtype=np.float32).reshape(3, 4) - 5.5) * np.float32(0.25)
    bias = np.array([1, -2, 3, -4], dtype=np.float32)
    return x, bias


def check_fake_outputs(outs, x, bias):
    y, s = x + bias, x.sum(axis=1, dtype=np.float32)
    for name, expected in (("y", y), ("s", s)):
        check(name in outs, f"no output '{name}' in {outs}")
        dtype, shape, total, abs_total = outs[name]
        check(dtype == "float32" and shape == expected.shape, f"{name}: {dtype} {shape}")
        e64 = expected.astype(np.float64)
        check(close(total, e64.sum()) and close(abs_total, np.abs(e64).sum()),
              f"{name}: sum {total} abs_sum {abs_total}, expected {e64.sum()} "
              f"{np.abs(e64).sum()}")


def case_text(env):
    """The human-readable report: every line there, in order."""
    out, _ = env.run(env.model("fake_model"), "--threads", "1", "--warmup", "2", "--runs", "5")
    lines = out.splitlines()
    heads = [line.split(" ", 1)[0] for line in lines]
    check(heads == ["model", "load", "input", "input", "warm-up", "latency", "throughput",
                    "peak", "output", "output"], f"lines {heads}")
    check(lines[0].startswith("model      " + env.model("fake_model") + " (fake_model.c"),
          f"model line {lines[0]!r}")
    check(re.fullmatch(r"load +[0-9.]+ ms; session [0-9.]+ ms, 1 thread", lines[1]),
          f"load line {lines[1]!r}")
    check(lines[2] == "input      x: float32 [1,4] random", f"input line {lines[2]!r}")
    check(re.fullmatch(r"warm-up +2 runs, [0-9.]+ ms", lines[4]), f"warm-up line {lines[4]!r}")
    check(re.fullmatch(r"latency +min [0-9.]+  median [0-9.]+  p90 [0-9.]+  max [0-9.]+ ms "
                       r"\(5 runs\)", lines[5]), f"latency line {lines[5]!r}")
    # Without --flops, the FLOPs of the model's runtime GEMM calls in one run
    # (fake_model.c: one 1 x 4 x 1 sgemm = 8).
    check(re.fullmatch(r"throughput ([0-9.]+|inf) runs/s; ([0-9.]+|inf) GFLOP/s at the median "
                       r"\(8 FLOPs per run, of its GEMMs, counted\)", lines[6]),
          f"throughput line {lines[6]!r}")
    check(re.fullmatch(r"peak RSS +[0-9.]+ MiB", lines[7]), f"RSS line {lines[7]!r}")
    # --flops adds GFLOP/s.
    out, _ = env.run(env.model("fake_model"), "--runs", "3", "--flops", "2.5e6")
    check(re.search(r"; ([0-9.]+|inf) GFLOP/s at the median \(2\.5e\+06 FLOPs per run\)\n", out),
          f"no GFLOP/s in {out!r}")


def case_json(env):
    result = env.json(env.model("fake_model"), "--threads", "1", "--warmup", "2", "--runs", "7")
    check_stats(result, 7, 2)
    check(result["model"] == env.model("fake_model"), f"model {result['model']}")
    check(result["producer"].startswith("fake_model.c"), f"producer {result['producer']}")
    check(result["threads"] == 1 and result["requested_threads"] == 1, "threads")
    check(result["flops"] == 8 and result["flops_source"] == "gemm calls",
          f"flops without --flops: {result['flops']} from {result['flops_source']}")
    check(result["seed"] == 0, "seed")
    check(result["inputs"] == [
        {"name": "x", "dtype": "float32", "shape": [1, 4], "source": "random"},
        {"name": "bias", "dtype": "float32", "shape": [4], "source": "random"}],
        f"inputs {result['inputs']}")
    check([o["name"] for o in result["outputs"]] == ["y", "s"], "outputs")
    # --flops: GFLOP/s at the median; --runs=N spelling; one run.
    result = env.json(env.model("fake_model"), "--flops=1e6", "--runs=1", "--warmup=0")
    check_stats(result, 1, 0)
    check(result["flops"] == 1e6, f"flops {result['flops']}")
    median = result["latency_ms"]["median"]
    if median > 0:
        check(close(result["gflops_per_s"], 1e6 / (median * 1e6), 1e-5),
              f"gflops_per_s {result['gflops_per_s']} at median {median} ms")


def case_rss(env):
    """The peak RSS is kiln-bench's own, not its parent's: on Linux
    getrusage()'s ru_maxrss carries the RSS of the process that forked it
    over exec, so kiln-bench reports VmHWM."""
    if not os.path.exists("/proc/self/status"):
        print("no /proc: nothing to check")
        return
    ballast = bytearray(256 << 20)  # touched: 256 MiB resident in this process
    for i in range(0, len(ballast), 4096):
        ballast[i] = 1
    result = env.json(env.model("fake_model"), "--runs", "2")
    del ballast
    check(result["peak_rss_kib"] < 128 << 10,
          f"peak_rss_kib {result['peak_rss_kib']}: the parent's RSS leaked in")


def case_inputs(env):
    """--input files are used as given; the outputs are the model's."""
    x, bias = fake_inputs()
    args = [env.model("fake_model"), "--input", "x=" + env.save("x.npy", x),
            "--input", "bias=" + env.save("bias.npy", bias), "--runs", "2"]
    result = env.json(*args)
    check(result["inputs"][0] == {"name": "x", "dtype": "float32", "shape": [3, 4],
                                  "source": "from " + env.path("x.npy")},
          f"inputs {result['inputs']}")
    check_fake_outputs(json_outputs(result), x, bias)
    out, _ = env.run(*args)
    check_fake_outputs(output_lines(out), x, bias)
    # One input from a file, the other generated.
    result = env.json(env.model("fake_model"), "--input", "x=" + env.path("x.npy"))
    check(result["inputs"][1]["source"] == "random", f"inputs {result['inputs']}")


def case_random(env):
    """Generated inputs are kiln-run --random-inputs' exactly: the same outputs
    for the same seed and shapes."""
    for model, extra in (("fake_bert", []), ("fake_bert", ["--seed", "7"]),
                         ("fake_bert", ["--input-shape", "input_ids=2x5"]),
                         ("fake_model", ["--seed", "3", "--input-shape", "x=3x4"])):
        run_out, _ = env.run(env.model(model), "--random-inputs", *extra, tool=[env.kiln_run])
        bench = env.json(env.model(model), "--runs", "2", *extra)
        check(json_outputs(bench) == output_lines(run_out),
              f"{model} {extra}: kiln-bench {json_outputs(bench)}, "
              f"kiln-run {output_lines(run_out)}")
    a = env.json(env.model("fake_bert"), "--runs", "1")
    b = env.json(env.model("fake_bert"), "--runs", "1", "--seed", "7")
    check(json_outputs(a)["masked_ids"] != json_outputs(b)["masked_ids"], "--seed has no effect")
    shapes = env.json(env.model("fake_bert"), "--input-shape", "input_ids=2x5", "--runs", "1")
    check([i["shape"] for i in shapes["inputs"]] == [[2, 5]] * 3, f"{shapes['inputs']}")


def case_threads(env):
    for threads in (1, 3):
        result = env.json(env.model("fake_model"), "--threads", str(threads), "--runs", "3")
        check(result["threads"] == threads and result["requested_threads"] == threads,
              f"threads {result['threads']}, expected {threads}")
    result = env.json(env.model("fake_model"), "--threads", "0", "--runs", "3")
    check(result["requested_threads"] == 0 and result["threads"] >= 1,
          f"--threads 0 resolved to {result['threads']}")


def case_usage(env):
    m = env.model("fake_model")
    see = " (see kiln-bench --help)"
    env.fail("no model given" + see, rc=2)
    env.fail("unknown option '--frobnicate'" + see, m, "--frobnicate", rc=2)
    env.fail("unexpected argument 'b.so' (one model at a time)" + see, m, "b.so", rc=2)
    env.fail("--threads expects a number from 0 to 1024, got 'many'" + see, m, "--threads",
             "many", rc=2)
    env.fail("--threads expects a number from 0 to 1024, got '2000'" + see, m, "--threads",
             "2000", rc=2)
    env.fail("--runs expects a number from 1 to 10000000, got '0'" + see, m, "--runs", "0", rc=2)
    env.fail("--runs expects a number from 1 to 10000000, got '-3'" + see, m, "--runs=-3", rc=2)
    env.fail("--warmup expects a number from 0 to 10000000, got 'x'" + see, m, "--warmup", "x",
             rc=2)
    for bad in ("-1", "0", "abc", "1e999", ""):
        env.fail(f"--flops expects a positive number of FLOPs per run (like 2.2e10), got '{bad}'"
                 + see, m, "--flops=" + bad, rc=2)
    env.fail("--seed expects a non-negative number, got '-1'" + see, m, "--seed=-1", rc=2)
    env.fail("option '--runs' needs a value" + see, m, "--runs", rc=2)
    env.fail("--input expects <name>=<file>, got '=x.npy'" + see, m, "--input", "=x.npy", rc=2)
    stdout, _ = env.run("--help")
    check(stdout.startswith("Usage: kiln-bench <model.so> [options]"), "--help")
    for flag in ("--threads", "--input-shape", "--warmup", "--runs", "--json", "--seed",
                 "--flops", "--input"):
        check(flag in stdout, f"--help does not mention {flag}")


def case_bad_model(env):
    missing = env.path("missing.so")
    env.fail(f"cannot open model '{missing}': No such file or directory", missing)
    lib = env.model("not_a_model")
    env.fail(f"'{lib}' is not a Kiln model: it does not export 'kiln_model_abi'", lib)
    text = env.path("text.so")
    with open(text, "w") as f:
        f.write("not a library\n")
    _, err = env.run(text, rc=1)
    check(err.startswith(f"kiln-bench: error: cannot load '{text}': it is not a shared library")
          and err.count("\n") == 1, f"stderr {err!r}")
    lib = env.model("fake_model_abi99")
    _, err = env.run(lib, rc=1)
    check(err.startswith(f"kiln-bench: error: '{lib}' was compiled for Kiln ABI version 99")
          and err.count("\n") == 1, f"stderr {err!r}")


def case_bad_input(env):
    m = env.model("fake_model")
    see = " (see kiln-bench --help)"
    env.fail("--input-shape for 'x': '2xa' is not a shape like 1x128" + see, m,
             "--input-shape", "x=2xa", rc=2)
    env.fail("--input-shape expects <name>=<DxD...>, got 'x'" + see, m, "--input-shape", "x",
             rc=2)
    env.fail("--input-shape gives 'x' twice" + see, m, "--input-shape", "x=1x4,x=2x4", rc=2)
    env.fail("--input-shape names 'nope', which is not an input of the model (x, bias)" + see,
             m, "--input-shape", "nope=1x4", rc=2)
    env.fail("--input-shape gives 'x' rank 3, but the model's input has rank 2" + see, m,
             "--input-shape", "x=1x2x4", rc=2)
    # A shape the model rejects: the runtime's message, at the first run.
    env.fail("input 'x' has shape [2,5], but the model expects float32 [batch,4]: "
             "dim 1 must be 4", m, "--input-shape", "x=2x5")
    x, bias = fake_inputs()
    env.fail("input 'x' has dtype float64 (11), but the model expects float32 [batch,4]", m,
             "--input", "x=" + env.save("x64.npy", x.astype(np.float64)))
    env.fail("unknown input 'bais' (the model's inputs are: x, bias)", m,
             "--input", "bais=" + env.save("b.npy", bias))
    env.fail("--input-shape gives 'x' shape [1,4], but " + env.save("x.npy", x) +
             " has shape [3,4]", m, "--input", "x=" + env.path("x.npy"), "--input-shape",
             "x=1x4")
    env.fail("--input gives 'x' twice" + see, m, "--input", "x=" + env.path("x.npy"),
             "--input", "x=" + env.path("x.npy"), rc=2)
    missing = env.path("nope.npy")
    _, err = env.run(m, "--input", "x=" + missing, rc=1)
    check(err.startswith("kiln-bench: error: ") and missing in err and err.count("\n") == 1,
          f"stderr {err!r}")


def case_kiln_front(env):
    """`kiln bench` is kiln-bench: the same help, the same JSON, the same errors."""
    check(env.kiln, "--kiln is needed for this case")
    kiln = [env.kiln, "bench"]
    direct, _ = env.run("--help")
    front, _ = env.run("--help", tool=kiln)
    check(front == direct, "`kiln bench --help` differs from `kiln-bench --help`")
    front, _ = env.run("bench", tool=[env.kiln, "help"])
    check(front == direct, "`kiln help bench` differs from `kiln-bench --help`")
    result = env.json(env.model("fake_model"), "--runs", "3", "--threads", "1", tool=kiln)
    check_stats(result, 3, 3)
    _, err = env.run(rc=2, tool=kiln)
    check(err == "kiln-bench: error: no model given (see kiln-bench --help)\n", f"{err!r}")
    out, _ = env.run(tool=[env.kiln, "--help"])
    check(re.search(r"\n  bench +Time a compiled model", out), "`kiln --help` lists no bench")


def case_gpu_device_io(env):
    """A GPU model (fake_gpu_model.c on the fake CUDA driver of fake_cuda.cpp,
    which runs on the CPU) with host and with device inputs and outputs: the
    same outputs, y = 3 x + 1."""
    os.environ["KILN_CUDA_DRIVER"] = env.fake_cuda
    model = env.model("fake_gpu_model")
    x = np.linspace(-1, 1, 64, dtype=np.float32)
    path = env.save("x.npy", x)
    host = env.json(model, "--input", f"x={path}", "--runs", "5")
    device = env.json(model, "--input", f"x={path}", "--runs", "5", "--device-io")
    check(host["device_io"] is False and device["device_io"] is True, "device_io fields")
    check(json_outputs(host) == json_outputs(device),
          f"host I/O {json_outputs(host)} vs device I/O {json_outputs(device)}")
    y = (2 * x + 1) + x
    _, shape, total, abs_total = json_outputs(device)["y"]
    check(shape == (64,) and close(total, float(y.sum()), 1e-5) and
          close(abs_total, float(np.abs(y).sum()), 1e-5), f"y: {json_outputs(device)['y']}")
    env.fail("kiln_session_create: device_io is for GPU models (kiln compile --target cuda), "
             "and this model is compiled for the CPU", env.model("fake_model"), "--device-io")
    # KILN_GPU_VERBOSE: the runtime says on stderr when the runs become a graph.
    os.environ["KILN_GPU_VERBOSE"] = "1"
    _, err = env.run(model, "--runs", "5")
    check(re.fullmatch(r"kiln: Fake GPU \(sm_90\): the run's 4 calls captured as a CUDA graph\n",
                       err), f"KILN_GPU_VERBOSE: stderr {err!r}")


CASES = {name[5:].replace("_", "-"): fn for name, fn in globals().items()
         if name.startswith("case_")}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("case", choices=sorted(CASES))
    parser.add_argument("--kiln-bench", required=True)
    parser.add_argument("--kiln-run", required=True)
    parser.add_argument("--models", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--kiln", help="the kiln driver, for the kiln-front case")
    parser.add_argument("--fake-cuda", help="the fake CUDA driver, for the gpu-device-io case")
    args = parser.parse_args()
    try:
        CASES[args.case](Env(args))
    except Failure as e:
        print(f"FAILED: {e}")
        return 1
    print("PASSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
