#!/usr/bin/env python3
"""Kiln's fp32 GEMM against OpenBLAS and the FMA peak, as a markdown table.

    python3 bench/gemm/gemm_table.py                      # build-bench, full sweep (~5 min)
    python3 bench/gemm/gemm_table.py --filter 'M:384/'    # a subset (a Google Benchmark regex)
    python3 bench/gemm/gemm_table.py --json FILE          # only the table, from an earlier run

Runs kiln-gemm-bench (bench/gemm/gemm_bench.cpp; build it first, see
bench/README.md) with --benchmark_repetitions=5 and
--benchmark_report_aggregates_only=true, so every number is the median of 5
repetitions of at least 0.1 s each, and writes

    bench/results/gemm-<UTC date-time>.json   the benchmark's JSON, plus a
                                              "kiln_gemm_table" object: machine,
                                              load average before and after
    bench/results/gemm-<UTC date-time>.md     the table

Per shape (M x K x N) and thread count: GFLOP/s of OpenBLAS, Kiln (B packed
inside every call) and Kiln prepacked (B packed once, ahead of time), Kiln's
GFLOP/s divided by OpenBLAS's, each one's percentage of the FMA peak measured
at start-up at that thread count, and the largest coefficient of variation
over the repetitions in the row. Nothing here asserts a speed; the exit
status is 1 only if a benchmark failed (Kiln's result differing from
OpenBLAS's, or a crash).
"""

import argparse
import datetime
import json
import math
import os
import pathlib
import re
import shlex
import subprocess
import sys

BENCH = pathlib.Path(__file__).resolve().parent.parent
ROOT = BENCH.parent
VARIANTS = ["openblas", "kiln", "kiln_prepacked"]
NAME = re.compile(r"^(?P<variant>\w+)/M:(?P<m>\d+)/K:(?P<k>\d+)/N:(?P<n>\d+)/T:(?P<t>\d+)(/|$)")


def find_binary(explicit, build):
    if explicit:
        return pathlib.Path(explicit)
    candidates = [pathlib.Path(build) / "bin" / "kiln-gemm-bench"] if build else []
    candidates += [ROOT / "build-bench" / "bin" / "kiln-gemm-bench",
                   ROOT / "build" / "bin" / "kiln-gemm-bench"]
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return c
    sys.exit("gemm_table.py: error: no kiln-gemm-bench binary (looked in "
             + ", ".join(str(c) for c in candidates) + "); build it as bench/README.md says, "
             "or pass --binary")


def cpu_model():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return "unknown"


def loadavg():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def run_benchmark(binary, json_path, args):
    cmd = [str(binary), f"--benchmark_out={json_path}", "--benchmark_out_format=json",
           f"--benchmark_repetitions={args.repetitions}",
           "--benchmark_report_aggregates_only=true",
           f"--threads={args.threads}"]
    if args.filter:
        cmd.append(f"--benchmark_filter={args.filter}")
    cmd += args.extra
    print("+", shlex.join(cmd), flush=True)
    meta = {"machine": cpu_model(), "nproc": os.cpu_count(), "loadavg_start": loadavg(),
            "command": shlex.join(cmd)}
    rc = subprocess.run(cmd).returncode
    meta["loadavg_end"] = loadavg()
    meta["returncode"] = rc
    if not json_path.is_file():
        sys.exit(f"gemm_table.py: error: {binary} wrote no JSON (exit status {rc})")
    data = json.loads(json_path.read_text())
    data["kiln_gemm_table"] = meta
    json_path.write_text(json.dumps(data, indent=2) + "\n")
    return data


def collect(data):
    """{(m, k, n, t): {variant: {"median": {...}, "cv": {...}, "error": str}}}, in run order."""
    rows = {}
    for b in data.get("benchmarks", []):
        m = NAME.match(b.get("run_name", b.get("name", "")))
        if not m:
            continue
        key = tuple(int(m.group(x)) for x in "mknt")
        cell = rows.setdefault(key, {}).setdefault(m.group("variant"), {})
        if b.get("error_occurred"):
            cell["error"] = b.get("error_message", "error")
        elif b.get("run_type") == "aggregate":
            cell[b.get("aggregate_name")] = b
        else:  # a plain run (no repetitions): treat it as its own median
            cell.setdefault("median", b)
    return rows


def fnum(x, digits=1):
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def gmean(xs):
    xs = [x for x in xs if x and x > 0]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def render(data, json_name):
    ctx = data.get("context", {})
    meta = data.get("kiln_gemm_table", {})
    rows = collect(data)
    reps = None
    errors = []
    for key, cells in rows.items():
        for v, cell in cells.items():
            if "error" in cell:
                errors.append(f"{v} {key[0]}x{key[1]}x{key[2]} T={key[3]}: {cell['error']}")
            if "median" in cell and reps is None:
                reps = cell["median"].get("repetitions")
    have = {v for cells in rows.values() for v in cells}

    def metric(cell, name, agg="median"):
        if not cell or agg not in cell:
            return None
        return cell[agg].get(name)

    threads = sorted({k[3] for k in rows})
    peaks = {t: ctx.get(f"fma_peak_gflops_T{t}") for t in threads}
    load_start = meta.get("loadavg_start") or ctx.get("load_avg")
    load_end = meta.get("loadavg_end")

    out = []
    out.append("# Kiln GEMM vs OpenBLAS (fp32, row-major, C = A·B)\n")
    out.append(f"- Date: {ctx.get('date', '?')}; raw results: `{json_name}`")
    out.append(f"- Machine: {meta.get('machine') or ctx.get('cpu_model', '?')}, "
               f"{ctx.get('num_cpus', '?')} CPUs (shared with other jobs); load average at start "
               f"{fmt_load(load_start)}" + (f", at end {fmt_load(load_end)}" if load_end else ""))
    out.append(f"- FMA peak ({ctx.get('fma_peak_isa', '?')}, measured at start-up, best of the "
               "trials): " + ", ".join(f"{t} thread{'s' if t > 1 else ''} {peaks[t]} GFLOP/s"
                                       for t in threads if peaks[t]))
    if ctx.get("fma_peak_note"):
        out.append(f"- FMA peak note: {ctx['fma_peak_note']} (% peak at those thread counts is "
                   "against the idle-machine ceiling)")
    out.append(f"- Kiln micro-kernel: {ctx.get('kiln_gemm_kernel', '?')}, prepacked panel width "
               f"{ctx.get('kiln_gemm_panel_width', '?')}; OpenBLAS: "
               f"{ctx.get('openblas_config', '?')} (core {ctx.get('openblas_corename', '?')})")
    out.append(f"- Every number is the **median of {reps or '?'} repetitions** (each at least 0.1 s "
               "of back-to-back calls, wall time). The machine is shared and noisy: "
               "differences under ~10% (or under the row's CV) are not significant.")
    if "kiln_prepacked" not in have:
        out.append("- Kiln prepacked: not in this run (the runtime had no kiln::prepackB).")
    out.append("")
    out.append("Columns: GFLOP/s = 2·M·N·K / time; **K÷OB** = Kiln GFLOP/s ÷ OpenBLAS GFLOP/s "
               "(> 1: Kiln faster), **KP÷OB** the same for Kiln prepacked; **% peak** = GFLOP/s ÷ "
               "the FMA peak at the same thread count; **CV** = the largest coefficient of "
               "variation (stddev ÷ mean over the repetitions) of the three variants in the row.\n")
    out.append("| M | K | N | T | OpenBLAS | Kiln | Kiln prepacked | K÷OB | KP÷OB "
               "| OB % peak | Kiln % peak | KP % peak | CV % |")
    out.append("|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")

    ratios = {}  # (group, t) -> {"kiln": [...], "kiln_prepacked": [...]}
    for (m, k, n, t), cells in rows.items():
        g = {v: metric(cells.get(v), "GFLOPS") for v in VARIANTS}
        p = {v: metric(cells.get(v), "pct_peak") for v in VARIANTS}
        cvs = [metric(cells.get(v), "GFLOPS", "cv") for v in VARIANTS]
        cvs = [c * 100 for c in cvs if c is not None]
        err = {v: "error" in cells.get(v, {}) for v in VARIANTS}

        def gcell(v):
            return "**ERROR**" if err[v] else fnum(g[v])

        def ratio(v):
            if g[v] is None or not g["openblas"]:
                return None
            return g[v] / g["openblas"]

        group = "square" if m == k == n else "transformer"
        for v in ("kiln", "kiln_prepacked"):
            r = ratio(v)
            if r:
                ratios.setdefault((group, t), {}).setdefault(v, []).append(r)
        out.append(f"| {m} | {k} | {n} | {t} | {gcell('openblas')} | {gcell('kiln')} "
                   f"| {gcell('kiln_prepacked')} | {fnum(ratio('kiln'), 2)} "
                   f"| {fnum(ratio('kiln_prepacked'), 2)} | {fnum(p['openblas'], 0)} "
                   f"| {fnum(p['kiln'], 0)} | {fnum(p['kiln_prepacked'], 0)} "
                   f"| {fnum(max(cvs) if cvs else None, 1)} |")

    if ratios:
        out.append("\nGeometric means of the ratios:\n")
        out.append("| shapes | T | rows | K÷OB | KP÷OB | rows with Kiln ≥ OpenBLAS |")
        out.append("|---|--:|--:|--:|--:|--:|")
        for (group, t), r in sorted(ratios.items()):
            kr = r.get("kiln", [])
            out.append(f"| {group} | {t} | {len(kr)} | {fnum(gmean(kr), 2)} "
                       f"| {fnum(gmean(r.get('kiln_prepacked', [])), 2)} "
                       f"| {sum(1 for x in kr if x >= 1)} |")
    if errors:
        out.append("\nFailed benchmarks:\n")
        seen = set()
        for e in errors:
            if e not in seen:
                seen.add(e)
                out.append(f"- {e}")
    return "\n".join(out) + "\n", bool(errors)


def fmt_load(load):
    if not load:
        return "?"
    return " / ".join(f"{x:.2f}" for x in load) + " (1 / 5 / 15 min)"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", help="render this earlier JSON (from this script or the binary) "
                    "instead of running the benchmark")
    ap.add_argument("--binary", help="the kiln-gemm-bench to run")
    ap.add_argument("--build", help="the build folder holding bin/kiln-gemm-bench "
                    "(default: build-bench, then build)")
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--threads", default="1,2", help="thread counts (default 1,2)")
    ap.add_argument("--filter", help="--benchmark_filter regex, e.g. 'M:384/' or '/T:1'")
    ap.add_argument("--out-dir", default=str(BENCH / "results"))
    ap.add_argument("extra", nargs="*", help="more arguments for kiln-gemm-bench (after --)")
    args = ap.parse_args()

    out_dir = pathlib.Path(args.out_dir)
    if args.json:
        src = pathlib.Path(args.json)
        data = json.loads(src.read_text())
        md_path = src.with_suffix(".md")
        json_name = src.name
    else:
        binary = find_binary(args.binary, args.build)
        out_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H-%M-%SZ")
        json_path = out_dir / f"gemm-{stamp}.json"
        md_path = out_dir / f"gemm-{stamp}.md"
        json_name = json_path.name
        data = run_benchmark(binary, json_path, args)
    table, failed = render(data, json_name)
    md_path.write_text(table)
    print()
    print(table)
    print(f"wrote {md_path}")
    rc = data.get("kiln_gemm_table", {}).get("returncode", 0)
    return 1 if failed or rc else 0


if __name__ == "__main__":
    sys.exit(main())
