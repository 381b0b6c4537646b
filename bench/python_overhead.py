#!/usr/bin/env python3
"""Per-call overhead of kiln.Session.run over the Kiln C API, next to
onnxruntime's InferenceSession.run overhead over its C++ core, on BERT-tiny.

Method. The model runs on a tiny input (batch 1, sequence 1 by default) on
one thread, so that each call is short and the fixed costs stand out. For
each engine two medians over many calls are taken, and their difference is
the Python layer's overhead per call:

  kiln  Python: time.perf_counter_ns() around each session.run(None, feeds)
                (numpy in: zero copy; numpy out: the runtime's buffers wrapped).
        C:      `kiln-bench` on the same library, shapes and thread count: the
                median of its timed kiln_session_run calls (a C++ loop over the
                C API, no Python).
  ORT   Python: the same loop around InferenceSession.run(None, feeds).
        C++:    ORT's own profiler (enable_profiling) on a second session: the
                median duration of its "model_run" events, i.e. the time
                inside InferenceSession::Run. The Python median used for the
                difference is taken on that same profiled session, so the
                profiler's own cost is on both sides.

Medians, not means: the machine may be shared. Each loop runs `--rounds`
rounds of `--calls` calls after a warm-up, pooled.

  .venv/bin/python bench/python_overhead.py                # compiles bert-tiny
  .venv/bin/python bench/python_overhead.py --seq 128 --calls 500
Needs the built Python package (PYTHONPATH=build/python, or pip install .),
build/bin/kiln-bench and onnxruntime.
"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "build" / "python"))
import kiln  # noqa: E402


def timed_calls(call, calls, rounds, warmup=200):
    for _ in range(warmup):
        call()
    samples = []
    clock = time.perf_counter_ns
    for _ in range(rounds):
        for _ in range(calls):
            start = clock()
            call()
            samples.append(clock() - start)
    return statistics.median(samples) / 1000.0  # µs


def kiln_bench_median(kiln_bench, library, shapes, threads, calls, rounds):
    shape_arg = ",".join(f"{name}={'x'.join(map(str, dims))}" for name, dims in shapes.items())
    out = subprocess.run([str(kiln_bench), str(library), "--threads", str(threads),
                          "--input-shape", shape_arg, "--warmup", "200",
                          "--runs", str(calls * rounds), "--json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["latency_ms"]["median"] * 1000.0  # µs


def ort_profiled_medians(model, feeds, threads, calls, rounds):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.enable_profiling = True
    with tempfile.TemporaryDirectory() as tmp:
        options.profile_file_prefix = os.path.join(tmp, "ort")
        session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        python = timed_calls(lambda: session.run(None, feeds), calls, rounds)
        trace = json.loads(pathlib.Path(session.end_profiling()).read_text())
    runs = [e["dur"] for e in trace if e.get("cat") == "Session" and e.get("name") == "model_run"]
    return python, statistics.median(runs)  # µs, µs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=ROOT / "test/models/bert-tiny.dynamo.onnx", type=pathlib.Path)
    parser.add_argument("--library", type=pathlib.Path, help="compiled model (default: compile --model)")
    parser.add_argument("--kiln-bench", default=ROOT / "build/bin/kiln-bench", type=pathlib.Path)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--seq", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        library = args.library or kiln.compile(args.model, pathlib.Path(tmp) / "model.so")
        session = kiln.Session(library, threads=args.threads)
        shapes = {i.name: [args.batch, args.seq] for i in session.get_inputs()}
        feeds = {name: np.ones(dims, np.int64) for name, dims in shapes.items()}

        kiln_python = timed_calls(lambda: session.run(None, feeds), args.calls, args.rounds)
        kiln_c = kiln_bench_median(args.kiln_bench, library, shapes, args.threads,
                                   args.calls, args.rounds)

    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    reference = ort.InferenceSession(str(args.model), options, providers=["CPUExecutionProvider"])
    ort_python = timed_calls(lambda: reference.run(None, feeds), args.calls, args.rounds)
    ort_python_profiled, ort_core = ort_profiled_medians(args.model, feeds, args.threads,
                                                         args.calls, args.rounds)

    result = {
        "model": str(args.model.relative_to(ROOT) if args.model.is_relative_to(ROOT) else args.model),
        "batch": args.batch, "seq": args.seq, "threads": args.threads,
        "calls": args.calls * args.rounds,
        "kiln_python_run_us": round(kiln_python, 2),
        "kiln_c_api_run_us": round(kiln_c, 2),
        "kiln_overhead_us": round(kiln_python - kiln_c, 2),
        "ort_python_run_us": round(ort_python, 2),
        "ort_python_run_profiled_us": round(ort_python_profiled, 2),
        "ort_core_run_us": round(ort_core, 2),
        "ort_overhead_us": round(ort_python_profiled - ort_core, 2),
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"{result['model']}, batch {args.batch}, sequence {args.seq}, {args.threads} thread(s), "
          f"medians of {result['calls']} calls, µs per call")
    print(f"{'':8}{'Python run':>12}{'core run':>12}{'overhead':>12}")
    print(f"{'kiln':8}{kiln_python:12.1f}{kiln_c:12.1f}{kiln_python - kiln_c:12.1f}"
          "   (core: kiln-bench, C API)")
    print(f"{'ORT':8}{ort_python_profiled:12.1f}{ort_core:12.1f}{ort_python_profiled - ort_core:12.1f}"
          f"   (core: ORT profiler's model_run; unprofiled Python run {ort_python:.1f})")


if __name__ == "__main__":
    main()
