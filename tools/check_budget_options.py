"""The multi-option --accuracy-budget (--prune with --quantize int8) on
BERT-tiny, checked from outside: part of tools/check_accuracy_report.py
(ctest quantization-accuracy-report).

BERT-tiny with 95% of its 1x4 blocks pruned (per layer, so that
--prune-exclude keeps a layer dense exactly as the search's keep-dense
does) and eval sets of 96-128 tokens, where the sparse GEMM beats the int8
one on most layers: the options are then really in play. Checks:

  * the report's options table: every layer's chosen option is on its
    chain, each chain runs fastest to slowest and most to least error and
    ends with fp32, and with a budget the fastest options already meet
    every layer is at the head of its chain (one search step);
  * -o equals, output for output, the build that --quantize-exclude and
    --prune-exclude give for the reported choice (the choice reaches the
    compile as those lists), and its score, recomputed with NumPy from
    `kiln run` against the fp32 build, honours the budget and equals the
    report's;
  * two (layer, option) figures alone recomputed from single-layer builds;
  * a budget the fastest options miss moves layers, still meets it, and the
    same equalities hold; budget 1 gives the fp32 model itself;
  * the report and stdout compare the chosen build with int8 alone at the
    same budget and say faster, or why not.
"""

import math
import pathlib
import re
import subprocess

import numpy as np

SPEC = "0.95:block1x4"
OPTIONS = ("fp32", "int8", "pruned", "pruned+int8")


def make_sets(directory: pathlib.Path):
    rng = np.random.default_rng(3)
    for i, seq in enumerate((128, 96, 128)):
        d = directory / f"{i:03d}"
        d.mkdir(parents=True)
        np.save(d / "input_ids.npy", rng.integers(0, 100, (1, seq)).astype(np.int64))
        np.save(d / "attention_mask.npy", np.ones((1, seq), np.int64))
        np.save(d / "token_type_ids.npy", np.zeros((1, seq), np.int64))


class Bert:
    def __init__(self, args, tmp, model, sets, check):
        self.args, self.tmp, self.model, self.sets, self.check = args, tmp, model, sets, check
        self.count = 0

    def run(self, cmd):
        result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
        if result.returncode != 0:
            print(result.stdout, result.stderr)
            raise SystemExit(f"{' '.join(map(str, cmd))}: exit {result.returncode}")
        return result

    def compile(self, *flags):
        self.count += 1
        lib = self.tmp / f"bert{self.count}.so"
        self.run([self.args.kiln, "compile", self.model, "-o", lib, *flags])
        return lib

    def outputs(self, lib):
        found = []
        for s in sorted(p for p in self.sets.iterdir() if p.is_dir()):
            out = self.tmp / f"out-{lib.stem}-{s.name}"
            inputs = [a for f in sorted(s.glob("*.npy")) for a in ("--input", f"{f.stem}={f}")]
            self.run([self.args.kiln_run, lib, "--threads", "1", "--output-dir", out, *inputs])
            found.append({f.stem: np.load(f).astype(np.float64) for f in out.glob("*.npy")})
        return found


def score(reference, candidate):
    """min over outputs of the mean per-item cosine."""
    means = []
    for name in reference[0]:
        cos = []
        for r, c in zip(reference, candidate):
            for a, b in zip(r[name].reshape(r[name].shape[0], -1), c[name].reshape(c[name].shape[0], -1)):
                cos.append(float(a @ b / math.sqrt((a @ a) * (b @ b))))
        means.append(float(np.mean(cos)))
    return min(means)


def options_table(text):
    """{node: {"cells": {option: (error, micros) or None}, "chain": [...], "chosen": option}}"""
    section = text.split("## Options per layer", 1)[1]
    rows = [line for line in section.splitlines() if line.startswith("| ")][1:]
    found = {}
    for line in rows:
        if line.startswith("|--"):
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if not cells[0].isdigit():
            break
        values = {}
        for option, cell in zip(OPTIONS, cells[3:7]):
            values[option] = None if cell == "-" else tuple(float(v) for v in cell.split(","))
        found[cells[1].strip("`")] = {"cells": values, "chain": cells[7].split(" → "),
                                      "chosen": cells[8].strip("*")}
    return found


def choice_flags(table):
    """The plain flags that compile the reported choice (no --quantize
    without an int8 layer: --quantize int8 also runs attention's products
    on bf16 inputs)."""
    no_int8 = [n for n, r in table.items() if r["chosen"] in ("fp32", "pruned")]
    dense = [n for n, r in table.items() if r["chosen"] in ("fp32", "int8")]
    flags = ["--prune", SPEC]
    if len(no_int8) < len(table):
        flags += ["--quantize", "int8"]
    if no_int8 and len(no_int8) < len(table):
        flags += ["--quantize-exclude", ",".join(no_int8)]
    if dense:
        flags += ["--prune-exclude", ",".join(dense)]
    return flags


def check_chains(check, table, what):
    for node, row in table.items():
        chain = row["chain"]
        check(row["chosen"] in chain, f"{what} {node}: chose {row['chosen']}, not on its chain {chain}")
        check(chain[-1] == "fp32", f"{what} {node}: chain {chain} does not end with fp32")
        points = [row["cells"][o] for o in chain]
        check(all(p is not None for p in points), f"{what} {node}: chain {chain} has an option it lacks")
        if all(p is not None for p in points):
            times, errors = [p[1] for p in points], [p[0] for p in points]
            check(times == sorted(times), f"{what} {node}: chain {chain} not fastest first: {times}")
            check(all(a >= b for a, b in zip(errors, errors[1:])), f"{what} {node}: errors {errors} rise")


def budget_run(bert, reference, budget, report):
    lib = bert.tmp / f"budget-{budget}.so"
    result = bert.run([bert.args.kiln, "compile", bert.model, "-o", lib, "--quantize", "int8", "--prune",
                       SPEC, "--eval-data", bert.sets, "--accuracy-budget", budget,
                       "--accuracy-report", report])
    print("\n".join("  " + line for line in result.stdout.strip().splitlines()))
    text = report.read_text()
    table = options_table(text)
    check = bert.check
    check(len(table) == 13, f"budget {budget}: {len(table)} layers in the options table, expected 13")
    check_chains(check, table, f"budget {budget}")
    got = bert.outputs(lib)
    measured = score(reference, got)
    final = re.search(r"The written library is the last step's build: score \*\*([0-9.]+)\*\*", text)
    check(final is not None, f"budget {budget}: no final score in the report")
    print(f"  budget {budget}: numpy score {measured:.7f}, report {final[1] if final else None}")
    check(measured >= float(budget), f"budget {budget}: -o scores {measured}")
    if final:
        check(abs(measured - float(final[1])) <= 1.5e-7, f"budget {budget}: report {final[1]} vs {measured}")
    plain = bert.outputs(bert.compile(*choice_flags(table)))
    check(all(np.array_equal(a[n], b[n]) for a, b in zip(got, plain) for n in a),
          f"budget {budget}: -o differs from the build of its reported choice")
    verdict = re.search(r"^\*\*((Not faster|Faster) than int8 alone.*)\*\*$", text, re.M)
    check(verdict is not None, f"budget {budget}: no verdict against int8 alone in the report")
    check(verdict is not None and verdict[1] in result.stdout, f"budget {budget}: verdict not on stdout")
    steps = re.findall(r"^\| (\d+) \| .* \| [0-9.E+-]+ \| ([0-9.]+) \| [0-9.]+ \| \d+ \|$", text, re.M)
    return table, steps, got


def check_alone(bert, reference, table):
    """The worst pruned layer and the worst int8 layer, alone, recomputed."""
    nodes = list(table)
    for option, flags in (("pruned", ["--prune", SPEC]), ("int8", ["--quantize", "int8"])):
        node = max(nodes, key=lambda n: table[n]["cells"][option][0])
        others = ",".join(n for n in nodes if n != node)
        exclude = "--prune-exclude" if option == "pruned" else "--quantize-exclude"
        error = 1 - score(reference, bert.outputs(bert.compile(*flags, exclude, others)))
        reported = table[node]["cells"][option][0]
        print(f"  {node} {option} alone: report {reported:.3e}, numpy {error:.3e}")
        bert.check(abs(error - reported) <= 0.006 * reported + 2e-7,
                   f"{node} {option} alone: report {reported} vs {error}")


def check_budget_options(args, tmp, check):
    model = pathlib.Path(args.bert_tiny)
    if not model.exists():
        check(False, f"{model} is missing")
        return
    sets = tmp / "bert-eval"
    make_sets(sets)
    bert = Bert(args, tmp, model, sets, check)
    reference = bert.outputs(bert.compile())

    # Which option is fastest per layer comes from timings, which a loaded
    # machine (ctest -j, CI) moves: what is checked holds for any timings.
    # A search that stops at its first build leaves every layer at the
    # head of its chain.
    table, steps, _ = budget_run(bert, reference, "0.95", tmp / "loose.md")
    check(len(steps) >= 1, "budget 0.95: no search step in the report")
    if len(steps) == 1:
        check(all(r["chosen"] == r["chain"][0] for r in table.values()),
              "budget 0.95: one step, but not every layer at the head of its chain")
    print(f"  budget 0.95: {len(steps)} step(s), "
          f"{sum(r['chosen'] == 'pruned' for r in table.values())} layer(s) pruned")
    check_alone(bert, reference, table)

    # A budget above the first build's score needs more steps (unless this
    # run's timings made a first build that meets it already).
    fastest = float(steps[0][1]) if steps else 1.0
    tight = f"{(fastest + 1) / 2:.7f}"
    table, steps, _ = budget_run(bert, reference, tight, tmp / "tight.md")
    first = float(steps[0][1]) if steps else 1.0
    check(first >= float(tight) or len(steps) >= 2,
          f"budget {tight}: the first build scores {first}, below it, yet {len(steps)} step(s)")

    _, _, got = budget_run(bert, reference, "1", tmp / "one.md")
    check(all(np.array_equal(a[n], b[n]) for a, b in zip(got, reference) for n in a),
          "budget 1: -o is not the fp32 model")
