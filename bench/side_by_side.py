#!/usr/bin/env python3
"""Kiln and ONNX Runtime side by side, on the same models, inputs and threads.

    .venv/bin/python bench/side_by_side.py            # the full table (~15 min)
    .venv/bin/python bench/side_by_side.py --quick    # BERT-tiny only (~1 min)

For each model x thread count:

 1. `kiln compile` the model once (symbolic dims; the library is cached in
    the work dir and rebuilt when the model or the kiln binary changes);
 2. make inputs (fixed seed), run kiln-run and onnxruntime on them and check
    that every output matches (atol = rtol = 1e-4) before timing anything;
 3. alternate rounds (Kiln first in even rounds, ORT first in odd ones):
    `kiln-bench --json` (W warm-up runs, R timed runs, in a fresh process)
    and an onnxruntime InferenceSession (ORT_ENABLE_ALL, intra_op_num_threads
    = N, inter_op_num_threads = 1, sequential execution; W warm-up runs, then
    R runs timed in-process with time.perf_counter). Each round starts after
    --settle seconds (default 1) of nothing: an idle onnxruntime session's
    worker threads keep spinning after its last run, on the CPUs the next
    round needs (all-MiniLM-L6-v2 int8 on 2 threads: Kiln's round right
    after onnxruntime's took 2.4-4.4 ms instead of 2.2).

Per row: the median latency of each (over all R x rounds runs), the Kiln/ORT
ratio of the medians with its spread (min-max of the per-round ratios), the
GFLOP/s each achieves (FLOPs from the ONNX graph, bench/flops.py) and the
fraction of the machine's measured FMA peak (bench/peak_probe.c, compiled
here with the system cc) for the ISA Kiln's GEMM uses (AVX-512 where the CPU
has it, AVX2 if KILN_GEMM_KERNEL=avx2). Then a latency-vs-sequence-length
plot (BERT-base, seq 8/32/128/384, 1 thread by default).

Results: bench/results/<UTC date-time>.json (everything, including every
run's time and the load average), .md (the table) and -latency-vs-seq.png.
Nothing here asserts a time; the exit status is 1 only if a model failed to
compile, run, or match onnxruntime. docs/performance.md explains the columns.
"""

import argparse
import dataclasses
import functools
import datetime
import json
import os
import pathlib
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort

BENCH = pathlib.Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
import flops as flops_counter  # noqa: E402

ATOL = RTOL = 1e-4
# Kiln int8 against onnxruntime fp32, per output (cosine of the flattened
# tensors); random-weight models quantize worse than trained ones.
INT8_MIN_COSINE = 0.99
# Kiln against onnxruntime on the same pre-quantized file: the same int8
# arithmetic, but fp32 rounding between the layers (softmax, layer norm,
# GELU) flips some activations to the neighbouring int8 step.
PREQ_MIN_COSINE = 0.999
# Kiln bf16 (--quantize bf16) against onnxruntime fp32, the same way.
BF16_MIN_COSINE = 0.999
# A QDQ file has two correct readings in onnxruntime itself: as written
# (ORT_DISABLE_ALL: each DequantizeLinear, float op and QuantizeLinear in
# turn) and with its QDQ fusions (the default: QLinearMatMul and friends on
# int8 kernels). Where a value sits on a rounding boundary the two land on
# neighbouring int8 steps, and the difference grows through the layers
# (random-weight BERT-base: cosine 0.998 between them). Kiln's error against
# the literal reading may be at most this much above the fused reading's.
QDQ_SPREAD_SLACK = 1.25


# Models: a family is one ONNX file; a case is a family at one input size
# ("bert-base-128": sequence length 128; "vit-base-224": a 224x224 image).
@dataclasses.dataclass(frozen=True)
class Family:
    file: str          # relative to the repository ("test/...") or to --models-dir
    kind: str          # "text" (batch x sequence ids) or "image" (batch x 3 x H x W)
    label: str
    # In the default cases only when the file exists (the others fail the
    # row when it is missing); and how to make it.
    optional: str | None = None
    # Token ids of real text (a .ids file, tools/sentence_sets.py) for the
    # inputs instead of random ids; for a trained model.
    text_ids: str | None = None
    # Also time onnxruntime on the model quantized by quantize_dynamic
    # (QInt8 weights, default settings), for reference.
    ort_int8: bool = False


FAMILIES = {
    "bert-tiny": Family("test/models/bert-tiny.dynamo.onnx", "text", "BERT-tiny"),
    "bert-base": Family("bert-full.dynamo.onnx", "text", "BERT-base"),
    "gpt2": Family("gpt2-full.dynamo.onnx", "text", "GPT-2 small"),
    "distilbert": Family("distilbert-full.dynamo.onnx", "text", "DistilBERT"),
    "vit-base": Family("vit-full.dynamo.onnx", "image", "ViT-base"),
    # The trained all-MiniLM-L6-v2 sentence embedder (tools/models/ensure_minilm.sh).
    "minilm": Family("minilm-l6.onnx", "text", "MiniLM-L6 (trained)",
                     optional="tools/models/ensure_minilm.sh", text_ids="data/sentences/eval.ids",
                     ort_int8=True),
}
DEFAULT_CASES = ["bert-tiny-128", "bert-base-32", "bert-base-128", "gpt2-128",
                 "distilbert-128", "vit-base-224", "minilm-128"]


@dataclasses.dataclass(frozen=True)
class Case:
    family: str
    size: int          # sequence length, or image side
    # "int8": Kiln compiled with --quantize int8 and timed against onnxruntime
    # on the model quantized by quantize_dynamic (a "-int8" case suffix).
    # "bf16": Kiln compiled with --quantize bf16, timed against onnxruntime
    # fp32 (its CPU provider has no bf16 GEMMs; a "-bf16" suffix).
    # "preq": both engines run the model quantized by quantize_dynamic, the
    # same file (a "-preq" suffix: Kiln on a pre-quantized model); "qdq":
    # both run the model quantize_static made (QDQ format, calibrated on
    # inputs of the case's shape; a "-qdq" suffix).
    quantize: str | None = None

    @property
    def name(self):
        return f"{self.family}-{self.size}" + (f"-{self.quantize}" if self.quantize else "")

    @property
    def info(self):
        return FAMILIES[self.family]

    def describe(self):
        shape = f"1x3x{self.size}x{self.size}" if self.info.kind == "image" else f"1x{self.size}"
        return shape + (f", {self.quantize}" if self.quantize else "")


def parse_cases(specs):
    """'bert-base' (every default case of the family), 'bert-base-384' (any
    size), either with '-int8' (Kiln --quantize int8 against onnxruntime's
    quantize_dynamic model), '-bf16' (Kiln --quantize bf16 against onnxruntime
    fp32), '-preq' (both on onnxruntime's quantize_dynamic model) or '-qdq'
    (both on onnxruntime's quantize_static QDQ model),
    comma-separated or repeated."""
    cases = []
    for spec in specs:
        for item in filter(None, (s.strip() for s in spec.split(","))):
            quantize = None
            for mode in ("int8", "bf16", "preq", "qdq"):
                if item.endswith(f"-{mode}"):
                    item, quantize = item[:-len(f"-{mode}")], mode
            if item in FAMILIES:
                found = [c for c in DEFAULT_CASES if c.rsplit("-", 1)[0] == item]
            else:
                family, _, size = item.rpartition("-")
                if family not in FAMILIES or not size.isdigit() or int(size) < 1:
                    raise SystemExit(f"side_by_side.py: error: unknown model '{item}' "
                                     f"(families: {', '.join(FAMILIES)}; e.g. bert-base-128)")
                found = [item]
            for name in found:
                family, _, size = name.rpartition("-")
                case = Case(family, int(size), quantize)
                if case not in cases:
                    cases.append(case)
    return cases


def present_cases(cases, models_dir):
    """The cases less those of optional families whose file is in neither
    models_dir nor build/models (saying so)."""
    kept = []
    for case in cases:
        info = case.info
        if info.optional and not any((d / info.file).exists() for d in (models_dir, ROOT / "build/models")):
            print(f"{case.name}: no {info.file}, left out (make it with {info.optional})")
            continue
        kept.append(case)
    return kept


# ---------------------------------------------------------------- machine --

def cpu_info():
    info = {"model": platform.processor() or platform.machine(), "flags": []}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name":
                    info["model"] = value.strip()
                elif key == "flags":
                    info["flags"] = value.split()
                    break
    except OSError:
        pass
    flags = set(info.pop("flags"))
    info["cpus"] = os.cpu_count()
    info["avx2_fma"] = "avx2" in flags and "fma" in flags
    info["avx512f"] = "avx512f" in flags
    info["isa_flags"] = sorted(f for f in flags if f.startswith(("avx", "fma", "amx")))
    return info


def load_average():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def kiln_gemm_isa(cpu):
    """The ISA of the GEMM micro-kernel the runtime picks (runtime/src/
    kernels/Gemm.cpp: the best the CPU has, unless KILN_GEMM_KERNEL asks for
    one below it)."""
    forced = os.environ.get("KILN_GEMM_KERNEL")
    if forced == "portable":
        return "portable"
    if cpu["avx512f"] and forced != "avx2":
        return "avx512"
    if cpu["avx2_fma"]:
        return "avx2"
    return "portable"


def source_commit():
    """The checked-out commit, read from .git (no git command)."""
    try:
        git = ROOT / ".git"
        head = (git / "HEAD").read_text().strip()
        if head.startswith("ref: "):
            ref = head[5:]
            path = git / ref
            if path.exists():
                return path.read_text().strip()
            packed = git / "packed-refs"
            if packed.exists():
                for line in packed.read_text().splitlines():
                    if line.endswith(" " + ref):
                        return line.split()[0]
            return None
        return head
    except OSError:
        return None


# ------------------------------------------------------------- peak probe --

def build_probes(work, cpu, log):
    """Compiles bench/peak_probe.c for AVX2 (and AVX-512 if the CPU has it)."""
    cc = os.environ.get("CC", "cc")
    variants = []
    if cpu["avx2_fma"]:
        variants.append(("avx2", ["-mavx2", "-mfma"]))
    if cpu["avx512f"]:
        variants.append(("avx512", ["-mavx512f", "-DPROBE_AVX512"]))
    probes = {}
    for isa, flags in variants:
        exe = work / f"peak_probe_{isa}"
        cmd = [cc, "-O2", *flags, str(BENCH / "peak_probe.c"), "-o", str(exe), "-lpthread"]
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0:
            log(f"peak probe ({isa}) does not compile: {result.stderr.strip()}")
            continue
        probes[isa] = exe
    return probes


def run_probes(probes, threads, seconds, trials, log):
    peaks = {}
    for isa, exe in probes.items():
        cmd = [str(exe), "--seconds", str(seconds), "--trials", str(trials),
               *[str(t) for t in threads]]
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0:
            log(f"peak probe ({isa}) failed: {result.stderr.strip()}")
            continue
        peaks[isa] = json.loads(result.stdout)
        best = ", ".join(f"{r['threads']} thread{'s' if r['threads'] > 1 else ''}: "
                         f"{r['gflops_best']:.1f}" for r in peaks[isa]["results"])
        log(f"FMA peak ({isa}): {best} GFLOP/s")
    return peaks


def peak_by_threads(peaks, isa):
    """{threads: best GFLOP/s} for `isa` (portable: the AVX2 peak, if any)."""
    source = isa if isa in peaks else ("avx2" if "avx2" in peaks else None)
    if source is None:
        return None, {}
    return source, {r["threads"]: r["gflops_best"] for r in peaks[source]["results"]}


# -------------------------------------------------------------- the tools --

def find_build_dir(arg):
    if arg:
        return pathlib.Path(arg).resolve()
    if os.environ.get("KILN_BUILD_DIR"):
        return (ROOT / os.environ["KILN_BUILD_DIR"]).resolve()
    for name in ("build", "build-c"):
        if (ROOT / name / "bin" / "kiln-bench").exists():
            return ROOT / name
    return ROOT / "build"


def compile_model(kiln, model, work, log, quantize=None):
    """The model's library in `work`, compiled by `kiln` (with --quantize
    `quantize` if given) unless a library compiled by this very kiln binary
    from this very model file is there. Returns (path, seconds spent
    compiling or None if cached)."""
    stem = model.stem + (f".{quantize}" if quantize else "")
    flags = ["--quantize", quantize] if quantize else []
    lib = work / (stem + ".so")
    stamp_path = work / (stem + ".so.stamp")

    def identity(path):
        st = path.stat()
        return {"path": str(path), "size": st.st_size, "mtime_ns": st.st_mtime_ns}

    stamp = {"model": identity(model), "kiln": identity(kiln), "flags": flags}
    if lib.exists() and stamp_path.exists():
        try:
            if json.loads(stamp_path.read_text()) == stamp:
                return lib, None
        except (OSError, json.JSONDecodeError):
            pass
    log(f"  kiln compile {model.name} {' '.join(flags)}...")
    tmp = work / (stem + ".so.tmp")
    t0 = time.perf_counter()
    result = subprocess.run([str(kiln), "compile", str(model), "-o", str(tmp), *flags],
                            capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if result.returncode != 0:
        raise RuntimeError(f"kiln compile failed: {result.stderr.strip()[-2000:]}")
    os.replace(tmp, lib)
    stamp_path.write_text(json.dumps(stamp))
    log(f"  compiled in {seconds:.1f} s")
    return lib, seconds


def make_inputs(model, case, seed):
    """Inputs of batch 1: token ids in [0, 100) (below every vocabulary here),
    or for a family with text_ids the tokens of real sentences run together
    ([CLS] ... [SEP], no padding); masks of ones, token types zero; images
    uniform in [-1, 1)."""
    if case.info.text_ids:
        sys.path.insert(0, str(ROOT / "tools"))
        import sentence_sets
        ids = sentence_sets.read_ids(ROOT / case.info.text_ids)
        return sentence_sets.batch_feeds(sentence_sets.run_together(ids, case.size, 1))
    rng = np.random.default_rng(seed)
    initializers = {init.name for init in model.graph.initializer}
    feeds = {}
    for info in model.graph.input:
        if info.name in initializers:
            continue
        dims = []
        for i, d in enumerate(info.type.tensor_type.shape.dim):
            if d.HasField("dim_value"):
                dims.append(d.dim_value)
            elif i == 0:
                dims.append(1)
            else:
                dims.append(case.size)
        elem = info.type.tensor_type.elem_type
        if elem == onnx.TensorProto.FLOAT:
            feeds[info.name] = rng.uniform(-1, 1, dims).astype(np.float32)
        elif "mask" in info.name:
            feeds[info.name] = np.ones(dims, dtype=np.int64)
        elif "type" in info.name:
            feeds[info.name] = np.zeros(dims, dtype=np.int64)
        else:
            feeds[info.name] = rng.integers(0, 100, dims).astype(np.int64)
    if case.info.kind == "image":
        shape = next(iter(feeds.values())).shape
        if tuple(shape[-2:]) != (case.size, case.size):
            raise RuntimeError(f"the model takes images of {shape[-2]}x{shape[-1]}, "
                               f"not {case.size}x{case.size}")
    return feeds


def save_inputs(feeds, directory):
    directory.mkdir(parents=True, exist_ok=True)
    args = []
    for name, value in feeds.items():
        path = directory / f"{name}.npy"
        np.save(path, value)
        args += ["--input", f"{name}={path}"]
    return args


def ort_session(model_path, threads):
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    t0 = time.perf_counter()
    session = ort.InferenceSession(str(model_path), so, providers=["CPUExecutionProvider"])
    return session, (time.perf_counter() - t0) * 1e3


def is_cached(out, stamp_path, stamp):
    """Whether `out` was made from what `stamp` describes (its stamp file
    says so)."""
    if not (out.exists() and stamp_path.exists()):
        return False
    try:
        return json.loads(stamp_path.read_text()) == stamp
    except (OSError, json.JSONDecodeError):
        return False


def quantize_int8(model_path, work, log):
    """onnxruntime.quantization.quantize_dynamic(QInt8 weights, defaults) of
    the model, cached in `work` like compile_model's libraries."""
    from onnxruntime.quantization import QuantType, quantize_dynamic
    out = work / (model_path.stem + ".ort-int8.onnx")
    stamp_path = work / (model_path.stem + ".ort-int8.stamp")
    st = model_path.stat()
    stamp = {"model": str(model_path), "size": st.st_size, "mtime_ns": st.st_mtime_ns,
             "onnxruntime": ort.__version__}
    if is_cached(out, stamp_path, stamp):
        return out
    log(f"  quantize_dynamic {model_path.name} (QInt8 weights) ...")
    quantize_dynamic(str(model_path), str(out), weight_type=QuantType.QInt8)
    stamp_path.write_text(json.dumps(stamp))
    return out


def quantize_qdq(model_path, case, work, log, seed):
    """onnxruntime.quantization.quantize_static of the model in the QDQ
    format (QInt8 weights per tensor, QUInt8 activations, MinMax), calibrated
    on 8 input sets of the case's shape (seeds seed+1..seed+8), cached in
    `work` like quantize_int8's."""
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                          quantize_static)
    out = work / (f"{model_path.stem}.ort-qdq-{case.size}.onnx")
    stamp_path = work / (f"{model_path.stem}.ort-qdq-{case.size}.stamp")
    st = model_path.stat()
    stamp = {"model": str(model_path), "size": st.st_size, "mtime_ns": st.st_mtime_ns,
             "onnxruntime": ort.__version__, "seed": seed}
    if is_cached(out, stamp_path, stamp):
        return out
    model = onnx.load(str(model_path))
    sets = iter([make_inputs(model, case, seed + i) for i in range(1, 9)])
    del model

    class Sets(CalibrationDataReader):
        def get_next(self):
            return next(sets, None)

    log(f"  quantize_static {model_path.name} (QDQ, QInt8 weights, QUInt8 activations) ...")
    quantize_static(str(model_path), str(out), Sets(), quant_format=QuantFormat.QDQ,
                    weight_type=QuantType.QInt8, activation_type=QuantType.QUInt8)
    stamp_path.write_text(json.dumps(stamp))
    return out


def check_outputs(kiln_run, lib, input_args, threads, session, feeds, tmp):
    """kiln-run's outputs against onnxruntime's. Returns a dict: ok, and per
    output the max abs error and the worst |err| / (atol + rtol |ref|)."""
    out_dir = tmp / "out"
    shutil.rmtree(out_dir, ignore_errors=True)
    cmd = [str(kiln_run), str(lib), "--threads", str(threads), "--output-dir", str(out_dir),
           *input_args]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"kiln-run failed ({exit_status(result.returncode)}): "
                           f"{result.stderr.strip()}")
    names = [o.name for o in session.get_outputs()]
    expected = dict(zip(names, session.run(None, feeds)))
    report = {"ok": True, "outputs": {}}
    for name, ref in expected.items():
        path = out_dir / f"{name}.npy"
        if not path.exists():
            report["ok"] = False
            report["outputs"][name] = {"error": "kiln-run wrote no such output"}
            continue
        got = np.load(path)
        entry = {"shape": list(ref.shape)}
        if got.shape != ref.shape:
            entry["error"] = f"shape {list(got.shape)}, expected {list(ref.shape)}"
            report["ok"] = False
        else:
            diff = np.abs(got.astype(np.float64) - ref.astype(np.float64))
            bound = ATOL + RTOL * np.abs(ref.astype(np.float64))
            entry["max_abs_err"] = float(diff.max()) if diff.size else 0.0
            entry["worst_vs_tolerance"] = float((diff / bound).max()) if diff.size else 0.0
            if not np.allclose(got, ref, atol=ATOL, rtol=RTOL):
                report["ok"] = False
        report["outputs"][name] = entry
    errs = [e.get("max_abs_err", float("inf")) for e in report["outputs"].values()]
    report["max_abs_err"] = max(errs) if errs else 0.0
    return report


def check_int8_outputs(kiln_run, lib, input_args, threads, session, feeds, tmp,
                       min_cosine=INT8_MIN_COSINE):
    """Kiln int8's (or bf16's) outputs against onnxruntime fp32's: a
    quantized model cannot match fp32 to fp32 tolerances, so per output the
    cosine similarity of the flattened outputs (ok at >= min_cosine) and the
    max abs error. The accuracy that matters, on trained weights, is
    tools/minilm_accuracy.py's."""
    report = check_outputs(kiln_run, lib, input_args, threads, session, feeds, tmp)
    out_dir = tmp / "out"
    expected = dict(zip([o.name for o in session.get_outputs()], session.run(None, feeds)))
    report["ok"] = True
    for name, entry in report["outputs"].items():
        path = out_dir / f"{name}.npy"
        if "error" in entry or not path.exists():
            report["ok"] = False
            continue
        got = np.load(path).astype(np.float64).ravel()
        ref = expected[name].astype(np.float64).ravel()
        cosine = float(got @ ref / max(np.linalg.norm(got) * np.linalg.norm(ref), 1e-300))
        entry["cosine"] = cosine
        if not cosine >= min_cosine:
            report["ok"] = False
    report["min_cosine"] = min((e.get("cosine", 0.0) for e in report["outputs"].values()),
                               default=0.0)
    return report


def check_qdq_outputs(kiln_run, lib, input_args, threads, session, feeds, tmp, model_path):
    """Kiln on a QDQ file against onnxruntime on the same file, with the
    tolerance onnxruntime's own rounding sets (QDQ_SPREAD_SLACK): per
    output, Kiln's max abs error and 1 - cosine against the literal reading
    must be within QDQ_SPREAD_SLACK times those of onnxruntime's fused
    reading (`session`) against it. The row's *max abs err* and *cosine*
    stay Kiln's against the fused reading, the one timed."""
    report = check_int8_outputs(kiln_run, lib, input_args, threads, session, feeds, tmp,
                                min_cosine=-1.0)
    literal_options = ort.SessionOptions()
    literal_options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    literal = ort.InferenceSession(str(model_path), literal_options,
                                   providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    fused_out = dict(zip(names, session.run(None, feeds)))
    literal_out = dict(zip(names, literal.run(None, feeds)))

    def distance(a, b):
        a, b = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
        cosine = float(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-300))
        return float(np.abs(a - b).max()) if a.size else 0.0, 1.0 - cosine

    for name, entry in report["outputs"].items():
        path = tmp / "out" / f"{name}.npy"
        if "error" in entry or not path.exists():
            report["ok"] = False
            continue
        kiln_abs, kiln_cos = distance(np.load(path), literal_out[name])
        ort_abs, ort_cos = distance(fused_out[name], literal_out[name])
        entry["vs_literal"] = {"kiln_max_abs": kiln_abs, "kiln_1_minus_cosine": kiln_cos,
                               "ort_fused_max_abs": ort_abs, "ort_fused_1_minus_cosine": ort_cos}
        # An exact fused reading (tiny models) still leaves float rounding room.
        if not (kiln_abs <= QDQ_SPREAD_SLACK * ort_abs + 1e-4
                and kiln_cos <= QDQ_SPREAD_SLACK * ort_cos + 1e-6):
            report["ok"] = False
    return report


def kiln_round(kiln_bench, lib, input_args, threads, warmup, runs, flops):
    cmd = [str(kiln_bench), str(lib), "--json", "--threads", str(threads), "--warmup",
           str(warmup), "--runs", str(runs), *input_args]
    if flops:
        cmd += ["--flops", repr(float(flops))]
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"kiln-bench failed ({exit_status(result.returncode)}): "
                           f"{result.stderr.strip()}")
    return json.loads(result.stdout)


def exit_status(rc):
    if rc < 0:
        try:
            return f"killed by {signal.Signals(-rc).name}"
        except ValueError:
            return f"killed by signal {-rc}"
    return f"exit status {rc}"


def ort_round(session, feeds, warmup, runs):
    for _ in range(warmup):
        session.run(None, feeds)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        session.run(None, feeds)
        times.append((time.perf_counter() - t0) * 1e3)
    return times


def median(values):
    return float(np.median(values)) if len(values) else None


def measure(case, threads, ctx, rounds, log):
    """One row: check, then alternate rounds. Returns the row dict."""
    row = {"case": case.name, "model": case.info.label, "family": case.family,
           "input": case.describe(), "threads": threads, "rounds": rounds,
           "runs_per_round": ctx.args.runs, "warmup": ctx.args.warmup,
           "load_average_before": load_average()}
    log(f"{case.name}, {threads} thread{'s' if threads > 1 else ''} "
        f"(load average {row['load_average_before']})")
    prepared = ctx.prepare(case)
    row.update({k: prepared[k] for k in ("model_file", "flops", "flops_uncounted",
                                         "compile_s")})
    session, row["ort_session_create_ms"] = ort_session(prepared["model_path"], threads)
    feeds, input_args = prepared["feeds"], prepared["input_args"]
    check = check_int8_outputs if case.quantize else check_outputs
    if case.quantize == "bf16":
        check = functools.partial(check_int8_outputs, min_cosine=BF16_MIN_COSINE)
    elif case.quantize == "preq":
        # Against onnxruntime on the same pre-quantized file.
        check = functools.partial(check_int8_outputs, min_cosine=PREQ_MIN_COSINE)
    elif case.quantize == "qdq":
        check = functools.partial(check_qdq_outputs, model_path=prepared["model_path"])
    with tempfile.TemporaryDirectory(dir=ctx.work) as tmp:
        row["check"] = check(ctx.kiln_run, prepared["lib"], input_args, threads,
                             session, feeds, pathlib.Path(tmp))
    if not row["check"]["ok"]:
        log(f"  MISMATCH with onnxruntime: {row['check']['outputs']}; not timed")
        return row
    if case.quantize == "qdq":
        log(f"  outputs vs onnxruntime on the same QDQ model: min cosine "
            f"{row['check']['min_cosine']:.6f}, max abs err {row['check']['max_abs_err']:.2e}")
        for name, entry in row["check"]["outputs"].items():
            spread = entry["vs_literal"]
            log(f"    {name} against the file read literally (onnxruntime, no fusions): Kiln "
                f"max abs {spread['kiln_max_abs']:.3g}, 1-cos {spread['kiln_1_minus_cosine']:.2e}; "
                f"onnxruntime fused {spread['ort_fused_max_abs']:.3g}, "
                f"{spread['ort_fused_1_minus_cosine']:.2e}")
        row["ort_quantization"] = ("the same file for both: quantize_static(QDQ, weight_type=QInt8, "
                                   "activation_type=QUInt8), MinMax on 8 input sets")
    elif case.quantize == "preq":
        log(f"  outputs vs onnxruntime on the same int8 model: min cosine "
            f"{row['check']['min_cosine']:.6f}, max abs err {row['check']['max_abs_err']:.2e}")
        row["ort_quantization"] = ("the same file for both: quantize_dynamic(weight_type=QInt8), "
                                   "defaults, no quant_pre_process")
    elif case.quantize == "bf16":
        log(f"  bf16 outputs vs onnxruntime fp32: min cosine {row['check']['min_cosine']:.6f}")
    elif case.quantize:
        log(f"  int8 outputs vs onnxruntime fp32: min cosine {row['check']['min_cosine']:.5f}")
        # The row's ORT is onnxruntime's own int8 model of the same file.
        session, _ = ort_session(quantize_int8(prepared["model_path"], ctx.work, ctx.log),
                                 threads)
        row["ort_quantization"] = ("quantize_dynamic(weight_type=QInt8), defaults, "
                                   "no quant_pre_process")
    else:
        log(f"  outputs match onnxruntime (max abs err {row['check']['max_abs_err']:.2e})")

    int8_session, int8_rounds = None, []
    if case.info.ort_int8 and not case.quantize:
        int8_session, _ = ort_session(quantize_int8(prepared["model_path"], ctx.work, ctx.log),
                                      threads)
    kiln_rounds, ort_rounds, kiln_meta = [], [], []
    for r in range(rounds):
        order = ("kiln", "ort", "ort_int8") if r % 2 == 0 else ("ort_int8", "ort", "kiln")
        for engine in order:
            time.sleep(ctx.args.settle)
            if engine == "ort_int8":
                if int8_session is not None:
                    int8_rounds.append(ort_round(int8_session, feeds, ctx.args.warmup,
                                                 ctx.args.runs))
                continue
            if engine == "kiln":
                result = kiln_round(ctx.kiln_bench, prepared["lib"], input_args, threads,
                                    ctx.args.warmup, ctx.args.runs, prepared["flops"])
                kiln_rounds.append(result["run_ms"])
                kiln_meta.append({k: result[k] for k in ("load_ms", "session_create_ms",
                                                         "peak_rss_kib", "threads")})
                ctx.producer = result["producer"]
            else:
                ort_rounds.append(ort_round(session, feeds, ctx.args.warmup, ctx.args.runs))
        log(f"  round {r + 1}/{rounds}: Kiln {median(kiln_rounds[-1]):.3f} ms, "
            f"ORT {median(ort_rounds[-1]):.3f} ms"
            + (f", ORT int8 {median(int8_rounds[-1]):.3f} ms" if int8_rounds else ""))
    del session, int8_session
    if int8_rounds:
        int8_all = [t for rr in int8_rounds for t in rr]
        row.update({"ort_int8_run_ms": int8_rounds, "ort_int8_median_ms": median(int8_all),
                    "ort_int8_round_medians_ms": [median(o) for o in int8_rounds],
                    "ort_int8_quantization": "quantize_dynamic(weight_type=QInt8), defaults, "
                                             "no quant_pre_process"})

    kiln_all = [t for rr in kiln_rounds for t in rr]
    ort_all = [t for rr in ort_rounds for t in rr]
    ratios = [median(k) / median(o) for k, o in zip(kiln_rounds, ort_rounds)]
    row.update({
        "kiln_run_ms": kiln_rounds,
        "ort_run_ms": ort_rounds,
        "kiln_median_ms": median(kiln_all),
        "ort_median_ms": median(ort_all),
        "kiln_round_medians_ms": [median(k) for k in kiln_rounds],
        "ort_round_medians_ms": [median(o) for o in ort_rounds],
        "ratio": median(kiln_all) / median(ort_all),
        "round_ratios": ratios,
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
        "kiln_load_ms": median([m["load_ms"] for m in kiln_meta]),
        "kiln_session_create_ms": median([m["session_create_ms"] for m in kiln_meta]),
        "kiln_peak_rss_mib": max(m["peak_rss_kib"] for m in kiln_meta) / 1024.0,
        "kiln_threads_resolved": kiln_meta[0]["threads"],
        "load_average_after": load_average(),
    })
    f = prepared["flops"]
    peak = ctx.peak.get(threads)
    for engine in ("kiln", "ort"):
        gflops = f / (row[f"{engine}_median_ms"] * 1e6) if f else None
        row[f"{engine}_gflops"] = gflops
        row[f"{engine}_peak_fraction"] = gflops / peak if gflops and peak else None
    row["peak_gflops"] = peak
    log(f"  Kiln {row['kiln_median_ms']:.3f} ms, ORT {row['ort_median_ms']:.3f} ms: "
        f"Kiln/ORT {row['ratio']:.2f} ({row['ratio_min']:.2f}-{row['ratio_max']:.2f})"
        + (f"; ORT int8 {row['ort_int8_median_ms']:.3f} ms" if int8_rounds else ""))
    return row


class Context:
    def __init__(self, args, log):
        self.args = args
        self.log = log
        build = find_build_dir(args.build_dir)
        self.kiln = build / "bin" / "kiln"
        self.kiln_run = build / "bin" / "kiln-run"
        self.kiln_bench = build / "bin" / "kiln-bench"
        for tool in (self.kiln, self.kiln_run, self.kiln_bench):
            if not tool.exists():
                raise SystemExit(f"side_by_side.py: error: {tool} does not exist; build Kiln "
                                 f"first (tools/build.sh) or pass --build-dir")
        self.work = pathlib.Path(args.work_dir).resolve() if args.work_dir else \
            build / "bench-work"
        self.work.mkdir(parents=True, exist_ok=True)
        self.models_dir = pathlib.Path(args.models_dir)
        self.prepared = {}
        self.libs = {}
        self.onnx_models = {}
        self.peak = {}
        self.producer = None

    def binaries(self):
        """Size and mtime of the tools and the runtime library: other people
        rebuilding them during a run would show here."""
        paths = [self.kiln, self.kiln_run, self.kiln_bench,
                 *sorted((self.kiln_bench.parent.parent / "lib").glob("libkiln_runtime.so.*.*"))]
        out = {}
        for path in paths:
            try:
                st = path.stat()
                out[path.name] = {"size": st.st_size, "mtime": datetime.datetime.fromtimestamp(
                    st.st_mtime, datetime.timezone.utc).isoformat(timespec="seconds")}
            except OSError:
                out[path.name] = None
        return out

    def model_path(self, family):
        """The model file: test/... in the repository, else in --models-dir
        or, failing that, build/models (where tools/models/ensure_*.sh write)."""
        file = FAMILIES[family].file
        if file.startswith("test/"):
            path = ROOT / file
        else:
            path = next((d / file for d in (self.models_dir, ROOT / "build/models")
                         if (d / file).exists()), self.models_dir / file)
        if not path.exists():
            raise RuntimeError(f"{path} does not exist")
        return path

    def prepare(self, case):
        """Library, inputs and FLOPs of a case (cached)."""
        if case in self.prepared:
            return self.prepared[case]
        path = self.model_path(case.family)
        # A QDQ model is calibrated for its size: one library per size.
        key = (case.family, case.quantize, case.size if case.quantize == "qdq" else None)
        # A "preq" case: Kiln and onnxruntime both run onnxruntime's int8 model.
        run_path = (quantize_int8(path, self.work, self.log) if case.quantize == "preq" else
                    quantize_qdq(path, case, self.work, self.log, self.args.seed)
                    if case.quantize == "qdq" else path)
        if key not in self.libs:
            flags = None if case.quantize in ("preq", "qdq") else case.quantize
            self.libs[key] = compile_model(self.kiln, run_path, self.work, self.log, flags)
        lib, compile_s = self.libs[key]
        model = onnx.load(str(path))
        feeds = make_inputs(model, case, self.args.seed)
        count = flops_counter.count_flops(model, {k: list(v.shape) for k, v in feeds.items()})
        del model
        if count.unknown:
            self.log(f"  FLOPs: {len(count.unknown)} nodes not counted (shape unknown)")
        input_args = save_inputs(feeds, self.work / "inputs" / case.name)
        self.prepared[case] = {
            "model_path": run_path, "model_file": str(run_path), "lib": lib,
            "compile_s": compile_s,
            "feeds": feeds, "input_args": input_args, "flops": count.total,
            "flops_uncounted": count.unknown,
        }
        return self.prepared[case]


# ---------------------------------------------------------------- reports --

def fmt(value, spec, none="n/a"):
    return none if value is None else format(value, spec)


def markdown(report):
    m = report["machine"]
    peak = report["peak_used"]
    lines = [
        f"# Kiln vs ONNX Runtime, {report['created_utc']}",
        "",
        f"* Machine: {m['cpu']['model']}, {m['cpu']['cpus']} CPUs; "
        f"load average (1, 5, 15 min) {report['load_average']['start']} at the start, "
        f"{report['load_average']['end']} at the end.",
        f"* Kiln: `{report['kiln']['producer']}`, GEMM kernel {report['kiln']['gemm_isa']}"
        + (f" (KILN_GEMM_KERNEL={report['kiln']['gemm_kernel_env']})"
           if report['kiln']['gemm_kernel_env'] else "")
        + f"; onnxruntime {report['versions']['onnxruntime']}.",
        f"* Peak: the measured {peak['isa']} FMA peak (bench/peak_probe.c, best of the "
        "probes at the start and the end): "
        + ", ".join(f"{t} thread{'s' if int(t) > 1 else ''} {g:.1f} GFLOP/s"
                    for t, g in sorted(peak["gflops"].items(), key=lambda x: int(x[0])))
        + ".",
        *([f"* **WARNING**: the tools or the runtime library were rebuilt during the run "
           f"(see `binaries` in the JSON): rows may mix builds."]
          if report.get("binaries", {}).get("start") != report.get("binaries", {}).get("end")
          else []),
        f"* {report['config']['rounds']} alternating rounds of {report['config']['runs']} "
        f"timed runs (after {report['config']['warmup']} warm-up "
        f"run{'s' if report['config']['warmup'] != 1 else ''}) per engine and row"
        + (f", each round after {report['config']['settle_s']:g} s idle"
           if report['config'].get('settle_s') else "")
        + "; batch 1; medians over all timed runs.",
        "",
        "| model | input | threads | Kiln ms | ORT ms | Kiln/ORT | per-round | GFLOP "
        "| Kiln GFLOP/s | ORT GFLOP/s | Kiln % peak | ORT % peak | max abs err | load |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]

    def load(row):
        before, after = row.get("load_average_before"), row.get("load_average_after")
        if not before:
            return ""
        return f"{before[0]:.1f}" + (f"→{after[0]:.1f}" if after else "")

    for row in report["rows"]:
        head = f"| {row['model']} | {row['input']} | {row['threads']} |"
        if row.get("error"):
            lines.append(head + f" error: {row['error'][:120]} |" + " |" * 9
                         + f" {load(row)} |")
            continue
        if not row["check"]["ok"]:
            lines.append(head + " MISMATCH with onnxruntime: not timed |" + " |" * 8
                         + f" {row['check']['max_abs_err']:.1e} | {load(row)} |")
            continue
        pct = lambda x: fmt(x and 100 * x, ".1f")  # noqa: E731
        lines.append(
            head + f" {row['kiln_median_ms']:.2f} | {row['ort_median_ms']:.2f} |"
            f" **{row['ratio']:.2f}** | {row['ratio_min']:.2f}–{row['ratio_max']:.2f} |"
            f" {row['flops'] / 1e9:.2f} | {fmt(row['kiln_gflops'], '.1f')} |"
            f" {fmt(row['ort_gflops'], '.1f')} | {pct(row['kiln_peak_fraction'])} |"
            f" {pct(row['ort_peak_fraction'])} | {row['check']['max_abs_err']:.1e} |"
            f" {load(row)} |")
    lines += [
        "",
        "Kiln/ORT > 1: Kiln is slower. *per-round*: the min–max of the per-round ratios. "
        "GFLOP counts MatMul/Gemm/Conv only (bench/flops.py). % peak: of the peak above at "
        "the row's thread count. *load*: the 1-minute load average before→after the row "
        "(2 CPUs: above ~2, something else competes for them).",
    ]
    if any(r.get("ort_quantization") and r["case"].endswith("-qdq") for r in report["rows"]):
        lines += ["", "Rows with *qdq* in the input: Kiln and onnxruntime both run the model "
                  "quantized by `onnxruntime.quantization.quantize_static` in the QDQ format "
                  "(QInt8 weights, QUInt8 activations, MinMax on 8 input sets of the row's "
                  "shape), the same file; *max abs err* is between the two. The tolerance is "
                  "onnxruntime's own: it reads a QDQ file literally (no graph optimizations: "
                  "each DequantizeLinear, float op and QuantizeLinear in turn) or fused (the "
                  "default, timed here), and Kiln's max abs error and 1 - cosine against the "
                  "literal reading must be within "
                  f"{QDQ_SPREAD_SLACK}x the fused reading's (the JSON's *vs_literal*)."]
    if any(r.get("ort_quantization") and r["case"].endswith("-preq") for r in report["rows"]):
        lines += ["", "Rows with *preq* in the input: Kiln and onnxruntime both run the model "
                  "quantized by `onnxruntime.quantization.quantize_dynamic` (QInt8 weights, "
                  "default settings), the same file; *max abs err* is between the two (their "
                  f"cosine must be >= {PREQ_MIN_COSINE})."]
    if any(r["case"].endswith("-bf16") for r in report["rows"]):
        lines += ["", "Rows with *bf16* in the input: Kiln compiled with `--quantize bf16` "
                  "against onnxruntime fp32; *max abs err* is Kiln bf16's against it (their "
                  f"cosine must be >= {BF16_MIN_COSINE})."]
    if any(r.get("ort_quantization") and r["case"].endswith("-int8") for r in report["rows"]):
        lines += ["", "Rows with *int8* in the input: Kiln compiled with `--quantize int8` "
                  "against onnxruntime on the model quantized by "
                  "`onnxruntime.quantization.quantize_dynamic` (QInt8 weights, default settings, "
                  "no `quant_pre_process`); *max abs err* is Kiln int8's against onnxruntime "
                  f"fp32 (their cosine must be >= {INT8_MIN_COSINE}; accuracy on real text: "
                  "tools/minilm_accuracy.py)."]
    int8 = [r for r in report["rows"] if r.get("ort_int8_median_ms") is not None]
    if int8:
        lines += ["", "For reference, onnxruntime on the model quantized by "
                  "`onnxruntime.quantization.quantize_dynamic` (QInt8 weights, default settings, "
                  "no `quant_pre_process`), timed in the same rounds; its accuracy: "
                  "tools/minilm_accuracy.py.", "",
                  "| model | input | threads | Kiln fp32 ms | ORT fp32 ms | ORT int8 ms "
                  "| Kiln fp32 / ORT int8 | ORT fp32 / ORT int8 |", "|---|---|--:|--:|--:|--:|--:|--:|"]
        for row in int8:
            q = row["ort_int8_median_ms"]
            lines.append(f"| {row['model']} | {row['input']} | {row['threads']} |"
                         f" {row['kiln_median_ms']:.2f} | {row['ort_median_ms']:.2f} | {q:.2f} |"
                         f" {row['kiln_median_ms'] / q:.2f} | {row['ort_median_ms'] / q:.2f} |")
    extra = [r for r in report["rows"] if r.get("kiln_load_ms") is not None]
    if extra:
        lines += ["", "| model | input | threads | Kiln load ms | Kiln session ms "
                  "| Kiln peak RSS MiB | ORT session create ms |", "|---|---|--:|--:|--:|--:|--:|"]
        for row in extra:
            lines.append(f"| {row['model']} | {row['input']} | {row['threads']} |"
                         f" {row['kiln_load_ms']:.2f} | {row['kiln_session_create_ms']:.3f} |"
                         f" {row['kiln_peak_rss_mib']:.0f} | {row['ort_session_create_ms']:.0f} |")
    plot = report.get("plot")
    if plot and plot.get("png"):
        lines += ["", f"![latency vs sequence length]({pathlib.Path(plot['png']).name})"]
    if plot and plot.get("points"):
        lines += ["", f"Latency vs sequence length ({plot['label']}, batch 1):", "",
                  "| seq | threads | Kiln ms | ORT ms | Kiln/ORT |", "|--:|--:|--:|--:|--:|"]
        for p in plot["points"]:
            if p.get("kiln_median_ms") is None:
                lines.append(f"| {p['seq']} | {p['threads']} | {p.get('error', 'n/a')} | | |")
            else:
                lines.append(f"| {p['seq']} | {p['threads']} | {p['kiln_median_ms']:.2f} |"
                             f" {p['ort_median_ms']:.2f} | {p['ratio']:.2f} |")
    return "\n".join(lines) + "\n"


def draw_plot(plot, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.5))
    values = []
    for threads in sorted({p["threads"] for p in plot["points"]}):
        pts = [p for p in plot["points"] if p["threads"] == threads and
               p.get("kiln_median_ms") is not None]
        if not pts:
            continue
        seqs = [p["seq"] for p in pts]
        for engine, marker, name in (("kiln", "o", "Kiln"), ("ort", "s", "ONNX Runtime")):
            med = np.array([p[f"{engine}_median_ms"] for p in pts])
            lo = np.array([min(p[f"{engine}_round_medians_ms"]) for p in pts])
            hi = np.array([max(p[f"{engine}_round_medians_ms"]) for p in pts])
            ax.errorbar(seqs, med, yerr=[med - lo, hi - med], marker=marker, capsize=3,
                        label=f"{name}, {threads} thread{'s' if threads > 1 else ''}")
            values += [*lo, *hi]
        for p in pts:  # the ratio, next to Kiln's point
            ax.annotate(f"×{p['ratio']:.2f}", (p["seq"], p["kiln_median_ms"]),
                        textcoords="offset points", xytext=(6, 6), fontsize=8)
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    seqs_all = sorted({p["seq"] for p in plot["points"]})
    ax.set_xticks(seqs_all)
    ax.set_xlim(seqs_all[0] / 1.3, seqs_all[-1] * 1.5)
    ax.get_xaxis().set_major_formatter(matplotlib.ticker.ScalarFormatter())
    if values:  # 1-2-5 ticks in plain numbers
        lo_v, hi_v = min(values), max(values)
        ticks = [m * 10.0 ** e for e in range(int(np.floor(np.log10(lo_v))) - 1,
                                              int(np.ceil(np.log10(hi_v))) + 1)
                 for m in (1, 2, 5) if lo_v / 1.5 <= m * 10.0 ** e <= hi_v * 1.5]
        ax.set_yticks(ticks)
        ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel("sequence length (batch 1)")
    ax.set_ylabel("median latency (ms)")
    ax.set_title(f"{plot['label']}: latency vs sequence length\n"
                 "(error bars: min–max of the per-round medians; ×: Kiln/ORT)", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# ------------------------------------------------------------------- main --

def main():
    parser = argparse.ArgumentParser(
        description="Kiln and ONNX Runtime side by side (see docs/performance.md).")
    parser.add_argument("--models", action="append",
                        help="cases to run: a family (bert-tiny, bert-base, gpt2, distilbert, "
                             "vit-base: its default sizes) or family-size (bert-base-384, "
                             "vit-base-224); comma-separated or repeated. Default: "
                             + ", ".join(DEFAULT_CASES))
    parser.add_argument("--threads", type=int, nargs="+", help="thread counts (default 1 2)")
    parser.add_argument("--rounds", type=int, help="alternating rounds per row (default 5)")
    parser.add_argument("--runs", type=int, help="timed runs per round and engine (default 10)")
    parser.add_argument("--warmup", type=int, help="warm-up runs per round (default 2)")
    parser.add_argument("--settle", type=float,
                        help="seconds of idle before each engine's round, for the other "
                             "engine's spinning threads to stop (default 1; 0 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="BERT-tiny only, 2 rounds of 5 runs, a short plot: a smoke test")
    parser.add_argument("--seed", type=int, default=0, help="input seed (default 0)")
    parser.add_argument("--no-plot", action="store_true", help="skip the latency plot")
    parser.add_argument("--plot-model", default=None,
                        help="family for the plot (default bert-base; bert-tiny with --quick)")
    parser.add_argument("--plot-seqs", type=int, nargs="+", help="default 8 32 128 384")
    parser.add_argument("--plot-threads", type=int, nargs="+", help="default 1")
    parser.add_argument("--plot-rounds", type=int, help="rounds per plot point (default 3; "
                        "points also in the table reuse its rows)")
    parser.add_argument("--build-dir", help="where bin/kiln, kiln-run, kiln-bench are "
                        "(default $KILN_BUILD_DIR, else build/ or build-c/)")
    parser.add_argument("--work-dir", help="compiled models and inputs (default "
                        "<build dir>/bench-work)")
    parser.add_argument("--models-dir", default=os.environ.get("KILN_MODELS_DIR", "/work/models"),
                        help="the full-size models (default $KILN_MODELS_DIR or /work/models)")
    parser.add_argument("--results-dir", default=str(BENCH / "results"))
    parser.add_argument("--probe-seconds", type=float, help="per peak-probe trial (default 0.3)")
    parser.add_argument("--render", metavar="RESULT.json",
                        help="only rewrite the .md next to a results .json (no measuring)")
    args = parser.parse_args()
    if args.render:
        path = pathlib.Path(args.render)
        path.with_suffix(".md").write_text(markdown(json.loads(path.read_text())))
        print(f"wrote {path.with_suffix('.md')}")
        return 0

    quick = args.quick
    cases = parse_cases(args.models or (["bert-tiny-128"] if quick else DEFAULT_CASES))
    if not args.models:  # optional models only where they are
        cases = present_cases(cases, pathlib.Path(args.models_dir))
    args.threads = args.threads or [1, 2]
    args.rounds = args.rounds or (2 if quick else 5)
    args.runs = args.runs or (5 if quick else 10)
    args.warmup = args.warmup if args.warmup is not None else (1 if quick else 2)
    args.settle = args.settle if args.settle is not None else (0.0 if quick else 1.0)
    args.plot_model = args.plot_model or ("bert-tiny" if quick else "bert-base")
    args.plot_seqs = args.plot_seqs or ([8, 32, 128] if quick else [8, 32, 128, 384])
    args.plot_threads = args.plot_threads or [1]
    args.plot_rounds = args.plot_rounds or (2 if quick else 3)
    args.probe_seconds = args.probe_seconds or (0.1 if quick else 0.3)
    if min(args.threads + args.plot_threads) < 1 or args.rounds < 1 or args.runs < 1 \
            or args.warmup < 0 or args.plot_rounds < 1 or args.settle < 0:
        parser.error("--threads, --rounds, --runs must be positive, --warmup and --settle "
                     "not negative")
    if args.plot_model not in FAMILIES or FAMILIES[args.plot_model].kind != "text":
        parser.error(f"--plot-model must be a text model ({', '.join(f for f in FAMILIES if FAMILIES[f].kind == 'text')})")

    def log(message):
        print(message, flush=True)

    started = time.time()
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H-%M-%SZ")
    ctx = Context(args, log)
    cpu = cpu_info()
    load_start = load_average()
    log(f"{cpu['model']}, {cpu['cpus']} CPUs, load average {load_start}")
    log(f"tools: {ctx.kiln_bench.parent}; work dir {ctx.work}")

    binaries_start = ctx.binaries()
    probes = build_probes(ctx.work, cpu, log)
    probe_threads = sorted(set(args.threads) | (set() if args.no_plot else set(args.plot_threads)))
    peaks = run_probes(probes, probe_threads, args.probe_seconds, 5, log)
    isa = kiln_gemm_isa(cpu)
    peak_isa, ctx.peak = peak_by_threads(peaks, isa)
    log(f"Kiln's GEMM uses {isa}: % peak is of the {peak_isa} peak")
    # The probe runs again at the end; the best of both is the peak (a busy
    # machine can only make the probe slower).

    rows = []
    failed = False
    for case in cases:
        for threads in args.threads:
            try:
                row = measure(case, threads, ctx, args.rounds, log)
            except Exception as e:  # keep going: report the row as failed
                log(f"  ERROR: {e}")
                row = {"case": case.name, "model": case.info.label, "input": case.describe(),
                       "threads": threads, "error": str(e)}
            failed |= bool(row.get("error")) or not row.get("check", {}).get("ok", False)
            rows.append(row)

    plot = None
    if not args.no_plot:
        family = args.plot_model
        plot = {"family": family, "label": FAMILIES[family].label, "rounds": args.plot_rounds,
                "points": []}
        for threads in args.plot_threads:
            for seq in args.plot_seqs:
                case = Case(family, seq)
                reuse = next((r for r in rows if r["case"] == case.name and
                              r["threads"] == threads and r.get("kiln_median_ms")), None)
                try:
                    row = reuse or measure(case, threads, ctx, args.plot_rounds, log)
                except Exception as e:
                    log(f"  ERROR: {e}")
                    row = {"error": str(e)}
                failed |= bool(row.get("error")) or (
                    "check" in row and not row["check"]["ok"])
                point = {"seq": seq, "threads": threads, "from_table": reuse is not None}
                for key in ("kiln_median_ms", "ort_median_ms", "ratio", "ratio_min",
                            "ratio_max", "kiln_round_medians_ms", "ort_round_medians_ms",
                            "flops", "kiln_gflops", "ort_gflops", "rounds", "error"):
                    if key in row:
                        point[key] = row[key]
                if reuse is None and "kiln_run_ms" in row:
                    point["kiln_run_ms"], point["ort_run_ms"] = row["kiln_run_ms"], \
                        row["ort_run_ms"]
                    point["check"] = row["check"]
                plot["points"].append(point)

    peaks_end = run_probes(probes, probe_threads, args.probe_seconds, 5, log)
    peaks = {"start": peaks, "end": peaks_end}
    _, peak_end = peak_by_threads(peaks_end, isa)
    peak_start = dict(ctx.peak)
    ctx.peak = {t: max(g, peak_end.get(t, 0)) for t, g in ctx.peak.items()}
    if ctx.peak != peak_start:  # the % peak columns use the final peak
        for row in rows + [p for p in (plot or {}).get("points", [])]:
            for engine in ("kiln", "ort"):
                g, peak = row.get(f"{engine}_gflops"), ctx.peak.get(row.get("threads"))
                if g and peak:
                    row[f"{engine}_peak_fraction"] = g / peak
            if "peak_gflops" in row:
                row["peak_gflops"] = ctx.peak.get(row["threads"])

    results = pathlib.Path(args.results_dir)
    results.mkdir(parents=True, exist_ok=True)
    report = {
        "created_utc": stamp,
        "command": [sys.argv[0], *sys.argv[1:]],
        "elapsed_s": None,
        "source_commit": source_commit(),
        "machine": {"cpu": cpu, "platform": platform.platform()},
        "load_average": {"start": load_start, "end": load_average()},
        "versions": {"python": platform.python_version(), "numpy": np.__version__,
                     "onnx": onnx.__version__, "onnxruntime": ort.__version__},
        "binaries": {"start": binaries_start, "end": ctx.binaries()},
        "kiln": {"producer": ctx.producer, "gemm_isa": isa,
                 "gemm_kernel_env": os.environ.get("KILN_GEMM_KERNEL"),
                 "tools": str(ctx.kiln_bench.parent)},
        "config": {"threads": args.threads, "rounds": args.rounds, "runs": args.runs,
                   "warmup": args.warmup, "settle_s": args.settle, "seed": args.seed,
                   "atol": ATOL, "rtol": RTOL,
                   "cases": [c.name for c in cases],
                   "ort_session": {"graph_optimization_level": "ORT_ENABLE_ALL",
                                   "intra_op_num_threads": "N (the row's threads)",
                                   "inter_op_num_threads": 1,
                                   "execution_mode": "ORT_SEQUENTIAL",
                                   "providers": ["CPUExecutionProvider"]},
                   "plot": None if args.no_plot else {
                       "family": args.plot_model, "seqs": args.plot_seqs,
                       "threads": args.plot_threads, "rounds": args.plot_rounds}},
        "peak_probe": peaks,
        "peak_used": {"isa": peak_isa, "kiln_gemm_isa": isa,
                      "gflops": {str(t): g for t, g in ctx.peak.items()}},
        "rows": rows,
        "plot": plot,
    }
    if plot and any(p.get("kiln_median_ms") for p in plot["points"]):
        png = results / f"{stamp}-latency-vs-seq.png"
        try:
            draw_plot(plot, png)
            plot["png"] = str(png.relative_to(ROOT) if png.is_relative_to(ROOT) else png)
        except ImportError as e:
            log(f"no plot: {e} (pip install -r tools/requirements.txt)")
    report["elapsed_s"] = round(time.time() - started, 1)
    if report["binaries"]["start"] != report["binaries"]["end"]:
        log("WARNING: kiln, kiln-run, kiln-bench or libkiln_runtime changed during the run "
            "(someone rebuilt them): see \"binaries\" in the JSON")
    json_path = results / f"{stamp}.json"
    md_path = results / f"{stamp}.md"
    json_path.write_text(json.dumps(report, indent=1) + "\n")
    md_path.write_text(markdown(report))
    log("")
    log(md_path.read_text())
    log(f"wrote {json_path}, {md_path}" + (f", {plot['png']}" if plot and plot.get("png")
                                            else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
