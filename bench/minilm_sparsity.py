#!/usr/bin/env python3
"""Sparsity vs accuracy vs latency of all-MiniLM-L6-v2 under Kiln: a plot and
its table.

Builds (no fine-tuning after pruning: the accuracy is what pruning the
trained model costs as it is): dense fp32, dense `--quantize int8`, and
`--prune S:unstructured` and `--prune S:block1x4` (per layer) for S in
--sparsities (default 0.5 to 0.9), each with the default
`--sparse-weights=auto` (the sparse GEMM where its cost model says it pays).

Accuracy: per eval sentence, the cosine of `sentence_embedding` to
onnxruntime fp32 on the unpruned model (tools/minilm_accuracy.py's sets:
data/sentences/eval.ids, 8 sentences a set), mean and min.

Latency: batch 1, sequence 128 (bench/side_by_side.py's inputs), one
thread, timed by CPU time as bench/sparse_side_by_side.py does (the machine
is shared); alternating rounds, the order rotating each round, median over
the rounds. The load average is recorded with the figures.

  .venv/bin/python bench/minilm_sparsity.py --plot bench/results/minilm-sparsity.png \\
      --markdown bench/results/minilm-sparsity.md
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import types

import numpy as np
import onnx

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "bench"))
import minilm_accuracy  # noqa: E402
import side_by_side as sbs  # noqa: E402
from minilm_pruning import embeddings  # noqa: E402
from sparse_side_by_side import kiln_times  # noqa: E402


def builds(sparsities):
    """(label, pattern, sparsity asked, kiln compile flags)"""
    found = [("dense fp32", "dense", 0.0, []), ("dense int8", "int8", 0.0, ["--quantize", "int8"])]
    for pattern in ("unstructured", "block1x4"):
        for s in sparsities:
            spec = f"{s:g}:{pattern}"
            found.append((f"--prune {spec}", pattern, s, ["--prune", spec]))
    return found


def compile_build(args, flags, library):
    cmd = [args.kiln, "compile", str(args.model), "-o", str(library), "--stats", *flags]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{result.stderr}")
    total = re.search(r"sparsity ([0-9.]+) \((\d+) of (\d+) values zero\)", result.stderr)
    return float(total[1]) if total else 0.0


def latencies(args, libraries, tmp):
    """{label: median ms} over alternating rounds, one thread by CPU time."""
    model = onnx.load(str(args.model), load_external_data=False)
    case = types.SimpleNamespace(size=args.seq, info=types.SimpleNamespace(text_ids=None, kind="text"))
    input_args = sbs.save_inputs(sbs.make_inputs(model, case, 0), tmp / "inputs")
    labels = list(libraries)
    times = {label: [] for label in labels}
    for r in range(args.rounds):
        shift = r % len(labels)
        for label in labels[shift:] + labels[:shift]:
            times[label].append(kiln_times(args.kiln_bench, libraries[label], input_args, 1, 2, args.runs))
        print(f"round {r + 1}: " + ", ".join(f"{k} {v[-1]:.2f}" for k, v in times.items()), flush=True)
    return {label: float(np.median(t)) for label, t in times.items()}


def draw(rows, path, load):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (acc, lat, trade, cells) = plt.subplots(1, 4, figsize=(22, 5.5),
                                                 gridspec_kw={"width_ratios": [1, 1, 1, 1.25]})
    dense = next(r for r in rows if r["pattern"] == "dense")
    int8 = next(r for r in rows if r["pattern"] == "int8")
    for pattern, colour in (("unstructured", "tab:blue"), ("block1x4", "tab:orange")):
        part = [r for r in rows if r["pattern"] == pattern]
        xs = [r["sparsity"] for r in part]
        acc.plot(xs, [r["mean"] for r in part], "o-", color=colour, label=f"{pattern}: mean")
        acc.plot(xs, [r["min"] for r in part], "o--", color=colour, alpha=0.6, label=f"{pattern}: min")
        lat.plot(xs, [r["ms"] for r in part], "o-", color=colour, label=pattern)
        trade.plot([r["ms"] for r in part], [r["mean"] for r in part], "o-", color=colour, label=pattern)
        for r in part:
            trade.annotate(f"{r['sparsity']:.2f}", (r["ms"], r["mean"]), fontsize=7)
    for ref, style in ((dense, "k"), (int8, "tab:green")):
        acc.axhline(ref["mean"], color=style, ls=":", label=f"{ref['label']}: mean")
        lat.axhline(ref["ms"], color=style, ls=":", label=ref["label"])
        trade.plot([ref["ms"]], [ref["mean"]], "*", color=style, ms=12, label=ref["label"])
    acc.set(xlabel="weight sparsity (measured)", ylabel="cosine to ORT fp32 (sentence_embedding)",
            title="accuracy, no fine-tuning")
    lat.set(xlabel="weight sparsity (measured)", ylabel="ms per run (1 thread, CPU time)",
            title="latency, batch 1, sequence 128", ylim=(0, 1.1 * max(r["ms"] for r in rows)))
    trade.set(xlabel="ms per run", ylabel="mean cosine", title="accuracy vs latency")
    for ax in (acc, lat, trade):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    cells.axis("off")
    grid = cells.table(cellText=[[r["label"].replace("--prune ", ""), f"{r['sparsity']:.2f}", f"{r['mean']:.4f}",
                                  f"{r['min']:.4f}", f"{r['ms']:.2f}"] for r in rows],
                       colLabels=["build", "sparsity", "mean cos", "min cos", "ms"], loc="center")
    grid.auto_set_font_size(False)
    grid.set_fontsize(8)
    grid.scale(1, 1.3)
    fig.suptitle(f"all-MiniLM-L6-v2 under Kiln: magnitude pruning (per layer) vs int8 (load {load})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def table(rows):
    dense = next(r for r in rows if r["pattern"] == "dense")
    lines = ["| build | sparsity | mean cosine | min cosine | ms (1 thread) | vs dense fp32 |",
             "|---|--:|--:|--:|--:|--:|"]
    for r in rows:
        lines.append(f"| {r['label']} | {r['sparsity']:.3f} | {r['mean']:.5f} | {r['min']:.5f} | "
                     f"{r['ms']:.2f} | {dense['ms'] / r['ms']:.2f}x |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=pathlib.Path, default=ROOT / "build/models/minilm-l6.onnx")
    parser.add_argument("--kiln", default=str(ROOT / "build/bin/kiln"))
    parser.add_argument("--kiln-run", default=str(ROOT / "build/bin/kiln-run"))
    parser.add_argument("--kiln-bench", default=str(ROOT / "build/bin/kiln-bench"))
    parser.add_argument("--eval-ids", type=pathlib.Path, default=ROOT / "data/sentences/eval.ids")
    parser.add_argument("--eval-data", type=pathlib.Path, help="a directory of input sets instead of --eval-ids")
    parser.add_argument("--sparsities", type=float, nargs="+", default=[0.5, 0.6, 0.7, 0.8, 0.9])
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--plot", type=pathlib.Path, help="write the PNG here")
    parser.add_argument("--markdown", type=pathlib.Path, help="write the table (and method) here")
    parser.add_argument("--json", type=pathlib.Path, help="write the numbers here")
    args = parser.parse_args()
    if not args.model.exists():
        raise SystemExit(f"{args.model} is missing: run tools/models/ensure_minilm.sh")
    sets = minilm_accuracy.load_sets(args)
    reference = minilm_accuracy.ort_outputs(minilm_accuracy.ort_session(args.model), sets)
    rows, libraries = [], {}
    with tempfile.TemporaryDirectory(prefix="kiln-minilm-sparsity") as name:
        tmp = pathlib.Path(name)
        for index, (label, pattern, asked, flags) in enumerate(builds(args.sparsities)):
            library = tmp / f"b{index}.so"
            sparsity = compile_build(args, flags, library)
            got = embeddings(args, library, sets, tmp, library.stem)
            cos = np.concatenate([minilm_accuracy.cosines(g, r["sentence_embedding"])
                                  for g, r in zip(got, reference)])
            rows.append({"label": label, "pattern": pattern, "asked": asked, "sparsity": sparsity,
                         "mean": float(np.mean(cos)), "min": float(np.min(cos))})
            libraries[label] = library
            print(f"{label}: sparsity {sparsity:.4f}, cosine mean {np.mean(cos):.5f} min {np.min(cos):.5f}",
                  flush=True)
        before = os.getloadavg()[0]
        ms = latencies(args, libraries, tmp)
        load = f"{before:.1f} / {os.getloadavg()[0]:.1f}"
    for row in rows:
        row["ms"] = ms[row["label"]]
    text = table(rows)
    print(text)
    if args.plot:
        draw(rows, args.plot, load)
    if args.markdown:
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        args.markdown.write_text(
            f"# all-MiniLM-L6-v2: sparsity vs accuracy vs latency ({stamp})\n\n"
            f"`bench/minilm_sparsity.py` ({len(sets)} eval sets of tools/minilm_accuracy.py, "
            f"{sum(r['sentence_embedding'].shape[0] for r in reference)} sentences; "
            f"latency at batch 1, sequence {args.seq}, 1 thread by CPU time, median of {args.rounds} "
            f"alternating rounds of {args.runs} runs; load average before / after timing {load}). "
            "Magnitude pruning per layer without fine-tuning; `--sparse-weights=auto`.\n\n"
            + (f"![plot]({args.plot.name})\n\n" if args.plot else "") + text + "\n")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
