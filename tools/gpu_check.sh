#!/usr/bin/env bash
# The GPU device check, in one call on a machine with an NVIDIA GPU and its
# driver (no LLVM/MLIR needed there). First, on a machine that builds Kiln:
#
#   .venv/bin/python tools/gpu_check.py prepare gpu-check [--bert-base FILE]
#
# which compiles every committed model with --target cuda into gpu-check/
# (with kiln-run, kiln-bench and the runtime library). Then, where the GPU is:
#
#   tools/gpu_check.sh [gpu-check] [--torch]
#
# Numerics of every model vs onnxruntime and the CPU build (fp32, 1e-3), the
# no-driver error path, compute-sanitizer memcheck where present, latencies,
# and with --torch BERT-base in PyTorch eager / torch.compile as the
# reference, racecheck on the fused attention kernel (BERT-base batch 1),
# then (where ncu can read the GPU's timers) the per-kernel GPU times of
# BERT-base at batch 32. Results go to $OUT (or gpu-check-results/):
# results.json, log.txt.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="gpu-check"
if [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; then dir="$1"; shift; fi
out="${OUT:-$root/gpu-check-results}"
mkdir -p "$out"
python="${KILN_GPU_PYTHON:-python3}"
export LD_LIBRARY_PATH="$dir/bin${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export PYTHONUNBUFFERED=1
# cuBLASLt (--gpu-gemm=cublas variants): the runtime finds the toolkit's;
# without one in /usr/local/cuda, the copy PyTorch's pip packages carry.
if [ -z "${KILN_CUBLASLT:-}" ] && ! ls /usr/local/cuda/lib64/libcublasLt.so.1[23] >/dev/null 2>&1; then
  lt="$("$python" -c 'import glob, os, nvidia
print((sorted(f for p in nvidia.__path__ for f in glob.glob(os.path.join(p, "*", "lib", "libcublasLt.so.1*"))) or [""])[-1])' \
       2>/dev/null || true)"
  if [ -n "$lt" ]; then export KILN_CUBLASLT="$lt"; echo "cuBLASLt: $lt"; fi
fi
nvidia-smi --query-gpu=name,driver_version,clocks.sm,temperature.gpu --format=csv || true
"$python" "$root/tools/gpu_check.py" run "$dir" --out "$out" "$@" 2>&1 | tee "$out/log.txt"
exit "${PIPESTATUS[0]}"
