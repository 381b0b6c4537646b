"""NVIDIA's tools over one kiln-bench run, for the device check: Nsight
Compute's per-kernel GPU times and compute-sanitizer's race check. Each
reports a missing tool or a failure in its result instead of raising: the
lent machine may lack the tool or the access to the GPU's counters."""

import csv
import pathlib
import shutil
import subprocess
import time


def kernel_times(bindir: pathlib.Path, library: pathlib.Path, runs: int = 2,
                 timeout: float = 90) -> dict:
    """Each kernel's GPU time in `runs` runs of kiln-bench (after one warm-up,
    device I/O) under Nsight Compute (`ncu`, one metric: gpu__time_duration,
    the clocks left alone), summed per kernel name and divided by the runs:
    where a run's time goes, cuBLASLt's GEMM kernels included. ncu times each
    kernel alone, serialized, so the sum exceeds a run's latency (no overlap,
    no launch gaps). An error (no ncu, no access to the counters) is
    reported, not raised."""
    ncu = shutil.which("ncu")
    if not ncu:
        return {"error": "no ncu on the PATH"}
    cmd = [ncu, "--clock-control", "none", "--metrics", "gpu__time_duration.sum", "--csv",
           "--page", "raw", "--print-units", "base", "--launch-count", "2000",
           str(bindir / "kiln-bench"), str(library), "--runs", str(runs), "--warmup", "1",
           "--device-io"]
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"ncu took over {timeout:.0f} s"}
    rows = list(csv.reader(line for line in result.stdout.splitlines() if line.startswith('"')))
    header = next((r for r in rows if "Kernel Name" in r and "gpu__time_duration.sum" in r), None)
    if result.returncode != 0 or header is None:
        return {"error": f"ncu exit {result.returncode}: "
                         f"{(result.stdout + result.stderr).strip()[-600:]}"}
    name_at, time_at = header.index("Kernel Name"), header.index("gpu__time_duration.sum")
    totals = {}
    for row in rows:
        try:
            ns = float(row[time_at].replace(",", ""))  # thousands separators
        except (ValueError, IndexError):
            continue  # the header, the units row
        count, total = totals.get(row[name_at], (0, 0.0))
        totals[row[name_at]] = (count + 1, total + ns)
    # The warm-up run's kernels are profiled too: a run is 1 / (runs + 1).
    share = runs + 1
    kernels = sorted(({"kernel": name, "launches_per_run": count / share,
                       "us_per_run": total / share / 1000}
                      for name, (count, total) in totals.items()),
                     key=lambda k: -k["us_per_run"])
    return {"runs_profiled": share, "kernels": kernels,
            "us_per_run": sum(k["us_per_run"] for k in kernels)}


def race_check(bindir: pathlib.Path, library: pathlib.Path, timeout: float = 150) -> dict:
    """compute-sanitizer's racecheck (shared-memory hazards) over one run of
    `library` (kiln-bench, device I/O), Kiln's kernels only (`--kernel-name
    kns=main_kernel`: cuBLASLt's are NVIDIA's, and slow to instrument): the
    fused attention kernel's cp.async stages, ldmatrix reads and barriers
    checked on the GPU itself, which the emulator's race check only models.
    `hazards` when it reports any (exit 9); an error (no tool, an option it
    lacks, the time cap) is reported, not raised."""
    tool = shutil.which("compute-sanitizer")
    if not tool:
        return {"error": "no compute-sanitizer on the PATH"}
    cmd = [tool, "--tool", "racecheck", "--kernel-name", "kns=main_kernel", "--error-exitcode",
           "9", str(bindir / "kiln-bench"), str(library), "--runs", "1", "--warmup", "0",
           "--device-io"]
    started = time.perf_counter()
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"racecheck took over {timeout:.0f} s"}
    lines = (result.stdout + result.stderr).strip().splitlines()
    report = {"exit": result.returncode, "hazards": result.returncode == 9,
              "summary": next((line for line in reversed(lines) if "RACECHECK SUMMARY" in line),
                              None),
              "tail": lines[-4:], "seconds": round(time.perf_counter() - started, 1)}
    if result.returncode not in (0, 9):
        report["error"] = f"compute-sanitizer exit {result.returncode}: {' / '.join(lines[-3:])}"
    return report
