#!/usr/bin/env python3
"""Runs kiln-run on the hand-written test models and checks it with numpy.

    check_kiln_run.py <case> --kiln-run build/bin/kiln-run \
        --models build/runtime/tests/models --work <scratch dir>

Each case is one ctest entry (runtime.kiln-run.<case>). Exit 0 on success,
1 on failure, 77 (ctest: skipped) when numpy, or onnx for the .pb cases, is
missing.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys


def abi_version(name="KILN_ABI_VERSION"):
    """KILN_ABI_VERSION (or another of its #defines) from the header the
    runtime was built with."""
    header = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "include", "kiln",
                          "kiln_abi.h")
    with open(header) as f:
        return int(re.search(r"#define " + name + r" (\d+)u", f.read()).group(1))


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
        self.kiln_run = args.kiln_run
        self.models = args.models
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

    def run(self, *args, rc=0):
        cmd = [self.kiln_run, *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        print("$", " ".join(cmd))
        print(proc.stdout + proc.stderr, end="")
        check(proc.returncode == rc,
              f"exit code {proc.returncode}, expected {rc}")
        return proc.stdout, proc.stderr

    def fail(self, message, *args, rc=1):
        """kiln-run must fail with exactly one line: kiln-run: error: <message>."""
        out, err = self.run(*args, rc=rc)
        check(err == f"kiln-run: error: {message}\n",
              f"stderr is {err!r}, expected {message!r}")


def outputs(stdout):
    """{name: (dtype, shape, sum, abs_sum)} from kiln-run's output lines."""
    found = {}
    for line in stdout.splitlines():
        m = re.fullmatch(r"output (\S+): (\w+) \[([0-9,]*)\] sum=(\S+) abs_sum=(\S+)", line)
        if m:
            shape = tuple(int(d) for d in m.group(3).split(",") if d)
            found[m.group(1)] = (m.group(2), shape, float(m.group(4)), float(m.group(5)))
    return found


def check_output(stdout, out_dir, name, expected):
    """The printed line and the .npy file of output `name` match `expected`."""
    printed = outputs(stdout)
    check(name in printed, f"no output line for '{name}' in {stdout!r}")
    dtype, shape, total, abs_total = printed[name]
    check(dtype == {"float32": "float32", "int64": "int64", "float64": "float64"}[str(expected.dtype)],
          f"{name}: dtype {dtype}, expected {expected.dtype}")
    check(shape == expected.shape, f"{name}: shape {shape}, expected {expected.shape}")
    e64 = expected.astype(np.float64)
    check(np.isclose(total, e64.sum(), rtol=1e-6, atol=1e-6),
          f"{name}: sum {total}, expected {e64.sum()}")
    check(np.isclose(abs_total, np.abs(e64).sum(), rtol=1e-6, atol=1e-6),
          f"{name}: abs_sum {abs_total}, expected {np.abs(e64).sum()}")
    if out_dir:
        got = np.load(os.path.join(out_dir, name + ".npy"))
        check(got.dtype == expected.dtype and got.shape == expected.shape,
              f"{name}.npy: {got.dtype} {got.shape}, expected {expected.dtype} {expected.shape}")
        check(np.allclose(got, expected, rtol=1e-6, atol=1e-6),
              f"{name}.npy: {got}, expected {expected}")
    return printed[name]


def fake_inputs():
    x = (np.arange(12, dtype=np.float32).reshape(3, 4) - 5.5) * np.float32(0.25)
    bias = np.array([1, -2, 3, -4], dtype=np.float32)
    return x, bias


def check_fake(env, stdout, out_dir, x, bias):
    check_output(stdout, out_dir, "y", x + bias)
    check_output(stdout, out_dir, "s", x.sum(axis=1, dtype=np.float32))


def case_npy(env):
    x, bias = fake_inputs()
    out_dir = env.path("out")
    stdout, _ = env.run(env.model("fake_model"), "--input", "x=" + env.save("x.npy", x),
                        "--input", "bias=" + env.save("bias.npy", bias),
                        "--output-dir", out_dir)
    check("input  x: float32 [3,4] from " in stdout, "no input line for x")
    check_fake(env, stdout, out_dir, x, bias)
    # A transposed (fortran-order) array, and --input=name=file spelling.
    xt = np.asfortranarray(x)
    np.save(env.path("xt.npy"), xt)
    stdout, _ = env.run(env.model("fake_model"), "--input=x=" + env.path("xt.npy"),
                        "--input", "bias=" + env.path("bias.npy"))
    check_fake(env, stdout, None, x, bias)


def onnx_helper():
    try:
        from onnx import numpy_helper
    except ImportError:
        print("onnx is not installed: skipped")
        sys.exit(77)
    return numpy_helper


def save_pb(env, file, array, name):
    path = env.path(file)
    with open(path, "wb") as f:
        f.write(onnx_helper().from_array(array, name).SerializeToString())
    return path


def case_pb(env):
    x, bias = fake_inputs()
    stdout, _ = env.run(env.model("fake_model"),
                        "--input", "x=" + save_pb(env, "x.pb", x, "ignored_name"),
                        "--input", "bias=" + save_pb(env, "bias.pb", bias, "bias"))
    check_fake(env, stdout, None, x, bias)
    # int64 TensorProtos, mixed with .npy.
    ids = np.arange(10, dtype=np.int64).reshape(2, 5)
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=np.int64)
    types = np.zeros((2, 5), dtype=np.int64)
    out_dir = env.path("out")
    stdout, _ = env.run(env.model("fake_bert"),
                        "--input", "input_ids=" + save_pb(env, "ids.pb", ids, "input_ids"),
                        "--input", "attention_mask=" + save_pb(env, "mask.pb", mask, "m"),
                        "--input", "token_type_ids=" + env.save("types.npy", types),
                        "--output-dir", out_dir)
    masked = ids * mask
    check_output(stdout, out_dir, "masked_ids", masked)
    check_output(stdout, out_dir, "lengths", mask.sum(axis=1))
    check_output(stdout, out_dir, "total", np.array(masked.sum(), dtype=np.float64))


def case_pb_unnamed(env):
    """--input file.pb takes the name stored in the TensorProto."""
    x, bias = fake_inputs()
    stdout, _ = env.run(env.model("fake_model"), "--input", save_pb(env, "a.pb", x, "x"),
                        "--input", save_pb(env, "b.pb", bias, "bias"))
    check_fake(env, stdout, None, x, bias)
    env.fail(f"--input '{env.save('x.npy', x)}' needs a name: --input <name>={env.path('x.npy')}"
             " (see kiln-run --help)", env.model("fake_model"), "--input", env.path("x.npy"),
             rc=2)


def case_random(env):
    out_dir = env.path("out")
    stdout, _ = env.run(env.model("fake_bert"), "--random-inputs", "--output-dir", out_dir)
    # Defaults: batch=1, other symbolic dims 8; masks 1, token types 0, ids [0, 100).
    check("input  attention_mask: int64 [1,8] random" in stdout, "attention_mask line")
    masked = np.load(os.path.join(out_dir, "masked_ids.npy"))
    check(masked.shape == (1, 8), f"masked_ids shape {masked.shape}")
    check(((masked >= 0) & (masked < 100)).all(), f"ids out of [0, 100): {masked}")
    check(len(np.unique(masked)) > 1, f"ids are not random: {masked}")
    check_output(stdout, out_dir, "lengths", np.array([8], dtype=np.int64))
    check_output(stdout, out_dir, "total", np.array(masked.sum(), dtype=np.float64))
    # Same seed, same numbers; another seed, others.
    again, _ = env.run(env.model("fake_bert"), "--random-inputs")
    check(outputs(again) == outputs(stdout), "--random-inputs is not deterministic")
    other, _ = env.run(env.model("fake_bert"), "--random-inputs", "--seed", "7")
    check(outputs(other)["masked_ids"] != outputs(stdout)["masked_ids"], "--seed has no effect")
    # Floats in [-1, 1): y = x + bias with both in [-1, 1).
    stdout, _ = env.run(env.model("fake_model"), "--random-inputs", "--output-dir", out_dir)
    y = np.load(os.path.join(out_dir, "y.npy"))
    check(y.shape == (1, 4) and (np.abs(y) < 2).all() and len(np.unique(y)) == 4,
          f"y from random inputs: {y}")


def case_random_shape(env):
    out_dir = env.path("out")
    # One input's shape fixes `batch` and `sequence` for the others.
    stdout, _ = env.run(env.model("fake_bert"), "--random-inputs", "--input-shape",
                        "input_ids=2x5", "--output-dir", out_dir)
    check("input  token_type_ids: int64 [2,5] random" in stdout, "token_type_ids shape")
    check_output(stdout, out_dir, "lengths", np.array([5, 5], dtype=np.int64))
    # A file input fixes them too.
    ids = np.full((3, 6), 7, dtype=np.int64)
    stdout, _ = env.run(env.model("fake_bert"), "--random-inputs",
                        "--input", "input_ids=" + env.save("ids.npy", ids),
                        "--output-dir", out_dir)
    check_output(stdout, out_dir, "masked_ids", ids)
    check_output(stdout, out_dir, "lengths", np.array([6, 6, 6], dtype=np.int64))
    stdout, _ = env.run(env.model("fake_model"), "--random-inputs", "--input-shape", "x=3x4")
    check(outputs(stdout)["y"][1] == (3, 4), "y shape with --input-shape x=3x4")
    env.fail("--input-shape names 'nope', which is not an input of the model (x, bias)"
             " (see kiln-run --help)",
             env.model("fake_model"), "--random-inputs", "--input-shape", "nope=1x4", rc=2)
    env.fail("--input-shape gives 'x' rank 3, but the model's input has rank 2"
             " (see kiln-run --help)",
             env.model("fake_model"), "--random-inputs", "--input-shape", "x=1x2x4", rc=2)
    env.fail("input 'x' has shape [2,5], but the model expects float32 [batch,4]: dim 1 must be 4",
             env.model("fake_model"), "--random-inputs", "--input-shape", "x=2x5")


def case_output_dir_bad(env):
    x, bias = fake_inputs()
    blocker = env.path("file")
    open(blocker, "w").close()
    env.fail(f"--output-dir '{blocker}' is not a directory", env.model("fake_model"),
             "--random-inputs", "--output-dir", blocker)
    # Nested directories are created.
    nested = env.path("a/b/c")
    env.run(env.model("fake_model"), "--random-inputs", "--output-dir", nested)
    check(os.path.exists(os.path.join(nested, "y.npy")), "a/b/c/y.npy not written")


def case_unknown_input(env):
    x, bias = fake_inputs()
    env.fail("unknown input 'bais' (the model's inputs are: x, bias)", env.model("fake_model"),
             "--input", "x=" + env.save("x.npy", x), "--input", "bais=" + env.save("b.npy", bias))


def case_missing_input(env):
    x, _ = fake_inputs()
    env.fail("missing input 'bias' (give it with --input, or use --random-inputs)",
             env.model("fake_model"), "--input", "x=" + env.save("x.npy", x))


def case_wrong_dtype(env):
    x, bias = fake_inputs()
    env.fail("input 'x' has dtype float64 (11), but the model expects float32 [batch,4]",
             env.model("fake_model"), "--input", "x=" + env.save("x.npy", x.astype(np.float64)),
             "--input", "bias=" + env.save("b.npy", bias))
    env.fail("input 'bias' has shape [5], but the model expects float32 [4]: dim 0 must be 4",
             env.model("fake_model"), "--input", "x=" + env.save("x.npy", x),
             "--input", "bias=" + env.save("b5.npy", np.zeros(5, np.float32)))


def case_symbolic_conflict(env):
    env.fail("symbolic dim 'sequence' is 5 in input 'input_ids' (dim 1) but 6 in input "
             "'attention_mask' (dim 1)", env.model("fake_bert"),
             "--input", "input_ids=" + env.save("ids.npy", np.zeros((2, 5), np.int64)),
             "--input", "attention_mask=" + env.save("mask.npy", np.ones((2, 6), np.int64)),
             "--random-inputs")


def case_bad_model(env):
    lib = env.model("not_a_model")
    env.fail(f"'{lib}' is not a Kiln model: it does not export 'kiln_model_abi'", lib,
             "--random-inputs")
    missing = env.path("missing.so")
    env.fail(f"cannot open model '{missing}': No such file or directory", missing)
    lib = env.model("fake_model_abi99")
    oldest = abi_version("KILN_ABI_VERSION_OLDEST")
    env.fail(f"'{lib}' was compiled for Kiln ABI version 99, but this runtime (0.1.0) supports "
             f"versions {oldest} to {abi_version()}; recompile the model with a matching kiln",
             lib)
    text = env.path("text.so")
    with open(text, "w") as f:
        f.write("not a library\n")
    _, err = env.run(text, rc=1)
    check(err.startswith(f"kiln-run: error: cannot load '{text}': it is not a shared library")
          and err.count("\n") == 1, f"stderr {err!r}")
    bad = env.path("bad.npy")
    with open(bad, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00\x02\x00{}")
    env.fail(f"{bad}: malformed .npy header: {{}}", env.model("fake_model"), "--input",
             "x=" + bad)


def case_usage(env):
    env.fail("no model given (see kiln-run --help)", rc=2)
    env.fail("unknown option '--frobnicate' (see kiln-run --help)", "m.so", "--frobnicate", rc=2)
    env.fail("--threads expects a number from 0 to 1024, got 'many' (see kiln-run --help)",
             "m.so", "--threads", "many", rc=2)
    env.fail("option '--input' needs a value (see kiln-run --help)", "m.so", "--input", rc=2)
    env.fail("--input-shape for 'x': '2xa' is not a shape like 1x128 (see kiln-run --help)",
             "m.so", "--input-shape", "x=2xa", rc=2)
    stdout, _ = env.run("--help")
    check(stdout.startswith("Usage: kiln-run <model.so> [options]"), "--help")


def case_threads(env):
    x, bias = fake_inputs()
    for threads in ("1", "3", "0"):
        stdout, _ = env.run(env.model("fake_model"), "--threads", threads,
                            "--input", "x=" + env.save("x.npy", x),
                            "--input", "bias=" + env.save("bias.npy", bias))
        check_fake(env, stdout, None, x, bias)


def case_runs(env):
    # Repeated runs (after warm-up runs on another session) give the outputs
    # of one run; bad counts are usage errors.
    x, bias = fake_inputs()
    stdout, _ = env.run(env.model("fake_model"), "--runs", "3", "--warmup", "2",
                        "--input", "x=" + env.save("x.npy", x),
                        "--input", "bias=" + env.save("bias.npy", bias))
    check_fake(env, stdout, None, x, bias)
    env.fail("--runs expects a positive number, got '0' (see kiln-run --help)",
             "m.so", "--runs", "0", rc=2)
    env.fail("--warmup expects a non-negative number, got '-1' (see kiln-run --help)",
             "m.so", "--warmup", "-1", rc=2)


CASES = {name[5:].replace("_", "-"): fn for name, fn in globals().items()
         if name.startswith("case_")}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("case", choices=sorted(CASES))
    parser.add_argument("--kiln-run", required=True)
    parser.add_argument("--models", required=True)
    parser.add_argument("--work", required=True)
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
