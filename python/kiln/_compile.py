"""kiln.compile: the compiler (what `kiln compile` runs), in process."""

import os

from ._errors import CompileError, UnsupportedError


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


def compile(model, output, input_shapes=None, quantize=None, mcpu=None, opt_level=None,
            target=None, mattr=None, dims=None, quantize_exclude=None):
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
        bf16 inputs with fp32 sums (AVX512_BF16). "int8-static" (calibrated
        activations) is in the CLI only for now and raises
        kiln.UnsupportedError here.
    quantize_exclude: ONNX node names or op types kept in fp32 (a list, or
        the CLI's comma-separated text).
    mcpu:      --mcpu: None or "native" (this machine), "x86-64-v3", "haswell"...
    mattr:     --mattr, e.g. "-avx512f".
    opt_level: 0..3 (None: 2, like -O2).
    target:    None or "cpu", or "cuda[:sm_XY]" (needs input_shapes).

    Raises kiln.CompileError with the compiler's diagnostics; a failed
    compile leaves nothing at `output`. Returns the output path.
    """
    if quantize == "int8-static":
        raise UnsupportedError(f"quantize={quantize!r} is not in the Python API yet: calibrate "
                               "with `kiln compile --quantize int8-static --calibration-data "
                               "DIR`, or use quantize='int8' (dynamic activations)")
    if quantize is not None and not isinstance(quantize, str):
        raise CompileError(f"quantize must be None, 'none', 'int8' or 'bf16', not {quantize!r}")
    if isinstance(quantize_exclude, str):
        quantize_exclude = [n.strip() for n in quantize_exclude.split(",") if n.strip()]
    quantize_exclude = list(quantize_exclude or [])
    if not all(isinstance(n, str) for n in quantize_exclude):
        raise CompileError(f"quantize_exclude must be node names or op types (str), "
                           f"not {quantize_exclude!r}")
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
                      quantize or "", quantize_exclude)
    return output
