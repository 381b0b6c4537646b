#!/usr/bin/env python3
"""A pruned model three ways: dense Kiln, sparse Kiln and ONNX Runtime.

    .venv/bin/python bench/sparse_side_by_side.py PRUNED.onnx \\
        --dense dense.so --sparse sparse.so [--seq 128] [--threads 1 2]

PRUNED.onnx is a model whose GEMM weights are mostly zeros
(tools/prune_weights.py); dense.so is it compiled with `kiln compile
--sparse-weights=off`, sparse.so with the default (auto). All three run the
same file on the same inputs (bench/side_by_side.py's: batch 1, random
token ids, masks of ones) and must match onnxruntime within atol = rtol =
1e-4 before anything is timed.

Then, per thread count, alternating rounds (the order rotates each round):
kiln-bench on each library and an onnxruntime session in this process
(side_by_side.py's settings). On one thread every engine is timed by CPU
time, which leaves out what other processes took on a shared machine: for
Kiln the CPU time kiln-bench's process spends on --runs more runs than a
run with none (so loading is left out), for onnxruntime the calling
thread's (it runs there with one intra-op thread). On more threads, by
wall clock (kiln-bench's median and perf_counter). Reported: per engine the
median over all rounds, and the ratios of the medians.
"""

import argparse
import json
import os
import pathlib
import resource
import subprocess
import sys
import tempfile
import time
import types

import numpy as np
import onnx

BENCH = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import side_by_side as sbs  # noqa: E402


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def kiln_times(kiln_bench, lib, input_args, threads, warmup, runs):
    """Milliseconds per run: by CPU time on one thread (the difference of
    two kiln-bench processes, with and without the timed runs), else the
    median wall latency."""
    if threads > 1:
        return sbs.kiln_round(kiln_bench, lib, input_args, threads, warmup, runs, None)[
            "latency_ms"]["median"]
    spent = []
    for count in (1, runs + 1):
        before = children_cpu()
        sbs.kiln_round(kiln_bench, lib, input_args, threads, warmup, count, None)
        spent.append(children_cpu() - before)
    return (spent[1] - spent[0]) / runs * 1e3


def ort_times(session, feeds, threads, warmup, runs):
    for _ in range(warmup):
        session.run(None, feeds)
    clock = time.thread_time if threads == 1 else time.perf_counter
    times = []
    for _ in range(runs):
        t0 = clock()
        session.run(None, feeds)
        times.append((clock() - t0) * 1e3)
    return float(np.median(times))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("--dense", required=True, help="the model built --sparse-weights=off")
    parser.add_argument("--sparse", required=True, help="the model built with sparse weights")
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--build-dir", default=None)
    args = parser.parse_args()
    build = sbs.find_build_dir(args.build_dir)
    kiln_run, kiln_bench = build / "bin" / "kiln-run", build / "bin" / "kiln-bench"
    model_path = pathlib.Path(args.model)
    model = onnx.load(str(model_path), load_external_data=False)
    case = types.SimpleNamespace(size=args.seq,
                                 info=types.SimpleNamespace(text_ids=None, kind="text"))
    feeds = sbs.make_inputs(model, case, 0)
    libs = {"dense Kiln": args.dense, "sparse Kiln": args.sparse}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        input_args = sbs.save_inputs(feeds, tmp / "inputs")
        for threads in args.threads:
            session, _ = sbs.ort_session(model_path, threads)
            for name, lib in libs.items():
                report = sbs.check_outputs(kiln_run, lib, input_args, threads, session, feeds, tmp)
                print(f"{name}, {threads} thread(s): max abs error vs onnxruntime "
                      f"{report['max_abs_err']:.2e} ({'ok' if report['ok'] else 'MISMATCH'})")
                if not report["ok"]:
                    return 1
            load = os.getloadavg()
            times = {name: [] for name in [*libs, "onnxruntime"]}
            engines = list(times)
            for r in range(args.rounds):
                order = engines[r % 3:] + engines[:r % 3]
                for name in order:
                    if name == "onnxruntime":
                        times[name].append(ort_times(session, feeds, threads, args.warmup,
                                                     args.runs))
                    else:
                        times[name].append(kiln_times(kiln_bench, libs[name], input_args,
                                                      threads, args.warmup, args.runs))
            medians = {name: float(np.median(t)) for name, t in times.items()}
            rows.append((threads, medians, load, os.getloadavg()))
            print(f"{threads} thread(s): " + ", ".join(
                f"{name} {m:.1f} ms" for name, m in medians.items()), flush=True)
    print(f"\n{model_path.name}, sequence {args.seq}, batch 1; {args.rounds} alternating rounds "
          f"of {args.runs} runs; 1 thread by CPU time, more by wall clock\n")
    print("| threads | dense Kiln ms | sparse Kiln ms | onnxruntime ms | sparse vs dense Kiln "
          "| sparse Kiln vs ORT | load before / after |")
    print("|--:|--:|--:|--:|--:|--:|---|")
    for threads, m, before, after in rows:
        print(f"| {threads} | {m['dense Kiln']:.1f} | {m['sparse Kiln']:.1f} | "
              f"{m['onnxruntime']:.1f} | {m['dense Kiln'] / m['sparse Kiln']:.2f}x | "
              f"{m['onnxruntime'] / m['sparse Kiln']:.2f}x | {before[0]:.1f} / {after[0]:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
