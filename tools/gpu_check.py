#!/usr/bin/env python3
"""The GPU device check: Kiln's CUDA path on a machine with an NVIDIA GPU.

Kiln compiles on a machine with LLVM/MLIR; the GPU machine may have neither
(only a driver, Python, numpy, onnxruntime, and perhaps torch). So the check
has two halves, and a folder travels between them:

  prepare (here):   for every committed model (both exporter forms), fixed
                    input shapes, inputs from a fixed seed, `kiln compile
                    --target cuda` into <dir>/<model>/model.<variant>.so.xz, the CPU
                    build's outputs on the same inputs as a second reference;
                    kiln-run, kiln-bench and the runtime library into
                    <dir>/bin. With --bert-base FILE also BERT-base at
                    batch 1 and 32, sequence 128, for timing (see
                    prepare_bert_base).
  run (GPU machine): each model run on the GPU by kiln-run, compared with
                    onnxruntime (CPU) there and with the CPU build's outputs
                    (fp32: max |diff| <= 1e-3); the no-driver error path;
                    kiln-bench latencies; with --torch, BERT-base latency in
                    PyTorch eager and torch.compile (fp16; sdpa and eager
                    attention) as the reference the GPU back end is
                    measured against; compute-sanitizer racecheck on a
                    fused-attention BERT-base run; last, where ncu can read
                    the GPU's timers, the per-kernel GPU times of BERT-base
                    at batch 32 (--kernel-times). Prints a table, writes
                    results.json, exits non-zero on a mismatch or a race.

tools/gpu_check.sh wraps `run` for one call on the lent machine.

With `prepare --emulation` the models are compiled with --gpu-emulation
(kernels for this CPU) and `run` runs them here on Kiln's test CUDA driver
(libkiln_fake_cuda.so, copied into <dir>/bin, also a fake cuBLASLt): the
same numerics checks, including the CUDA graph replay, without a GPU and
without timings. That is ctest's gpu-models-emulated.
"""

import argparse
import contextlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
# What the device machine's call takes: the working tree and the carried
# prepared folder together.
TRAVEL_LIMIT_MIB = 64
sys.path.insert(0, str(ROOT / "tools"))

from gpu_profilers import kernel_times, race_check  # noqa: E402
from gpu_reference import (acceptance, bert_base_gemms, dense_fp16_peak_tflops,  # noqa: E402
                           torch_bert_base, with_fused_attention_flops)

# Max |diff| allowed against the fp32 references, per GEMM precision: fp32
# as exact as fp32 sums in another order allow; the tensor-core modes round
# the GEMMs' inputs (TF32 and fp16 keep 10 mantissa bits, bf16 7).
TOLERANCE = {"fp32": 1e-3, "tf32": 1e-2, "fp16": 1e-2, "bf16": 5e-2}


SYMBOLIC = "-symbolic"  # a variant's suffix: compiled with the model's symbolic dims kept


def shape_flags(variant: str, shapes: str) -> list:
    """--input-shape `shapes` for the variant's compile, or nothing for a
    `-symbolic` one (symbolic dims kept: one library for every shape, fed
    the same inputs as the others)."""
    return [] if variant.endswith(SYMBOLIC) else ["--input-shape", shapes]


def variant_flags(variant: str) -> list:
    """Any variant may end in `-symbolic` (shape_flags). `kernels` (the GEMMs as generated kernels, fp32), `kernels-O0` (-O0:
    every linalg loop its own kernel, no fusion and no row kernels; the
    form first verified on an H200, a baseline when another variant
    disagrees) or `cublas-<precision>[-<form>...]` (cuBLASLt GEMMs in that
    precision; with fp16 and bf16 the tensors between kernels are stored in
    that type). Forms: `loop` (batched GEMMs whose two batch dims do not
    fold loop over calls instead of copying their operands contiguous,
    --gpu-contiguous-batches=0); with fp16 or bf16 also `fp32store` (the
    tensors kept fp32, --gpu-storage=fp32), `fused` (attention as one
    tensor-core kernel, --gpu-attention=fused) and `tanhgelu` (erf GELU in
    its tanh form, in the GEMM's epilogue, --gpu-gelu=tanh); with any
    precision `ept1` (elementwise kernels one element a thread,
    --gpu-elements-per-thread=1, instead of up to 8): the kiln compile
    flags."""
    variant = variant.removesuffix(SYMBOLIC)
    if variant == "kernels":
        return []
    if variant == "kernels-O0":
        return ["-O0"]
    gemm, _, rest = variant.partition("-")
    precision, *forms = rest.split("-")
    flags = {"loop": "--gpu-contiguous-batches=0", "fp32store": "--gpu-storage=fp32",
             "fused": "--gpu-attention=fused", "tanhgelu": "--gpu-gelu=tanh",
             "ept1": "--gpu-elements-per-thread=1"}
    if (gemm != "cublas" or precision not in TOLERANCE or len(set(forms)) != len(forms)
            or any(form not in flags for form in forms)
            or (set(forms) - {"loop", "ept1"} and precision not in ("fp16", "bf16"))):
        raise SystemExit(f"unknown variant '{variant}': kernels, kernels-O0, "
                         "cublas-fp32|tf32|fp16|bf16[-loop][-ept1], or cublas-fp16|bf16 with "
                         "any of -loop, -fp32store, -fused, -tanhgelu, -ept1; each may end "
                         "in -symbolic")
    return ["--gpu-gemm=cublas", "--precision", precision, *(flags[form] for form in forms)]


def variant_tolerance(variant: str) -> float:
    if variant.startswith("kernels"):
        return TOLERANCE["fp32"]
    return TOLERANCE[variant.split("-")[1]]


RUNS_PER_CHECK = 4  # the last one a CUDA graph replay

SKIPPED = 77  # ctest's SKIP_RETURN_CODE for `run` on a machine without a GPU

FAKE_DRIVER = "libkiln_fake_cuda.so"  # runs --gpu-emulation models (prepare --emulation)
BUILT_FAKE_DRIVER = ROOT / "build" / "runtime" / "tests" / "bin" / FAKE_DRIVER


def emulation_env(fake_driver, race_check: bool = True) -> dict:
    """What a run of a --gpu-emulation model adds to the environment: the
    test CUDA driver as the driver and as cuBLASLt, and its race check."""
    env = {"KILN_CUDA_DRIVER": str(fake_driver), "KILN_CUBLASLT": str(fake_driver)}
    if race_check:
        env["FAKE_CUDA_RACECHECK"] = "1"
    return env


def has_cuda_driver() -> bool:
    import ctypes
    try:
        ctypes.CDLL("libcuda.so.1")
        return True
    except OSError:
        return False


# --- prepare -------------------------------------------------------------


def run(cmd, **kwargs):
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({result.returncode}):\n"
                           f"{result.stdout}{result.stderr}")
    return result


def kiln_run_args(kiln_run, library, inputs: dict, input_dir, output_dir):
    args = [kiln_run, library, "--output-dir", output_dir]
    for name in inputs:
        args += ["--input", f"{name}={input_dir / (name + '.npy')}"]
    return args


def prepare_model(model_path: pathlib.Path, out: pathlib.Path, args) -> dict:
    import onnx
    model = onnx.load(str(model_path))
    from check_numerics import make_inputs
    feeds = make_inputs(model, args.batch, args.seq, seed=args.seq)
    folder = out / model_path.stem
    (folder / "inputs").mkdir(parents=True, exist_ok=True)
    for name, value in feeds.items():
        np.save(folder / "inputs" / f"{name}.npy", value)
    shapes = ",".join(f"{n}={'x'.join(map(str, v.shape))}" for n, v in feeds.items())
    compile_seconds = {}
    variants = args.variants + (args.spot_variants if model_path.stem in args.spot_models else [])
    for variant in variants:
        started = time.perf_counter()
        library = folder / f"model.{variant}.so"
        run([args.kiln, "compile", model_path, "-o", library,
             "--target", args.target, *variant_flags(variant), *shape_flags(variant, shapes),
             *(["--gpu-emulation"] if args.emulation else [])])
        compile_seconds[variant] = round(time.perf_counter() - started, 2)
        run(["xz", "-T2", "-6", "-f", library])  # -> .so.xz: 64 MiB travel to the GPU
    # The CPU build's outputs on the same inputs: a second reference.
    run([args.kiln, "compile", model_path, "-o", folder / "cpu.so", "--input-shape", shapes])
    run(kiln_run_args(args.kiln_run, folder / "cpu.so", feeds, folder / "inputs",
                      folder / "cpu-outputs"))
    (folder / "cpu.so").unlink()
    return {"model": model_path.name, "inputs": {n: list(v.shape) for n, v in feeds.items()},
            "variants": variants, "compile_seconds": compile_seconds}


def constant_weights(src: pathlib.Path, dst: pathlib.Path) -> None:
    """BERT-base with every float initializer set to small constants: the
    same graph and shapes, but a library that compresses to almost nothing,
    so it fits the few MiB that travel to the GPU machine. Only for timing
    (GPU kernels here do the same work whatever the values)."""
    import onnx
    from onnx import numpy_helper
    model = onnx.load(str(src))
    for i, init in enumerate(model.graph.initializer):
        if init.data_type != onnx.TensorProto.FLOAT:
            continue
        shape = tuple(init.dims)
        value = np.full(shape, 0.02 if len(shape) > 1 else 0.5, dtype=np.float32)
        model.graph.initializer[i].CopyFrom(numpy_helper.from_array(value, init.name))
    onnx.save(model, str(dst))


def prepare_bert_base(source: pathlib.Path, out: pathlib.Path, args) -> list:
    folder = out / "bert-base"
    folder.mkdir(parents=True, exist_ok=True)
    constant = folder / "bert-base.constant.onnx"
    constant_weights(source, constant)
    entries = []
    for variant in args.bert_base_variants or args.variants:
        for batch in (1, 32):
            shape = f"{batch}x128"
            shapes = ",".join(f"{n}={shape}" for n in ("input_ids", "attention_mask",
                                                         "token_type_ids"))
            library = folder / f"b{batch}.{variant}.so"
            run([args.kiln, "compile", constant, "-o", library, "--target", args.target,
                 *variant_flags(variant), *shape_flags(variant, shapes)])
            run(["xz", "-T2", "-6", "-f", library])  # -> .so.xz
            entries.append({"batch": batch, "variant": variant,
                            "library": library.name + ".xz"})
    constant.unlink()
    return entries


def prepare(args) -> int:
    out = pathlib.Path(args.dir)
    if out.exists():
        shutil.rmtree(out)
    (out / "bin").mkdir(parents=True)
    build = pathlib.Path(args.kiln).resolve().parent.parent
    for tool in (args.kiln_run, args.kiln_bench):
        shutil.copy2(tool, out / "bin")
    # One copy of the runtime library, its other names links to it.
    real = (build / "lib" / "libkiln_runtime.so").resolve()
    shutil.copy2(real, out / "bin" / real.name)
    for lib in (build / "lib").glob("libkiln_runtime.so*"):
        if lib.name != real.name:
            (out / "bin" / lib.name).symlink_to(real.name)
    if args.emulation:
        shutil.copy2(build / "runtime" / "tests" / "bin" / FAKE_DRIVER, out / "bin")
    models = sorted((ROOT / "test" / "models").glob("*.onnx"))
    manifest = {"target": args.target, "batch": args.batch, "seq": args.seq,
                "emulation": args.emulation,
                "variants": args.variants + [v for v in args.spot_variants
                                             if v not in args.variants],
                "models": []}
    ok = True
    for model_path in models:
        try:
            manifest["models"].append(prepare_model(model_path, out, args))
            print(f"prepared {model_path.name}")
        except RuntimeError as error:
            print(f"FAILED {model_path.name}: {error}")
            ok = False
    if args.bert_base:
        manifest["bert_base"] = prepare_bert_base(pathlib.Path(args.bert_base), out, args)
        print("prepared bert-base (constant weights, batch 1 and 32)")
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"{out}: {size / 2**20:.1f} MiB")
    if args.travel_limit_mib is not None or not args.emulation:
        ok = travel_fits(out, size, args.travel_limit_mib or TRAVEL_LIMIT_MIB) and ok
    return 0 if ok else 1


def working_tree_bytes(exclude: pathlib.Path):
    """The bytes of the files git sends with the working tree (tracked, and
    untracked ones not ignored), those under `exclude` left out; None where
    git cannot list them."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                                 "--exclude-standard"], cwd=ROOT, capture_output=True,
                                check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    total = 0
    for name in filter(None, listed.split(b"\0")):
        path = (ROOT / name.decode()).resolve()
        if path.is_file() and not path.is_relative_to(exclude):
            total += path.stat().st_size
    return total


def travel_fits(out: pathlib.Path, size: int, limit_mib: float) -> bool:
    """Whether the prepared folder (carried) and the working tree together
    fit what the device machine's call takes: a run that does not fit
    fails there, after its start has used device time."""
    tree = working_tree_bytes(out.resolve())
    if tree is None:
        print(f"travel: git cannot list the working tree; {out} alone is "
              f"{size / 2**20:.1f} MiB of the {limit_mib:g} MiB")
        return size <= limit_mib * 2**20
    total = size + tree
    print(f"travel: {out} {size / 2**20:.1f} MiB + the working tree {tree / 2**20:.1f} MiB = "
          f"{total / 2**20:.1f} MiB of the {limit_mib:g} MiB")
    if total > limit_mib * 2**20:
        print(f"FAILED travel: over the {limit_mib:g} MiB that go to the GPU machine; drop spot "
              f"or BERT-base variants (--spot-variants, --bert-base-variants)")
        return False
    return True


# --- run (on the GPU machine) --------------------------------------------


def compare(got: np.ndarray, want: np.ndarray) -> float:
    if got.shape != want.shape:
        return float("inf")
    if got.size == 0:
        return 0.0
    return float(np.max(np.abs(got.astype(np.float64) - want.astype(np.float64))))


def unpacked(folder: pathlib.Path, variant: str) -> pathlib.Path:
    """model.<variant>.so in `folder`, unpacked from its .xz on first use."""
    library = folder / f"model.{variant}.so"
    if not library.exists():
        subprocess.run(["xz", "-d", "-k", "-f", str(library) + ".xz"], check=True)
    return library


def check_model(entry: dict, folder: pathlib.Path, bindir: pathlib.Path,
                variant: str, env=None) -> list:
    import onnxruntime as ort
    model_path = ROOT / "test" / "models" / entry["model"]
    inputs = {n: np.load(folder / "inputs" / f"{n}.npy") for n in entry["inputs"]}
    session = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    ort_outputs = dict(zip([o.name for o in session.get_outputs()], session.run(None, inputs)))
    gpu_dir = folder / f"gpu-outputs.{variant}"
    if gpu_dir.exists():
        shutil.rmtree(gpu_dir)
    # Four runs on one session, the outputs of the last: the first two go
    # call by call (the device arena settles), the third is captured as a
    # CUDA graph and the fourth replays it (docs/gpu.md).
    result = subprocess.run([str(a) for a in kiln_run_args(bindir / "kiln-run",
                                                         unpacked(folder, variant),
                                                         inputs, folder / "inputs", gpu_dir)]
                            + ["--runs", str(RUNS_PER_CHECK)],
                            capture_output=True, text=True, env=env)
    if result.returncode != 0:
        return [{"model": entry["model"], "variant": variant, "output": "-", "ok": False,
                 "error": (result.stdout + result.stderr).strip()[-2000:]}]
    rows = []
    for name, want in ort_outputs.items():
        got_path = gpu_dir / f"{name}.npy"
        got = np.load(got_path) if got_path.exists() else None
        cpu = np.load(folder / "cpu-outputs" / f"{name}.npy")
        vs_ort = compare(got, want) if got is not None else float("inf")
        vs_cpu = compare(got, cpu) if got is not None else float("inf")
        tolerance = variant_tolerance(variant)
        ok = bool(got is not None and np.isfinite(got).all() and vs_ort <= tolerance and
                  vs_cpu <= tolerance)
        rows.append({"model": entry["model"], "variant": variant, "output": name,
                     "shape": list(want.shape), "tolerance": tolerance,
                     "max_abs_vs_ort": vs_ort, "max_abs_vs_cpu_kiln": vs_cpu, "ok": ok})
    return rows


def bench(bindir: pathlib.Path, library: pathlib.Path, runs: int, extra=()) -> dict:
    # KILN_GPU_VERBOSE: the runtime says whether the runs became a CUDA graph.
    result = subprocess.run([str(bindir / "kiln-bench"), str(library), "--runs", str(runs),
                             "--warmup", "5", "--json", *extra],
                            capture_output=True, text=True,
                            env=dict(os.environ, KILN_GPU_VERBOSE="1"))
    if result.returncode != 0:
        return {"error": (result.stdout + result.stderr).strip()[-1000:]}
    stats = json.loads(result.stdout)
    stats["runtime_notes"] = result.stderr.strip().splitlines()[-3:]
    return stats


def torch_device_io(bindir: pathlib.Path, entry: dict, folder: pathlib.Path, variant: str) -> list:
    """PyTorch CUDA tensors as a model's device inputs and outputs (kiln.h
    through ctypes: tools/kiln_device_io.py), made while the GPU is still
    busy: behind a ~20 ms spin (torch.cuda._sleep), page-locked copies in
    and NaN-filled outputs, queued on the default stream for a session on
    its own stream (which must wait for that work), on a side stream given
    as the session's cuda_stream, or on a side stream the session on its
    own stream is told to wait for (kiln_session_wait_stream). The run is
    called at once, without synchronizing: a run that did not wait would
    read its inputs unwritten or have its outputs overwritten with NaN.
    Each output is compared with the CPU build's; four runs per form (the
    last two a CUDA graph)."""
    import torch
    from kiln_device_io import Runtime
    runtime = Runtime(bindir / "libkiln_runtime.so")
    library = unpacked(folder, variant)
    feeds = {n: np.load(folder / "inputs" / f"{n}.npy") for n in entry["inputs"]}
    want = {p.stem: np.load(p) for p in sorted((folder / "cpu-outputs").glob("*.npy"))}
    side = torch.cuda.Stream()
    rows = []
    # (form, the stream the inputs are made on, the session's cuda_stream,
    # a stream the session is told to wait for)
    forms = (("default stream", torch.cuda.default_stream(), None, None),
             ("caller's stream", side, side, None),
             ("side stream waited for", side, None, side))
    for form, producer, stream, waited in forms:
        session = runtime.session(library, device_io=True,
                                  cuda_stream=stream.cuda_stream if stream else None)
        try:
            for run in range(RUNS_PER_CHECK):
                with torch.cuda.stream(producer):
                    torch.cuda._sleep(40_000_000)  # ~20 ms at 2 GHz
                    inputs = {n: torch.from_numpy(v).pin_memory().to("cuda", non_blocking=True)
                              for n, v in feeds.items()}
                    outputs = {n: torch.from_numpy(np.full_like(v, np.nan)).pin_memory().to(
                        "cuda", non_blocking=True) for n, v in want.items()}
                if waited:
                    session.wait_stream(waited.cuda_stream)
                session.run({n: (tuple(t.shape), feeds[n].dtype, t.data_ptr())
                             for n, t in inputs.items()},
                            {n: (t.data_ptr(), t.numel() * t.element_size())
                             for n, t in outputs.items()})
                torch.cuda.synchronize()
                for name, tensor in outputs.items():
                    error = compare(tensor.cpu().numpy(), want[name])
                    rows.append({"model": entry["model"], "variant": variant, "form": form,
                                 "run": run, "output": name, "max_abs_vs_cpu_kiln": error,
                                 "ok": bool(error <= variant_tolerance(variant))})
        finally:
            session.close()
    return rows


def no_driver_error(bindir: pathlib.Path, library: pathlib.Path, entry: dict,
                    folder: pathlib.Path) -> dict:
    """With no driver (KILN_CUDA_DRIVER names a missing library) a GPU
    model must give a clear error, not crash."""
    env = dict(os.environ, KILN_CUDA_DRIVER="libcuda-missing.so.1")
    args = kiln_run_args(bindir / "kiln-run", library, entry["inputs"], folder / "inputs",
                         folder / "no-driver")
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, env=env)
    message = (result.stdout + result.stderr).strip()
    return {"exit": result.returncode, "message": message[-400:],
            "ok": result.returncode != 0 and "no CUDA driver" in message}


class Check:
    """One run of the check over a prepared folder: its stages in order of
    importance, each adding to `results`, saved after each (a run cut short
    keeps what it measured)."""

    def __init__(self, args):
        self.args = args
        self.folder = pathlib.Path(args.dir)
        self.bindir = self.folder / "bin"
        self.manifest = json.loads((self.folder / "manifest.json").read_text())
        self.results = {"manifest": self.manifest, "numerics": [], "bench": [], "torch": []}
        self.first = self.manifest["models"][0]
        self.first_folder = self.folder / pathlib.Path(self.first["model"]).stem
        self.out = pathlib.Path(args.out)
        self.started = time.monotonic()

    def has_time(self, stage: str, seconds: float) -> bool:
        """Whether `seconds` more fit before --deadline: the lent machine
        kills a command at its limit, and a stage cut in the middle loses
        the check's summary; one skipped is recorded as such."""
        left = self.args.deadline - (time.monotonic() - self.started)
        if left >= seconds:
            return True
        self.results.setdefault("skipped_for_time", []).append(stage)
        print(f"SKIPPED {stage}: {left:.0f} s left before --deadline {self.args.deadline:.0f} s, "
              f"it may take {seconds:.0f}")
        return False

    def save(self):
        (self.out / "results.json").write_text(json.dumps(self.results, indent=1))

    @contextlib.contextmanager
    def bert_base_library(self, entry: dict):
        """A prepared BERT-base library, unpacked for the stage (and then
        deleted: each is a few hundred MB unpacked)."""
        packed = self.folder / "bert-base" / entry["library"]
        library = packed.with_suffix("")
        if not library.exists():
            subprocess.run(["xz", "-d", "-k", "-f", str(packed)], check=True)
        try:
            yield library
        finally:
            library.unlink()

    def run(self) -> int:
        results = self.results
        try:
            smi = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total",
                                  "--format=csv,noheader"], capture_output=True, text=True)
            results["gpu"] = smi.stdout.strip()
        except FileNotFoundError:
            results["gpu"] = "no nvidia-smi"
        print(f"GPU: {results['gpu']}")

        # Wherever it runs: a GPU model with no driver is a clear error.
        first_library = unpacked(self.first_folder, self.manifest["variants"][0])
        results["no_driver"] = no_driver_error(self.bindir, first_library, self.first,
                                               self.first_folder)
        print(f"{'ok' if results['no_driver']['ok'] else 'FAILED':6} no driver: exit "
              f"{results['no_driver']['exit']}: {results['no_driver']['message'][-200:]}")
        emulation = self.manifest.get("emulation", False)
        if not emulation and not has_cuda_driver():  # (no results to save: nothing ran)
            print("SKIPPED the GPU runs: this machine has no CUDA driver (libcuda.so.1). The "
                  "models compiled for the GPU and the no-driver error was checked; run "
                  "tools/gpu_check.sh on a machine with an NVIDIA GPU (docs/gpu.md).")
            return SKIPPED if results["no_driver"]["ok"] else 1
        self.out.mkdir(parents=True, exist_ok=True)
        self.numerics(emulation)
        if emulation:  # no GPU: nothing to sanitize or time
            return finish(results)
        if shutil.which("compute-sanitizer") and not self.args.no_sanitizer:
            self.memcheck(first_library)
        self.latencies()
        self.bert_base()
        if self.args.torch:
            self.torch()
        if not self.args.no_sanitizer:
            self.racecheck()
        if self.args.kernel_times:
            self.kernel_times()
        self.save()
        return finish(results)

    def numerics(self, emulation: bool):
        manifest = self.manifest
        # Emulated kernels run on the test driver, on this CPU; it is the fake
        # cuBLASLt too (inputs rounded as the tensor cores round them), and
        # checks the kernels for races between threads.
        env = dict(os.environ, **emulation_env((self.bindir / FAKE_DRIVER).resolve())) \
            if emulation else None
        for variant in manifest["variants"]:
            print(f"== numerics: {manifest['target']}"
                  f"{' EMULATED on this CPU (--gpu-emulation)' if emulation else ''}, GEMMs "
                  f"{variant}, batch {manifest['batch']}, sequence {manifest['seq']}, tolerance "
                  f"{variant_tolerance(variant)} vs ORT (CPU) and vs CPU Kiln")
            for entry in manifest["models"]:
                if variant not in entry.get("variants", manifest["variants"]):
                    continue
                rows = check_model(entry, self.folder / pathlib.Path(entry["model"]).stem,
                                   self.bindir, variant, env)
                self.results["numerics"].extend(rows)
                for row in rows:
                    if "error" in row:
                        print(f"FAILED {row['model']} {variant}: {row['error']}")
                    else:
                        print(f"{'ok' if row['ok'] else 'FAILED':6} {row['model']:34} "
                              f"{row['output']:18} vs ORT {row['max_abs_vs_ort']:.2e}  "
                              f"vs CPU Kiln {row['max_abs_vs_cpu_kiln']:.2e}", flush=True)
        self.save()

    def memcheck(self, library: pathlib.Path):
        args = kiln_run_args(self.bindir / "kiln-run", library, self.first["inputs"],
                             self.first_folder / "inputs", self.first_folder / "sanitized")
        started = time.perf_counter()
        result = subprocess.run(["compute-sanitizer", "--tool", "memcheck",
                                 "--error-exitcode", "9", *map(str, args)],
                                capture_output=True, text=True)
        tail = (result.stdout + result.stderr).strip().splitlines()[-3:]
        self.results["memcheck"] = {"model": self.first["model"], "exit": result.returncode,
                                    "tail": tail,
                                    "seconds": round(time.perf_counter() - started, 1)}
        print(f"{'ok' if result.returncode == 0 else 'FAILED':6} compute-sanitizer memcheck "
              f"{self.first['model']}: {' / '.join(tail)}")
        self.save()

    def latencies(self):
        print("== latency (kiln-bench, median ms over 50 runs)")
        for entry in self.manifest["models"]:
            sub = self.folder / pathlib.Path(entry["model"]).stem
            extra = []
            for name in entry["inputs"]:
                extra += ["--input", f"{name}={sub / 'inputs' / (name + '.npy')}"]
            for variant in entry.get("variants", self.manifest["variants"]):
                stats = bench(self.bindir, unpacked(sub, variant), 50, extra)
                stats["model"] = f"{entry['model']} {variant}"
                self.results["bench"].append(stats)
                print(f"  {stats['model']:40} "
                      f"{stats.get('latency_ms', {}).get('median', stats.get('error', '?'))}")
        self.save()

    def bert_base(self):
        for entry in self.manifest.get("bert_base", []):
            with self.bert_base_library(entry) as library:
                # Device I/O (inputs and outputs in GPU memory, as PyTorch's
                # stay) is the figure to hold against PyTorch's; host I/O adds
                # the copies.
                sums = {}
                for io in ("device", "host"):
                    stats = bench(self.bindir, library, 20,
                                  ["--device-io"] if io == "device" else [])
                    if "fused" in entry["variant"].split("-"):
                        stats = with_fused_attention_flops(stats, entry["batch"])
                    stats["model"] = (f"bert-base GEMMs {entry['variant']} (constant weights) "
                                      f"batch {entry['batch']} seq 128, {io} I/O")
                    stats.update(io=io, variant=entry["variant"], batch=entry["batch"])
                    self.results["bench"].append(stats)
                    sums[io] = [(o["name"], o["sum"], o["abs_sum"])
                                for o in stats.get("outputs", [])]
                    print(f"  {stats['model']:65} "
                          f"{stats.get('latency_ms', {}).get('median', stats.get('error', '?'))} "
                          f"ms, GEMMs {(stats.get('gflops_per_s') or float('nan')) / 1000:.1f} "
                          "TFLOP/s", flush=True)
                    self.save()
            # The same inputs either way: the outputs' checksums must agree
            # (to 1e-5: cuBLASLt may pick another algorithm in another session).
            same = bool(sums["device"]) and len(sums["device"]) == len(sums["host"]) and all(
                d[0] == h[0] and all(np.isclose(d[k], h[k], rtol=1e-5, atol=1e-6) for k in (1, 2))
                for d, h in zip(sums["device"], sums["host"]))
            stats["device_io_matches_host_io"] = same
            print(f"  {'ok' if same else 'FAILED':6} device I/O outputs "
                  f"{'=' if same else '!='} host I/O outputs")
            self.save()

    def torch(self):
        results = self.results
        print("== PyTorch BERT-base (the reference), median ms over 30 runs")
        try:
            results["gemms"] = bert_base_gemms()
            self.save()
            # PyTorch's default attention first, the acceptance after each
            # (the faster PyTorch figure so far): a run cut short keeps it.
            for attention in ("sdpa", "eager"):
                if attention != "sdpa" and not self.has_time(f"PyTorch {attention} attention",
                                                             150):
                    continue
                results["torch"] += torch_bert_base(attention)
                results["acceptance"] = acceptance(results["bench"], results["torch"],
                                                   dense_fp16_peak_tflops())
                self.save()
            variant = "cublas-fp16" if "cublas-fp16" in self.manifest["variants"] \
                else self.manifest["variants"][0]
            print(f"== PyTorch tensors as device inputs and outputs ({self.first['model']} "
                  f"{variant}, made while the GPU is busy)")
            results["torch_device_io"] = torch_device_io(self.bindir, self.first,
                                                         self.first_folder, variant)
            for form in dict.fromkeys(r["form"] for r in results["torch_device_io"]):
                rows = [r for r in results["torch_device_io"] if r["form"] == form]
                print(f"{'ok' if rows and all(r['ok'] for r in rows) else 'FAILED':6} {form}: "
                      f"max |diff| vs CPU Kiln "
                      f"{max((r['max_abs_vs_cpu_kiln'] for r in rows), default=float('nan')):.2e} "
                      f"over {len(rows)} outputs")
        except Exception as error:  # report, do not lose the rest
            results["torch_error"] = repr(error)
            print(f"FAILED torch: {error!r}")
        self.save()

    def racecheck(self):
        """The fused attention kernel on the GPU's own race checker, at
        BERT-base batch 1 (four steps of keys: the cp.async stages in turn)."""
        fused = next((e for e in self.manifest.get("bert_base", [])
                      if "fused" in e["variant"].split("-") and e["batch"] == 1), None)
        if not fused or not self.has_time("racecheck", 150):
            return
        with self.bert_base_library(fused) as library:
            race = dict(race_check(self.bindir, library), variant=fused["variant"])
        self.results["racecheck"] = race
        print(f"{'FAILED' if race.get('hazards') else 'ok' if 'error' not in race else '?':6} "
              f"compute-sanitizer racecheck bert-base {fused['variant']} batch 1: "
              f"{race.get('error') or race.get('summary')}")
        self.save()

    def kernel_times(self):
        print("== kernel times (ncu, gpu__time_duration, per run of BERT-base batch 32)")
        self.results["kernel_times"] = []
        for entry in self.manifest.get("bert_base", []):
            if entry["batch"] != 32 or entry["variant"] not in self.args.kernel_times:
                continue
            if not self.has_time(f"kernel times of {entry['variant']}", 100):
                break
            with self.bert_base_library(entry) as library:
                times = kernel_times(self.bindir, library)
            times["variant"] = entry["variant"]
            self.results["kernel_times"].append(times)
            self.save()
            if "error" in times:
                print(f"  {entry['variant']}: {times['error']}")
                break  # the same for the others
            print(f"  {entry['variant']}: {times['us_per_run']:.0f} us of kernels a run")
            for k in times["kernels"][:12]:
                print(f"    {k['us_per_run']:9.1f} us  {k['launches_per_run']:5.1f}x  "
                      f"{k['kernel'][:90]}")


def finish(results: dict) -> int:
    bad = [r for r in results["numerics"] if not r["ok"]]
    io_mismatch = [b["model"] for b in results["bench"]
                   if b.get("device_io_matches_host_io") is False]
    ok = (bool(results["numerics"]) and not bad and not io_mismatch and
          results["no_driver"]["ok"] and
          results.get("memcheck", {}).get("exit", 0) == 0 and
          not results.get("racecheck", {}).get("hazards") and
          all(r["ok"] for r in results.get("torch_device_io", [])))
    print(f"== {'PASSED' if ok else 'FAILED'}: {len(results['numerics']) - len(bad)}/"
          f"{len(results['numerics'])} outputs within tolerance")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare", help="compile the models for the GPU (here)")
    p.add_argument("dir")
    p.add_argument("--kiln", default=str(ROOT / "build" / "bin" / "kiln"))
    p.add_argument("--kiln-run", default=str(ROOT / "build" / "bin" / "kiln-run"))
    p.add_argument("--kiln-bench", default=str(ROOT / "build" / "bin" / "kiln-bench"))
    p.add_argument("--target", default="cuda:sm_90")
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--seq", type=int, default=16)
    p.add_argument("--bert-base", help="BERT-base ONNX file to prepare for timing")
    p.add_argument("--bert-base-variants", default=[], type=lambda text: text.split(","),
                   help="the variants BERT-base is compiled and timed in (default: --variants), "
                        "e.g. cublas-fp16,cublas-fp16-loop to time both forms of attention's "
                        "batched GEMMs, cublas-fp16-fp32store to time fp32 tensors between "
                        "kernels")
    p.add_argument("--travel-limit-mib", type=float,
                   help="fail where the prepared folder and the working tree together exceed "
                        "this (default: 64, what the GPU machine's call takes; checked unless "
                        "--emulation, whose folder does not travel)")
    p.add_argument("--emulation", action="store_true",
                   help="compile with --gpu-emulation: `run` then checks the numerics here, "
                        "on Kiln's test CUDA driver (no GPU, no timings)")
    p.add_argument("--spot-variants", default=[], type=lambda text: text.split(","),
                   help="variants compiled only for --spot-models (the 64 MiB that travel to "
                        "the GPU machine hold two variants of every model, not five)")
    p.add_argument("--spot-models", default="bert-tiny.dynamo,gpt2-tiny.torchscript",
                   type=lambda text: text.split(","),
                   help="the models --spot-variants are compiled for (default: "
                        "bert-tiny.dynamo,gpt2-tiny.torchscript: both exporters' forms)")
    p.add_argument("--variants", default="kernels", type=lambda text: text.split(","),
                   help="how to compile each model's GEMMs, comma-separated: kernels "
                        "(generated, fp32), kernels-O0 (-O0: a kernel per loop, no fusion) "
                        "and/or cublas-fp32, cublas-tf32, cublas-fp16, cublas-bf16, each "
                        "with -loop for batched GEMMs looping over calls (default: kernels)")
    r = sub.add_parser("run", help="run the prepared folder on the GPU machine")
    r.add_argument("dir")
    r.add_argument("--out", default="gpu-check-results")
    r.add_argument("--torch", action="store_true", help="also time BERT-base in PyTorch")
    r.add_argument("--no-sanitizer", action="store_true")
    r.add_argument("--deadline", type=float, default=560,
                   help="seconds from the start after which the optional last stages (PyTorch's "
                        "eager attention, racecheck, each ncu variant) are skipped rather than "
                        "cut off (the lent machine stops a command at 600 s; default 560)")
    r.add_argument("--kernel-times", default="cublas-fp16,cublas-fp16-ept1,cublas-fp16-fused,"
                   "cublas-fp16-fused-tanhgelu", type=lambda text: [v for v in text.split(",") if v],
                   help="BERT-base variants (batch 32) whose per-kernel GPU times ncu measures, "
                        "last, where ncu can read the GPU's timers (empty: none)")
    args = parser.parse_args()
    return prepare(args) if args.command == "prepare" else Check(args).run()


if __name__ == "__main__":
    sys.exit(main())
