"""kiln.compile: the compiler (what `kiln compile` runs), in process."""

import os

from ._errors import CompileError, UnsupportedError


def _input_shapes_text(input_shapes):
    if input_shapes is None:
        return ""
    if isinstance(input_shapes, str):
        return input_shapes
    if not isinstance(input_shapes, dict):
        raise CompileError("input_shapes must be None, a dict {name: [dims]} or a string "
                           f"'name=1x128,...', not {type(input_shapes).__name__}")
    parts = []
    for name, dims in input_shapes.items():
        if not isinstance(name, str) or "=" in name or "," in name:
            raise CompileError(f"input_shapes: bad input name {name!r}")
        try:
            dims = [int(d) for d in dims]
        except (TypeError, ValueError):
            raise CompileError(f"input_shapes['{name}'] must be a list of ints, not {dims!r}") from None
        parts.append(f"{name}=" + "x".join(str(d) for d in dims))
    return ",".join(parts)


def _dims_text(dims):
    if dims is None:
        return ""
    if isinstance(dims, str):
        return dims
    if not isinstance(dims, dict):
        raise CompileError("dims must be None, a dict {dim_name: size} or a string "
                           f"'batch=1,sequence=128', not {type(dims).__name__}")
    parts = []
    for name, size in dims.items():
        if not isinstance(name, str) or "=" in name or "," in name:
            raise CompileError(f"dims: bad dim name {name!r}")
        if isinstance(size, bool) or not isinstance(size, int):
            raise CompileError(f"dims['{name}'] must be an int, not {size!r}")
        parts.append(f"{name}={size}")
    return ",".join(parts)


def compile(model, output, input_shapes=None, quantize=None, mcpu=None, opt_level=None,
            target=None, mattr=None, dims=None):
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
    quantize:  only None: quantization is not implemented yet.
    mcpu:      --mcpu: None or "native" (this machine), "x86-64-v3", "haswell"...
    mattr:     --mattr, e.g. "-avx512f".
    opt_level: 0..3 (None: 2, like -O2).
    target:    None or "cpu", or "cuda[:sm_XY]" (needs input_shapes).

    Raises kiln.CompileError with the compiler's diagnostics; a failed
    compile leaves nothing at `output`. Returns the output path.
    """
    if quantize is not None:
        raise UnsupportedError("quantization is not implemented yet: kiln.compile accepts "
                               f"quantize=None only (got {quantize!r})")
    if opt_level is None:
        opt_level = 2
    if isinstance(opt_level, bool) or not isinstance(opt_level, int):
        raise CompileError(f"opt_level must be an int 0..3 or None, not {opt_level!r}")
    model, output = os.fspath(model), os.fspath(output)
    shapes = _input_shapes_text(input_shapes)
    named = _dims_text(dims)
    try:
        from . import _compiler  # LLVM and MLIR: loaded on first use only
    except ImportError as error:
        raise ImportError(f"kiln.compile needs the compiler module kiln._compiler, which this "
                          f"install lacks or cannot load ({error}); kiln.Session works "
                          f"without it") from error

    _compiler.compile(model, output, shapes, named, mcpu or "", mattr or "", opt_level, target or "")
    return output
