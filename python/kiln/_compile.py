"""kiln.compile: the compiler (what `kiln compile` runs), in process."""

import os

from ._errors import CompileError


def _option_text(option, value, expected, example, kind, entry_text):
    """The CLI text of a {name: value} option (`name=...,name=...`), or the
    string as given; `entry_text(name, value)` formats (and checks) one."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if not isinstance(value, dict):
        raise CompileError(f"{option} must be None, a dict {expected} or a string "
                           f"'{example}', not {type(value).__name__}")
    parts = []
    for name, item in value.items():
        if not isinstance(name, str) or "=" in name or "," in name:
            raise CompileError(f"{option}: bad {kind} name {name!r}")
        parts.append(f"{name}={entry_text(name, item)}")
    return ",".join(parts)


def _shape_text(name, dims):
    try:
        return "x".join(str(int(d)) for d in dims)
    except (TypeError, ValueError):
        raise CompileError(f"input_shapes['{name}'] must be a list of ints, not {dims!r}") from None


def _size_text(name, size):
    if isinstance(size, bool) or not isinstance(size, int):
        raise CompileError(f"dims['{name}'] must be an int, not {size!r}")
    return str(size)


def _names(option, names):
    """A list of node names or op types, or the CLI's comma-separated text."""
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    names = list(names or [])
    if not all(isinstance(n, str) for n in names):
        raise CompileError(f"{option} must be node names or op types (str), not {names!r}")
    return names


def compile(model, output, input_shapes=None, quantize=None, mcpu=None, opt_level=None,
            target=None, mattr=None, dims=None, quantize_exclude=None, prune=None,
            prune_exclude=None, calibration_data=None, calibration_method=None,
            calibration_percentile=None, gpu_gemm=None, precision=None, gpu_storage=None,
            gpu_attention=None, gpu_gelu=None, gpu_contiguous_batches=None,
            gpu_elements_per_thread=None, gpu_emulation=False):
    """Compiles an ONNX model (or kiln IR from `kiln import`) to a shared
    library that kiln.Session loads: the same compiler as `kiln compile
    model -o output`, run in this process (the GIL is released meanwhile).

    input_shapes: None (symbolic dims stay symbolic: one library for every
        batch and sequence size), {"input_ids": [1, 128], ...} or the CLI's
        "input_ids=1x128,attention_mask=1x128". A dim the model names (ONNX
        dim_param) takes its size in every input that has it.
    dims:      sizes of named dims in every input, like ONNX Runtime's free
        dimension overrides: {"batch": 1, "sequence": 128} or the CLI's
        --dim text "batch=1,sequence=128".
    quantize:  None or "none" (fp32), or "int8": --quantize int8, the MatMul/Gemm
        layers with constant weights as int8 GEMMs (per-channel int8 weights,
        activations quantized per row as the model runs; docs/quantization.md),
        or "bf16": --quantize bf16, those weights in bf16 and their GEMMs on
        bf16 inputs with fp32 sums (AVX512_BF16), or "int8-static": int8 with
        each layer's activations on one scale calibrated on calibration_data.
    calibration_data: with "int8-static" (the activation ranges) or a
        structured prune spec (the importance of heads and neurons), a
        folder of input sets (one subfolder per run, <input name>.npy in
        each; docs/datasets.md), as --calibration-data.
    calibration_method: "minmax" (default), "percentile" or "entropy".
    calibration_percentile: with "percentile", the range kept (default
        99.999). Errors name these as the CLI's --calibration-* flags.
    quantize_exclude: ONNX node names or op types kept in fp32 (a list, or
        the CLI's comma-separated text).
    prune:     None, or --prune's spec: "0.8:block1x4", "0.9:unstructured:global",
        "2:4"... zeroes the smallest MatMul/Gemm weights before any
        quantization (docs/pruning.md).
    prune_exclude: ONNX node names or op types whose weights stay dense (a
        list, or comma-separated text).
    mcpu:      --mcpu: None or "native" (this machine), "x86-64-v3", "haswell"...
    mattr:     --mattr, e.g. "-avx512f".
    opt_level: 0..3 (None: 2, like -O2).
    target:    None or "cpu", or "cuda[:sm_XY]" (needs input_shapes).
    gpu_gemm:  with a cuda target, None or "kernels" (the GEMMs as generated
        kernels) or "cublas" (cuBLASLt calls; docs/gpu.md), as --gpu-gemm.
    precision: with gpu_gemm="cublas", None or "fp32", "tf32", "fp16" or
        "bf16": the GEMMs' arithmetic, as --precision.
    gpu_storage: with precision "fp16" or "bf16", None or "half" (tensors
        between kernels stored in that type, the default) or "fp32", as
        --gpu-storage.
    gpu_attention: with precision "fp16" or "bf16", None or "gemms"
        (attention's products cuBLASLt GEMMs around a softmax kernel, the
        default) or "fused" (one tensor-core kernel per attention), as
        --gpu-attention.
    gpu_gelu:  with precision "fp16" or "bf16", None or "erf" (GELU as the
        model has it, the default) or "tanh" (erf GELU approximated by its
        tanh form, at most 4.7e-4 off, in the GEMM's epilogue), as
        --gpu-gelu.
    gpu_contiguous_batches: with gpu_gemm="cublas", None (4) or an int >= 0:
        a batched GEMM whose two batch dims do not fold into one stride has
        its operands copied contiguous where it would otherwise take that
        many cuBLASLt calls or more (0: never), as --gpu-contiguous-batches.
    gpu_elements_per_thread: with a cuda target, None (8 from opt_level 1, 1
        at 0) or an int 1..16: the most elements of an elementwise loop nest
        one thread covers, its loads before its stores, as
        --gpu-elements-per-thread.
    gpu_emulation: with a cuda target, True compiles the kernels for this
        CPU, for Kiln's test CUDA driver (testing without a GPU; no GPU
        runs such a library), as --gpu-emulation.
    Errors name these as the CLI's --gpu-* and --precision flags.

    Raises kiln.CompileError with the compiler's diagnostics; a failed
    compile leaves nothing at `output`. Returns the output path.
    """
    if quantize is not None and not isinstance(quantize, str):
        raise CompileError(f"quantize must be None, 'none', 'int8' or 'bf16', not {quantize!r}")
    quantize_exclude = _names("quantize_exclude", quantize_exclude)
    if prune is not None and not isinstance(prune, str):
        raise CompileError(f"prune must be None or a spec such as '0.8:block1x4', not {prune!r}")
    prune_exclude = _names("prune_exclude", prune_exclude)
    if calibration_method is not None and not isinstance(calibration_method, str):
        raise CompileError("calibration_method must be None, 'minmax', 'percentile' or "
                           f"'entropy', not {calibration_method!r}")
    if calibration_percentile is not None and (
            isinstance(calibration_percentile, bool) or
            not isinstance(calibration_percentile, (int, float)) or calibration_percentile <= 0):
        raise CompileError("calibration_percentile must be a number in (50, 100] such as 99.99, "
                           f"not {calibration_percentile!r}")
    examples = {"gpu_gemm": "cublas", "precision": "fp16", "gpu_storage": "half",
                "gpu_attention": "fused", "gpu_gelu": "tanh"}
    for option, value in (("gpu_gemm", gpu_gemm), ("precision", precision),
                          ("gpu_storage", gpu_storage), ("gpu_attention", gpu_attention),
                          ("gpu_gelu", gpu_gelu)):
        if value is not None and not isinstance(value, str):
            raise CompileError(f"{option} must be None or a str such as "
                               f"'{examples[option]}', not {value!r}")
    if gpu_contiguous_batches is not None and (
            isinstance(gpu_contiguous_batches, bool) or
            not isinstance(gpu_contiguous_batches, int) or gpu_contiguous_batches < 0):
        raise CompileError("gpu_contiguous_batches must be None or a count of calls >= 0 "
                           f"(0: never), not {gpu_contiguous_batches!r}")
    if gpu_elements_per_thread is not None and (
            isinstance(gpu_elements_per_thread, bool) or
            not isinstance(gpu_elements_per_thread, int) or gpu_elements_per_thread < 0):
        raise CompileError("gpu_elements_per_thread must be None or a count from 1 to 16, "
                           f"not {gpu_elements_per_thread!r}")
    if not isinstance(gpu_emulation, bool):
        raise CompileError(f"gpu_emulation must be True or False, not {gpu_emulation!r}")
    if opt_level is None:
        opt_level = 2
    if isinstance(opt_level, bool) or not isinstance(opt_level, int):
        raise CompileError(f"opt_level must be an int 0..3 or None, not {opt_level!r}")
    model, output = os.fspath(model), os.fspath(output)
    shapes = _option_text("input_shapes", input_shapes, "{name: [dims]}", "name=1x128,...",
                          "input", _shape_text)
    named = _option_text("dims", dims, "{dim_name: size}", "batch=1,sequence=128", "dim",
                         _size_text)
    try:
        from . import _compiler  # LLVM and MLIR: loaded on first use only
    except ImportError as error:
        raise ImportError(f"kiln.compile needs the compiler module kiln._compiler, which this "
                          f"install lacks or cannot load ({error}); kiln.Session works "
                          f"without it") from error

    _compiler.compile(model, output, shapes, named, mcpu or "", mattr or "", opt_level, target or "",
                      quantize or "", quantize_exclude, prune or "", prune_exclude,
                      os.fspath(calibration_data) if calibration_data is not None else "",
                      calibration_method or "", float(calibration_percentile or 0),
                      gpu_gemm or "", precision or "", gpu_storage or "", gpu_attention or "",
                      gpu_gelu or "",
                      -1 if gpu_contiguous_batches is None else gpu_contiguous_batches,
                      -1 if gpu_elements_per_thread is None else gpu_elements_per_thread,
                      gpu_emulation)
    return output
