#!/usr/bin/env python3
"""Two Kiln libraries of one model against each other, in alternating rounds.

For builds of the same model that differ in one option (fp32 and
`--quantize bf16`, two -O levels): each round runs `kiln bench` on A, then
on B (B first in odd rounds), --runs timed runs each, and takes each one's
median; the ratio B / A is computed per round, so that load from other
jobs, which comes and goes, hits both sides of a ratio alike. Prints every
round, then per thread count the median of all rounds' medians and the
range of the per-round ratios.

  .venv/bin/python bench/compare_libraries.py fp32.so bf16.so \\
      --input-shape input_ids=1x128,attention_mask=1x128,token_type_ids=1x128
"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess

ROOT = pathlib.Path(__file__).resolve().parent.parent


def median_ms(kiln, lib, threads, shape, runs):
    cmd = [kiln, "bench", lib, "--threads", str(threads), "--warmup", "2", "--runs", str(runs),
           "--json"] + (["--input-shape", shape] if shape else [])
    result = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(result.stdout)["latency_ms"]["median"]


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("a", help="the reference library")
    parser.add_argument("b", help="the library compared with it")
    parser.add_argument("--input-shape", help="as kiln bench takes it")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--kiln", default=str(ROOT / "build/bin/kiln"))
    args = parser.parse_args()
    for threads in args.threads:
        medians, ratios = {"a": [], "b": []}, []
        for r in range(args.rounds):
            got = {}
            for side in ("a", "b") if r % 2 == 0 else ("b", "a"):
                got[side] = median_ms(args.kiln, getattr(args, side), threads, args.input_shape,
                                      args.runs)
                medians[side].append(got[side])
            ratios.append(got["b"] / got["a"])
            print(f"threads {threads} round {r + 1}: A {got['a']:.2f} ms, B {got['b']:.2f} ms, "
                  f"B/A {ratios[-1]:.3f}", flush=True)
        a, b = statistics.median(medians["a"]), statistics.median(medians["b"])
        print(f"threads {threads}: A {a:.2f} ms, B {b:.2f} ms, B/A {b / a:.3f} (per-round "
              f"{min(ratios):.3f}-{max(ratios):.3f}), load average {os.getloadavg()[0]:.1f}",
              flush=True)


if __name__ == "__main__":
    main()
