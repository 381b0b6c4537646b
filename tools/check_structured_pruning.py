#!/usr/bin/env python3
"""`kiln compile --prune heads=F,ffn=F` against its numpy twin.

On the BERT-tiny and DistilBERT-tiny test models (both exports of each):

  * Kiln finds every attention and FFN block (--stats: one remark per block,
    none left dense) and removes round(F x units) units of each;
  * with --calibration-data (random token sets made here) and without it
    (weight magnitude), tools/prune_onnx.py chooses the same units on its
    own (onnxruntime for the calibration runs), and onnxruntime on the model
    it pruned gives Kiln's structurally pruned outputs within 1e-4 (with
    symbolic shapes, and with --input-shape, where Kiln rewrites constant
    Reshape shapes), which differ from the dense model's;
  * GPT-2-tiny (Linear layers as Gemm) has no block, and --stats says so;
  * --prune-exclude naming a layer keeps its block whole in both tools;
  * bad specs are usage errors (exit 2) in both tools, and a structured
    spec refuses --quantize int8-static.

Exits non-zero on any failure.
"""

import argparse
import pathlib
import sys
import tempfile

import numpy as np
import onnxruntime as ort

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import prune_structured  # noqa: E402
from check_pruning import check, failures, run  # noqa: E402

MODELS = ["bert-tiny.torchscript.onnx", "bert-tiny.dynamo.onnx",
          "distilbert-tiny.torchscript.onnx", "distilbert-tiny.dynamo.onnx"]
SEQ = 16


def inputs_of(model):
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    return [i.name for i in session.get_inputs()], [o.name for o in session.get_outputs()]


def make_sets(folder, names, count, seed):
    """`count` sets of 1 x SEQ random tokens (the last few padding)."""
    rng = np.random.default_rng(seed)
    sets = []
    for s in range(count):
        feeds = {}
        for name in names:
            if name == "input_ids":
                feeds[name] = rng.integers(1, 500, (1, SEQ), dtype=np.int64)
            elif name == "attention_mask":
                mask = np.ones((1, SEQ), np.int64)
                mask[0, SEQ - s % 4:] = 0
                feeds[name] = mask
            else:
                feeds[name] = np.zeros((1, SEQ), np.int64)
        d = folder / f"{s:03d}"
        d.mkdir(parents=True)
        for name, value in feeds.items():
            np.save(d / f"{name}.npy", value)
        sets.append(d)
    return sets


def kiln_outputs(args, lib, inputs, outputs, set_dir, tag):
    out = set_dir.parent / f"out-{tag}"
    run([args.kiln_run, lib, "--threads", "1", "--output-dir", out,
         *[a for n in inputs for a in ("--input", f"{n}={set_dir / (n + '.npy')}")]])
    return {n: np.load(out / f"{n}.npy") for n in outputs}


def ort_outputs(model, inputs, outputs, set_dir):
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    feeds = {n: np.load(set_dir / f"{n}.npy") for n in inputs}
    return dict(zip(outputs, session.run(outputs, feeds)))


def max_diff(a, b):
    return max(float(np.abs(a[n].astype(np.float64) - b[n]).max()) for n in a)


def check_model(args, tmp, model_name):
    model = ROOT / "test" / "models" / model_name
    inputs, outputs = inputs_of(model)
    work = tmp / model_name
    make_sets(work / "calib", inputs, 4, 7)
    evals = make_sets(work / "eval", inputs, 1, 11)[0]
    dense = work / "dense.so"
    run([args.kiln, "compile", model, "-o", dense])
    reference = kiln_outputs(args, dense, inputs, outputs, evals, "dense")
    shape = ",".join(f"{n}=1x{SEQ}" for n in inputs)
    variants = [("magnitude", []), ("calibrated", ["--calibration-data", work / "calib"]),
                ("static", ["--calibration-data", work / "calib", "--input-shape", shape]),
                ("excluded", ["--prune-exclude", None])]
    first_block = None
    for tag, flags in variants:
        if tag == "excluded":
            # The first block's layer named: that block stays whole, the rest is pruned.
            flags = ["--prune-exclude", first_block]
        spec = "heads=0.5,ffn=0.5"
        lib = work / f"{tag}.so"
        stats = run([args.kiln, "compile", model, "-o", lib, "--prune", spec, "--stats",
                     *flags]).stderr
        (work / f"{tag}.txt").write_text(stats)
        what = f"{model_name} {tag}"
        blocks = [line for line in stats.splitlines() if " block, kept " in line]
        whole = [line for line in stats.splitlines() if " block kept whole" in line]
        excluded = tag == "excluded"
        check(len(blocks) + len(whole) >= 4 and (len(blocks) + len(whole)) % 2 == 0,
              f"{what}: {len(blocks) + len(whole)} blocks found, not one attention and one FFN "
              "per layer")
        check(len(whole) == int(excluded), f"{what}: {len(whole)} blocks kept whole:\n{stats}")
        check("left dense" not in stats, f"{what}: a block was left dense:\n{stats}")
        first_block = first_block or prune_structured.parse_remarks(stats)[0]["node"]
        calibration = ["--calibration-data", work / "calib"] if flags and not excluded else []
        calibrated = "(calibration importance)" in stats
        check(calibrated == bool(calibration), f"{what}: the importance is not the one asked for")
        pruned = work / f"{tag}.onnx"
        twin = run([sys.executable, ROOT / "tools" / "prune_onnx.py", model, pruned,
                    "--prune", spec, "--blocks", work / f"{tag}.txt", *calibration,
                    *(["--prune-exclude", first_block] if excluded else [])], expect=None)
        check(twin.returncode == 0, f"{what}: numpy chose other units than Kiln:\n{twin.stdout}")
        got = kiln_outputs(args, lib, inputs, outputs, evals, tag)
        want = ort_outputs(pruned, inputs, outputs, evals)
        diff = max_diff(got, want)
        print(f"{what}: {len(blocks)} blocks, Kiln vs onnxruntime on the numpy-pruned model: "
              f"max abs diff {diff:.3g}")
        check(diff <= 1e-4, f"{what}: Kiln differs from onnxruntime on the numpy-pruned model "
              f"by {diff}")
        check(max_diff(got, reference) > 1e-3, f"{what}: the pruned build gives the dense outputs")


def check_errors(args, tmp):
    model = ROOT / "test" / "models" / MODELS[0]
    for spec, why in [("heads=1", "heads='1', not a fraction in [0, 1)"),
                      ("heads=0.5,heads=0.2", "not one heads=F and one ffn=F"),
                      ("attention=0.5", "has 'attention=0.5'")]:
        result = run([args.kiln, "compile", model, "-o", tmp / "x.so", "--prune", spec], expect=2)
        check(why in result.stderr, f"kiln --prune {spec}: {result.stderr}")
        result = run([sys.executable, ROOT / "tools" / "prune_onnx.py", model, tmp / "x.onnx",
                      "--prune", spec], expect=2)
        check(why in result.stderr, f"prune_onnx.py --prune {spec}: {result.stderr}")
    # GPT-2's Linear layers are Gemm nodes: nothing matched, and said so.
    gpt2 = run([args.kiln, "compile", ROOT / "test" / "models" / "gpt2-tiny.dynamo.onnx", "-o",
                tmp / "g.so", "--prune", "heads=0.5,ffn=0.5", "--stats"]).stderr
    check("0 of 0 blocks pruned" in gpt2 and "8 Gemm layers not considered" in gpt2,
          f"gpt2-tiny: {gpt2}")
    result = run([args.kiln, "compile", model, "-o", tmp / "x.so", "--prune", "ffn=0.5",
                  "--quantize", "int8-static", "--calibration-data", tmp], expect=2)
    check("one compile takes one of them" in result.stderr, f"int8-static: {result.stderr}")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kiln", required=True)
    parser.add_argument("--kiln-run", required=True)
    parser.add_argument("--models", nargs="*", default=MODELS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        check_errors(args, tmp)
        for model in args.models:
            check_model(args, tmp, model)
    if failures:
        print(f"{len(failures)} failure(s)")
        return 1
    print("structured pruning: Kiln and its numpy twin agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
