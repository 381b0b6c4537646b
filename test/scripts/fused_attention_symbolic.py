"""Runs test/compiler/gpu/fused-attention-symbolic.test's libraries, the CPU
build and the emulated GPU build (race check on), at several bindings of
their symbolic dims and compares the outputs (fp16's tolerance)."""
import os
import pathlib
import subprocess
import sys

import numpy as np

TOLERANCE = 1e-2


def run(lib, feeds, folder, env=None):
    """kiln-run `lib` on `feeds`: its outputs, or the error's text."""
    folder.mkdir(parents=True, exist_ok=True)
    cmd = ["kiln-run", str(lib), "--output-dir", str(folder)]
    for name, value in feeds.items():
        np.save(folder / f"{name}.npy", value)
        cmd += ["--input", f"{name}={folder / f'{name}.npy'}"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode:
        return done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"
    return {p.stem: np.load(p) for p in folder.glob("*.npy") if p.stem not in feeds}


def compare(label, cpu, gpu, names):
    if isinstance(cpu, str) or isinstance(gpu, str):
        sys.exit(f"{label}: a run failed: cpu {cpu if isinstance(cpu, str) else 'ok'}, "
                 f"gpu {gpu if isinstance(gpu, str) else 'ok'}")
    for name in names:
        diff = float(np.abs(gpu[name] - cpu[name]).max()) if cpu[name].size else 0.0
        print(f"{label}: {name} max |diff| {diff:.1e}")
        if not diff <= TOLERANCE:
            sys.exit(f"{label}: {name} differs by {diff}")


def attention(out, cpu_lib, gpu_lib, env):
    rng = np.random.default_rng(11)
    for shape in [(2, 2, 2, 5, 40), (2, 1, 2, 70, 33), (3, 3, 1, 1, 1), (2, 2, 2, 65, 64),
                  (1, 1, 1, 3, 0), (2, 1, 1, 0, 7), (2, 3, 2, 4, 8)]:
        b, kb, mb, s, t = shape
        feeds = {"q": rng.standard_normal((b, 2, s, 32)).astype(np.float32),
                 "kt": rng.standard_normal((kb, 2, 32, t)).astype(np.float32),
                 "v": rng.standard_normal((b, 2, t, 32)).astype(np.float32),
                 "m": np.where(rng.random((mb, 1, 1, t)) < 0.2, -1e4, 0).astype(np.float32)}
        tag = "-".join(map(str, shape))
        gpu = run(gpu_lib, feeds, out / f"gpu-{tag}", env)
        cpu = run(cpu_lib, feeds, out / f"cpu-{tag}")
        if kb not in (1, b):
            if not isinstance(gpu, str) or gpu != cpu:
                sys.exit(f"shape {shape}: K's batch does not broadcast, yet gpu {gpu} cpu {cpu}")
            print(f"shape {shape}: error (the CPU build's too): {gpu}")
            continue
        if isinstance(gpu, str) or isinstance(cpu, str):
            sys.exit(f"shape {shape}: a run failed: gpu {gpu} cpu {cpu}")
        y = gpu["y"]
        if y.shape != (b, 2, s, 32):
            sys.exit(f"shape {shape}: output shape {y.shape}")
        if t == 0:
            if np.any(y != 0):
                sys.exit(f"shape {shape}: no keys, yet a nonzero output")
            print(f"shape {shape}: zeros")
        elif s == 0:
            print(f"shape {shape}: empty")
        else:
            diff = float(np.abs(y - cpu["y"]).max())
            print(f"shape {shape}: max |diff| {diff:.1e}")
            if not diff <= TOLERANCE:
                sys.exit(f"shape {shape}: differs by {diff}")
    print("all shapes passed")


def bert(out, cpu_lib, gpu_lib, env):
    rng = np.random.default_rng(5)
    for batch, seq in [(2, 16), (1, 80)]:
        mask = np.ones((batch, seq), np.int64)
        mask[-1, seq // 2:] = 0
        feeds = {"input_ids": rng.integers(0, 100, (batch, seq)), "attention_mask": mask,
                 "token_type_ids": rng.integers(0, 2, (batch, seq))}
        label = f"batch {batch} sequence {seq}"
        compare(label, run(cpu_lib, feeds, out / f"cpu-{batch}-{seq}"),
                run(gpu_lib, feeds, out / f"gpu-{batch}-{seq}", env),
                ["last_hidden_state", "pooler_output"])
    print("all shapes passed")


def main():
    args = sys.argv[1:]
    which = attention
    if args[0] == "--bert":
        which, args = bert, args[1:]
    out, cpu_lib, gpu_lib = pathlib.Path(args[0]), args[1], args[2]
    which(out, cpu_lib, gpu_lib, dict(os.environ, FAKE_CUDA_RACECHECK="1"))


if __name__ == "__main__":
    main()
